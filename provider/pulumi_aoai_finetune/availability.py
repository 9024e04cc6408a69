"""Where each training type, method and deployment sku is offered, and the per-resource limits.

The one table of the provider (the emulator keeps its own copy in ``catalog.py``: the provider never
imports it). Read in 2026 from these sources; Azure changes them, so re-check before relying on a row:

- **Standard training regions, Global training per model, and the regions whose resources can use
  Global training**: MicrosoftDocs/azure-ai-docs ``articles/ai-foundry/openai/includes/fine-tune-models.md``
  (Foundry revision listing Global training for gpt-4o, gpt-4o-mini and the gpt-4.1 family, not
  o4-mini; Japan East without vision, Poland Central without gpt-4.1-nano).
- **The field**: ``"trainingType"`` in the job body, sent with api-version ``2025-04-01-preview`` through
  the SDK's ``extra_body`` (no data-plane spec defines it; see docs/azure-rules.md). It is sent spelled
  ``Standard``, ``GlobalStandard`` and ``developerTier`` (:func:`wire_training_type`): the spellings of
  Azure's SDK test recordings and of the "Select a training type" sample
  (``articles/ai-foundry/openai/includes/fine-tuning-rest.md``, later revision); reports from the live
  service say only ``developerTier`` is accepted for the developer tier (other spellings fail with the
  misleading "The fineTuningJob field is required."). The 2025-02-27 revision of the same page spells
  ``"globalstandard"``. Azure answers "The specified base model does not support fine-tuning." when the
  field is missing for a model/region without Standard training (domain.md), and "Standard
  TrainingType is not supported" in the portal (Microsoft Q&A, 2025-09).
- **Developer training tier**: preview since 2025-11-18 (Azure Updates, "Developer Training tier for
  low-cost fine-tuning training", spot capacity). No model list was readable: this table *assumes*
  the models and regions of Global training.
- **Deployment skus of fine-tuned models**: ``articles/ai-foundry/openai/how-to/fine-tuning-deploy.md``
  (ms.date 2025-10-25, commit 13842c09, "Deployment Types"): Global Standard for o4-mini, the gpt-4.1
  family, gpt-4o and gpt-4o-mini, from every region; Developer for the gpt-4.1 family only, from every
  region; Provisioned for gpt-4.1, gpt-4o and gpt-4o-mini. **Standard** only in the regions of that
  page's per-model table (:attr:`ModelOffer.standard_deployment_regions`, rule DP1): o4-mini and gpt-4o in
  East US 2 and Sweden Central; the gpt-4.1 family and gpt-4o-mini in North Central US and Sweden
  Central; gpt-35-turbo 1106/0125 in those three and Switzerland West. Models the table does not list
  are not checked (the service decides).
  The developer sku needs ARM api-version 2025-07-01-preview (domain.md, "Newer than the original
  document").
- **Methods**: DPO for gpt-4o-2024-08-06, gpt-4.1-2025-04-14 and gpt-4.1-mini-2025-04-14
  (``articles/ai-foundry/openai/how-to/fine-tuning-direct-preference-optimization.md``, ms.date
  2025-05-25, "Direct preference optimization model support"; rule M1); reinforcement fine-tuning for
  o4-mini (``how-to/reinforcement-fine-tuning.md``, ms.date 2025-08-29; it also lists gpt-5 in private
  preview, not offered here).
- **Limits per resource** (domain.md, 2026): 10 fine-tuned deployments, 3 running jobs (5 on the
  developer tier), 20 queued jobs, 100 files, 1 GB of files. The quotas page read
  (``articles/ai-foundry/openai/quotas-limits.md``, ms.date 2025-07-11) still said 5 deployments, 1
  running job and 50 files: these numbers move, which is why they live here only.

Live truth wins over this table where it can be read without side effects: at preview the provider
reads the account's region from ARM and ``GET {endpoint}/openai/models`` (``capabilities.fine_tune``:
Standard training in that account). The table is the fallback when a read is not possible (an
account created by the same stack, no credentials at preview).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

SOURCES_READ = "2026"

# -- api-versions -------------------------------------------------------------------------------
#: Data plane: ``trainingType``, ``method`` (DPO, RFT) and pause/resume are documented from this one.
PREVIEW_API_VERSION = "2025-04-01-preview"
#: ARM: the developer-tier deployment sku needs this one or later.
DEVELOPER_TIER_ARM_API_VERSION = "2025-07-01-preview"

# -- limits per resource --------------------------------------------------------------------------
MAX_FINE_TUNED_DEPLOYMENTS = 10
MAX_RUNNING_JOBS = 3
MAX_RUNNING_JOBS_DEVELOPER_TIER = 5
MAX_QUEUED_JOBS = 20
MAX_FILES = 100
MAX_FILES_BYTES = 1024 ** 3

# -- training types ----------------------------------------------------------------------------
#: lower-case key -> the spelling the provider shows (the issue's and domain.md's).
TRAINING_TYPES = {"standard": "Standard", "globalstandard": "GlobalStandard", "developertier": "developerTier"}

NCUS, SWC, EUS2, SWW = "northcentralus", "swedencentral", "eastus2", "switzerlandwest"

#: Regions whose resources can run Global (and, assumed, developer-tier) training.
GLOBAL_TRAINING_REGIONS = frozenset("""
australiaeast brazilsouth canadacentral canadaeast eastus eastus2 francecentral germanywestcentral italynorth
japaneast koreacentral northcentralus norwayeast polandcentral southeastasia southafricanorth southcentralus
southindia spaincentral swedencentral switzerlandwest switzerlandnorth uksouth westeurope westus westus3
""".split())

DEPLOYMENT_SKUS_ALWAYS = frozenset({"Standard"})


@dataclass(frozen=True)
class ModelOffer:
    """What Azure offers for fine-tuning one base model."""

    model: str
    standard_regions: frozenset[str]
    global_training: bool
    developer_training: bool
    methods: tuple[str, ...]
    deployment_skus: frozenset[str]
    global_excluded_regions: frozenset[str] = frozenset()
    #: Regions where its fine-tuned models get a Standard deployment (None: the docs' table does not list it).
    standard_deployment_regions: frozenset[str] | None = None

    def training_types(self) -> list[str]:
        out = ["Standard"] if self.standard_regions else []
        if self.global_training:
            out.append("GlobalStandard")
        if self.developer_training:
            out.append("developerTier")
        return out


_GLOBAL_SKUS = frozenset({"Standard", "GlobalStandard"})
_PTU = frozenset({"ProvisionedManaged", "GlobalProvisionedManaged"})
_LEGACY = frozenset({NCUS, SWC, SWW})
_TURBO = frozenset({EUS2, NCUS, SWC, SWW})


def _offer(model, regions, *, glob=False, methods=("supervised",), skus=DEPLOYMENT_SKUS_ALWAYS,
           excluded=frozenset(), deploy=None) -> ModelOffer:
    return ModelOffer(model, frozenset(regions), glob, glob, tuple(methods), frozenset(skus), frozenset(excluded),
                      frozenset(deploy) if deploy is not None else None)


_OFFERS: dict[str, ModelOffer] = {o.model: o for o in (
    _offer("babbage-002", _LEGACY),
    _offer("davinci-002", _LEGACY),
    _offer("gpt-35-turbo-0613", _TURBO),
    _offer("gpt-35-turbo-1106", _TURBO, deploy=_TURBO),
    _offer("gpt-35-turbo-0125", _TURBO, deploy=_TURBO),
    _offer("gpt-4-0613", {NCUS, SWC}),
    _offer("gpt-4o-mini-2024-07-18", {NCUS, SWC}, glob=True, skus=_GLOBAL_SKUS | _PTU, deploy={NCUS, SWC}),
    _offer("gpt-4o-2024-08-06", {EUS2, NCUS, SWC}, glob=True, methods=("supervised", "dpo"),
           skus=_GLOBAL_SKUS | _PTU, deploy={EUS2, SWC}),
    _offer("gpt-4.1-2025-04-14", {NCUS, SWC}, glob=True, methods=("supervised", "dpo"),
           skus=_GLOBAL_SKUS | _PTU | {"DeveloperTier"}, deploy={NCUS, SWC}),
    _offer("gpt-4.1-mini-2025-04-14", {NCUS, SWC}, glob=True, methods=("supervised", "dpo"),
           skus=_GLOBAL_SKUS | {"DeveloperTier"}, deploy={NCUS, SWC}),
    _offer("gpt-4.1-nano-2025-04-14", {NCUS, SWC}, glob=True,
           skus=_GLOBAL_SKUS | {"DeveloperTier"}, excluded={"polandcentral"}, deploy={NCUS, SWC}),
    _offer("o4-mini-2025-04-16", {EUS2, SWC}, methods=("reinforcement",), skus=_GLOBAL_SKUS, deploy={EUS2, SWC}),
)}


def base_of(model: str) -> str:
    """The base model of a model id: ``gpt-4.1-mini-2025-04-14.ft-abc-x:ckpt-step-3`` -> ``gpt-4.1-mini-2025-04-14``."""
    name = model.strip().split(":ckpt-", 1)[0]
    return name.split(".ft-", 1)[0]


def offer(model: str) -> ModelOffer | None:
    """The table's row for ``model`` (a base model id, a fine-tuned model or a checkpoint), or None."""
    base = base_of(model)
    if base in _OFFERS:
        return _OFFERS[base]
    family = [o for key, o in _OFFERS.items() if base == key.rsplit("-", 3)[0]]  # "gpt-4.1-mini" alone
    return family[0] if len(family) == 1 else None


