"""docker-compose.yml as data: loaded with Compose's variable rules, for `make cluster` and the tests.

    load(path, env) -> {"services": {...}, "volumes": {...}}   ${VAR}, ${VAR:-default}, ${VAR-default},
                                                               ${VAR:?message}, ${VAR?message}, $$ -> $
    startup_order(services)                                    names, dependencies first
    one_shot(service)                                          runs to completion (restart: on-failure)
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import yaml

_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>\w+))")


class ComposeError(ValueError):
    """The compose file cannot be used as written; the message says what to set or fix."""


def interpolate(text: str, env: Mapping[str, str], missing: list[str]) -> str:
    """One string with Compose's substitution rules; required variables that are unset go to `missing`."""

    def substitute(match: re.Match) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset else value
        if op in (":?", "?"):
            if unset:
                missing.append(arg or f"{name} is required")
                return ""
            return value
        return value or ""

    return _VARIABLE.sub(substitute, text)


def _walk(node: Any, env: Mapping[str, str], missing: list[str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env, missing)
    if isinstance(node, list):
        return [_walk(item, env, missing) for item in node]
    if isinstance(node, dict):
        return {key: _walk(value, env, missing) for key, value in node.items()}
    return node


def load(path: Path, env: Mapping[str, str]) -> dict:
    """The compose file with every variable filled in from `env`; ComposeError names the unset required ones."""
    raw = yaml.safe_load(path.read_text())
    raw = {key: value for key, value in raw.items() if not key.startswith("x-")}
    missing: list[str] = []
    data = _walk(raw, env, missing)
    if missing:
        raise ComposeError("; ".join(dict.fromkeys(missing)))
    for service in data.get("services", {}).values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):  # KEY=VALUE form
            environment = dict(item.split("=", 1) for item in environment)
        service["environment"] = {key: "" if value is None else str(value) for key, value in environment.items()}
    return data


def dependencies(service: dict) -> dict[str, str]:
    """name -> condition (service_started, service_healthy, service_completed_successfully)."""
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: "service_started" for name in depends}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in depends.items()}


def one_shot(service: dict) -> bool:
    return service.get("restart") in ("on-failure", "no") or str(service.get("restart", "")).startswith("on-failure")


def active(services: dict, profiles: set[str]) -> dict:
    """The services Compose would start with these profiles enabled."""
    return {name: s for name, s in services.items() if not s.get("profiles") or profiles & set(s["profiles"])}


def startup_order(services: dict) -> list[str]:
    """Service names, each after the services it depends on; ComposeError on a cycle or an unknown name."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ComposeError(f"depends_on cycle through {name}")
        if name not in services:
            raise ComposeError(f"depends_on names {name}, which is not a service")
        visiting.add(name)
        for dependency in dependencies(services[name]):
            visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in services:
        visit(name)
    return order


def container_ports(service: dict) -> list[int]:
    """The ports the service listens on inside its container (expose, and the targets of ports)."""
    ports = [int(p) for p in service.get("expose", [])]
    for spec in service.get("ports", []):
        target = str(spec).rsplit(":", 1)[-1].split("/")[0]
        ports.append(int(target))
    return list(dict.fromkeys(ports))
