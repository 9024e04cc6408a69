"""``pulumi preview --json`` -> a Markdown review of a fine-tuning change, for a pull request.

What a reviewer approving the change wants to know, without opening Azure AI Studio:

- each fine-tuning resource that will be created, updated, replaced or deleted, and why (which
  inputs changed, old -> new);
- whether a change starts a new paid training run;
- deployments added, removed, replaced or updated per account (and region, when given);
- the cost estimate: training (the validator's token statistics of the local training files x
  epochs x the price table) and hosting (per deployment-hour, before and after);
- how good the last model was (the metrics of the job being replaced, of a deployment's model)
  and whether a deployment's quality gate passes;
- warnings: a deployment replaced instead of updated, a fine-tuned model promoted without
  metrics or quality gate, a quality gate that fails, a training run that cannot be priced.

The resources are dynamic (``pulumi-python:dynamic:Resource``, or ``pulumi-python:dynamic/aoai:<Kind>``
when the classes name their type): the type names the kind when it can, else the inputs do:
``base_model`` + ``training_file``/``adopt_job_id`` is a FineTuningJob, ``deployment_name`` + ``sku`` a
ModelDeployment, ``purpose`` + ``path``/``content_url``/``adopt_file_id`` a TrainingFile.
Resources are linked through ``propertyDependencies`` (a job's ``training_file`` -> the TrainingFile,
a deployment's ``model`` -> the job). Regions are not part of the inputs: pass a mapping of account
name -> region (``aoai-ft review --region aoai-ncus=northcentralus``).

Nothing here calls a network; the training data is read from the local paths in the preview.

Every value that comes from the preview or the state (names, models, ids, paths, input values,
replacement reasons, diagnostics) is escaped where it is written: :func:`_code` makes an inline code
span of it, :func:`_text` escapes it as text (line breaks, Markdown, HTML, mentions, emoji
shortcodes). A config value cannot add a heading, a table row, a link or raw HTML to the review.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import cost, quality, results, schema

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
DYNAMIC = "pulumi-python:dynamic"
PLUGIN = "aoai-finetune:index:"  # the provider plugin's types (schema.Resource.token)
"""Type prefix of dynamic resources: ``pulumi-python:dynamic:Resource``, or with a module and name
(``pulumi-python:dynamic/aoai:FineTuningJob``)."""
KINDS = ("TrainingFile", "FineTuningJob", "ModelDeployment", "ModelEvaluation")
HIDDEN = ("__provider", "owner", "owner_marker")  # owner: who made it (ownership.py), not a change
# inputs whose raw value says nothing to a reader: shown as "changed" only
OPAQUE = ("content_sha256", "training_file_sha256", "validation_file_sha256", "metrics")
# derived from the data, whose SHA-256 says when it changed: read (the run's cost), never listed as a change
DERIVED = ("content_stats", "training_file_stats")
ACTIONS = ("create", "update", "replace", "delete", "same")


# -- the model of a review -------------------------------------------------------------------
@dataclass
class Change:
    urn: str
    name: str
    kind: str  # TrainingFile | FineTuningJob | ModelDeployment
    action: str  # create | update | replace | delete | same
    old: dict[str, Any]
    new: dict[str, Any]
    old_outputs: dict[str, Any]
    deps: dict[str, list[str]]
    replace_reasons: list[str]
    changed: list[str] = field(default_factory=list)
    """Changed input paths, e.g. ``sku.capacity``."""
    why: list[str] = field(default_factory=list)
    """Human-readable reasons."""
    paid_training: bool = False
    training: cost.TrainingEstimate | None = None
    training_replaced: cost.TrainingEstimate | None = None
    """The run a replacement replaces, priced like the new one."""
    hosting_before: cost.HostingEstimate | None = None
    hosting_after: cost.HostingEstimate | None = None
    gate: quality.GateResult | None = None
    notes: list[str] = field(default_factory=list)
    evaluation: cost.InferenceEstimate | None = None
    """A ModelEvaluation that runs (again): the estimated tokens and cost of the run (at most)."""

    @property
    def account(self) -> str | None:
        acct = (self.new or self.old).get("account")
        rid = acct.get("resource_id") if isinstance(acct, Mapping) else acct
        if isinstance(rid, str) and "/accounts/" in rid:
            return rid.rstrip("/").rsplit("/", 1)[-1]
        return None


@dataclass
class Review:
    stack: str
    project: str
    changes: list[Change]
    warnings: list[str]
    diagnostics: list[str]
    regions: dict[str, str]
    prices: cost.PriceTable

    @property
    def failed(self) -> bool:
        return any(d.startswith("error:") for d in self.diagnostics)

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def training_runs(self) -> list[Change]:
        return [c for c in self.of("FineTuningJob") if c.paid_training]

    @property
    def training_usd(self) -> float | None:
        values = [c.training.usd for c in self.training_runs if c.training]
        return sum(v for v in values if v is not None) if values else 0.0

    def hosting(self, when: str) -> tuple[float, int, int]:
        """(USD per hour, priced deployments, unpriced deployments) before or after the change."""
        total, priced, unpriced = 0.0, 0, 0
        for c in self.of("ModelDeployment"):
            est = c.hosting_before if when == "before" else c.hosting_after
            if est is None:
                continue
            if est.usd_per_hour is None:
                unpriced += 1
            else:
                total += est.usd_per_hour
                priced += 1
        return total, priced, unpriced

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "project": self.project,
            "changes": [{"name": c.name, "kind": c.kind, "action": c.action, "account": c.account,
                         "changed": c.changed, "why": c.why, "paid_training": c.paid_training,
                         "training": c.training.to_dict() if c.training else None,
                         "hosting_before": c.hosting_before.to_dict() if c.hosting_before else None,
                         "hosting_after": c.hosting_after.to_dict() if c.hosting_after else None,
                         "gate": {"passed": c.gate.passed, "failures": c.gate.failures, "checked": c.gate.checked}
                         if c.gate else None,
                         "evaluation": c.evaluation.to_dict() if c.evaluation else None} for c in self.changes],
            "warnings": self.warnings, "diagnostics": self.diagnostics, "preview_failed": self.failed,
            "training_usd": self.training_usd,
            "hosting_usd_per_hour": {"before": self.hosting("before")[0], "after": self.hosting("after")[0]},
            "prices": {"as_of": self.prices.as_of, "origin": list(self.prices.origin)},
        }


# -- reading the preview ---------------------------------------------------------------------
def is_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def is_dynamic(resource_type: str | None) -> bool:
    return bool(resource_type) and (resource_type == DYNAMIC or resource_type.startswith((DYNAMIC + ":",
                                                                                          DYNAMIC + "/")))


def is_ours(resource_type: str | None) -> bool:
    """A resource of this package: a dynamic one (the Python API) or the provider plugin's."""
    return is_dynamic(resource_type) or bool(resource_type) and resource_type.startswith(PLUGIN)


