"""Which base models exist, and where each can be fine-tuned.

Source: the "Fine-tuning models" tables of Microsoft's Azure OpenAI documentation
(MicrosoftDocs/azure-ai-docs, ``articles/ai-services/openai/includes/fine-tune-models.md``), read in
November 2026 in two versions: the one dated 2024-10-31 (babbage-002, davinci-002, gpt-35-turbo 0613 /
1106 / 0125, gpt-4 0613, gpt-4o-mini 2024-07-18, gpt-4o 2024-08-06) and the Build 2025 one that adds
gpt-4.1 / gpt-4.1-mini / gpt-4.1-nano (2025-04-14, North Central US and Sweden Central) and the
reinforcement fine-tuning of o4-mini (2025-04-16, East US 2 and Sweden Central). The methods per model
follow the DPO and RFT how-to pages of the same documentation: DPO for gpt-4o-2024-08-06,
gpt-4.1-2025-04-14 and gpt-4.1-mini-2025-04-14 only (``how-to/fine-tuning-direct-preference-optimization.md``,
ms.date 2025-05-25; rule M1 of docs/azure-rules.md). The "Standard training regions"
column is used for Standard training.

Training types (``trainingType`` of a job; the provider keeps the same table in its
``availability.py``): the Foundry revision of ``articles/ai-foundry/openai/includes/fine-tune-models.md``
marks Global training for gpt-4o-mini, gpt-4o and the gpt-4.1 family (not o4-mini nor the older models)
and lists the regions whose resources can use it (:data:`GLOBAL_TRAINING_REGIONS`; Poland Central without
gpt-4.1-nano). The developer training tier (preview, Azure Updates 2025-11-18, spot capacity) publishes
no model list we could read: the emulator assumes the models and regions of Global training.

Fine-tuned deployment skus per model follow ``articles/ai-foundry/openai/how-to/fine-tuning-deploy.md``
(2025-10-25): the developer tier serves the gpt-4.1 family only (:func:`developer_tier_deployable`).

Simplifications (the emulator's, not Azure's):

- every model of the table can be *deployed* (inference) in every region; only fine-tuning is
  restricted to the listed regions;
- the ``deprecation`` dates are placeholders chosen beyond the emulator's working life (Azure
  publishes real dates on its model-retirement page and changes them); the emulator never refuses a
  job because of them;
- ``safety_evaluation`` marks the models whose fine-tuning Azure screens (GPT-4, GPT-4o, GPT-4o-mini,
  GPT-4.1 family, o4-mini): only their jobs react to the ``RAI-TRIGGER`` / ``RAI-MODEL-TRIGGER``
  markers of the emulator.
"""

from __future__ import annotations

import calendar
from typing import Any

NCUS, SWC, EUS2, SWW = "northcentralus", "swedencentral", "eastus2", "switzerlandwest"

_LEGACY = frozenset({NCUS, SWC, SWW})
GLOBAL_TRAINING_REGIONS = frozenset("""
australiaeast brazilsouth canadacentral canadaeast eastus eastus2 francecentral germanywestcentral italynorth
japaneast koreacentral northcentralus norwayeast polandcentral southeastasia southafricanorth southcentralus
southindia spaincentral swedencentral switzerlandwest switzerlandnorth uksouth westeurope westus westus3
""".split())
_TURBO = frozenset({EUS2, NCUS, SWC, SWW})
_NCUS_SWC = frozenset({NCUS, SWC})


def _ts(date: str) -> int:
    year, month, day = (int(p) for p in date.split("-"))
    return calendar.timegm((year, month, day, 0, 0, 0))


def _model(model_id: str, arm_name: str, arm_version: str, *, kind: str, created: str,
           regions: frozenset[str] = frozenset(), methods: tuple[str, ...] = (), safety: bool = False,
           speed: float = 1.0, lifecycle: str = "generally-available", max_tokens: int = 65536,
           fine_tune_until: str = "2027-12-31", inference_until: str = "2028-12-31",
           global_training: bool = False, global_excluded: frozenset[str] = frozenset(),
           developer_deployments: bool = False, standard_deployments: frozenset[str] | None = None) -> dict[str, Any]:
    return {
        "id": model_id,
        "arm_name": arm_name,          # properties.model.name of an ARM deployment
        "arm_version": arm_version,    # properties.model.version
        "kind": kind,                  # chat | completion | embeddings
        "created_at": _ts(created),
        "fine_tune_regions": regions,  # Standard training regions
        "methods": methods,            # supervised | dpo | reinforcement
        "safety_evaluation": safety,
        "speed": speed,                # emulated training time factor (bigger model = slower)
        "lifecycle_status": lifecycle,
        "max_example_tokens": max_tokens,
        "global_training": global_training,          # GlobalStandard (and, assumed, developerTier) training
        "global_excluded": frozenset(global_excluded),  # Global training regions that do not offer this model
        "developer_deployments": developer_deployments,  # DeveloperTier deployments of its fine-tuned models
        # regions where its fine-tuned models get a Standard deployment (None: not listed, not checked; DP1)
        "standard_deployments": standard_deployments,
        "deprecation": {"fine_tune": _ts(fine_tune_until), "inference": _ts(inference_until)},
    }


