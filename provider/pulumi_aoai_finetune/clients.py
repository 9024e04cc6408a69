"""The only place that builds SDK clients and maps their errors.

- Data plane: the real ``openai.AzureOpenAI`` client (api key from the secret config
  ``aoai-finetune:apiKey`` or ``AZURE_OPENAI_API_KEY``, else Entra tokens from the configured
  credential).
- Management plane: the real ARM client ``azure.mgmt.cognitiveservices.CognitiveServicesManagementClient``.
- Credentials: ``azure.identity.DefaultAzureCredential`` by default, or a static bearer token from
  ``aoai-finetune:accessToken`` / ``AOAI_FT_ACCESS_TOKEN``. Built per process, never stored on a
  provider object or in state.

Plain ``http://`` is refused unless the target is a loopback address *and* the explicit setting
``allowInsecureLoopback`` is on (the local emulator); certificate verification is never turned off.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sys
import threading
import time
from typing import Any, Iterator
from urllib.parse import urlparse

from . import errors
from .account import AccountRef
from .settings import ProviderSettings

COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"
#: ARM's code for a token of another tenant than the subscription's (rule A3 of docs/azure-rules.md).
CROSS_TENANT_CODE = "InvalidAuthenticationTokenTenant"
API_KEY_ENV = "AZURE_OPENAI_API_KEY"
TOKEN_ENV = "AOAI_FT_ACCESS_TOKEN"

_lock = threading.Lock()
_credentials: dict[tuple, Any] = {}
_endpoints: dict[str, str] = {}
_account_reads: dict[str, Any] = {}  # accounts this process read from ARM, by key
_sdk_lock = threading.Lock()
_sdk_loaded = False


def load_sdks() -> None:
    """Import the SDKs the clients use, once, one thread at a time.

    The provider serves calls from many threads. First imports racing in several of them can hand
    one thread a half-initialised module (Python breaks import-lock cycles that way), and the
    openai SDK reads ``sys.modules["httpx"]`` without importing it, so an import of httpx under way
    in one thread broke a request in another (``partially initialized module 'httpx'``). Everything
    a client call needs is imported here first; nothing is imported lazily during a call."""
    global _sdk_loaded
    if _sdk_loaded:
        return
    with _sdk_lock:
        if _sdk_loaded:
            return
        import azure.core.credentials  # noqa: F401
        import azure.core.exceptions  # noqa: F401
        import azure.core.pipeline.policies  # noqa: F401
        import azure.core.pipeline.transport  # noqa: F401
        import azure.identity  # noqa: F401
        import azure.mgmt.cognitiveservices  # noqa: F401
        import azure.mgmt.cognitiveservices.models  # noqa: F401
        import openai  # noqa: F401

        _sdk_loaded = True


# -- bounded retries -----------------------------------------------------------------------
# The SDKs retry throttled and failed calls themselves, honouring Retry-After: azure-core for as long as
# ARM asks (one answer with "Retry-After: 100000" held a preview for more than ten minutes, deaf to
# SIGTERM), the openai SDK up to two minutes, and both in a plain time.sleep. Here no pause is longer
# than ``maxRetryAfter`` nor ``requestTimeout`` (an attempt is bounded by requestTimeout already), and
# every pause ends within a fraction of a second of a stop request (:func:`._wait.request_stop`). A
# throttled call still failing after ``maxRetries`` retries ends in an error naming it and saying what
# the service asked for (:func:`_throttled`).
_bounded: dict[tuple, Any] = {}


def _bounded_sdk_classes(cap: float) -> dict[str, Any]:
    """The SDK classes whose retry pauses are bounded by ``cap`` seconds and stoppable (made once per
    cap, after :func:`load_sdks`): ``retry`` (azure-core's RetryPolicy), ``transport`` (whose sleep the
    ARM operations' polls use, Retry-After included) and ``openai`` (AzureOpenAI)."""
    with _lock:
        found = _bounded.get(cap)
    if found is not None:
        return found
    from azure.core.pipeline.policies import RetryPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from openai import AzureOpenAI

    from . import _wait

    class BoundedRetryPolicy(RetryPolicy):
        def sleep(self, settings, transport, response=None):
            asked = self.get_retry_after(response) if response is not None else None
            _wait.stoppable_sleep(min(asked if asked else self.get_backoff_time(settings), cap),
                                  note="a call to ARM was waiting to be retried; nothing more was sent")

    class BoundedTransport(RequestsTransport):
        def sleep(self, duration):  # an ARM operation's poll interval (its Retry-After)
            _wait.stoppable_sleep(min(float(duration), cap), note="an ARM operation goes on in Azure")

    class BoundedAzureOpenAI(AzureOpenAI):
        def _sleep_for_retry(self, *, retries_taken, max_retries, options, response):  # the SDK's hook
            headers = response.headers if response is not None else None
            pause = self._calculate_retry_timeout(max_retries - retries_taken, options, headers)
            _wait.stoppable_sleep(min(pause, cap), note="a call to the data plane was waiting to be retried; "
                                                        "nothing more was sent")

    made = {"retry": BoundedRetryPolicy, "transport": BoundedTransport, "openai": BoundedAzureOpenAI}
    with _lock:
        return _bounded.setdefault(cap, made)


def _pause_cap(settings: ProviderSettings) -> float:
    return min(settings.max_retry_after, settings.request_timeout)


def _throttled(exc: errors.ServiceError) -> errors.ServiceError:
    """A throttled call that is still refused after the retries: say so, with what the service asked."""
    if exc.status != 429:
        return exc
    asked = f" and asked to wait {exc.retry_after:,.0f} s" if exc.retry_after else ""
    return exc.with_note(f"throttled: the service kept answering 429{asked} (a pause is at most "
                         "aoai-finetune:maxRetryAfter; aoai-finetune:maxRetries sets how many retries)")


# -- credentials ---------------------------------------------------------------------------
class StaticTokenCredential:
    """A TokenCredential over a bearer token taken from the environment (e.g. the emulator, or a
    token from ``az account get-access-token``)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def __repr__(self) -> str:  # never show the token
        return "StaticTokenCredential(<redacted>)"


def credential(settings: ProviderSettings):
    """The credential for both planes (its callers, :func:`arm` and :func:`data_plane`, loaded the SDKs)."""
    token = (settings.access_token or os.environ.get(TOKEN_ENV, "")).strip() if settings.credential == "token" else ""
    key = (settings.credential, token)
    with _lock:
        cred = _credentials.get(key)
        if cred is None:
            if settings.credential == "token":
                if not token:
                    raise errors.CredentialError(
                        f"credential 'token' needs a bearer token: the secret config aoai-finetune:accessToken "
                        f"or the environment variable {TOKEN_ENV}")
                cred = StaticTokenCredential(token)
            else:
                from azure.identity import DefaultAzureCredential

                cred = DefaultAzureCredential(exclude_interactive_browser_credential=True)
            _credentials[key] = cred
        return cred


# -- transport security ---------------------------------------------------------------------
def is_loopback(url: str) -> bool:
    host = (urlparse(url).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """A URL fit for messages: without its query (an Azure Blob SAS token lives there), fragment and
    user info."""
    try:
        parts = urlparse(url)
    except ValueError:
        return "<a malformed URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    shown = parts._replace(netloc=netloc, query="", fragment="").geturl()
    return shown + ("?..." if parts.query else "")


def require_secure(url: str, settings: ProviderSettings, what: str) -> None:
    scheme = urlparse(url).scheme
    if scheme == "https":
        return
    if scheme == "http" and is_loopback(url) and settings.allow_insecure_loopback:
        return
    if scheme == "http" and is_loopback(url):
        raise errors.ConfigurationError(
            f"{what} {redact_url(url)} is plain http; set aoai-finetune:allowInsecureLoopback=true to talk to a "
            "local emulator")
    raise errors.ConfigurationError(
        f"{what} {redact_url(url)} must be https (plain http is only allowed for loopback emulators)")


def _loopback_bearer_policy(cred, scope: str):
    """A policy adding the bearer token for a plain-http loopback ARM endpoint. azure-core's bearer
    policy refuses non-TLS URLs, rightly; this one is used only where require_secure allowed it."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class LoopbackBearerPolicy(SansIOHTTPPolicy):
        def on_request(self, request) -> None:
            request.http_request.headers["Authorization"] = f"Bearer {cred.get_token(scope).token}"

    return LoopbackBearerPolicy()


# -- clients ---------------------------------------------------------------------------------
def arm(settings: ProviderSettings, subscription_id: str, *, api_version: str | None = None):
    """The ARM client; ``api_version`` overrides the configured one (e.g. the developer-tier sku needs a newer one)."""
    load_sdks()
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

    base = settings.arm_endpoint.rstrip("/")
    require_secure(base, settings, "ARM endpoint")
    cred = credential(settings)
    bounded = _bounded_sdk_classes(_pause_cap(settings))
    kwargs: dict[str, Any] = dict(
        base_url=base,
        api_version=api_version or settings.arm_api_version,
        polling_interval=settings.poll_interval,
        # azure-core caps connection, read and status retries at 3 each unless told: maxRetries bounds all
        retry_policy=bounded["retry"](
            retry_total=settings.max_retries, retry_connect=settings.max_retries, retry_read=settings.max_retries,
            retry_status=settings.max_retries, retry_backoff_factor=min(0.8, settings.poll_interval),
            retry_backoff_max=60),
        transport=bounded["transport"](connection_timeout=min(60.0, settings.request_timeout),
                                       read_timeout=settings.request_timeout),
    )
    scope = base + "/.default"
    if base.startswith("https://"):
        kwargs["credential_scopes"] = [scope]
    else:
        kwargs["authentication_policy"] = _loopback_bearer_policy(cred, scope)
    return CognitiveServicesManagementClient(cred, subscription_id, **kwargs)


def endpoint(settings: ProviderSettings, account: AccountRef) -> str:
    """The account's data-plane endpoint: given, or read from ARM (cached per process)."""
    if account.endpoint:
        return account.endpoint
    with _lock:
        cached = _endpoints.get(account.key)
    if cached:
        return cached
    with arm_errors(f"reading account {account.name}"):
        acct = arm(settings, account.subscription_id).accounts.get(account.resource_group, account.name)
    with _lock:
        _account_reads[account.key] = acct  # the preview checks' read of it (availability.read_account)
    found = getattr(acct.properties, "endpoint", None) if acct.properties else None
    if not found:
        raise errors.ConfigurationError(
            f"account {account.name} has no data-plane endpoint in ARM (properties.endpoint); give account.endpoint")
    with _lock:
        _endpoints[account.key] = found
    return found


def remember_account(account: AccountRef, acct: Any) -> None:
    """An ARM read of the account made elsewhere (a preview check): its endpoint is not read again."""
    found = getattr(acct.properties, "endpoint", None) if getattr(acct, "properties", None) else None
    with _lock:
        _account_reads.setdefault(account.key, acct)
        if found:
            _endpoints.setdefault(account.key, found)


def account_read(account: AccountRef) -> Any:
    """The account as this process last read it from ARM, or None."""
    with _lock:
        return _account_reads.get(account.key)


def data_plane(settings: ProviderSettings, account: AccountRef, *, api_version: str | None = None,
               timeout: float | None = None):
    load_sdks()
    AzureOpenAI = _bounded_sdk_classes(_pause_cap(settings))["openai"]

    url = endpoint(settings, account)
    require_secure(url, settings, f"endpoint of account {account.name}")
    common: dict[str, Any] = dict(
        azure_endpoint=url,
        api_version=api_version or settings.api_version,
        max_retries=settings.max_retries,
        timeout=settings.request_timeout if timeout is None else timeout,
    )
    key = (settings.api_key or os.environ.get(API_KEY_ENV, "")).strip()
    if key:
        return AzureOpenAI(api_key=key, **common)
    cred = credential(settings)
    scope = settings.token_scope or COGNITIVE_SCOPE  # configurable for sovereign clouds (rule A2)
    return AzureOpenAI(azure_ad_token_provider=lambda: cred.get_token(scope).token, **common)


# -- listings ------------------------------------------------------------------------------
#: Pages a listing walk reads at most (each is bounded by the ``limit`` the caller asked for).
MAX_PAGES = 20


def first_page(page) -> list:
    """The items of one page, without asking for another. For listings whose api-version has no paging:
    ``Files_List`` of data-plane 2024-10-21 takes only ``purpose`` and answers ``{object, data}`` without
    ``has_more``, so the SDK, seeing no ``has_more: false``, would ask again with ``after=<last id>`` --
    which that version ignores -- for ever (rule L1 of docs/azure-rules.md)."""
    return list(page.data or [])


def walk(page, *, max_items: int) -> Iterator[Any]:
    """The items of an SDK listing, page by page, bounded: at most ``max_items`` items and
    :data:`MAX_PAGES` pages, and it stops as soon as a page brings no item not seen before (a service
    that does not honour ``after`` answers the same page again). Callers map errors
    (:func:`openai_errors`) around the whole walk: a next page is a request too."""
    seen: set[Any] = set()
    count = 0
    for number in range(1, MAX_PAGES + 1):
        fresh = False
        for item in page.data or []:
            key = getattr(item, "id", None)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            fresh = True
            yield item
            count += 1
            if count >= max_items:
                return
        if not fresh or number == MAX_PAGES or not page.has_next_page():
            return
        page = page.get_next_page()


# -- error mapping --------------------------------------------------------------------------
def _service_message(body: Any, fallback: str) -> tuple[str, str | None]:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or fallback), (str(err["code"]) if err.get("code") else None)
    return fallback, None


