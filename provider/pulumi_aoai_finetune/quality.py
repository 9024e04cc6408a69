"""Quality gates: thresholds a fine-tuned model's training metrics must meet before it is deployed.

    job = FineTuningJob("job", ..., validation_file=valid)
    ModelDeployment("chat", account=..., model=job.fine_tuned_model, metrics=job.metrics,
                    quality_gate=QualityGateArgs(max_final_valid_loss=0.6,
                                                 min_final_valid_token_accuracy=0.8))

``metrics`` is a FineTuningJob's ``metrics`` output (the summary of its results.csv, see
:mod:`.results`). The gate is checked

- at preview (``check``) when the metrics are already known: a model that misses the gate fails
  the preview, with a message quoting the numbers;
- again right before the ARM PUT (``create``/``update``), so a model whose metrics arrive during
  the same ``pulumi up`` (a new training run) is refused before it is deployed.

Thresholds (all optional):

==================================  =============================================================
``max_final_valid_loss``            validation loss at the end (the full validation loss of the
                                    last epoch when the job reports it, else the last per-step one)
``min_final_valid_token_accuracy``  validation token accuracy at the end (likewise)
``max_final_train_loss``            last training loss
``min_final_train_token_accuracy``  last training token accuracy
``max_train_valid_gap``             mean validation - training loss over the last epoch
``fail_on_overfitting``             refuse when the overfitting signal is on (default false)
``require_metrics``                 refuse when there are no metrics or a gated figure is missing
                                    (e.g. no validation file; default true)
``min_eval_pass_rate``              the evaluation's pass rate (``evaluation=`` a ModelEvaluation's
                                    ``results``; see :mod:`.evaluation.gate`)
``min_eval_pass_rate_per_grader``   per grader, e.g. ``{"contains": 1.0, "model": 0.8}``
==================================  =============================================================

The metrics are needed only when a metric threshold (or ``fail_on_overfitting``) is set, the
evaluation only when an evaluation threshold is; an evaluation of another model than the deployed
one does not count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import pulumi

from . import results
from .errors import AoaiFinetuneError

# threshold key -> (label, metric getter, "max" | "min")
THRESHOLDS: dict[str, tuple[str, Callable[[Mapping[str, Any]], Any], str]] = {
    "max_final_valid_loss": ("final validation loss", results.final_valid_loss, "max"),
    "min_final_valid_token_accuracy": ("final validation token accuracy", results.final_valid_token_accuracy, "min"),
    "max_final_train_loss": ("final training loss", lambda m: m.get("final_train_loss"), "max"),
    "min_final_train_token_accuracy": ("final training token accuracy",
                                       lambda m: m.get("final_train_token_accuracy"), "min"),
    "max_train_valid_gap": ("validation-training loss gap over the last epoch",
                            lambda m: m.get("train_valid_gap_last_epoch"), "max"),
}
FLAGS = {"fail_on_overfitting": False, "require_metrics": True}
# gate key -> the evaluation gate's key (evaluation/gate.py)
EVAL_THRESHOLDS = {"min_eval_pass_rate": "min_pass_rate", "min_eval_pass_rate_per_grader": "min_pass_rate_per_grader"}
KEYS = tuple(THRESHOLDS) + tuple(FLAGS) + tuple(EVAL_THRESHOLDS)


class QualityGateError(AoaiFinetuneError):
    """A model misses the quality gate of its deployment."""


@dataclass
class QualityGateArgs:
    """Thresholds a model's training metrics must meet (see the module docs)."""

    max_final_valid_loss: Optional[pulumi.Input[float]] = None
    min_final_valid_token_accuracy: Optional[pulumi.Input[float]] = None
    max_final_train_loss: Optional[pulumi.Input[float]] = None
    min_final_train_token_accuracy: Optional[pulumi.Input[float]] = None
    max_train_valid_gap: Optional[pulumi.Input[float]] = None
    fail_on_overfitting: pulumi.Input[bool] = False
    require_metrics: pulumi.Input[bool] = True
    min_eval_pass_rate: Optional[pulumi.Input[float]] = None
    min_eval_pass_rate_per_grader: Optional[pulumi.Input[dict]] = None

    def to_inputs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in KEYS if getattr(self, k) is not None}


