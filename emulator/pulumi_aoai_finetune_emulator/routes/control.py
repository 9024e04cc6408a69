"""``/_emulator/``: controls that are not part of Azure's API (health, reset, clock, faults, log)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..errors import ServiceError

router = APIRouter(prefix="/_emulator")


def _backend(request: Request):
    return request.app.state.backend


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    b = _backend(request)
    return {"status": "ok", "time": b.now(), "time_scale": b.clock.time_scale,
            "accounts": sorted(b.store["accounts"])}


@router.post("/reset")
def reset(request: Request) -> dict[str, Any]:
    _backend(request).reset()
    return {"status": "reset"}


@router.post("/access")
async def deny_access(request: Request) -> dict[str, Any]:
    """``{"account": NAME, "deny_seconds": N}``: the account's data plane answers 403 ``PermissionDenied``
    for the next N emulator seconds, as Azure does while a new role assignment propagates (rule A1)."""
    body = await request.json()
    backend = _backend(request)
    name, seconds = body.get("account"), body.get("deny_seconds")
    if backend.account(name) is None or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ServiceError(400, "invalidPayload", "give an existing account and deny_seconds >= 0")
    until = backend.now() + float(seconds)
    backend.access_denied_until[name] = until
    return {"account": name, "denied_until": until}


@router.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    b = _backend(request)
    return {"time": b.now(), "time_scale": b.clock.time_scale, "frozen": b.clock.frozen}


@router.post("/clock")
async def set_clock(request: Request) -> dict[str, Any]:
    """``{"advance_seconds": N}`` moves the clock forward; ``{"frozen": true|false}`` stops or restarts it."""
    body = await request.json()
    if not isinstance(body, dict) or not ({"advance_seconds", "frozen"} & body.keys()):
        raise ServiceError(400, "invalidPayload", "give advance_seconds (a non-negative number) or frozen",
                           target="advance_seconds")
    seconds = body.get("advance_seconds", 0)
    try:
        seconds = float(seconds)
        if seconds < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise ServiceError(400, "invalidPayload", "advance_seconds must be a non-negative number",
                           target="advance_seconds") from None
    frozen = body.get("frozen")
    if frozen is not None and not isinstance(frozen, bool):
        raise ServiceError(400, "invalidPayload", "frozen must be true or false", target="frozen")
    b = _backend(request)
    if frozen is not None:
        b.freeze_clock(frozen)
    return {"time": b.advance_clock(seconds), "time_scale": b.clock.time_scale, "frozen": b.clock.frozen}


@router.get("/faults")
def list_faults(request: Request) -> dict[str, Any]:
    return {"data": [r.to_dict() for r in _backend(request).faults.rules]}


@router.post("/faults", status_code=201)
async def add_fault(request: Request) -> dict[str, Any]:
    body = await request.json()
    try:
        rule = _backend(request).faults.add(body)
    except (TypeError, ValueError) as exc:
        raise ServiceError(400, "invalidPayload", str(exc)) from None
    return rule.to_dict()


@router.delete("/faults", status_code=204)
def clear_faults(request: Request) -> None:
    _backend(request).faults.clear()


@router.get("/requests")
def requests_log(request: Request) -> dict[str, Any]:
    return {"data": _backend(request).faults.requests()}


@router.delete("/requests", status_code=204)
def clear_requests(request: Request) -> None:
    _backend(request).faults.clear_log()
