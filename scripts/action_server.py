"""The action server: rasa-sdk's app that answers the Rasa server and nobody else.

    python -m scripts.action_server --actions actions --port 5055

- Listens on ACTION_HOST (default 127.0.0.1; a container sets 0.0.0.0 and keeps the port
  on its private network).
- Every request except GET /health must carry `Authorization: Bearer <ACTION_SERVER_TOKEN>`,
  the secret the Rasa server sends (scripts/endpoints.py puts it in the action endpoint's
  headers). Without it, or with a wrong one, the answer is 401 and no action runs.
- Refuses to start without ACTION_SERVER_TOKEN (`make run` / `make cluster` generate one).
- A failing action answers 500 without echoing the tracker back (rasa-sdk's handler would).
rasa-sdk has no authentication hook, so this wraps its Sanic app instead of patching it.
"""
from __future__ import annotations

import hmac
import logging
import os
import sys
import threading
from typing import Mapping, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

TOKEN_ENV = "ACTION_SERVER_TOKEN"
HOST_ENV = "ACTION_HOST"
DEFAULT_HOST = "127.0.0.1"
OPEN_PATHS = frozenset({"/health"})  # reveals only {"status": "ok"}


def bearer_header(token: str) -> dict:
    """The header the Rasa server sends with every action call."""
    return {"Authorization": f"Bearer {token}"}


def token_from_env(env: Mapping[str, str]) -> Optional[str]:
    return (env.get(TOKEN_ENV) or "").strip() or None


def authorized(header: Optional[str], token: str) -> bool:
    """True when an Authorization header carries exactly `token` (compared in constant time)."""
    scheme, _, given = (header or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def protect(app: Sanic, token: str) -> Sanic:
    """Answer 401, before any handler runs, to every call without the shared secret."""
    if not token:
        raise ValueError("the action server needs a non-empty token")

    @app.middleware("request")
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if authorized(request.headers.get("authorization"), token):
            return None
        log.warning("action server: refused a %s %s without the shared token", request.method, request.path)
        return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})

    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException):  # 404, 405, 413 ...: keep the status
            return response.json({"error": str(exception)}, status=exception.status_code)
        log.error("action server: %s %s failed", request.method, request.path, exc_info=exception)
        return response.json({"error": "the action failed"}, status=500)

    app.error_handler.add(Exception, failed)
    return app


def create_app(actions: str, token: str) -> Sanic:
    from rasa_sdk.endpoint import create_app as sdk_app
    from rasa_sdk.plugin import plugin_manager

    app = sdk_app(actions, cors_origins="")  # only the Rasa server calls it: no browser origin
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return protect(app, token)


def start_warm_up() -> Optional[threading.Thread]:
    """Load the knowledge service (embedder, index) in the background, so the first question does not
    wait for it; not with MILEA_WARM_ON_START=0. Returns the thread started, if any."""
    from actions.knowledge.service import get_service
    from actions.settings import get_settings

    if not get_settings().warm_on_start:
        return None

    def warm() -> None:
        try:
            get_service()
        except Exception:  # start-up must not die on a warm-up problem; the first question retries
            log.exception("knowledge warm-up failed")

    thread = threading.Thread(target=warm, name="knowledge-warmup", daemon=True)
    thread.start()
    return thread


def main(argv: Optional[list[str]] = None) -> int:
    """Args: rasa-sdk's own (--actions, --port, logging). Returns an exit code."""
    from core.quiet import quiet
    from core.settings import shared_settings

    quiet(shared_settings().show_all_warnings)  # before the actions and their libraries are imported
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser, create_ssl_context

    args = create_argument_parser().parse_args(argv)
    token = token_from_env(os.environ)
    if not token:
        print(f"[actions] {TOKEN_ENV} is not set: refusing to start an action server anyone could call",
              file=sys.stderr, flush=True)
        return 2
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    host = (os.environ.get(HOST_ENV) or DEFAULT_HOST).strip()
    app = create_app(args.actions, token)
    start_warm_up()
    ssl = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    log.info("Action server on %s://%s:%s, calls need the shared token", "https" if ssl else "http", host, args.port)
    app.run(host, args.port, ssl=ssl, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
