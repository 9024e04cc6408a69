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


class ServiceError(AoaiFinetuneError):
    """The service answered with an error. ``status`` and ``code`` are the service's."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 operation: str | None = None) -> None:
        self.status = status
        self.code = code
        self.operation = operation
        where = f"{operation}: " if operation else ""
        tag = f" [{status}{' ' + code if code else ''}]" if status else ""
        super().__init__(f"{where}{message}{tag}")
        self.service_message = message


class NotFoundError(ServiceError):
    """The object does not exist (any more)."""


class ConflictError(ServiceError):
    """The service refused because of the state of another object (409)."""


class TransientError(ServiceError):
    """Throttling, a server error or a broken connection, still failing after the retries."""


class TrainingFailedError(AoaiFinetuneError):
    """A fine-tuning job ended failed or cancelled; the message is the service's."""


class FileProcessingError(AoaiFinetuneError):
    """The service could not process an uploaded or imported file (its ``status_details``)."""


class DeploymentFailedError(AoaiFinetuneError):
    """A deployment ended in a provisioning state other than Succeeded."""


class WaitTimeoutError(AoaiFinetuneError):
    """Waiting for a job, file or deployment took longer than the timeout the user set."""
