"""One Commerce7 client per event loop, built from the settings.

The client holds the per-tenant rate limiter, so every action of the process
shares it; a new event loop (tests, scripts) gets its own client.
"""
from __future__ import annotations

import asyncio
import weakref

from actions.commerce7.client import Commerce7Client
from actions.settings import Settings, get_settings

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Commerce7Client]" = weakref.WeakKeyDictionary()


def make_client(settings: Settings, **kwargs) -> Commerce7Client:
    return Commerce7Client(settings.c7_api_url, settings.c7_app_id, settings.c7_secret, settings.c7_tenant,
                           timeout=settings.c7_timeout_s, **kwargs)


def get_client() -> Commerce7Client:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = make_client(get_settings(), max_retries=1, backoff_base=0.2, backoff_max=1.0)
    return client
