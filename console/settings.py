"""The console's settings, from the environment (one place, typed)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from core.settings import SharedSettings



def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name) or default)
    except ValueError:
        raise ValueError(f"{name} must be a whole number") from None


@dataclass(frozen=True)
class ConsoleSettings:
    port: int
    data_dir: str
    host: str
    database_url: str  # the tracker store's database: Rasa's events table and the console's tables
    rasa_url: str
    rasa_token: str
    staff_secret: str  # shared with channels/staff.py in the Rasa server
    admin_email: Optional[str]
    admin_password: Optional[str]
    session_idle_s: int
    lockout_after: int
    lockout_s: int
    secure_cookies: bool
    poll_s: float
    timezone: str  # CONSOLE_TZ: the winery's days in the overview and the summaries

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "ConsoleSettings":
        env = os.environ if env is None else env
        shared = SharedSettings.from_env(env)
        data_dir = shared.data_dir.resolve()
        url = shared.tracker_db_url or f"sqlite:///{data_dir / 'tracker.db'}"
        token = (env.get("RASA_AUTH_TOKEN") or "").strip()
        if not token and (data_dir / "rasa_auth_token").exists():
            token = (data_dir / "rasa_auth_token").read_text().strip()
        return cls(
            port=_int(env, "CONSOLE_PORT", 8090),
            data_dir=str(data_dir),
            host=env.get("CONSOLE_HOST") or "127.0.0.1",
            database_url=(env.get("CONSOLE_DB_URL") or url).strip(),
            rasa_url=(env.get("CONSOLE_RASA_URL") or f"http://127.0.0.1:{_int(env, 'RASA_PORT', 5005)}").rstrip("/"),
            rasa_token=token,
            staff_secret=(env.get("STAFF_CHANNEL_SECRET") or "").strip(),
            admin_email=(env.get("STAFF_ADMIN_EMAIL") or "").strip() or None,
            admin_password=env.get("STAFF_ADMIN_PASSWORD") or None,
            session_idle_s=_int(env, "CONSOLE_SESSION_IDLE_S", 8 * 3600),
            lockout_after=_int(env, "CONSOLE_LOCKOUT_AFTER", 5),
            lockout_s=_int(env, "CONSOLE_LOCKOUT_S", 15 * 60),
            # production is served over HTTPS only (the proxy): Secure `__Host-` cookies whatever the request says
            secure_cookies=((env.get("CONSOLE_SECURE_COOKIES") or "").lower() in ("1", "true", "yes")
                            or (env.get("MILEA_ENV") or "").strip().lower() == "production"),
            poll_s=float(env.get("CONSOLE_POLL_S") or 1.0),
            timezone=env.get("CONSOLE_TZ") or "America/New_York",
        )