def gate_inputs(gate: "QualityGateArgs | Mapping[str, Any] | None") -> Any:
    if gate is None:
        return None
    if isinstance(gate, QualityGateArgs):
        return gate.to_inputs()
    if isinstance(gate, Mapping):
        return dict(gate)
    return gate  # an Output: checked by the provider


def check_gate(gate: Any, field_name: str = "quality_gate") -> list[tuple[str, str]]:
    """Shape errors of a gate (unknown keys, non-numbers, accuracies outside 0..1)."""
    from .controller import is_unknown

    if gate is None or is_unknown(gate):
        return []
    if not isinstance(gate, Mapping):
        return [(field_name, f"{field_name} must be an object with thresholds such as max_final_valid_loss")]
    failures = []
    unknown = sorted(set(gate) - set(KEYS))
    if unknown:
        failures.append((field_name, f"unknown {field_name} keys {unknown}; use {', '.join(KEYS)}"))
    for key in THRESHOLDS:
        value = gate.get(key)
        if value is None or is_unknown(value):
            continue
        where = f"{field_name}.{key}"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            failures.append((where, f"{where} is {value!r}; use a number"))
        elif "accuracy" in key and not 0 <= value <= 1:
            failures.append((where, f"{where} is {value!r}; token accuracy is a fraction from 0 to 1"))
        elif "loss" in key and value < 0:
            failures.append((where, f"{where} is {value!r}; a loss is zero or more"))
    for key in FLAGS:
        value = gate.get(key)
        if value is not None and not is_unknown(value) and not isinstance(value, bool):
            failures.append((f"{field_name}.{key}", f"{field_name}.{key} must be true or false"))
    evaluation_gate = _evaluation_gate(gate)
    if evaluation_gate and not is_unknown(evaluation_gate):
        from .evaluation.gate import check_gate as check_evaluation_gate

        failures += check_evaluation_gate(evaluation_gate, field_name, {v: k for k, v in EVAL_THRESHOLDS.items()})
    if not any(gate.get(k) is not None for k in THRESHOLDS) and not gate.get("fail_on_overfitting") \
            and not evaluation_gate:
        failures.append((field_name, f"{field_name} has no threshold; set e.g. max_final_valid_loss or "
                                     "min_eval_pass_rate"))
    return failures


def _evaluation_gate(gate: Mapping[str, Any]) -> dict[str, Any]:
    """The evaluation thresholds of a quality gate, with the evaluation gate's keys."""
    return {short: gate[key] for key, short in EVAL_THRESHOLDS.items() if gate.get(key) is not None}


def _gates_metrics(gate: Mapping[str, Any]) -> bool:
    return any(gate.get(k) is not None for k in THRESHOLDS) or bool(gate.get("fail_on_overfitting"))