_MODELS: dict[str, dict[str, Any]] = {m["id"]: m for m in (
    _model("babbage-002", "babbage-002", "2", kind="completion", created="2023-08-22", regions=_LEGACY,
           methods=("supervised",), speed=0.5, max_tokens=16384),
    _model("davinci-002", "davinci-002", "2", kind="completion", created="2023-08-22", regions=_LEGACY,
           methods=("supervised",), speed=0.8, max_tokens=16384),
    _model("gpt-35-turbo-0613", "gpt-35-turbo", "0613", kind="chat", created="2023-06-13", regions=_TURBO,
           methods=("supervised",), max_tokens=4096),
    _model("gpt-35-turbo-1106", "gpt-35-turbo", "1106", kind="chat", created="2023-11-06", regions=_TURBO,
           methods=("supervised",), max_tokens=16385, standard_deployments=_TURBO),
    _model("gpt-35-turbo-0125", "gpt-35-turbo", "0125", kind="chat", created="2024-01-25", regions=_TURBO,
           methods=("supervised",), max_tokens=16385, standard_deployments=_TURBO),
    _model("gpt-4-0613", "gpt-4", "0613", kind="chat", created="2023-06-13", regions=_NCUS_SWC,
           methods=("supervised",), safety=True, speed=3.0, lifecycle="preview", max_tokens=8192),
    _model("gpt-4o-mini-2024-07-18", "gpt-4o-mini", "2024-07-18", kind="chat", created="2024-07-18",
           regions=_NCUS_SWC, methods=("supervised",), safety=True, global_training=True,
           standard_deployments=_NCUS_SWC),
    _model("gpt-4o-2024-08-06", "gpt-4o", "2024-08-06", kind="chat", created="2024-08-06",
           regions=frozenset({EUS2, NCUS, SWC}), methods=("supervised", "dpo"), safety=True, speed=2.0,
           global_training=True, standard_deployments=frozenset({EUS2, SWC})),
    _model("gpt-4.1-2025-04-14", "gpt-4.1", "2025-04-14", kind="chat", created="2025-04-14",
           regions=_NCUS_SWC, methods=("supervised", "dpo"), safety=True, speed=2.0, global_training=True,
           developer_deployments=True, standard_deployments=_NCUS_SWC),
    _model("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini", "2025-04-14", kind="chat", created="2025-04-14",
           regions=_NCUS_SWC, methods=("supervised", "dpo"), safety=True, global_training=True,
           developer_deployments=True, standard_deployments=_NCUS_SWC),
    _model("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano", "2025-04-14", kind="chat", created="2025-04-14",
           regions=_NCUS_SWC, methods=("supervised",), safety=True, speed=0.7, max_tokens=32768,
           global_training=True, global_excluded=frozenset({"polandcentral"}), developer_deployments=True,
           standard_deployments=_NCUS_SWC),
    _model("o4-mini-2025-04-16", "o4-mini", "2025-04-16", kind="chat", created="2025-04-16",
           regions=frozenset({EUS2, SWC}), methods=("reinforcement",), safety=True, speed=3.0,
           lifecycle="preview", standard_deployments=frozenset({EUS2, SWC})),
    # Inference only (listed so /models looks like a real account's).
    _model("gpt-4o-2024-11-20", "gpt-4o", "2024-11-20", kind="chat", created="2024-11-20"),
    _model("text-embedding-ada-002", "text-embedding-ada-002", "2", kind="embeddings", created="2022-12-15"),
    _model("text-embedding-3-small", "text-embedding-3-small", "1", kind="embeddings", created="2024-01-25"),
)}


