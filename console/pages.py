"""Server-rendered pages. Every value from a conversation or a user passes through `e()`."""
from __future__ import annotations

import html

from datetime import datetime, timezone
from typing import Iterable, Optional
from urllib.parse import quote, urlencode

from console.accounts import Session, User
from console.inbox import CHANNEL_LABELS, CHANNELS, Filters


def e(value: object) -> str:
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


def layout(title: str, body: str, session: Optional[Session] = None, active: str = "",
           scripts: tuple[str, ...] = ()) -> str:
    nav = ""
    if session:
        links = [("/", "Inbox", "inbox"), ("/attention", "Needs attention", "attention"),
                 ("/improve", "Improve", "improve"), ("/knowledge", "Knowledge", "knowledge"), ("/overview", "Overview", "overview")]
        if session.user.is_admin:
            links.append(("/admin/users", "Staff accounts", "users"))
        items = "".join(f'<a href="{href}"{" aria-current=page" if key == active else ""}>{label}</a>'
                        for href, label, key in links)
        nav = (f'<header class="top"><strong class="brand">Milea console</strong><nav>{items}</nav>'
               f'<form method="post" action="/logout" class="who"><span>{e(session.user.name)} '
               f'({e(session.user.role)})</span><input type="hidden" name="csrf" value="{e(session.csrf)}">'
               f'<button type="submit">Sign out</button></form></header>')
    csrf = f'<meta name="csrf" content="{e(session.csrf)}">' if session else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">{csrf}'
            f'<title>{e(title)} - Milea console</title><link rel="stylesheet" href="/static/console.css">'
            + "".join(f'<script src="{src}" defer></script>' for src in scripts) +
            f'<script src="/static/console.js" defer></script></head><body>{nav}<main>{body}</main></body></html>')


def login_page(pre_token: str, next_path: str, message: str = "", email: str = "") -> str:
    note = f'<p class="error" role="alert">{e(message)}</p>' if message else ""
    body = (f'<section class="login"><h1>Milea console</h1><p>Sign in with your staff account.</p>{note}'
            f'<form method="post" action="/login"><input type="hidden" name="pre" value="{e(pre_token)}">'
            f'<input type="hidden" name="next" value="{e(next_path)}">'
            f'<label>Email <input type="email" name="email" autocomplete="username" required value="{e(email)}">'
            f'</label><label>Password <input type="password" name="password" autocomplete="current-password" '
            f'required></label><button type="submit">Sign in</button></form></section>')
    return layout("Sign in", body)


def _flag(item: dict) -> str:
    flags = []
    if item["taken_by"]:
        flags.append(f'<span class="tag held">with {e(item["taken_by"])}</span>')
    elif item["waiting"]:
        flags.append('<span class="tag wait">wants a person</span>')
    elif item["handed_off"]:
        flags.append('<span class="tag">handed off</span>')
    if item["negative"]:
        flags.append('<span class="tag bad">thumbs down</span>')
    if item["fallbacks"]:
        flags.append(f'<span class="tag">fell back {item["fallbacks"]}x</span>')
    return " ".join(flags)


def inbox_rows(items: Iterable[dict]) -> str:
    rows = []
    for item in items:
        href = f'/conversations/{e(item["id"])}'
        rows.append(f'<tr><td><a href="{href}" class="conv">{e(item["id"])}</a></td>'
                    f'<td>{e(item["channel_label"])}</td><td>{e(item["last_text"])}</td>'
                    f'<td>{_flag(item)}</td><td class="num">{item["turns"]}</td>'
                    f'<td><time>{e(when(item["last_at"]))}</time></td></tr>')
    return "".join(rows) or '<tr><td colspan="6" class="empty">No conversations match.</td></tr>'


def queue_list(queue: list[dict]) -> str:
    if not queue:
        return '<p class="empty">Nobody is waiting for a person.</p>'
    items = "".join(f'<li><a href="/conversations/{e(q["id"])}">{e(q["channel_label"])}: {e(q["last_text"] or q["id"])}'
                    f'</a> <span class="age">waiting {age(q["age_s"])}</span></li>' for q in queue)
    return f'<ol class="queue">{items}</ol>'


