"""One error hierarchy for the provider. Messages say what went wrong, where, and what to do.

SDK and HTTP errors (openai, azure-core) are mapped to these in one place, :mod:`.clients`, with
``raise ... from`` so the original stays attached. Credentials never appear in a message: the
mapping keeps only the service's error code and message.
"""

from __future__ import annotations


class AoaiFinetuneError(Exception):
    """Base of every error the provider raises."""


class ConfigurationError(AoaiFinetuneError):
    """Provider settings or resource inputs are wrong (reported at preview where possible)."""


class CredentialError(AoaiFinetuneError):
    """No usable credential was found, or the service refused it."""


class CrossTenantError(CredentialError):
    """ARM refused the token because the resource lives in another tenant (cross-tenant access needs a
    second, auxiliary token, which the provider does not send)."""


class ServiceError(AoaiFinetuneError):
    """The service answered with an error. ``status`` and ``code`` are the service's."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 operation: str | None = None, retry_after: float | None = None) -> None:
        self.status = status
        self.code = code
        self.operation = operation
        self.retry_after = retry_after  # seconds the service asked to wait (Retry-After), if it did
        where = f"{operation}: " if operation else ""
        tag = f" [{status}{' ' + code if code else ''}]" if status else ""
        super().__init__(f"{where}{message}{tag}")
        self.service_message = message

    def with_note(self, note: str) -> "ServiceError":
        """The same error, with ``note`` (e.g. how many attempts were made) after its message."""
        err = type(self)(self.service_message, status=self.status, code=self.code, operation=self.operation,
                         retry_after=self.retry_after)
        err.args = (f"{self}; {note}",)
        return err


class NotFoundError(ServiceError):
    """The object does not exist (any more)."""


class ConflictError(ServiceError):
    """The service refused because of the state of another object (409)."""


class TransientError(ServiceError):
    """Throttling, a server error or a broken connection, still failing after the retries."""


class BrokenResponseError(TransientError):
    """The connection broke inside an answer that the SDK reads outside its own retries (the first
    response of an ARM long-running operation): safe to retry the idempotent call once more."""


class TrainingFailedError(AoaiFinetuneError):
    """A fine-tuning job ended failed or cancelled; the message is the service's."""


class TrainingPausedError(AoaiFinetuneError):
    """The service paused a fine-tuning job by itself (e.g. reinforcement fine-tuning at its cost ceiling)."""


class FileProcessingError(AoaiFinetuneError):
    """The service could not process an uploaded or imported file (its ``status_details``)."""


class DeploymentFailedError(AoaiFinetuneError):
    """A deployment ended in a provisioning state other than Succeeded."""


class WaitTimeoutError(AoaiFinetuneError):
    """Waiting for a job, file or deployment took longer than the timeout the user set."""


class WaitInterrupted(AoaiFinetuneError):
    """A wait was stopped on request (Ctrl-C in Terraform or OpenTofu) before its object was done.
    The object goes on in the service; ``object_id`` names it (None if it was not known yet)."""

    def __init__(self, message: str, object_id: str | None = None) -> None:
        super().__init__(message)
        self.object_id = object_id
