"""Knowledge: the markdown pages of knowledge/ with an editor and preview, saving re-indexes, and the
catalog sync started by staff (pages and API)."""
from __future__ import annotations

import logging
from urllib.parse import quote

from aiohttp import web

from console import knowledge_pages, pages
from console.jobs import AlreadyRunning, Jobs
from console.views.common import console_of, json_error, page, session

log = logging.getLogger("console")
routes = web.RouteTableDef()


def _jobs(request: web.Request) -> Jobs:
    jobs = console_of(request).jobs
    if jobs is None:  # made at start-up, before the first request
        raise web.HTTPServiceUnavailable(reason="the console is starting")
    return jobs


@routes.get("/knowledge")
async def knowledge_list(request: web.Request) -> web.Response:
    root = knowledge_pages.knowledge_dir()
    history = await console_of(request).call(_jobs(request).history)
    return page(pages.knowledge_page(session(request), knowledge_pages.pages(root), history,
                                     request.query.get("done", "")[:200], request.query.get("error", "")[:200]))


@routes.get("/knowledge/edit")
async def knowledge_edit(request: web.Request) -> web.Response:
    root, name = knowledge_pages.knowledge_dir(), request.query.get("page", "")
    try:
        text = knowledge_pages.read(root, name)
    except knowledge_pages.BadPage as bad:
        return page(pages.error_page(404, str(bad), session(request)), 404)
    generated = knowledge_pages.is_generated(root, name)
    return page(pages.editor_page(session(request), name, text, knowledge_pages.preview(text), generated,
                                  request.query.get("done", "")[:200]))


@routes.post("/knowledge/edit")
async def knowledge_save(request: web.Request) -> web.Response:
    form = await request.post()
    root, name, text = knowledge_pages.knowledge_dir(), str(form.get("page") or ""), form.get("text")
    try:
        await console_of(request).call(knowledge_pages.save, root, name, text if isinstance(text, str) else None)
    except knowledge_pages.BadPage as bad:
        shown = text if isinstance(text, str) else ""
        return page(pages.editor_page(session(request), name, shown, knowledge_pages.preview(shown),
                                      False, error=str(bad)), 400)  # the text stays in the form: nothing lost
    state = _jobs(request).start_or_queue("index", session(request).user.name)
    log.info("knowledge page saved; re-index %s", state)
    done = "Saved. Re-indexing now." if state == "started" else "Saved. It is indexed after the run in progress."
    raise web.HTTPSeeOther(f"/knowledge/edit?page={quote(name)}&done={quote(done)}")


@routes.post("/api/knowledge/preview")
async def knowledge_preview(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return json_error(400, "the body must be JSON: {\"text\": ...}")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or len(text.encode()) > knowledge_pages.MAX_BYTES:
        return json_error(400, "'text' must be markdown of at most 100 KB")
    return web.json_response({"html": knowledge_pages.preview(text)})


@routes.post("/api/sync")
async def api_sync(request: web.Request) -> web.Response:
    try:
        job_id = _jobs(request).start("sync", session(request).user.name)
    except AlreadyRunning as busy:
        return json_error(409, str(busy))
    return web.json_response({"job": job_id, "status": "running"}, status=202)


@routes.post("/knowledge/sync")
async def knowledge_sync(request: web.Request) -> web.Response:
    try:
        _jobs(request).start("sync", session(request).user.name)
    except AlreadyRunning as busy:
        raise web.HTTPSeeOther("/knowledge?error=" + quote(str(busy))) from None
    raise web.HTTPSeeOther("/knowledge?done=" + quote("Catalog sync started."))


@routes.get("/api/jobs")
async def api_jobs(request: web.Request) -> web.Response:
    kind = request.query.get("kind") or None
    jobs = _jobs(request)
    return web.json_response({"jobs": await console_of(request).call(jobs.history, kind), "progress": jobs.progress})
