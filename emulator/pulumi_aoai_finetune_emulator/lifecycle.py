"""State machines of the data plane, advanced by :meth:`Backend.tick` from the emulator clock.

Everything here is a pure function of stored records and emulator time: an event that "happens" at
time T is recorded with ``created_at`` T whenever the tick that notices it runs, so the outcome does not
depend on how often ticks run, and a restarted emulator continues where it stopped.

Files: ``pending`` for :data:`FILE_PROCESSING_SECONDS`, then ``processed`` or ``error`` (the verdict of
the validation done while the upload streamed in).

Jobs (emulated seconds, from ``created_at``)::

    0                        pending   "Job enqueued. Waiting for jobs ahead to complete."
    QUEUE (60)               pending   "Validating training file: ..." (and validation file)
    QUEUE+VALIDATION (90)    running   "Job started."            | failed: missing/unsuitable data, RAI data check
    ... one step every step_seconds: metrics events ("Step 3/30: training loss=..."), a checkpoint per epoch
    ... FAIL-TRIGGER in the data: failed half-way through the steps
    ... PAUSE-TRIGGER in the data: paused by the service half-way (as Azure pauses reinforcement
        fine-tuning jobs at $5,000 of training cost; rule J1 of docs/azure-rules.md), until resumed
    training end             running   "Training completed. Evaluating the model."
    training end + POST (60) succeeded "Completed results file: ...", "Job succeeded."

An epoch lasts ``(EPOCH_BASE_SECONDS + tokens per epoch / TOKENS_PER_SECOND) x model speed factor``,
so 3 epochs of a small file on gpt-4o-mini take about 7.5 emulated minutes (4.5 real seconds at the
default time scale of 100). Pausing (preview API) answers ``pausing``; training goes on for
:data:`PAUSING_SECONDS`, then the job is ``paused`` and its timeline frozen; resuming answers
``resuming`` and training continues :data:`RESUMING_SECONDS` later, the rest of the timeline shifted
by the time spent paused and resuming.

Slots: an account runs at most :data:`MAX_RUNNING_JOBS` jobs at once (developer-tier training has a
pool of its own, :data:`MAX_RUNNING_JOBS_DEVELOPER`). A job holds a slot from the end of its queue time
until it ends (paused jobs keep theirs). A job whose queue time is over while every slot is taken
stays ``pending`` ("Waiting for a free training slot") and starts, in creation order, at the moment a
slot frees -- computed from the jobs' recorded end times, so the outcome does not depend on how often
ticks run. At most :data:`MAX_QUEUED_JOBS` jobs may wait for a slot: :func:`check_queue` refuses
more. ``config.extra`` keys ``max_running_jobs``, ``max_running_jobs_developer``, ``max_queued_jobs``
override the numbers (tests use small ones).
"""

from __future__ import annotations

import math
from typing import Any

from . import catalog, results
from .backend import ticker

FILE_PROCESSING_SECONDS = 10.0
QUEUE_SECONDS = 60.0
VALIDATION_SECONDS = 30.0
POSTPROCESS_SECONDS = 60.0
EPOCH_BASE_SECONDS = 100.0
TOKENS_PER_SECOND = 1000.0
MAX_METRIC_EVENTS = 100
DEPLOYABLE_CHECKPOINTS = 3  # the last three checkpoints of a job can be deployed

ACTIVE = ("pending", "running")
PAUSING_SECONDS = 30.0
RESUMING_SECONDS = 30.0
MAX_RUNNING_JOBS = 3             # per resource (Azure OpenAI quotas and limits, 2026)
MAX_RUNNING_JOBS_DEVELOPER = 5   # developer-tier training
MAX_QUEUED_JOBS = 20
TERMINAL = ("succeeded", "failed", "cancelled")


