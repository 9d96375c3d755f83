"""Input hygiene shared by every channel: clean text, bounded length, button payloads
that cannot set slots a customer should only fill through a form, and a limit on how
many messages a sender or a client address may send per minute."""
from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from core.settings import SharedSettings
from core.texts import render

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
# Metadata nested deeper than this is refused: Rasa deep-copies and JSON-encodes it with
# recursion, and ~900 levels (which JSON parsers accept) end in a RecursionError (a 5xx).
MAX_METADATA_DEPTH = 32
# Metadata is stored with every user event and published to RabbitMQ: the widget sends well under
# 1 KB; more is refused, so a client cannot grow the tracker and the event stream at will.
MAX_METADATA_BYTES = 4096
# Entities a button may carry; anything else in a typed "/intent{...}" is dropped.
PAYLOAD_ENTITIES = frozenset({"wine", "varietal", "weekday", "date_phrase", "club_tier"})
# Controls, zero-width and bidi marks, BOM, and lone surrogates (from JSON escapes such as
# "\ud800": no UTF-8 form, so the SQL tracker store cannot even look such a sender up).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
# What standard Rasa widgets send when they open (rasa-webchat's default initPayload): a greeting.
OPENERS = {"get_started": "greet"}
_PAYLOAD = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]{0,63})(?:@[0-9.]+)?(\{.*\})?$", re.S)


