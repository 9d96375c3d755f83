"""`make cluster`: the services of docker-compose.yml, started on this machine; Ctrl-C stops them.

docker-compose.yml is the single description of the production topology. This reads it (with
.env and the environment, as Compose would) and starts every service's own command and
environment here, in dependency order, waiting on the same health checks:
  images            milea/rasa -> .venv/rasa, milea/actions -> .venv/actions, chromadb/chroma ->
                    the chroma CLI of .venv/actions, nginx -> the nginx binary with the rendered
                    template; postgres, redis, rabbitmq -> the servers already running here
                    (TRACKER_DB_URL, REDIS_URL, RABBITMQ_URL; default loopback)
  addresses         service:port -> 127.0.0.1:local port (below), localhost:port in health checks too
  mounts            /app -> this checkout, ./x -> ./x, named volumes -> the data folder
  local ports       proxy 80/443/8443/5055 -> RASA_PORT/HTTPS_PORT/CONSOLE_HTTPS_PORT/ACTION_PORT,
                    Rasa replicas -> RASA_REPLICA_PORTS, action servers -> ACTION_BASE_PORT+i,
                    CHROMA_PORT, WIDGET_PORT, CONSOLE_PORT, JOBS_PORT, C7_EMULATOR_PORT
A service whose `python -m module` is not in this checkout is skipped with a message.
Outside MILEA_ENV=production, missing secrets get local values, TLS uses a self-signed
certificate made here, plain HTTP stays open on loopback and, without Commerce7 credentials,
the demo profile (Commerce7 emulator) is switched on.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from scripts import compose, modes
from scripts.healthcheck import healthy
from scripts.processes import Stopping, stop_services, supervise
from scripts.run import ACTIONS_PY, DATA_DIR, MODEL, ROOT, Service, announce, auth_token, say, widget_origins
from scripts.ports import free_port

COMPOSE_FILE = ROOT / "docker-compose.yml"
RUN_DIR = DATA_DIR / "cluster"
RASA_BIN_DIR = ROOT / ".venv" / "rasa" / "bin"
ACTIONS_BIN_DIR = Path(ACTIONS_PY).parent
APP_DIR = "/app"  # WORKDIR of the project's images (deploy/docker/*.Dockerfile)
EXTERNAL = {"postgres": ("TRACKER_DB_URL", "postgresql://postgres@127.0.0.1:5432/milea", 5432, "PostgreSQL"),
            "redis": ("REDIS_URL", "redis://127.0.0.1:6379/0", 6379, "Redis"),
            "rabbitmq": ("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/", 5672, "RabbitMQ")}
# (service, port in its container) -> variable naming the local port, and its default
PORT_VARIABLES = {("proxy", 80): ("RASA_PORT", 5005), ("proxy", 443): ("HTTPS_PORT", 5443),
                  ("proxy", 8443): ("CONSOLE_HTTPS_PORT", 8443), ("proxy", 5055): ("ACTION_PORT", 5055),
                  ("chroma", 8000): ("CHROMA_PORT", 8000), ("widget", 8080): ("WIDGET_PORT", 8080),
                  ("console", 8090): ("CONSOLE_PORT", 8090), ("jobs", 9100): ("JOBS_PORT", 9100),
                  ("commerce7-demo", 7070): ("C7_EMULATOR_PORT", 7070)}
START_ATTEMPTS = 3
DEV_SECRETS = ("ACTION_SERVER_TOKEN", "STAFF_CHANNEL_SECRET", "VERIFICATION_SECRET", "CHROMA_TOKEN")
# Compose needs these to build the in-network URLs; here the URLs of the local servers replace them.
UNUSED_HERE = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_PASSWORD")


def image_kind(service: dict) -> str:
    image = service.get("image", "")
    for prefix, kind in (("milea/rasa", "rasa"), ("milea/actions", "actions"), ("chromadb/chroma", "chroma"),
                         ("nginx", "nginx"), ("postgres", "external"), ("redis", "external"),
                         ("rabbitmq", "external")):
        if image.startswith(prefix):
            return kind
    raise compose.ComposeError(f"image {image!r} has no local equivalent in scripts/cluster.py")


def is_action_server(command: list) -> bool:
    return "scripts.action_server" in command or "rasa_sdk" in command


def local_ports(services: dict, env: dict) -> dict[str, dict[int, int]]:
    """service -> {container port: port on this machine}."""
    replica_ports = [int(p) for p in (env.get("RASA_REPLICA_PORTS") or "5006 5007").split()]
    action_base = int(env.get("ACTION_BASE_PORT") or 5061)
    plan: dict[str, dict[int, int]] = {}
    replicas = actions = 0
    for name, service in services.items():
        kind = image_kind(service)
        if kind == "external":
            continue
        command = service.get("command") or []
        ports = {}
        for port in compose.container_ports(service):
            if kind == "rasa":
                ports[port] = replica_ports[replicas] if replicas < len(replica_ports) else free_port()
            elif is_action_server(command):
                ports[port] = action_base + actions
            elif (name, port) in PORT_VARIABLES:
                variable, default = PORT_VARIABLES[(name, port)]
                ports[port] = int(env.get(variable) or default)
            else:
                ports[port] = free_port()
        replicas += kind == "rasa"
        actions += is_action_server(command)
        plan[name] = ports
    return plan


def mounts(name: str, service: dict) -> list[tuple[str, Path]]:
    """(path in the container, path here), longest container path first."""
    found = [(APP_DIR, ROOT)] if image_kind(service) in ("rasa", "actions") else []
    for spec in service.get("volumes", []):
        source, target = str(spec).split(":")[:2]
        if source.startswith((".", "/")):
            local = (COMPOSE_FILE.parent / source).resolve()
        else:  # a named volume
            local = DATA_DIR if source == "data" else DATA_DIR / "volumes" / source
        found.append((target, local))
    return sorted(found, key=lambda m: len(m[0]), reverse=True)


class Local:
    """How one compose service's strings read on this machine."""

    def __init__(self, name: str, service: dict, plan: dict[str, dict[int, int]]) -> None:
        self.name, self.service, self.plan = name, service, plan
        self.ports = plan.get(name, {})
        self.mounts = mounts(name, service)

    def text(self, value: str) -> str:
        for other, ports in self.plan.items():
            for container, local in ports.items():
                value = re.sub(rf"(?<![\w.-]){re.escape(other)}:{container}(?!\d)", f"127.0.0.1:{local}", value)
        for target, local in self.mounts:
            if value == target or value.startswith(target + "/"):
                return str(local) + value[len(target):]
        return value

    def environment(self) -> dict[str, str]:
        env = {}
        for key, value in self.service["environment"].items():
            host = urlsplit(value).hostname if "://" in value else None
            if host in EXTERNAL:  # a store's in-network URL -> the local server's URL
                value = os.environ[EXTERNAL[host][0]]
            elif value.isdigit() and int(value) in self.ports and key.endswith("_PORT"):
                value = str(self.ports[int(value)])
            elif value.isdigit() and int(value) in self.ports and key.endswith("_LISTEN"):
                value = f"127.0.0.1:{self.ports[int(value)]}"
            elif value == "0.0.0.0" and key.endswith("_HOST"):  # a container's own network: loopback here
                value = "127.0.0.1"
            env[key] = self.text(value)
        return env

    def command(self) -> list[str]:
        args = [self.text(str(a)) for a in self.service.get("command") or []]
        for i in range(1, len(args)):
            if args[i - 1] == "--port" and args[i].isdigit() and int(args[i]) in self.ports:
                args[i] = str(self.ports[int(args[i])])
        return args

    def module(self) -> str | None:
        """The module the command finally runs (`python -m scripts.modes --then X` runs X)."""
        args = [str(a) for a in self.service.get("command") or []]
        for flag in ("--then", "-m"):
            if flag in args[:-1]:
                return args[args.index(flag) + 1]
        return None

    def health_url(self) -> str | None:
        test = " ".join(str(t) for t in (self.service.get("healthcheck") or {}).get("test", []))
        found = re.search(r"\b(?:https?|tcp)://\S+", test)
        if found:  # the check runs inside the service's container: its localhost:port is the service
            url = self.text(found.group(0))
            for container, local in self.ports.items():
                url = re.sub(rf"\blocalhost:{container}(?!\d)", f"127.0.0.1:{local}", url)
            return url
        return f"tcp://127.0.0.1:{next(iter(self.ports.values()))}" if self.ports else None


