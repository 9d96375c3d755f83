"""The console refuses what it must: anonymous requests to every route, missing or wrong CSRF
tokens, staff on admin pages, repeated wrong passwords; and keeps customer data out of its log.
Against a running console (python -m console) over HTTP."""
from __future__ import annotations

import html
import re
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import Morsel, SimpleCookie

import pytest
import requests
from aiohttp import web

from console.app import PUBLIC, routes
from tests.console.helpers import ADMIN, STAFF, Console, console, wait_for  # noqa: F401 - fixture
from tests.production.services import scratch_database


def all_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the console serves, read from its router: a new page cannot be missed."""
    found = []
    for route in routes():
        if not isinstance(route, web.RouteDef) or route.path in PUBLIC or route.path.startswith("/vendor/"):
            continue  # StaticDef and /vendor/: css and js libraries only
        concrete = re.sub(r"\{(\w+)(:[^}]*)?\}",
                          lambda m: "retry" if m.group(1) == "verb" else f"some-{m.group(1)}", route.path)
        found.append((route.method, concrete.replace("some-id", "some-conversation")))
    return found


def test_the_router_has_the_api_and_pages():
    paths = {p for _, p in all_routes()}
    assert {"/", "/api/conversations", "/api/conversations/some-conversation/takeover",
            "/api/conversations/some-conversation/messages", "/api/conversations/some-conversation/release",
            "/admin/users", "/logout"} <= paths


@pytest.mark.parametrize("method,path", all_routes())
def test_every_route_refuses_anonymous_requests(console, method, path):
    r = requests.request(method, console.url + path, allow_redirects=False, timeout=10)
    if path.startswith("/api/"):
        assert r.status_code == 401 and r.json()["error"] == "sign in first"
    else:
        assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    bad = requests.request(method, console.url + path, allow_redirects=False, timeout=10,
                           headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code in (401, 303)


def test_static_assets_hold_no_data_and_pages_are_not_cached(console):
    s = console.browser_session(*ADMIN)
    r = s.get(console.url + "/")
    assert r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert requests.get(console.url + "/static/console.js", timeout=5).status_code == 200
    chart = requests.get(console.url + "/vendor/chart.umd.js", timeout=5)
    assert chart.status_code == 200 and "Chart" in chart.text[:5000]


def test_csrf_is_enforced_on_cookie_sessions(console):
    s = console.browser_session(*ADMIN)
    url = f"{console.url}/api/conversations/nobody-here/takeover"
    assert s.post(url, timeout=5).status_code == 403
    assert s.post(url, headers={"X-CSRF-Token": "forged"}, timeout=5).status_code == 403
    assert s.post(url, headers={"X-CSRF-Token": s.csrf, "Origin": "https://evil.example"}, timeout=5).status_code == 403
    ok = s.post(url, headers={"X-CSRF-Token": s.csrf}, timeout=5)
    assert ok.status_code == 404  # past the CSRF check: the conversation does not exist
    # form posts carry it as a field
    assert s.post(f"{console.url}/logout", data={}, allow_redirects=False, timeout=5).status_code == 403
    assert s.get(console.url + "/", allow_redirects=False, timeout=5).status_code == 200  # still signed in
    out = s.post(f"{console.url}/logout", data={"csrf": s.csrf}, allow_redirects=False, timeout=5)
    assert out.status_code == 303
    assert s.get(console.url + "/", allow_redirects=False, timeout=5).status_code == 303  # signed out


def test_login_form_needs_its_own_token_and_never_redirects_off_site(console):
    r = requests.post(f"{console.url}/login", data={"email": ADMIN[0], "password": ADMIN[1]}, timeout=10,
                      allow_redirects=False)
    assert r.status_code == 403 and "expired" in r.text
    s = requests.Session()
    pre = s.get(f"{console.url}/login").text.split('name="pre" value="')[1].split('"')[0]
    r = s.post(f"{console.url}/login", data={"pre": pre, "next": "//evil.example/x", "email": ADMIN[0],
                                             "password": ADMIN[1]}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _sign_in_after(console, next_query: str) -> str:
    """The Location a browser is sent to after opening /login?next=<next_query> and signing in."""
    s = requests.Session()
    form = s.get(f"{console.url}/login?next={next_query}", timeout=5).text
    pre = form.split('name="pre" value="')[1].split('"')[0]
    next_path = html.unescape(form.split('name="next" value="')[1].split('"')[0])
    r = s.post(f"{console.url}/login", data={"pre": pre, "next": next_path, "email": ADMIN[0],
                                             "password": ADMIN[1]}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    return r.headers["Location"]


@pytest.mark.parametrize("attack", ["/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example",
                                    "%09//evil.example", "/%5Cevil.example", "/%00/evil.example",
                                    "https://evil.example/", "%2F%2Fevil.example"])
def test_sign_in_never_redirects_off_site(console, attack):
    # browsers drop tabs and newlines from a URL and read a backslash as a slash: "/\t/x" is "//x"
    location = _sign_in_after(console, attack)
    assert location == "/"


def test_sign_in_returns_to_the_page_asked_for(console):
    assert _sign_in_after(console, "/conversations/abc%3Fx%3D1") == "/conversations/abc?x=1"
    assert _sign_in_after(console, "/%3Fq%3Dwine%26channel%3Dtwilio") == "/?q=wine&channel=twilio"


def test_bearer_tokens_need_no_csrf_and_cookies_do_not_count_as_bearer(console):
    token = console.token(*ADMIN)
    r = requests.post(f"{console.url}/api/conversations/nobody-here/takeover",
                      headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert r.status_code == 404
    r = requests.get(f"{console.url}/api/conversations", cookies={"milea_console": token}, timeout=5)
    assert r.status_code == 401  # a bearer token is not a browser session


def test_staff_cannot_reach_admin_pages(console):
    s = console.browser_session(*STAFF)
    assert s.get(f"{console.url}/admin/users", timeout=5).status_code == 403
    r = s.post(f"{console.url}/admin/users", data={"csrf": s.csrf, "email": "x@milea.test", "role": "admin",
                                                   "password": "0123456789ab"}, allow_redirects=False, timeout=5)
    assert r.status_code == 403
    assert "Staff accounts" not in s.get(f"{console.url}/", timeout=5).text  # no admin link either
    admin = console.browser_session(*ADMIN)
    page = admin.get(f"{console.url}/admin/users", timeout=5)
    assert page.status_code == 200 and STAFF[0] in page.text


def test_admin_adds_an_account_with_clear_refusals(console):
    admin = console.browser_session(*ADMIN)
    short = admin.post(f"{console.url}/admin/users", data={"csrf": admin.csrf, "email": "new@milea.test",
                                                           "role": "staff", "password": "short"}, timeout=5)
    assert short.status_code == 400 and "at least 10 characters" in short.text
    ok = admin.post(f"{console.url}/admin/users", data={"csrf": admin.csrf, "email": "New@Milea.test",
                                                        "role": "staff", "password": "a-long-password"}, timeout=5)
    assert ok.status_code == 200 and "Added new@milea.test" in ok.text
    assert console.token("new@milea.test", "a-long-password")
    again = admin.post(f"{console.url}/admin/users", data={"csrf": admin.csrf, "email": "new@milea.test",
                                                           "role": "staff", "password": "a-long-password"}, timeout=5)
    assert again.status_code == 400 and "exists already" in again.text


def test_wrong_passwords_lock_the_account_and_an_admin_unlocks_it(console):
    console.add_user("locked@milea.test", "right-password-1")
    for _ in range(4):
        r = requests.post(f"{console.url}/api/login", json={"email": "locked@milea.test", "password": "nope"})
        assert r.status_code == 401 and r.json()["error"] == "Wrong email or password."
    r = requests.post(f"{console.url}/api/login", json={"email": "locked@milea.test", "password": "nope"})
    assert r.status_code == 423 and "locked" in r.json()["error"]
    r = requests.post(f"{console.url}/api/login", json={"email": "locked@milea.test", "password": "right-password-1"})
    assert r.status_code == 423  # even the right password waits out the lock
    admin = console.browser_session(*ADMIN)
    assert "locked" in admin.get(f"{console.url}/admin/users").text
    admin.post(f"{console.url}/admin/users/unlock", data={"csrf": admin.csrf, "email": "locked@milea.test"})
    assert console.token("locked@milea.test", "right-password-1")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_console(request, tmp_path):
    if request.param == "sqlite":
        running = Console(tmp_path).start()
        yield running
        running.stop()
        return
    with scratch_database("milea_console") as url:
        running = Console(tmp_path, {"CONSOLE_DB_URL": url}).start()
        yield running
        running.stop()


def test_parallel_wrong_passwords_get_no_more_tries_than_the_lockout_allows(fresh_console):
    console = fresh_console
    console.add_user("raced@milea.test", "right-password-1")

    def attempt(_):
        return requests.post(f"{console.url}/api/login", json={"email": "raced@milea.test", "password": "nope"},
                             timeout=60).status_code

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(attempt, range(40)))
    assert set(answers) <= {401, 423}
    assert answers.count(401) <= 4  # as one after the other: 4 wrong tries, then the 5th locks (423)
    r = requests.post(f"{console.url}/api/login", json={"email": "raced@milea.test", "password": "right-password-1"})
    assert r.status_code == 423


def test_unknown_emails_are_answered_like_wrong_passwords(console):
    answers = {requests.post(f"{console.url}/api/login", json={"email": e, "password": "nope"}).json()["error"]
               for e in ("nobody@milea.test", ADMIN[0])}
    assert answers == {"Wrong email or password."}
    r = requests.post(f"{console.url}/api/login", data="email=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = requests.post(f"{console.url}/api/login", json=["x"])
    assert r.status_code == 400


def test_sessions_expire_when_idle(tmp_path):
    short = Console(tmp_path, {"CONSOLE_SESSION_IDLE_S": "1"}).start()
    try:
        s = short.browser_session(*ADMIN)
        token = short.token(*ADMIN)
        time.sleep(1.5)  # the idle limit itself is what is tested
        page = s.get(short.url + "/", allow_redirects=False, timeout=5)
        assert page.status_code == 303 and "expired=1" in page.headers["Location"]
        assert "session expired" in s.get(short.url + "/login?expired=1").text.lower()
        r = requests.get(short.url + "/api/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert r.status_code == 401 and "expired" in r.json()["error"]
    finally:
        short.stop()


def test_no_customer_data_in_the_console_log(console):
    now = time.time()
    phone, email, words = "+18455550199", "vera.secret@example.com", "my anniversary surprise"
    console.tracker.user(phone, f"hi it's {email}, planning {words}", now, channel="twilio")
    console.tracker.bot(phone, "Happy to help!", now + 1)
    token = console.token(*ADMIN)
    headers = {"Authorization": f"Bearer {token}"}
    found = wait_for(lambda: requests.get(f"{console.url}/api/conversations", params={"q": email},
                                          headers=headers).json()["conversations"])
    assert [c["id"] for c in found] == [phone]
    requests.get(f"{console.url}/api/conversations", params={"q": "8455550199"}, headers=headers)
    requests.get(f"{console.url}/api/conversations/{phone}", headers=headers)
    s = console.browser_session(*ADMIN)
    s.get(f"{console.url}/conversations/{phone}")
    s.get(f"{console.url}/", params={"q": words})
    requests.post(f"{console.url}/api/login", json={"email": email, "password": "x"})
    log = console.log_path.read_text()
    assert "GET /api/conversations/{id} 200" in log  # the requests were logged, by route
    for secret in (phone, "8455550199", "5550199", email, "vera.secret", words, ADMIN[1]):
        assert secret not in log
    assert not re.search(r"\d{7,}", log.replace(str(console.port), ""))


# ---- the session cookie's scope (issue 22, point 11): the console has its own host name behind the proxy
# (deploy/nginx.conf.template), and in production its cookies are `__Host-` cookies: Secure, Path=/, no
# Domain, so no other host (the public chat host, a sibling under the same domain) can set or read them.

def cookies_set(response: requests.Response) -> dict[str, Morsel]:
    """Every Set-Cookie of a response, parsed: name -> morsel (its attributes)."""
    found: dict[str, Morsel] = {}
    for line in response.raw.headers.getlist("Set-Cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(line)
        found.update(jar)
    return found


def sign_in_by_form(console: Console, pre_cookie: str) -> tuple[requests.Response, requests.Response]:
    """(the login form, the sign-in answer), the browser's cookie sent back by hand: requests keeps a Secure
    cookie for https only, and this console (as behind the proxy) is reached over plain HTTP."""
    form = requests.get(f"{console.url}/login", timeout=5)
    pre = form.text.split('name="pre" value="')[1].split('"')[0]
    signed = requests.post(f"{console.url}/login", data={"pre": pre, "next": "/", "email": ADMIN[0],
                                                         "password": ADMIN[1]},
                           headers={"Cookie": f"{pre_cookie}={pre}"}, allow_redirects=False, timeout=10)
    return form, signed


@pytest.fixture(scope="module", params=[{"MILEA_ENV": "production"}, {"CONSOLE_SECURE_COOKIES": "1"}],
                ids=["MILEA_ENV=production", "CONSOLE_SECURE_COOKIES=1"])
def production_console(request, tmp_path_factory):
    running = Console(tmp_path_factory.mktemp("console-production"), request.param).start()
    yield running
    running.stop()


def test_in_production_the_console_cookies_are_host_only_secure_cookies(production_console):
    form, signed = sign_in_by_form(production_console, "__Host-milea_console_pre")
    assert list(cookies_set(form)) == ["__Host-milea_console_pre"]
    assert signed.status_code == 303, signed.text
    cookies = cookies_set(signed)
    session, pre = cookies["__Host-milea_console"], cookies["__Host-milea_console_pre"]
    for cookie in (cookies_set(form)["__Host-milea_console_pre"], session, pre):
        # what a browser requires of a __Host- cookie, or it drops it
        assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"], cookie.OutputString()
        assert cookie["httponly"], cookie.OutputString()
    assert session["samesite"] == "Lax" and session.value
    assert pre["max-age"] == "0"  # the form's cookie is removed, with the attributes that let a browser do it
    assert "milea_console" not in cookies


def test_in_production_only_the_host_cookie_opens_a_session(production_console):
    _, signed = sign_in_by_form(production_console, "__Host-milea_console_pre")
    token = cookies_set(signed)["__Host-milea_console"].value
    page = requests.get(f"{production_console.url}/", headers={"Cookie": f"__Host-milea_console={token}"},
                        allow_redirects=False, timeout=5)
    assert page.status_code == 200
    # a cookie of the plain name is what another host of the domain (or a plain-HTTP page) could plant
    tossed = requests.get(f"{production_console.url}/", headers={"Cookie": f"milea_console={token}"},
                          allow_redirects=False, timeout=5)
    assert tossed.status_code == 303 and tossed.headers["Location"].startswith("/login")
    # and the login form's token too: a planted plain-named one does not count
    _, refused = sign_in_by_form(production_console, "milea_console_pre")
    assert refused.status_code == 403


def test_over_plain_http_in_development_the_cookie_keeps_its_plain_name(console):
    # a __Host- cookie must be Secure, which a browser refuses over http://: `make run` keeps the plain name
    form, signed = sign_in_by_form(console, "milea_console_pre")
    assert signed.status_code == 303
    session = cookies_set(signed)["milea_console"]
    assert not session["secure"] and session["path"] == "/" and not session["domain"] and session["httponly"]
    assert "__Host-milea_console" not in cookies_set(signed)
