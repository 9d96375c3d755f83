"""Campaigns (admins only): compose with the segment count and cost, choose the audience, preview, schedule
or send now; each campaign's page shows sent, delivered, failed, skipped by reason and opted out since.
The jobs process sends them (core/texting/sender.py). The JSON API for scripts:
POST /api/campaigns {"name", "text", "audience", "send_at"} -> {"id"}, POST /api/campaigns/{id}/send,
GET /api/campaigns/{id}, GET /api/campaigns."""
from __future__ import annotations

import logging
from typing import Any, Optional
from urllib.parse import quote

from aiohttp import web

from console import outreach, pages
from console.views.common import console_of, json_error, page, session
from core.outreach import clean_audience, estimate

log = logging.getLogger("console")
routes = web.RouteTableDef()


def _admin(request: web.Request) -> None:
    """The pages live under /admin/ (the guard checks the role); the API under /api/campaigns is checked here."""
    if not session(request).user.is_admin:
        raise web.HTTPForbidden(reason="only admins can create and send campaigns")


def _who(request: web.Request) -> str:
    user = session(request).user
    return f"{user.name} <{user.email}>" if user.name else user.email


async def _detail(request: web.Request, campaign_id: str) -> Optional[dict[str, Any]]:
    store, ledger = outreach.stores()
    console = console_of(request)
    found = await console.call(store.campaign, campaign_id[:40])
    if not found:
        return None
    counts = await console.call(store.counts, found["id"])
    opted_out = 0
    if found["started_at"]:
        numbers = await console.call(store.recipients, found["id"])
        opted_out = await console.call(ledger.opted_out_since, numbers, found["started_at"])
    settings = outreach.texting()
    quiet_ends = settings.quiet.ends()
    found.update(counts={**counts, "opted_out_since": opted_out},
                 estimate=estimate(found["text"], counts["recipients"] - counts["skipped"] if found["started_at"]
                                   else 0, settings.cost_per_segment),
                 quiet_hours=settings.quiet.label(), weekly_cap=settings.weekly_cap, rate_per_s=settings.rate_per_s,
                 cost_per_segment=settings.cost_per_segment,
                 quiet_until=quiet_ends.strftime("%H:%M %Z") if quiet_ends else None)
    return found


# ---- pages
@routes.get("/admin/campaigns")
async def campaigns_page(request: web.Request) -> web.Response:
    store, ledger = outreach.stores()
    console = console_of(request)
    listed = await console.call(store.campaigns)
    for item in listed:
        item["counts"] = await console.call(store.counts, item["id"])
    consent = await console.call(ledger.counts)
    events = await console.call(store.recent_events_texts)
    choices = await console.call(store.club_choices)
    return page(pages.render("campaigns.html", session(request), title="Campaigns", active="campaigns", scripts=(
        "/static/campaigns.js",), campaigns=listed, consent=consent, settings=outreach.texting(), events=events,
        choices=choices,
        error=request.query.get("error", "")[:300], done=request.query.get("done", "")[:300]))


def _form_audience(form: Any) -> Any:
    kind = str(form.get("audience") or "all")
    if kind == "all":
        return "all"
    if kind == "club_members":
        return {"club_members": True}
    return {kind: str(form.get("audience_value") or "")}


@routes.post("/admin/campaigns")
async def compose(request: web.Request) -> web.Response:
    """The compose form: a draft, then its preview page (audience size, segments, cost) to send from."""
    form = await request.post()
    try:
        name, text = outreach.check_fields(form.get("name"), form.get("text"))
        chosen = clean_audience(_form_audience(form))
        send_at = outreach.parse_send_at(str(form.get("send_at") or ""), console_of(request).settings.timezone)
    except ValueError as bad:
        raise web.HTTPSeeOther("/admin/campaigns?error=" + quote(str(bad)))
    store, _ = outreach.stores()
    campaign_id = await console_of(request).call(store.create_campaign, name, text, chosen, send_at, _who(request))
    log.info("campaign %s drafted", campaign_id)
    raise web.HTTPSeeOther(f"/admin/campaigns/{campaign_id}")