# -- plans ----------------------------------------------------------------------------------------
def resolve_hyperparameters(requested: dict[str, Any], examples: int) -> dict[str, Any]:
    """Turn "auto" / -1 / missing into the values the service picks."""
    batch = requested.get("batch_size")
    if batch in (None, "auto", -1):
        batch = max(1, min(256, round(0.002 * examples)))
    epochs = requested.get("n_epochs")
    if epochs in (None, "auto", -1):
        epochs = 3
        if examples * 3 < 100:
            epochs = min(25, math.ceil(100 / max(1, examples)))
        elif examples * 3 > 25000:
            epochs = max(1, 25000 // examples)
    lr = requested.get("learning_rate_multiplier")
    if lr in (None, "auto", -1):
        lr = 0.05 if batch < 8 else (0.1 if batch < 32 else 0.2)
    return {"n_epochs": int(epochs), "batch_size": int(batch), "learning_rate_multiplier": float(lr)}


def plan_job(job: dict[str, Any], *, training: dict[str, Any], validation: dict[str, Any] | None,
             root_model: str, method_type: str, requested: dict[str, Any]) -> dict[str, Any]:
    """Everything the timeline and the metrics need, fixed when the job is created."""
    t_info = training["_inspect"]
    v_info = validation["_inspect"] if validation else None
    examples = max(1, t_info["examples"])
    hp = resolve_hyperparameters(requested, examples)
    steps_per_epoch = max(1, math.ceil(examples / hp["batch_size"]))
    total_steps = steps_per_epoch * hp["n_epochs"]
    entry = catalog.lookup(root_model) or {}
    speed = float(entry.get("speed", 1.0))
    tokens = int(t_info["tokens"])
    epoch_seconds = (EPOCH_BASE_SECONDS + tokens / TOKENS_PER_SECOND) * speed
    step_seconds = epoch_seconds / steps_per_epoch
    run_at = QUEUE_SECONDS + VALIDATION_SECONDS
    train_end = run_at + total_steps * step_seconds
    safety = bool(entry.get("safety_evaluation"))
    rai_data = _merge(t_info.get("rai_data"), v_info.get("rai_data") if v_info else None) if safety else []
    rai_model = _merge(t_info.get("rai_model"), v_info.get("rai_model") if v_info else None) if safety else []
    fail = bool(t_info.get("fail") or (v_info and v_info.get("fail")))
    pause = bool(t_info.get("pause") or (v_info and v_info.get("pause")))
    key = results.metrics_key(job["seed"], t_info["sha256"], v_info["sha256"] if v_info else "-", root_model,
                              method_type, hp["n_epochs"], hp["batch_size"], hp["learning_rate_multiplier"],
                              requested.get("beta"), requested.get("l2_multiplier"))
    return {
        "examples": examples,
        "tokens_per_epoch": tokens,
        **hp,
        "steps_per_epoch": steps_per_epoch,
        "total_steps": total_steps,
        "step_seconds": step_seconds,
        "run_at": run_at,
        "train_end": train_end,
        "finish_at": train_end + POSTPROCESS_SECONDS,
        "fail_step": max(1, total_steps // 2) if fail else None,
        "auto_pause_step": max(1, total_steps // 2) if pause else None,
        "rai_data": rai_data,
        "rai_model": rai_model,
        "has_validation": validation is not None,
        "metrics_key": key,
        "metrics_every": max(1, math.ceil(total_steps / MAX_METRIC_EVENTS)),
    }


def _merge(a: list[str] | None, b: list[str] | None) -> list[str]:
    out: list[str] = []
    for c in (a or []) + (b or []):
        if c not in out:
            out.append(c)
    return out


# -- messages -------------------------------------------------------------------------------------
def rai_data_message(categories: list[str]) -> str:
    return (f"The provided training data failed RAI checks for harm types: [{', '.join(categories)}]. "
            "Please fix the data and try again.")


def rai_model_message(categories: list[str]) -> str:
    names = ", ".join(c.replace("_", " ").title() for c in categories)
    return ("This model is unable to be deployed. Model evaluation identified that this fine tuned model "
            f"scores above acceptable thresholds for [{names}]. Please review your training data set and "
            "resubmit the job.")


# -- records --------------------------------------------------------------------------------------
def add_event(backend, job: dict[str, Any], at: float, message: str, *, level: str = "info",
              type: str = "message", data: dict[str, Any] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"id": backend.new_id("ftevent"), "object": "fine_tuning.job.event",
                             "created_at": int(at), "level": level, "message": message, "type": type}
    if data is not None:
        event["data"] = data
    event["_seq"] = backend.store.next_sequence()
    backend.store["events"].setdefault(job["id"], []).append(event)
    return event


def _fail(backend, job: dict[str, Any], at: float, code: str, message: str, param: str | None = None) -> None:
    job["status"] = "failed"
    job["error"] = {"code": code, "message": message}
    if param is not None:  # the spec's FineTuningJobError has no null param: omitted, as Azure omits it
        job["error"]["param"] = param
    job["finished_at"] = int(at)
    job["estimated_finish"] = None
    add_event(backend, job, at, message, level="error")
    add_event(backend, job, at, "Job failed.", level="error")


def _origin(job: dict[str, Any]) -> float:
    return job["_created"] + job.get("_shift", 0.0)


# -- tickers --------------------------------------------------------------------------------------
@ticker
def process_files(backend, now: float) -> None:
    for record in backend.store["files"].values():
        if record["status"] == "pending" and now >= record["_created"] + FILE_PROCESSING_SECONDS:
            error = (record.get("_inspect") or {}).get("error")
            if error:
                record["status"] = "error"
                record["status_details"] = error
            else:
                record["status"] = "processed"


# -- slots (running limit) and the queue ----------------------------------------------------------
def job_pool(job: dict[str, Any]) -> str:
    return "developer" if str(job.get("trainingType") or "").lower() == "developertier" else "standard"


def _limit(backend, pool: str) -> int:
    if pool == "developer":
        return int(backend.config.extra.get("max_running_jobs_developer", MAX_RUNNING_JOBS_DEVELOPER))
    return int(backend.config.extra.get("max_running_jobs", MAX_RUNNING_JOBS))


def _slot(job: dict[str, Any]) -> float | None:
    """When the job took its slot (None: still queued). Jobs stored before slots existed hold one."""
    return job["_state"].get("slot", job["_created"])


def _waiting(job: dict[str, Any]) -> bool:
    return job["status"] == "pending" and _slot(job) is None


def check_queue(backend, account: str, pool: str) -> None:
    """Refuse a new job when :data:`MAX_QUEUED_JOBS` of the account's jobs already wait for a slot."""
    from .errors import ServiceError

    limit = int(backend.config.extra.get("max_queued_jobs", MAX_QUEUED_JOBS))
    waiting = [j for j in backend.store["jobs"].values()
               if j["_account"] == account and job_pool(j) == pool and _waiting(j)]
    if len(waiting) >= limit:
        raise ServiceError(
            429, "quotaExceeded",
            f"The maximum number of queued fine-tuning jobs ({limit}) for this resource has been reached "
            f"({_limit(backend, pool)} jobs run at once). Try again when running jobs have completed.",
            headers={"Retry-After": "60"})


def _holders_at(jobs: list[dict[str, Any]], t: float) -> int:
    count = 0
    for j in jobs:
        taken = _slot(j)
        if taken is None or taken > t:
            continue
        ended = j.get("finished_at") if j["status"] in TERMINAL else None
        if ended is None or ended > t:
            count += 1
    return count


def _hand_out_slots(backend, now: float) -> bool:
    """Give free slots to waiting jobs (oldest first); True if any job took one."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for job in backend.store["jobs"].values():
        groups.setdefault((job["_account"], job_pool(job)), []).append(job)
    moved = False
    for (_, pool), jobs in groups.items():
        limit = _limit(backend, pool)
        for job in sorted((j for j in jobs if _waiting(j)), key=lambda j: (j["_created"], j.get("_seq", 0))):
            ready = _origin(job) + QUEUE_SECONDS
            if ready > now:
                break  # FIFO: later jobs are not ready either
            candidates = sorted({ready} | {float(j["finished_at"]) for j in jobs
                                           if j["status"] in TERMINAL and j.get("finished_at") is not None
                                           and ready < j["finished_at"] <= now})
            start = next((t for t in candidates if _holders_at(jobs, t) < limit), None)
            if start is None:
                if not job["_state"].get("waiting_noted"):
                    job["_state"]["waiting_noted"] = True
                    add_event(backend, job, ready, f"Waiting for a free training slot: this resource runs {limit} "
                                                   "fine-tuning jobs at a time.")
                break  # FIFO: nobody overtakes it
            job["_shift"] = job.get("_shift", 0.0) + (start - ready)  # its timeline starts when the slot frees
            job["_state"]["slot"] = start
            advance_job(backend, job, now)
            moved = True
    return moved


@ticker
def advance_jobs(backend, now: float) -> None:
    for _ in range(1000):  # a job that ends within this tick frees its slot for the next one
        for job in list(backend.store["jobs"].values()):
            if _slot(job) is None:
                continue
            if job["status"] in ACTIVE:
                advance_job(backend, job, now)
            elif job["status"] == "pausing":
                _advance_pausing(backend, job, now)
            elif job["status"] == "resuming":
                _advance_resuming(backend, job, now)
        if not _hand_out_slots(backend, now):
            return


def _advance_pausing(backend, job: dict[str, Any], now: float) -> None:
    at = job["_pause_at"]
    advance_job(backend, job, min(now, at))  # training goes on while pausing
    if job["status"] in TERMINAL or now < at:
        return
    job["status"] = "paused"
    job["_paused_at"] = at
    job["estimated_finish"] = None
    add_event(backend, job, at, "Job paused.")


def _advance_resuming(backend, job: dict[str, Any], now: float) -> None:
    at = job["_resume_at"]
    if now < at:
        return
    job["_shift"] = job.get("_shift", 0.0) + (at - job["_paused_at"])
    job["_paused_at"] = None
    job["status"] = "running"
    job["estimated_finish"] = int(_origin(job) + job["_plan"]["finish_at"])
    add_event(backend, job, at, "Job resumed.")
    advance_job(backend, job, now)


def advance_job(backend, job: dict[str, Any], now: float) -> None:
    plan, state = job["_plan"], job["_state"]
    origin = _origin(job)
    local = now - origin

    if not state["validating"]:
        if local < QUEUE_SECONDS:
            return
        state["validating"] = True
        at = origin + QUEUE_SECONDS
        add_event(backend, job, at, f"Validating training file: {job['training_file']}")
        if job.get("validation_file"):
            add_event(backend, job, at, f"Validating validation file: {job['validation_file']}")

    if not state["started"]:
        if local < plan["run_at"]:
            return
        at = origin + plan["run_at"]
        problem = _data_problem(backend, job)
        if problem is not None:
            _fail(backend, job, at, *problem)
            return
        if plan["rai_data"]:
            _fail(backend, job, at, "invalidTrainingData", rai_data_message(plan["rai_data"]), "training_file")
            return
        state["started"] = True
        job["status"] = "running"
        _publish_hyperparameters(job)
        job["estimated_finish"] = int(origin + plan["finish_at"])
        add_event(backend, job, at, "Training file passed validation.")
        add_event(backend, job, at, "Job started.")

    total, every, spe = plan["total_steps"], plan["metrics_every"], plan["steps_per_epoch"]
    done = min(total, int((local - plan["run_at"]) / plan["step_seconds"] + 1e-9))
    for step in range(state["step"] + 1, done + 1):
        at = origin + plan["run_at"] + step * plan["step_seconds"]
        if plan["fail_step"] is not None and step == plan["fail_step"]:
            state["step"] = step - 1
            _fail(backend, job, at, "internalFailure",
                  "The fine-tuning job failed due to an internal error during training "
                  f"(at step {step} of {total}). Please retry the job; if the problem persists, contact support.")
            return
        if plan.get("auto_pause_step") == step and not state.get("auto_paused"):
            state["step"], state["auto_paused"] = step - 1, True  # this step trains after the resume
            _pause_by_the_service(backend, job, at)
            return
        metrics = results.step_metrics(plan, step)
        if step % every == 0 or step == total:
            text = f"Step {step}/{total}: training loss={metrics['train_loss']:.4f}"
            if "valid_loss" in metrics:
                text += f", validation loss={metrics['valid_loss']:.4f}"
            add_event(backend, job, at, text, type="metrics",
                      data={"step": step, "total_steps": total, **metrics})
        if step % spe == 0:
            _add_checkpoint(backend, job, at, step)
        state["step"] = step

    if state["step"] < total:
        return
    if not state["trained"]:
        state["trained"] = True
        add_event(backend, job, origin + plan["train_end"], "Training completed. Evaluating the model.")
    if local < plan["finish_at"]:
        return
    _succeed(backend, job, origin + plan["finish_at"])


AUTO_PAUSE_MESSAGE = ("Job paused: the training cost of this job reached the limit at which the service pauses "
                      "reinforcement fine-tuning jobs ($5,000 of training and grading). Deploy the most recent "
                      "checkpoint, or resume the job: billing continues, with no further cost-based limit.")


def _pause_by_the_service(backend, job: dict[str, Any], at: float) -> None:
    """Pause without being asked, as Azure pauses RFT jobs at a cost ceiling (rule J1): the job keeps its
    progress and resumes through the ordinary resume route."""
    job["status"] = "paused"
    job["_paused_at"] = at
    job["estimated_finish"] = None
    add_event(backend, job, at, AUTO_PAUSE_MESSAGE, level="warning")


def _data_problem(backend, job: dict[str, Any]) -> tuple[str, str, str] | None:
    """Why the job's data cannot be trained on (code, message, param), or None."""
    for param in ("training_file", "validation_file"):
        file_id = job.get(param)
        if not file_id:
            continue
        record = backend.store["files"].get(file_id)
        if record is None:
            return ("invalidTrainingFile" if param == "training_file" else "invalidValidationFile",
                    f"The {param.replace('_', ' ')} '{file_id}' was deleted before the job could use it.", param)
        needed = job["_needs_format"]
        found = record["_inspect"]["format"]
        if found not in needed:
            return ("invalidTrainingFile" if param == "training_file" else "invalidValidationFile",
                    f"The {param.replace('_', ' ')} '{file_id}' has {_FORMAT_NAMES.get(found, found)} examples, "
                    f"but {job['_method_type']} fine-tuning of '{job['_root_model']}' needs "
                    f"{' or '.join(_FORMAT_NAMES[f] for f in needed)} examples.", param)
    return None


_FORMAT_NAMES = {
    "chat": "chat (messages with an assistant reply)",
    "completion": "prompt/completion",
    "preference": "preference (input, preferred_output, non_preferred_output)",
    "prompt": "prompt-only chat (messages without an assistant reply)",
}


def _publish_hyperparameters(job: dict[str, Any]) -> None:
    plan = job["_plan"]
    resolved = {"n_epochs": plan["n_epochs"], "batch_size": plan["batch_size"],
                "learning_rate_multiplier": plan["learning_rate_multiplier"]}
    job["hyperparameters"] = dict(resolved)
    method = job.get("method")
    if method:
        section = method.setdefault(method["type"], {}) or {}
        method[method["type"]] = section
        hp = dict(section.get("hyperparameters") or {})
        hp.update(resolved)
        if method["type"] == "dpo":
            if hp.get("beta") in (None, "auto", -1):
                hp["beta"] = 0.1
            if hp.get("l2_multiplier") in (None, "auto", -1):
                hp["l2_multiplier"] = 0.1
        section["hyperparameters"] = hp


def _add_checkpoint(backend, job: dict[str, Any], at: float, step: int) -> None:
    plan = job["_plan"]
    # Rule CK1: the last checkpoint is the fine-tuned model itself; earlier ones are `<model>:ckpt-step-N`
    name = plan["fine_tuned_model"] if step >= plan["total_steps"] else f"{plan['fine_tuned_model']}:ckpt-step-{step}"
    checkpoint = {
        "id": backend.new_id("ftchkpt"),
        "object": "fine_tuning.job.checkpoint",
        "created_at": int(at),
        "fine_tuned_model_checkpoint": name,
        "step_number": step,
        "metrics": results.checkpoint_metrics(plan, step),
        "fine_tuning_job_id": job["id"],
        "_seq": backend.store.next_sequence(),
        "_account": job["_account"],
    }
    backend.store["checkpoints"].setdefault(job["id"], []).append(checkpoint)
    add_event(backend, job, at, f"Checkpoint created at step {step}.", data={"checkpoint": name, "step": step})


def _succeed(backend, job: dict[str, Any], at: float) -> None:
    plan = job["_plan"]
    store = backend.store
    file_id = backend.new_id("file")
    size = results.write_results_csv(store.blob_path(file_id), plan)
    if backend.config.extra.get("results_base64"):
        # the content as some services hand it out, base64-encoded (rule R1 of docs/azure-rules.md: reported
        # for result files, not documented; off by default)
        import base64

        path = store.blob_path(file_id)
        encoded = base64.b64encode(path.read_bytes())
        path.write_bytes(encoded)
        size = len(encoded)
    store["files"][file_id] = {
        "id": file_id, "object": "file", "bytes": size, "created_at": int(at), "filename": "results.csv",
        "purpose": "fine-tune-results", "status": "processed",
        "_account": job["_account"], "_created": at, "_seq": store.next_sequence(),
        "_inspect": None, "_job": job["id"],
    }
    name = plan["fine_tuned_model"]
    root = catalog.lookup(job["_root_model"]) or {}
    chat = root.get("kind") == "chat"
    rai = list(plan["rai_model"])
    store["models"][name] = {
        "id": name, "object": "model", "created_at": int(at), "status": "succeeded",
        "model": job["model"], "fine_tune": job["id"],
        "capabilities": {"fine_tune": bool(root.get("fine_tune_regions")) and chat, "inference": True,
                         "completion": not chat, "chat_completion": chat, "embeddings": False},
        "lifecycle_status": "generally-available",
        "deprecation": {"inference": int(at + 365 * 86400)},
        "_account": job["_account"], "_root_model": job["_root_model"], "_seq": store.next_sequence(),
        "_rai_categories": rai,
    }
    if rai:
        add_event(backend, job, at, rai_model_message(rai), level="warning")
    else:
        add_event(backend, job, at, "Model evaluation passed.")
    add_event(backend, job, at, f"Completed results file: {file_id}")
    trained = plan["tokens_per_epoch"] * plan["n_epochs"]
    job.update(status="succeeded", fine_tuned_model=name, result_files=[file_id], trained_tokens=trained,
               finished_at=int(at), estimated_finish=None)
    add_event(backend, job, at, "Job succeeded.")
    add_event(backend, job, at, f"Training tokens billed: {trained}")


# -- user actions ---------------------------------------------------------------------------------
def cancel(backend, job: dict[str, Any], now: float) -> None:
    job["status"] = "cancelled"
    job["finished_at"] = int(now)
    job["estimated_finish"] = None
    job["_paused_at"] = None
    add_event(backend, job, now, "Job cancelled.")


def pause(backend, job: dict[str, Any], now: float) -> None:
    job["status"] = "pausing"
    job["_pause_at"] = now + PAUSING_SECONDS
    add_event(backend, job, now, "Pausing the job.")


def resume(backend, job: dict[str, Any], now: float) -> None:
    job["status"] = "resuming"
    job["_resume_at"] = now + RESUMING_SECONDS
    add_event(backend, job, now, "Resuming the job.")


def checkpoint_deployability(backend, job_id: str, checkpoint: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether a checkpoint can be deployed: the job succeeded, the checkpoint is one of its last
    three, and the model passed the safety evaluation."""
    job = backend.store["jobs"].get(job_id)
    name = checkpoint["fine_tuned_model_checkpoint"]
    if job is None:
        return False, f"The checkpoint '{name}' belongs to a deleted job."
    if job["status"] != "succeeded":
        return False, (f"The checkpoint '{name}' cannot be deployed: its job {job_id} is {job['status']}; "
                       "checkpoints are deployable once the job has succeeded.")
    if job["_plan"]["rai_model"]:
        return False, rai_model_message(job["_plan"]["rai_model"])
    steps = sorted(c["step_number"] for c in backend.store["checkpoints"].get(job_id, []))
    last = steps[-DEPLOYABLE_CHECKPOINTS:]
    if checkpoint["step_number"] not in last:
        return False, (f"The checkpoint '{name}' cannot be deployed: only the last {DEPLOYABLE_CHECKPOINTS} "
                       f"checkpoints of a job are deployable (steps {', '.join(map(str, last))}).")
    return True, None