@contextlib.contextmanager
def openai_errors(operation: str) -> Iterator[None]:
    """Map openai SDK exceptions raised inside the block to :mod:`.errors`."""
    load_sdks()
    import openai

    try:
        yield
    except openai.APIStatusError as exc:
        message, code = _service_message(exc.body, exc.message)
        status = exc.status_code
        cls: type[errors.ServiceError] = errors.ServiceError
        if status == 404:
            cls = errors.NotFoundError
        elif status == 409:
            cls = errors.ConflictError
        elif status in (401, 403):
            refused = errors.CredentialError(f"{operation}: the service refused the credential [{status}]: {message}")
            refused.status = status
            raise refused from exc
        elif status == 429 or status >= 500:
            cls = errors.TransientError
        raise _throttled(cls(message, status=status, code=code, operation=operation,
                             retry_after=retry_after_seconds(exc.response.headers))) from exc
    except openai.APITimeoutError as exc:
        raise errors.TransientError("the request timed out (after retries)", operation=operation) from exc
    except openai.APIConnectionError as exc:
        _raise_if_tls(exc, operation)
        raise errors.TransientError(f"could not reach the service (after retries): {exc.__class__.__name__}",
                                    operation=operation) from exc
    except _transport_errors() as exc:  # a body cut off while the SDK parses it, outside its own retries
        _raise_if_tls(exc, operation)
        raise errors.TransientError(f"the connection broke inside the answer ({exc.__class__.__name__})",
                                    operation=operation) from exc


