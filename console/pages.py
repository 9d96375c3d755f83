"""Server-rendered pages: the templates of console/templates/ (Jinja2) filled in. Autoescaping is on,
so every value from a conversation or a user is escaped by the template; only markdown-it's preview
(raw HTML off) is inserted as it is."""
from __future__ import annotations

import html
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import quote, urlencode

import jinja2

from console.accounts import Session, User
from console.inbox import CHANNEL_LABELS, CHANNELS, Filters

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAV = (("/", "Inbox", "inbox"), ("/attention", "Needs attention", "attention"), ("/improve", "Improve", "improve"),
       ("/knowledge", "Knowledge", "knowledge"), ("/overview", "Overview", "overview"))
ADMIN_NAV = (("/admin/campaigns", "Campaigns", "campaigns"), ("/admin/consent", "SMS consent", "consent"),
             ("/admin/users", "Staff accounts", "users"))


def e(value: object) -> str:
    """HTML-escaped text, for the few plain answers built outside a template."""
    return html.escape("" if value is None else str(value), quote=True)


def when(stamp: Optional[float]) -> str:
    if not stamp:
        return ""
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d"


def render(template: str, session: Optional[Session] = None, **context: Any) -> str:
    """A template of console/templates/ filled in, with the navigation of `session` (autoescaped)."""
    nav = NAV + (ADMIN_NAV if session and session.user.is_admin else ())
    return _templates().get_template(template).render(session=session, nav=nav, **context)


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["when"] = when
    env.filters["urlencode_all"] = lambda value: quote(str(value), safe="")
    env.filters["urlencode_path"] = lambda value: quote(str(value))
    env.filters["age"] = age
    return env


def login_page(pre_token: str, next_path: str, message: str = "", email: str = "") -> str:
    return render("login.html", title="Sign in", active="", scripts=(), pre=pre_token, next_path=next_path,
                  message=message, email=email)


def inbox_rows(items: Iterable[dict]) -> str:
    return str(_templates().get_template("inbox_parts.html").module.rows(list(items)))  # type: ignore[attr-defined]


def queue_list(queue: list[dict]) -> str:
    return str(_templates().get_template("inbox_parts.html").module.queue(queue))  # type: ignore[attr-defined]


def inbox_page(session: Session, items: list[dict], queue: list[dict], f: Filters, error: str = "") -> str:
    handed = {None: "", True: "true", False: "false"}[f.handed_off]
    older = ""
    if len(items) >= 50:
        query = {k: v for k, v in (("q", f.q), ("channel", f.channel), ("handed_off", handed),
                                   ("negative", "true" if f.negative else ""),
                                   ("fell_back", "true" if f.fell_back else "")) if v}
        older = urlencode({**query, "before": items[-1]["last_at"]})
    return render("inbox.html", session, title="Inbox", active="inbox", scripts=(), items=items, waiting=queue, f=f,
                  error=error, handed=handed, older=older,
                  channels=[(c, CHANNEL_LABELS[c]) for c in CHANNELS],
                  since=_day(f.since) if f.since else "", until=_day(f.until - 86400) if f.until else "")


def _day(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d")


def conversation_page(session: Session, conv: dict, customer: Optional[dict] = None) -> str:
    return render("conversation.html", session, title="Conversation", active="inbox", scripts=(), conv=conv,
                  customer=customer)


def users_page(session: Session, users: list[tuple[User, int]], message: str = "", error: str = "") -> str:
    return render("users.html", session, title="Staff accounts", active="users", scripts=(), users=users,
                  done=message, error=error)


def attention_page(session: Session, jobs: list[dict], message: str = "", failed_sms: Optional[list] = None) -> str:
    return render("attention.html", session, title="Needs attention", active="attention", scripts=(),
                  outbox=jobs, sms_failed=failed_sms or [], done=message)


def overview_page(session: Session, data: dict, error: str = "") -> str:
    return render("overview.html", session, title="Overview", active="overview",
                  scripts=("/vendor/chart.umd.js", "/static/overview.js"), data=data, error=error)


def improve_page(session: Session, gaps: list[dict], days: int) -> str:
    return render("improve.html", session, title="Knowledge gaps", active="improve", scripts=(), gaps=gaps,
                  days=days)


def knowledge_page(session: Session, pages_: list[dict], jobs: list[dict], message: str = "", error: str = "") -> str:
    return render("knowledge.html", session, title="Knowledge", active="knowledge", scripts=(), pages=pages_,
                  jobs=jobs, done=message, error=error)


def editor_page(session: Session, page: str, text: str, preview_html: str, read_only: bool, message: str = "",
                error: str = "") -> str:
    return render("editor.html", session, title=page, active="knowledge", scripts=(), page=page, text=text,
                  preview_html=preview_html, read_only=read_only, done=message, error=error)


def error_page(status: int, message: str, session: Optional[Session] = None) -> str:
    return render("error.html", session, title=f"Error {status}", active="", scripts=(), status=status,
                  message=message)
