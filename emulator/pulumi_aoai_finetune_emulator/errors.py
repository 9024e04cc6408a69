"""Errors shaped as Azure shapes them.

Both planes answer ``{"error": {"code", "message", "target"?, "details"?, "innererror"?}}``
(data plane: the ``Error`` definition of the authoring spec; ARM: ``ErrorResponse`` of the common
types). Routes raise :class:`ServiceError`; one exception handler serializes it.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        innererror: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.innererror = innererror
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            err["target"] = self.target
        if self.details is not None:
            err["details"] = self.details
        if self.innererror is not None:
            err["innererror"] = self.innererror
        return {"error": err}


# Constructors named after the codes the service uses.
def not_found(message: str, *, target: str | None = None) -> ServiceError:
    return ServiceError(404, "notFound", message, target=target)


def invalid_payload(message: str, *, target: str | None = None) -> ServiceError:
    return ServiceError(400, "invalidPayload", message, target=target)


def conflict(message: str, *, target: str | None = None) -> ServiceError:
    return ServiceError(409, "conflict", message, target=target)


def unauthorized(message: str = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.") -> ServiceError:
    return ServiceError(401, "401", message)


# ARM codes
def arm_not_found(resource_type: str, name: str, resource_group: str) -> ServiceError:
    return ServiceError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def arm_bad_request(code: str, message: str, *, target: str | None = None) -> ServiceError:
    return ServiceError(400, code, message, target=target)


def arm_concurrent_operation() -> ServiceError:
    # The message Azure returns when two operations hit one account at once.
    return ServiceError(
        409,
        "RequestConflict",
        "Another operation is being performed on the parent resource. Please try again later.",
    )


def arm_unauthorized() -> ServiceError:
    return ServiceError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing or is not a Bearer token.",
    )