def snake_props(resource_type: str | None, props: Mapping[str, Any] | None) -> dict[str, Any]:
    """A resource's properties with the Python API's names (the plugin's are camelCase)."""
    if props and resource_type and resource_type.startswith(PLUGIN):
        try:
            res = schema.resource(resource_type)
        except KeyError:
            return dict(props)
        return schema.to_snake(props, res.inputs + res.outputs + res.state)
    return dict(props or {})


def kind_of(inputs: Mapping[str, Any], resource_type: str | None = None) -> str | None:
    """Which of this package's resources a dynamic resource is: from its type when the type names
    it (``pulumi-python:dynamic/aoai:FineTuningJob``), else from its input keys."""
    if resource_type:
        if not is_ours(resource_type):
            return None
        tail = resource_type.rsplit(":", 1)[-1]
        if tail in KINDS:
            return tail
    if "base_model" in inputs and ("training_file" in inputs or "adopt_job_id" in inputs):
        return "FineTuningJob"
    if "cases" in inputs and "deployment_name" in inputs:
        return "ModelEvaluation"
    if "deployment_name" in inputs and "sku" in inputs:
        return "ModelDeployment"
    if "purpose" in inputs and any(k in inputs for k in ("path", "content_url", "adopt_file_id", "content_sha256")):
        return "TrainingFile"
    return None


def _clean(props: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (props or {}).items() if k not in HIDDEN}


def _normalize_op(op: str) -> str:
    if op in ("replace", "create-replacement", "delete-replaced", "discard-replaced"):
        return "replace"
    if op in ("create", "import", "import-replacement"):
        return "create"
    if op in ("delete", "discard", "read-discard"):
        return "delete"
    if op == "update":
        return "update"
    return "same"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value and prefix.split(".")[-1] not in OPAQUE:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def changed_inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    a, b = _flatten(_clean(old)), _flatten(_clean(new))
    keys = sorted(k for k in set(a) | set(b) if k.split(".")[0] not in DERIVED)
    return [k for k in keys if not _same(a.get(k), b.get(k))]


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if is_unknown(value):
        return "(known after apply)"
    if isinstance(value, str):
        if value.startswith("/subscriptions/") and "/accounts/" in value:
            value = value.rstrip("/").rsplit("/", 1)[-1]
        return value if len(value) <= 60 else value[:28] + "..." + value[-28:]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _get(props: Mapping[str, Any], path: str) -> Any:
    cur: Any = props
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_TEXT_SPECIAL = re.compile(r"[\\`*\[\]|~{}]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=[#A-Za-z])")
_REFERENCE = re.compile(r"([@#:])(?=[A-Za-z0-9_+-])")  # @mentions, #123 references, :emoji: shortcodes
_JOINER = "\u2060"  # word joiner: invisible, breaks GitHub's mention/reference/emoji matching


def _text(value: Any) -> str:
    """``value`` as Markdown text that shows exactly as written: one line, no emphasis, links, tables,
    HTML tags or entities, mentions, issue references or emoji shortcodes."""
    text = _BREAKS.sub(" ", str(value))
    text = _TEXT_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = _ENTITY_START.sub("&amp;", text)
    text = _TAG_START.sub("&lt;", text)
    return _REFERENCE.sub(lambda m: m.group(1) + _JOINER, text)