def module_present(module: str) -> bool:
    """The module is in this checkout, or installed (rasa_sdk)."""
    top = module.split(".")[0]
    if (ROOT / top).is_dir() or (ROOT / f"{top}.py").exists():
        path = ROOT.joinpath(*module.split("."))
        return path.with_suffix(".py").exists() or (path / "__main__.py").exists()
    return importlib.util.find_spec(top) is not None


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not found:
        raise SystemExit("[milea] nginx is not installed: apt-get install -y nginx-light (make cluster does it as root)")
    return found


def render_nginx(local: Local, env: dict) -> Path:
    """An nginx service's template (its mount under /etc/nginx/templates: the proxy, the Chroma gate) in a whole
    nginx.conf of its own, temp files here."""
    templates = [spec for spec in local.service.get("volumes", []) if ":/etc/nginx/templates/" in str(spec)]
    if not templates:
        raise compose.ComposeError(f"{local.name}: no template mounted under /etc/nginx/templates")
    source = (COMPOSE_FILE.parent / str(templates[0]).split(":")[0]).resolve()
    body = string.Template(source.read_text()).safe_substitute(env)
    temp = RUN_DIR / f"nginx-{local.name}"
    temp.mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp folders under the run folder
    conf = RUN_DIR / f"nginx-{local.name}.conf"
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


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def ensure_database(url: str) -> None:
    """Create the database when the server has none of that name (what the postgres image's POSTGRES_DB does)."""
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