@routes.get("/admin/campaigns/{id}")
async def campaign_page(request: web.Request) -> web.Response:
    found = await _detail(request, request.match_info["id"])
    if not found:
        raise web.HTTPNotFound(reason="no such campaign")
    audience_now = await outreach.recipients_estimate(found["audience"]) if found["status"] == "draft" else None
    if audience_now is not None:
        found["estimate"] = estimate(found["text"], audience_now["recipients"], outreach.texting().cost_per_segment)
    return page(pages.render("campaign.html", session(request), title=found["name"], active="campaigns", scripts=(),
                             c=found, audience_now=audience_now, done=request.query.get("done", "")[:200]))


@routes.post("/admin/campaigns/{id}/send")
async def send_page(request: web.Request) -> web.Response:
    campaign_id = request.match_info["id"]
    ok = await _send(request, campaign_id)
    raise web.HTTPSeeOther(f"/admin/campaigns/{quote(campaign_id)}?done=" + quote(
        "Scheduled: the jobs process sends it at the time set (outside quiet hours)." if ok else
        "That campaign was already sent or cancelled."))


@routes.post("/admin/campaigns/{id}/cancel")
async def cancel_page(request: web.Request) -> web.Response:
    campaign_id = request.match_info["id"]
    store, _ = outreach.stores()
    ok = await console_of(request).call(store.cancel_campaign, campaign_id[:40])
    if ok:
        log.info("campaign %s cancelled by %s", campaign_id, _who(request))
    raise web.HTTPSeeOther(f"/admin/campaigns/{quote(campaign_id)}?done=" + quote(
        "Cancelled." if ok else "Only a draft or a scheduled campaign can be cancelled."))


async def _send(request: web.Request, campaign_id: str) -> bool:
    store, _ = outreach.stores()
    ok = bool(await console_of(request).call(store.send_campaign, campaign_id[:40], _who(request)))
    if ok:
        log.info("campaign %s sent by %s", campaign_id, _who(request))
    return ok


# ---- JSON API
async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(reason="the body must be JSON") from None


@routes.post("/api/campaigns")
async def api_create(request: web.Request) -> web.Response:
    _admin(request)
    body = await _json(request)
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object")
    try:
        name, text = outreach.check_fields(body.get("name"), body.get("text"))
        chosen = clean_audience(body.get("audience"))
        send_at = outreach.parse_send_at(body.get("send_at"), console_of(request).settings.timezone)
    except ValueError as bad:
        return json_error(400, str(bad))
    store, _ = outreach.stores()
    campaign_id = await console_of(request).call(store.create_campaign, name, text, chosen, send_at, _who(request))
    log.info("campaign %s drafted through the API", campaign_id)
    return web.json_response({"id": campaign_id}, status=201)


@routes.get("/api/campaigns")
async def api_list(request: web.Request) -> web.Response:
    _admin(request)
    store, _ = outreach.stores()
    return web.json_response({"campaigns": await console_of(request).call(store.campaigns)})


@routes.get("/api/campaigns/{id}")
async def api_get(request: web.Request) -> web.Response:
    _admin(request)
    found = await _detail(request, request.match_info["id"])
    if not found:
        return json_error(404, "no such campaign")
    counts = found.pop("counts")
    found.pop("estimate")
    return web.json_response({**found, **counts})


@routes.post("/api/campaigns/{id}/send")
async def api_send(request: web.Request) -> web.Response:
    _admin(request)
    store, _ = outreach.stores()
    found = await console_of(request).call(store.campaign, request.match_info["id"][:40])
    if not found:
        return json_error(404, "no such campaign")
    if not await _send(request, found["id"]):
        return json_error(409, f"the campaign is {found['status']}: only a draft can be sent")
    return web.json_response({"id": found["id"], "status": "scheduled"})


@routes.get("/api/campaigns/{id}/estimate")
async def api_estimate(request: web.Request) -> web.Response:
    _admin(request)
    store, _ = outreach.stores()
    found = await console_of(request).call(store.campaign, request.match_info["id"][:40])
    if not found:
        return json_error(404, "no such campaign")
    now = await outreach.recipients_estimate(found["audience"])
    return web.json_response({**estimate(found["text"], now["recipients"], outreach.texting().cost_per_segment),
                              "skipped": now["skipped"], "error": now["error"]})
