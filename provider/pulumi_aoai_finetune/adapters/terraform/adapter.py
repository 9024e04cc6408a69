"""The thin adapter: Terraform's resource lifecycle <-> the resource controllers.

Terraform asks for a *plan* (PlanResourceChange), then an *apply* (ApplyResourceChange), a *read*
(ReadResource) or an *import* (ImportResourceState). The controllers answer check/diff,
create/update/delete and read, over the same dicts as under Pulumi. What Terraform adds, and where
it is handled here:

- **Echoed configuration.** A planned value must equal what the user wrote, so the state keeps the
  user's values as written, and the controllers' normalised inputs and outputs travel beside them
  in the resource's *private* state (JSON): the "olds" a controller diffs, updates and reads
  against, exactly as the Pulumi engine hands them the old outputs.
- **Replacement** is the controller's diff: its replace keys become ``requires_replace`` paths, so
  the plan marks ``# forces replacement`` on what changed (a file's ``content_sha256``, a job's
  ``hyperparameters``...).
- **Known outputs at plan.** A create or replacement plans its outputs unknown; an in-place update
  keeps them known unless the update changes them, so a job whose data was only re-uploaded does
  not make its deployments look replaced.
- **Interrupts.** A stop request (Ctrl-C) ends a controller's wait with
  :class:`~..errors.WaitInterrupted`. A job interrupted while training is kept in state as it is
  (running, *not* tainted: replacing it would cancel a paid run) and the next plan shows an
  in-place update that waits for it. A file or deployment interrupted half-way is returned with an
  error, so Terraform keeps it tainted and replaces it at the next apply.
- **Messages.** What the controllers log through ``pulumi.log`` is collected per call: at plan
  time it becomes one warning per resource (the data's statistics and cost estimate, the hosting
  fee), at apply time warnings stay warnings and the rest goes to the provider log
  (``TF_LOG_PROVIDER=INFO``).
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ...controller import IMPORTED, UNKNOWN, Controller, Diff, as_int, is_unknown
from ...account import AccountRef
from ...errors import AoaiFinetuneError, ConfigurationError, WaitInterrupted
from ...fine_tuning_job import TERMINAL as JOB_TERMINAL
from ...fine_tuning_job import FineTuningJobController
from ... import quality
from ...model_deployment import GATE_KEYS, ModelDeploymentController
from ...model_evaluation import ModelEvaluationController
from ...training_file import TrainingFileController
from . import schema
from .wire import UNKNOWN_WIRE, Nested, drop_nulls, from_python, is_wire_unknown, to_python


# -- messages ------------------------------------------------------------------------------------
@dataclass
class Diagnostic:
    severity: str  # "error" | "warning"
    summary: str
    detail: str = ""
    attribute: Optional[str] = None


@dataclass
class Notes:
    """What the controllers logged during one call (see :func:`collect`)."""

    info: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_TERMS = [(re.compile(p), r) for p, r in (
    (r"`pulumi up`", "`tofu apply` (or `terraform apply`)"),
    (r"`pulumi refresh`", "`tofu refresh`"),
    (r"`pulumi preview`", "`tofu plan`"),
    (r"the resource's custom_timeouts", "timeout_seconds"),
    (r"\(or the resource's custom_timeouts\)", "(timeout_seconds)"),
    (r"adopt_existing=True", "adopt_existing = true"),
    (r"aoai-finetune:(\w+)", lambda m: f"the provider's {schema.snake(m[1])}"),
)]


def for_terraform(message: str) -> str:
    """A controller's message in Terraform's words (commands, settings)."""
    for pattern, replacement in _TERMS:
        message = pattern.sub(replacement, message)
    return message


class _LogSink:
    """Stands in for the Pulumi engine's Log call while a controller runs in a Terraform provider:
    ``pulumi.log`` hands it every message of the current thread's call."""

    def __init__(self, notes: Notes, log: Callable[[str, str], None]) -> None:
        self.notes, self.log = notes, log

    def Log(self, request: Any) -> None:  # noqa: N802 - the engine's RPC name
        from pulumi.runtime.proto import engine_pb2

        message = for_terraform(request.message)
        if request.severity in (engine_pb2.WARNING, engine_pb2.ERROR):
            self.notes.warnings.append(message)
            self.log("warn", message)
        elif request.severity == engine_pb2.INFO:
            self.notes.info.append(message)
            self.log("info", message)
        else:
            self.log("debug", message)


