"""Typed Commerce7 errors, built from the API's error envelope.

`retryable` tells callers (and the outbox) whether trying later can help.
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any, Mapping


class Commerce7Error(Exception):
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, type: str | None = None,
                 errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.errors: list[dict[str, Any]] = errors or []

    def fields(self) -> set[str]:
        """Field names the API complained about (e.g. {"emails"} for a duplicate email)."""
        return {str(e.get("field")) for e in self.errors if isinstance(e, dict) and e.get("field")}

    def __str__(self) -> str:
        return f"{self.status} {self.type}: {self.message}"


class Unauthorized(Commerce7Error):
    """401/403: wrong app id/secret or tenant. Retrying cannot help."""


class NotFound(Commerce7Error):
    pass


class ValidationError(Commerce7Error):
    """400/422: the request was understood and refused (duplicate email, bad phone, limit > 50...)."""


class RateLimited(Commerce7Error):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(Commerce7Error):
    """5xx from Commerce7."""
    retryable = True


class Unavailable(Commerce7Error):
    """Timeouts, connection errors and 408: the request may or may not have been processed."""
    retryable = True


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def error_from_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Commerce7Error:
    """Map an HTTP status and (possibly malformed) envelope to a typed error.

    The envelope's `statusCode` has been seen as a string and `errors` may be missing, so
    the HTTP status decides the class and every envelope field is optional.
    """
    env = body if isinstance(body, dict) else {}
    if not status:   # no HTTP status (should not happen): fall back to the envelope's, maybe a string
        try:
            status = int(env.get("statusCode") or 0)
        except (TypeError, ValueError):
            status = 0
    raw_errors = env.get("errors")
    errors = [e for e in raw_errors if isinstance(e, dict)] if isinstance(raw_errors, list) else []
    message = str(env.get("message") or f"HTTP {status}")
    kw: dict[str, Any] = {"status": status, "type": env.get("type"), "errors": errors}
    if status in (401, 403):
        return Unauthorized(message, **kw)
    if status == 404:
        return NotFound(message, **kw)
    if status in (400, 409, 422):
        return ValidationError(message, **kw)
    if status == 429:
        return RateLimited(message, retry_after=parse_retry_after(_header(headers, "retry-after")), **kw)
    if status == 408:
        return Unavailable(message, **kw)
    if status >= 500:
        return ServerError(message, **kw)
    return Commerce7Error(message, **kw)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None
