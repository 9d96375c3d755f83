"""What the assistant says: the responses of domain.yml, the one home of every customer-facing text.

A whole message is sent by name (actions/texts.py `say(dispatcher, <response>, **values)`), and Rasa's NLG picks the
variation and the channel version (`channel: twilio` for SMS) and fills the {placeholders} from the
values and the slots. A piece of a message that an action composes (a member discount inside a buying
answer, a button title, a code sent by SMS or email, the channels' own texts) is rendered here from the
same responses with the same rules: `render(<response>, channel, **values)`. A structured answer is
built as text (actions/converse.py) but remembers its response (`Said`), so it too is sent by name.

The responses are read from domain.yml beside this package rather than from the `domain` rasa-sdk
passes to `run`: the answers are composed by plain functions far from `run` (actions/converse.py),
and texts outside a conversation (the verification SMS and email) have no domain at hand. The actions
image holds the whole project, domain.yml included (deploy/docker/actions.Dockerfile), and
`make validate` fails when action code names a response that domain.yml lacks
(scripts/validate_domain.py).
"""
from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any, Optional

import yaml

from core.paths import DOMAIN_FILE

# Rasa's template syntax: {name}, filled with str(value) (as rasa/core/nlg/interpolator.py).
_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")
Variation = dict[str, Any]  # one variation of a response: text, buttons, channel, ...


@lru_cache(maxsize=1)
def responses() -> dict[str, list[Variation]]:
    """Every response of domain.yml: name -> its variations."""
    domain: dict[str, Any] = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    found: dict[str, list[Variation]] = domain["responses"]
    return found


def variation(response: str, channel: Optional[str] = None, rng: Optional[random.Random] = None) -> Variation:
    """One variation of `response` as Rasa picks it: those made for `channel` win, else the general ones.

    Args: response: a response of domain.yml (utter_...); channel: the input channel name (e.g. "twilio").
    Returns: the variation (its text, buttons, ...).
    """
    variations = responses()[response]
    own = [v for v in variations if channel and v.get("channel") == channel]
    pool = own or [v for v in variations if not v.get("channel")] or variations
    return (rng or random).choice(pool) if len(pool) > 1 else pool[0]


def fill(template: str, values: dict[str, Any]) -> str:
    """`template` with each {name} replaced by str(values[name]) (KeyError when a value is missing)."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


def render(response: str, channel: Optional[str] = None, rng: Optional[random.Random] = None, /,
           **values: Any) -> str:
    """The text of `response` for `channel`, filled in (positional arguments: {name} is a placeholder).

    Args: response: a response of domain.yml; channel: the input channel name; values: the {placeholders}.
    Returns: the text.
    """
    return fill(variation(response, channel, rng)["text"], values)


class Said(str):
    """The text of one response, filled in, that remembers the response and its values. Joined or
    added to, it becomes a plain str (a composed text, sent as text)."""

    response: str
    values: dict[str, Any]

    @classmethod
    def of(cls, response: str, channel: Optional[str] = None, /, **values: Any) -> "Said":
        said = cls(render(response, channel, **values))
        said.response, said.values = response, values
        return said
