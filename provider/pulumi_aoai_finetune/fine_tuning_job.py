"""FineTuningJob: one training run of a base model (or a fine-tuned model) on training files.

Inputs
    account                  AccountArgs of the account that trains
    base_model               e.g. ``gpt-4o-mini-2024-07-18``, or a fine-tuned model (continuous fine-tuning)
    training_file            a TrainingFile, or a file id
    validation_file          optional, likewise
    hyperparameters          {n_epochs, batch_size, learning_rate_multiplier}; each a number or "auto"
    suffix, seed, method     as the service takes them (method: "supervised" | "dpo" | "reinforcement" | a method
                             object such as {type: dpo, dpo: {hyperparameters: {beta: 0.1, l2_multiplier: 0.1}}};
                             reinforcement needs {reinforcement: {grader: {...}}} and a validation_file)
    training_type            "Standard" | "GlobalStandard" | "developerTier": sent as ``trainingType`` (extra_body);
                             checked at preview against the account's region and :mod:`.availability`
    paused                   true pauses the job once it runs, false resumes it (in place, no new run). A job the
                             service pauses by itself (reinforcement fine-tuning at its $5,000 cost ceiling) ends
                             the wait with a message; paused: false then resumes it, paused: true keeps it paused
    wait                     wait until the job ends (default true); progress is logged
    timeout_seconds          how long to wait (default: the create custom_timeout, else 24 h)
    delete_model_on_destroy  on destroy, delete the fine-tuned model too (default false: keep it). The data
                             plane has no model delete: the job is deleted, which takes its model with it and is
                             refused while the model is deployed; the model's absence is then confirmed
    adopt_job_id             bring an existing job under management (read, never fabricated)

Outputs: the inputs plus ``job_id``, ``status``, ``fine_tuned_model``, ``result_files``,
``trained_tokens``, ``checkpoints``, ``metrics`` (from results.csv), ``error``, ``created_at``,
``finished_at``, ``estimated_finish``, ``resolved_hyperparameters``.

Every training input forces a replacement: a new, paid training run, which the preview shows as
such. Creating never starts a second run for the same inputs: it first looks for a job of the same
account, base model, files, suffix, seed and hyperparameters that is running or succeeded (left by
an interrupted ``pulumi up``) and attaches to it -- only when the job is provably this stack's: its
training file carries this stack's owner marker (see :mod:`.ownership`; a job has no field of its
own to carry one). A job with the same inputs that nothing proves is this stack's (another stack's,
or one on a file named by id) fails the create with its id: attach with ``adopt_job_id``, or change
``suffix`` or ``seed`` for a new run. Destroying a running job cancels it; a succeeded job's model is
kept unless ``delete_model_on_destroy`` (with ``retain_on_delete`` Pulumi does not call destroy at
all). Destroy never cancels, nor deletes the model of, a job whose training file carries another
stack's marker (an adopted one): it is left in place.

Api-version: the configured one (default 2024-10-21), raised to 2025-04-01-preview
(:data:`.availability.PREVIEW_API_VERSION`) for a job that sets ``training_type``, ``method`` or
``paused``: those fields and the pause/resume routes exist from the preview versions on.

When the account already has as many jobs as Azure runs and queues (3 running, 20 queued per
resource), the service refuses a new one: creating then waits its turn (logged, with backoff, within
``timeout_seconds``) instead of failing the update.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Optional

import pulumi
from pulumi.dynamic import Resource

from . import availability, clients, ownership, results
from ._common import check_account, rfc3339, same_account
from .adapters.dynamic import DynamicProvider
from . import schema
from .controller import Controller, Diff, as_int, is_unknown
from ._wait import create_once, poll, stoppable_sleep, while_access_propagates
from .account import AccountArgs, AccountRef, account_inputs
from .errors import (ConfigurationError, ConflictError, NotFoundError, ServiceError, TrainingFailedError,
                     TrainingPausedError, WaitTimeoutError)

SUFFIX = re.compile(r"[A-Za-z0-9_-]{1,40}")  # fullmatch: "$" would let a trailing newline through
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,255}")  # base, fine-tuned (.ft-) and checkpoint (:ckpt-) ids
HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")
METHODS = ("supervised", "dpo", "reinforcement")
DPO_HYPERPARAMETERS = ("beta", "l2_multiplier")
ACTIVE = ("validating_files", "queued", "pending", "running", "pausing", "paused", "resuming")
TERMINAL = ("succeeded", "failed", "cancelled")
DEFAULT_TIMEOUT = 24 * 3600.0
METRICS_LOG_SECONDS = 5.0
REPLACE_KEYS = ("base_model", "suffix", "seed", "method", "training_type", "adopt_job_id")
UPDATE_KEYS = ("wait", "timeout_seconds", "delete_model_on_destroy")
#: Error codes that mean "the account is at a limit, wait for a turn" (rule L2: recognised by status 429 or
#: by these codes, never by a message's wording).
LIMIT_CODES = ("quotaExceeded", "tooManyRequests", "TooManyRequests", "QuotaExceeded")
MAX_TURN_WAIT = 60.0


class JobLimitReached(ServiceError):
    """The account runs and queues as many jobs as Azure allows: this one must wait its turn."""
OUTPUTS = ("job_id", "status", "fine_tuned_model", "result_files", "trained_tokens", "checkpoints",
           "metrics", "error", "created_at", "finished_at", "estimated_finish", "resolved_hyperparameters",
           "owner_marker")
_attached: set[str] = set()  # job ids this provider process created or attached to for a resource


def normalize_hyperparameters(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, dict) or is_unknown(value):
        return value
    return {k: as_int(v) for k, v in value.items() if v is not None}


def _chosen(hyperparameters: Any) -> Any:
    """The hyperparameters a job was given, without the ones left to the service: a job not trained
    yet reports those as -1 or "auto" (resolved values replace them once it runs)."""
    if not isinstance(hyperparameters, dict):
        return hyperparameters
    return {k: v for k, v in hyperparameters.items() if v != -1 and v != "auto"}


def _ints(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    return as_int(value)


def normalize_method(value: Any) -> Any:
    """A method string or object in one canonical shape: ``"dpo"`` -> ``{"type": "dpo"}``; DPO's
    ``beta``/``l2_multiplier`` given directly under ``method.dpo`` (Azure's REST sample) move under
    ``method.dpo.hyperparameters`` (the OpenAI shape and the 2025-04-01-preview spec's; rule M3)."""
    if isinstance(value, str):
        return {"type": value}
    if not isinstance(value, dict):
        return value
    out = _ints(value)
    section = out.get("dpo")
    if out.get("type") == "dpo" and isinstance(section, dict) and any(k in section for k in DPO_HYPERPARAMETERS):
        section = dict(section)
        flat = {k: section.pop(k) for k in DPO_HYPERPARAMETERS if k in section}
        nested = section.get("hyperparameters") if isinstance(section.get("hyperparameters"), dict) else {}
        section["hyperparameters"] = {**flat, **nested}
        out["dpo"] = section
    return out


def wire_body(method: dict | None, hyperparameters: dict) -> tuple[dict | None, dict]:
    """(method, top-level hyperparameters) in the shape api-version 2025-04-01-preview defines (rule M3):
    ``"auto"`` means "not set" (the spec's hyperparameters are numbers); supervised hyperparameters go to
    the top-level ``hyperparameters`` (``SupervisedMethodRequest`` has only ``type``); DPO's under
    ``method.dpo.hyperparameters`` (``DpoMethodRequest`` requires ``dpo``). Reinforcement, documented
    only in the how-to, keeps the OpenAI shape."""
    top = {k: v for k, v in hyperparameters.items() if v is not None and v != "auto"}
    if not isinstance(method, dict):
        return method, top
    kind = method.get("type")
    section = method.get(kind) if isinstance(method.get(kind), dict) else {}
    given = section.get("hyperparameters") if isinstance(section.get("hyperparameters"), dict) else {}
    hp = {k: v for k, v in given.items() if v is not None and v != "auto"}
    if kind == "supervised":
        return {"type": "supervised"}, {**top, **hp}
    if kind == "dpo":
        return {"type": "dpo", "dpo": {"hyperparameters": hp} if hp else {}}, top
    return method, top


class FineTuningJobController(Controller):
    resource = schema.FINE_TUNING_JOB

    # -- preview -------------------------------------------------------------------------
    def check(self, olds, news):
        inputs = dict(news)
        failures: list[tuple[str, str]] = []
        check_account(inputs, failures)
        inputs.setdefault("wait", True)
        inputs.setdefault("delete_model_on_destroy", False)
        if inputs.get("timeout_seconds") is None:
            inputs["timeout_seconds"] = DEFAULT_TIMEOUT
        base = inputs.get("base_model")
        if not is_unknown(base) and (not isinstance(base, str) or not base.strip()):
            failures.append(("base_model", "base_model is required, e.g. gpt-4o-mini-2024-07-18"))
        elif not is_unknown(base) and not MODEL_NAME.fullmatch(base):
            failures.append(("base_model", f"base_model {base!r} is not a model name (letters, digits, '.', '_', "
                                           "':' and '-'), e.g. gpt-4o-mini-2024-07-18"))
        for key in ("training_file", "validation_file"):
            value = inputs.get(key)
            if value is None or is_unknown(value):
                if key == "training_file" and value is None and not inputs.get("adopt_job_id"):
                    failures.append((key, "training_file is required: a TrainingFile or a file id"))
                continue
            if not isinstance(value, str) or not value.strip():
                failures.append((key, f"{key} must be a file id (or a TrainingFile)"))
        failures.extend(_check_hyperparameters(inputs.get("hyperparameters")))
        if isinstance(inputs.get("hyperparameters"), dict) and not is_unknown(inputs["hyperparameters"]):
            inputs["hyperparameters"] = normalize_hyperparameters(inputs["hyperparameters"])
        suffix = inputs.get("suffix")
        if suffix is not None and not is_unknown(suffix) and (not isinstance(suffix, str) or not SUFFIX.fullmatch(suffix)):
            failures.append(("suffix", f"suffix {suffix!r} must be 1 to 40 characters of a-z A-Z 0-9 - _"))
        seed = inputs.get("seed")
        if seed is not None and not is_unknown(seed):
            seed = as_int(seed)
            if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2**31 - 1:
                failures.append(("seed", f"seed {inputs['seed']!r} must be an integer from 0 to 2147483647"))
            else:
                inputs["seed"] = seed
        method = inputs.get("method")
        if method is not None and not is_unknown(method):
            method = normalize_method(method)
            if not isinstance(method, dict) or method.get("type") not in METHODS:
                failures.append(("method", f"method {inputs['method']!r}: type must be one of {', '.join(METHODS)}"))
            else:
                inputs["method"] = method
                failures.extend(_check_method(method, inputs))
        failures.extend(self._check_availability(inputs))
        paused = inputs.get("paused")
        if paused is not None and not is_unknown(paused) and not isinstance(paused, bool):
            failures.append(("paused", "paused must be true or false"))
        timeout = inputs.get("timeout_seconds")
        if not is_unknown(timeout) and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                        or not math.isfinite(timeout) or timeout <= 0):
            failures.append(("timeout_seconds", "timeout_seconds must be a positive number of seconds"))
        for key in ("wait", "delete_model_on_destroy"):
            if not is_unknown(inputs.get(key)) and not isinstance(inputs.get(key), bool):
                failures.append((key, f"{key} must be true or false"))
        if not failures and not olds and not inputs.get("adopt_job_id"):
            _log_cost(f"{_label(inputs)}: training cost of the declared run: {{new}}", inputs)
        return inputs, failures

    def _check_availability(self, inputs: dict) -> list[tuple[str, str]]:
        """Training type and method against the account (read-only, when readable) and the table."""
        failures: list[tuple[str, str]] = []
        base = inputs.get("base_model")
        base = base if isinstance(base, str) and base.strip() and not is_unknown(base) else None
        method = inputs.get("method")
        if base and isinstance(method, dict) and method.get("type") in METHODS:
            problem = availability.method_problem(base, method["type"])
            if problem:
                failures.append(("method", problem))
        elif base and method is None:
            row = availability.offer(base)
            if row is not None and "supervised" not in row.methods:
                failures.append(("method", f"{row.model} is fine-tuned with {', '.join(row.methods)} only: set method "
                                           f"(e.g. {{type: {row.methods[0]}, ...}})"))
        raw = inputs.get("training_type")
        if raw is None or is_unknown(raw):
            return failures
        training_type = availability.normalize_training_type(raw)
        if training_type is None:
            failures.append(("training_type", f"training_type {raw!r} must be one of "
                                              f"{', '.join(availability.TRAINING_TYPES.values())}"))
            return failures
        inputs["training_type"] = training_type
        if base is None:
            return failures
        region = standard_here = None
        account = None
        if self.live_reads and not is_unknown(inputs.get("account")):
            try:
                account = AccountRef.parse(inputs["account"])
            except Exception:  # noqa: BLE001 - reported by check_account
                account = None
        if account is not None:
            region = availability.account_region(self.settings, account)
            if training_type == "Standard" and region is not None:
                listed = availability.account_standard_models(self.settings, account)
                if listed is not None and availability.base_of(base) in listed:
                    standard_here = listed[availability.base_of(base)]
            if region is None:
                pulumi.log.info(f"training_type {training_type} of {base}: the region of account {account.name} "
                                "could not be read at preview; checked against the provider's table only")
        problem = availability.training_type_problem(base, training_type, region, standard_here)
        if problem:
            failures.append(("training_type", problem))
        return failures

    def _data_plane(self, account: AccountRef, inputs: dict, *, preview: bool = False):
        """The data-plane client at the api-version this job needs (see the module docs)."""
        needs = preview or bool(inputs.get("training_type") or inputs.get("method") or inputs.get("paused"))
        return clients.data_plane(self.settings, account,
                                  api_version=availability.data_plane_api_version(self.settings.api_version, needs))

    def diff(self, id_, olds, news):
        d = Diff()
        if not same_account(olds.get("account"), news.get("account")):
            d.replaces.append("account")
        for key in REPLACE_KEYS:
            old, new = olds.get(key), news.get(key)
            if key == "method":
                old, new = normalize_method(old), normalize_method(new)
            if key == "seed":
                old, new = as_int(old), as_int(new)
            if old != new:
                d.replaces.append(key)
        if normalize_hyperparameters(olds.get("hyperparameters")) != normalize_hyperparameters(news.get("hyperparameters")):
            d.replaces.append("hyperparameters")
        for key in ("training_file", "validation_file"):
            if olds.get(key) == news.get(key):
                continue
            old_hash, new_hash = olds.get(f"{key}_sha256"), news.get(f"{key}_sha256")
            if old_hash and new_hash and old_hash == new_hash and not is_unknown(new_hash):
                d.updates.append(key)  # the same data re-uploaded: no new training run
            else:
                d.replaces.append(key)
        d.compare(olds, news, UPDATE_KEYS, replace=False)
        d.compare(olds, news, ("paused",), replace=False, normalize=bool)
        if d.replaces and not news.get("adopt_job_id"):
            trained = as_int(olds.get("trained_tokens"))
            counted = f"; the service counted {trained:,} trained tokens" if isinstance(trained, int) else ""
            _log_cost(f"{_label(news)}: replaced ({', '.join(d.replaces)}), a new paid run: {{new}}; the run it "
                      f"replaces: {{old}}{counted}", news, olds)
        return d

    # -- lifecycle ---------------------------------------------------------------------------
    def create(self, inputs):
        account = AccountRef.parse(inputs["account"])
        client = self._data_plane(account, inputs)
        owner = ownership.parse_owner(inputs.get("owner"))
        marker = owner.marker if owner else None
        if inputs.get("adopt_job_id"):
            with clients.openai_errors(f"reading job {inputs['adopt_job_id']}"):
                job = client.fine_tuning.jobs.retrieve(inputs["adopt_job_id"])
            pulumi.log.info(f"adopted fine-tuning job {job.id} ({job.status}) in account {account.name}")
            if owner is None or _file_stack_key(client, job.training_file) != owner.stack_key:
                marker = None  # not provably this stack's: destroy leaves it alone if another stack's
        else:
            job = while_access_propagates(lambda: self._find_same(client, inputs),
                                          timeout=self.settings.access_propagation_timeout,
                                          what="looking for a job left by an earlier run", account=account.name)
            if job is not None:
                pulumi.log.info(f"attaching to fine-tuning job {job.id} ({job.status}), started earlier by this stack "
                                "with the same inputs: no second training run")
            else:
                job = self._create_in_turn(client, account, inputs)
                pulumi.log.info(f"created fine-tuning job {job.id} in account {account.name}: "
                                f"{inputs['base_model']} on {inputs.get('training_file')}"
                                + (f" ({inputs['training_type']} training)" if inputs.get("training_type") else ""))
            _attached.add(job.id)
        if inputs.get("paused"):
            job = self._pause(account, job, inputs)
        elif inputs.get("wait", True):
            job = self._wait(client, job, inputs)
        outs = self._outputs(client, inputs, job)
        outs["owner_marker"] = marker
        return job.id, outs

    def _create_in_turn(self, client, account: AccountRef, inputs: dict):
        """Create the job; while the account is at its job limit, wait for a turn (with backoff)."""
        timeout = float(inputs.get("timeout_seconds") or DEFAULT_TIMEOUT)
        deadline = time.monotonic() + timeout
        delay = max(0.2, min(self.settings.poll_interval, MAX_TURN_WAIT))
        waited = 0
        waited_for_files = False
        while True:
            try:
                started = time.time()
                return create_once(lambda: self._send_create(client, inputs),
                                   lambda: self._find_same(client, inputs, landed_since=started),
                                   attempts=self.settings.max_retries + 1)
            except JobLimitReached as exc:
                if time.monotonic() + delay > deadline:
                    raise WaitTimeoutError(
                        f"account {account.name} stayed at its fine-tuning job limit for {timeout:.0f} s "
                        f"({exc.service_message}); raise timeout_seconds or run `pulumi up` again later") from exc
                if waited == 0 or delay >= MAX_TURN_WAIT:
                    pulumi.log.info(f"account {account.name} runs and queues as many fine-tuning jobs as it may "
                                    f"({exc.service_message}): waiting for its turn, next try in {delay:.0f} s")
                stoppable_sleep(exc.retry_after if exc.retry_after and exc.retry_after < MAX_TURN_WAIT else delay,
                                note="no job was created while the account was at its job limit: the next "
                                     "`pulumi up` asks again")
                waited += 1
                delay = min(delay * 2, MAX_TURN_WAIT)
            except ServiceError as exc:
                # a 400 may be a file the service has not finished processing (Azure: "The specified file
                # reference must point to a completed file import."): told by the files' status, not by the
                # wording (rule L2); waited for once, within the timeout
                if exc.status == 400 and not waited_for_files and self._wait_for_unready_files(client, inputs, deadline):
                    waited_for_files = True
                    continue
                raise

    def _wait_for_unready_files(self, client, inputs: dict, deadline: float) -> bool:
        """True once the job's files that were still being processed are processed; False when none was
        (the 400 was about something else). A file that ended in error fails with its status_details."""
        unready = []
        for key in ("training_file", "validation_file"):
            file_id = inputs.get(key)
            if not file_id:
                continue
            try:
                with clients.openai_errors(f"reading file {file_id}"):
                    obj = client.files.retrieve(file_id)
            except NotFoundError:
                continue
            if obj.status in ("uploaded", "pending", "running"):
                unready.append(obj)
        if not unready:
            return False
        for obj in unready:
            pulumi.log.info(f"file {obj.id} is still being processed ({obj.status}): the job is created once it is")

            def fetch(file_id=obj.id):
                with clients.openai_errors(f"reading file {file_id}"):
                    return client.files.retrieve(file_id)

            final = poll(fetch, lambda f: f.status in ("processed", "error", "deleted"),
                         timeout=max(1.0, deadline - time.monotonic()), interval=min(self.settings.poll_interval, 5.0),
                         what=f"processing of file {obj.id}")
            if final.status != "processed":
                details = getattr(final, "status_details", None) or f"status {final.status}"
                raise TrainingFailedError(f"file {obj.id} could not be processed by the service: {details}")
        return True

    def _pause(self, account: AccountRef, job, inputs: dict):
        """Pause the job as soon as the service allows it (running, at least one step), then wait until
        it is ``paused`` (through ``pausing``)."""
        client = self._data_plane(account, inputs, preview=True)
        asked = [False]

        def step():
            with clients.openai_errors(f"reading job {job.id}"):
                current = client.fine_tuning.jobs.retrieve(job.id)
            if current.status == "running" and not asked[0]:
                try:
                    with clients.openai_errors(f"pausing job {job.id}"):
                        current = client.fine_tuning.jobs.pause(job.id)
                    asked[0] = True
                    pulumi.log.info(f"pausing fine-tuning job {job.id}")
                except ConflictError:
                    pass  # not pausable yet (no step trained): try again at the next poll
            return current

        final = poll(step, lambda j: j.status in TERMINAL or j.status == "paused",
                     timeout=float(inputs.get("timeout_seconds") or DEFAULT_TIMEOUT),
                     interval=self.settings.poll_interval, what=f"pausing fine-tuning job {job.id}")
        if final.status == "paused":
            pulumi.log.info(f"job {job.id} is paused; set paused: false to resume it")
        return final

    def _resume(self, account: AccountRef, job_id: str, inputs: dict):
        client = self._data_plane(account, inputs, preview=True)

        def step():
            with clients.openai_errors(f"reading job {job_id}"):
                current = client.fine_tuning.jobs.retrieve(job_id)
            if current.status == "paused":
                with clients.openai_errors(f"resuming job {job_id}"):
                    current = client.fine_tuning.jobs.resume(job_id)
                pulumi.log.info(f"resuming fine-tuning job {job_id}")
            return current

        return poll(step, lambda j: j.status not in ("paused", "pausing"),
                    timeout=float(inputs.get("timeout_seconds") or DEFAULT_TIMEOUT),
                    interval=self.settings.poll_interval, what=f"resuming fine-tuning job {job_id}")

    def _send_create(self, client, inputs):
        kwargs: dict[str, Any] = {"model": inputs["base_model"], "training_file": inputs["training_file"]}
        if inputs.get("validation_file"):
            kwargs["validation_file"] = inputs["validation_file"]
        method = normalize_method(inputs["method"]) if inputs.get("method") is not None else None
        method, hyperparameters = wire_body(method, normalize_hyperparameters(inputs.get("hyperparameters")))
        if hyperparameters:
            kwargs["hyperparameters"] = hyperparameters
        for key in ("suffix", "seed"):
            if inputs.get(key) is not None:
                kwargs[key] = as_int(inputs[key])
        if method is not None:
            kwargs["method"] = method
        if inputs.get("training_type"):
            # not a parameter of the openai SDK: Azure reads it from the body (api-version 2025-04-01-preview)
            kwargs["extra_body"] = {"trainingType": availability.wire_training_type(inputs["training_type"])}
        try:
            with clients.openai_errors("creating the fine-tuning job"):
                return client.with_options(max_retries=0).fine_tuning.jobs.create(**kwargs)
        except ServiceError as exc:
            if exc.status == 429 or (exc.status in (400, 403, 409) and exc.code in LIMIT_CODES):
                raise JobLimitReached(exc.service_message, status=exc.status, code=exc.code,
                                      operation=exc.operation, retry_after=exc.retry_after) from exc
            if not inputs.get("training_type") and "does not support fine-tuning" in (exc.service_message or ""):
                raise exc.with_note("Azure answers this when no trainingType is sent for a model/region without "
                                    "Standard training: set training_type (e.g. GlobalStandard)") from exc
            raise

    def _find_same(self, client, inputs, *, landed_since: Optional[float] = None):
        """A running or succeeded job of this stack with exactly these training inputs, if one exists.

        A job is this stack's when its training file (the same file as this job's) carries this
        stack's owner marker; ``landed_since``: a job created since then by this very create (a
        retried send that landed), recognised without that proof. A job with these inputs that is
        not provably this stack's is never attached to: the create fails naming it."""
        wanted_hp = normalize_hyperparameters(inputs.get("hyperparameters"))
        found = None
        with clients.openai_errors("listing fine-tuning jobs"):
            for job in clients.walk(client.fine_tuning.jobs.list(limit=100), max_items=500):
                if job.status not in ACTIVE and job.status != "succeeded":
                    continue
                if job.id in _attached or (landed_since is not None and job.created_at < landed_since - 120):
                    continue
                if (job.model != inputs["base_model"] or job.training_file != inputs.get("training_file")
                        or (job.validation_file or None) != (inputs.get("validation_file") or None)):
                    continue
                if inputs.get("seed") is not None and as_int(job.seed) != as_int(inputs["seed"]):
                    continue
                sent_type = (job.model_extra or {}).get("trainingType")
                if inputs.get("training_type") and sent_type and str(sent_type).lower() != \
                        availability.wire_training_type(inputs["training_type"]).lower():
                    continue
                job_suffix = getattr(job, "suffix", None) or (job.model_extra or {}).get("suffix")
                if (inputs.get("suffix") or None) != (job_suffix or None) and job_suffix is not None:
                    continue
                got = job.hyperparameters.model_dump() if job.hyperparameters else {}
                if any(v != "auto" and got.get(k) not in (None, "auto") and as_int(got.get(k)) != v
                       for k, v in wanted_hp.items()):
                    continue
                if job.status == "succeeded" and not self._model_exists(client, job.fine_tuned_model):
                    continue  # its model was deleted: only a new run brings it back
                found = job
                break
        if found is None or landed_since is not None:
            return found
        owner = ownership.parse_owner(inputs.get("owner"))
        if owner is not None and _file_stack_key(client, inputs.get("training_file")) == owner.stack_key:
            return found
        raise ConfigurationError(
            f"fine-tuning job {found.id} ({found.status}) in this account has exactly these inputs, but nothing proves "
            f"it belongs to this stack (its training file {inputs.get('training_file')} does not carry this stack's "
            "owner marker: another stack's, or a file named by id): set adopt_job_id to attach to it, or change "
            "suffix or seed to start a new run")

    @staticmethod
    def _model_exists(client, model: str | None) -> bool:
        if not model:
            return False
        try:
            with clients.openai_errors(f"reading model {model}"):
                client.models.retrieve(model)
        except NotFoundError:
            return False
        return True

    def _wait(self, client, job, inputs):
        seen: set[str] = set()
        last_status = [job.status]
        last_metrics = [0.0]
        last_events = [0.0]

        keep_running = inputs.get("paused") is False  # said explicitly: resume a job the service paused
        resumed = [False]

        def fetch():
            with clients.openai_errors(f"reading job {job.id}"):
                current = client.fine_tuning.jobs.retrieve(job.id)
            if current.status == "paused" and keep_running and not resumed[0]:
                resumed[0] = True
                pulumi.log.info(f"job {job.id} was paused by the service; resuming it (paused: false)")
                return self._resume(AccountRef.parse(inputs["account"]), job.id, inputs)
            return current

        def progress(current):
            changed = current.status != last_status[0]
            if changed:
                pulumi.log.info(f"job {job.id}: {last_status[0]} -> {current.status}")
                last_status[0] = current.status
            # events are for the person watching: read them when the status moves, at the end, and
            # otherwise at most every METRICS_LOG_SECONDS (the status poll alone decides when to stop)
            if not changed and current.status not in TERMINAL \
                    and time.monotonic() - last_events[0] < METRICS_LOG_SECONDS:
                return
            last_events[0] = time.monotonic()
            try:
                with clients.openai_errors(f"reading events of {job.id}"):
                    events = list(client.fine_tuning.jobs.list_events(job.id, limit=50).data)
            except Exception:  # progress is best effort; the status poll decides
                return
            for event in sorted(events, key=lambda e: (e.created_at, e.id)):
                if event.id in seen:
                    continue
                seen.add(event.id)
                if event.type == "metrics" or event.message.startswith("Step "):
                    # step/loss lines arrive every few steps: show one per METRICS_LOG_SECONDS
                    if time.monotonic() - last_metrics[0] < METRICS_LOG_SECONDS:
                        continue
                    last_metrics[0] = time.monotonic()
                pulumi.log.info(f"job {job.id}: {event.message}")

        # a job the service paused by itself (rule J1: reinforcement fine-tuning at its cost ceiling) ends the
        # wait at once, unless paused: false asks to resume it
        final = poll(fetch, lambda j: j.status in TERMINAL or (j.status == "paused" and not keep_running),
                     timeout=float(inputs.get("timeout_seconds") or DEFAULT_TIMEOUT),
                     interval=self.settings.poll_interval, what=f"fine-tuning job {job.id}", on_poll=progress)
        if final.status == "paused":
            raise TrainingPausedError(
                f"fine-tuning job {final.id} was paused by the service, not by this stack "
                f"({self._pause_reason(client, final.id)}). It keeps its progress, and its latest checkpoint can be "
                "deployed. To resume it (billing goes on), set paused: false on this job and run `pulumi up`; to "
                "keep it paused, set paused: true")
        if final.status == "failed":
            message = final.error.message if final.error and final.error.message else "no error message"
            raise TrainingFailedError(f"fine-tuning job {final.id} failed: {message}")
        if final.status == "cancelled":
            raise TrainingFailedError(f"fine-tuning job {final.id} was cancelled (outside Pulumi); "
                                      "run `pulumi up` again to start a new run")
        pulumi.log.info(f"job {final.id} succeeded: {final.fine_tuned_model}")
        return final

    @staticmethod
    def _pause_reason(client, job_id: str) -> str:
        """The service's latest event about the pause, else what Azure documents as the reason."""
        documented = ("Azure pauses reinforcement fine-tuning jobs at $5,000 of training cost; "
                      "how-to/reinforcement-fine-tuning.md")
        try:
            with clients.openai_errors(f"reading events of {job_id}"):
                events = list(client.fine_tuning.jobs.list_events(job_id, limit=20).data)
        except Exception:  # noqa: BLE001 - the reason is a courtesy; the status decided
            return documented
        for event in sorted(events, key=lambda e: (e.created_at, e.id), reverse=True):
            if "pause" in (event.message or "").lower():
                return f"the service says: {event.message}"
        return documented

    def _outputs(self, client, inputs: dict, job) -> dict:
        outs = dict(inputs)
        outs.update({
            "job_id": job.id,
            "status": job.status,
            "fine_tuned_model": job.fine_tuned_model,
            "result_files": list(job.result_files or []),
            "trained_tokens": job.trained_tokens,
            "error": job.error.model_dump(exclude_none=True) if job.error and job.error.message else None,
            "created_at": rfc3339(job.created_at),
            "finished_at": rfc3339(job.finished_at),
            "estimated_finish": rfc3339(getattr(job, "estimated_finish", None)),
            "resolved_hyperparameters": job.hyperparameters.model_dump(exclude_none=True) if job.hyperparameters else None,
            "checkpoints": [],
            "metrics": None,
        })
        if job.status == "succeeded":
            outs["checkpoints"] = self._checkpoints(client, job.id)
            outs["metrics"] = self._metrics(client, job)
        return outs

    def _checkpoints(self, client, job_id: str) -> list[dict]:
        with clients.openai_errors(f"listing checkpoints of {job_id}"):
            items = list(clients.walk(client.fine_tuning.jobs.checkpoints.list(job_id, limit=100), max_items=100))
        items.sort(key=lambda c: c.step_number)
        return [{"id": c.id, "model": c.fine_tuned_model_checkpoint, "step_number": c.step_number,
                 "metrics": c.metrics.model_dump(exclude_none=True) if c.metrics else None} for c in items]

    def _metrics(self, client, job) -> dict | None:
        for file_id in job.result_files or []:
            try:
                with clients.openai_errors(f"downloading results of {job.id}"):
                    text = client.files.content(file_id).text
            except NotFoundError:
                continue
            rows = results.parse(text)
            if rows:
                epochs = (job.hyperparameters.n_epochs if job.hyperparameters else None)
                summary = results.summarize(rows, n_epochs=epochs if isinstance(epochs, int) else None)
                summary["results_file"] = file_id
                return summary
        return None

    def read(self, id_, props):
        account = AccountRef.parse(props["account"])
        client = self._data_plane(account, props)
        try:
            with clients.openai_errors(f"reading job {id_}"):
                job = client.fine_tuning.jobs.retrieve(id_)
        except NotFoundError:
            return None, {}
        if job.status in ("failed", "cancelled"):
            pulumi.log.warn(f"fine-tuning job {id_} is {job.status}: the next `pulumi up` starts a new run")
            return None, {}
        if job.status == "succeeded" and not self._model_exists(client, job.fine_tuned_model):
            pulumi.log.warn(f"the model {job.fine_tuned_model} of job {id_} was deleted outside Pulumi: "
                            "the next `pulumi up` trains it again")
            return None, {}
        if props.get("status") == job.status and props.get("checkpoints") is not None and job.status == "succeeded":
            outs = dict(props)  # nothing moved: no need to download the results again
            return id_, outs
        return id_, self._outputs(client, props, job)

    # -- what only a provider plugin can use -------------------------------------------------
    def has_ended(self, outputs):
        return outputs.get("status") in TERMINAL

    def normalize(self, name, value):
        if name == "method" and value is not None:
            return normalize_method(value)
        if name == "hyperparameters" and isinstance(value, dict):
            return normalize_hyperparameters(value)
        return value

    def read_for_import(self, id_, props):
        id_, outs = super().read_for_import(id_, props)
        if id_ is None:
            return None, {}
        # the job's own record of its training inputs (the preview api-version also reports the method
        # and the training type)
        client = self._data_plane(AccountRef.parse(outs["account"]), outs, preview=True)
        with clients.openai_errors(f"reading job {id_}"):
            job = client.fine_tuning.jobs.retrieve(id_)
        extra = job.model_extra or {}
        method = getattr(job, "method", None)
        recorded_type = extra.get("trainingType")
        outs.update({
            "base_model": job.model, "training_file": job.training_file, "validation_file": job.validation_file or None,
            "hyperparameters": _chosen(normalize_hyperparameters(
                job.hyperparameters.model_dump(exclude_none=True) if job.hyperparameters else None)) or None,
            "suffix": getattr(job, "suffix", None) or extra.get("suffix"), "seed": as_int(job.seed),
            "method": normalize_method(method.model_dump(exclude_none=True)) if method is not None else None,
            "training_type": availability.normalize_training_type(recorded_type) if recorded_type else None,
        })
        return id_, outs

    def update(self, id_, olds, news):
        outs = dict(olds)
        outs.update({k: v for k, v in news.items() if not (k in OUTPUTS and v is None)})
        if bool(news.get("paused")) != bool(olds.get("paused")) and olds.get("status") not in TERMINAL:
            account = AccountRef.parse(news["account"])
            job = self._pause(account, _IdOnly(id_), news) if news.get("paused") else self._resume(account, id_, news)
            outs.update({"status": job.status, "estimated_finish": rfc3339(getattr(job, "estimated_finish", None))})
        if news.get("wait", True) and outs.get("status") not in TERMINAL and not news.get("paused"):
            account = AccountRef.parse(news["account"])
            client = self._data_plane(account, news)
            with clients.openai_errors(f"reading job {id_}"):
                job = client.fine_tuning.jobs.retrieve(id_)
            job = self._wait(client, job, news)
            outs.update({k: v for k, v in self._outputs(client, news, job).items()
                         if k in OUTPUTS and k != "owner_marker"})
        return outs

    def delete(self, id_, props):
        account = AccountRef.parse(props["account"])
        client = self._data_plane(account, props)
        try:
            with clients.openai_errors(f"reading job {id_}"):
                job = client.fine_tuning.jobs.retrieve(id_)
        except NotFoundError:
            return
        foreign = _file_stack_key(client, job.training_file)
        if foreign is not None and foreign != ownership.stack_key_of(props.get("owner_marker")):
            pulumi.log.warn(f"fine-tuning job {id_} ({job.status}) trains on a file of another stack: left as it is "
                            "(not cancelled, model kept), dropped from this stack")
            return
        if job.status in ACTIVE:
            pulumi.log.info(f"cancelling fine-tuning job {id_} ({job.status})")
            try:
                with clients.openai_errors(f"cancelling job {id_}"):
                    client.fine_tuning.jobs.cancel(id_)
            except NotFoundError:
                return
            return
        if job.status == "succeeded" and props.get("delete_model_on_destroy") and job.fine_tuned_model:
            self._delete_model(client, account, id_, job.fine_tuned_model)
        elif job.status == "succeeded" and job.fine_tuned_model:
            pulumi.log.info(f"keeping model {job.fine_tuned_model} of job {id_} (delete_model_on_destroy is false)")

    def _delete_model(self, client, account: AccountRef, job_id: str, model: str) -> None:
        """Delete a fine-tuned model the only way the data-plane specs allow: delete its job
        (``FineTuning_Delete``; neither 2024-10-21 nor 2025-04-01-preview has ``DELETE /models/{id}``),
        which the service refuses while the model is deployed; then confirm with ``GET /models/{id}``
        and say what happened (rule D1 of docs/azure-rules.md)."""
        try:
            with clients.openai_errors(f"deleting job {job_id} (and with it its model {model})"):
                # not in the openai SDK: its own request method keeps auth, retries and error mapping
                client.delete(f"/fine_tuning/jobs/{job_id}", cast_to=type(None))
        except NotFoundError:
            pass  # already gone: delete is idempotent
        except ConflictError as exc:
            raise ConflictError(
                f"the model {model} of job {job_id} is still deployed, so the service refuses to delete it "
                f"({exc.service_message}). Delete its deployments (also those of other stacks or accounts), or "
                "set delete_model_on_destroy=false to keep the model, then destroy again",
                status=exc.status, code=exc.code, operation=exc.operation) from exc
        if self._model_exists(client, model):
            pulumi.log.warn(f"deleted job {job_id} in account {account.name}, but its model {model} is still listed "
                            "(GET /models answers it): the service kept it; delete it in the Foundry portal if it "
                            "must go")
        else:
            pulumi.log.info(f"deleted job {job_id} and its model {model} from account {account.name} (confirmed: "
                            "the model is gone)")


def _file_stack_key(client, file_id: Any) -> Optional[str]:
    """The stack key of the owner marker the file's name carries (None: no marker, or no such file)."""
    if not isinstance(file_id, str) or not file_id:
        return None
    try:
        with clients.openai_errors(f"reading file {file_id}"):
            name = client.files.retrieve(file_id).filename
    except NotFoundError:
        return None
    return ownership.stack_key_of(ownership.marker_in_filename(name))


class _IdOnly:
    def __init__(self, id_: str) -> None:
        self.id = id_


def _check_method(method: dict, inputs: dict) -> list[tuple[str, str]]:
    """The method's own section: DPO hyperparameters, the reinforcement grader and validation file."""
    kind = method["type"]
    section = method.get(kind)
    if section is None:
        section = {}
    if not isinstance(section, dict):
        return [(f"method.{kind}", f"method.{kind} must be an object")]
    failures: list[tuple[str, str]] = []
    unknown = set(method) - {"type", kind}
    if unknown:
        failures.append(("method", f"method has keys {sorted(unknown)} that do not belong to type {kind}"))
    allowed = ("hyperparameters", "grader", "response_format") if kind == "reinforcement" else ("hyperparameters",)
    strange = sorted(k for k in section if k not in allowed)
    if strange:
        failures.append((f"method.{kind}", f"method.{kind} has keys {strange}; it takes {', '.join(allowed)}"
                                           + (" (beta and l2_multiplier may also stand directly under method.dpo)"
                                              if kind == "dpo" else "")))
    hp = section.get("hyperparameters")
    if hp is not None and not is_unknown(hp):
        if not isinstance(hp, dict):
            return failures + [(f"method.{kind}.hyperparameters", "must be an object")]
        plain = {k: v for k, v in hp.items() if k in HYPERPARAMETERS}
        failures += [(f"method.{kind}.{f}", m) for f, m in _check_hyperparameters(plain)]
        for key, raw in hp.items():
            field = f"method.{kind}.hyperparameters.{key}"
            if key in HYPERPARAMETERS or raw is None or raw == "auto" or is_unknown(raw):
                continue
            if kind == "dpo" and key in DPO_HYPERPARAMETERS:
                v = as_int(raw)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    failures.append((field, f"{field} is {raw!r}; use a number or \"auto\""))
                elif key == "beta" and not 0 < v <= 2:
                    failures.append((field, f"{field} is {raw!r}; use a number in (0, 2] (0.1 is usual)"))
                elif key == "l2_multiplier" and v < 0:
                    failures.append((field, f"{field} is {raw!r}; use a number >= 0"))
            elif kind != "reinforcement":
                allowed = HYPERPARAMETERS + (DPO_HYPERPARAMETERS if kind == "dpo" else ())
                failures.append((field, f"unknown hyperparameter {key!r} for {kind}; use {', '.join(allowed)}"))
    if kind == "reinforcement":
        grader = section.get("grader")
        if not is_unknown(grader) and (not isinstance(grader, dict) or not grader.get("type")):
            failures.append(("method.reinforcement.grader", "reinforcement fine-tuning needs a grader object with "
                                                            "a type (e.g. string_check, score_model)"))
        if inputs.get("validation_file") is None:
            failures.append(("validation_file", "reinforcement fine-tuning needs a validation_file as well"))
    return failures


def _check_hyperparameters(value: Any) -> list[tuple[str, str]]:
    if value is None or is_unknown(value):
        return []
    if not isinstance(value, dict):
        return [("hyperparameters", "hyperparameters must be an object with n_epochs, batch_size, learning_rate_multiplier")]
    failures = []
    for key, raw in value.items():
        field = f"hyperparameters.{key}"
        if key not in HYPERPARAMETERS:
            failures.append((field, f"unknown hyperparameter {key!r}; use {', '.join(HYPERPARAMETERS)}"))
            continue
        if raw is None or raw == "auto" or is_unknown(raw):
            continue
        v = as_int(raw)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            failures.append((field, f"{field} is {raw!r}; use a number or \"auto\""))
        elif key == "n_epochs" and (not isinstance(v, int) or not 1 <= v <= 50):
            failures.append((field, f"{field} is {raw!r}; use an integer from 1 to 50 or \"auto\""))
        elif key == "batch_size" and (not isinstance(v, int) or not 1 <= v <= 256):
            failures.append((field, f"{field} is {raw!r}; use an integer from 1 to 256 or \"auto\""))
        elif key == "learning_rate_multiplier" and not 0 < v <= 10:
            failures.append((field, f"{field} is {raw!r}; use a positive number (0.02 to 0.2 is usual)"))
    return failures


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")


def parse_duration(text: str) -> float:
    """Pulumi's custom_timeouts strings ("1h30m", "90s", "45m") -> seconds."""
    total, pos = 0.0, 0
    text = text.strip()
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m[1]) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[m[2]]
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError(f"{text!r} is not a duration like 2h, 45m or 1h30m")
    return total