class RejectedMessage(ValueError):
    """A message the channel answers with a 4xx and a reason the sender can act on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def clean_text(value: Any) -> str:
    if not isinstance(value, str):
        raise RejectedMessage(400, "'message' must be a string of text")
    text = unicodedata.normalize("NFKC", value)
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        raise RejectedMessage(400, "'message' is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise RejectedMessage(413, f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def guard_payload(text: str) -> str:
    """Keep '/intent' button payloads, drop entities a button never sends.

    Text that merely starts with '/' but is not a payload loses the slash, so NLU
    reads it as ordinary words.
    """
    if not text.startswith("/"):
        return text
    match = _PAYLOAD.match(text)
    if not match:
        return text.lstrip("/").strip() or "hello"
    intent, raw_entities = match.group(1), match.group(2)
    intent = OPENERS.get(intent, intent)
    if not raw_entities:
        return f"/{intent}"
    try:
        entities = json.loads(raw_entities)
    except (ValueError, RecursionError):  # '{"wine":[[[[...' ~1,000 deep raises RecursionError
        return f"/{intent}"
    if not isinstance(entities, dict):
        return f"/{intent}"
    safe = {
        k: v for k, v in entities.items()
        if k in PAYLOAD_ENTITIES and isinstance(v, str) and 0 < len(v) <= 80 and not _CONTROL.search(v)
    }
    return f"/{intent}{json.dumps(safe)}" if safe else f"/{intent}"


def clean_sender(value: Any) -> Optional[str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > 128:
        return None
    return _CONTROL.sub("", value).strip() or None


def nested_too_deep(value: Any, limit: int = MAX_METADATA_DEPTH) -> bool:
    """True when dicts and lists nest more than `limit` levels (checked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def metadata_too_large(value: Any, limit: int = MAX_METADATA_BYTES) -> bool:
    """True when the metadata's JSON is over `limit` bytes (check nested_too_deep first)."""
    try:
        return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")) > limit
    except (TypeError, ValueError):
        return True


def prepare_message(value: Any) -> str:
    return guard_payload(clean_text(value))


# ---- floods: messages per sender and per client address (chat and LLM answers cost money)

LIMITED_TEXT = render("utter_rate_limited")   # domain.yml
CARD_TEXT = render("utter_card_not_kept")     # a message with a card number is answered so and dropped


def positive_setting(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = 0
    if value < 1:
        log.warning("%s=%r is not a positive whole number: using %d", name, raw, default)
        return default
    return value


@dataclass(frozen=True)
class RateLimits:
    """Messages allowed per window; from RATE_LIMIT_PER_SENDER (20), RATE_LIMIT_PER_ADDRESS (60),
    RATE_LIMIT_WINDOW_S (60). Tests and benchmarks that send many messages raise them this way."""

    per_sender: int = 20
    per_address: int = 60
    window_s: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "RateLimits":
        return cls(positive_setting(env, "RATE_LIMIT_PER_SENDER", cls.per_sender),
                   positive_setting(env, "RATE_LIMIT_PER_ADDRESS", cls.per_address),
                   positive_setting(env, "RATE_LIMIT_WINDOW_S", cls.window_s))


@dataclass(frozen=True)
class Verdict:
    limited: bool
    first: bool = False  # the first refused message of this window: the one to answer by SMS
    retry_after: int = 0


def trusted_networks(env: Mapping[str, str]) -> list:
    networks = []
    for item in (env.get("TRUSTED_PROXIES") or "127.0.0.0/8 ::1").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            log.warning("TRUSTED_PROXIES: %r is not an address or network: ignored", item)
    return networks


def _address(value: Optional[str]) -> Optional[str]:
    try:
        return str(ipaddress.ip_address((value or "").strip())) if value else None
    except ValueError:
        return None


def client_address(peer: Optional[str], headers: Mapping[str, str], trusted: Optional[list] = None) -> Optional[str]:
    """The client's address: the peer's, or the one our proxy forwards (X-Real-IP, else the last
    X-Forwarded-For entry) when the peer is a trusted proxy (TRUSTED_PROXIES, default loopback).
    A client elsewhere cannot choose its address with these headers."""
    peer = _address(peer)
    trusted = trusted_networks(os.environ) if trusted is None else trusted
    if peer and any(ipaddress.ip_address(peer) in net for net in trusted):
        forwarded = _address(headers.get("x-real-ip")) or \
            _address((headers.get("x-forwarded-for") or "").split(",")[-1])
        return forwarded or peer
    return peer


def _key(kind: str, value: str) -> str:  # hashed: no phone number or address stored in Redis
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


class FloodGuard:
    """Counts messages per sender (per channel) and per client address in fixed windows.

    Shared by every replica through Redis when REDIS_URL is set; in this process's memory
    otherwise, and while Redis cannot be reached (logged, never a refused customer).
    """

    def __init__(self, limits: RateLimits, redis_url: Optional[str] = None,
                 clock: Callable[[], float] = time.time, name: str = "flood") -> None:
        self.limits, self.name = limits, name  # name: its own counters in Redis (votes apart from messages)
        self.redis_url = (redis_url or "").strip() or None
        self.clock = clock
        self._redis: Any = None
        self._redis_down_until = 0.0
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window, count)

    async def check(self, channel: str, sender: Optional[str], address: Optional[str]) -> Verdict:
        """Count one message; limited when the sender or the address is over its limit."""
        now = self.clock()
        window = int(now // self.limits.window_s)
        wanted = []
        if sender:
            wanted.append((_key(f"sender:{channel}", sender), self.limits.per_sender))
        if address:
            wanted.append((_key("address", address), self.limits.per_address))
        if not wanted:
            return Verdict(False)
        counts = await self._count([k for k, _ in wanted], window)
        over = [count - limit for count, (_, limit) in zip(counts, wanted) if count > limit]
        if not over:
            return Verdict(False)
        retry_after = max(1, int((window + 1) * self.limits.window_s - now))
        return Verdict(True, first=1 in over, retry_after=retry_after)

    async def _count(self, keys: list[str], window: int) -> list[int]:
        if self.redis_url and self.clock() >= self._redis_down_until:
            try:
                return await self._count_in_redis(keys, window)
            except Exception as exc:  # Redis down: count here meanwhile, try again in a while
                self._redis_down_until = self.clock() + 30
                log.warning("rate limit: Redis unreachable (%s); counting in this process for 30 s",
                            type(exc).__name__)
        return self._count_in_memory(keys, window)

    async def _count_in_redis(self, keys: list[str], window: int) -> list[int]:
        if self._redis is None:
            from redis import asyncio as aioredis

            self._redis = aioredis.Redis.from_url(self.redis_url, socket_timeout=1, socket_connect_timeout=1)
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            name = f"milea:{self.name}:{window}:{key}"
            pipe.incr(name)
            pipe.expire(name, self.limits.window_s + 5)
        results = await pipe.execute()
        return [int(n) for n in results[0::2]]

    def _count_in_memory(self, keys: list[str], window: int) -> list[int]:
        if len(self._counts) > 50_000:  # drop the windows that are over
            self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        counts = []
        for key in keys:
            seen_window, count = self._counts.get(key, (window, 0))
            count = count + 1 if seen_window == window else 1
            self._counts[key] = (window, count)
            counts.append(count)
        return counts


_flood_guard: Optional[FloodGuard] = None


def flood_guard() -> FloodGuard:
    """The process's guard, shared by every channel (one address's REST and socket.io messages count together)."""
    global _flood_guard
    if _flood_guard is None:
        _flood_guard = FloodGuard(RateLimits.from_env(os.environ), SharedSettings.from_env().redis_url or None)
    return _flood_guard
