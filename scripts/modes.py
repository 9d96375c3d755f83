"""Demo or production: what each mode allows, and the .env file both `make run` and `make cluster` read.

MILEA_ENV=production refuses to start, naming the variable to set, when it would
  - take signups into the Commerce7 demo emulator (C7_APP_ID, C7_SECRET, C7_TENANT unset),
  - protect Rasa's HTTP API with a generated token (RASA_AUTH_TOKEN unset),
  - let anyone call the action servers (ACTION_SERVER_TOKEN unset), or send staff replies with a
    generated STAFF_CHANNEL_SECRET,
  - hold any staff or internal secret (SECRETS below) shorter than 32 characters, or use a Chroma
    server (CHROMA_URL) without CHROMA_TOKEN,
  - serve public endpoints over plain HTTP (PUBLIC_URL, TWILIO_WEBHOOK_URL, WIDGET_ORIGINS not
    https://, or HTTP_REDIRECT=0), or the staff console under the public host name (CONSOLE_SERVER_NAME).
Any other MILEA_ENV (default: development) runs, and says loudly when signups go to the demo store.

    python -m scripts.modes [--checks commerce7,secrets,https] [--then MODULE [ARGS...]]
        read .env, check the mode, then run MODULE as __main__ with ARGS (how the compose file
        starts the action servers and the jobs process, and `make run` starts scripts.run)
"""
from __future__ import annotations

import argparse
import os
import re
import runpy
import sys
from pathlib import Path
from typing import Mapping, MutableMapping
from urllib.parse import urlsplit

from core.paths import ROOT