class FineTuningJobProvider(DynamicProvider):
    controller = FineTuningJobController


def _label(inputs: dict) -> str:
    base, suffix = inputs.get("base_model"), inputs.get("suffix")
    what = base if isinstance(base, str) and not is_unknown(base) else "a model known after another job"
    return f"fine-tuning job of {what}" + (f" (suffix {suffix})" if isinstance(suffix, str) else "")


def _log_cost(template: str, news: dict, olds: Optional[dict] = None) -> None:
    """Log the training cost of the declared run (``{new}``) and of the run it replaces (``{old}``):
    :func:`.cost.estimate_job`, the numbers `aoai-ft review` shows. Never fails the preview."""
    try:
        from .cost import estimate_job, load_prices

        prices = load_prices()
        old = estimate_job(olds, prices).short() if olds is not None else ""
        pulumi.log.info(template.format(new=estimate_job(news, prices).line(), old=old))
    except Exception as exc:  # noqa: BLE001 - an estimate must never break a preview
        pulumi.log.info(f"training cost estimate unavailable: {exc}")


def _file_parts(value: Any) -> tuple[Any, Any, Any]:
    """A TrainingFile gives its id, content hash and data statistics; a plain id gives only the id."""
    from .training_file import TrainingFile

    if isinstance(value, TrainingFile):
        # content_sha256 is computed by the file's check, so it is known at preview even for a file to be
        # (re)created: the same data uploaded again shows as an update of the job, not a new paid run; the
        # statistics likewise, so the preview prices the run
        return value.file_id, value.content_sha256, value.content_stats
    return value, None, None


