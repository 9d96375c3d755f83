"""A Commerce7 client built from the settings (the action server keeps one per event loop:
actions/commerce7/connection.py)."""
from __future__ import annotations

from typing import Any

from core.commerce7.client import Commerce7Client
from core.service_settings import ServiceSettings


def make_client(settings: ServiceSettings, **kwargs: Any) -> Commerce7Client:
    return Commerce7Client(settings.c7_api_url, settings.c7_app_id, settings.c7_secret, settings.c7_tenant,
                           timeout=settings.c7_timeout_s, **kwargs)