def self_signed_certificate(folder: Path) -> None:
    """fullchain.pem + privkey.pem for localhost/127.0.0.1, made once (development only)."""
    if (folder / "fullchain.pem").exists() and (folder / "privkey.pem").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")], check=True, capture_output=True)
    (folder / "privkey.pem").chmod(0o600)
    say(f"TLS: made a self-signed certificate for localhost in {folder} (set TLS_CERT_DIR for a real one)")


def local_secret(name: str) -> str:
    path = DATA_DIR / name.lower()
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def prepare_environment() -> bool:
    """.env, the mode check, and local values for what a development cluster may leave unset."""
    loaded = modes.load_dotenv(modes.env_file(), os.environ)
    if loaded:
        say(f".env: {len(loaded)} setting(s) read (the environment wins over the file)")
    env = os.environ
    env.setdefault("MILEA_ENV", "development")
    env.setdefault("LOG_FORMAT", "text")
    for key, (variable, default, _, _) in EXTERNAL.items():
        env.setdefault(variable, default)
    production = modes.production(env)
    if not production:
        env.setdefault("PUBLIC_URL", f"http://localhost:{env.get('RASA_PORT') or 5005}")
        env.setdefault("HTTP_REDIRECT", "0")
        env.setdefault("WIDGET_ORIGINS", " ".join(widget_origins()))
        env.setdefault("CONSOLE_SERVER_NAME", "console.localhost")  # here the console is https://localhost:8443
        env.setdefault("TLS_CERT_DIR", str(DATA_DIR / "certs"))
        if env["TLS_CERT_DIR"] == str(DATA_DIR / "certs"):
            self_signed_certificate(DATA_DIR / "certs")
        for name in DEV_SECRETS:
            env.setdefault(name, local_secret(name))
        if modes.uses_demo_store(env):
            env.setdefault("C7_API_URL", "http://commerce7-demo:7070/v1")
            env["COMPOSE_PROFILES"] = ",".join(filter(None, [env.get("COMPOSE_PROFILES"), "demo"]))
    if not modes.check(env):
        return False
    if production:
        folder = Path(env.get("TLS_CERT_DIR") or "")
        if not (folder / "fullchain.pem").exists() or not (folder / "privkey.pem").exists():
            say("MILEA_ENV=production refuses to start: set TLS_CERT_DIR to the folder holding fullchain.pem "
                "and privkey.pem of the site's certificate")
            return False
    env["RASA_AUTH_TOKEN"] = auth_token()
    env["MILEA_MODE_ANNOUNCED"] = "1"  # the services say their mode in one line, not the whole banner
    for name in UNUSED_HERE:
        env.setdefault(name, "unused-here")
    return True


