"""Each top-level folder is one process or the shared core: what may import what (docs/architecture.md)."""
from __future__ import annotations

import ast

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
}
EXCEPTIONS = {
    # the console groups knowledge-gap questions with the knowledge index's own embedder (loaded on first use)
    ("console/gaps.py", "core.knowledge.embeddings"), ("console/gaps.py", "actions.settings"),
    # a replica's /webhooks/ops/health runs the jobs process's dependency checks
    ("channels/ops.py", "jobs"),
}


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_a_process_imports_only_the_core_and_itself(folder):
    wrong = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in PROJECT and top not in ALLOWED[folder] and (name, module) not in EXCEPTIONS:
                wrong.append(f"{name} imports {module}")
    assert not wrong, wrong
