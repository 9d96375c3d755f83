"""Rasa's schema of an action server reply, compiled once into plain Python checks.

jsonschema walks the schema for every reply; for the ~25 alternatives of an event (`oneOf`)
it tries each one, ~0.4 ms per reply and ~1 ms of the Rasa server's loop per action call
under load. `compile_schema` turns the part of JSON Schema that Rasa's reply schema uses
(type, const, properties, required, items, and a `oneOf` whose alternatives each fix
`event` to a different constant) into nested closures.

A check is never more lenient than jsonschema: it says True only for a reply jsonschema
accepts, and it may say False where jsonschema would accept (integers written as 1.0, a
mapping that is not a dict). Callers therefore send every False to jsonschema, whose answer
and error stand. A part of the schema that uses anything else compiles to a check that always
says False (so a user event carrying response selector results goes to jsonschema).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

Check = Callable[[Any], bool]


def _defer(_value: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)  # bool is not a number in JSON Schema


_TYPES: dict[str, Check] = {
    "string": lambda v: type(v) is str,
    "number": _is_number,
    "integer": lambda v: type(v) is int,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
}
_KEYWORDS = {"type", "const", "properties", "required", "items", "oneOf"}


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """A predicate that is True only for instances `schema` accepts.

    Args: schema: a JSON Schema (dict).
    Returns: the predicate; False for every instance where the schema leaves the subset above.
    """
    if not isinstance(schema, Mapping) or set(schema) - _KEYWORDS:
        return _defer
    checks: list[Check] = []
    if "type" in schema:
        names = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
        if any(name not in _TYPES for name in names):
            return _defer
        kinds = [_TYPES[name] for name in names]
        checks.append(lambda v: any(kind(v) for kind in kinds))
    if "const" in schema:
        const = schema["const"]
        if type(const) is not str:
            return _defer
        checks.append(lambda v: type(v) is str and v == const)
    if "properties" in schema or "required" in schema:
        properties = {name: compile_schema(sub) for name, sub in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        checks.append(lambda v: type(v) is not dict or (
            all(name in v for name in required)
            and all(check(v[name]) for name, check in properties.items() if name in v)))
    if "items" in schema:
        item = compile_schema(schema["items"])
        checks.append(lambda v: type(v) is not list or all(item(element) for element in v))
    if "oneOf" in schema:
        checks.append(_one_of_by_event(schema))
    if _defer in checks:
        return _defer
    return lambda v: all(check(v) for check in checks)


def _one_of_by_event(schema: Mapping[str, Any]) -> Check:
    """`oneOf` where every alternative fixes `event` to its own string and `event` is required:
    exactly the alternative named by the instance's `event` can hold, so only it is checked."""
    if "event" not in schema.get("required", ()):
        return _defer
    alternatives: dict[str, Check] = {}
    for alternative in schema["oneOf"]:
        name = alternative.get("properties", {}).get("event", {}).get("const") if isinstance(alternative, Mapping) else None
        if type(name) is not str or name in alternatives:
            return _defer
        alternatives[name] = compile_schema(alternative)

    def one_of(v: Any) -> bool:
        if type(v) is not dict:
            return False  # jsonschema would check each alternative against a non-object: let it
        event = v.get("event")
        check = alternatives.get(event) if type(event) is str else None
        return check is not None and check(v)

    return one_of
