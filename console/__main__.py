"""`python -m console`: the staff console on CONSOLE_PORT (default 8090), loopback unless CONSOLE_HOST."""
from __future__ import annotations

import logging
import sys

from aiohttp import web

from console.app import AccessLog, build
from console.settings import ConsoleSettings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = ConsoleSettings.from_env()
    app, console = build(settings)
    line = console.accounts.ensure_admin(settings.admin_email, settings.admin_password)
    if line:
        print(f"[console] {line}", flush=True)
    elif not console.accounts.users():
        print("[console] no staff account yet: set STAFF_ADMIN_EMAIL and STAFF_ADMIN_PASSWORD, or run "
              "`make staff-user`", flush=True)
    if not settings.staff_secret:
        print("[console] STAFF_CHANNEL_SECRET is not set: staff replies cannot be sent", flush=True)
    print(f"[console] staff console on http://{settings.host}:{settings.port} ({console.db.label})", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, access_log_class=AccessLog, print=None,
                handle_signals=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
