"""Overview: the numbers of a date range as charts, JSON and CSV."""
from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from console import overview, pages, summaries
from console.views.common import answer, console_of, json_error

routes = web.RouteTableDef()


def _range(request: web.Request) -> tuple[date, date]:
    today = datetime.now(summaries.tz()).date()
    start, end = overview.date_range(request.query.get("from"), request.query.get("to"), today)
    return start, end


@routes.get("/overview")
@routes.get("/api/overview")
async def overview_view(request: web.Request) -> web.Response:
    try:
        start, end = _range(request)
        error = ""
    except overview.BadRange as bad:
        if request.path.startswith("/api/"):
            return json_error(400, str(bad))
        start, end = overview.date_range(None, None, datetime.now(summaries.tz()).date())  # the page shows the default
        error = str(bad)
    console = console_of(request)
    data = await console.call(overview.series, console.db, start, end)
    return answer(request, data, lambda s, d: pages.overview_page(s, d, error), 400 if error else 200)


@routes.get("/overview.csv")
async def overview_csv(request: web.Request) -> web.Response:
    try:
        start, end = _range(request)
        text = await console_of(request).call(overview.csv_text, console_of(request).db, start, end,
                                              request.query.get("metric"))
    except overview.BadRange as bad:
        return web.Response(status=400, text=str(bad))
    name = f"milea-{request.query.get('metric') or 'overview'}-{start}-{end}.csv"
    return web.Response(text=text, content_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
