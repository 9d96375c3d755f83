"""Rasa sends its domain only to the actions that need it (`enable_selective_domain` in the
action endpoint, scripts/endpoints.py): those named validate_* and those marked
`send_domain: true` in domain.yml. A form validator reads the form's slots from that domain, so
one that Rasa would not send it to would silently validate nothing."""
from __future__ import annotations


import yaml
from rasa_sdk import FormValidationAction
from rasa_sdk.executor import ActionExecutor

from core.paths import ROOT


def actions_sent_the_domain() -> set[str]:
    listed = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["actions"]
    marked = {name for entry in listed if isinstance(entry, dict)
              for name, spec in entry.items() if (spec or {}).get("send_domain")}
    return marked | {entry for entry in listed if isinstance(entry, str) and entry.startswith("validate_")}


def test_every_form_validator_is_sent_the_domain() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    validators = {name for name, run in executor.actions.items()
                  if isinstance(getattr(run, "__self__", None), FormValidationAction)}
    assert validators >= {"validate_club_signup_form", "validate_subscribe_form", "validate_feedback_form",
                          "validate_verify_form"}
    assert validators <= actions_sent_the_domain()
