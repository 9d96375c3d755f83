"""Where things are in a checkout: the one place that knows the repository's root."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_FILE = ROOT / "domain.yml"
KNOWLEDGE_DIR = ROOT / "knowledge"  # the default; KNOWLEDGE_DIR in the environment wins (core.settings)
DATA_DIR = ROOT / ".data"  # the default; MILEA_DATA_DIR wins (core.settings)
MODELS_DIR = ROOT / "models"