C7_KEYS = ("C7_APP_ID", "C7_SECRET", "C7_TENANT")
MIN_SECRET_CHARS = 32
# Every staff or internal secret, what it protects; a Rasa replica (and `make run`, `make cluster`)
# needs the first three; any of them set anywhere must be long enough to resist guessing.
SECRETS = {
    "RASA_AUTH_TOKEN": "Rasa's HTTP API would get a generated token",
    "ACTION_SERVER_TOKEN": "the action servers would answer anyone",
    "STAFF_CHANNEL_SECRET": "staff replies (SMS from the winery's number) would use a generated secret",
    "VERIFICATION_SECRET": "the one-time codes and the verified state of a chat: they are signed with it",
    "CUSTOMER_TOKEN_SECRET": "the website's customer tokens: they are signed with it",
    "WIDGET_SESSION_SECRET": "the web chat's session ids: they are signed with it",
    "C7_WEBHOOK_PASSWORD": "Commerce7's web hooks: anyone who guesses it could make the winery text its customers",
    "CHROMA_TOKEN": "the knowledge index on a Chroma server: anyone on its network could rewrite the answers",
}
# Written into the Chroma gate's nginx configuration (deploy/chroma-gate.conf.template): letters, digits, - and _
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
REQUIRED_SECRETS = ("RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "STAFF_CHANNEL_SECRET")


def load_dotenv(path: Path, environ: MutableMapping[str, str]) -> list[str]:
    """KEY=VALUE lines of `path` into `environ`, never replacing a variable already set; returns the names set.

    Blank lines and # comments are skipped; values may be quoted; `export KEY=...` is accepted.
    """
    if not path.exists():
        return []
    loaded = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise SystemExit(f"[milea] {path.name} line {number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if key not in environ:
            environ[key] = value
            loaded.append(key)
    return loaded


def env_file() -> Path:
    """.env of the checkout, or the file MILEA_ENV_FILE names (tests point it away from a developer's)."""
    return Path(os.environ.get("MILEA_ENV_FILE") or ROOT / ".env")


def production(env: Mapping[str, str]) -> bool:
    return (env.get("MILEA_ENV") or "").strip().lower() == "production"


def uses_demo_store(env: Mapping[str, str]) -> bool:
    return not all((env.get(k) or "").strip() for k in C7_KEYS) or "demo" in (env.get("COMPOSE_PROFILES") or "")


CHECKS = ("commerce7", "secrets", "https")


def production_problems(env: Mapping[str, str], checks: tuple[str, ...] = CHECKS) -> list[str]:
    """Why this environment must not serve customers, one line per problem naming what to set ([] = fine).

    `checks` limits it to what one process holds: the action servers and jobs check commerce7,
    a Rasa replica secrets and https, `make cluster` and `make run` all three."""
    problems = []
    if "commerce7" in checks and uses_demo_store(env):
        missing = [k for k in C7_KEYS if not (env.get(k) or "").strip()]
        problems.append("signups would go to the Commerce7 demo emulator: set " + ", ".join(missing or C7_KEYS)
                        + (" and leave the demo profile out of COMPOSE_PROFILES" if not missing else ""))
    c7_url = (env.get("C7_API_URL") or "").strip()
    if "commerce7" in checks and c7_url and (urlsplit(c7_url).scheme != "https"):
        problems.append(f"C7_API_URL={c7_url} is not the real Commerce7 API: unset it (default "
                        "https://api.commerce7.com/v1)")
    for key, what in SECRETS.items():
        value = (env.get(key) or "").strip()
        if not value and "secrets" in checks and key in REQUIRED_SECRETS:
            problems.append(f"{what}: set {key} to a secret of {MIN_SECRET_CHARS}+ characters "
                            "(openssl rand -hex 32)")
        elif value and len(value) < MIN_SECRET_CHARS:  # wherever it is held: a short one can be guessed
            problems.append(f"{key} has {len(value)} characters, too few for {what.split(':')[0]}: set it to "
                            f"a secret of {MIN_SECRET_CHARS}+ characters (openssl rand -hex 32)")
    chroma_token = (env.get("CHROMA_TOKEN") or "").strip()
    if (env.get("CHROMA_URL") or "").strip() and not chroma_token:  # wherever a Chroma server is used
        problems.append(f"{SECRETS['CHROMA_TOKEN']}: set CHROMA_TOKEN to a secret of {MIN_SECRET_CHARS}+ characters "
                        "(openssl rand -hex 32)")
    elif chroma_token and not TOKEN_CHARS.match(chroma_token):
        problems.append("CHROMA_TOKEN may hold letters, digits, - and _ only: set it with openssl rand -hex 32")
    if "https" not in checks:
        return problems
    public = (env.get("PUBLIC_URL") or "").strip()
    if urlsplit(public).scheme != "https":
        problems.append("the public endpoints need HTTPS: set PUBLIC_URL to the https:// address visitors and "
                        "Twilio use (e.g. https://chat.mileaestatevineyard.com)")
    webhook = (env.get("TWILIO_WEBHOOK_URL") or "").strip()
    if webhook and urlsplit(webhook).scheme != "https":
        problems.append(f"TWILIO_WEBHOOK_URL={webhook} is plain HTTP: set it to the https:// webhook URL")
    plain = [o for o in (env.get("WIDGET_ORIGINS") or "").split() if urlsplit(o).scheme != "https"]
    if plain:
        problems.append(f"WIDGET_ORIGINS lists plain-HTTP sites ({' '.join(plain)}): list the https:// ones only")
    console = (env.get("CONSOLE_SERVER_NAME") or "").strip().lower()
    if console and console == (urlsplit(public).hostname or "").lower():
        problems.append(f"CONSOLE_SERVER_NAME={console} is PUBLIC_URL's host: browsers would share the console's "
                        f"cookies with the public site: give the console a name of its own (console.{console})")
    if (env.get("HTTP_REDIRECT") or "1").strip() == "0":
        problems.append("HTTP_REDIRECT=0 would serve the public endpoints over plain HTTP: unset it")
    return problems


def demo_banner() -> list[str]:
    rule = "=" * 78
    return [rule,
            "DEMO MODE: wine club signups, mailing-list entries and loyalty look-ups go to the",
            "Commerce7 DEMO STORE (an emulator on this machine), NOT the winery's Commerce7.",
            "For the real store set C7_APP_ID, C7_SECRET and C7_TENANT (see .env.example);",
            "MILEA_ENV=production refuses to start in demo mode.",
            rule]


def check(env: Mapping[str, str], checks: tuple[str, ...] = CHECKS,
          say=lambda line: print(f"[milea] {line}", flush=True)) -> bool:
    """Say the mode; False (after saying why) when production mode must not start."""
    if production(env):
        problems = production_problems(env, checks)
        if problems:
            say("MILEA_ENV=production refuses to start:")
            for problem in problems:
                say(f"  - {problem}")
            return False
        say("Mode: production (MILEA_ENV=production)")
        return True
    if not env.get("MILEA_MODE_ANNOUNCED"):
        say("Mode: development (set MILEA_ENV=production for a live site: it checks secrets, HTTPS and Commerce7)")
    if "commerce7" in checks and uses_demo_store(env):
        if env.get("MILEA_MODE_ANNOUNCED"):  # `make cluster` showed the banner once for all its services
            say("DEMO MODE: signups go to the Commerce7 demo store")
        else:
            for line in demo_banner():
                say(line)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="read .env, check the mode, then run a module")
    parser.add_argument("--env-file", type=Path, default=env_file())
    parser.add_argument("--checks", default=",".join(CHECKS), help="what production mode checks here")
    parser.add_argument("--then", help="module to run as __main__ when the mode check passes")
    args, rest = parser.parse_known_args(argv)
    loaded = load_dotenv(args.env_file, os.environ)
    if loaded:
        print(f"[milea] {args.env_file.name}: {len(loaded)} setting(s) read (the environment wins over the file)")
    if not check(os.environ, tuple(args.checks.split(","))):
        return 2
    if args.then == "rasa_sdk" and (os.environ.get("LOG_FORMAT") or "").strip().lower() == "json":
        rest += ["--logging-config_file", str(ROOT / "deploy" / "logging-json.yml")]  # one JSON object per line
    if args.then:
        sys.argv = [args.then, *rest]
        runpy.run_module(args.then, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
