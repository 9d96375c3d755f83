"""Incremental indexing of knowledge/ into Chroma.

Only new or changed chunks are embedded; chunks of deleted sections or files
are removed. The index version (a hash of the embedder and every chunk hash) is
stored beside the collection so answers cached for an older index are ignored.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from chromadb.api import ClientAPI

from core.knowledge.chunks import Chunk, load_chunks
from core.knowledge.embeddings import Embedder, make_embedder
from core.knowledge.store import SCHEMA, collection_name, get_collection, make_client
from core.service_settings import ServiceSettings

log = logging.getLogger(__name__)

META_COLLECTION = "milea_index_meta"
BATCH = 64


@dataclass
class IndexReport:
    version: str
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    embedded_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"knowledge index {self.version}: {self.added} added, {self.changed} changed, "
            f"{self.removed} removed, {self.unchanged} unchanged ({self.seconds:.2f}s)"
        )


def compute_version(embedder_id: str, chunks: Sequence[Chunk]) -> str:
    digest = hashlib.sha256(f"{SCHEMA}:{embedder_id}".encode())
    for chunk in sorted(chunks, key=lambda c: c.id):
        digest.update(f"\n{chunk.id}:{chunk.hash}".encode())
    return digest.hexdigest()[:12]


def _meta_collection(client: ClientAPI) -> Any:
    return client.get_or_create_collection(name=META_COLLECTION, embedding_function=None)


def read_version(client: ClientAPI, embedder_id: str) -> Optional[str]:
    got = _meta_collection(client).get(ids=[collection_name(embedder_id)], include=["metadatas"])
    if not got["ids"]:
        return None
    return (got["metadatas"][0] or {}).get("version")


def _write_version(client: ClientAPI, embedder_id: str, version: str, count: int) -> None:
    _meta_collection(client).upsert(
        ids=[collection_name(embedder_id)],
        embeddings=[[1.0]],  # the meta collection holds no vectors worth searching
        documents=[version],
        metadatas=[{"version": version, "chunks": count, "schema": SCHEMA, "updated_at": time.time()}],
    )


def sync_index(
    settings: ServiceSettings,
    embedder: Optional[Embedder] = None,
    chunks: Optional[Sequence[Chunk]] = None,
    client: Optional[ClientAPI] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> IndexReport:
    """Bring the index in line with the chunks (by default all of knowledge/)."""
    started = time.perf_counter()
    embedder = embedder or make_embedder(settings)
    client = client or make_client(settings)
    chunks = list(chunks if chunks is not None else load_chunks(settings.knowledge_dir))
    collection = get_collection(client, embedder.id)
    if (collection.metadata or {}).get("schema") != SCHEMA:
        client.delete_collection(collection.name)
        collection = get_collection(client, embedder.id)

    existing = collection.get(include=["metadatas"])
    old_hash = {i: (m or {}).get("hash") for i, m in zip(existing["ids"], existing["metadatas"])}
    wanted = {c.id: c for c in chunks}
    todo = [c for c in chunks if old_hash.get(c.id) != c.hash]
    removed = [i for i in old_hash if i not in wanted]

    report = IndexReport(version=compute_version(embedder.id, chunks))
    report.added = sum(1 for c in todo if c.id not in old_hash)
    report.changed = len(todo) - report.added
    report.removed = len(removed)
    report.unchanged = len(chunks) - len(todo)

    for start in range(0, len(todo), BATCH):
        batch = todo[start:start + BATCH]
        vectors = embedder.embed([c.document for c in batch])
        collection.upsert(
            ids=[c.id for c in batch],
            embeddings=[v.tolist() for v in vectors],
            documents=[c.document for c in batch],
            metadatas=[c.metadata() for c in batch],
        )
        report.embedded_ids.extend(c.id for c in batch)
        if progress:
            progress(min(start + BATCH, len(todo)), len(todo))
    if removed:
        collection.delete(ids=removed)
    if read_version(client, embedder.id) != report.version:
        _write_version(client, embedder.id, report.version, len(chunks))
    report.seconds = time.perf_counter() - started
    log.info(report.summary())
    return report
