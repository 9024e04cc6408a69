"""ARM behaviour: Microsoft.CognitiveServices accounts and their deployments.

The management plane as ``azure-mgmt-cognitiveservices`` (and any ARM client) sees it, following
the 2025-06-01 contract (``cognitiveservices.json``: ``Account``, ``Deployment``,
``DeploymentModel``, ``Sku``; ``ErrorResponse`` of the common types). Routes
(``routes/arm.py``) only parse and serialize; everything here works on a :class:`Backend`.

Long-running operations. A deployment PUT answers 201 (create) / 200 (update) with
``provisioningState`` ``Creating`` / ``Accepted`` and an ``Azure-AsyncOperation`` header naming an
operation-status resource::

    /subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{region}/operationResults/{op}?api-version=...

which reports ``InProgress`` until the operation's due time on the emulator clock, then
``Succeeded`` (or ``Failed`` with an ``error``). A DELETE answers 202 with the same header plus
``Location`` (the same URL with ``operationResultResponseType=Location``: 202 while running, then
204, or 200 with the resource for a PATCH). ``Retry-After`` is sent only when the remaining time is
at least one real second (so clients fall back to their own polling interval in fast emulators);
``config.extra["arm_retry_after"]`` forces a value (0: never send it).

Rules enforced (as Azure does; see ``domain.md``):

- one operation at a time per account: a deployment PUT/PATCH/DELETE (or account update/delete)
  while another operation on that account is in progress -> 409 ``RequestConflict``;
- the model must exist: a base model offered in the account's region (catalog), a fine-tuned
  model or checkpoint of the account, or of the account named by ``properties.model.source`` /
  ``sourceAccount`` (an ARM account id, any region/subscription); fine-tuned models deploy only
  to regions that support fine-tuned deployments; a model that failed the safety evaluation is
  refused with the reason the data plane gives;
- one deployment per fine-tuned model (or checkpoint) **per account** -> 409
  ``ModelAlreadyDeployed`` (the same model may be deployed once in each of several accounts:
  that is what cross-region deployment is for);
- the model of an existing deployment cannot be changed (400 ``CannotChangeDeploymentModel``),
  except its version, and not together with the sku/capacity;
- a fine-tuned deployment without completions for 15 emulated days is deleted; a
  ``DeveloperTier`` deployment is deleted 24 emulated hours after it was created;
- at most :data:`MAX_FINE_TUNED_DEPLOYMENTS` (10) fine-tuned deployments (models and checkpoints, any
  sku) per account: creating the 11th answers 400 ``QuotaExceeded`` (the code and wording are the
  emulator's choice; ``config.extra["max_fine_tuned_deployments"]`` changes the number);
- the developer tier serves fine-tuned models of the gpt-4.1 family only (``catalog``);
- a fine-tuned model (or checkpoint) gets a ``Standard`` deployment only in the regions of its row in
  the deployment page's table (``catalog.standard_deployment_problem``, rule DP1); GlobalStandard and
  DeveloperTier from every region.

Fault hook (tests): a ``/_emulator/faults`` rule with ``"fail_operation": true`` whose ``path_regex``
matches a deployment's ARM id makes the next create/update operation of that deployment end
``Failed`` (provisioningState ``Failed``, the rule's ``message``/``code`` as the operation's error).

Skus (matched case-insensitively, answered in Azure's spelling): base models take Standard,
GlobalStandard, DataZoneStandard, (Global|DataZone)ProvisionedManaged, ProvisionedManaged,
GlobalBatch, DataZoneBatch; fine-tuned models and checkpoints take Standard, GlobalStandard,
ProvisionedManaged, GlobalProvisionedManaged and DeveloperTier (alias ``Developer``; api-version
2025-07-01-preview or later). Capacity: an integer from 1 to 1000 (no quota accounting).

Accounts: a creating PUT answers 201 ``Creating`` with the same operation scheme (10 emulated
seconds); updates (PUT, PATCH) are synchronous (200). DELETE is synchronous (200; 204 when
missing) and takes the account's deployments and its data-plane files, jobs and models with it
(no soft-delete). Account names are globally unique in the emulator (they are the endpoint's
subdomain), as custom subdomains are in Azure (409 ``CustomDomainInUse``).
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from . import catalog, errors
from .backend import ticker
from .errors import ServiceError

PROVIDER = "Microsoft.CognitiveServices"
ACCOUNT_TYPE = f"{PROVIDER}/accounts"
DEPLOYMENT_TYPE = f"{PROVIDER}/accounts/deployments"

# api-versions of Microsoft.CognitiveServices that carry Deployment.sku (2023-05-01 and later).
SUPPORTED_API_VERSIONS: tuple[str, ...] = (
    "2023-05-01", "2023-10-01-preview", "2024-04-01-preview", "2024-06-01-preview", "2024-10-01",
    "2025-04-01-preview", "2025-06-01", "2025-07-01-preview", "2025-09-01", "2025-10-01-preview",
    "2025-12-01",
)
# The developer tier needs a newer api-version (2025-07-01-preview in Azure's docs).
DEVELOPER_TIER_SINCE = "2025-07-01"
_API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")

ACCOUNT_KINDS = {"openai": "OpenAI", "aiservices": "AIServices"}
ACCOUNT_SKUS = {"s0": "S0"}

# Deployment sku names as Azure spells them; Azure matches them case-insensitively.
DEPLOYMENT_SKUS = {
    "standard": "Standard",
    "globalstandard": "GlobalStandard",
    "datazonestandard": "DataZoneStandard",
    "provisionedmanaged": "ProvisionedManaged",
    "globalprovisionedmanaged": "GlobalProvisionedManaged",
    "datazoneprovisionedmanaged": "DataZoneProvisionedManaged",
    "globalbatch": "GlobalBatch",
    "datazonebatch": "DataZoneBatch",
    "developertier": "DeveloperTier",
    "developer": "DeveloperTier",  # the docs use both names
}
FINE_TUNED_SKUS = frozenset({"Standard", "GlobalStandard", "DeveloperTier", "ProvisionedManaged",
                             "GlobalProvisionedManaged"})
BASE_MODEL_SKUS = frozenset(set(DEPLOYMENT_SKUS.values()) - {"DeveloperTier"})
CAPACITY_MIN, CAPACITY_MAX = 1, 1000  # units of the sku (1 = 1K tokens per minute for Standard)
VERSION_UPGRADE_OPTIONS = ("OnceNewDefaultVersionAvailable", "OnceCurrentVersionExpired", "NoAutoUpgrade")
DEFAULT_RAI_POLICY = "Microsoft.DefaultV2"

INACTIVITY_SECONDS = 15 * 24 * 3600
MAX_FINE_TUNED_DEPLOYMENTS = 10  # per account (Azure OpenAI quotas and limits, 2026)
DEVELOPER_TIER_TTL_SECONDS = 24 * 3600
FINISHED_OPERATION_RETENTION = 2 * 24 * 3600

# Emulated durations (seconds of emulator time); config.extra may override each key.
DEFAULT_TIMINGS = {
    "account_create_seconds": 10.0,
    "deployment_create_seconds": 60.0,            # base model
    "fine_tuned_deployment_create_seconds": 300.0,  # fine-tuned model or checkpoint
    "deployment_update_seconds": 30.0,
    "deployment_delete_seconds": 20.0,
}

_ACCOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}[A-Za-z0-9]$")
_DEPLOYMENT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
_ACCOUNT_ID_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.CognitiveServices"
    r"/accounts/(?P<name>[^/]+)/?$", re.IGNORECASE)
# Properties of an account the service computes; everything else given in a PUT is kept.
_ACCOUNT_READONLY_PROPS = {
    "provisioningState", "endpoint", "endpoints", "internalId", "capabilities", "dateCreated",
    "callRateLimit", "quotaLimit", "isMigrated", "skuChangeInfo", "privateEndpointConnections",
    "deletionDate", "scheduledPurgeDate", "abusePenalty", "commitmentPlanAssociations",
}


# -- time and small helpers ---------------------------------------------------------------------
def rfc3339(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond * 10:07d}Z"


def _etag(ts: float) -> str:
    return "W/\"datetime'" + quote(rfc3339(ts)) + "'\""


def _timing(backend, key: str) -> float:
    return float(backend.config.extra.get(key, DEFAULT_TIMINGS[key]))


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


def normalize_region(value: str) -> str:
    return re.sub(r"\s+", "", value).lower()


def _system_data(created_at: float, modified_at: float) -> dict[str, Any]:
    return {"createdBy": "emulator", "createdByType": "User", "createdAt": rfc3339(created_at),
            "lastModifiedBy": "emulator", "lastModifiedByType": "User",
            "lastModifiedAt": rfc3339(modified_at)}


def _invalid(message: str, target: str, code: str = "InvalidResourceProperties") -> ServiceError:
    return ServiceError(400, code, message, target=target)


# -- api-version and authorization (checked on every ARM call) --------------------------------
def check_api_version(value: str | None) -> str:
    if not value:
        raise ServiceError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for all requests.")
    if value not in SUPPORTED_API_VERSIONS:
        supported = ", ".join(SUPPORTED_API_VERSIONS)
        if not _API_VERSION_RE.match(value):
            raise ServiceError(400, "InvalidApiVersionParameter",
                               f"The api-version '{value}' is invalid. The supported versions are '{supported}'.")
        raise ServiceError(
            400, "InvalidApiVersionParameter",
            f"The resource type 'accounts' of namespace '{PROVIDER}' does not support api-version "
            f"'{value}'. The supported api-versions are '{supported}'.")
    return value


def check_authorization(backend, header: str | None) -> None:
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.arm_unauthorized()
    expected = backend.config.api_key
    if expected is not None and token.strip() != expected:
        raise ServiceError(401, "InvalidAuthenticationToken", "The access token is invalid.")


# -- identifiers ----------------------------------------------------------------------------
def account_id(subscription: str, resource_group: str, name: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{name}")


def deployment_id(subscription: str, resource_group: str, account: str, name: str) -> str:
    return f"{account_id(subscription, resource_group, account)}/deployments/{name}"


def parse_account_id(value: str) -> tuple[str, str, str] | None:
    """(subscription, resource group, name) of an account's ARM id, or None if it is not one."""
    m = _ACCOUNT_ID_RE.match(value or "")
    return (m["sub"], m["rg"], m["name"]) if m else None