def normalize_training_type(value: Any) -> str | None:
    """``"globalstandard"``, ``"GlobalStandard"`` -> ``"GlobalStandard"``; None if not a training type."""
    if not isinstance(value, str):
        return None
    return TRAINING_TYPES.get(value.strip().replace("_", "").replace("-", "").lower())


def wire_training_type(value: str) -> str:
    """The value sent in ``trainingType``: ``Standard``, ``GlobalStandard`` or ``developerTier``, exactly.

    Source: Azure's SDK test recordings and the "Select a training type" REST sample
    (``includes/fine-tuning-rest.md``); the live service accepts only ``developerTier`` for the developer
    tier ("The fineTuningJob field is required." otherwise). See docs/azure-rules.md, rule T1."""
    return normalize_training_type(value) or value


def training_type_problem(model: str, training_type: str, region: str | None = None,
                          standard_here: bool | None = None) -> str | None:
    """Why ``training_type`` cannot train ``model`` (in ``region``, when known), or None.

    ``standard_here``: what the account itself says (``/models`` ``capabilities.fine_tune``), when read.
    Unknown models pass: the service has the last word.
    """
    row = offer(model)
    if row is None:
        return None
    where = f" in {region}" if region else ""
    offered = ", ".join(row.training_types()) or "none"
    if training_type == "Standard":
        ok = standard_here if standard_here is not None else (
            bool(row.standard_regions) if region is None else region in row.standard_regions)
        if ok:
            return None
        alternatives = [t for t in row.training_types() if t != "Standard"]
        hint = (f"; use training_type {' or '.join(alternatives)}" if alternatives else "")
        regions = ", ".join(sorted(row.standard_regions)) or "no region"
        return (f"{row.model} has no Standard training{where} (Standard regions: {regions}){hint}. "
                "Without a training type Azure assumes Standard and answers \"The specified base model does not "
                "support fine-tuning.\"")
    flag = row.global_training if training_type == "GlobalStandard" else row.developer_training
    if not flag:
        return f"{training_type} training is not offered for {row.model} (offered: {offered})"
    if region and (region not in GLOBAL_TRAINING_REGIONS or region in row.global_excluded_regions):
        return (f"{training_type} training of {row.model} is not offered to resources{where}; resources in "
                f"{', '.join(sorted(GLOBAL_TRAINING_REGIONS - row.global_excluded_regions))} can use it")
    return None


