"""The staff console does not share the public chat host's cookie scope (issue 22, point 11): browsers
scope cookies by host name, not port, so the console served on the public name (even on :8443) would
share its cookies with every page of the public site, which could plant cookies of its own too.

The proxy's real configuration (deploy/nginx.conf.template, rendered as `make cluster` renders it,
with the variables of the compose file's `proxy` service) runs in nginx in front of two stand-ins
that only say who they are: the console under its own name (CONSOLE_SERVER_NAME) over the public
HTTPS port, the public site for every other name, and the console's old port sending any public name
to the console's own name, while loopback keeps working for `make cluster`."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import urllib3
import yaml

from scripts import cluster, compose
from tests.integration.stack import ROOT, free_port

CONSOLE_NAME, PUBLIC_NAME = "console.chat.example.com", "chat.example.com"


class StandIn:
    """An upstream that answers every request with its own name (and the Host it was sent)."""

    def __init__(self, name: str) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"{outer.name} {self.headers.get('Host')}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.name = name
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, monkeypatch_module):
    folder = tmp_path_factory.mktemp("proxy")
    monkeypatch_module.setattr(cluster, "RUN_DIR", folder / "run")
    cluster.self_signed_certificate(folder / "certs")
    widget, console, rasa = StandIn("widget"), StandIn("console"), StandIn("rasa")
    ports = {"http": free_port(), "https": free_port(), "console": free_port(), "actions": free_port()}
    services = compose.load(ROOT / "docker-compose.yml", production_env())["services"]
    env = {**services["proxy"]["environment"],
           "HTTP_LISTEN": f"127.0.0.1:{ports['http']}", "HTTPS_LISTEN": f"127.0.0.1:{ports['https']}",
           "CONSOLE_LISTEN": f"127.0.0.1:{ports['console']}", "ACTIONS_LISTEN": f"127.0.0.1:{ports['actions']}",
           "TLS_CERT": str(folder / "certs" / "fullchain.pem"), "TLS_KEY": str(folder / "certs" / "privkey.pem"),
           "ACME_ROOT": str(folder), "RASA_SERVERS": f"server {rasa.address};",
           "ACTION_SERVERS": f"server {rasa.address};", "WIDGET_SERVER": f"server {widget.address};",
           "CONSOLE_SERVER": f"server {console.address};"}
    assert env["CONSOLE_SERVER_NAME"] == CONSOLE_NAME and env["HTTP_REDIRECT"] == "1"  # as in production
    conf = cluster.render_nginx(SimpleNamespace(name="proxy", service=services["proxy"]), env)
    log = open(folder / "nginx.log", "w")
    process = subprocess.Popen([cluster.nginx_binary(), "-c", str(conf), "-g", "daemon off;"], stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"http://127.0.0.1:{ports['http']}/proxy-health", timeout=2, allow_redirects=False)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                log.close()
                errors = folder / "run" / "nginx-proxy" / "error.log"
                pytest.fail(f"nginx did not start: {(folder / 'nginx.log').read_text()}"
                            f"{errors.read_text() if errors.exists() else ''}")
            time.sleep(0.2)
    yield ports
    stop(process)
    log.close()
    for stand_in in (widget, console, rasa):
        stand_in.server.shutdown()


def stop(process: subprocess.Popen) -> None:
    """nginx and its workers (its own process group): a worker left behind would keep the ports."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def production_env() -> dict:
    env = {name: "x" * 32 for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_PASSWORD", "RASA_AUTH_TOKEN",
                                       "ACTION_SERVER_TOKEN", "STAFF_CHANNEL_SECRET", "VERIFICATION_SECRET")}
    env.update(PUBLIC_URL=f"https://{PUBLIC_NAME}", CONSOLE_SERVER_NAME=CONSOLE_NAME, CHROMA_TOKEN="t" * 32)
    return env


def get(port: int, host: str, path: str = "/conversations?x=1") -> requests.Response:
    """A browser's request for https://<host><path>, reaching the proxy on `port` of this machine."""
    with pytest.warns(urllib3.exceptions.InsecureRequestWarning):  # the proxy's certificate is made for the test
        return requests.get(f"https://127.0.0.1:{port}{path}", headers={"Host": host}, verify=False,
                            allow_redirects=False, timeout=10)


def test_the_console_is_served_under_its_own_name_and_only_there(proxy):
    console = get(proxy["https"], CONSOLE_NAME)
    assert console.status_code == 200 and console.text == f"console {CONSOLE_NAME}"
    public = get(proxy["https"], PUBLIC_NAME)
    assert public.status_code == 200 and public.text.startswith("widget ")  # the public site, not the console


def test_the_consoles_port_under_the_public_name_sends_to_the_consoles_name(proxy):
    moved = get(proxy["console"], f"{PUBLIC_NAME}:8443")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"https://{CONSOLE_NAME}/conversations?x=1"
    assert not moved.text.startswith("console ")  # nginx's own answer: the console was not reached


def test_loopback_keeps_the_console_on_its_port_for_make_cluster(proxy):
    local = get(proxy["console"], "localhost:8443")
    assert local.status_code == 200 and local.text.startswith("console ")
    named = get(proxy["console"], f"{CONSOLE_NAME}:8443")
    assert named.status_code == 200 and named.text.startswith("console ")


def test_the_compose_file_requires_the_consoles_own_name():
    env = production_env()
    del env["CONSOLE_SERVER_NAME"]
    with pytest.raises(compose.ComposeError) as missing:
        compose.load(ROOT / "docker-compose.yml", env)
    assert "CONSOLE_SERVER_NAME" in str(missing.value)
    services = yaml.safe_load(Path(ROOT / "docker-compose.yml").read_text())["services"]
    assert services["console"]["environment"]["CONSOLE_SECURE_COOKIES"] == "1"  # __Host- cookies behind the proxy