def normalize_region(region: str) -> str:
    """``"North Central US"`` -> ``"northcentralus"`` (ARM's location form)."""
    return "".join(region.split()).lower()


def _entry_for(region: str, entry: dict[str, Any]) -> dict[str, Any]:
    out = dict(entry)
    out["fine_tune"] = normalize_region(region) in entry["fine_tune_regions"]
    out["fine_tune_regions"] = set(entry["fine_tune_regions"])
    out["methods"] = list(entry["methods"])
    out["deprecation"] = dict(entry["deprecation"])
    return out


def lookup(name: str, version: str | None = None) -> dict[str, Any] | None:
    """The catalog entry of a model, by data-plane id (``gpt-35-turbo-0125``) or by ARM name and
    version (``gpt-35-turbo`` + ``0125``). Region-independent; None when unknown."""
    if version:
        for entry in _MODELS.values():
            if entry["arm_name"] == name and entry["arm_version"] == version:
                return entry
        entry = _MODELS.get(f"{name}-{version}")
        if entry is not None:
            return entry
    return _MODELS.get(name)


def base_model(region: str, name: str, version: str | None = None) -> dict[str, Any] | None:
    """The base model ``name`` (data-plane id, or ARM name + version) as seen from ``region``:
    a copy of its catalog entry with ``fine_tune`` = whether that region offers fine-tuning for it.
    None when the model is unknown."""
    entry = lookup(name, version)
    return None if entry is None else _entry_for(region, entry)


def base_models(region: str) -> list[dict[str, Any]]:
    """Every base model an account in ``region`` lists."""
    return [_entry_for(region, e) for e in _MODELS.values()]


def fine_tune_regions(model: str) -> set[str]:
    """Regions with Standard fine-tuning for ``model`` (data-plane id); empty when unknown."""
    entry = lookup(model)
    return set(entry["fine_tune_regions"]) if entry else set()


def supports_fine_tuned_deployment(region: str) -> bool:
    """Whether a (Standard) fine-tuned model can be deployed in ``region``: Azure serves fine-tuned
    deployments in the regions that offer fine-tuning for some model."""
    region = normalize_region(region)
    return any(region in e["fine_tune_regions"] for e in _MODELS.values())


def fine_tuning_regions() -> set[str]:
    """Every region that offers fine-tuning for some model."""
    return set().union(*(e["fine_tune_regions"] for e in _MODELS.values()))


TRAINING_TYPE_NAMES = {"standard": "Standard", "globalstandard": "GlobalStandard", "developertier": "developerTier"}


def training_type_problem(region: str, model: str, training_type: str) -> str | None:
    """Why a resource in ``region`` cannot train the base ``model`` with ``training_type`` (lower case:
    standard, globalstandard, developertier), or None."""
    entry = lookup(model)
    if entry is None:
        return "The specified base model does not support fine-tuning."
    region = normalize_region(region)
    if training_type == "standard":
        if region in entry["fine_tune_regions"]:
            return None
        regions = ", ".join(sorted(entry["fine_tune_regions"])) or "no region"
        return f"'{model}' has Standard training in {regions}; this resource is in {region}."
    if not entry["global_training"]:
        return f"'{model}' is not offered with {TRAINING_TYPE_NAMES[training_type]} training."
    if region not in GLOBAL_TRAINING_REGIONS or region in entry["global_excluded"]:
        return (f"{TRAINING_TYPE_NAMES[training_type]} training of '{model}' is not offered to resources in "
                f"{region}.")
    return None


def standard_deployment_problem(region: str, base_model: str | None) -> str | None:
    """Why a fine-tuned model of ``base_model`` gets no Standard deployment in ``region``, or None (rule DP1:
    ``how-to/fine-tuning-deploy.md``, ms.date 2025-10-25, "Standard" table; Global Standard and Developer
    deployments are offered from every region)."""
    entry = lookup(base_model or "")
    regions = entry.get("standard_deployments") if entry else None
    if regions is None or normalize_region(region) in regions:
        return None
    return (f"Standard deployments of fine-tuned '{entry['id']}' models are offered in "
            f"{', '.join(sorted(regions))}, not in '{normalize_region(region)}'.")


def developer_tier_deployable(base_model: str | None) -> bool:
    """Whether fine-tuned models of ``base_model`` can be deployed on the developer tier (unknown: yes)."""
    entry = lookup(base_model or "")
    return True if entry is None else bool(entry.get("developer_deployments"))
