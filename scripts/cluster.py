"""`make cluster`: the production profile on this machine, in the foreground; Ctrl-C stops it.

Against the PostgreSQL, Redis and RabbitMQ already running (defaults: loopback; set
TRACKER_DB_URL, REDIS_URL, RABBITMQ_URL for others) it starts:
  nginx :5005 (RASA_PORT)  ->  Rasa replicas :5006 :5007 (RASA_REPLICA_PORTS), sticky for socket.io
  nginx :5055 (ACTION_PORT) ->  action servers :5061.. (ACTION_SERVERS of them, default 2)
  a Chroma server :8000 (CHROMA_PORT) holding the knowledge index, the jobs process (outbox
  and catalog sync), the widget page :8080, and the Commerce7 emulator without C7 credentials.
Conversations live in PostgreSQL, turns are serialised by the Redis lock store, every event
goes to RabbitMQ; feedback, the Commerce7 outbox and SMS state are in PostgreSQL too.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import string
import sys
from pathlib import Path
from urllib.parse import urlsplit

from scripts import endpoints, run
from scripts.processes import stop_services, supervise
from scripts.run import (ACTIONS_PY, DATA_DIR, MODEL, RASA_BIN, RASA_OFFLINE, RASA_PORT, ROOT, WIDGET_PORT, Service,
                         action_server, action_token, announce, auth_token, commerce7_services, say, wait_http,
                         widget_origins, write_credentials)

RUN_DIR = DATA_DIR / "cluster"
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
ACTION_PORT = int(os.environ.get("ACTION_PORT") or 5055)
REPLICA_PORTS = [int(p) for p in (os.environ.get("RASA_REPLICA_PORTS") or "5006 5007").split()]
ACTION_SERVERS = max(1, int(os.environ.get("ACTION_SERVERS") or 2))
ACTION_BASE_PORT = int(os.environ.get("ACTION_BASE_PORT") or 5061)
CHROMA_PORT = int(os.environ.get("CHROMA_PORT") or 8000)
# A conversation's lock outlives a replica that dies holding it only this long (Rasa's default: 60 s);
# every action keeps well below it (Commerce7 4 s, LLM 6 s, signup budget 10 s).
LOCK_LIFETIME_S = "30"
LOCAL_SERVICES = {
    "TRACKER_DB_URL": "postgresql://postgres@127.0.0.1:5432/milea",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
}


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not found:
        raise SystemExit("[milea] nginx is not installed: apt-get install -y nginx (make cluster does it as root)")
    return found


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def ensure_database(url: str) -> None:
    """Create the tracker database when the server has none of that name (first start)."""
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.strip("/") or "postgres"
    admin = url.replace(parts.path, "/postgres", 1) if parts.path else url + "/postgres"
    db = psycopg2.connect(admin, connect_timeout=5)
    db.autocommit = True
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
                say(f"PostgreSQL: created database {name}")
    finally:
        db.close()


def render_nginx(rasa_ports: list[int], action_ports: list[int]) -> Path:
    """A whole nginx.conf: the shared template inside an http block, files in the run folder."""
    server = "server 127.0.0.1:{} max_fails=3 fail_timeout=5s;"
    body = string.Template(TEMPLATE.read_text()).safe_substitute(
        RASA_SERVERS="\n    ".join(server.format(p) for p in rasa_ports),
        ACTION_SERVERS="\n    ".join(server.format(p) for p in action_ports),
        RASA_LISTEN=f"127.0.0.1:{RASA_PORT}", ACTIONS_LISTEN=f"127.0.0.1:{ACTION_PORT}")
    temp = RUN_DIR / "nginx"
    temp.mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp folders under the run folder
    conf = RUN_DIR / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
pid {temp}/nginx.pid;
error_log {temp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{body}
}}
""")
    return conf