def _transport_errors() -> tuple[type[BaseException], ...]:
    """httpx's transport errors (the openai SDK's HTTP client: httpx2, or httpx in older SDKs).

    Read from the modules the SDK has loaded, never imported here: see :func:`load_sdks`."""
    found = []
    for name in ("httpx2", "httpx"):
        error = getattr(sys.modules.get(name), "TransportError", None)
        if isinstance(error, type) and issubclass(error, BaseException):
            found.append(error)
    return tuple(found)


@contextlib.contextmanager
def arm_errors(operation: str) -> Iterator[None]:
    """Map azure-core exceptions raised inside the block to :mod:`.errors`."""
    load_sdks()
    from azure.core import exceptions as az

    try:
        yield
    except az.ClientAuthenticationError as exc:
        if _azure_code(exc) == CROSS_TENANT_CODE:
            raise errors.CrossTenantError(f"{operation}: {_azure_message(exc)}") from exc
        raise errors.CredentialError(f"{operation}: authentication failed: {_azure_message(exc)}") from exc
    except az.ResourceNotFoundError as exc:
        raise errors.NotFoundError(_azure_message(exc), status=404, code=_azure_code(exc), operation=operation) from exc
    except az.IncompleteReadError as exc:  # the connection broke inside an answer (read outside the SDK's retries)
        raise errors.BrokenResponseError("the connection broke while reading ARM's answer", operation=operation) from exc
    except az.HttpResponseError as exc:
        status = exc.status_code
        cls: type[errors.ServiceError] = errors.ServiceError
        if status == 409:
            cls = errors.ConflictError
        elif status == 429 or (status or 0) >= 500:
            cls = errors.TransientError
        headers = exc.response.headers if exc.response is not None else {}
        raise _throttled(cls(_azure_message(exc), status=status, code=_azure_code(exc), operation=operation,
                             retry_after=retry_after_seconds(headers))) from exc
    except (az.ServiceRequestError, az.ServiceResponseError) as exc:
        _raise_if_tls(exc, operation)
        raise errors.TransientError(f"could not reach ARM (after retries): {exc.__class__.__name__}",
                                    operation=operation) from exc
    except az.AzureError as exc:
        raise errors.ServiceError(str(exc.message if hasattr(exc, "message") else exc), operation=operation) from exc


