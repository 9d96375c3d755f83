"""Shared fixtures: a knowledge index built once per test session in a temp folder."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The action modules warm the knowledge service on import in production; tests
# build their own services instead.
os.environ["MILEA_WARM_ON_START"] = "0"


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    from actions.settings import Settings

    return Settings(knowledge_dir=ROOT / "knowledge", data_dir=tmp_path_factory.mktemp("data"), warm_on_start=False)


@pytest.fixture(scope="session")
def embedder():
    from actions.knowledge.embeddings import LocalEmbedder

    return LocalEmbedder()


@pytest.fixture(scope="session")
def service(settings, embedder):
    from actions.knowledge.service import KnowledgeService

    svc = KnowledgeService(settings, embedder=embedder)
    svc.ensure_index()
    return svc