class Cluster:
    """The compose services as local processes, started in dependency order and kept running."""

    def __init__(self, data: dict) -> None:
        profiles = set(filter(None, (os.environ.get("COMPOSE_PROFILES") or "").split(",")))
        self.services = compose.active(data["services"], profiles)
        self.order = compose.startup_order(self.services)
        self.plan = local_ports(self.services, dict(os.environ))
        self.local = {name: Local(name, s, self.plan) for name, s in self.services.items()}
        self.procs: dict[str, Service] = {}
        self.state: dict[str, str] = {}  # waiting, running, healthy, done, skipped, external, failed
        self.attempts: dict[str, int] = {}

    def process(self, name: str) -> Service | None:
        local, kind = self.local[name], image_kind(self.services[name])
        env = local.environment()
        if kind == "nginx":
            return Service(name, [nginx_binary(), "-c", str(render_nginx(local, env)), "-g", "daemon off;"])
        if kind == "chroma":
            data = next(path for target, path in local.mounts if target == "/data")
            return Service(name, [str(ACTIONS_BIN_DIR / "chroma"), "run", "--path", str(data), "--host", "127.0.0.1",
                                  "--port", str(next(iter(local.ports.values())))],
                           {"RUST_LOG": os.environ.get("RUST_LOG", "warn")})  # not a line per request
        command = local.command()
        module = local.module()
        if module and not module_present(module):
            say(f"{name}: skipped - module {module} is not in this checkout (the compose service stays for "
                "deployments that have it)")
            return None
        bin_dir = RASA_BIN_DIR if kind == "rasa" else ACTIONS_BIN_DIR
        command[0] = shutil.which(command[0], path=str(bin_dir)) or command[0]
        path = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])
        return Service(name, command, {**env, "PATH": path, "MILEA_SERVICE": name, "MILEA_REPLICA": name})

    def dependencies_met(self, name: str) -> bool | None:
        """True when every dependency is in its required state; None when one failed."""
        for dependency, condition in compose.dependencies(self.services[name]).items():
            state = self.state.get(dependency)
            if state in ("failed", None):
                return None if state == "failed" else False
            wanted = {"service_started": ("running", "healthy", "done", "skipped", "external"),
                      "service_healthy": ("healthy", "skipped", "external"),
                      "service_completed_successfully": ("done", "skipped")}[condition]
            if state not in wanted:
                return False
        return True

    def start(self, name: str) -> None:
        kind = image_kind(self.services[name])
        if kind == "external":
            variable, _, port, label = EXTERNAL[name]
            if not reachable(os.environ[variable], port):
                say(f"{name}: {label} not reachable at {os.environ[variable]} (start it, or set {variable})")
                self.state[name] = "failed"
                return
            if name == "postgres":
                ensure_database(os.environ[variable])
            self.state[name] = "external"
            return
        service = self.process(name)
        if service is None:
            self.state[name] = "skipped"
            return
        self.procs[name] = service
        self.attempts[name] = self.attempts.get(name, 0) + 1
        service.start()
        self.state[name] = "running"

    def step(self, name: str) -> None:
        """Move one started service on: finished, healthy, restarted or failed."""
        service = self.procs[name]
        exited = service.proc.poll() if service.proc else None
        if compose.one_shot(self.services[name]):
            if exited == 0:
                self.state[name] = "done"
            elif exited is not None:
                if self.attempts[name] < START_ATTEMPTS:
                    say(f"{name} exited with code {exited}: running it again (restart: on-failure)")
                    self.start(name)
                else:
                    self.state[name] = "failed"
            return
        if exited is not None:  # the restart policy applies while starting too (e.g. two replicas racing
            # to create the tracker store's tables on an empty database: the loser starts again)
            if self.attempts[name] < START_ATTEMPTS:
                say(f"{name} exited with code {exited} while starting: starting it again "
                    f"(restart: {self.services[name].get('restart')})")
                self.start(name)
            else:
                say(f"{name} exited with code {exited} while starting, {START_ATTEMPTS} times: giving up")
                self.state[name] = "failed"
            return
        url = self.local[name].health_url()
        if url is None or healthy(url, timeout=2):
            self.state[name] = "healthy"

    def up(self, timeout: float, stopping: Stopping) -> bool:
        deadline = time.monotonic() + timeout
        while not stopping.is_set() and time.monotonic() < deadline:
            for name in self.order:
                if name not in self.state:
                    met = self.dependencies_met(name)
                    if met is None:
                        say(f"{name}: not started, a service it depends on failed")
                        return False
                    if met:
                        self.start(name)
                elif self.state[name] == "running":
                    self.step(name)
                if self.state.get(name) == "failed":
                    return False
            if all(self.state.get(n) in ("healthy", "done", "skipped", "external") for n in self.order):
                return True
            stopping.wait(0.5)
        waiting = [n for n in self.order if self.state.get(n) not in ("healthy", "done", "skipped", "external")]
        if not stopping.is_set():
            say(f"not healthy after {timeout:.0f}s: {', '.join(waiting)}")
        return False

    def supervise(self, stopping: Stopping) -> None:
        """Like an orchestrator's restart policy: a long-running process that dies is started again."""
        pids = RUN_DIR / "pids.json"
        while not stopping.wait(0.5):
            for name, service in self.procs.items():
                if compose.one_shot(self.services[name]):
                    continue
                if service.proc and service.proc.poll() is not None and not stopping.is_set():
                    say(f"{name} exited with code {service.proc.returncode}: restarting it "
                        f"(restart: {self.services[name].get('restart')})")
                    service.kill()  # what is left of its process group (nginx workers) would hold its port
                    service.start()
            current = json.dumps({n: s.proc.pid for n, s in self.procs.items() if s.proc})
            if not pids.exists() or pids.read_text() != current:
                pids.with_suffix(".tmp").write_text(current)
                pids.with_suffix(".tmp").replace(pids)  # readers never see half a file

    def down(self, stopping: Stopping) -> None:
        stop_services([self.procs[name] for name in reversed(self.order) if name in self.procs], stopping)

    def describe(self) -> str:
        proxy = self.plan.get("proxy", {})
        return (f"cluster ready: https://localhost:{proxy.get(443)} (widget, socket.io, REST, Twilio) | "
                f"http://localhost:{proxy.get(80)} | console https://localhost:{proxy.get(8443)} | replicas "
                f"{', '.join(str(p[5005]) for n, p in self.plan.items() if 5005 in p)} | Ctrl-C stops everything")


def main() -> int:
    stopping = supervise()  # first: a Ctrl-C or SIGTERM from here on stops cleanly
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    if not MODEL.exists():
        say(f"no trained model at {MODEL}: run `make cluster` (it trains first)")
        return 1
    if not prepare_environment():
        return 2
    try:
        cluster = Cluster(compose.load(COMPOSE_FILE, os.environ))
    except compose.ComposeError as error:
        say(f"docker-compose.yml: {error}")
        return 2
    say("services from docker-compose.yml: " + ", ".join(
        f"{n}{':' + '/'.join(map(str, cluster.plan[n].values())) if cluster.plan.get(n) else ''}"
        for n in cluster.order))
    ready = cluster.up(float(os.environ.get("MILEA_START_TIMEOUT", 300)), stopping)
    announce(ready, stopping, cluster.describe())
    if ready:
        cluster.supervise(stopping)
    say("stopping")
    cluster.down(stopping)
    stopping.finish()
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