def _code(value: Any) -> str:
    """``value`` as an inline code span (shown literally, HTML included): one line, a backtick fence
    longer than any run of backticks inside, and ``|`` escaped for table cells."""
    text = _BREAKS.sub(" ", str(value)).replace("|", "\\|")
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_md = _text  # the helper's earlier name (it escaped only "|" and line breaks): callers get the full escape


def _value(value: Any) -> str:
    """An input value in a change line: our words for none/unknown, else the escaped value."""
    if value is None or is_unknown(value):
        return _show(value)
    return _text(_show(value))


def _parse_urn(urn: str) -> tuple[str, str, str]:
    # urn:pulumi:<stack>::<project>::<type>::<name>
    try:
        head, project, _type, name = urn.split("::", 3)
        return head.split(":")[-1], project, name
    except ValueError:
        return "", "", urn


def load_preview(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """The preview document from a file (``pulumi preview --json`` output) or a mapping."""
    if isinstance(source, Mapping):
        return dict(source)
    text = Path(source).read_text(encoding="utf-8-sig")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start = text.find("{")  # tolerate lines printed before the JSON document
        if start > 0:
            return json.loads(text[start:])
        raise


def _steps(preview: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One merged record per URN of this package's resources."""
    merged: dict[str, dict[str, Any]] = {}
    for step in preview.get("steps") or []:
        urn = step.get("urn") or ""
        state = step.get("newState") or step.get("oldState") or {}
        rtype = state.get("type") or (urn.split("::")[-2] if urn.count("::") >= 3 else "")
        if not is_ours(rtype):
            continue
        rec = merged.setdefault(urn, {"urn": urn, "type": rtype, "ops": [], "old": None, "new": None,
                                      "old_outputs": None, "deps": {}, "replace_reasons": []})
        rec["ops"].append(step.get("op") or "same")
        old, new = step.get("oldState"), step.get("newState")
        if old and rec["old"] is None:
            rec["old"] = _clean(snake_props(rtype, old.get("inputs")))
            rec["old_outputs"] = _clean(snake_props(rtype, old.get("outputs")))
        if new and new.get("inputs") is not None and (rec["new"] is None or step.get("op") != "delete-replaced"):
            rec["new"] = _clean(snake_props(rtype, new.get("inputs")))
            rec["deps"] = {k: list(v) for k, v in snake_props(rtype, new.get("propertyDependencies")).items()
                           if k not in HIDDEN}
        reasons = step.get("replaceReasons") or step.get("diffReasons") or []
        for reason in snake_props(rtype, dict.fromkeys(reasons)):
            if reason not in rec["replace_reasons"] and reason not in HIDDEN:
                rec["replace_reasons"].append(reason)
    return list(merged.values())


# -- building the review -----------------------------------------------------------------------
def build(preview: Mapping[str, Any], *, prices: cost.PriceTable | None = None,
          regions: Mapping[str, str] | None = None, base_dir: str | os.PathLike[str] | None = None) -> Review:
    """Analyse a preview. ``regions``: account name -> region; ``base_dir``: where relative
    training-file paths are resolved (default: the current directory)."""
    prices = prices or cost.load_prices()
    regions = {k.lower(): v for k, v in (regions or {}).items()}
    stack = project = ""
    changes: list[Change] = []
    for rec in _steps(preview):
        props = rec["new"] if rec["new"] is not None else (rec["old"] or {})
        kind = kind_of(props, rec["type"])
        if kind is None:
            continue
        stack, project, name = _parse_urn(rec["urn"])
        ops = [_normalize_op(op) for op in rec["ops"]]
        action = next((a for a in ("replace", "create", "delete", "update") if a in ops), "same")
        if action == "create" and rec["old"] is not None and rec["new"] is not None:
            action = "replace"
        change = Change(urn=rec["urn"], name=name, kind=kind, action=action, old=rec["old"] or {},
                        new=rec["new"] if action != "delete" else {}, old_outputs=rec["old_outputs"] or {},
                        deps=rec["deps"], replace_reasons=rec["replace_reasons"])
        if action in ("update", "replace"):
            change.changed = changed_inputs(change.old, change.new)
        changes.append(change)
    by_urn = {c.urn: c for c in changes}
    review = Review(stack=stack, project=project, changes=changes, warnings=[], diagnostics=[],
                    regions=regions, prices=prices)
    for change in changes:
        {"TrainingFile": _file_why, "FineTuningJob": _job_why, "ModelDeployment": _deployment_why,
         "ModelEvaluation": _evaluation_why}[change.kind](change, by_urn)
    for change in review.of("FineTuningJob"):
        if change.paid_training:
            change.training = _training_estimate(change, by_urn, changes, prices, base_dir)
            if change.training.trained_tokens is None or change.training.usd is None:
                review.warnings.append(f"The new training run of {_code(change.name)} could not be priced: "
                                       f"{_text(change.training.line())}")
    for change in review.of("ModelDeployment"):
        if change.action != "create":
            change.hosting_before = cost.estimate_hosting(change.old.get("sku"), prices)
        if change.action != "delete":
            change.hosting_after = cost.estimate_hosting(change.new.get("sku"), prices)
        _deployment_checks(change, by_urn, review)
    for change in review.of("ModelEvaluation"):
        if change.action in ("create", "replace"):
            change.evaluation = _evaluation_estimate(change, by_urn, prices)
    for diag in preview.get("diagnostics") or []:
        severity = str(diag.get("severity") or diag.get("level") or "info").split("#")[0]
        msg = " ".join(str(diag.get("message") or "").split())
        if severity not in ("error", "warning") or not msg or "Resource monitor has terminated" in msg:
            continue
        review.diagnostics.append(msg if msg.startswith(f"{severity}:") else f"{severity}: {msg}")
    return review


def _describe_change(change: Change, path: str) -> str:
    old, new = _get(change.old, path), _get(change.new, path)
    if path.split(".")[0] in OPAQUE:
        return f"{_text(path)} changed"
    return f"{_text(path)}: {_value(old)} -> {_value(new)}"


def _dep_names(change: Change, key: str, by_urn: Mapping[str, Change]) -> list[Change]:
    return [by_urn[u] for u in change.deps.get(key, []) if u in by_urn]


def _file_why(change: Change, by_urn: Mapping[str, Change]) -> None:
    if change.action == "create":
        change.why.append("new file: uploaded" if change.new.get("path") else "new file: imported")
    elif change.action == "delete":
        change.why.append("removed from the program: the file is deleted from the account")
    elif change.action in ("update", "replace"):
        for path in change.changed:
            if path == "content_sha256":
                change.why.append("the data changed (content SHA-256 differs): uploaded again")
            elif path == "content_bytes":
                continue
            else:
                change.why.append(_describe_change(change, path))
        if change.action == "update" and "path" in change.changed and "content_sha256" not in change.changed:
            change.why.append("same content: not uploaded again")


def _job_why(change: Change, by_urn: Mapping[str, Change]) -> None:
    new, old = change.new, change.old
    if change.action == "create":
        if new.get("adopt_job_id"):
            change.why.append(f"adopts the existing job {_text(new['adopt_job_id'])}: no new training run")
        else:
            change.paid_training = True
            change.why.append("new training run")
    elif change.action == "delete":
        change.why.append("removed from the program: a running job is cancelled; the model is "
                          + ("deleted" if old.get("delete_model_on_destroy") else "kept"))
    elif change.action == "replace":
        change.paid_training = not new.get("adopt_job_id")
        for path in change.changed:
            key = path.split(".")[0]
            if key in ("training_file", "validation_file"):
                deps = _dep_names(change, key, by_urn)
                dep = deps[0] if deps else None
                if dep is not None and dep.action == "replace" and "content_sha256" in dep.changed:
                    change.why.append(f"{key}: the data of {_code(dep.name)} changed")
                elif dep is not None and dep.action in ("replace", "create"):
                    change.why.append(f"{key}: {_code(dep.name)} is {dep.action}d")
                else:
                    change.why.append(_describe_change(change, path))
            elif key.endswith("_sha256"):
                continue
            else:
                change.why.append(_describe_change(change, path))
        if not change.why:
            change.why.extend(f"{_text(r)} changed" for r in change.replace_reasons)
    elif change.action == "update":
        for path in change.changed:
            if path.endswith("_sha256"):
                continue
            change.why.append(_describe_change(change, path))
        if any(p.startswith(("training_file", "validation_file")) for p in change.changed):
            change.why.append("the same data re-uploaded: no new training run")
    if change.paid_training:
        change.why.append("**starts a new paid training run**")


def _deployment_why(change: Change, by_urn: Mapping[str, Change]) -> None:
    if change.action == "create":
        change.why.append(f"new deployment of {_model_text(change, by_urn)}")
    elif change.action == "delete":
        change.why.append("removed from the program: the deployment is deleted (its hourly fee stops)")
    elif change.action in ("update", "replace"):
        for path in change.changed:
            if path == "model" and is_unknown(change.new.get("model")):
                change.why.append(f"model: {_value(change.old.get('model'))} -> {_model_text(change, by_urn)}")
            elif path.split(".")[0] == "metrics":
                if "metrics changed" not in change.why:
                    change.why.append("metrics changed")
            else:
                change.why.append(_describe_change(change, path))


def _evaluation_why(change: Change, by_urn: Mapping[str, Change]) -> None:
    new = change.new
    runs = f"{_value(new.get('cases_count'))} case(s) on deployment {_code(_show(new.get('deployment_name')))}"
    if change.action == "create":
        change.why.append(f"new evaluation: **runs** {runs}")
    elif change.action == "delete":
        change.why.append("removed from the program: its record goes (nothing in the service)")
    elif change.action in ("update", "replace"):
        for path in change.changed:
            key = path.split(".")[0]
            if key == "cases_sha256":
                change.why.append("the case file changed (content SHA-256 differs)")
            elif key == "model" and is_unknown(new.get("model")):
                change.why.append("model: the deployment's model changes (known after apply)")
            elif key in ("cases_count", "cases_prompt_tokens", "cases_graders"):
                continue
            else:
                change.why.append(_describe_change(change, path))
        if change.action == "replace":
            change.why.append(f"**runs again**: {runs}")
        else:
            change.why.append("no new run")


def _evaluation_estimate(change: Change, by_urn: Mapping[str, Change],
                         prices: cost.PriceTable) -> cost.InferenceEstimate:
    """At most every answer at max_tokens, on the evaluated model (or, not known yet, a fine-tuned
    model of the base model of the job behind the deployment)."""
    new = change.new
    count = new.get("cases_count") if isinstance(new.get("cases_count"), (int, float)) else 0
    prompt = new.get("cases_prompt_tokens") if isinstance(new.get("cases_prompt_tokens"), (int, float)) else 0
    max_tokens = new.get("max_tokens") if isinstance(new.get("max_tokens"), (int, float)) else 1024
    model = new.get("model") if isinstance(new.get("model"), str) and not is_unknown(new.get("model")) else None
    if model is None:
        for dep in _dep_names(change, "model", by_urn) + _dep_names(change, "deployment_name", by_urn):
            job = _job_for_model(dep, by_urn, by_urn.values()) if dep.kind == "ModelDeployment" else None
            base = _base_model(job, by_urn) if job is not None else None
            if base:
                model = f"{base}.ft-(new)"
                break
    return cost.estimate_inference(model, int(prompt), int(count) * int(max_tokens), prices=prices)


def _evaluation_line(results: Mapping[str, Any] | None) -> str:
    """An evaluation's results (another stack's output, or the state), as escaped Markdown; figures
    that are not numbers show as ``?``."""
    if not isinstance(results, Mapping) or not results.get("cases_run"):
        return "no results"

    def count(value: Any) -> str:
        return quality.format_number(value) if _finite(value) else "?"

    def rate(value: Any) -> str:
        return f"{float(value) * 100:.1f}%" if _finite(value) else "?"

    line = (f"{count(results.get('passed_cases'))}/{count(results.get('cases_run'))} cases passed "
            f"({rate(results.get('pass_rate') or 0)})")
    per = results.get("pass_rate_per_grader")
    if isinstance(per, Mapping) and per:
        line += "; " + ", ".join(f"{_text(g)} {rate(r)}" for g, r in per.items() if r is not None)
    if results.get("model"):
        line += f"; model {_code(results['model'])}"
    return line


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _model_text(change: Change, by_urn: Mapping[str, Change]) -> str:
    model = change.new.get("model")
    if model is not None and not is_unknown(model):
        return _code(_show(model))
    jobs = [c for c in _dep_names(change, "model", by_urn) if c.kind == "FineTuningJob"]
    if jobs:
        job = jobs[0]
        verb = {"create": "created", "replace": "retrained"}.get(job.action, "")
        return f"the model of job {_code(job.name)}" + (f" ({verb} in this update)" if verb else "")
    return "a model known after apply"


def _job_for_model(change: Change, by_urn: Mapping[str, Change], changes: Iterable[Change]) -> Change | None:
    jobs = [c for c in _dep_names(change, "model", by_urn) if c.kind == "FineTuningJob"]
    if jobs:
        return jobs[0]
    model = change.new.get("model") or change.old.get("model")
    for c in changes:
        if c.kind == "FineTuningJob" and model and c.old_outputs.get("fine_tuned_model") \
                and str(model).startswith(c.old_outputs["fine_tuned_model"]):
            return c
    return None


def _deployment_checks(change: Change, by_urn: Mapping[str, Change], review: Review) -> None:
    if change.action == "delete":
        return
    new = change.new
    label = f"Deployment {_code(change.name)}" + (f" in {_code(change.account)}" if change.account else "")
    if change.action == "replace":
        kept_name = "deployment_name" not in change.changed and "account" not in change.changed
        reasons = ", ".join(sorted({p.split(".")[0] for p in change.changed} & {
            "model", "deployment_name", "account", "source_account", "model_format", "model_version"}
                                   or set(change.replace_reasons))) or "replacement"
        text = (f"{label} will be **replaced** instead of updated ({_text(reasons)} changed)")
        if kept_name:
            text += ": it is deleted first, so the endpoint is down until the new deployment is ready"
        review.warnings.append(text + ".")
    model = new.get("model")
    job = _job_for_model(change, by_urn, review.changes)
    fine_tuned = (isinstance(model, str) and ".ft-" in model) or is_unknown(model) or job is not None
    if change.action in ("create", "replace", "update") and fine_tuned:
        metrics = new.get("metrics")
        gate = new.get("quality_gate")
        evaluation = new.get("evaluation")
        if metrics is None and evaluation is None:
            review.warnings.append(f"{label} promotes a fine-tuned model without metrics: pass "
                                   "`metrics=job.metrics` and a `quality_gate` to refuse a bad model.")
        elif gate is None:
            change.notes.append("metrics passed but no quality gate")
            if change.action in ("create", "replace"):
                review.warnings.append(f"{label} promotes a fine-tuned model without a quality gate.")
        if evaluation is not None and not is_unknown(evaluation):
            change.notes.append(f"evaluation: {_evaluation_line(evaluation)}")
        if isinstance(gate, Mapping) and (metrics is not None or evaluation is not None) and not is_unknown(metrics) \
                and not is_unknown(gate) and not is_unknown(evaluation):
            metrics = _numbers(metrics)
            change.gate = quality.evaluate(gate, metrics, evaluation, model=None if is_unknown(model) else model)
            if not change.gate.passed:
                shown = None if is_unknown(model) else model
                review.warnings.append(f"{label}: {_text(change.gate.message(shown, metrics))}")
        elif gate and is_unknown(metrics):
            change.notes.append("quality gate checked when the new metrics are known (before deployment)")


def _training_estimate(change: Change, by_urn: Mapping[str, Change], changes: list[Change],
                       prices: cost.PriceTable, base_dir: str | os.PathLike[str] | None) -> cost.TrainingEstimate:
    new = change.new
    if change.action == "replace" and isinstance(change.old.get("training_file_stats"), Mapping):
        change.training_replaced = cost.estimate_job(change.old, prices)
    if isinstance(new.get("training_file_stats"), Mapping) and not is_unknown(new["training_file_stats"]):
        # the statistics the file's check computed at preview: the numbers the job's preview states
        est = cost.estimate_job({**new, "base_model": _base_model(change, by_urn)}, prices)
        est.notes.insert(0, f"data: {new['training_file_stats'].get('examples', 0):,} examples")
        return est
    model = _base_model(change, by_urn)
    hp = new.get("hyperparameters") if isinstance(new.get("hyperparameters"), Mapping) else {}
    epochs = hp.get("n_epochs")
    if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or epochs < 1:
        epochs = None
    file_change = _training_file(change, by_urn, changes)
    notes: list[str] = []
    if file_change is None:
        ref = new.get("training_file")
        return cost.estimate_training(model, None, epochs, prices=prices,
                                      notes=[f"training file {_show(ref)} is not a TrainingFile of this stack"])
    path = file_change.new.get("path") or file_change.old.get("path")
    if path and base_dir and not os.path.isabs(path):
        path = os.path.join(base_dir, path)
    if path and os.path.isfile(path):
        from .data import validate_file

        kwargs: dict[str, Any] = {"n_epochs": int(epochs) if epochs else None}
        if model:
            kwargs["model"] = model
        try:
            report = validate_file(path, **kwargs)
            stats = report.stats.get("training")
        except Exception as exc:  # a broken file must not break the review
            stats = None
            notes.append(f"{path}: could not be read ({exc})")
        if stats is not None:
            est = cost.estimate_training_from_stats(stats, model, int(epochs) if epochs else None, prices=prices)
            est.notes.insert(0, f"data: {os.path.basename(path)} ({stats.examples:,} examples)")
            return est
    size = file_change.new.get("content_bytes")
    if isinstance(size, (int, float)) and size > 0:
        notes.append(f"{path or 'the training file'} not readable here: tokens guessed from its size "
                     f"({int(size):,} bytes / 4)")
        return cost.estimate_training(model, int(size) // 4, epochs, prices=prices, notes=notes)
    notes.append("the training data is not local (content_url or adopted file): tokens unknown")
    return cost.estimate_training(model, None, epochs, prices=prices, notes=notes)


def _base_model(change: Change, by_urn: Mapping[str, Change], depth: int = 0) -> str | None:
    model = change.new.get("base_model") or change.old.get("base_model")
    if isinstance(model, str) and not is_unknown(model):
        return model
    if depth < 10:  # continuous fine-tuning: the base is another job's model
        for parent in _dep_names(change, "base_model", by_urn):
            if parent.kind == "FineTuningJob":
                return _base_model(parent, by_urn, depth + 1)
    return None


def _training_file(change: Change, by_urn: Mapping[str, Change], changes: list[Change]) -> Change | None:
    for dep in _dep_names(change, "training_file", by_urn):
        if dep.kind == "TrainingFile":
            return dep
    ref = change.new.get("training_file")
    for c in changes:
        if c.kind == "TrainingFile" and ref and c.old_outputs.get("file_id") == ref:
            return c
    return None


# -- Markdown ----------------------------------------------------------------------------------
def _numbers(metrics: Any) -> dict[str, Any] | None:
    """The metrics of a preview or state as the review uses them: a mapping whose figures are finite
    numbers (anything else -- a string, a list, nan -- is left out, so it is never formatted or
    compared as a number); ``None`` when it is not a mapping at all."""
    if not isinstance(metrics, Mapping):
        return None
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or value is None:
            out[key] = value
        elif isinstance(value, (int, float)) and math.isfinite(value):
            out[key] = value
        elif key in ("overfitting_note", "results_file") and isinstance(value, str):
            out[key] = value
    return out


def _metrics_line(metrics: Mapping[str, Any] | None) -> str:
    metrics = _numbers(metrics)
    if not metrics or not metrics.get("steps"):
        return "no metrics"
    parts = []
    vl, va = results.final_valid_loss(metrics), results.final_valid_token_accuracy(metrics)
    if vl is not None:
        parts.append(f"final validation loss {vl:.4f}")
    if va is not None:
        parts.append(f"validation token accuracy {va:.4f}")
    if metrics.get("final_train_loss") is not None:
        parts.append(f"final training loss {metrics['final_train_loss']:.4f}")
    if metrics.get("best_valid_loss") is not None:
        parts.append(f"best validation loss {metrics['best_valid_loss']:.4f} "
                     f"at step {quality.format_number(metrics.get('best_valid_loss_step'))}")
    signal = metrics.get("overfitting")
    if isinstance(signal, bool):
        parts.append("overfitting: " + ("**yes**" if signal else "no"))
    return ", ".join(parts) or "no metrics"


def render(review: Review) -> str:
    """The review as Markdown."""
    c = cost
    out: list[str] = []
    title = f"## Fine-tuning review: stack {_code(review.stack)}" if review.stack else "## Fine-tuning review"
    if review.project:
        title += f" ({_text(review.project)})"
    out.append(title)
    out.append("")
    acted = [ch for ch in review.changes if ch.action != "same"]
    runs = review.training_runs
    deps = review.of("ModelDeployment")
    counts = {a: sum(1 for ch in deps if ch.action == a) for a in ("create", "delete", "replace", "update")}
    before, _, _ = review.hosting("before")
    after, _, unpriced_after = review.hosting("after")
    summary = [f"**{len(runs)} new paid training run{'s' if len(runs) != 1 else ''}**" if runs
               else "no new training run"]
    dep_bits = [f"{n} {word}" for word, n in (("added", counts["create"]), ("removed", counts["delete"]),
                                              ("replaced", counts["replace"]), ("updated", counts["update"])) if n]
    summary.append("deployments: " + (", ".join(dep_bits) if dep_bits else "no change"))
    training_usd = review.training_usd
    summary.append(f"estimated training {c.usd(training_usd, review.prices.currency)}"
                   + (" (partly unpriced)" if any(ch.training and ch.training.usd is None for ch in runs) else ""))
    summary.append(f"hosting {c.usd(after, review.prices.currency)}/hour after the change "
                   f"({_delta(after - before, review.prices.currency)}/hour)")
    out.append("**Summary:** " + " · ".join(summary))
    out.append("")
    if review.failed:
        out.append("**The preview failed**: the changes below are incomplete; see the errors under Warnings.")
        out.append("")
    if not acted:
        out.append("No fine-tuning resource changes.")
        out.append("")

    if acted:
        out.append("### Changes")
        out.append("")
        out.append("| Resource | Type | Action | Why |")
        out.append("|---|---|---|---|")
        for ch in acted:
            action = f"**{ch.action}**" if ch.action in ("replace", "delete") else ch.action
            out.append(f"| {_code(ch.name)} | {ch.kind} | {action} | {'; '.join(ch.why) or '-'} |")
        out.append("")

    jobs = [ch for ch in review.of("FineTuningJob") if ch.action != "same" or ch.old_outputs.get("metrics")]
    if jobs:
        out.append("### Training runs")
        out.append("")
        for ch in jobs:
            base = _show(ch.new.get("base_model") or ch.old.get("base_model"))
            head = f"- {_code(ch.name)} ({_text(base)}): "
            if ch.paid_training:
                head += "**new paid training run**"
            elif ch.action == "same":
                head += "unchanged"
            else:
                head += f"{ch.action}, no new training run" if ch.action != "delete" else "deleted"
            out.append(head)
            if ch.training:
                out.append(f"  - estimate: {_text(ch.training.line())}")
            if ch.training_replaced:
                out.append(f"  - the run it replaces: {_text(ch.training_replaced.short())}")
            last = ch.old_outputs.get("metrics")
            if ch.old_outputs.get("job_id"):
                prefix = "last run" if ch.action in ("replace", "delete") else "current run"
                out.append(f"  - {prefix} {_code(ch.old_outputs['job_id'])}"
                           + (f" -> {_code(ch.old_outputs['fine_tuned_model'])}" if ch.old_outputs.get("fine_tuned_model")
                              else "") + f": {_metrics_line(last)}")
        out.append("")

    if deps:
        out.append("### Deployments per region")
        out.append("")
        out.append("| Account | Region | Added | Removed | Replaced | Updated | Unchanged | After | Hosting after |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        accounts = sorted({ch.account or "?" for ch in deps})
        for acct in accounts:
            mine = [ch for ch in deps if (ch.account or "?") == acct]
            names = {a: ", ".join(_code(ch.name) for ch in mine if ch.action == a) or "-"
                     for a in ("create", "delete", "replace", "update", "same")}
            after_n = sum(1 for ch in mine if ch.action != "delete")
            region = review.regions.get(acct.lower(), "(unknown: pass --region)")
            hosting = [ch.hosting_after.usd_per_hour for ch in mine if ch.hosting_after is not None]
            cost_after = "-" if not hosting else "not priced" if None in hosting else \
                f"{cost.usd(sum(hosting), review.prices.currency)}/hour"
            out.append(f"| {_code(acct)} | {_text(region)} | {names['create']} | {names['delete']} | {names['replace']} | "
                       f"{names['update']} | {names['same']} | {after_n} | {cost_after} |")
        out.append("")
        details = [ch for ch in deps if ch.action != "delete"]
        if details:
            for ch in details:
                metrics = ch.new.get("metrics")
                line = f"- {_code(ch.name)}: {_model_text(ch, {x.urn: x for x in review.changes})}"
                if ch.hosting_after:
                    line += f", {_text(ch.hosting_after.sku)} x{_text(ch.hosting_after.capacity)}"
                if metrics is not None and not is_unknown(metrics):
                    line += f"; metrics: {_metrics_line(metrics)}"
                elif is_unknown(metrics):
                    line += "; metrics: known after training"
                if ch.gate is not None:
                    line += "; quality gate: " + ("passes" if ch.gate.passed else "**fails**") + \
                        f" ({_text('; '.join(ch.gate.failures or ch.gate.checked))})"
                for note in ch.notes:
                    line += f"; {note}"
                out.append(line)
            out.append("")

    evaluations = [ch for ch in review.of("ModelEvaluation") if ch.action != "same" or ch.old_outputs.get("results")]
    if evaluations:
        out.append("### Evaluations")
        out.append("")
        for ch in evaluations:
            head = f"- {_code(ch.name)} (deployment {_code(_show((ch.new or ch.old).get('deployment_name')))}): "
            if ch.action in ("create", "replace"):
                head += "**runs**" + (f", {_text(ch.evaluation.line())}" if ch.evaluation else "")
            else:
                head += {"delete": "removed", "update": "updated, no new run", "same": "unchanged, no run"}[ch.action]
            out.append(head)
            if ch.old_outputs.get("results"):
                prefix = "last run" if ch.action in ("replace", "delete") else "results"
                out.append(f"  - {prefix}: {_evaluation_line(ch.old_outputs['results'])}")
        out.append("")

    out.append("### Cost estimate")
    out.append("")
    out.append("| Item | Estimate | Basis |")
    out.append("|---|---|---|")
    for ch in runs:
        est = ch.training
        if est is None:
            continue
        basis = (f"{est.tokens:,} tokens x {est.epochs} epochs at {c.usd(est.usd_per_1m, est.currency)}/1M"
                 if est.trained_tokens is not None and est.usd_per_1m is not None
                 else "; ".join(est.notes) or "not priced")
        if est.epochs_note:
            basis += f" ({est.epochs_note})"
        if ch.training_replaced:
            basis += f"; replaces a run of {ch.training_replaced.short()}"
        out.append(f"| Training {_code(ch.name)} ({_text(est.model or '?')}) | {c.usd(est.usd, est.currency)} | "
                   f"{_text(basis)} |")
    if not runs:
        out.append("| Training | $0.00 | no new training run |")
    for ch in review.of("ModelEvaluation"):
        if ch.evaluation is not None:
            est = ch.evaluation
            out.append(f"| Evaluation {_code(ch.name)} | at most {c.usd(est.usd, est.currency)} | "
                       f"{est.prompt_tokens:,} input + up to {est.completion_tokens:,} output tokens"
                       f"{' (' + _text(est.note) + ')' if est.note else ''} |")
    n_after = sum(1 for ch in deps if ch.action != "delete")
    per_month = after * review.prices.hours_per_month
    out.append(f"| Hosting after the change | {c.usd(after, review.prices.currency)}/hour "
               f"(~{c.usd(per_month, review.prices.currency)}/month) | {n_after} deployment(s)"
               + (f", {unpriced_after} not priced" if unpriced_after else "") + " |")
    out.append(f"| Hosting change | {_delta(after - before, review.prices.currency)}/hour | "
               f"before: {c.usd(before, review.prices.currency)}/hour |")
    out.append("")
    out.append(f"Total one-time training: **{c.usd(training_usd, review.prices.currency)}**; hosting "
               f"**{c.usd(after, review.prices.currency)}/hour** "
               f"({_delta(after - before, review.prices.currency)}/hour), token usage extra. "
               f"Prices as of {review.prices.as_of} ({review.prices.source or 'price table'}); "
               f"update `prices.yaml` or set `AOAI_FT_PRICES`.")
    out.append("")

    if review.warnings or review.diagnostics:
        out.append("### Warnings")
        out.append("")
        for w in review.warnings:
            out.append(f"- :warning: {w}")
        for d in review.diagnostics:
            out.append(f"- {_text(d)}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _delta(value: float, currency: str) -> str:
    if abs(value) < 0.005:
        return "+" + cost.usd(0.0, currency)
    return ("+" if value > 0 else "-") + cost.usd(abs(value), currency)


def markdown(preview: Mapping[str, Any] | str | os.PathLike[str], **kwargs: Any) -> str:
    """Preview JSON (a mapping or a file) -> Markdown, in one call."""
    return render(build(load_preview(preview), **kwargs))
