"""The guard rails of the aoai-finetune policy pack, as plain functions (unit-tested directly).

Each rule takes a resource's inputs (``props``, plain Python; values unknown at preview are
:data:`UNKNOWN`) and the rule's policy config, and returns the violation messages (empty: the
resource complies). ``__main__.py`` wraps them into ``pulumi_policy`` policies.

The resources of pulumi-aoai-finetune are dynamic (type ``pulumi-python:dynamic:Resource``, or
``pulumi-python:dynamic/aoai:<Kind>`` when the classes name their type): they are told apart by the
type when it names them, else by their input keys (:func:`kind_of`).

Rules and their config (``pulumi preview --policy-pack policy --policy-pack-config cfg.json``,
``{"<rule name>": {"<key>": value}}``):

``aoai-ft-allowed-base-models``   FineTuningJob.base_model (a fine-tuned base resolves to its own
                                  base) in ``allowed_base_models`` (names or family prefixes;
                                  default :data:`DEFAULT_BASE_MODELS`)
``aoai-ft-allowed-regions``       the account (and a deployment's source account) in
                                  ``allowed_regions``; the region of an account is not an input, so
                                  it comes from ``account_regions`` {account name or ARM id: region};
                                  an unmapped account is a violation unless
                                  ``allow_unmapped_accounts``; not applicable without
                                  ``allowed_regions``
``aoai-ft-required-suffix``       FineTuningJob.suffix set, starting with ``required_suffix``
                                  (if given) and matching ``suffix_pattern`` (if given)
``aoai-ft-max-capacity``          ModelDeployment sku.capacity <= ``max_capacity`` (default 50), or
                                  ``max_capacity_by_sku`` {sku name: max}
``aoai-ft-quality-gate``          a ModelDeployment of a fine-tuned model: has metrics and a
                                  quality gate (``require_quality_gate``, default true), and the
                                  metrics, once known, pass both its own gate and the platform's
                                  thresholds in this config (``max_final_valid_loss``,
                                  ``min_final_valid_token_accuracy``, ... as in QualityGateArgs)
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from pulumi_aoai_finetune import quality
from pulumi_aoai_finetune.data import base_model as resolve_base_model
from pulumi_aoai_finetune.review import is_ours, snake_props
from pulumi_aoai_finetune.review import kind_of as _kind_of

DEFAULT_BASE_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-35-turbo")
DEFAULT_MAX_CAPACITY = 50


class _Unknown:
    """A value not known during preview."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()
_SENTINELS = {
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
}


def plain(value: Any) -> Any:
    """pulumi_policy's unknown-checking proxies -> plain dicts/lists with :data:`UNKNOWN`."""
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if isinstance(value, Mapping):
        target = value["__target"] if "__target" in value or _is_proxy(value) else value
        return {str(k): plain(v) for k, v in dict(target).items()}
    if isinstance(value, (list, tuple)) or _is_proxy(value):
        try:
            target = value["__target"]
        except (TypeError, KeyError, IndexError):
            target = value
        return [plain(v) for v in target]
    return value


def _is_proxy(value: Any) -> bool:
    return type(value).__name__ in ("_DictProxy", "_ListProxy")


def kind_of(props: Mapping[str, Any], resource_type: str | None = None) -> str | None:
    """TrainingFile | FineTuningJob | ModelDeployment | None. ``props`` may carry the resource type
    under the key ``__type`` (set by :func:`evaluate` and ``__main__``)."""
    return _kind_of(props, resource_type or props.get("__type"))


def unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(unknown(v) for v in value)
    return False


def account_name(value: Any) -> str | None:
    rid = value.get("resource_id") if isinstance(value, Mapping) else value
    if isinstance(rid, str) and "/accounts/" in rid:
        return rid.rstrip("/").rsplit("/", 1)[-1]
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


