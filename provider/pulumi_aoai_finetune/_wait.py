"""Waiting and retrying, shared by the resources.

- :func:`poll`: wait for a service object to reach a terminal state, with a timeout the user sets.
- :func:`create_once`: send a create call, retrying transient failures (tenacity, exponential
  backoff) but never creating twice: before every re-send it asks the service whether the previous
  attempt landed after all (a timeout or a dropped connection can hide a success).
"""

from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from .errors import TransientError, WaitTimeoutError

T = TypeVar("T")


def poll(
    fetch: Callable[[], T],
    is_done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float,
    what: str,
    on_poll: Optional[Callable[[T], None]] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fetch`` until ``is_done``; a transient error while polling is retried, not fatal."""
    deadline = time.monotonic() + timeout
    failures = 0
    while True:
        try:
            current = fetch()
            failures = 0
        except TransientError:
            failures += 1
            if failures > 10 or time.monotonic() > deadline:
                raise
            sleep(min(interval * failures, 60.0))
            continue
        if on_poll is not None:
            on_poll(current)
        if is_done(current):
            return current
        if time.monotonic() > deadline:
            raise WaitTimeoutError(
                f"{what}: still not done after {timeout:.0f} s; it goes on in the service. Raise the "
                "timeout (or the resource's custom_timeouts) and run `pulumi up` again: it attaches to it.")
        sleep(interval)


def create_once(
    send: Callable[[], T],
    find_existing: Callable[[], Optional[T]],
    *,
    attempts: int,
    max_wait: float = 30.0,
) -> T:
    for attempt in Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential(multiplier=0.5, max=max_wait),
        reraise=True,
    ):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                landed = find_existing()
                if landed is not None:
                    return landed
            return send()
    raise AssertionError("unreachable")  # pragma: no cover