def inbox_page(session: Session, items: list[dict], queue: list[dict], f: Filters, error: str = "") -> str:
    def opt(value: str, label: str, current: str) -> str:
        return f'<option value="{e(value)}"{" selected" if value == current else ""}>{e(label)}</option>'

    channels = opt("", "All channels", f.channel) + "".join(opt(c, CHANNEL_LABELS[c], f.channel) for c in CHANNELS)
    handed = {None: "", True: "true", False: "false"}[f.handed_off]
    handoff = opt("", "Any", handed) + opt("true", "Handed off", handed) + opt("false", "Not handed off", handed)
    since = e(datetime.fromtimestamp(f.since, timezone.utc).strftime("%Y-%m-%d")) if f.since else ""
    until = e(datetime.fromtimestamp(f.until - 86400, timezone.utc).strftime("%Y-%m-%d")) if f.until else ""
    note = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    more = ""
    if len(items) >= 50:
        query = {k: v for k, v in (("q", f.q), ("channel", f.channel), ("handed_off", handed),
                                   ("negative", "true" if f.negative else ""),
                                   ("fell_back", "true" if f.fell_back else "")) if v}
        more = f'<p><a href="/?{e(urlencode({**query, "before": items[-1]["last_at"]}))}">Older conversations</a></p>'
    body = (f'<section class="queue-box"><h2>Waiting for a person</h2><div id="queue">{queue_list(queue)}</div>'
            f'</section><section><h1>Conversations</h1>{note}'
            f'<form class="filters" method="get" action="/" role="search">'
            f'<input type="search" name="q" value="{e(f.q)}" placeholder="Text, phone or email" '
            f'aria-label="Search" maxlength="100"><select name="channel" aria-label="Channel">{channels}</select>'
            f'<select name="handed_off" aria-label="Hand-off">{handoff}</select>'
            f'<label><input type="checkbox" name="negative" value="true"{" checked" if f.negative else ""}> '
            f'Thumbs down</label><label><input type="checkbox" name="fell_back" value="true"'
            f'{" checked" if f.fell_back else ""}> Fell back</label>'
            f'<label>From <input type="date" name="from" value="{since}"></label>'
            f'<label>To <input type="date" name="to" value="{until}"></label>'
            f'<button type="submit">Filter</button></form>'
            f'<div class="table"><table class="inbox" data-live="inbox"><thead><tr><th>Conversation</th><th>Channel</th>'
            f'<th>Last message</th><th></th><th>Turns</th><th>Last active</th></tr></thead>'
            f'<tbody id="rows">{inbox_rows(items)}</tbody></table></div>{more}</section>')
    return layout("Inbox", body, session, "inbox")


def conversation_page(session: Session, conv: dict) -> str:
    held_by_me = conv["taken_by_id"] == session.user.id
    if held_by_me:
        state = "You have taken over: the assistant is paused here."
    elif conv["taken_by"]:
        state = f'{conv["taken_by"]} has taken over this conversation.'
    else:
        state = "The assistant is answering."
    sms_note = ' <span class="hint">SMS: at most 1,600 characters.</span>' if conv["channel"] == "twilio" else ""
    body = (f'<section class="conversation" data-id="{e(conv["id"])}" data-held="{"1" if held_by_me else "0"}">'
            f'<p><a href="/">&larr; Inbox</a></p><h1>{e(conv["channel_label"])} conversation '
            f'<code>{e(conv["id"])}</code></h1>'
            f'<p class="state" id="state" role="status">{e(state)}</p>'
            f'<div class="actions"><button type="button" id="takeover"{" hidden" if held_by_me else ""}>Take over'
            f'</button><button type="button" id="release"{"" if held_by_me else " hidden"}>Give back to the assistant'
            f'</button></div><p class="error" id="error" role="alert" hidden></p>'
            f'<p class="exports">Export for designers: <a href="/api/conversations/{e(quote(conv["id"], safe=""))}/export'
            f'?format=story">rasa test story (YAML)</a> | <a href="/api/conversations/'
            f'{e(quote(conv["id"], safe=""))}/export?format=nlu">NLU examples (YAML)</a></p>'
            f'<ol class="transcript" id="transcript" aria-live="polite"></ol>'
            f'<form id="reply" class="reply"{"" if held_by_me else " hidden"}><label for="reply-text">Reply to the '
            f'customer{sms_note}</label><textarea id="reply-text" name="text" rows="3" maxlength="1600" required>'
            f'</textarea><button type="submit">Send</button></form></section>')
    return layout("Conversation", body, session, "inbox")


