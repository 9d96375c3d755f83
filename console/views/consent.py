"""SMS consent (admins only): who is opted in or out with every change (time, channel, words, source, who),
the audit trail as CSV, a staff import that records the source and date of each consent (never over an
opt-out), and the opt-in question sent to a number that texted the winery (a YES within a week opts it in)."""
from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from console import outreach, pages
from console.views.common import console_of, json_error, page, session
from core import phones
from core.consent import question, read_import_csv

log = logging.getLogger("console")
routes = web.RouteTableDef()
MAX_IMPORT_LINES = 5000


def _admin(request: web.Request) -> None:
    if not session(request).user.is_admin:
        raise web.HTTPForbidden(reason="only admins can see and change SMS consent")


def _who(request: web.Request) -> str:
    return session(request).user.email


async def _overview(request: web.Request) -> dict[str, Any]:
    store, ledger = outreach.stores()
    console = console_of(request)
    return {"counts": await console.call(ledger.counts),
            "recent": await console.call(ledger.history, None, 200)}


@routes.get("/admin/consent")
async def consent_page(request: web.Request) -> web.Response:
    data = await _overview(request)
    return page(pages.render("consent.html", session(request), title="SMS consent", active="consent", scripts=(),
                             done=request.query.get("done", "")[:500], error=request.query.get("error", "")[:300],
                             **data))


@routes.get("/api/consent")
async def api_consent(request: web.Request) -> web.Response:
    _admin(request)
    return web.json_response(await _overview(request))


@routes.get("/admin/consent.csv")
async def consent_csv(request: web.Request) -> web.StreamResponse:
    _, ledger = outreach.stores()
    lines = await console_of(request).call(lambda: list(ledger.export_csv()))
    log.info("consent audit trail exported by %s", _who(request))
    stamp = time.strftime("%Y-%m-%d")
    return web.Response(text="".join(lines), content_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="milea-sms-consent-{stamp}.csv"'})


async def _import(request: web.Request, rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    if len(rows) > MAX_IMPORT_LINES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_IMPORT_LINES, actual_size=len(rows))
    _, ledger = outreach.stores()
    result = await console_of(request).call(ledger.import_numbers, rows, f"import by {_who(request)}")
    log.info("consent import by %s: %s", _who(request), {k: v for k, v in result.as_dict().items() if k != "invalid"})
    return result.as_dict()


@routes.post("/admin/consent/import")
async def import_form(request: web.Request) -> web.Response:
    form = await request.post()
    rows = read_import_csv(str(form.get("csv") or ""))
    if not rows:
        raise web.HTTPSeeOther("/admin/consent?error=" + quote("Paste lines of phone, source, date (YYYY-MM-DD)."))
    result = await _import(request, rows)
    message = (f"Imported: {result['opted_in']} opted in, {result['already_in']} already in, {result['kept_out']} "
               f"kept out (they texted STOP), {len(result['invalid'])} not read.")
    if result["invalid"]:
        message += " " + "; ".join(result["invalid"][:5])
    raise web.HTTPSeeOther("/admin/consent?done=" + quote(message))


@routes.post("/api/consent/import")
async def api_import(request: web.Request) -> web.Response:
    """JSON {"rows": [{"phone", "source", "date"}, ...]} or text/csv (phone,source,date)."""
    _admin(request)
    if request.content_type == "text/csv":
        rows = read_import_csv(await request.text())
    else:
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, "the body must be JSON {\"rows\": [...]} or text/csv")
        raw = body.get("rows") if isinstance(body, dict) else None
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            return json_error(400, "rows must be a list of {\"phone\", \"source\", \"date\"}")
        rows = [(str(r.get("phone") or ""), str(r.get("source") or ""), str(r.get("date") or "")) for r in raw]
    return web.json_response(await _import(request, rows))


async def _ask(request: web.Request, raw_phone: Any) -> tuple[int, str]:
    phone = phones.to_e164(raw_phone) if isinstance(raw_phone, str) else None
    if not phone:
        return 400, "that is not a phone number"
    console = console_of(request)
    texted = await console.call(console.db.one, "SELECT 1 FROM console_conversations WHERE sender_id = ? AND "
                                                "channel = 'twilio'", (phone,))
    if not texted:
        return 409, "only a number that texted the winery can be asked (no SMS conversation with it)"
    store, ledger = outreach.stores()
    status = await console.call(ledger.status, phone)
    if status:
        return 409, "that number already opted " + ("in" if status == "in" else "out (STOP): it is never asked again")
    winery = question("Milea Estate Vineyard", outreach.texting().weekly_cap or "a few")
    queued = await console.call(store.enqueue, f"consent-ask:{phone}", "consent_ask", phone, winery)
    if not queued:
        return 409, "that number was asked already"
    await console.call(ledger.mark_asked, phone)
    log.info("opt-in question queued by %s", _who(request))
    return 200, "Asked: the question goes out with the next texts (outside quiet hours); a YES opts the number in."


@routes.post("/admin/consent/ask")
async def ask_form(request: web.Request) -> web.Response:
    form = await request.post()
    status, message = await _ask(request, form.get("phone"))
    raise web.HTTPSeeOther("/admin/consent?" + ("done=" if status == 200 else "error=") + quote(message))


@routes.post("/api/consent/ask")
async def api_ask(request: web.Request) -> web.Response:
    _admin(request)
    try:
        body = await request.json()
    except ValueError:
        return json_error(400, "the body must be JSON {\"phone\"}")
    status, message = await _ask(request, body.get("phone") if isinstance(body, dict) else None)
    return web.json_response({"ok": True, "message": message}) if status == 200 else json_error(status, message)