def method_problem(model: str, method_type: str) -> str | None:
    row = offer(model)
    if row is None or method_type in row.methods:
        return None
    return f"{row.model} is not fine-tuned with the {method_type} method (offered: {', '.join(row.methods)})"


def deployment_sku_problem(model: str, sku_name: str) -> str | None:
    """Why a fine-tuned ``model`` (or checkpoint) cannot be deployed with ``sku_name``, or None."""
    if ".ft-" not in model:
        return None  # base models: the service's catalog decides
    row = offer(model)
    sku = "DeveloperTier" if sku_name.lower() in ("developer", "developertier") else sku_name
    if row is None or sku in row.deployment_skus:
        return None
    return (f"fine-tuned {row.model} models cannot be deployed with sku {sku_name} "
            f"(offered: {', '.join(sorted(row.deployment_skus))})")


def deployment_region_problem(model: str, sku_name: str, region: str | None) -> str | None:
    """Why a fine-tuned ``model`` (or checkpoint) cannot get a ``sku_name`` deployment in ``region``, or
    None: Standard only in the regions of the deployment page's per-model table (rule DP1); Global
    Standard and Developer from every region."""
    if ".ft-" not in model or sku_name.lower() != "standard" or not region:
        return None
    row = offer(model)
    if row is None or row.standard_deployment_regions is None:
        return None
    region = "".join(region.split()).lower()
    if region in row.standard_deployment_regions:
        return None
    others = [s for s in ("GlobalStandard", "DeveloperTier") if s in row.deployment_skus]
    return (f"fine-tuned {row.model} models get a Standard deployment only in "
            f"{', '.join(sorted(row.standard_deployment_regions))}, not in {region}: deploy to an account in one "
            f"of those regions" + (f", or use sku {' or '.join(others)} (offered from every region)" if others else ""))


