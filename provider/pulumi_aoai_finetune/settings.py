"""Provider settings: read at run time from the stack configuration and the environment.

Nothing here is an input of a resource, so nothing here reaches the state. Keys (stack config
``aoai-finetune:<key>``, or the environment variable):

=========================  ===============================  =====================================
config key                 environment variable             meaning
=========================  ===============================  =====================================
``armEndpoint``            ``AOAI_FT_ARM_ENDPOINT``         ARM base URL (default Azure public cloud)
``credential``             ``AOAI_FT_CREDENTIAL``           ``default`` (DefaultAzureCredential) or
                                                            ``token`` (a bearer token from
                                                            ``AOAI_FT_ACCESS_TOKEN``)
``allowInsecureLoopback``  ``AOAI_FT_ALLOW_INSECURE_LOOPBACK``  ``true``: allow ``http://`` to a
                                                            loopback address (the local emulator)
``apiVersion``             ``AOAI_FT_API_VERSION``          data-plane api-version
``armApiVersion``          ``AOAI_FT_ARM_API_VERSION``      ARM api-version for deployments
``pollInterval``           ``AOAI_FT_POLL_INTERVAL``        seconds between status polls
``maxRetries``             ``AOAI_FT_MAX_RETRIES``          retries of a throttled/failed call
``tokenScope``             ``AOAI_FT_TOKEN_SCOPE``          Entra scope of data-plane tokens (default
                                                            https://cognitiveservices.azure.com/.default;
                                                            sovereign clouds have their own)
``accessPropagationTimeout``  ``AOAI_FT_ACCESS_PROPAGATION_TIMEOUT``  seconds an upload or a job create
                                                            retries 401/403 while a new role
                                                            assignment propagates (default 0)
``requestTimeout``         ``AOAI_FT_REQUEST_TIMEOUT``      seconds one HTTP call may wait for the
                                                            service before it counts as failed
                                                            (and is retried); no pause between
                                                            retries is longer
``maxRetryAfter``          ``AOAI_FT_MAX_RETRY_AFTER``      the longest Retry-After honoured (60 s)
``evalConcurrency``        ``AOAI_FT_EVAL_CONCURRENCY``     cases an evaluation has in flight at once
=========================  ===============================  =====================================

Credentials (set them with ``pulumi config set --secret``, or in the environment):

=========================  ===============================  =====================================
``apiKey``                 ``AZURE_OPENAI_API_KEY``         data-plane API key (else Entra tokens)
``accessToken``            ``AOAI_FT_ACCESS_TOKEN``         the bearer token of ``credential: token``
=========================  ===============================  =====================================

The engine hands the provider its stack config decrypted (``configure``) and keeps secret values
encrypted in the state; they are never resource inputs, never in ``repr`` or messages. A plain
(non-secret) ``config set`` of a credential would sit in clear in ``Pulumi.<stack>.yaml``: use
``--secret``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Mapping

from .errors import ConfigurationError

NAMESPACE = "aoai-finetune"
AZURE_ARM_ENDPOINT = "https://management.azure.com"
DEFAULT_API_VERSION = "2024-10-21"
DEFAULT_ARM_API_VERSION = "2025-06-01"

_KEYS = {
    # field: (config key, environment variable)
    "arm_endpoint": ("armEndpoint", "AOAI_FT_ARM_ENDPOINT"),
    "credential": ("credential", "AOAI_FT_CREDENTIAL"),
    "allow_insecure_loopback": ("allowInsecureLoopback", "AOAI_FT_ALLOW_INSECURE_LOOPBACK"),
    "api_version": ("apiVersion", "AOAI_FT_API_VERSION"),
    "arm_api_version": ("armApiVersion", "AOAI_FT_ARM_API_VERSION"),
    "poll_interval": ("pollInterval", "AOAI_FT_POLL_INTERVAL"),
    "max_retries": ("maxRetries", "AOAI_FT_MAX_RETRIES"),
    "request_timeout": ("requestTimeout", "AOAI_FT_REQUEST_TIMEOUT"),
    "max_retry_after": ("maxRetryAfter", "AOAI_FT_MAX_RETRY_AFTER"),
    "token_scope": ("tokenScope", "AOAI_FT_TOKEN_SCOPE"),
    "access_propagation_timeout": ("accessPropagationTimeout", "AOAI_FT_ACCESS_PROPAGATION_TIMEOUT"),
    "eval_concurrency": ("evalConcurrency", "AOAI_FT_EVAL_CONCURRENCY"),
    # credentials
    "api_key": ("apiKey", "AZURE_OPENAI_API_KEY"),
    "access_token": ("accessToken", "AOAI_FT_ACCESS_TOKEN"),
}
SECRET_FIELDS = ("api_key", "access_token")
CREDENTIAL_KINDS = ("default", "token")
MAX_EVAL_CONCURRENCY = 64


def credentials_in_clear(is_secret: Callable[[str], bool], value_of: Callable[[str], Any]) -> list[str]:
    """Warnings for the credentials set in stack config without ``--secret``: ``value_of(key)`` and
    ``is_secret(key)`` tell a stack config key ``aoai-finetune:<key>``'s value and whether it is secret.
    Such a value sits in clear in ``Pulumi.<stack>.yaml`` and in the state. It is never shown."""
    found = []
    for name in SECRET_FIELDS:
        key = f"{NAMESPACE}:{_KEYS[name][0]}"
        if value_of(key) not in (None, "") and not is_secret(key):
            found.append(f"{key} is set in stack config without --secret: it sits in clear in Pulumi.<stack>.yaml "
                         f"and in the state. Set it again with `pulumi config set --secret {key}` (or use the "
                         f"environment variable {_KEYS[name][1]})")
    return found


@dataclass(frozen=True)
class ProviderSettings:
    arm_endpoint: str = AZURE_ARM_ENDPOINT
    credential: str = "default"
    allow_insecure_loopback: bool = False
    api_version: str = DEFAULT_API_VERSION
    arm_api_version: str = DEFAULT_ARM_API_VERSION
    poll_interval: float = 10.0
    max_retries: int = 6
    request_timeout: float = 600.0
    #: The longest pause a service's Retry-After is honoured for (ARM and data plane; ARM operations'
    #: polls too): one answer asking for 100000 s no longer holds a preview for a day.
    max_retry_after: float = 60.0
    #: Entra scope of data-plane tokens: Azure public cloud by default; sovereign clouds have their own
    #: (Azure Government: https://cognitiveservices.azure.us/.default). Rule A2 of docs/azure-rules.md.
    token_scope: str = "https://cognitiveservices.azure.com/.default"
    #: Seconds a data-plane create retries 401/403 while a new role assignment propagates (rule A1); 0: fail
    #: at once. A stack that creates the assignment sets it (stacks/Pulumi.dev.yaml).
    access_propagation_timeout: float = 0.0
    eval_concurrency: int = 4
    # credentials: resolved per process, never shown
    api_key: str = field(default="", repr=False, compare=False)
    access_token: str = field(default="", repr=False, compare=False)

    @classmethod
    def load(cls, config: Any = None, environ: Mapping[str, str] | None = None) -> "ProviderSettings":
        """Stack config (``config.get("aoai-finetune:key")``) wins over the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, (key, env) in _KEYS.items():
            raw = None
            if config is not None:
                raw = config.get(f"{NAMESPACE}:{key}")
            if raw is None:
                raw = environ.get(env)
            if raw is None or raw == "":
                continue
            if name in SECRET_FIELDS:
                if not isinstance(raw, str):
                    raise ConfigurationError(f"{NAMESPACE}:{key} / {env} must be a string")
                if any(c.isspace() or not c.isprintable() for c in raw.strip()):
                    # a pasted key with a line break used to fail `up` after 30 s of retries as "could not
                    # reach ARM"; the value itself is never shown
                    raise ConfigurationError(f"{NAMESPACE}:{key} / {env} contains a line break, a space or another "
                                             "control character (the value is not shown): set it again, without them")
                values[name] = raw.strip()
                continue
            values[name] = _coerce(name, raw, f"{NAMESPACE}:{key} / {env}")
        settings = replace(cls(), **values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.credential not in CREDENTIAL_KINDS:
            raise ConfigurationError(
                f"{NAMESPACE}:credential is {self.credential!r}; use one of {', '.join(CREDENTIAL_KINDS)}")
        if not self.arm_endpoint.startswith(("https://", "http://")):
            raise ConfigurationError(f"{NAMESPACE}:armEndpoint {self.arm_endpoint!r} is not an http(s) URL")
        if self.arm_endpoint.startswith("http://"):  # refused at preview already, not at the first call
            from .clients import require_secure

            require_secure(self.arm_endpoint, self, f"{NAMESPACE}:armEndpoint")
        if not 0 < self.poll_interval <= 3600:  # also refuses nan and inf
            raise ConfigurationError(f"{NAMESPACE}:pollInterval must be a positive number of seconds (at most 3600)")
        if self.max_retries < 0:
            raise ConfigurationError(f"{NAMESPACE}:maxRetries must be zero or more")
        if self.max_retries > 100:
            raise ConfigurationError(f"{NAMESPACE}:maxRetries must be at most 100 (retries are bounded)")
        if not 1 <= self.eval_concurrency <= MAX_EVAL_CONCURRENCY:
            raise ConfigurationError(f"{NAMESPACE}:evalConcurrency must be from 1 to {MAX_EVAL_CONCURRENCY}")
        if not (self.token_scope.startswith("https://") and self.token_scope.endswith("/.default")):
            raise ConfigurationError(f"{NAMESPACE}:tokenScope {self.token_scope!r} must be an https scope ending in "
                                     "/.default, e.g. https://cognitiveservices.azure.us/.default")
        if not 0 <= self.access_propagation_timeout <= 3600:
            raise ConfigurationError(f"{NAMESPACE}:accessPropagationTimeout must be from 0 to 3600 seconds")
        if not 0 < self.request_timeout <= 24 * 3600:
            raise ConfigurationError(f"{NAMESPACE}:requestTimeout must be a positive number of seconds (at most a day)")
        if not 0 < self.max_retry_after <= 3600:
            raise ConfigurationError(f"{NAMESPACE}:maxRetryAfter must be a positive number of seconds (at most 3600)")


def _coerce(name: str, raw: Any, where: str) -> Any:
    kind = {f.name: f.type for f in fields(ProviderSettings)}[name]
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no"):
                return False
            raise ValueError
        if kind == "float":
            return float(raw)
        if kind == "int":
            return int(raw)
        return str(raw).strip()
    except (TypeError, ValueError):
        raise ConfigurationError(f"{where}: {raw!r} is not a valid {kind}") from None
