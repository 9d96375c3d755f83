"""The knowledge base's markdown pages as staff edit them: list, read, preview, save.

Paths are relative to KNOWLEDGE_DIR and must name an existing-folder .md file inside it; the
folders the catalog sync writes (wine/, tastings/, shop/) are shown read-only, since the next
sync would overwrite an edit. The preview renders markdown with raw HTML off: a <script> in a
page is shown as text, never run.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from markdown_it import MarkdownIt

from core.settings import shared_settings

GENERATED = ("wine", "tastings", "shop")
MAX_BYTES = 100_000
_md = MarkdownIt("commonmark", {"html": False, "linkify": False})


class BadPage(ValueError):
    """A page path or text that cannot be saved, with the reason."""


def knowledge_dir() -> Path:
    return shared_settings().knowledge_dir.resolve()


def pages(root: Path) -> list[dict]:
    return [{"path": str(p.relative_to(root)), "generated": p.relative_to(root).parts[0] in GENERATED}
            for p in sorted(root.rglob("*.md"))]


def resolve(root: Path, page: str, must_exist: bool = True) -> Path:
    if not page or len(page) > 200 or "\\" in page or page.startswith("/") or not page.endswith(".md"):
        raise BadPage("a page is a .md path inside knowledge/, like visiting/dogs.md")
    path = (root / page).resolve()
    if root not in path.parents or not path.parent.is_dir():
        raise BadPage("that page is outside knowledge/ or its folder does not exist")
    if must_exist and not path.exists():
        raise BadPage("no such page")
    return path


def generated(root: Path, path: Path) -> bool:
    """Whether a resolved page lies in a folder the catalog sync writes: judged on the resolved path,
    so "visiting/../wine/x.md" or "./wine/x.md" is in wine/."""
    return path.relative_to(root).parts[0] in GENERATED


def is_generated(root: Path, page: str) -> bool:
    try:
        return generated(root, resolve(root, page, must_exist=False))
    except BadPage:
        return False


def read(root: Path, page: str) -> str:
    return resolve(root, page).read_text(encoding="utf-8")


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def preview(text: str) -> str:
    """HTML of the page as readers see it: the YAML front matter (title, url) is metadata, not shown."""
    return _md.render(_FRONT_MATTER.sub("", (text or "").replace("\r\n", "\n"), count=1))


def save(root: Path, page: str, text: Optional[str]) -> Path:
    path = resolve(root, page, must_exist=False)
    if generated(root, path):
        folder = path.relative_to(root).parts[0]
        raise BadPage(f"{folder}/ is written by the catalog sync; edit the product in Commerce7 instead")
    if not isinstance(text, str) or not text.strip():
        raise BadPage("the page is empty: nothing saved")
    text = text.replace("\r\n", "\n")
    if len(text.encode()) > MAX_BYTES:
        raise BadPage(f"the page is larger than {MAX_BYTES // 1000} KB: split it")
    if not text.endswith("\n"):
        text += "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # whole or not at all
    return path
