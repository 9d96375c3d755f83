"""One Commerce7 client per event loop, built from the action server's settings.

The client holds the per-tenant rate limiter, so every action of the process
shares it; a new event loop (tests, scripts) gets its own client.
"""
from __future__ import annotations

import asyncio
import weakref

from actions.settings import get_settings
from core.commerce7.client import Commerce7Client
from core.commerce7.connection import make_client

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Commerce7Client]" = weakref.WeakKeyDictionary()


def get_client() -> Commerce7Client:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = make_client(get_settings(), max_retries=1, backoff_base=0.2, backoff_max=1.0)
    return client