def deployment_key(account: str, name: str) -> str:
    """Key of a deployment in ``store["deployments"]`` and ``store["activity"]``."""
    return f"{account}/{name}"


# -- accounts -------------------------------------------------------------------------------
def create_account_record(backend, subscription: str, resource_group: str, name: str, region: str,
                          *, kind: str = "OpenAI", sku: str = "S0", tags: dict[str, str] | None = None,
                          properties: dict[str, Any] | None = None, identity: dict[str, Any] | None = None,
                          provisioning_state: str = "Succeeded") -> dict[str, Any]:
    """Create (or overwrite) the stored record of an account; callers hold ``backend.lock``."""
    now = backend.now()
    props = dict(properties or {})
    props.setdefault("customSubDomainName", name)
    props.update({"endpoint": backend.account_endpoint(name), "provisioningState": provisioning_state})
    record = {
        "id": account_id(subscription, resource_group, name),
        "name": name,
        "type": ACCOUNT_TYPE,
        "location": normalize_region(region),
        "kind": kind,
        "sku": {"name": sku},
        "subscription": subscription,
        "resource_group": resource_group,
        "tags": dict(tags or {}),
        "identity": identity,
        "properties": props,
        "created_at": now,
        "updated_at": now,
    }
    backend.store["accounts"][name] = record
    return record


def _lookup_account(backend, name: str) -> dict[str, Any] | None:
    accounts = backend.store["accounts"]
    if name in accounts:
        return accounts[name]
    for key, rec in accounts.items():
        if key.lower() == name.lower():
            return rec
    return None


def require_account(backend, subscription: str, resource_group: str, name: str) -> dict[str, Any]:
    """The account if it lives in that subscription and resource group, else ARM's 404."""
    rec = _lookup_account(backend, name)
    if rec is None or not _same(rec["subscription"], subscription) or not _same(rec["resource_group"], resource_group):
        raise errors.arm_not_found(ACCOUNT_TYPE, name, resource_group)
    return rec