def is_developer_sku(sku_name: Any) -> bool:
    return isinstance(sku_name, str) and sku_name.lower() in ("developer", "developertier")


def arm_api_version(configured: str, sku_name: Any) -> str:
    """The ARM api-version for a deployment of ``sku_name``: the configured one, raised to
    2025-07-01-preview for the developer tier."""
    if is_developer_sku(sku_name) and configured[:10] < DEVELOPER_TIER_ARM_API_VERSION[:10]:
        return DEVELOPER_TIER_ARM_API_VERSION
    return configured


def data_plane_api_version(configured: str, needs_preview: bool) -> str:
    """The data-plane api-version of a job: the configured one, raised to 2025-04-01-preview when
    the job uses a training type, a method or pause/resume."""
    if needs_preview and configured != "preview" and configured[:10] < PREVIEW_API_VERSION[:10]:
        return PREVIEW_API_VERSION
    return configured


# -- live reads (read-only, best effort, cached per provider process) -----------------------------
_cache_lock = threading.Lock()


def account_region(settings, account) -> str | None:
    """The account's ARM location (``northcentralus``), or None when it cannot be read."""
    return read_account(settings, account)[0]


def read_account(settings, account) -> tuple[str | None, str | None]:
    """One ARM read of the account for all the checks of this process (:func:`shared`): its region (None
    when it cannot be read), and ARM's answer when this credential is of another tenant (else None)."""
    return shared("account", account, lambda: _read_account(settings, account))


def _read_account(settings, account) -> tuple[str | None, str | None]:
    from . import clients
    from .errors import CrossTenantError

    acct = clients.account_read(account)  # read already (for its endpoint) with this credential
    try:
        if acct is None:
            with clients.arm_errors(f"reading account {account.name}"):
                acct = clients.arm(settings, account.subscription_id).accounts.get(
                    account.resource_group, account.name, retry_total=0, connection_timeout=10, read_timeout=20)
            clients.remember_account(account, acct)  # what the endpoint output would read again
        return "".join((acct.location or "").split()).lower() or None, None
    except CrossTenantError as exc:
        return None, str(exc)
    except Exception:  # noqa: BLE001 - preview reads are best effort; the table is the fallback
        return None, None


