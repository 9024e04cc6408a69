"""Waiting and retrying, shared by the resources.

- :func:`poll`: wait for a service object to reach a terminal state, with a timeout the user sets.
- :func:`create_once`: send a create call, retrying transient failures (tenacity, exponential
  backoff, never shorter than the service's ``Retry-After``) but never creating twice: before every
  re-send it asks the service whether the previous attempt landed after all (a timeout or a dropped
  connection can hide a success).

Both are bounded: ``create_once`` makes ``attempts`` (``aoai-finetune:maxRetries`` + 1) sends, a poll
gives up after :data:`MAX_POLL_FAILURES` failed reads in a row (each read already retried by the
SDK), and the error then says how many attempts were made over how long.

Every wait ends promptly on request: :func:`request_stop` (what the front ends call when the CLI
is interrupted: the engine's Cancel for the dynamic provider and the plugin, the stop request of
Terraform) makes every pause of this module -- :func:`poll`, :func:`wait_operation`, the backoff of
:func:`retry_transient`, :func:`stoppable_sleep` (the SDKs' retry pauses, the wait for a job slot) -- raise
:class:`~.errors.WaitInterrupted` within :data:`TICK` seconds, naming what goes on in the service and
what the next run does with it. Nothing is cancelled there. A process whose main thread has ended
(the interpreter is shutting down) counts as stopped too.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from .errors import TransientError, WaitInterrupted, WaitTimeoutError

T = TypeVar("T")
MAX_POLL_FAILURES = 10
TICK = 0.25  # seconds between checks of a stop request while pausing
NEXT_RUN = ("the next `pulumi up` finds it and carries on from where it is (attaches to the job, reuses the file, "
            "completes the deployment): nothing is started twice")
_stop = threading.Event()


def request_stop() -> None:
    """Make every wait of this process end now with :class:`WaitInterrupted` (and any later one at
    its first pause). For a process that stops: it is never reset."""
    _stop.set()


def stop_requested() -> bool:
    return _stop.is_set() or not threading.main_thread().is_alive()


def _interrupted(what: str, object_id: Any) -> WaitInterrupted:
    return WaitInterrupted(f"{what}: the wait was interrupted; it goes on in the service, and {NEXT_RUN}",
                           object_id=object_id)


def stoppable_sleep(seconds: float, *, what: str = "", object_id: Any = None, note: str = "") -> None:
    """``time.sleep`` that a stop request ends within :data:`TICK` seconds, raising
    :class:`WaitInterrupted`: about ``what`` (an object that goes on in the service), or with ``note``
    (what the interruption leaves, when nothing goes on)."""
    deadline = time.monotonic() + max(0.0, seconds)
    while True:
        if stop_requested():
            if what:
                raise _interrupted(what, object_id)
            raise WaitInterrupted(f"interrupted while waiting: {note or 'nothing more was sent'}")
        left = deadline - time.monotonic()
        if left <= 0:
            return
        _stop.wait(min(TICK, left))


def poll(
    fetch: Callable[[], T],
    is_done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float,
    what: str,
    on_poll: Optional[Callable[[T], None]] = None,
    sleep: Optional[Callable[[float], None]] = None,
) -> T:
    """Call ``fetch`` until ``is_done``; a transient error while polling is retried, not fatal.

    The pause between reads starts at an eighth of ``interval`` and grows by half each time up to
    ``interval``: quick objects are noticed quickly, long ones cost few reads, and the end of either
    is noticed at most ``interval`` late. A stop request (:func:`request_stop`) ends the wait at once
    with :class:`WaitInterrupted` naming the last object read (its ``id``)."""
    last: Any = None

    def pause(seconds: float) -> None:
        if sleep is None:
            stoppable_sleep(seconds, what=what, object_id=getattr(last, "id", None))
            return
        if stop_requested():
            raise _interrupted(what, getattr(last, "id", None))
        sleep(seconds)

    started = time.monotonic()
    deadline = started + timeout
    failures = 0
    gap = interval / 8
    while True:
        try:
            current = fetch()
            failures = 0
        except TransientError as exc:
            failures += 1
            if failures > MAX_POLL_FAILURES or time.monotonic() > deadline:
                raise exc.with_note(f"{what}: gave up after {failures} failed reads in a row "
                                    f"({time.monotonic() - started:.1f} s); it may still go on in the service: run "
                                    "`pulumi up` again once the service answers") from exc
            pause(min(max(interval * failures, exc.retry_after or 0.0), 60.0))
            continue
        last = current
        if on_poll is not None:
            on_poll(current)
        if is_done(current):
            return current
        if time.monotonic() > deadline:
            raise WaitTimeoutError(
                f"{what}: still not done after {timeout:.0f} s; it goes on in the service. Raise the "
                "timeout (or the resource's custom_timeouts) and run `pulumi up` again: it attaches to it.")
        pause(gap)
        gap = min(interval, gap * 1.5)


def wait_operation(poller: Any, *, timeout: float, what: str, object_id: Optional[str] = None) -> Any:
    """The result of an azure-core long-running operation (an ``LROPoller``), waiting at most
    ``timeout`` seconds; a stop request ends the wait at once with :class:`WaitInterrupted`
    (``object_id`` names the object). Errors are the poller's own; the caller checks ``done()``."""
    deadline = time.monotonic() + timeout
    while not poller.done():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if stop_requested():
            raise _interrupted(what, object_id)
        try:
            poller.wait(min(TICK, remaining))
        except WaitInterrupted:  # the poller's own pause (the transport's sleep) saw the stop first
            raise _interrupted(what, object_id) from None
    return poller.result(timeout=0)