def account_view(backend, rec: dict[str, Any]) -> dict[str, Any]:
    props = dict(rec.get("properties") or {})
    endpoint = backend.account_endpoint(rec["name"])  # the current base URL, also after a restart
    props["endpoint"] = endpoint
    props["endpoints"] = {"OpenAI Language Model Instance API": endpoint, "OpenAI Fine-Tuning API": endpoint}
    props["dateCreated"] = rfc3339(rec.get("created_at", backend.now()))
    props["internalId"] = hashlib.sha1(rec["id"].lower().encode()).hexdigest()[:32]
    props.setdefault("publicNetworkAccess", "Enabled")
    props["capabilities"] = [{"name": "VirtualNetworks"}, {"name": "CustomerManagedKey"},
                             {"name": "FineTuning", "value": "true"}]
    view: dict[str, Any] = {
        "id": rec["id"],
        "name": rec["name"],
        "type": ACCOUNT_TYPE,
        "location": rec["location"],
        "kind": rec["kind"],
        "sku": dict(rec["sku"]),
        "tags": dict(rec.get("tags") or {}),
        "etag": _etag(rec.get("updated_at", rec.get("created_at", backend.now()))),
        "properties": props,
        "systemData": _system_data(rec.get("created_at", backend.now()), rec.get("updated_at", backend.now())),
    }
    if rec.get("identity"):
        view["identity"] = rec["identity"]
    return view


def list_accounts(backend, subscription: str, resource_group: str | None = None) -> list[dict[str, Any]]:
    with backend.lock:
        return [account_view(backend, rec) for rec in backend.store["accounts"].values()
                if _same(rec["subscription"], subscription)
                and (resource_group is None or _same(rec["resource_group"], resource_group))]


def get_account(backend, subscription: str, resource_group: str, name: str) -> dict[str, Any]:
    with backend.lock:
        return account_view(backend, require_account(backend, subscription, resource_group, name))


def _custom_domain_in_use(name: str) -> ServiceError:
    return ServiceError(
        409, "CustomDomainInUse",
        f"Please pick a different name. The subdomain name '{name}' is not available as it's already used "
        "by a resource. If the resource using the name was deleted in the last 48 hours, you may need to "
        "purge the deleted resource.")


def _identity(body_identity: Any) -> dict[str, Any] | None:
    if not isinstance(body_identity, dict) or not body_identity.get("type") or body_identity["type"] == "None":
        return None
    ident = dict(body_identity)
    if "SystemAssigned" in str(ident["type"]):
        ident.setdefault("principalId", str(uuid.uuid4()))
        ident.setdefault("tenantId", "00000000-0000-0000-0000-000000000000")
    return ident


def put_account(backend, subscription: str, resource_group: str, name: str, body: Any
                ) -> tuple[dict[str, Any], int, dict[str, Any] | None]:
    """Create or update an account. Returns (view, status 201|200, operation or None)."""
    if not isinstance(body, dict):
        raise _invalid("The request content must be a JSON object.", "account", "InvalidRequestContent")
    if not _ACCOUNT_NAME_RE.match(name):
        raise ServiceError(400, "InvalidResourceName",
                           f"Resource name '{name}' is invalid. The name can contain only letters, numbers and "
                           "hyphens. The first and last characters must be a letter or number. The name can be "
                           "2 to 64 characters long.", target="name")
    location = body.get("location")
    if not isinstance(location, str) or not location.strip():
        raise ServiceError(400, "LocationRequired", "The location property is required for this definition.",
                           target="location")
    kind_raw = body.get("kind")
    if not isinstance(kind_raw, str) or not kind_raw:
        raise _invalid("The 'kind' property is required; use 'OpenAI' or 'AIServices'.", "kind", "KindRequired")
    kind = ACCOUNT_KINDS.get(kind_raw.lower())
    if kind is None:
        raise _invalid(f"The kind '{kind_raw}' is not supported by this emulator; use 'OpenAI' or 'AIServices'.",
                       "kind", "InvalidKind")
    sku_name = (body.get("sku") or {}).get("name") if isinstance(body.get("sku"), dict) else None
    if not sku_name:
        raise _invalid("The 'sku.name' property is required; Azure OpenAI accounts use 'S0'.", "sku.name",
                       "SkuRequired")
    sku = ACCOUNT_SKUS.get(str(sku_name).lower())
    if sku is None:
        raise _invalid(f"The sku '{sku_name}' is not supported for kind '{kind}'; use 'S0'.", "sku.name",
                       "InvalidSkuName")
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise _invalid("'tags' must be an object of string values.", "tags", "InvalidRequestContent")
    given_props = body.get("properties") or {}
    if not isinstance(given_props, dict):
        raise _invalid("'properties' must be an object.", "properties", "InvalidRequestContent")
    props = {k: v for k, v in given_props.items() if k not in _ACCOUNT_READONLY_PROPS}
    subdomain = props.get("customSubDomainName") or name
    region = normalize_region(location)

    with backend.lock:
        backend.tick()
        existing = _lookup_account(backend, name)
        if existing is not None and not (_same(existing["subscription"], subscription)
                                         and _same(existing["resource_group"], resource_group)):
            raise _custom_domain_in_use(name)
        for other in backend.store["accounts"].values():
            if other is not existing and _same(other["properties"].get("customSubDomainName"), subdomain):
                raise _custom_domain_in_use(subdomain)
        if existing is None:
            props["customSubDomainName"] = subdomain
            rec = create_account_record(backend, subscription, resource_group, name, region, kind=kind, sku=sku,
                                        tags=tags, properties=props, identity=_identity(body.get("identity")),
                                        provisioning_state="Creating")
            op = _start_operation(backend, "account.create", rec, None, _timing(backend, "account_create_seconds"))
            backend.save()
            return account_view(backend, rec), 201, op

        if existing["location"] != region:
            raise ServiceError(
                400, "InvalidResourceLocation",
                f"The resource '{existing['name']}' already exists in location '{existing['location']}' in resource "
                f"group '{existing['resource_group']}'. A resource with the same name cannot be created in location "
                f"'{region}'. Please select a new resource name.", target="location")
        if existing["kind"] != kind:
            raise _invalid(f"The kind of account '{existing['name']}' is '{existing['kind']}' and cannot be changed "
                           f"to '{kind}'.", "kind", "KindChangeNotAllowed")
        old_subdomain = existing["properties"].get("customSubDomainName")
        if given_props.get("customSubDomainName") and not _same(old_subdomain, subdomain):
            raise _invalid(f"customSubDomainName '{old_subdomain}' cannot be changed once set.",
                           "properties.customSubDomainName", "CustomSubDomainNameUpdateNotAllowed")
        _raise_if_busy(backend, existing)
        props["customSubDomainName"] = old_subdomain or subdomain
        props["endpoint"] = backend.account_endpoint(existing["name"])
        props["provisioningState"] = existing["properties"].get("provisioningState", "Succeeded")
        existing.update({"sku": {"name": sku}, "tags": dict(tags), "properties": props,
                         "updated_at": backend.now()})
        if "identity" in body:
            existing["identity"] = _identity(body.get("identity"))
        backend.save()
        return account_view(backend, existing), 200, None