def account_standard_models(settings, account) -> dict[str, bool] | None:
    """``{model id: capabilities.fine_tune}`` from ``GET {endpoint}/openai/models``, or None."""
    from . import clients

    try:
        client = clients.data_plane(settings, account, timeout=20.0).with_options(max_retries=0)
        with clients.openai_errors(f"listing models of {account.name}"):
            models = list(client.models.list())
    except Exception:  # noqa: BLE001 - best effort
        return None
    out: dict[str, bool] = {}
    for m in models:
        caps = getattr(m, "capabilities", None) or (m.model_extra or {}).get("capabilities") or {}
        if not isinstance(caps, dict):
            caps = getattr(caps, "__dict__", {})
        out[m.id] = bool(caps.get("fine_tune"))
    return out


#: How long one read-only answer about an account (its deployments, whether this credential can read it)
#: serves the checks of this process (a preview or an update): every deployment checked meanwhile shares it.
SHARED_TTL = 120.0
_shared: dict[tuple[str, str], tuple[float, Any]] = {}
_shared_locks: dict[tuple[str, str], threading.Lock] = {}


def shared(kind: str, account, read: Callable[[], Any]) -> Any:
    """``read()``, made once per ``kind`` and account for all the checks of this process: the first check
    reads (the others of that account wait for it), the rest reuse its answer for :data:`SHARED_TTL`
    seconds. So N deployments on one account cost one read at preview, not N."""
    key = (kind, account.key)
    with _cache_lock:
        lock = _shared_locks.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            cached = _shared.get(key)
        if cached is not None and time.monotonic() - cached[0] < SHARED_TTL:
            return cached[1]
        found = read()
        with _cache_lock:
            _shared[key] = (time.monotonic(), found)
        return found


def fine_tuned_deployments(settings, account) -> list[tuple[str, str]] | None:
    """``[(deployment name, model)]`` of the account's fine-tuned deployments (ARM list), or None.

    One listing per account for all the deployments of that account this process checks
    (:func:`shared`). What this process creates or deletes there is noted in it (:func:`note_deployment`)."""
    found = shared("deployments", account, lambda: _list_deployments(settings, account))
    return None if found is None else [(n, m) for n, m in found if ".ft-" in m]


def note_deployment(account, name: str, model: str | None) -> None:
    """This process created (``model``) or deleted (None) deployment ``name``: the account's listing, when
    there is one, says so (without listing again)."""
    with _cache_lock:
        cached = _shared.get(("deployments", account.key))
        if cached is None or cached[1] is None:
            return
        found = [(n, m) for n, m in cached[1] if n.lower() != name.lower()]
        if model is not None:
            found.append((name, model))
        _shared[("deployments", account.key)] = (cached[0], found)


def _list_deployments(settings, account) -> list[tuple[str, str]] | None:
    """``[(name, model)]`` of every deployment of the account (ARM list), or None when it cannot be read."""
    from . import clients

    try:
        with clients.arm_errors(f"listing deployments of {account.name}"):
            items = list(clients.arm(settings, account.subscription_id).deployments.list(
                account.resource_group, account.name, retry_total=0, connection_timeout=10, read_timeout=20))
    except Exception:  # noqa: BLE001 - best effort
        return None
    return [(d.name, d.properties.model.name if d.properties and d.properties.model and d.properties.model.name
             else "") for d in items]


def account_files(settings, account) -> tuple[int, int] | None:
    """``(count, total bytes)`` of the files in the account (``GET {endpoint}/openai/files``), or None."""
    from . import clients

    try:
        client = clients.data_plane(settings, account, timeout=20.0).with_options(max_retries=0)
        with clients.openai_errors(f"listing files of {account.name}"):
            files = [f for f in clients.first_page(client.files.list()) if f.status != "deleted"]
    except Exception:  # noqa: BLE001 - best effort
        return None
    return len(files), sum(f.bytes or 0 for f in files)


def clear_cache() -> None:
    with _cache_lock:
        _shared.clear()
