"""The Chroma collection that holds the knowledge index (embedded or a server)."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings

from core.service_settings import ServiceSettings

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "milea_knowledge"
SCHEMA = 1  # bump when chunk metadata changes shape: forces a full re-index


TOKEN_AUTH = "chromadb.auth.token_authn.TokenAuthClientProvider"  # sends `Authorization: Bearer <token>`


def make_client(settings: ServiceSettings) -> ClientAPI:
    # Telemetry off: this machine and customers' servers talk to nothing outside.
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        if settings.chroma_token:  # the Chroma gate (deploy/chroma-gate.conf.template) checks it
            chroma_settings = ChromaSettings(anonymized_telemetry=False, chroma_client_auth_provider=TOKEN_AUTH,
                                             chroma_client_auth_credentials=settings.chroma_token)
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "localhost",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


def collection_name(embedder_id: str) -> str:
    safe = "".join(c if c.isalnum() else "_" for c in embedder_id)
    return f"{COLLECTION_PREFIX}_{safe}"[:60]


def get_collection(client: ClientAPI, embedder_id: str, create: bool = True) -> Any:  # a Collection: its declared types refuse the plain dicts passed here
    name = collection_name(embedder_id)
    if create:
        return client.get_or_create_collection(
            name=name,
            embedding_function=None,  # vectors are always supplied: nothing is downloaded
            metadata={"hnsw:space": "cosine", "schema": SCHEMA, "embedder": embedder_id},
        )
    return client.get_collection(name=name, embedding_function=None)
