"""`make validate`: Rasa's own project checks (what `rasa data validate --fail-on-warnings` runs),
failing on every warning, and the texts of domain.yml checked against the code that sends them.

Every customer-facing text is a domain.yml response (core/texts.py). Many are sent only by
actions (`say(dispatcher, "utter_x")`, `render("utter_x", ...)`) or asked by Rasa's forms
(`utter_ask_<form>_<slot>`), so Rasa warns "The utterance 'utter_x' is not used in any story or
rule" about them. That warning is accepted for exactly those responses; for any other it fails,
as does every other warning. On top of Rasa's checks this fails when code (actions/, channels/)
names a response domain.yml lacks, and when a form has no way to ask for one of its slots.

Run with the Rasa environment: .venv/rasa/bin/python -m scripts.validate_domain [--root DIR]
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
import warnings
from pathlib import Path
from typing import Iterable

from core.paths import ROOT

CODE_DIRS = ("actions", "channels", "core")  # the code that sends responses
# A response named in code: a quoted literal "utter_..." (names are never built from pieces,
# so this scan sees them all; a name built at run time would fail this check, on purpose).
_NAMED = re.compile(r"""["'](utter_[a-z0-9_]+)["']""")
FACT_SCHEMA = "knowledge/fact-schema.yml"
_SAYS = re.compile(r"\bsays:\s*(utter_[a-z0-9_]+)")
_UNUSED = re.compile(r"The utterance '(utter_[a-z0-9_]+)' is not used in any story or rule")


def responses_named_in_code(root: Path, dirs: Iterable[str] = CODE_DIRS) -> dict[str, str]:
    """Response name -> the first file (relative to root) that names it: the code, and the fact
    schema, whose attributes name the response that says them (`says: utter_...`)."""
    named: dict[str, str] = {}
    for folder in dirs:
        for path in sorted((root / folder).rglob("*.py")):
            for name in _NAMED.findall(path.read_text(encoding="utf-8")):
                named.setdefault(name, str(path.relative_to(root)))
    schema = root / FACT_SCHEMA
    if schema.exists():
        for name in _SAYS.findall(schema.read_text(encoding="utf-8")):
            named.setdefault(name, FACT_SCHEMA)
    return named


def form_questions(domain) -> tuple[set[str], list[str]]:
    """(the utter_ask_* responses Rasa's forms ask with, the form slots nothing asks for)."""
    asked, unasked = set(), []
    names = set(domain.action_names_or_texts)
    for form, spec in domain.forms.items():
        for slot in spec.get("required_slots", []):
            ways = [f"action_ask_{form}_{slot}", f"utter_ask_{form}_{slot}", f"action_ask_{slot}", f"utter_ask_{slot}"]
            found = [w for w in ways if w in names]
            asked.update(w for w in found if w.startswith("utter_"))
            if not found:
                unasked.append(f"{form}.{slot}")
    return asked, unasked


def check(root: Path) -> list[str]:
    """Every problem of the project at `root` (empty when it passes).

    Args: root: a folder with config.yml, domain.yml, data/ and the code folders.
    Returns: one line per problem.
    """
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.utils.common import EXPECTED_WARNINGS
    from rasa.validator import Validator

    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category, message in EXPECTED_WARNINGS:   # what the rasa command filters too
            warnings.filterwarnings("ignore", message=message, category=category)
        importer = TrainingDataImporter.load_from_config(
            config_path=str(root / "config.yml"), domain_path=str(root / "domain.yml"),
            training_data_paths=[str(root / "data")])
        validator = Validator.from_importer(importer)
        if validator.domain.is_empty():
            return ["domain.yml is empty or unreadable"]
        # the checks of rasa.cli.utils.validate_files, warnings not ignored
        results = {
            "domain": validator.verify_domain_validity(),
            "actions in stories and rules": validator.verify_actions_in_stories_rules(),
            "forms in stories and rules": validator.verify_forms_in_stories_rules(),
            "form slots": validator.verify_form_slots(),
            "slot mappings": validator.verify_slot_mappings(),
            "intents and utterances": validator.verify_nlu(ignore_warnings=False),
            "story structure": validator.verify_story_structure(ignore_warnings=False),
        }
        validator.warn_if_config_mandatory_keys_are_not_set()
    problems += [f"Rasa's check failed: {what}" for what, ok in results.items() if not ok]

    domain = validator.domain
    named = responses_named_in_code(root)
    asked, unasked = form_questions(domain)
    for warning in caught:
        if not issubclass(warning.category, (UserWarning, FutureWarning)):
            continue   # library deprecations (SQLAlchemy, TensorFlow) are not about this project
        text = str(warning.message)
        unused = _UNUSED.search(text)
        if unused and (unused.group(1) in named or unused.group(1) in asked):
            continue   # sent by an action or asked by a form: used, though no story shows it
        problems.append(f"Rasa warns: {text.strip()}")
    problems += [f"{where} names the response {name}, which domain.yml does not have"
                 for name, where in sorted(named.items()) if name not in domain.responses]
    problems += [f"form slot {slot}: no utter_ask_* response or action_ask_* action asks for it" for slot in unasked]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder (default: this repository)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    problems = check(args.root.resolve())
    for line in problems:
        print(f"[validate] {line}", file=sys.stderr)
    print(f"[validate] {'FAILED: ' + str(len(problems)) + ' problem(s)' if problems else 'domain, data and texts OK'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