class FineTuningJob(Resource, module="aoai", name="FineTuningJob"):
    """A fine-tuning run (see the module docs)."""

    job_id: pulumi.Output[str]
    status: pulumi.Output[str]
    fine_tuned_model: pulumi.Output[Optional[str]]
    result_files: pulumi.Output[list]
    trained_tokens: pulumi.Output[Optional[int]]
    checkpoints: pulumi.Output[list]
    metrics: pulumi.Output[Optional[dict]]
    error: pulumi.Output[Optional[dict]]
    created_at: pulumi.Output[str]
    finished_at: pulumi.Output[Optional[str]]
    estimated_finish: pulumi.Output[Optional[str]]
    resolved_hyperparameters: pulumi.Output[Optional[dict]]
    owner_marker: pulumi.Output[Optional[str]]  # the marker its objects carry (ownership.py)

    def __init__(
        self,
        resource_name: str,
        *,
        account: "AccountArgs | pulumi.Input[dict] | str",
        base_model: pulumi.Input[str],
        training_file: Any = None,
        validation_file: Any = None,
        hyperparameters: Optional[pulumi.Input[dict]] = None,
        suffix: Optional[pulumi.Input[str]] = None,
        seed: Optional[pulumi.Input[int]] = None,
        method: Optional[pulumi.Input[Any]] = None,
        training_type: Optional[pulumi.Input[str]] = None,
        paused: Optional[pulumi.Input[bool]] = None,
        wait: pulumi.Input[bool] = True,
        timeout_seconds: Optional[pulumi.Input[float]] = None,
        delete_model_on_destroy: pulumi.Input[bool] = False,
        adopt_job_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        if timeout_seconds is None and opts is not None and opts.custom_timeouts is not None \
                and opts.custom_timeouts.create:
            timeout_seconds = parse_duration(opts.custom_timeouts.create)
        training_id, training_sha, training_stats = _file_parts(training_file)
        validation_id, validation_sha, _ = _file_parts(validation_file)
        props: dict[str, Any] = {
            "account": account_inputs(account), "base_model": base_model,
            "training_file": training_id, "training_file_sha256": training_sha,
            "training_file_stats": training_stats,
            "validation_file": validation_id, "validation_file_sha256": validation_sha,
            "hyperparameters": hyperparameters, "suffix": suffix, "seed": seed, "method": method,
            "training_type": training_type, "paused": paused,
            "wait": wait, "timeout_seconds": timeout_seconds,
            "delete_model_on_destroy": delete_model_on_destroy, "adopt_job_id": adopt_job_id,
            "owner": ownership.owner_inputs("FineTuningJob", resource_name),
        }
        for key in OUTPUTS:
            props.setdefault(key, None)
        super().__init__(FineTuningJobProvider(), resource_name, props, opts)
