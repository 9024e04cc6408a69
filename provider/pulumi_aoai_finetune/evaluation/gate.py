"""The evaluation gate: the pass rates an evaluation must reach before its model is promoted.

``gate``: ``{"min_pass_rate": 0.9, "min_pass_rate_per_grader": {"contains": 1.0, "model": 0.8}}``
(both optional, at least one), checked against a ModelEvaluation's ``results`` output:
``{"model", "deployment_name", "cases_sha256", "cases_run", "passed_cases", "pass_rate",
"pass_rate_per_grader", "errors", ...}``. An evaluation of another model than the one being
promoted does not count: the gate says so and refuses.

Used by ModelDeployment's quality gate (``min_eval_pass_rate``, ``min_eval_pass_rate_per_grader``
with ``evaluation=``) and by the stacks' ``promote.gate.evaluation`` (the source stack's
evaluation, read through a StackReference).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from .cases import GRADER_KEYS

KEYS = ("min_pass_rate", "min_pass_rate_per_grader")


def _rate(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 1


def check_gate(gate: Any, where: str, names: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Shape errors of a gate (``where``: the field's name in messages; ``names``: how a front end
    spells the keys, e.g. ``min_eval_pass_rate`` in a quality gate)."""
    names = {**{k: k for k in KEYS}, **(names or {})}
    rate_key, per_key = f"{where}.{names['min_pass_rate']}", f"{where}.{names['min_pass_rate_per_grader']}"
    if not isinstance(gate, Mapping):
        return [(where, f"{where} must be an object with {names['min_pass_rate']} and/or "
                        f"{names['min_pass_rate_per_grader']}")]
    failures = []
    unknown = sorted(set(gate) - set(KEYS))
    if unknown:
        failures.append((where, f"unknown {where} keys {unknown}; use {', '.join(names[k] for k in KEYS)}"))
    if gate.get("min_pass_rate") is not None and not _rate(gate["min_pass_rate"]):
        failures.append((rate_key, f"{rate_key} is {gate['min_pass_rate']!r}; use a fraction from 0 to 1"))
    per = gate.get("min_pass_rate_per_grader")
    if per is not None:
        if not isinstance(per, Mapping) or not per:
            failures.append((per_key, f"{per_key} must map grader names ({', '.join(GRADER_KEYS)}) to fractions"))
        else:
            for name, value in per.items():
                if name not in GRADER_KEYS:
                    failures.append((per_key, f"{per_key}: {name!r} is not a grader; use {', '.join(GRADER_KEYS)}"))
                elif not _rate(value):
                    failures.append((f"{per_key}.{name}", f"{per_key}.{name} is {value!r}; use a fraction from 0 "
                                                          "to 1"))
    if gate.get("min_pass_rate") is None and not per:
        failures.append((where, f"{where} has no threshold; set {names['min_pass_rate']} or "
                                f"{names['min_pass_rate_per_grader']}"))
    return failures


def describe(results: Mapping[str, Any]) -> str:
    """'13 of 20 cases passed, 1 errored; model M on deployment D, cases 1a2b3c4d5e6f'."""
    from ..controller import as_int  # counts read back from a state or a stack reference are floats

    parts = [f"{as_int(results.get('passed_cases'))} of {as_int(results.get('cases_run'))} cases passed"]
    if results.get("errors"):
        parts[0] += f", {as_int(results['errors'])} errored"
    where = " ".join(part for part in (f"model {results['model']}" if results.get("model") else "",
                                       f"on deployment {results['deployment_name']}"
                                       if results.get("deployment_name") else "") if part)
    if results.get("cases_sha256"):
        where += (", " if where else "") + f"cases {str(results['cases_sha256'])[:12]}"
    return "; ".join(parts + ([where] if where else []))


def evaluate(gate: Mapping[str, Any], results: Mapping[str, Any] | None, *, model: str | None = None):
    """A :class:`..quality.GateResult` of ``results`` against ``gate``; ``model``: the model being
    promoted, which the evaluation must be of."""
    from ..quality import GateResult, format_number

    if not results or results.get("cases_run") in (None, 0) or results.get("pass_rate") is None:
        return GateResult(False, ["no evaluation results (the evaluation has not run, or ran no case): pass "
                                  "evaluation=<a ModelEvaluation's results>"])
    result = GateResult(True)
    evaluated = results.get("model")
    if model and evaluated and evaluated != model:
        result.failures.append(f"the evaluation is of model {evaluated}, not of {model}: evaluate {model} first")
    shown = describe(results)
    limit = gate.get("min_pass_rate")
    if limit is not None:
        rate = float(results["pass_rate"])
        ok = rate >= limit
        text = f"evaluation pass rate {format_number(rate)} {'>=' if ok else '<'} min {format_number(float(limit))} ({shown})"
        (result.checked if ok else result.failures).append(text)
    per_grader = results.get("pass_rate_per_grader") or {}
    for name, limit in (gate.get("min_pass_rate_per_grader") or {}).items():
        rate = per_grader.get(name)
        if rate is None:
            result.failures.append(f"the evaluation has no {name} grades (no case uses that grader)")
            continue
        ok = float(rate) >= limit
        text = f"{name} pass rate {format_number(float(rate))} {'>=' if ok else '<'} min {format_number(float(limit))}"
        (result.checked if ok else result.failures).append(text)
    result.passed = not result.failures
    return result