def users_page(session: Session, users: list[tuple[User, int]], message: str = "", error: str = "") -> str:
    rows = "".join(
        f'<tr><td>{e(u.email)}</td><td>{e(u.name)}</td><td>{e(u.role)}</td><td>'
        + (f'locked {age(locked)} <form method="post" action="/admin/users/unlock" class="inline">'
           f'<input type="hidden" name="csrf" value="{e(session.csrf)}"><input type="hidden" name="email" '
           f'value="{e(u.email)}"><button type="submit">Unlock</button></form>' if locked else "active")
        + "</td></tr>" for u, locked in users)
    note = (f'<p class="ok" role="status">{e(message)}</p>' if message else "") + (
        f'<p class="error" role="alert">{e(error)}</p>' if error else "")
    body = (f'<h1>Staff accounts</h1>{note}<div class="table"><table><thead><tr><th>Email</th><th>Name</th>'
            f'<th>Role</th><th>State</th></tr></thead><tbody>{rows}</tbody></table></div>'
            f'<h2>Add an account</h2><form method="post" action="/admin/users" class="stack">'
            f'<input type="hidden" name="csrf" value="{e(session.csrf)}">'
            f'<label>Email <input type="email" name="email" required></label>'
            f'<label>Name <input name="name" maxlength="80"></label>'
            f'<label>Role <select name="role"><option value="staff">staff</option><option value="admin">admin'
            f'</option></select></label><label>Password (10+ characters) <input type="password" name="password" '
            f'minlength="10" required autocomplete="new-password"></label><button type="submit">Add</button></form>')
    return layout("Staff accounts", body, session, "users")


def _failed_sms_section(session: Session, failures: list[dict]) -> str:
    def row(failure: dict) -> str:
        dismiss = (f'<form method="post" action="/attention/sms/{e(failure["id"])}/dismiss" class="inline">'
                   f'<input type="hidden" name="csrf" value="{e(session.csrf)}"><button type="submit">Dismiss'
                   f'</button></form>')
        return (f'<tr><td>{e(failure["phone"])}</td><td>{e(failure["reason"])}</td>'
                f'<td>{e(when(failure["failed_at"]))}</td><td>{dismiss}</td></tr>')

    rows = "".join(row(f) for f in failures) or \
        '<tr><td colspan="4" class="empty">Every text message went out.</td></tr>'
    return ('<h2>Text messages that could not be sent</h2><p>Replies Twilio would not take after every retry: the '
            'customer did not get them. Reach them another way, then dismiss.</p>'
            '<div class="table"><table><thead><tr><th>Number</th><th>Reason</th><th>When</th><th></th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div>')


def attention_page(session: Session, jobs: list[dict], message: str = "", failed_sms: Optional[list] = None) -> str:
    def row(job: dict) -> str:
        actions = "".join(
            f'<form method="post" action="/attention/{e(job["id"])}/{verb}" class="inline">'
            f'<input type="hidden" name="csrf" value="{e(session.csrf)}"><button type="submit">{label}</button></form> '
            for verb, label in (("retry", "Retry now"), ("cancel", "Cancel")))
        kind = {"club_signup": "Club signup", "subscribe": "Mailing list"}.get(job["kind"], job["kind"])
        return (f'<tr><td>{e(kind)}</td><td>{e(job["customer"])}</td><td><span class="tag'
                f'{" bad" if job["status"] == "refused" else " wait"}">{e(job["status"])}</span></td>'
                f'<td>{e(job["reason"])}</td><td class="num">{job["attempts"]}</td>'
                f'<td>{e(when(job["created_at"]))}</td><td>{actions}</td></tr>')

    rows = "".join(row(j) for j in jobs) or '<tr><td colspan="7" class="empty">Nothing needs attention.</td></tr>'
    note = f'<p class="ok" role="status">{e(message)}</p>' if message else ""
    body = (f'<h1>Needs attention</h1>{note}<p>Commerce7 writes (club signups, mailing list) that are still '
            f'waiting to be delivered or that Commerce7 refused. Retry sends again now; cancel drops the job.</p>'
            f'<div class="table"><table><thead><tr><th>What</th><th>Customer</th><th>State</th><th>Reason</th>'
            f'<th>Attempts</th><th>Since</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>'
            f'{_failed_sms_section(session, failed_sms or [])}')
    return layout("Needs attention", body, session, "attention")