@dataclass
class GateResult:
    passed: bool
    failures: list[str] = field(default_factory=list)
    """What missed, with the numbers: 'final validation loss 0.8123 > max 0.6'."""
    checked: list[str] = field(default_factory=list)
    """What passed, with the numbers."""
    skipped: list[str] = field(default_factory=list)
    """Gated figures the metrics do not have (allowed when require_metrics is false)."""

    def message(self, model: str | None = None, metrics: Mapping[str, Any] | None = None) -> str:
        what = f"model {model}" if model else "the model"
        where = ""
        if metrics:
            parts = []
            if metrics.get("results_file"):
                parts.append(f"results file {metrics['results_file']}")
            if metrics.get("steps"):
                parts.append(f"{format_number(metrics['steps'])} steps")
            where = f" ({', '.join(parts)})" if parts else ""
        if self.passed:
            return f"{what} passes its quality gate: {'; '.join(self.checked) or 'nothing to check'}{where}"
        return f"{what} misses its quality gate: {'; '.join(self.failures)}{where}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value: Any) -> str:
    """4 decimals for a metric; whole numbers (steps) without any."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) >= 1 else f"{value:.4f}"
    return str(value)


def evaluate(gate: Mapping[str, Any], metrics: Mapping[str, Any] | None, evaluation: Mapping[str, Any] | None = None,
             *, model: str | None = None) -> GateResult:
    """Check ``metrics`` (a FineTuningJob ``metrics`` output) and ``evaluation`` (a ModelEvaluation's
    ``results``, of ``model``) against ``gate``."""
    result = _evaluate_metrics(gate, metrics) if _gates_metrics(gate) or not _evaluation_gate(gate) \
        else GateResult(True)
    evaluation_gate = _evaluation_gate(gate)
    if evaluation_gate:
        from .evaluation.gate import evaluate as evaluate_evaluation

        found = evaluate_evaluation(evaluation_gate, evaluation, model=model)
        result.failures += found.failures
        result.checked += found.checked
        result.passed = not result.failures
    return result


def _evaluate_metrics(gate: Mapping[str, Any], metrics: Mapping[str, Any] | None) -> GateResult:
    require = gate.get("require_metrics", True) is not False
    if not metrics or not metrics.get("steps"):
        if require:
            return GateResult(False, ["no training metrics (the job reported no results.csv, or metrics were not "
                                      "passed: set metrics=job.metrics)"])
        return GateResult(True, skipped=["no training metrics (require_metrics is false)"])
    result = GateResult(True)
    for key, (label, getter, kind) in THRESHOLDS.items():
        limit = gate.get(key)
        if limit is None:
            continue
        value = getter(metrics)
        if value is None:
            text = f"{label}: not in the metrics (needs a validation_file)" if "valid" in key \
                else f"{label}: not in the metrics"
            (result.failures if require else result.skipped).append(text)
            continue
        if not _is_number(value) or not _is_number(limit):  # a hand-made or forged value: never compared
            bad, what = (value, "the metrics") if not _is_number(value) else (limit, "the gate")
            result.failures.append(f"{label}: {what} hold {str(bad)[:40]!r}, not a number")
            continue
        ok = value <= limit if kind == "max" else value >= limit
        sign = ("<=" if ok else ">") if kind == "max" else (">=" if ok else "<")
        text = f"{label} {format_number(value)} {sign} {kind} {format_number(limit)}"
        (result.checked if ok else result.failures).append(text)
    if gate.get("fail_on_overfitting"):
        signal = metrics.get("overfitting")
        if signal is True:
            result.failures.append(metrics.get("overfitting_note") or "overfitting signal")
        elif signal is None and require:
            result.failures.append(f"overfitting cannot be told: {metrics.get('overfitting_note') or 'no signal'}")
        else:
            result.checked.append("no overfitting signal")
    result.passed = not result.failures
    return result


def check_inputs(inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """ModelDeployment ``check``: the gate's shape, and the gate itself when the metrics are known."""
    from .controller import is_unknown

    gate = inputs.get("quality_gate")
    failures = check_gate(gate)
    metrics, evaluation = inputs.get("metrics"), inputs.get("evaluation")
    if metrics is not None and not is_unknown(metrics) and not isinstance(metrics, Mapping):
        failures.append(("metrics", "metrics must be a FineTuningJob's metrics output (an object)"))
    if evaluation is not None and not is_unknown(evaluation) and not isinstance(evaluation, Mapping):
        failures.append(("evaluation", "evaluation must be a ModelEvaluation's results output (an object)"))
    if failures or gate is None or is_unknown(gate) or is_unknown(metrics) or is_unknown(evaluation):
        return failures
    model = inputs.get("model")
    result = evaluate(gate, metrics, evaluation, model=None if is_unknown(model) else model)
    if not result.passed:
        failures.append(("quality_gate", result.message(None if is_unknown(model) else model, metrics)))
    return failures


def enforce(inputs: Mapping[str, Any]) -> None:
    """ModelDeployment ``create``/``update``, right before the ARM PUT: raise if the gate is missed."""
    gate = inputs.get("quality_gate")
    if not gate:
        return
    metrics, evaluation = inputs.get("metrics"), inputs.get("evaluation")
    model = inputs.get("model")
    result = evaluate(gate, metrics if isinstance(metrics, Mapping) else None,
                      evaluation if isinstance(evaluation, Mapping) else None, model=model)
    if not result.passed:
        raise QualityGateError(f"refusing to deploy {inputs.get('deployment_name')}: "
                               f"{result.message(model, metrics if isinstance(metrics, Mapping) else None)}")
    pulumi.log.info(f"deployment {inputs.get('deployment_name')}: {result.message(model, metrics)}")
