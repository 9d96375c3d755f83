"""Each top-level folder is one process or the shared core: what may import what (docs/architecture.md)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.paths import ROOT

PROJECT = ("actions", "channels", "stores", "rasa_tuning", "console", "jobs", "commerce7_demo", "core", "scripts")
# Folders that must not import the action server, and what else of the project each may import.
ALLOWED = {
    "core": {"core"},
    "channels": {"core", "channels"},
    "stores": {"core", "stores"},
    "rasa_tuning": {"core", "rasa_tuning"},
    "commerce7_demo": {"core", "commerce7_demo"},
    "console": {"core", "console"},
    "jobs": {"core", "jobs"},
}
# Only the action server itself and the entry points (scripts/) may import `actions`.
MAY_IMPORT_ACTIONS = {"actions", "scripts"}
EXCEPTIONS = {
    # a replica's /webhooks/ops/health runs the jobs process's dependency checks
    ("channels/ops.py", "jobs"),
}
# Parts of the core that need the action server's virtual environment (httpx, chromadb, wordllama):
# the Rasa server's folders, which run in the other one, must not import them.
RASA_SIDE = ("channels", "stores", "rasa_tuning")
ACTIONS_VENV_CORE = ("core.commerce7", "core.knowledge", "core.texting")


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def wrong_imports(root: Path, folder: str) -> list[str]:
    wrong = []
    for path in sorted((root / folder).rglob("*.py")):
        name = str(path.relative_to(root))
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in PROJECT and top not in ALLOWED[folder] and (name, module) not in EXCEPTIONS:
                wrong.append(f"{name} imports {module}")
            if folder in RASA_SIDE and module.startswith(ACTIONS_VENV_CORE):
                wrong.append(f"{name} imports {module} (the action server's venv only)")
    return wrong


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_a_process_imports_only_the_core_and_itself(folder):
    assert not wrong_imports(ROOT, folder)


def test_every_folder_but_the_action_server_and_the_entry_points_is_checked():
    assert set(PROJECT) - MAY_IMPORT_ACTIONS == set(ALLOWED)


def test_an_import_of_the_action_server_is_found(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "late.py").write_text(
        "import core.paths\nfrom jobs import health\n\ndef f():\n    from actions.settings import get_settings\n")
    (tmp_path / "channels").mkdir()
    (tmp_path / "channels" / "sms.py").write_text("from core.commerce7.client import Commerce7Client\n")
    assert wrong_imports(tmp_path, "jobs") == ["jobs/late.py imports actions.settings"]
    assert wrong_imports(tmp_path, "channels") == [
        "channels/sms.py imports core.commerce7.client (the action server's venv only)"]