def overview_page(session: Session, data: dict, error: str = "") -> str:
    def pct(x: Optional[float]) -> str:
        return "n/a" if x is None else f"{x * 100:.1f}%"

    def ms(x: Optional[int]) -> str:
        return "n/a" if x is None else (f"under {x / 1000:g} s" if x < 10 ** 6 else "over 30 s")

    t = data["totals"]
    fallback = t["fallbacks"] / t["turns"] if t["turns"] else None
    handoff = t["handoffs"] / t["conversations"] if t["conversations"] else None
    ratings = ", ".join(f"{e(k)}: {v}" for k, v in sorted(data["ratings"].items())) or "none"
    intents = "".join(f'<tr><td>{e(i["intent"])}</td><td class="num">{i["count"]}</td></tr>' for i in data["top_intents"])
    q = f'from={e(data["from"])}&amp;to={e(data["to"])}'
    csv_links = " ".join(f'<a href="/overview.csv?{q}&amp;metric={m}">{m}</a>' for m in
                         ("conversations", "intent", "fallback", "handoff", "rating", "signup", "captured", "latency"))
    note = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    body = (f'<h1>Overview</h1>{note}<form class="filters" method="get" action="/overview">'
            f'<label>From <input type="date" name="from" value="{e(data["from"])}"></label>'
            f'<label>To <input type="date" name="to" value="{e(data["to"])}"></label><button type="submit">Show</button>'
            f'<a href="/overview.csv?{q}">CSV (all)</a></form>'
            f'<dl class="kpis"><div><dt>Conversations</dt><dd id="kpi-conversations">{t["conversations"]}</dd></div>'
            f'<div><dt>Fallback rate</dt><dd>{pct(fallback)}</dd></div><div><dt>Hand-off rate</dt><dd>{pct(handoff)}'
            f'</dd></div><div><dt>Club signups started / submitted</dt><dd>{data["signups"]["started"]} / '
            f'{data["signups"]["submitted"]}</dd></div><div><dt>Emails / phones captured</dt><dd>'
            f'{data["captured"]["email"]} / {data["captured"]["phone"]}</dd></div><div><dt>Response time median / p95'
            f'</dt><dd>{ms(data["response_ms"]["median"])} / {ms(data["response_ms"]["p95"])}</dd></div>'
            f'<div><dt>Answer ratings</dt><dd>{ratings}</dd></div></dl>'
            f'<div class="charts" id="charts" data-from="{e(data["from"])}" data-to="{e(data["to"])}">'
            f'<figure><figcaption>Conversations per day by channel</figcaption><canvas id="chart-conversations">'
            f'</canvas></figure><figure><figcaption>Fallback and hand-off rate per day</figcaption>'
            f'<canvas id="chart-rates"></canvas></figure><figure><figcaption>Top intents</figcaption>'
            f'<canvas id="chart-intents"></canvas></figure><figure><figcaption>Answer ratings</figcaption>'
            f'<canvas id="chart-ratings"></canvas></figure></div>'
            f'<h2>Top intents</h2><div class="table"><table><thead><tr><th>Intent</th><th>Messages</th></tr></thead>'
            f'<tbody>{intents or "<tr><td colspan=2 class=empty>No messages in this range.</td></tr>"}</tbody></table>'
            f'</div><p>CSV per chart: {csv_links}</p>')
    return layout("Overview", body, session, "overview", ("/vendor/chart.umd.js", "/static/overview.js"))


