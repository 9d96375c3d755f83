"""The website chat widget in a real browser (headless system Chromium) against the
running assistant: tests/browser/widget.spec.mjs (ours) and rasa_webchat.spec.mjs (the community's
rasa-webchat), run with `node --test`."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from core.feedback_store import FeedbackStore
from actions.identity import sign_token
from tests.integration.conftest import CUSTOMER_TOKEN_SECRET
from tests.integration.stack import Commerce7View

from core.paths import ROOT
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SPEC = ROOT / "tests" / "browser" / "widget.spec.mjs"
PLAYWRIGHT = ROOT / "widget" / "node_modules" / "playwright-core"
SOCKETIO = ROOT / "widget" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


def missing_prerequisite() -> str | None:
    if not shutil.which("node"):
        return "node is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `apt-get install -y chromium` (as root) to run the browser tests"
    if not (PLAYWRIGHT.exists() and SOCKETIO.exists() and (ROOT / "widget" / "node_modules" / "rasa-webchat").exists()):
        return "widget/node_modules is missing: run `npm ci` in widget/ (make test-py does)"
    return None


def browser_stack(request):
    """The running assistant, once the browser can run (skipped, or failed in CI, when it cannot)."""
    reason = missing_prerequisite()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    return request.getfixturevalue("stack")


def run_spec(spec: Path, stack, **extra: str) -> None:
    env = {**os.environ, "WIDGET_URL": f"http://localhost:{stack.widget_port}", "RASA_URL": stack.url,
           "CHROMIUM_PATH": str(CHROMIUM), **extra}
    try:
        run = subprocess.run(["node", "--test", "--test-reporter=spec", str(spec)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as exc:
        partial = "\n".join(o.decode() if isinstance(o, bytes) else o for o in (exc.stdout, exc.stderr) if o)
        pytest.fail(f"browser tests did not finish in 600 s:\n{partial}")
    output = f"{run.stdout}\n{run.stderr}".strip()
    print(output)
    assert run.returncode == 0, f"browser tests failed (screenshots in results/browser/):\n{output}"


def test_widget_in_a_browser(request):
    stack = browser_stack(request)
    customer = Commerce7View(stack).customer("jordan.rivera@example.com")  # 12,400 points in the demo tenant
    token = sign_token({"sub": customer["id"], "exp": time.time() + 3600}, CUSTOMER_TOKEN_SECRET)
    run_spec(SPEC, stack, CUSTOMER_TOKEN=token)
    # the thumbs up the browser gave is in the assistant's feedback table
    votes = FeedbackStore(f"sqlite:///{Path(stack.env['MILEA_DATA_DIR']) / 'tracker.db'}").all()
    assert any(v.kind == "thumb" and v.channel == "socketio" and v.rating == 1 and "PM" in (v.answer_text or "")
               for v in votes), votes
    # kept under the conversation, never under the visitor's session id (their key to the chat)
    assert all("." not in v.conversation_id for v in votes), votes


def test_the_community_rasa_webchat_widget_works(request):
    """rasa-webchat 1.0.1, the standard Rasa socket.io client, with server-issued session ids."""
    run_spec(ROOT / "tests" / "browser" / "rasa_webchat.spec.mjs", browser_stack(request))
