"""Knowledge pages edited in the console (preview escapes script, save re-indexes with the
existing index script) and the catalog sync started from the console (never twice at once)."""
from __future__ import annotations

import socket
import threading

import pytest
import requests

from tests.console.helpers import ADMIN, STAFF, Console, Tracker, wait_for

PAGE = "## Dogs\n\nDogs on a leash are welcome on the lawn.\n"


@pytest.fixture(scope="module")
def silent_commerce7():
    """A Commerce7 that accepts connections and never answers: a sync started against it keeps running."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    held: list = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    server.close()
    for conn in held:
        conn.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, silent_commerce7):
    data = tmp_path_factory.mktemp("knowledge-console")
    knowledge = data / "knowledge"
    (knowledge / "visiting").mkdir(parents=True)
    (knowledge / "wine").mkdir()
    (knowledge / "visiting" / "pets.md").write_text(PAGE)
    (knowledge / "wine" / "riesling.md").write_text("## Riesling\n\nA dry riesling.\n")
    Tracker(data / "tracker.db")
    running = Console(data, {"KNOWLEDGE_DIR": str(knowledge), "C7_API_URL": silent_commerce7,
                             "EMBEDDINGS": "local"}).start()
    running.add_user(*STAFF)
    running.knowledge = knowledge
    yield running
    running.stop()


def jobs(site: Console, s: requests.Session, kind: str) -> list[dict]:
    return s.get(f"{site.url}/api/jobs", params={"kind": kind}, timeout=10).json()["jobs"]


def test_preview_shows_markdown_and_never_runs_script(site):
    s = site.browser_session(*STAFF)
    r = s.post(f"{site.url}/api/knowledge/preview", headers={"X-CSRF-Token": s.csrf},
               json={"text": "## Hours\n\n<script>alert(1)</script> **noon** [x](javascript:alert(1))"})
    html = r.json()["html"]
    assert "<h2>Hours</h2>" in html and "<strong>noon</strong>" in html
    meta = s.post(f"{site.url}/api/knowledge/preview", headers={"X-CSRF-Token": s.csrf},
                  json={"text": "---\ntitle: Pets\n---\n## Dogs\n"}).json()["html"]
    assert meta.strip() == "<h2>Dogs</h2>"
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
    page = s.get(f"{site.url}/knowledge/edit", params={"page": "visiting/pets.md"}).text
    assert "Dogs on a leash" in page and "<h2>Dogs</h2>" in page


def test_saving_a_page_writes_it_and_reindexes(site):
    s = site.browser_session(*STAFF)
    text = PAGE + "\n## Cats\n\nCats stay home. <script>alert('x')</script>\n"
    r = s.post(f"{site.url}/knowledge/edit", data={"csrf": s.csrf, "page": "visiting/pets.md", "text": text})
    assert r.status_code == 200 and "Saved." in r.text
    assert (site.knowledge / "visiting" / "pets.md").read_text() == text  # the text as written, nothing lost
    assert "&lt;script&gt;" in r.text and "<script>alert('x')" not in r.text
    done = wait_for(lambda: [j for j in jobs(site, s, "index") if j["status"] != "running"], timeout=180, interval=1)
    assert done and done[0]["status"] == "ok", done
    assert (site.data_dir / "chroma").exists()


@pytest.mark.parametrize("page,reason", [
    ("wine/riesling.md", "written by the catalog sync"),
    ("visiting/../wine/riesling.md", "written by the catalog sync"),
    ("./wine/riesling.md", "written by the catalog sync"),
    ("visiting//../wine/riesling.md", "written by the catalog sync"),
    ("../README.md", "outside knowledge/"),
    ("visiting/pets.txt", "a .md path"),
    ("nowhere/new.md", "folder does not exist"),
])
def test_pages_that_cannot_be_saved_keep_the_text(site, page, reason):
    s = site.browser_session(*STAFF)
    r = s.post(f"{site.url}/knowledge/edit", data={"csrf": s.csrf, "page": page, "text": "## Mine\n\nkeep me\n"})
    assert r.status_code == 400 and reason in r.text and "keep me" in r.text
    assert "keep me" not in (site.knowledge / "wine" / "riesling.md").read_text()


def test_a_sync_started_twice_runs_once(site):
    s = site.browser_session(*ADMIN)
    first = s.post(f"{site.url}/api/sync", headers={"X-CSRF-Token": s.csrf})
    assert first.status_code == 202
    second = s.post(f"{site.url}/api/sync", headers={"X-CSRF-Token": s.csrf})
    assert second.status_code == 409 and "already running" in second.json()["error"]
    form = s.post(f"{site.url}/knowledge/sync", data={"csrf": s.csrf})
    assert "already running" in form.text
    running = [j for j in jobs(site, s, "sync") if j["status"] == "running"]
    assert len(running) == 1 and running[0]["started_by"] == "admin"
    assert "Runs" in s.get(f"{site.url}/knowledge").text