# -- rules -------------------------------------------------------------------------------------
def allowed_base_models(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if kind_of(props) != "FineTuningJob":
        return []
    model = props.get("base_model")
    if model is None or unknown(model):
        return []  # a job's model as base: that job is checked itself
    allowed = _as_list(config.get("allowed_base_models")) or list(DEFAULT_BASE_MODELS)
    base = resolve_base_model(str(model))
    if any(base == a.lower() or base.startswith(a.lower() + "-") for a in allowed):
        return []
    return [f"base model {model} (base {base}) is not allowed; allowed: {', '.join(allowed)}"]


def allowed_regions(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    kind = kind_of(props)
    allowed = [r.lower() for r in _as_list(config.get("allowed_regions"))]
    if kind is None or not allowed:
        return []
    mapping = {str(k).lower(): str(v) for k, v in (config.get("account_regions") or {}).items()}
    out = []
    fields = ["account"] + (["source_account"] if kind == "ModelDeployment" else [])
    for field_name in fields:
        value = props.get(field_name)
        if value is None or unknown(value):
            continue
        name = account_name(value)
        rid = value.get("resource_id") if isinstance(value, Mapping) else value
        region = mapping.get(str(rid).lower()) or (mapping.get(name.lower()) if name else None)
        if region is None:
            if not config.get("allow_unmapped_accounts", False):
                out.append(f"{field_name} {name or rid}: its region is not known to the policy; add it to "
                           "account_regions in the policy config")
            continue
        if region.lower() not in allowed:
            out.append(f"{field_name} {name} is in {region}; allowed regions: {', '.join(allowed)}")
    return out


def required_suffix(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if kind_of(props) != "FineTuningJob" or props.get("adopt_job_id"):
        return []
    suffix = props.get("suffix")
    if unknown(suffix):
        return []
    prefix = config.get("required_suffix")
    pattern = config.get("suffix_pattern")
    if not suffix:
        want = f" starting with {prefix!r}" if prefix else ""
        return [f"a fine-tuning job must set a suffix{want} (it names the model: <base>.ft-<id>-<suffix>)"]
    out = []
    if prefix and not str(suffix).startswith(str(prefix)):
        out.append(f"suffix {suffix!r} must start with {prefix!r}")
    if pattern and not re.fullmatch(str(pattern), str(suffix)):
        out.append(f"suffix {suffix!r} does not match {pattern!r}")
    return out


def max_capacity(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if kind_of(props) != "ModelDeployment":
        return []
    sku = props.get("sku")
    if not isinstance(sku, Mapping) or unknown(sku.get("capacity")) or unknown(sku.get("name")):
        return []
    capacity = sku.get("capacity", 1)
    if isinstance(capacity, float) and capacity.is_integer():
        capacity = int(capacity)
    name = str(sku.get("name") or "Standard")
    by_sku = {str(k).lower(): v for k, v in (config.get("max_capacity_by_sku") or {}).items()}
    limit = by_sku.get(name.lower(), config.get("max_capacity", DEFAULT_MAX_CAPACITY))
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)  # policy config numbers arrive as floats
    if limit is not None and isinstance(capacity, (int, float)) and capacity > limit:
        return [f"sku {name} capacity {capacity} is above the allowed maximum {limit}"]
    return []


def quality_gate(props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if kind_of(props) != "ModelDeployment":
        return []
    model = props.get("model")
    fine_tuned = unknown(model) or (isinstance(model, str) and (".ft-" in model or model.startswith("ft:")))
    if not fine_tuned:
        return []
    out = []
    gate = props.get("quality_gate")
    metrics = props.get("metrics")
    require = config.get("require_quality_gate", True)
    if require and not gate:
        out.append("a deployment of a fine-tuned model must have a quality_gate (and metrics=job.metrics)")
    if require and metrics is None:
        out.append("a deployment of a fine-tuned model must pass its training metrics (metrics=job.metrics)")
    if metrics is None or unknown(metrics):
        return out  # unknown at preview: the provider checks the gate again before deploying
    shown = None if unknown(model) else model
    if gate and not unknown(gate):
        result = quality.evaluate(gate, metrics)
        if not result.passed:
            out.append(result.message(shown, metrics))
    platform = {k: config[k] for k in quality.KEYS if k in config and config[k] is not None}
    if any(k in platform for k in quality.THRESHOLDS) or platform.get("fail_on_overfitting"):
        result = quality.evaluate(platform, metrics)
        if not result.passed:
            out.append("platform gate: " + result.message(shown, metrics))
    return out


Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], list[str]]

# name -> (description, rule, config schema properties)
RULES: dict[str, tuple[str, Rule, dict[str, dict[str, Any]]]] = {
    "aoai-ft-allowed-base-models": (
        "Fine-tuning jobs use an allowed base model.", allowed_base_models,
        {"allowed_base_models": {"type": "array", "items": {"type": "string"},
                                 "default": list(DEFAULT_BASE_MODELS)}}),
    "aoai-ft-allowed-regions": (
        "Fine-tuning resources live in accounts of allowed regions.", allowed_regions,
        {"allowed_regions": {"type": "array", "items": {"type": "string"}},
         "account_regions": {"type": "object", "additionalProperties": {"type": "string"}},
         "allow_unmapped_accounts": {"type": "boolean", "default": False}}),
    "aoai-ft-required-suffix": (
        "Fine-tuning jobs set a model suffix of the required form.", required_suffix,
        {"required_suffix": {"type": "string"}, "suffix_pattern": {"type": "string"}}),
    "aoai-ft-max-capacity": (
        "Model deployments stay within the maximum capacity.", max_capacity,
        {"max_capacity": {"type": "integer", "default": DEFAULT_MAX_CAPACITY},
         "max_capacity_by_sku": {"type": "object", "additionalProperties": {"type": "integer"}}}),
    "aoai-ft-quality-gate": (
        "No deployment of a fine-tuned model that failed (or has no) quality gate.", quality_gate,
        {"require_quality_gate": {"type": "boolean", "default": True},
         **{k: {"type": "number"} for k in quality.THRESHOLDS},
         "fail_on_overfitting": {"type": "boolean"}}),
}


def resource_props(resource_type: str, props: Any) -> dict[str, Any] | None:
    """What the rules read of one of this package's resources (dynamic or the plugin's): plain values
    with the Python API's names and ``__type``; None for anything else."""
    if not is_ours(resource_type):
        return None
    return {**snake_props(resource_type, plain(props)), "__type": resource_type}


def evaluate(resource_type: str, props: Mapping[str, Any], config_by_rule: Mapping[str, Mapping[str, Any]] | None = None
             ) -> dict[str, list[str]]:
    """All rules on one resource: {rule name: violations} (only rules with violations)."""
    props = resource_props(resource_type, props)
    if props is None:
        return {}
    out = {}
    for name, (_, rule, _) in RULES.items():
        found = rule(props, (config_by_rule or {}).get(name) or {})
        if found:
            out[name] = found
    return out