class collect:
    """``with collect(log) as notes:`` gathers what ``pulumi.log`` receives in this thread.

    ``pulumi.log`` sends to the engine of the current context (a context variable of the Pulumi
    SDK); each gRPC call runs in its own thread, so each call's messages are its own."""

    def __init__(self, log: Callable[[str, str], None]) -> None:
        self.notes = Notes()
        self._sink = _LogSink(self.notes, log)

    def __enter__(self) -> Notes:
        from pulumi.runtime import settings

        self._previous = settings.SETTINGS.engine
        settings.SETTINGS.engine = self._sink
        return self.notes

    def __exit__(self, *exc: Any) -> None:
        from pulumi.runtime import settings

        settings.SETTINGS.engine = self._previous


def _stderr_log(level: str, message: str) -> None:
    """The provider's log: one hclog JSON line on stderr, which the CLI shows under TF_LOG_PROVIDER."""
    line = json.dumps({"@level": level, "@message": message, "@module": "aoai-finetune",
                       "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())})
    print(line, file=sys.stderr, flush=True)


# -- resources -----------------------------------------------------------------------------------
@dataclass
class Result:
    """What an adapter call answers: wire values (None = null), private bytes, diagnostics."""

    state: Any = None
    private: bytes = b""
    requires_replace: list[list[str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    imported: bool = False
    #: the plan keeps an imported object's state although the configuration writes values the service
    #: does not record (see :meth:`ResourceAdapter.imported_unchanged`): the CLI is told to accept it
    keeps_imported: bool = False


class ResourceAdapter:
    """One Terraform resource type over one controller. Subclasses add what their resource needs."""

    type_name: str
    controller_class: type[Controller]
    kind_name: str = "object"
    #: inputs the service does not record: an import cannot read them back, they are the configuration's
    unrecorded: tuple[str, ...] = ()

    def __init__(self, settings_source: Callable[[], Any], log: Callable[[str, str], None] = _stderr_log) -> None:
        self._settings = settings_source
        self._log = log
        self.source = schema.SOURCES[self.type_name]
        self.attrs = schema.RESOURCES[self.type_name]
        self.by_name = {a.name: a for a in self.attrs}
        # a replaced input whose cause shows in another attribute (a file's path: its content hash)
        self.replace_extra = {f.name: (f.content_key,) for f in self.source.inputs if f.content_key}
        # computed attributes the check derives from the configuration: known at plan time
        self.derived = tuple(f.name for f in self.source.state if f.name in self.by_name)

    # -- helpers ---------------------------------------------------------------------------------
    def controller(self) -> Controller:
        ctl = self.controller_class(self._settings())
        ctl.live_reads = True
        return ctl

    def inputs(self, config: dict) -> dict:
        """The controller's inputs from a configuration (wire form): null attributes left out."""
        values = {}
        for attr in self.attrs:
            if attr.is_input and config.get(attr.name) is not None:
                values[attr.name] = drop_nulls(to_python(config[attr.name], attr.type))
        return values

    def python_state(self, state: dict) -> dict:
        return {a.name: to_python(state.get(a.name), a.type) for a in self.attrs if state.get(a.name) is not None}

    @staticmethod
    def private_of(raw: bytes) -> Optional[dict]:
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def olds(self, state: dict, private: bytes) -> dict:
        """The controller's view of the object: its outputs as recorded after the last apply or read."""
        recorded = self.private_of(private)
        if recorded is not None and isinstance(recorded.get("outputs"), dict):
            return recorded["outputs"]
        return drop_nulls(self.python_state(state))

    def failures_to_diagnostics(self, failures: list[tuple[str, str]]) -> list[Diagnostic]:
        diags = []
        for path, message in failures:
            message = for_terraform(message)
            first, _, rest = message.partition("\n")
            top = path.split(".", 1)[0] if path else None
            diags.append(Diagnostic("error", first[:300], message if rest or len(first) > 300 else "",
                                    top if top in self.by_name else None))
        return diags

    def _run(self, notes_into: list[Diagnostic], fn: Callable[[], Any], *, plan: bool = False,
             summary: str = "") -> Any:
        with collect(self._log) as notes:
            try:
                return fn()
            finally:
                if plan and (notes.info or notes.warnings):
                    notes_into.append(Diagnostic("warning", summary or f"{self.kind_name}: plan notes",
                                                 "\n".join(notes.warnings + notes.info)))
                else:
                    notes_into.extend(Diagnostic("warning", w.partition("\n")[0][:300], w) for w in notes.warnings)

    # -- plan ------------------------------------------------------------------------------------
    def plan(self, prior: Optional[dict], proposed: Optional[dict], config: Optional[dict], prior_private: bytes,
             type_label: str = "") -> Result:
        if proposed is None:  # destroy
            return Result(state=None)
        result = Result()
        ctl = self.controller()
        olds = self.olds(prior, prior_private) if prior is not None else {}
        news = ctl.accept_imported(olds, self.inputs(config or {}))
        cid = to_python(prior["id"], "string") if prior is not None else None
        notes: list[Diagnostic] = []
        try:
            with collect(self._log) as log_notes:
                checked, failures = ctl.check(olds, news)
                diff = ctl.diff(cid, olds, checked) if prior is not None else None
        except AoaiFinetuneError as exc:
            result.diagnostics.append(Diagnostic("error", for_terraform(str(exc)).partition("\n")[0][:300],
                                                 for_terraform(str(exc))))
            return result
        if failures:
            result.diagnostics.extend(self.failures_to_diagnostics(failures))
            return result
        if prior is not None and self.imported_unchanged(olds, checked, diff) \
                and (ctl.has_ended(olds) or not self.update_waits(olds, checked)):
            # An imported object the configuration declares as it is: no changes. Its state stays what
            # the service told the import; what the service does not record (a file's local path, a
            # deployment's quality gate) is the configuration's alone. The CLI is asked to accept a
            # plan that keeps those unset (legacy_type_system, which the CLI checks leniently and only
            # logs), since ImportResourceState and ReadResource never see the configuration.
            result.state, result.private, result.keeps_imported = prior, prior_private, True
            result.diagnostics.extend(Diagnostic("warning", w.partition("\n")[0][:300], w)
                                      for w in log_notes.warnings)
            return result
        replacing = prior is None or bool(diff and diff.replaces)
        if prior is not None and diff is not None and diff.replaces:
            result.requires_replace = [[p] for key in diff.replaces
                                       for p in (key,) + self.replace_extra.get(key, ()) if p in self.by_name]
        if replacing:
            preview = ctl.preview_create(checked)
        elif diff.changes or (not ctl.has_ended(olds) and self.update_waits(olds, checked)):
            preview = ctl.preview_update(cid, olds, checked)  # outputs the update keeps stay known
        else:
            preview = olds
        result.state = self.planned(config or {}, checked, None if replacing else prior, preview)
        extra = self.plan_notes(olds, checked, diff, prior is None)
        if (log_notes.info or log_notes.warnings or extra) and (replacing or self.changes(result.state, prior)):
            # one warning per resource, its summary naming the object (Terraform folds warnings of
            # the same summary into one, which would hide the second region's estimate)
            summary = f"{extra[0] if extra else self.kind_name + ' plan'} ({self.label(checked)})"
            notes.append(Diagnostic("warning", summary, "\n".join(extra[1:] + log_notes.warnings + log_notes.info)))
        elif log_notes.warnings:
            notes.extend(Diagnostic("warning", w.partition("\n")[0][:300], w) for w in log_notes.warnings)
        result.diagnostics.extend(notes)
        result.private = json.dumps({"news": checked, "olds": olds}, default=str).encode()
        return result

    def imported_unchanged(self, olds: dict, checked: dict, diff: Optional[Diff]) -> bool:
        """Is this an imported object (the :data:`~...controller.IMPORTED` mark of
        ``read_for_import``) that the configuration declares as it is? The controller's diff (after
        ``accept_imported``) finds nothing but inputs the service does not record, which the import
        left unset."""
        if not olds.get(IMPORTED) or diff is None or diff.replaces:
            return False
        return all(key in self.unrecorded and olds.get(key) is None for key in diff.updates)

    def changes(self, planned: dict, prior: dict) -> bool:
        """Does the plan change anything Terraform compares (values, not their encoding)?"""
        return any(to_python(planned.get(a.name), a.type) != to_python(prior.get(a.name), a.type) for a in self.attrs)

    def label(self, checked: dict) -> str:
        """How a plan note names the object: what it is, in which account."""
        account = checked.get("account")
        try:
            where = AccountRef.parse(account).name if not is_unknown(account) else "an account not known yet"
        except ConfigurationError:
            where = "?"
        return f"{self.describe(checked)} in {where}"

    def describe(self, checked: dict) -> str:
        return self.kind_name

    def update_waits(self, olds: dict, checked: dict) -> bool:
        """Whether an update of an object that has not ended yet would wait for it (a running job):
        then the plan is an update, even when no input changed."""
        return False

    def plan_notes(self, olds: dict, checked: dict, diff: Optional[Diff], creating: bool) -> list[str]:
        """[summary, detail lines...] of what a reviewer should know about this plan, or []."""
        return []

    def planned(self, config: dict, checked: dict, prior: Optional[dict], preview: dict) -> dict:
        """The planned state: the configuration as written, the defaults check filled in, and the
        outputs as the controller previews them (:data:`UNKNOWN` where only the apply can tell)."""
        state = {}
        for attr in self.attrs:
            name = attr.name
            if name == "id":
                state[name] = prior["id"] if prior is not None else UNKNOWN_WIRE
            elif attr.kind in ("required", "optional"):
                state[name] = config.get(name)
            elif attr.kind == "optional_computed":
                if config.get(name) is not None:
                    state[name] = self._fill_computed(config[name], checked.get(name), attr.type)
                elif checked.get(name) is not None:
                    state[name] = from_python(checked[name], attr.type)
                else:
                    state[name] = prior.get(name) if prior is not None else UNKNOWN_WIRE
            elif name in self.derived:
                state[name] = from_python(checked.get(name), attr.type)
            elif is_unknown(preview.get(name)):
                state[name] = UNKNOWN_WIRE
            elif prior is not None:
                state[name] = prior.get(name)  # kept as recorded (its encoding too)
            else:
                state[name] = from_python(preview.get(name), attr.type)
        return state

    @staticmethod
    def _fill_computed(config_value: Any, checked_value: Any, kind: Any) -> Any:
        """A nested object the user wrote, its optional+computed attributes filled with the defaults."""
        if not isinstance(kind, Nested) or not isinstance(config_value, dict) or not isinstance(checked_value, dict):
            return config_value
        out = dict(config_value)
        for attr in kind.attributes:
            if attr.kind == "optional_computed" and out.get(attr.name) is None and checked_value.get(attr.name) is not None:
                out[attr.name] = from_python(checked_value[attr.name], attr.type)
        return out

    # -- apply -----------------------------------------------------------------------------------
    def apply(self, prior: Optional[dict], planned: Optional[dict], planned_private: bytes) -> Result:
        result = Result()
        recorded = self.private_of(planned_private) or {}
        ctl = self.controller()
        if planned is None:  # destroy
            olds = self.olds(prior, b"") if not recorded else recorded.get("olds") or self.olds(prior, b"")
            self._run(result.diagnostics, lambda: ctl.delete(to_python(prior["id"], "string"), olds))
            return result
        news = recorded.get("news")
        if not isinstance(news, dict):
            raise ConfigurationError("the plan carries no checked inputs: run `tofu plan` again")
        if prior is None:
            try:
                id_, outs = self._run(result.diagnostics, lambda: ctl.create(news))
            except WaitInterrupted as exc:
                return self.interrupted(ctl, planned, news, exc, result)
            result.state = self.new_state(planned, outs, id_)
            result.private = self.private(outs)
            return result
        id_ = to_python(prior["id"], "string")
        olds = recorded.get("olds") if isinstance(recorded.get("olds"), dict) else self.olds(prior, b"")
        try:
            outs = self._run(result.diagnostics, lambda: ctl.update(id_, olds, news))
        except WaitInterrupted as exc:
            return self.interrupted(ctl, planned, news, exc, result, id_=id_)
        result.state = self.new_state(planned, outs, id_)
        result.private = self.private(outs)
        return result

    def interrupted(self, ctl: Controller, planned: dict, news: dict, exc: WaitInterrupted, result: Result,
                    id_: Optional[str] = None) -> Result:
        """A wait stopped by Ctrl-C: record what exists, with an error (tainted: replaced at the next
        apply) unless :meth:`keep_interrupted` says the object must be kept as it is."""
        object_id = exc.object_id or id_
        message = for_terraform(str(exc))
        if object_id is None:
            result.diagnostics.append(Diagnostic("error", message))
            return result
        found_id, outs = self._run(result.diagnostics, lambda: ctl.read(object_id, news))
        if found_id is None:
            result.diagnostics.append(Diagnostic("error", message))
            return result
        result.state = self.new_state(planned, outs, found_id, interrupted=True)
        result.private = self.private(outs)
        keep, note = self.keep_interrupted(outs)
        result.diagnostics.append(Diagnostic("warning" if keep else "error", message, note))
        return result

    def keep_interrupted(self, outs: dict) -> tuple[bool, str]:
        return False, ("it is kept in the state as tainted: the next apply replaces it")

    def new_state(self, planned: dict, outs: dict, id_: str, interrupted: bool = False) -> dict:
        state = {}
        for attr in self.attrs:
            name = attr.name
            if name == "id":
                state[name] = id_
            elif attr.kind in ("required", "optional"):
                state[name] = planned.get(name)
            else:
                state[name] = self._known(planned.get(name), outs.get(name), attr.type, interrupted)
        return state

    def _known(self, planned: Any, actual: Any, kind: Any, interrupted: bool) -> Any:
        """The planned value where it was known (Terraform holds the provider to it), else the actual."""
        if planned is not None and not is_wire_unknown(planned) and not interrupted:
            if isinstance(kind, Nested) and isinstance(planned, dict) and isinstance(actual, dict):
                return {a.name: self._known(planned.get(a.name), actual.get(a.name), a.type, interrupted)
                        for a in kind.attributes}
            return planned
        if is_wire_unknown(planned) or planned is None or interrupted:
            return from_python(actual, kind)
        return planned

    def private(self, outs: dict) -> bytes:
        return json.dumps({"outputs": outs}, default=str).encode()

    # -- read and import -------------------------------------------------------------------------
    def read(self, current: dict, private: bytes) -> Result:
        result = Result()
        ctl = self.controller()
        olds = self.olds(current, private)
        new_id, outs = self._run(result.diagnostics, lambda: ctl.read(to_python(current["id"], "string"), olds))
        if new_id is None:
            return result  # gone: Terraform plans to create it again
        result.state = self.read_state(current, olds, outs, new_id)
        result.private = self.private(outs)
        return result

    def read_state(self, current: dict, olds: dict, outs: dict, id_: str) -> dict:
        state = {}
        for attr in self.attrs:
            name = attr.name
            if name == "id":
                state[name] = id_
            elif attr.is_input and _same(olds.get(name), outs.get(name)):
                state[name] = current.get(name)  # as the user wrote it
            else:
                state[name] = from_python(outs.get(name), attr.type)
        return state

    def import_(self, import_id: str) -> Result:
        """An object named by its import id (:mod:`...ids`: the same ids as ``pulumi import``), read
        with what the service records of its inputs (the controller's ``read_for_import``)."""
        result = Result()
        try:
            id_, props = self.parse_import_id(import_id)
        except ConfigurationError as exc:
            result.diagnostics.append(Diagnostic("error", str(exc)))
            return result
        ctl = self.controller()
        found, outs = self._run(result.diagnostics, lambda: ctl.read_for_import(id_, props))
        if found is None:
            result.diagnostics.append(Diagnostic(
                "error", f"{self.kind_name} {import_id} does not exist",
                f"Nothing was read for the id {import_id}: check the account and the id (it is not in the "
                "service, or it was deleted)."))
            return result
        outs = drop_nulls(outs)
        result.state = {a.name: (found if a.name == "id" else from_python(outs.get(a.name), a.type)) for a in self.attrs}
        result.private = self.private(outs)
        result.imported = True
        return result

    def parse_import_id(self, import_id: str) -> tuple[str, dict]:
        """(the controller's id, the props a read needs) of an import id."""
        from ... import ids

        return ids.parse_import_id(self.source, import_id)


def _same(a: Any, b: Any) -> bool:
    return as_int(a) == as_int(b) if not isinstance(a, (dict, list)) else a == b


class TrainingFileAdapter(ResourceAdapter):
    type_name = f"{schema.PREFIX}training_file"
    controller_class = TrainingFileController
    kind_name = "training file"
    unrecorded = ("path", "model", "project_dir")

    def inputs(self, config):
        values = super().inputs(config)
        cwd = os.getcwd()
        values.setdefault("project_dir", cwd)  # the configuration's directory bounds local data paths
        root = values["project_dir"]
        for key in ("path",):
            path = values.get(key)
            if isinstance(path, str) and path and not is_unknown(path) and not os.path.isabs(path):
                values[key] = os.path.join(root if os.path.isabs(str(root)) else cwd, path)
        return values

    def describe(self, checked):
        name = checked.get("filename") or checked.get("path") or checked.get("content_url") or "data"
        return "file " + os.path.basename(str(name).split("?", 1)[0]) if not is_unknown(name) else "training file"

    def plan_notes(self, olds, checked, diff, creating):
        if creating:
            return ["new data: checked, with its estimate"]
        if diff and diff.replaces:
            return [f"new data: the file is uploaded again ({', '.join(diff.replaces)} changed)"]
        return []


class FineTuningJobAdapter(ResourceAdapter):
    type_name = f"{schema.PREFIX}fine_tuning_job"
    controller_class = FineTuningJobController
    kind_name = "fine-tuning job"

    def update_waits(self, olds, checked):
        waits = checked.get("wait", True) and not checked.get("paused")
        return bool(waits or bool(checked.get("paused")) != bool(olds.get("paused")))

    def plan_notes(self, olds, checked, diff, creating):
        what = (f"{checked.get('base_model')} on {checked.get('training_file') if not is_unknown(checked.get('training_file')) else 'the new training file'}"
                f", hyperparameters {json.dumps(checked.get('hyperparameters') or {})}")
        if creating and not checked.get("adopt_job_id"):
            return [f"a new training run (paid): {what}",
                    "A job of the same inputs left running by an interrupted apply is attached to, not started "
                    "again. Its cost (from training_file_stats):"]
        if diff and diff.replaces:
            return [f"a new training run (paid) replaces job {olds.get('job_id')}: {', '.join(diff.replaces)} "
                    f"changed", f"The new run: {what}. The old job's model is "
                    + ("deleted" if olds.get("delete_model_on_destroy") else "kept (delete_model_on_destroy is false)")
                    + "."]
        if olds.get("status") not in JOB_TERMINAL and checked.get("wait", True) and not checked.get("paused"):
            return [f"job {olds.get('job_id')} is {olds.get('status')}: this apply waits for it (no new run)"]
        return []

    def describe(self, checked):
        return f"fine-tuning job {checked.get('suffix') or ''}".strip()

    def keep_interrupted(self, outs):
        return True, (f"Job {outs.get('job_id')} ({outs.get('status')}) goes on training in the service and is kept "
                      "in the state as it is (not tainted: replacing it would cancel a paid run). The next apply "
                      "waits for it; `tofu destroy` cancels it.")


class ModelDeploymentAdapter(ResourceAdapter):
    type_name = f"{schema.PREFIX}model_deployment"
    controller_class = ModelDeploymentController
    kind_name = "deployment"
    unrecorded = GATE_KEYS

    def imported_unchanged(self, olds, checked, diff):
        """... and the declared quality gate holds for the declared metrics (a gate it misses plans
        an update, which the apply refuses saying why)."""
        if not super().imported_unchanged(olds, checked, diff):
            return False
        try:
            quality.enforce(checked)
        except AoaiFinetuneError:
            return False
        return True

    def describe(self, checked):
        name = checked.get("deployment_name")
        return f"deployment {name}" if isinstance(name, str) and not is_unknown(name) else "deployment"

    def plan_notes(self, olds, checked, diff, creating):
        if diff is not None and "redeploy_expired" in diff.updates:
            return [f"deployment {checked.get('deployment_name')} expired: this apply deploys it again"]
        return []


class ModelEvaluationAdapter(ResourceAdapter):
    type_name = f"{schema.PREFIX}model_evaluation"
    controller_class = ModelEvaluationController
    kind_name = "evaluation"

    def inputs(self, config):
        values = super().inputs(config)
        values.setdefault("project_dir", os.getcwd())  # the configuration's directory bounds the case file
        path, root = values.get("cases"), values["project_dir"]
        if isinstance(path, str) and path and not is_unknown(path) and not os.path.isabs(path):
            values["cases"] = os.path.join(root if os.path.isabs(str(root)) else os.getcwd(), path)
        return values

    def plan_notes(self, olds, checked, diff, creating):
        what = f"{checked.get('cases_count')} case(s) on deployment {checked.get('deployment_name')}"
        if creating:
            return [f"a new evaluation run: {what}"]
        if diff and diff.replaces:
            return [f"the evaluation runs again ({', '.join(diff.replaces)} changed): {what}"]
        return []

    def parse_import_id(self, import_id):
        raise ConfigurationError("an evaluation is a record of a run, with nothing in the service to import: "
                                 "declare it and apply")


ADAPTERS = (TrainingFileAdapter, FineTuningJobAdapter, ModelDeploymentAdapter, ModelEvaluationAdapter)