def patch_account(backend, subscription: str, resource_group: str, name: str, body: Any) -> dict[str, Any]:
    """PATCH: tags, sku and writable properties, merged; synchronous."""
    if not isinstance(body, dict):
        raise _invalid("The request content must be a JSON object.", "account", "InvalidRequestContent")
    with backend.lock:
        backend.tick()
        rec = require_account(backend, subscription, resource_group, name)
        _raise_if_busy(backend, rec)
        merged = {"location": rec["location"], "kind": rec["kind"], "sku": body.get("sku") or rec["sku"],
                  "tags": body["tags"] if "tags" in body else rec.get("tags"),
                  "properties": {**rec["properties"], **(body.get("properties") or {})}}
        if "identity" in body:
            merged["identity"] = body["identity"]
    view, _, _ = put_account(backend, subscription, resource_group, rec["name"], merged)
    return view


def delete_account(backend, subscription: str, resource_group: str, name: str) -> bool:
    """Delete an account and, as Azure does, its deployments. False if it did not exist."""
    with backend.lock:
        backend.tick()
        try:
            rec = require_account(backend, subscription, resource_group, name)
        except ServiceError:
            return False
        _raise_if_busy(backend, rec)
        for key, dep in list(backend.store["deployments"].items()):
            if dep["account"] == rec["name"]:
                _remove_deployment(backend, key)
        for op_id, op in list(backend.store["operations"].items()):
            if op.get("plane") == "arm" and op.get("account") == rec["name"]:
                del backend.store["operations"][op_id]
        from . import dataplane

        dataplane.delete_account_data(backend, rec["name"])  # its files, jobs and models go with it
        del backend.store["accounts"][rec["name"]]
        backend.save()
        return True


def list_keys(backend, subscription: str, resource_group: str, name: str) -> dict[str, str]:
    with backend.lock:
        rec = require_account(backend, subscription, resource_group, name)
    if backend.config.api_key is not None:
        return {"key1": backend.config.api_key, "key2": backend.config.api_key}
    seed = rec["id"].lower().encode()
    return {"key1": hashlib.sha256(seed + b"/key1").hexdigest()[:32],
            "key2": hashlib.sha256(seed + b"/key2").hexdigest()[:32]}


# -- models: the catalog and the data plane -----------------------------------------------------
def supports_fine_tuned_deployment(region: str) -> bool:
    return bool(catalog.supports_fine_tuned_deployment(region))


def base_model_offer(region: str, name: str, version: str | None) -> tuple[str, str] | None:
    """(name, version) of a base model an account in ``region`` can deploy, or None.

    ARM names a base model by name and version (``gpt-35-turbo`` + ``0613``; the data plane's id
    ``gpt-35-turbo-0613`` is not an ARM model name). An omitted version means the newest one.
    """
    offers = [e for e in catalog.base_models(region) if e.get("arm_name") == name]
    if version is not None:
        offers = [e for e in offers if str(e.get("arm_version")) == version]
    if not offers:
        return None
    best = max(offers, key=lambda e: e.get("created_at") or 0)
    return name, str(best["arm_version"])


def resolve_model(backend, account_name: str, model_name: str) -> dict[str, Any]:
    """What the data plane knows of ``model_name`` in an account (``dataplane.resolve_deployable_model``):
    {"kind": "base"|"fine_tuned"|"checkpoint", "name", "account", "base_model", "deployable", "reason"};
    raises ServiceError if the account has no such model."""
    from . import dataplane  # imported here: dataplane imports this module

    return dataplane.resolve_deployable_model(backend, account_name, model_name)


def _model_label(model: dict[str, Any]) -> str:
    return (f"Publisher: , Format: {model.get('format') or ''}, Name: {model.get('name') or ''}, "
            f"Version: {model.get('version') or ''}, Source: {model.get('source') or ''}, "
            f"SourceAccount: {model.get('sourceAccount') or ''}")


def _model_not_supported(model: dict[str, Any], detail: str) -> ServiceError:
    return ServiceError(400, "DeploymentModelNotSupported",
                        f"The model '{_model_label(model)}' of account deployment is not supported.",
                        target="properties.model", details=[{"code": "ModelNotFound", "message": detail}])


def _capabilities(base_model: str | None, version: str | None = None) -> dict[str, str]:
    entry = catalog.lookup(base_model or "", version) if base_model else None
    kind = (entry or {}).get("kind", "chat")
    caps = {"chat": {"chatCompletion": "true"}, "completion": {"completion": "true"},
            "embeddings": {"embeddings": "true"}}.get(kind, {"chatCompletion": "true"})
    if entry and entry.get("fine_tune_regions"):
        caps = {**caps, "fineTune": "true"}
    return caps