def main() -> int:
    stopping = supervise()  # first: a Ctrl-C or SIGTERM from here on stops cleanly
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    run.RUN_DIR.mkdir(parents=True, exist_ok=True)
    if not MODEL.exists():
        say(f"no trained model at {MODEL}: run `make cluster` (it trains first)")
        return 1
    for key, default in LOCAL_SERVICES.items():
        os.environ.setdefault(key, default)
    checks = (("TRACKER_DB_URL", 5432, "PostgreSQL"), ("REDIS_URL", 6379, "Redis"), ("RABBITMQ_URL", 5672, "RabbitMQ"))
    missing = [f"{name} at {os.environ[key]}" for key, port, name in checks if not reachable(os.environ[key], port)]
    if missing:
        say("not reachable: " + "; ".join(missing) + " (start it, or point the variable elsewhere)")
        return 1
    ensure_database(os.environ["TRACKER_DB_URL"])
    os.environ.setdefault("CHROMA_URL", f"http://127.0.0.1:{CHROMA_PORT}")
    sys.path.insert(0, str(ROOT))
    from actions.settings import Settings
    from scripts.migrate import migrate

    nginx = nginx_binary()
    emulator = commerce7_services()
    for line in Settings.from_env().describe():
        say(line)
    migrate(say)  # the schema, once, before any server starts: replicas never race to create tables
    token = auth_token()
    action_token()
    credentials = write_credentials()
    endpoints_file = RUN_DIR / "endpoints.yml"
    for line in endpoints.write(endpoints_file, os.environ, f"http://127.0.0.1:{ACTION_PORT}/webhook", DATA_DIR):
        say(line)
    action_ports = [ACTION_BASE_PORT + i for i in range(ACTION_SERVERS)]
    conf = render_nginx(REPLICA_PORTS, action_ports)
    say(f"nginx: :{RASA_PORT} -> Rasa {', '.join(map(str, REPLICA_PORTS))} (socket.io sticky); "
        f":{ACTION_PORT} -> action servers {', '.join(map(str, action_ports))}")

    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    actions_env = {"PYTHONPATH": pythonpath, "MILEA_DATA_DIR": str(DATA_DIR)}
    chroma_url = os.environ["CHROMA_URL"]
    front = [Service("chroma", [str(Path(ACTIONS_PY).parent / "chroma"), "run", "--path", str(DATA_DIR / "chroma-server"),
                                "--host", "127.0.0.1", "--port", str(urlsplit(chroma_url).port or CHROMA_PORT)],
                     {"RUST_LOG": os.environ.get("RUST_LOG", "warn")})]  # not a line per request
    front += emulator
    services = list(front)
    services += [Service(f"actions{i + 1}", action_server(p), actions_env) for i, p in enumerate(action_ports)]
    services += [Service(f"rasa{i + 1}", [str(RASA_BIN), "run", "--enable-api", "--auth-token", token,
                                           "--cors", *widget_origins(), "--port", str(p), "--model", str(MODEL),
                                           "--credentials", str(credentials), "--endpoints", str(endpoints_file)],
                         {"PYTHONPATH": pythonpath, "MILEA_DATA_DIR": str(DATA_DIR), "MILEA_REPLICA": f"rasa{i + 1}",
                          "TICKET_LOCK_LIFETIME": os.environ.get("TICKET_LOCK_LIFETIME", LOCK_LIFETIME_S), **RASA_OFFLINE})
                 for i, p in enumerate(REPLICA_PORTS)]
    services += [
        Service("jobs", [str(ACTIONS_PY), "-m", "scripts.scheduler"], actions_env),
        Service("widget", [str(ACTIONS_PY), "-m", "scripts.serve_widget", "--port", str(WIDGET_PORT),
                           "--server-url", os.environ.get("WIDGET_SERVER_URL", f"http://localhost:{RASA_PORT}")],
                {"PYTHONPATH": pythonpath}),
        Service("nginx", [nginx, "-c", str(conf), "-g", "daemon off;"]),
    ]
    # The index lives in the Chroma server: fill it (incrementally) before the action servers ask.
    for service in front:
        service.start()
    ready = wait_http(f"{chroma_url}/api/v2/heartbeat", 60, front, stopping)
    if ready:
        ready = Service("index", [str(ACTIONS_PY), "-m", "scripts.index"], actions_env).run_to_end(stopping)
    if ready:
        for service in services[len(front):]:
            service.start()
        ready = all(wait_http(f"http://127.0.0.1:{p}/", float(os.environ.get("MILEA_START_TIMEOUT", 240)), services,
                                  stopping)
                    for p in [*REPLICA_PORTS, RASA_PORT])
    announce(ready, stopping, f"cluster ready: chat at http://localhost:{WIDGET_PORT} | REST http://localhost:"
                              f"{RASA_PORT}/webhooks/rest/webhook (replicas {', '.join(map(str, REPLICA_PORTS))}) | "
                              "Ctrl-C stops everything")
    # Like an orchestrator's restart policy: a process that dies is started again, and
    # while it comes back the others serve (nginx skips it).
    pids = RUN_DIR / "pids.json"
    while ready and not stopping.wait(0.5):
        for service in services:
            if service.proc and service.proc.poll() is not None and not stopping.is_set():
                say(f"{service.name} exited with code {service.proc.returncode}: restarting it")
                service.kill()  # what is left of its process group (nginx workers) would hold its port
                service.start()
        current = json.dumps({s.name: s.proc.pid for s in services if s.proc})
        if not pids.exists() or pids.read_text() != current:
            pids.with_suffix(".tmp").write_text(current)
            pids.with_suffix(".tmp").replace(pids)  # readers never see half a file
    say("stopping")
    stop_services(reversed(services), stopping)
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
