"""The texts of actions/answers.yml: pick a variation for the channel, fill it in."""
from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

ANSWERS_FILE = Path(__file__).with_name("answers.yml")


@lru_cache(maxsize=1)
def answers() -> dict[str, list[dict]]:
    return yaml.safe_load(ANSWERS_FILE.read_text(encoding="utf-8"))


def render(key: str, channel: Optional[str] = None, rng: Optional[random.Random] = None, **values: Any) -> str:
    """One variation of `key` for `channel` (channel-specific ones win), with `values` filled in.

    Args: key: entry of answers.yml; channel: the input channel name (e.g. "twilio").
    Returns: the text.
    """
    variations = answers()[key]
    own = [v for v in variations if channel and v.get("channel") == channel]
    generic = [v for v in variations if not v.get("channel")]
    pool = own or generic or variations
    chosen = (rng or random).choice(pool) if len(pool) > 1 else pool[0]
    return chosen["text"].format(**values)
