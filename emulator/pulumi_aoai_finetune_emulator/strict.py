"""Strict contract mode: every request checked against the official spec of the api-version it names.

An ASGI middleware (inside the fault middleware, so injected faults and the request log stay as they
are). With ``EmulatorConfig.strict_contract`` (the environment variable ``AOAI_EMULATOR_STRICT_CONTRACT=1``,
which the test suite sets, or ``aoai-ft emulator --strict-contract``):

- a request naming an api-version the emulator has no spec of, an operation that spec does not have, a
  query parameter it does not declare, a missing required parameter, or a JSON body that does not
  validate (:meth:`.contract.Contract.check_request`) is answered **400**
  ``{"error": {"code": "EmulatorStrictContract", "message": ...}}`` naming each problem, and never
  reaches the emulator's behaviour;
- multipart bodies are not read here (uploads stream); the route that reads the form checks its fields
  (:func:`check_form`);
- every JSON answer is checked against the operation's response schema; an answer that breaks it is
  replaced by a **500** ``EmulatorContractViolation`` naming the problem, so a test sees the emulator's
  own drift at once.

Every problem is also kept in ``backend.contract_violations``. Exempt (see :data:`.contract.EXEMPT`):
the ``/_emulator`` controls and ARM operation-status URLs; inference requests are checked against the
inference spec of 2024-10-21, the only one copied (other api-versions pass unchecked).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from . import contract
from .errors import ServiceError

_suspended = [0]


@contextlib.contextmanager
def suspended():
    """Tests that drive an in-process emulator outside the contract on purpose (to see how it answers
    a request Azure's spec does not define) suspend the checks for their duration."""
    _suspended[0] += 1
    try:
        yield
    finally:
        _suspended[0] -= 1


CODE_REQUEST = "EmulatorStrictContract"
CODE_RESPONSE = "EmulatorContractViolation"
STATE_KEY = "aoai_contract"
MAX_CHECKED_BODY = 8 * 1024 * 1024


def _error(status: int, code: str, message: str) -> tuple[dict, bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    return start, body


class StrictContractMiddleware:
    def __init__(self, app, backend) -> None:
        self.app = app
        self.backend = backend
        if not hasattr(backend, "contract_violations"):
            backend.contract_violations = []

    def _record(self, kind: str, method: str, path: str, problems) -> str:
        text = "; ".join(str(p) for p in problems)
        self.backend.contract_violations.append({"kind": kind, "method": method, "path": path, "problems": text})
        return text

    async def _answer(self, send, status: int, code: str, message: str) -> None:
        start, body = _error(status, code, message)
        await send(start)
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _suspended[0] or contract.is_exempt(scope["path"]):
            return await self.app(scope, receive, send)
        split = contract.split_path(scope["path"])
        if split is None:
            return await self.app(scope, receive, send)
        plane, spec_path = split
        method = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        version = contract.api_version_of(query)
        if (plane, version) in contract.UNCHECKED:
            return await self.app(scope, receive, send)
        found = contract.contract(plane, version) if version else None
        if found is None and plane == "inference" and version and contract.INFERENCE_UNCHECKED_OTHER_VERSIONS:
            return await self.app(scope, receive, send)  # no copied inference spec of that api-version
        if found is None:
            have = ", ".join(v for p, v in contract.SPECS if p == plane)
            message = (f"strict contract mode: no {plane}-plane spec of api-version {version!r} "
                       f"(the emulator has {have})")
            self._record("request", method, scope["path"], [message])
            return await self._answer(send, 400, CODE_REQUEST, message)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        content_type = headers.get("content-type", "")
        scope.setdefault("state", {})[STATE_KEY] = (found, spec_path, query)
        if content_type.startswith("multipart/"):
            problems = found.check_request(method, spec_path, query, None, content_type, form=None)
            problems = [p for p in problems if p.where != "body"]
            downstream_receive = receive
        else:
            chunks, more = [], True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            raw = b"".join(chunks)
            body: Any = None
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None  # not JSON: the route answers that in Azure's words
            problems = found.check_request(method, spec_path, query, body, content_type)
            replayed = [False]

            async def downstream_receive():
                if not replayed[0]:
                    replayed[0] = True
                    return {"type": "http.request", "body": raw, "more_body": False}
                return await receive()
        if problems:
            text = self._record("request", method, scope["path"], problems)
            return await self._answer(send, 400, CODE_REQUEST,
                                      f"strict contract mode ({found.spec_file}): {text}")
        await self.app(scope, downstream_receive, self._checking_send(send, found, method, spec_path, scope["path"]))

    def _checking_send(self, send, found, method: str, spec_path: str, path: str):
        held: list[dict] = []
        state = {"json": False, "status": 200, "passthrough": False}

        async def checking_send(message):
            if state["passthrough"]:
                return await send(message)
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                ctype = dict((k.decode("latin-1").lower(), v.decode("latin-1"))
                             for k, v in message.get("headers", [])).get("content-type", "")
                state["json"] = "json" in ctype
                if not state["json"]:
                    state["passthrough"] = True
                    return await send(message)
                held.append(message)
                return
            held.append(message)
            if message.get("more_body", False):
                if sum(len(m.get("body", b"")) for m in held[1:]) > MAX_CHECKED_BODY:
                    state["passthrough"] = True
                    for m in held:
                        await send(m)
                    held.clear()
                return
            raw = b"".join(m.get("body", b"") for m in held[1:])
            try:
                payload = json.loads(raw) if raw.strip() else None
            except ValueError:
                payload = raw.decode("utf-8", "replace")
            problems = found.check_response(method, spec_path, state["status"], payload)
            if problems:
                text = self._record("response", method, path, problems)
                return await self._answer(send, 500, CODE_RESPONSE,
                                          f"the emulator's answer {state['status']} breaks {found.spec_file}: {text}")
            for m in held:
                await send(m)

        return checking_send


def check_form(request, fields: dict[str, Any]) -> None:
    """For a route that reads a multipart body: its fields against the contract (strict mode only)."""
    state = request.scope.get("state", {}).get(STATE_KEY)
    if state is None or _suspended[0]:
        return
    found, spec_path, query = state
    problems = found.check_request(request.method, spec_path, query, None, "multipart/form-data", form=fields)
    if problems:
        backend = request.app.state.backend
        text = "; ".join(str(p) for p in problems)
        getattr(backend, "contract_violations", []).append(
            {"kind": "request", "method": request.method, "path": request.url.path, "problems": text})
        raise ServiceError(400, CODE_REQUEST, f"strict contract mode ({found.spec_file}): {text}")