def improve_page(session: Session, gaps: list[dict], days: int) -> str:
    def example(x: dict) -> str:
        href = f'/conversations/{e(quote(x["conversation"], safe=""))}'
        label = "thumbs down" if x["kind"] == "thumbs_down" else "fell back"
        answer = f'<br><span class="hint">answered: {e(x["answer"])}</span>' if x["answer"] else ""
        return f'<li><a href="{href}">{e(x["text"])}</a> <span class="tag">{label}</span>{answer}</li>'

    items = "".join(
        f'<li class="gap"><h3>{e(g["question"])} <span class="count">{g["count"]}x</span></h3>'
        f'<p class="hint">{g["fallbacks"]} fell back, {g["thumbs_down"]} thumbs down</p>'
        f'<ul>{"".join(example(x) for x in g["examples"])}</ul></li>' for g in gaps)
    body = (f'<h1>Knowledge gaps</h1><p>Questions of the last {days} days that the assistant fell back on or that '
            f'customers rated thumbs down, grouped by meaning; the largest groups first. Open a conversation to '
            f'export it as a test story or NLU examples; add the missing facts to the markdown in '
            f'<code>knowledge/</code> (<code>make index</code> re-embeds what changed).</p>'
            f'<form class="filters" method="get" action="/improve"><label>Days <input type="number" name="days" '
            f'min="1" max="365" value="{days}"></label><button type="submit">Show</button></form>'
            f'<ol class="gaps">{items or "<li class=empty>No fallbacks or thumbs down in this period.</li>"}</ol>')
    return layout("Knowledge gaps", body, session, "improve")


def _jobs_table(jobs: list[dict]) -> str:
    rows = "".join(f'<tr><td>{e(j["kind"])}</td><td>{e(when(j["started_at"]))}</td><td>{e(j["started_by"])}</td>'
                   f'<td><span class="tag{" bad" if j["status"] == "failed" else ""}">{e(j["status"])}</span></td>'
                   f'<td>{e(j["summary"] or j["progress"])}</td></tr>' for j in jobs)
    return (f'<div class="table"><table><thead><tr><th>Job</th><th>Started</th><th>By</th><th>State</th>'
            f'<th>Progress / result</th></tr></thead><tbody id="jobs">'
            f'{rows or "<tr><td colspan=5 class=empty>No runs yet.</td></tr>"}</tbody></table></div>')


def knowledge_page(session: Session, pages_: list[dict], jobs: list[dict], message: str = "", error: str = "") -> str:
    items = "".join(f'<li><a href="/knowledge/edit?page={e(quote(p["path"]))}">{e(p["path"])}</a>'
                    f'{" <span class=tag>from Commerce7</span>" if p["generated"] else ""}</li>' for p in pages_)
    note = (f'<p class="ok" role="status">{e(message)}</p>' if message else "") + (
        f'<p class="error" role="alert">{e(error)}</p>' if error else "")
    body = (f'<h1>Knowledge</h1>{note}<section><h2>Catalog sync</h2><p>Wines, tastings and shop items come from '
            f'Commerce7 (daily at 02:00). Run it now after changing products:</p>'
            f'<form method="post" action="/knowledge/sync"><input type="hidden" name="csrf" value="{e(session.csrf)}">'
            f'<button type="submit">Sync the catalog now</button></form><h3>Runs</h3>{_jobs_table(jobs)}</section>'
            f'<section><h2>Pages</h2><ul class="pages">{items}</ul></section>')
    return layout("Knowledge", body, session, "knowledge")


def editor_page(session: Session, page: str, text: str, preview_html: str, read_only: bool, message: str = "",
                error: str = "") -> str:
    note = (f'<p class="ok" role="status">{e(message)}</p>' if message else "") + (
        f'<p class="error" role="alert">{e(error)}</p>' if error else "")
    lock = ('<p class="hint">This page is written by the catalog sync: change the product in Commerce7.</p>'
            if read_only else "")
    body = (f'<p><a href="/knowledge">&larr; Knowledge</a></p><h1>{e(page)}</h1>{note}{lock}'
            f'<div class="editor"><form method="post" action="/knowledge/edit" id="page-form">'
            f'<input type="hidden" name="csrf" value="{e(session.csrf)}"><input type="hidden" name="page" '
            f'value="{e(page)}"><label for="page-text">Markdown (one ## section per topic)</label>'
            f'<textarea id="page-text" name="text" rows="24"{" readonly" if read_only else ""}>{e(text)}</textarea>'
            f'<div class="actions"><button type="button" id="preview-button">Preview</button>'
            f'{"" if read_only else "<button type=submit>Save and re-index</button>"}</div></form>'
            f'<section class="preview" id="preview" aria-label="Preview">{preview_html}</section></div>')
    return layout(page, body, session, "knowledge")


def error_page(status: int, message: str, session: Optional[Session] = None) -> str:
    return layout(f"Error {status}", f'<h1>{status}</h1><p>{e(message)}</p><p><a href="/">Back to the inbox</a></p>',
                  session)


