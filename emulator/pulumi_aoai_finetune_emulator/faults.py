"""Fault injection and the request log (``/_emulator/faults``, ``/_emulator/requests``).

A pure ASGI middleware: every request is logged (method, path, status, emulator time); a request
matching an armed fault rule gets the injected status (with Azure's error shape and an optional
``Retry-After``), a delay, or a dropped connection (the response starts, then the connection is
closed before the body completes, which clients see as a broken connection).

By default a fault replaces the request: the service never sees it. With ``"after_handler": true``
the request is served first (a create really happens) and the fault applies to the answer only: a
dropped connection, an injected status, or (``delay_seconds`` alone) an answer held back past the
client's timeout -- the lost-response cases a client must not turn into a second create. The log
entry then also has ``served``, the status the service answered.

``"fail_operation": true`` is not an HTTP fault: the matching ARM PUT of a deployment is answered
normally, but its long-running operation ends ``Failed`` and the deployment's provisioningState
with it (``management.py`` asks :meth:`Faults.take_operation` when it starts the operation).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

CONTROL_PREFIX = "/_emulator"
MAX_LOG = 200_000


@dataclass
class FaultRule:
    path_regex: str
    method: str | None = None  # None: any method
    status: int | None = None
    times: int | None = 1  # None: forever
    retry_after: float | None = None
    drop_connection: bool = False
    delay_seconds: float = 0.0
    code: str | None = None
    message: str | None = None
    after_handler: bool = False  # serve the request, then apply the fault to its answer
    fail_operation: bool = False  # the ARM operation the request starts ends Failed
    id: int = 0
    hits: int = 0
    _pattern: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path_regex)
        if self.fail_operation:
            if self.status is not None or self.drop_connection or self.delay_seconds or self.after_handler:
                raise ValueError("fail_operation does not combine with HTTP faults")
        elif self.status is None and not self.drop_connection and not self.delay_seconds:
            raise ValueError("a fault needs status, drop_connection, delay_seconds or fail_operation")

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return bool(self._pattern.search(path))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "method": self.method, "path_regex": self.path_regex, "status": self.status,
            "times": self.times, "retry_after": self.retry_after, "drop_connection": self.drop_connection,
            "delay_seconds": self.delay_seconds, "after_handler": self.after_handler,
            "fail_operation": self.fail_operation, "hits": self.hits,
        }


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.log: list[dict[str, Any]] = []
        self._next_id = 1

    def add(self, spec: dict[str, Any]) -> FaultRule:
        allowed = {"method", "path_regex", "status", "times", "retry_after", "drop_connection",
                   "delay_seconds", "code", "message", "after_handler", "fail_operation"}
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "path_regex" not in spec:
            raise ValueError("path_regex is required")
        rule = FaultRule(**spec)
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def take(self, method: str, path: str, *, operation: bool = False) -> FaultRule | None:
        """The first armed rule for this request (``operation``: a ``fail_operation`` rule), counted."""
        with self._lock:
            for rule in self.rules:
                if rule.fail_operation == operation and rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def take_operation(self, method: str, path: str) -> FaultRule | None:
        return self.take(method, path, operation=True)

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.log.append(entry)
            if len(self.log) > MAX_LOG:
                del self.log[: len(self.log) - MAX_LOG]

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.log)

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()


class FaultMiddleware:
    def __init__(self, app, faults: Faults, clock) -> None:
        self.app = app
        self.faults = faults
        self.clock = clock

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        control = path.startswith(CONTROL_PREFIX)
        entry = {"method": method, "path": path, "query": scope.get("query_string", b"").decode("latin-1"),
                 "status": None, "time": self.clock.now(), "real_time": time.time(), "fault": None}
        rule = None if control else self.faults.take(method, path)
        if rule is not None:
            entry["fault"] = rule.id
            if rule.after_handler:
                return await self._after_handler(rule, entry, scope, receive, send)
            if rule.delay_seconds:
                await asyncio.sleep(rule.delay_seconds)
            if rule.drop_connection or rule.status is not None:
                return await self._inject(rule, entry, send)

        async def logging_send(message):
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            if not control:
                self.faults.record(entry)

    async def _after_handler(self, rule: FaultRule, entry: dict, scope, receive, send) -> None:
        """Serve the request (its effect happens), hold its answer, then apply the fault to it."""
        answer: list[dict] = []

        async def hold(message):
            if message["type"] == "http.response.start":
                entry["served"] = entry["status"] = message["status"]
            answer.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            self.faults.record(entry)
            raise
        if rule.delay_seconds:
            await asyncio.sleep(rule.delay_seconds)
        if rule.drop_connection or rule.status is not None:
            return await self._inject(rule, entry, send)
        self.faults.record(entry)
        for message in answer:  # a late answer; a client that gave up no longer reads it
            await send(message)

    async def _inject(self, rule: FaultRule, entry: dict, send) -> None:
        if rule.drop_connection:
            entry["status"] = "dropped"
            self.faults.record(entry)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
            raise ConnectionAbortedError("emulator fault: connection dropped")
        entry["status"] = rule.status
        self.faults.record(entry)
        body = json.dumps({"error": {
            "code": rule.code or _default_code(rule.status),
            "message": rule.message or f"Injected fault: HTTP {rule.status}.",
        }}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"x-ms-emulator-fault", str(rule.id).encode())]
        if rule.retry_after is not None:
            headers.append((b"retry-after", str(int(rule.retry_after) if float(rule.retry_after).is_integer() else rule.retry_after).encode()))
        await send({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _default_code(status: int) -> str:
    return {429: "tooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable",
            409: "conflict", 404: "notFound", 400: "invalidPayload", 401: "401"}.get(status, "error")
