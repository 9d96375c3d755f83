"""Waiting in tests: for a condition, with a deadline, never for a fixed time."""
from __future__ import annotations

import asyncio
import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


def _look(condition: Callable[[], T], deadline: float, timeout: float, what: str) -> Optional[T]:
    """The condition's value when truthy; None to look again; fails once the deadline has passed."""
    found = condition()
    if found:
        return found
    if time.monotonic() >= deadline:
        raise AssertionError(f"not within {timeout:.0f} s: {what}")
    return None


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    """Polls `condition` until it returns something truthy and returns that.

    Args:
        condition: checked every `interval` seconds.
        timeout: seconds before the test fails, naming `what` it waited for.
    Returns:
        The condition's first truthy value.
    """
    deadline = time.monotonic() + timeout
    while (found := _look(condition, deadline, timeout, what)) is None:
        time.sleep(interval)
    return found


async def wait_until_async(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.01) -> T:
    """wait_until inside an event loop: the loop runs on while it waits."""
    deadline = time.monotonic() + timeout
    while (found := _look(condition, deadline, timeout, what)) is None:
        await asyncio.sleep(interval)
    return found