def _resolve_deployment_model(backend, account: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    """Check ``properties.model`` against what exists; returns what the deployment will record."""
    fmt, name, version = model.get("format"), model.get("name"), model.get("version")
    source, source_account = model.get("source"), model.get("sourceAccount")
    if fmt is not None and str(fmt).lower() != "openai":
        raise _model_not_supported(model, f"The emulator serves only models of format 'OpenAI', not '{fmt}'.")
    fmt = "OpenAI"
    if version is not None and not isinstance(version, str):
        raise _invalid("properties.model.version must be a string.", "properties.model.version")

    # Which account holds the model: `source` / `sourceAccount` (an account's ARM id) or this one.
    src_rec = account
    parsed_refs = []
    for field, value in (("properties.model.source", source), ("properties.model.sourceAccount", source_account)):
        if not value:
            continue
        parsed = parse_account_id(str(value))
        if parsed is None:
            raise ServiceError(
                400, "LinkedInvalidPropertyId",
                f"Property id '{value}' at path '{field}' is invalid. Expect fully qualified resource Id that "
                "start with '/subscriptions/{subscriptionId}' and name a Microsoft.CognitiveServices account.",
                target=field)
        parsed_refs.append((field, value, parsed))
    if len(parsed_refs) == 2 and parsed_refs[0][2][2].lower() != parsed_refs[1][2][2].lower():
        raise _invalid("properties.model.source and properties.model.sourceAccount name different accounts; "
                       "give one of them.", "properties.model.source")
    if parsed_refs:
        field, value, (sub, rg, src_name) = parsed_refs[0]
        src_rec = _lookup_account(backend, src_name)
        if src_rec is None or not _same(src_rec["subscription"], sub) or not _same(src_rec["resource_group"], rg):
            raise _invalid(
                f"The source account '{value}' given in {field} was not found: no account '{src_name}' in resource "
                f"group '{rg}' of subscription '{sub}'. Give the ARM id of the account the model was trained in.",
                field, "InvalidModelSource")

    info, not_found_detail = None, ""
    try:
        info = resolve_model(backend, src_rec["name"], name)
    except ServiceError as exc:
        not_found_detail = exc.message
    if info is None or info.get("kind") == "base":
        offer = base_model_offer(account["location"], name, version)
        if offer is None:
            detail = (f"No base model '{name}'{f' version {version!r}' if version else ''} is offered in region "
                      f"'{account['location']}', and no fine-tuned model or checkpoint named '{name}' exists in "
                      f"account '{src_rec['name']}'.")
            if info is None and src_rec is not account:
                detail += f" ({not_found_detail})"
            if ".ft-" in name and src_rec is account:
                detail += (" To deploy a model trained in another account, give that account's ARM id in "
                           "properties.model.source.")
            raise _model_not_supported(model, detail)
        return {"kind": "base", "format": fmt, "name": offer[0], "version": offer[1], "source": source,
                "sourceAccount": source_account, "model_account": None, "base_model": offer[0]}

    if version not in (None, "1"):
        raise _model_not_supported(model, f"Fine-tuned models and checkpoints have version '1', not '{version}'.")
    if not supports_fine_tuned_deployment(account["location"]):
        raise ServiceError(
            400, "DeploymentModelNotSupported",
            f"Deploying fine-tuned models is not supported in region '{account['location']}' (account "
            f"'{account['name']}'). Deploy to an account in a region that supports fine-tuned deployments, "
            "naming the training account in properties.model.source.", target="properties.model")
    if not info.get("deployable", True):
        raise ServiceError(400, "InvalidResourceProperties",
                           info.get("reason") or f"The model '{name}' cannot be deployed.", target="properties.model")
    return {"kind": info["kind"], "format": fmt, "name": info.get("name") or name, "version": "1",
            "source": source, "sourceAccount": source_account, "model_account": src_rec["name"],
            "base_model": info.get("base_model")}


def _validate_sku(sku: Any, api_version: str) -> tuple[str, int]:
    if sku is None:
        raise _invalid("The deployment 'sku' is required, e.g. {\"name\": \"Standard\", \"capacity\": 1}.", "sku")
    if not isinstance(sku, dict):
        raise _invalid("The deployment 'sku' must be an object with 'name' and 'capacity'.", "sku")
    raw = sku.get("name")
    if not isinstance(raw, str) or not raw:
        raise _invalid("sku.name is required; one of " + ", ".join(sorted(set(DEPLOYMENT_SKUS.values()))) + ".",
                       "sku.name")
    name = DEPLOYMENT_SKUS.get(raw.lower())
    if name is None:
        raise _invalid(f"The sku.name '{raw}' is not a deployment sku; use one of "
                       + ", ".join(sorted(set(DEPLOYMENT_SKUS.values()))) + ".", "sku.name")
    if name == "DeveloperTier" and api_version[:10] < DEVELOPER_TIER_SINCE:
        raise _invalid(f"The sku '{raw}' (developer tier) needs api-version {DEVELOPER_TIER_SINCE}-preview or later; "
                       f"this request used '{api_version}'.", "sku.name")
    capacity = sku.get("capacity", 1)
    if capacity is None:
        capacity = 1
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise _invalid(f"sku.capacity must be an integer from {CAPACITY_MIN} to {CAPACITY_MAX}, not {capacity!r}.",
                       "sku.capacity")
    if not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        raise _invalid(f"sku.capacity {capacity} is out of range: it must be from {CAPACITY_MIN} to {CAPACITY_MAX} "
                       f"for sku '{name}'.", "sku.capacity")
    return name, capacity


# -- deployments ------------------------------------------------------------------------------
def _find_deployment(backend, account: str, name: str) -> tuple[str, dict[str, Any]] | tuple[None, None]:
    deployments = backend.store["deployments"]
    key = deployment_key(account, name)
    if key in deployments:
        return key, deployments[key]
    for k, dep in deployments.items():
        if dep["account"] == account and dep["name"].lower() == name.lower():
            return k, dep
    return None, None


def get_deployment_record(backend, account: str, name: str) -> dict[str, Any] | None:
    """The stored deployment (for the data plane: its model, sku, provisioningState), or None."""
    with backend.lock:
        return _find_deployment(backend, account, name)[1]


def deployment_view(backend, dep: dict[str, Any]) -> dict[str, Any]:
    model = {"format": dep["model"]["format"], "name": dep["model"]["name"], "version": dep["model"]["version"]}
    for field in ("source", "sourceAccount"):
        if dep["model"].get(field):
            model[field] = dep["model"][field]
    capacity = dep["sku"]["capacity"]
    props: dict[str, Any] = {
        "model": model,
        "provisioningState": dep["provisioningState"],
        "capabilities": _capabilities(dep.get("base_model"),
                                      dep["model"]["version"] if dep.get("model_kind") == "base" else None),
        "raiPolicyName": dep.get("raiPolicyName") or DEFAULT_RAI_POLICY,
        "rateLimits": [{"key": "request", "renewalPeriod": 10, "count": capacity},
                       {"key": "token", "renewalPeriod": 60, "count": capacity * 1000}],
        "currentCapacity": capacity,
    }
    if dep.get("versionUpgradeOption"):
        props["versionUpgradeOption"] = dep["versionUpgradeOption"]
    view = {
        "id": deployment_id(dep["subscription"], dep["resource_group"], dep["account"], dep["name"]),
        "name": dep["name"],
        "type": DEPLOYMENT_TYPE,
        "sku": {"name": dep["sku"]["name"], "capacity": capacity},
        "etag": _etag(dep["updated_at"]),
        "properties": props,
        "systemData": _system_data(dep["created_at"], dep["updated_at"]),
    }
    if dep.get("tags"):
        view["tags"] = dict(dep["tags"])
    return view


def list_deployments(backend, subscription: str, resource_group: str, account: str) -> list[dict[str, Any]]:
    with backend.lock:
        rec = require_account(backend, subscription, resource_group, account)
        return [deployment_view(backend, d) for d in backend.store["deployments"].values()
                if d["account"] == rec["name"]]


def get_deployment(backend, subscription: str, resource_group: str, account: str, name: str) -> dict[str, Any]:
    with backend.lock:
        rec = require_account(backend, subscription, resource_group, account)
        _, dep = _find_deployment(backend, rec["name"], name)
        if dep is None:
            raise errors.arm_not_found(DEPLOYMENT_TYPE, f"{rec['name']}/{name}", resource_group)
        return deployment_view(backend, dep)


def deployments_using_model(backend, model_name: str) -> list[dict[str, Any]]:
    """ARM views of every deployment (any account, any state) whose model is ``model_name``.

    For the data plane: a model cannot be deleted while one exists. Each view's ``id`` names the
    account; ``properties.provisioningState`` says whether it is still being deleted.
    """
    with backend.lock:
        return [deployment_view(backend, d) for d in backend.store["deployments"].values()
                if d["model"]["name"] == model_name]


def record_activity(backend, account: str, deployment: str, when: float | None = None) -> None:
    """Note a completion served by a deployment (resets its 15-day inactivity timer)."""
    with backend.lock:
        backend.store["activity"][deployment_key(account, deployment)] = backend.now() if when is None else when


def put_deployment(backend, subscription: str, resource_group: str, account_name: str, name: str, body: Any,
                   *, api_version: str) -> tuple[dict[str, Any], int, dict[str, Any]]:
    """Create or update a deployment. Returns (view, status 201|200, operation)."""
    if not isinstance(body, dict):
        raise _invalid("The request content must be a JSON object.", "deployment", "InvalidRequestContent")
    props = body.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise _invalid("'properties' must be an object.", "properties", "InvalidRequestContent")
    model = props.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str) or not model.get("name"):
        raise _invalid("properties.model.name is required (with format 'OpenAI' and, for base models, a version).",
                       "properties.model.name")
    if props.get("scaleSettings") and body.get("sku") is None:
        raise _invalid("properties.scaleSettings is deprecated; give 'sku' {name, capacity} instead.", "sku")
    upgrade = props.get("versionUpgradeOption")
    if upgrade is not None and upgrade not in VERSION_UPGRADE_OPTIONS:
        raise _invalid(f"properties.versionUpgradeOption '{upgrade}' is not one of "
                       + ", ".join(VERSION_UPGRADE_OPTIONS) + ".", "properties.versionUpgradeOption")
    rai = props.get("raiPolicyName")
    if rai is not None and not isinstance(rai, str):
        raise _invalid("properties.raiPolicyName must be a string.", "properties.raiPolicyName")
    tags = body.get("tags") or {}
    if not isinstance(tags, dict):
        raise _invalid("'tags' must be an object of string values.", "tags", "InvalidRequestContent")
    sku_name, capacity = _validate_sku(body.get("sku"), api_version)

    with backend.lock:
        backend.tick()
        account = require_account(backend, subscription, resource_group, account_name)
        if not _DEPLOYMENT_NAME_RE.match(name):
            raise ServiceError(400, "InvalidResourceName",
                               f"Resource name '{name}' is invalid. A deployment name has 2 to 64 characters: letters, "
                               "numbers, '.', '-' and '_', starting with a letter or number.", target="name")
        key, existing = _find_deployment(backend, account["name"], name)
        if existing is not None and model.get("version") is None and model.get("name") == existing["model"]["name"]:
            model = {**model, "version": existing["model"]["version"]}  # an omitted version keeps the current one
        resolved = _resolve_deployment_model(backend, account, model)
        allowed = BASE_MODEL_SKUS if resolved["kind"] == "base" else FINE_TUNED_SKUS
        if sku_name == "DeveloperTier" and not catalog.developer_tier_deployable(resolved.get("base_model")):
            allowed = allowed - {"DeveloperTier"}
        if sku_name not in allowed:
            raise _invalid(f"The specified SKU '{sku_name}' of account deployment is not supported by the model "
                           f"'{resolved['name']}' version: '{resolved['version']}'.", "sku.name")
        if sku_name == "Standard" and resolved["kind"] != "base":
            problem = catalog.standard_deployment_problem(account["location"], resolved.get("base_model"))
            if problem:  # rule DP1 of docs/azure-rules.md (the wording is the emulator's)
                raise _invalid(f"The specified SKU 'Standard' of account deployment is not supported in the region "
                               f"'{account['location']}'. {problem} Use 'GlobalStandard', or an account in one of "
                               "those regions.", "sku.name")
        now = backend.now()
        if existing is not None:
            old = existing["model"]
            if (old["name"] != resolved["name"] or old.get("model_account") != resolved["model_account"]):
                raise ServiceError(400, "CannotChangeDeploymentModel", "The model of deployment cannot be changed.",
                                   target="properties.model")
            version_changed = old["version"] != resolved["version"]
            sku_changed = (existing["sku"]["name"], existing["sku"]["capacity"]) != (sku_name, capacity)
            if version_changed and sku_changed:
                raise _invalid(f"Cannot change capacity and model at the same time for deployment '{name}'; "
                               "change the model version first, then the sku.", "sku")
        elif resolved["kind"] != "base":
            limit = int(backend.config.extra.get("max_fine_tuned_deployments", MAX_FINE_TUNED_DEPLOYMENTS))
            tuned = sorted(d["name"] for d in backend.store["deployments"].values()
                           if d["account"] == account["name"] and d.get("model_kind") in ("fine_tuned", "checkpoint"))
            if len(tuned) >= limit:
                raise ServiceError(
                    400, "QuotaExceeded",
                    f"The account '{account['name']}' already has {len(tuned)} fine-tuned model deployments "
                    f"({', '.join(tuned)}); the limit is {limit} per resource. Delete a fine-tuned deployment "
                    "first.", target="properties.model")
            for other in backend.store["deployments"].values():
                if other["account"] == account["name"] and other["model"]["name"] == resolved["name"] \
                        and other["model"].get("model_account") == resolved["model_account"]:
                    raise ServiceError(
                        409, "ModelAlreadyDeployed",
                        f"The fine-tuned model '{resolved['name']}' is already deployed in account "
                        f"'{account['name']}' as deployment '{other['name']}'. Only one deployment per fine-tuned "
                        "model is allowed: update that deployment or delete it first.", target="properties.model")
        _raise_if_busy(backend, account)

        stored_model = {k: resolved[k] for k in ("format", "name", "version", "source", "sourceAccount",
                                                 "model_account")}
        if existing is None:
            key = deployment_key(account["name"], name)
            dep = {
                "account": account["name"], "name": name, "subscription": account["subscription"],
                "resource_group": account["resource_group"], "created_at": now,
                "provisioningState": "Creating", "succeeded_at": None,
            }
            backend.store["deployments"][key] = dep
            duration = _timing(backend, "deployment_create_seconds" if resolved["kind"] == "base"
                               else "fine_tuned_deployment_create_seconds")
            kind, status = "deployment.create", 201
        else:
            dep = existing
            dep["provisioningState"] = "Accepted"
            duration = _timing(backend, "deployment_update_seconds")
            kind, status = "deployment.update", 200
        dep.update({
            "sku": {"name": sku_name, "capacity": capacity}, "model": stored_model,
            "model_kind": resolved["kind"], "base_model": resolved.get("base_model"),
            # a PUT replaces the deployment: what it omits takes Azure's default again
            "raiPolicyName": rai or DEFAULT_RAI_POLICY,
            "versionUpgradeOption": upgrade or ("OnceNewDefaultVersionAvailable" if resolved["kind"] == "base"
                                                else None),
            "tags": dict(tags), "updated_at": now,
        })
        if sku_name != "DeveloperTier":
            dep["developer_since"] = None
        elif not dep.get("developer_since"):
            dep["developer_since"] = now  # the 24-hour life starts when the deployment becomes developer tier
        op = _start_operation(backend, kind, account, dep["name"], duration)
        backend.save()
        return deployment_view(backend, dep), status, op