def _raise_if_tls(exc: BaseException, operation: str) -> None:
    """A certificate that does not verify is not a passing outage: say so (verification stays on)."""
    import ssl

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            reason = getattr(current, "verify_message", None) or getattr(current, "reason", None) or current
            raise errors.ConfigurationError(
                f"{operation}: TLS certificate verification failed ({reason}); the provider always verifies "
                "certificates: use the service's real endpoint, or trust its CA in the system store "
                "(REQUESTS_CA_BUNDLE / SSL_CERT_FILE)") from exc
        nested = [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        current = current.__cause__ or current.__context__ or getattr(current, "inner_exception", None) \
            or (nested[0] if nested else None)


def retry_after_seconds(headers: Any) -> float | None:
    """The wait a response asks for (``retry-after-ms``, or ``Retry-After`` in seconds), if any."""
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
        if value is not None:
            return max(0.0, float(value))
    except (AttributeError, TypeError, ValueError):  # absent, or an HTTP date: use our own backoff
        pass
    return None


def _azure_message(exc) -> str:
    err = getattr(exc, "error", None)
    if err is not None and getattr(err, "message", None):
        return str(err.message)
    return str(getattr(exc, "message", None) or exc)


def _azure_code(exc) -> str | None:
    err = getattr(exc, "error", None)
    return getattr(err, "code", None) if err is not None else None