def retry_transient(
    call: Callable[[], T],
    *,
    attempts: int,
    max_wait: float = 30.0,
    before_retry: Optional[Callable[[], Optional[T]]] = None,
    advice: str = "run `pulumi up` again once the service recovers",
    on: type[TransientError] = TransientError,
) -> T:
    """Call ``call``, retrying ``on`` (a :class:`TransientError` kind) up to ``attempts`` calls in all,
    with exponential backoff never shorter than the service's Retry-After. ``before_retry`` runs
    before each re-send; what it returns (not None) is the result, without sending again."""
    backoff = wait_exponential(multiplier=0.5, max=max_wait)

    def wait(state) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        asked = getattr(exc, "retry_after", None) or 0.0
        return max(backoff(state), min(asked, max_wait))

    def pause(seconds: float) -> None:
        stoppable_sleep(seconds, note=f"a retry was interrupted before its next attempt; {advice}")

    started = time.monotonic()
    attempts = max(1, attempts)
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type(on),
            stop=stop_after_attempt(attempts),
            wait=wait,
            sleep=pause,
            reraise=True,
        ):
            with attempt:
                if before_retry is not None and attempt.retry_state.attempt_number > 1:
                    found = before_retry()
                    if found is not None:
                        return found
                return call()
    except on as exc:
        raise exc.with_note(f"gave up after {attempts} attempt(s) in {time.monotonic() - started:.1f} s "
                            f"(aoai-finetune:maxRetries sets how many); {advice}") from exc
    raise AssertionError("unreachable")  # pragma: no cover


def create_once(
    send: Callable[[], T],
    find_existing: Callable[[], Optional[T]],
    *,
    attempts: int,
    max_wait: float = 30.0,
) -> T:
    """:func:`retry_transient` for a create that is not idempotent: before every re-send, ask the
    service (``find_existing``) whether the previous attempt landed after all."""
    return retry_transient(send, attempts=attempts, max_wait=max_wait, before_retry=find_existing,
                           advice="run `pulumi up` again once the service recovers: an attempt that landed "
                                  "after all is found and reused, not repeated")


def while_access_propagates(call: Callable[[], T], *, timeout: float, what: str, account: str,
                            sleep: Optional[Callable[[float], None]] = None) -> T:
    """``call``, retried while the data plane refuses the credential (401/403) for at most ``timeout``
    seconds: a role assignment made moments ago (the dev stack creates "Cognitive Services OpenAI
    Contributor" in the same ``up``) takes minutes to propagate (rule A1 of docs/azure-rules.md). Then,
    or at once with ``timeout`` 0, the refusal is raised with what to check."""
    from .errors import CredentialError

    started = time.monotonic()
    pause = 2.0
    while True:
        try:
            return call()
        except CredentialError as exc:
            if getattr(exc, "status", None) not in (401, 403):
                raise
            waited = time.monotonic() - started
            if waited + pause > timeout:
                hint = (f"; still refused after {waited:.0f} s of waiting for a role assignment to propagate"
                        if timeout else "")
                raise CredentialError(
                    f"{exc}{hint}. Check that the identity running Pulumi has the role \"Cognitive Services "
                    f"OpenAI Contributor\" on account {account} (az role assignment list --scope <the account's "
                    "id>) and that the credential is the one you expect (az account show); a new assignment "
                    "takes minutes to apply: aoai-finetune:accessPropagationTimeout waits for it") from exc
            from pulumi import log

            log.info(f"{what}: the data plane refused the credential ({exc.__class__.__name__}, status "
                     f"{exc.status}); a new role assignment takes minutes to propagate: retrying in {pause:.0f} s")
            if sleep is None:
                stoppable_sleep(pause, note="nothing was created while the credential was refused")
            else:
                sleep(pause)
            pause = min(pause * 2, 30.0)