def patch_deployment(backend, subscription: str, resource_group: str, account_name: str, name: str, body: Any,
                     *, api_version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """PATCH (``PatchResourceTagsAndSku``): sku and tags in place. Returns (view, operation)."""
    if not isinstance(body, dict):
        raise _invalid("The request content must be a JSON object.", "deployment", "InvalidRequestContent")
    with backend.lock:
        backend.tick()
        account = require_account(backend, subscription, resource_group, account_name)
        _, dep = _find_deployment(backend, account["name"], name)
        if dep is None:
            raise errors.arm_not_found(DEPLOYMENT_TYPE, f"{account['name']}/{name}", resource_group)
        sku = {**dep["sku"], **(body.get("sku") or {})} if isinstance(body.get("sku"), dict) else dep["sku"]
        merged = {"sku": sku, "tags": body["tags"] if "tags" in body else dep.get("tags"),
                  "properties": {"model": {k: v for k, v in dep["model"].items() if k != "model_account"},
                                 "raiPolicyName": dep.get("raiPolicyName"),
                                 "versionUpgradeOption": dep.get("versionUpgradeOption")}}
    view, _, op = put_deployment(backend, subscription, resource_group, account["name"], dep["name"], merged,
                                 api_version=api_version)
    return view, op


def delete_deployment(backend, subscription: str, resource_group: str, account_name: str, name: str
                      ) -> dict[str, Any] | None:
    """Start deleting a deployment; None if it does not exist (the caller answers 204)."""
    with backend.lock:
        backend.tick()
        account = require_account(backend, subscription, resource_group, account_name)
        key, dep = _find_deployment(backend, account["name"], name)
        if dep is None:
            return None
        _raise_if_busy(backend, account)
        dep["provisioningState"] = "Deleting"
        dep["updated_at"] = backend.now()
        op = _start_operation(backend, "deployment.delete", account, dep["name"],
                              _timing(backend, "deployment_delete_seconds"))
        backend.save()
        return op


def _remove_deployment(backend, key: str) -> None:
    backend.store["deployments"].pop(key, None)
    backend.store["activity"].pop(key, None)


# -- long-running operations ------------------------------------------------------------------
def _busy_operation(backend, account: dict[str, Any]) -> dict[str, Any] | None:
    for op in backend.store["operations"].values():
        if op.get("plane") == "arm" and op["account"] == account["name"] and op["status"] == "InProgress":
            return op
    return None


def _raise_if_busy(backend, account: dict[str, Any]) -> None:
    if _busy_operation(backend, account) is not None:
        raise ServiceError(409, "RequestConflict",
                           f"Another operation is being performed on the parent resource '{account['id']}'. "
                           "Please try again later.")


def _start_operation(backend, kind: str, account: dict[str, Any], deployment: str | None,
                     duration: float) -> dict[str, Any]:
    now = backend.now()
    op_id = str(uuid.uuid4())
    op = {
        "id": op_id, "plane": "arm", "kind": kind, "account": account["name"], "deployment": deployment,
        "subscription": account["subscription"], "resource_group": account["resource_group"],
        "location": account["location"], "status": "InProgress", "start_time": now, "due": now + duration,
        "end_time": None, "error": None,
    }
    if deployment is not None and kind != "deployment.delete":
        path = deployment_id(account["subscription"], account["resource_group"], account["name"], deployment)
        rule = backend.faults.take_operation("PUT", path)
        if rule is not None:  # test hook: this operation will end Failed (see the module docs)
            op["inject_failure"] = {"code": rule.code or "DeploymentFailed",
                                    "message": rule.message or "Injected fault: the deployment operation failed."}
    backend.store["operations"][op_id] = op
    return op


def operation_path(op: dict[str, Any]) -> str:
    return (f"/subscriptions/{op['subscription']}/providers/{PROVIDER}/locations/{op['location']}"
            f"/operationResults/{op['id']}")


def operation_headers(backend, op: dict[str, Any], base_url: str, api_version: str, *,
                      location: bool = False) -> dict[str, str]:
    """``Azure-AsyncOperation`` (and ``Location``), plus ``Retry-After`` while it runs."""
    url = f"{base_url.rstrip('/')}{operation_path(op)}?api-version={api_version}"
    headers = {"Azure-AsyncOperation": url}
    if location:
        headers["Location"] = f"{url}&operationResultResponseType=Location"
    delay = retry_after(backend, op)
    if delay:
        headers["Retry-After"] = str(delay)
    return headers


def retry_after(backend, op: dict[str, Any]) -> int | None:
    """Seconds a client should wait before polling again, or None (let it use its own interval)."""
    if op["status"] != "InProgress":
        return None
    fixed = backend.config.extra.get("arm_retry_after")
    if fixed is not None:
        return int(fixed) or None
    real = backend.clock.real_seconds(max(0.0, op["due"] - backend.now()))
    return min(math.ceil(real), 10) if real >= 1 else None


def get_operation(backend, subscription: str, location: str, op_id: str) -> dict[str, Any]:
    with backend.lock:
        backend.tick()
        op = backend.store["operations"].get(op_id)
        if op is None or op.get("plane") != "arm" or not _same(op["subscription"], subscription) \
                or not _same(op["location"], normalize_region(location)):
            raise ServiceError(404, "OperationNotFound",
                               f"The operation '{op_id}' was not found in location '{location}' of subscription "
                               f"'{subscription}'.")
        return dict(op)


def operation_view(op: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"id": operation_path(op), "name": op["id"], "status": op["status"],
                            "startTime": rfc3339(op["start_time"])}
    if op["end_time"] is not None:
        view["endTime"] = rfc3339(op["end_time"])
        view["percentComplete"] = 100.0
    if op.get("error"):
        view["error"] = op["error"]
    return view


def operation_target(backend, op: dict[str, Any]) -> dict[str, Any] | None:
    """The resource an operation worked on, as it is now (None once deleted)."""
    with backend.lock:
        if op["deployment"] is None:
            rec = _lookup_account(backend, op["account"])
            return account_view(backend, rec) if rec else None
        _, dep = _find_deployment(backend, op["account"], op["deployment"])
        return deployment_view(backend, dep) if dep else None


def _complete(backend, op: dict[str, Any]) -> None:
    """Finish an operation at its due time: apply its effect, record the outcome."""
    op["end_time"] = op["due"]
    kind = op["kind"]
    if kind == "account.create":
        rec = _lookup_account(backend, op["account"])
        if rec is not None:
            rec["properties"]["provisioningState"] = "Succeeded"
        op["status"] = "Succeeded"
        return
    key, dep = _find_deployment(backend, op["account"], op["deployment"])
    if dep is None:
        op["status"] = "Succeeded"
        return
    if kind == "deployment.delete":
        _remove_deployment(backend, key)
        op["status"] = "Succeeded"
        return
    # create/update: the model must still be there and deployable when provisioning ends
    failure = None
    if op.get("inject_failure"):
        dep["provisioningState"] = "Failed"
        op["status"] = "Failed"
        op["error"] = dict(op["inject_failure"])
        return
    if dep.get("model_kind") != "base":
        try:
            info = resolve_model(backend, dep["model"]["model_account"], dep["model"]["name"])
            if not info.get("deployable", True):
                failure = info.get("reason") or "The model cannot be deployed."
        except ServiceError as exc:
            failure = f"The model '{dep['model']['name']}' is no longer available: {exc.message}"
    if failure:
        dep["provisioningState"] = "Failed"
        op["status"] = "Failed"
        op["error"] = {"code": "DeploymentFailed", "message": failure}
    else:
        dep["provisioningState"] = "Succeeded"
        dep["succeeded_at"] = op["due"]
        op["status"] = "Succeeded"


@ticker
def _arm_tick(backend, now: float) -> None:
    """Finish due operations, then apply the inactivity and developer-tier deletions."""
    operations = backend.store["operations"]
    due = sorted((op for op in operations.values() if op.get("plane") == "arm" and op["status"] == "InProgress"
                  and op["due"] <= now), key=lambda op: op["due"])
    for op in due:
        _complete(backend, op)
    for op_id, op in list(operations.items()):
        if op.get("plane") == "arm" and op["end_time"] is not None \
                and now - op["end_time"] > FINISHED_OPERATION_RETENTION:
            del operations[op_id]

    activity = backend.store["activity"]
    for key, dep in list(backend.store["deployments"].items()):
        if dep["provisioningState"] != "Succeeded":
            continue
        if dep["sku"]["name"] == "DeveloperTier":
            if now >= (dep.get("developer_since") or dep["created_at"]) + DEVELOPER_TIER_TTL_SECONDS:
                _remove_deployment(backend, key)
        elif dep.get("model_kind") in ("fine_tuned", "checkpoint"):
            last = max(activity.get(key) or 0.0, dep.get("succeeded_at") or dep["created_at"])
            if now >= last + INACTIVITY_SECONDS:
                _remove_deployment(backend, key)
