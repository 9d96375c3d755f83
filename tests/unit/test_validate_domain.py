"""scripts/validate_domain.py (`make validate`) on temp copies of the project: it passes on the
project as it is, and fails on a response nothing uses and on a response the code names that
domain.yml lacks. It needs Rasa, so it runs in the Rasa environment (one process for all copies)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.paths import ROOT
RASA_PYTHON = ROOT / ".venv" / "rasa" / "bin" / "python"
PROJECT = ("config.yml", "domain.yml", "data", "actions", "channels", "core", "knowledge")
DRIVER = """
import json, sys
from pathlib import Path
from scripts.validate_domain import check
print("RESULTS" + json.dumps({root: check(Path(root)) for root in sys.argv[1:]}))
"""


def copy_project(target: Path) -> Path:
    target.mkdir()
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    return target


def add_response(project: Path, name: str, text: str) -> None:
    domain = project / "domain.yml"
    source = domain.read_text(encoding="utf-8")
    domain.write_text(source.replace("\nresponses:\n", f"\nresponses:\n  {name}:\n    - text: {text}\n", 1),
                      encoding="utf-8")


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, list[str]]:
    if not RASA_PYTHON.exists():
        pytest.fail(f"{RASA_PYTHON.relative_to(ROOT)} is missing: `make venvs` makes it")
    base = tmp_path_factory.mktemp("validate")
    as_is = copy_project(base / "as_is")
    unused = copy_project(base / "unused")
    add_response(unused, "utter_nobody_sends_this", "A text no story, rule, form or action uses.")
    missing = copy_project(base / "missing")
    handoff = missing / "actions" / "handoff.py"
    handoff.write_text(handoff.read_text(encoding="utf-8").replace(
        '"utter_handoff_unavailable"', '"utter_handoff_unreachable"'), encoding="utf-8")
    also_sent = copy_project(base / "also_sent")
    add_response(also_sent, "utter_sent_by_code", "Sent by an action only.")
    (also_sent / "actions" / "extra.py").write_text('NAME = "utter_sent_by_code"\n', encoding="utf-8")
    roots = [as_is, unused, missing, also_sent]
    run = subprocess.run([str(RASA_PYTHON), "-c", DRIVER, *map(str, roots)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.split("RESULTS", 1)[1])
    return {Path(root).name: problems for root, problems in results.items()}


def test_the_project_as_it_is_passes(verdicts):
    assert verdicts["as_is"] == []


def test_a_response_nothing_uses_fails(verdicts):
    assert verdicts["unused"] == ["Rasa warns: The utterance 'utter_nobody_sends_this' is not used in any story or rule."]


def test_code_naming_a_response_the_domain_lacks_fails(verdicts):
    problems = verdicts["missing"]
    assert "actions/handoff.py names the response utter_handoff_unreachable, which domain.yml does not have" \
        in problems
    # and the response the code no longer names is now unused
    assert "Rasa warns: The utterance 'utter_handoff_unavailable' is not used in any story or rule." in problems
    assert len(problems) == 2


def test_a_response_only_code_sends_needs_no_story(verdicts):
    assert verdicts["also_sent"] == []


def test_the_make_target_runs_the_script():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\nvalidate:", 1)[1].split("\n\n", 1)[0]
    assert "-m scripts.validate_domain" in target and "rasa) data validate" not in target.lower()
