"""Split knowledge/ into retrievable chunks: one per `##` section of a markdown file.

Each chunk carries its domain (the folder), source (path under knowledge/),
heading and a content hash, so re-indexing can skip what did not change.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from core import business_hours

HOURS_FILE = "hours.yml"
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


@dataclass(frozen=True)
class Chunk:
    id: str
    domain: str
    source: str
    title: str
    heading: str
    text: str
    url: str = ""
    time_sensitive: bool = False

    @property
    def hash(self) -> str:
        payload = "\x1f".join([self.domain, self.source, self.title, self.heading, self.text, self.url])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    @property
    def document(self) -> str:
        """What is embedded and searched: the heading gives the section its subject."""
        return f"{self.title} - {self.heading}\n{self.text}"

    def metadata(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "source": self.source,
            "title": self.title,
            "heading": self.heading,
            "url": self.url,
            "hash": self.hash,
            "time_sensitive": self.time_sensitive,
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def parse_markdown(text: str, source: str, domain: str) -> list[Chunk]:
    meta: dict[str, Any] = {}
    match = FRONT_MATTER.match(text)
    if match:
        meta = yaml.safe_load(match.group(1)) or {}
        text = text[match.end():]
    title = str(meta.get("title", "")).strip()
    url = str(meta.get("url", "") or "").strip()
    sections: list[tuple[str, list[str]]] = []
    intro: list[str] = []
    for line in text.splitlines():
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("# "):
            continue
        elif line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    if any(line.strip() for line in intro):
        sections.insert(0, (title or source, intro))
    chunks, seen = [], set()
    for heading, lines in sections:
        body = " ".join(part.strip().lstrip("-* ").strip() for part in lines if part.strip())
        if not body:
            continue
        base = f"{source}#{_slug(heading)}"
        cid, n = base, 2
        while cid in seen:
            cid, n = f"{base}-{n}", n + 1
        seen.add(cid)
        chunks.append(Chunk(cid, domain, source, title or source, heading, body, url))
    return chunks


def hours_chunk(knowledge_dir: Path) -> Chunk:
    schedule = business_hours.load_schedule(knowledge_dir / HOURS_FILE)
    return Chunk(
        id=f"{HOURS_FILE}#hours",
        domain="hours",
        source=HOURS_FILE,
        title="Tasting room hours",
        heading="Opening hours and holiday closures",
        text=business_hours.knowledge_text(schedule),
        time_sensitive=True,
    )


def load_chunks(knowledge_dir: Path) -> list[Chunk]:
    """Every chunk of the knowledge base, in a stable order."""
    chunks: list[Chunk] = []
    for path in sorted(knowledge_dir.rglob("*.md")):
        rel = path.relative_to(knowledge_dir).as_posix()
        if "/" not in rel:  # top-level notes (e.g. a README) are not customer knowledge
            continue
        domain = rel.split("/", 1)[0]
        chunks.extend(parse_markdown(path.read_text(encoding="utf-8"), rel, domain))
    if (knowledge_dir / HOURS_FILE).exists():
        chunks.append(hours_chunk(knowledge_dir))
    return chunks


def iter_sentences(text: str) -> Iterator[str]:
    """Sentences of a passage; keeps '$25.50', 'St.' style abbreviations together well enough."""
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", text.strip()):
        sentence = sentence.strip()
        if sentence:
            yield sentence
