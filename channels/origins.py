"""Which web pages may talk to the assistant: one answer for Rasa's CORS and the socket.io
origin check (plain Python, so the supervisor and the Rasa server both import it)."""
from __future__ import annotations

import os
from typing import Mapping, Optional
from urllib.parse import urlsplit


def widget_origins(env: Optional[Mapping[str, str]] = None) -> list[str]:
    """WIDGET_ORIGINS (space-separated; default: the widget page `make run` serves on
    WIDGET_PORT), plus the origin of PUBLIC_URL, where the proxy serves the widget page itself.

    Args: env: the environment to read (default: os.environ).
    Returns: the origins, each once, in that order.
    """
    env = os.environ if env is None else env
    port = env.get("WIDGET_PORT") or "8080"
    origins = env.get("WIDGET_ORIGINS", "").split() or [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    public = urlsplit((env.get("PUBLIC_URL") or "").strip())
    if public.scheme in ("http", "https") and public.netloc:
        origins.append(f"{public.scheme}://{public.netloc}")
    return list(dict.fromkeys(origins))
