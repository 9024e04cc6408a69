"""ARM routes (``/subscriptions/...``): parse, call ``management``, serialize.

Every route checks ``Authorization: Bearer ...`` (401 ``AuthenticationFailed``) and then
``api-version`` (400 ``MissingApiVersionParameter`` / ``InvalidApiVersionParameter``), in that order,
as ARM does. Paths follow the 2025-06-01 spec; an unknown path under ``/subscriptions`` answers an
ARM-shaped 404.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from .. import management as mgmt
from ..errors import ServiceError

ACCOUNTS = ("/subscriptions/{subscription}/resourceGroups/{resource_group}"
            "/providers/Microsoft.CognitiveServices/accounts")
ACCOUNT = ACCOUNTS + "/{account}"
DEPLOYMENT = ACCOUNT + "/deployments/{deployment}"
OPERATION = ("/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/locations/{location}"
             "/operationResults/{operation}")


def _arm_checks(request: Request) -> str:
    """Authorization first, then api-version; returns the api-version."""
    backend = request.app.state.backend
    mgmt.check_authorization(backend, request.headers.get("authorization"))
    return mgmt.check_api_version(request.query_params.get("api-version"))


router = APIRouter()
ApiVersion = Depends(_arm_checks)


def _backend(request: Request):
    backend = request.app.state.backend
    backend.tick()
    return backend


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise ServiceError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                           "deserialized: the request body is empty.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError(400, "InvalidRequestContent",
                           f"The request content was invalid and could not be deserialized: {exc}.") from None


# -- accounts ---------------------------------------------------------------------------------
@router.get("/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/accounts")
def list_accounts_by_subscription(subscription: str, request: Request, api_version: str = ApiVersion):
    return {"value": mgmt.list_accounts(_backend(request), subscription)}


@router.get(ACCOUNTS)
def list_accounts_by_resource_group(subscription: str, resource_group: str, request: Request,
                                    api_version: str = ApiVersion):
    return {"value": mgmt.list_accounts(_backend(request), subscription, resource_group)}


@router.get(ACCOUNT)
def get_account(subscription: str, resource_group: str, account: str, request: Request,
                api_version: str = ApiVersion):
    return mgmt.get_account(_backend(request), subscription, resource_group, account)


@router.put(ACCOUNT)
async def put_account(subscription: str, resource_group: str, account: str, request: Request,
                      api_version: str = ApiVersion):
    body = await _json_body(request)
    backend = _backend(request)
    view, status, op = mgmt.put_account(backend, subscription, resource_group, account, body)
    headers = mgmt.operation_headers(backend, op, _base_url(request), api_version) if op else {}
    return JSONResponse(view, status_code=status, headers=headers)


@router.patch(ACCOUNT)
async def patch_account(subscription: str, resource_group: str, account: str, request: Request,
                        api_version: str = ApiVersion):
    body = await _json_body(request)
    return mgmt.patch_account(_backend(request), subscription, resource_group, account, body)


@router.delete(ACCOUNT)
def delete_account(subscription: str, resource_group: str, account: str, request: Request,
                   api_version: str = ApiVersion):
    existed = mgmt.delete_account(_backend(request), subscription, resource_group, account)
    return Response(status_code=200 if existed else 204)


@router.post(ACCOUNT + "/listKeys")
def list_keys(subscription: str, resource_group: str, account: str, request: Request,
              api_version: str = ApiVersion):
    return mgmt.list_keys(_backend(request), subscription, resource_group, account)


# -- deployments ------------------------------------------------------------------------------
@router.get(ACCOUNT + "/deployments")
def list_deployments(subscription: str, resource_group: str, account: str, request: Request,
                     api_version: str = ApiVersion):
    return {"value": mgmt.list_deployments(_backend(request), subscription, resource_group, account)}


@router.get(DEPLOYMENT)
def get_deployment(subscription: str, resource_group: str, account: str, deployment: str, request: Request,
                   api_version: str = ApiVersion):
    return mgmt.get_deployment(_backend(request), subscription, resource_group, account, deployment)


@router.put(DEPLOYMENT)
async def put_deployment(subscription: str, resource_group: str, account: str, deployment: str, request: Request,
                         api_version: str = ApiVersion):
    body = await _json_body(request)
    backend = _backend(request)
    view, status, op = mgmt.put_deployment(backend, subscription, resource_group, account, deployment, body,
                                           api_version=api_version)
    return JSONResponse(view, status_code=status,
                        headers=mgmt.operation_headers(backend, op, _base_url(request), api_version))


@router.patch(DEPLOYMENT)
async def patch_deployment(subscription: str, resource_group: str, account: str, deployment: str,
                           request: Request, api_version: str = ApiVersion):
    body = await _json_body(request)
    backend = _backend(request)
    _, op = mgmt.patch_deployment(backend, subscription, resource_group, account, deployment, body,
                                  api_version=api_version)
    # Deployments_Update answers 202 without a body (the 2025-06-01 spec declares no schema for it); the
    # deployment comes from the operation's Location
    return Response(status_code=202,
                    headers=mgmt.operation_headers(backend, op, _base_url(request), api_version, location=True))


@router.delete(DEPLOYMENT)
def delete_deployment(subscription: str, resource_group: str, account: str, deployment: str, request: Request,
                      api_version: str = ApiVersion):
    backend = _backend(request)
    op = mgmt.delete_deployment(backend, subscription, resource_group, account, deployment)
    if op is None:
        return Response(status_code=204)
    return Response(status_code=202,
                    headers=mgmt.operation_headers(backend, op, _base_url(request), api_version, location=True))


# -- operation status -------------------------------------------------------------------------
@router.get(OPERATION)
def operation_status(subscription: str, location: str, operation: str, request: Request,
                     api_version: str = ApiVersion):
    """The ``Azure-AsyncOperation`` resource; with ``operationResultResponseType=Location`` the
    ``Location`` semantics (202 while running, then the resource or 204, or the error)."""
    backend = _backend(request)
    op = mgmt.get_operation(backend, subscription, location, operation)
    headers = {}
    delay = mgmt.retry_after(backend, op)
    if delay:
        headers["Retry-After"] = str(delay)
    if request.query_params.get("operationResultResponseType", "").lower() != "location":
        return JSONResponse(mgmt.operation_view(op), status_code=200, headers=headers)
    if op["status"] == "InProgress":
        headers["Location"] = str(request.url)
        return Response(status_code=202, headers=headers)
    if op["status"] != "Succeeded":
        error = op.get("error") or {"code": "OperationFailed", "message": f"The operation ended {op['status']}."}
        raise ServiceError(400, error["code"], error["message"])
    target = mgmt.operation_target(backend, op)
    if target is None:
        return Response(status_code=204)
    return JSONResponse(target, status_code=200)


# -- anything else under /subscriptions ------------------------------------------------------
@router.api_route("/subscriptions/{rest:path}", methods=["GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"])
def not_served(rest: str, request: Request, api_version: str = ApiVersion):
    raise ServiceError(404, "NotFound",
                       f"The emulator does not serve {request.method} /subscriptions/{rest} (ARM: accounts, "
                       "deployments, listKeys and operation results of Microsoft.CognitiveServices).")
