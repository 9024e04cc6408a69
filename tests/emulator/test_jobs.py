"""Data plane: fine-tuning jobs (create, lifecycle, list, get, cancel, delete, pause/resume, events,
checkpoints, results.csv), driven through the openai SDK with the emulator clock moved explicitly."""

from __future__ import annotations

import csv
import io

import httpx
import httpx2
import openai
import pytest
from .conftest import advance_clock, make_openai, spec_errors
from .data_helpers import chat_jsonl, completion_jsonl, preference_jsonl, prompt_only_jsonl
from openai import AzureOpenAI

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer
from pulumi_aoai_finetune_emulator.dataplane import resolve_deployable_model

MODEL = "gpt-4o-mini-2024-07-18"
PREVIEW = "2025-04-01-preview"
# chat_jsonl(12) with n_epochs=3 on gpt-4o-mini: batch 1, 12 steps/epoch, 36 steps; queue 60 s,
# validation 30 s, ~100.6 s per epoch, post-processing 60 s: succeeded ~452 s after creation.
DONE = 500


def preview_client(server, account: str = "aoai-ncus") -> AzureOpenAI:
    return AzureOpenAI(azure_endpoint=server.backend.account_endpoint(account), api_key="k",
                       api_version=PREVIEW, max_retries=0)


@pytest.fixture
def training(processed_file):
    return processed_file(chat_jsonl(12))


def new_job(client, training_file: str, **kwargs):
    kwargs.setdefault("model", MODEL)
    return client.fine_tuning.jobs.create(training_file=training_file, **kwargs)


def events(client, job_id: str) -> list:
    return client.fine_tuning.jobs.list_events(job_id, limit=1000).data


def results_rows(client, job) -> list[dict[str, str]]:
    text = client.files.content(job.result_files[0]).text
    return list(csv.DictReader(io.StringIO(text)))


# -- create and run ---------------------------------------------------------------------------------
def test_create_returns_201_pending(fclient, training):
    raw = fclient.fine_tuning.jobs.with_raw_response.create(model=MODEL, training_file=training.id, seed=7,
                                                            suffix="bikes-v1", hyperparameters={"n_epochs": 3})
    assert raw.status_code == 201
    job = raw.parse()
    assert raw.headers["location"].endswith(f"/openai/fine_tuning/jobs/{job.id}")
    assert job.id.startswith("ftjob-") and len(job.id) == len("ftjob-") + 32
    assert (job.object, job.status, job.model, job.training_file, job.validation_file) == (
        "fine_tuning.job", "pending", MODEL, training.id, None)
    assert (job.seed, job.suffix, job.fine_tuned_model, job.result_files, job.trained_tokens) == (
        7, "bikes-v1", None, [], None)
    assert job.hyperparameters.n_epochs == 3 and job.hyperparameters.batch_size == -1
    assert job.error is None and job.finished_at is None and job.estimated_finish is None
    assert [e.message for e in events(fclient, job.id)] == ["Job enqueued. Waiting for jobs ahead to complete."]
    assert fclient.fine_tuning.jobs.retrieve(job.id).id == job.id


def test_lifecycle_pending_running_succeeded(fclient, fadvance, training):
    job = new_job(fclient, training.id, seed=1, hyperparameters={"n_epochs": 3})
    fadvance(59)
    assert fclient.fine_tuning.jobs.retrieve(job.id).status == "pending"
    fadvance(2)
    got = fclient.fine_tuning.jobs.retrieve(job.id)
    assert got.status == "pending"
    assert f"Validating training file: {training.id}" in [e.message for e in events(fclient, job.id)]
    fadvance(30)
    running = fclient.fine_tuning.jobs.retrieve(job.id)
    assert running.status == "running"
    assert running.hyperparameters.model_dump() == {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 0.05}
    assert 440 < running.estimated_finish - running.created_at < 460
    fadvance(150)  # ~1.5 epochs in
    mid = fclient.fine_tuning.jobs.retrieve(job.id)
    assert mid.status == "running"
    messages = [e.message for e in events(fclient, job.id)]
    assert any(m.startswith("Step 12/36: training loss=") for m in messages)
    assert "Checkpoint created at step 12." in messages
    assert len(fclient.fine_tuning.jobs.checkpoints.list(job.id).data) == 1
    fadvance(DONE)
    done = fclient.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded"
    assert done.fine_tuned_model == f"{MODEL}.ft-{job.id.removeprefix('ftjob-')}"
    assert done.finished_at == running.estimated_finish and done.estimated_finish is None
    assert done.trained_tokens > 0 and done.trained_tokens % 3 == 0
    result = fclient.files.retrieve(done.result_files[0])
    assert (result.purpose, result.filename, result.status) == ("fine-tune-results", "results.csv", "processed")
    assert [f.id for f in fclient.files.list(purpose="fine-tune-results").data] == done.result_files
    newest = [e.message for e in events(fclient, job.id)][:4]
    assert newest == [f"Training tokens billed: {done.trained_tokens}", "Job succeeded.",
                      f"Completed results file: {done.result_files[0]}", "Model evaluation passed."]
    metrics = [e for e in events(fclient, job.id) if e.type == "metrics"]
    assert len(metrics) == 36 and metrics[0].data["step"] == 36 and metrics[0].object == "fine_tuning.job.event"
    assert fclient.models.retrieve(done.fine_tuned_model).status == "succeeded"


def test_suffix_is_appended_to_the_model_name(fclient, fadvance, training):
    job = new_job(fclient, training.id, suffix="shop_bot-2", hyperparameters={"n_epochs": 1})
    fadvance(DONE)
    assert fclient.fine_tuning.jobs.retrieve(job.id).fine_tuned_model.endswith("-shop_bot-2")


@pytest.mark.outside_contract
def test_auto_hyperparameters_are_resolved_from_the_data(fclient, fadvance, training):
    job = new_job(fclient, training.id, hyperparameters={"n_epochs": "auto", "batch_size": "auto",
                                                         "learning_rate_multiplier": "auto"})
    assert job.hyperparameters.n_epochs == "auto"
    fadvance(91)
    got = fclient.fine_tuning.jobs.retrieve(job.id).hyperparameters
    assert (got.n_epochs, got.batch_size, got.learning_rate_multiplier) == (9, 1, 0.05)  # 100 examples seen


# -- results.csv ------------------------------------------------------------------------------------
COLUMNS = ["step", "train_loss", "train_mean_token_accuracy", "valid_loss", "validation_mean_token_accuracy",
           "full_valid_loss", "full_valid_mean_token_accuracy"]


def _mean(rows, column):
    values = [float(r[column]) for r in rows]
    return sum(values) / len(values)


def test_results_csv_columns_and_trends(fclient, fadvance, training):
    job = new_job(fclient, training.id, seed=3, hyperparameters={"n_epochs": 3})
    fadvance(DONE)
    job = fclient.fine_tuning.jobs.retrieve(job.id)
    text = fclient.files.content(job.result_files[0]).text
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = results_rows(fclient, job)
    assert [int(r["step"]) for r in rows] == list(range(1, 37))
    assert all(r["valid_loss"] == r["full_valid_loss"] == "" for r in rows)  # no validation file
    first, last = rows[:12], rows[-12:]
    assert _mean(first, "train_loss") > 1.5 * _mean(last, "train_loss")
    assert _mean(first, "train_mean_token_accuracy") < _mean(last, "train_mean_token_accuracy")
    assert all(0 <= float(r["train_mean_token_accuracy"]) <= 1 for r in rows)


def test_results_with_validation_file(fclient, fadvance, processed_file):
    train = processed_file(chat_jsonl(12))
    valid = processed_file(chat_jsonl(10), filename="valid.jsonl")
    job = new_job(fclient, train.id, validation_file=valid.id, hyperparameters={"n_epochs": 2})
    assert job.validation_file == valid.id
    fadvance(61)
    assert f"Validating validation file: {valid.id}" in [e.message for e in events(fclient, job.id)]
    fadvance(DONE)
    job = fclient.fine_tuning.jobs.retrieve(job.id)
    rows = results_rows(fclient, job)
    assert all(r["valid_loss"] and r["validation_mean_token_accuracy"] for r in rows)
    assert [int(r["step"]) for r in rows if r["full_valid_loss"]] == [12, 24]
    assert all(bool(r["full_valid_mean_token_accuracy"]) == bool(r["full_valid_loss"]) for r in rows)
    assert "validation loss=" in next(e.message for e in events(fclient, job.id) if e.type == "metrics")
    checkpoint = fclient.fine_tuning.jobs.checkpoints.list(job.id).data[0]
    assert set(checkpoint.metrics.model_dump(exclude_none=True)) == {
        "step", "train_loss", "train_mean_token_accuracy", "valid_loss", "valid_mean_token_accuracy",
        "full_valid_loss", "full_valid_mean_token_accuracy"}


def test_same_seed_and_data_give_the_same_results(fclient, fadvance, processed_file):
    a, b = processed_file(chat_jsonl(12)), processed_file(chat_jsonl(12))
    assert a.id != b.id
    jobs = [new_job(fclient, a.id, seed=42, hyperparameters={"n_epochs": 2}),
            new_job(fclient, b.id, seed=42, hyperparameters={"n_epochs": 2}),
            new_job(fclient, a.id, seed=43, hyperparameters={"n_epochs": 2})]
    fadvance(DONE)
    jobs = [fclient.fine_tuning.jobs.retrieve(j.id) for j in jobs]
    csvs = [fclient.files.content(j.result_files[0]).text for j in jobs]
    assert csvs[0] == csvs[1]
    assert csvs[0] != csvs[2]
    metrics = [[c.metrics for c in fclient.fine_tuning.jobs.checkpoints.list(j.id).data] for j in jobs]
    assert metrics[0] == metrics[1] != metrics[2]


# -- checkpoints ------------------------------------------------------------------------------------
def test_checkpoints_as_azure_lists_them(frozen, fclient, fadvance, training):
    """Rule CK1: one checkpoint per epoch; the last three are listed (and deployable); the last one is the
    fine-tuned model itself, earlier ones `<model>:ckpt-step-N`; an `ftchkpt-` id deploys its model."""
    job = new_job(fclient, training.id, hyperparameters={"n_epochs": 5})
    fadvance(800)
    job = fclient.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded"
    checkpoints = fclient.fine_tuning.jobs.checkpoints.list(job.id).data
    assert [c.step_number for c in checkpoints] == [60, 48, 36]  # newest first, the last three
    assert [c.fine_tuned_model_checkpoint for c in checkpoints] == [
        job.fine_tuned_model, f"{job.fine_tuned_model}:ckpt-step-48", f"{job.fine_tuned_model}:ckpt-step-36"]
    for c in checkpoints:
        assert c.id.startswith("ftchkpt-") and c.object == "fine_tuning.job.checkpoint"
        assert c.fine_tuning_job_id == job.id and c.metrics.step == c.step_number
    verdicts = {c.step_number: resolve_deployable_model(frozen.backend, "aoai-ncus", c.fine_tuned_model_checkpoint)
                for c in checkpoints}
    assert all(v["deployable"] for v in verdicts.values())
    assert verdicts[60]["kind"] == "fine_tuned" and verdicts[60]["name"] == job.fine_tuned_model  # the same model
    assert verdicts[48]["kind"] == "checkpoint" and verdicts[48]["base_model"] == MODEL
    by_id = resolve_deployable_model(frozen.backend, "aoai-ncus", checkpoints[1].id)
    assert by_id["name"] == checkpoints[1].fine_tuned_model_checkpoint and by_id["deployable"]
    older = resolve_deployable_model(frozen.backend, "aoai-ncus", f"{job.fine_tuned_model}:ckpt-step-12")
    assert not older["deployable"] and "only the last 3 checkpoints" in older["reason"]
    page = fclient.fine_tuning.jobs.checkpoints.list(job.id, limit=2)
    assert [c.step_number for c in page.data] == [60, 48] and page.has_more
    rest = fclient.fine_tuning.jobs.checkpoints.list(job.id, after=page.data[-1].id, limit=10)
    assert [c.step_number for c in rest.data] == [36] and not rest.has_more


def test_checkpoints_of_a_running_job_are_not_deployable(frozen, fclient, fadvance, training):
    job = new_job(fclient, training.id, hyperparameters={"n_epochs": 3})
    fadvance(200)
    checkpoint = fclient.fine_tuning.jobs.checkpoints.list(job.id).data[0]
    verdict = resolve_deployable_model(frozen.backend, "aoai-ncus", checkpoint.fine_tuned_model_checkpoint)
    assert not verdict["deployable"] and "running" in verdict["reason"]


# -- list and events pagination -------------------------------------------------------------------
def test_list_jobs_newest_first_with_pagination(fclient, fadvance, training):
    ids = []
    for _ in range(3):
        ids.append(new_job(fclient, training.id).id)
        fadvance(1)
    ids.reverse()
    page = fclient.fine_tuning.jobs.list(limit=2)
    assert page.object == "list" and [j.id for j in page.data] == ids[:2] and page.has_more
    rest = fclient.fine_tuning.jobs.list(limit=2, after=ids[1])
    assert [j.id for j in rest.data] == ids[2:] and not rest.has_more
    assert [j.id for j in fclient.fine_tuning.jobs.list(limit=1)] == ids  # the SDK's auto-paging
    for bad in ({"limit": 0}, {"limit": 101}, {"after": "ftjob-nope"}):
        with pytest.raises(openai.BadRequestError) as err:
            fclient.fine_tuning.jobs.list(**bad)
        assert err.value.body["target"] == next(iter(bad))


def test_events_paginate_newest_first(fclient, fadvance, training):
    job = new_job(fclient, training.id, hyperparameters={"n_epochs": 1})
    fadvance(DONE)
    everything = events(fclient, job.id)
    assert len(everything) > 20
    assert [e.created_at for e in everything] == sorted((e.created_at for e in everything), reverse=True)
    assert everything[-1].message.startswith("Job enqueued")
    default = fclient.fine_tuning.jobs.list_events(job.id)
    assert len(default.data) == 20 and default.has_more
    first = fclient.fine_tuning.jobs.list_events(job.id, limit=5)
    second = fclient.fine_tuning.jobs.list_events(job.id, limit=5, after=first.data[-1].id)
    assert [e.id for e in first.data + second.data] == [e.id for e in everything[:10]]
    assert [e.id for e in fclient.fine_tuning.jobs.list_events(job.id, limit=7)] == [e.id for e in everything]
    assert {e.level for e in everything} == {"info"} and {e.type for e in everything} == {"message", "metrics"}


# -- cancel, delete, not found -------------------------------------------------------------------
@pytest.mark.parametrize("after", [0, 150], ids=["pending", "running"])
def test_cancel(fclient, fadvance, training, after):
    job = new_job(fclient, training.id)
    fadvance(after)
    cancelled = fclient.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert events(fclient, job.id)[0].message == "Job cancelled."
    with pytest.raises(openai.ConflictError) as err:
        fclient.fine_tuning.jobs.cancel(job.id)
    assert err.value.body["code"] == "unexpectedEntityState"
    fadvance(DONE)
    got = fclient.fine_tuning.jobs.retrieve(job.id)
    assert got.status == "cancelled" and got.fine_tuned_model is None


def _delete_job(client, job_id):
    """The SDK has no jobs.delete: its generic request method, as the provider would use it."""
    return client.delete(f"/fine_tuning/jobs/{job_id}", cast_to=httpx2.Response)


def test_delete_only_terminal_jobs(fclient, fadvance, training):
    job = new_job(fclient, training.id, hyperparameters={"n_epochs": 1})
    with pytest.raises(openai.ConflictError) as err:
        _delete_job(fclient, job.id)
    assert err.value.body["code"] == "unexpectedEntityState"
    fadvance(DONE)
    done = fclient.fine_tuning.jobs.retrieve(job.id)
    assert _delete_job(fclient, job.id).status_code == 204
    with pytest.raises(openai.NotFoundError):
        fclient.fine_tuning.jobs.retrieve(job.id)
    with pytest.raises(openai.NotFoundError):
        _delete_job(fclient, job.id)
    # The result file outlives the job; its model goes with it (rule D1: the only model delete there is).
    with pytest.raises(openai.NotFoundError):
        fclient.models.retrieve(done.fine_tuned_model)
    assert fclient.files.retrieve(done.result_files[0]).purpose == "fine-tune-results"


def test_unknown_job_is_404_everywhere(fclient):
    jobs = fclient.fine_tuning.jobs
    for call in (jobs.retrieve, jobs.cancel, jobs.list_events, jobs.checkpoints.list):
        with pytest.raises(openai.NotFoundError) as err:
            call("ftjob-0000")
        assert err.value.body["code"] == "notFound"


def test_jobs_are_per_account(frozen, fclient, training):
    job = new_job(fclient, training.id)
    other = make_openai(frozen, "aoai-swc")
    assert other.fine_tuning.jobs.list().data == []
    with pytest.raises(openai.NotFoundError):
        other.fine_tuning.jobs.retrieve(job.id)


# -- validation of the request -------------------------------------------------------------------
@pytest.mark.outside_contract
@pytest.mark.parametrize("kwargs, target", [
    ({"model": ""}, "model"),
    ({"model": "gpt-5-2099-01-01"}, "model"),
    ({"model": "text-embedding-ada-002"}, "model"),
    ({"model": f"{MODEL}.ft-0123456789abcdef0123456789abcdef"}, "model"),
    ({"suffix": "x" * 41}, "suffix"),
    ({"suffix": "has space"}, "suffix"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**31}, "seed"),
    ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs"),
    ({"hyperparameters": {"n_epochs": 51}}, "hyperparameters.n_epochs"),
    ({"hyperparameters": {"n_epochs": 2.5}}, "hyperparameters.n_epochs"),
    ({"hyperparameters": {"batch_size": 0}}, "hyperparameters.batch_size"),
    ({"hyperparameters": {"batch_size": 257}}, "hyperparameters.batch_size"),
    ({"hyperparameters": {"learning_rate_multiplier": 0}}, "hyperparameters.learning_rate_multiplier"),
    ({"hyperparameters": {"learning_rate_multiplier": "fast"}}, "hyperparameters.learning_rate_multiplier"),
    ({"hyperparameters": {"beta": 0.1}}, "hyperparameters.beta"),
    ({"validation_file": "file-nope"}, "validation_file"),
    ({"extra_body": {"trainingType": "Cheap"}}, "trainingType"),
    ({"method": {"type": "supervised"}}, "method"),  # needs a preview api-version
])
def test_create_rejects_bad_requests_with_target(fclient, training, kwargs, target):
    kwargs = {"model": MODEL, **kwargs}
    with pytest.raises(openai.BadRequestError) as err:
        fclient.fine_tuning.jobs.create(training_file=training.id, **kwargs)
    assert err.value.body["code"] == "invalidPayload"
    assert err.value.body["target"] == target
    assert fclient.fine_tuning.jobs.list().data == []


def test_unsupported_model_message(fclient, training):
    with pytest.raises(openai.BadRequestError) as err:
        new_job(fclient, training.id, model="gpt-4o-2024-11-20")
    assert err.value.body["message"] == "The specified base model does not support fine-tuning."


def test_training_file_must_be_a_processed_fine_tune_file(fclient, fadvance):
    pending = fclient.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError) as err:
        new_job(fclient, pending.id)
    assert err.value.body["target"] == "training_file"
    assert err.value.body["message"] == "The specified file reference must point to a completed file import."
    broken = fclient.files.create(file=("b.jsonl", chat_jsonl(3)), purpose="fine-tune")
    batch = fclient.files.create(file=("x.jsonl", b"{}"), purpose="batch")
    fadvance(11)
    with pytest.raises(openai.BadRequestError) as err:
        new_job(fclient, broken.id)
    assert "[min_examples]" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        new_job(fclient, batch.id)
    assert "purpose 'batch'" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        new_job(fclient, "file-missing")
    assert err.value.body["target"] == "training_file"
    assert new_job(fclient, pending.id).status == "pending"


@pytest.fixture
def regional(tmp_path):
    accounts = (("aoai-ncus", "northcentralus"), ("aoai-eus2", "eastus2"), ("aoai-weu", "westeurope"))
    with EmulatorServer(EmulatorConfig(state_dir=tmp_path / "s", time_scale=0.001, accounts=accounts)) as server:
        yield server


def test_fine_tuning_regions_follow_the_catalog(regional):
    eus2 = make_openai(regional, "aoai-eus2")
    created = eus2.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    regional.backend.advance_clock(11)
    with pytest.raises(openai.BadRequestError) as err:
        new_job(eus2, created.id, model=MODEL)
    assert err.value.body["target"] == "model"
    assert "northcentralus, swedencentral" in err.value.body["message"]
    assert new_job(eus2, created.id, model="gpt-4o-2024-08-06").status == "pending"
    assert new_job(eus2, created.id, model="gpt-35-turbo-0125").status == "pending"
    # Global training is not bound to the resource's region.
    # (trainingType is documented with api-version 2025-04-01-preview)
    job = new_job(preview_client(regional, "aoai-eus2"), created.id, model=MODEL,
                  extra_body={"trainingType": "GlobalStandard"})
    assert job.model_extra["trainingType"] == "GlobalStandard"
    weu = make_openai(regional, "aoai-weu")
    other = weu.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    regional.backend.advance_clock(11)
    with pytest.raises(openai.BadRequestError):
        new_job(weu, other.id, model="gpt-35-turbo-0125")


# -- data problems found by the job ---------------------------------------------------------------
def test_chat_data_on_a_completion_model_fails_in_validation(fclient, fadvance, training, processed_file):
    job = new_job(fclient, training.id, model="babbage-002")
    fadvance(91)
    failed = fclient.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed"
    assert failed.error.code == "invalidTrainingFile" and failed.error.param == "training_file"
    assert "prompt/completion" in failed.error.message
    assert [e.message for e in events(fclient, job.id)][0] == "Job failed."
    completion = processed_file(completion_jsonl(12))
    ok = new_job(fclient, completion.id, model="babbage-002", hyperparameters={"n_epochs": 1})
    fadvance(DONE)
    done = fclient.fine_tuning.jobs.retrieve(ok.id)
    assert done.status == "succeeded" and done.fine_tuned_model.startswith("babbage-002.ft-")
    assert fclient.models.retrieve(done.fine_tuned_model).capabilities["completion"] is True


def test_training_file_deleted_before_validation_fails_the_job(fclient, fadvance, training):
    job = new_job(fclient, training.id)
    fclient.files.delete(training.id)
    fadvance(91)
    failed = fclient.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed" and failed.error.param == "training_file"
    assert "deleted" in failed.error.message


def test_continuous_fine_tuning_from_a_fine_tuned_model(fclient, fadvance, training):
    first = new_job(fclient, training.id, hyperparameters={"n_epochs": 1})
    fadvance(DONE)
    parent = fclient.fine_tuning.jobs.retrieve(first.id).fine_tuned_model
    second = new_job(fclient, training.id, model=parent, hyperparameters={"n_epochs": 1})
    assert second.model == parent
    fadvance(DONE)
    child = fclient.fine_tuning.jobs.retrieve(second.id).fine_tuned_model
    assert child == f"{MODEL}.ft-{second.id.removeprefix('ftjob-')}"
    assert fclient.models.retrieve(child).model == parent


# -- preview features: method (DPO, reinforcement), pause/resume ------------------------------------
@pytest.mark.parametrize("model", ["gpt-4o-mini-2024-07-18", "gpt-4.1-nano-2025-04-14"])
def test_dpo_is_refused_for_models_the_dpo_page_does_not_list(frozen, processed_file, model):
    """Rule M1: DPO for gpt-4o-2024-08-06, gpt-4.1-2025-04-14 and gpt-4.1-mini-2025-04-14 only."""
    client = preview_client(frozen)
    data = processed_file(preference_jsonl(12), client=client)
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model=model, training_file=data.id, method={"type": "dpo", "dpo": {}})
    assert err.value.body["target"] == "method.type" and "'dpo'" in err.value.body["message"]


def test_dpo_job(frozen, fadvance, processed_file):
    client = preview_client(frozen)
    data = processed_file(preference_jsonl(12), client=client)
    job = client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=data.id, method={
        "type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 1}}})
    assert job.method.type == "dpo"
    fadvance(DONE)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded"
    hp = done.method.dpo.hyperparameters
    assert (hp.beta, hp.n_epochs, hp.batch_size) == (0.2, 1, 1)
    assert hp.model_extra["l2_multiplier"] == 0.1


@pytest.mark.outside_contract
def test_method_errors(frozen, processed_file):
    client = preview_client(frozen)
    chat = processed_file(chat_jsonl(12), client=client)
    cases = [
        ({"type": "magic"}, MODEL, "method.type"),
        ({"type": "dpo"}, "gpt-35-turbo-0125", "method.type"),
        ({"type": "dpo", "dpo": {"hyperparameters": {"beta": 0}}}, MODEL, "method.dpo.hyperparameters.beta"),
        ({"type": "dpo", "dpo": {"hyperparameters": {"l2_multiplier": -1}}}, MODEL,
         "method.dpo.hyperparameters.l2_multiplier"),
        ({"type": "supervised", "supervised": {"hyperparameters": {"beta": 1}}}, MODEL,
         "method.supervised.hyperparameters.beta"),
        ({"type": "reinforcement"}, "o4-mini-2025-04-16", "method.reinforcement.grader"),
    ]
    for method, model, target in cases:
        with pytest.raises(openai.BadRequestError) as err:
            client.fine_tuning.jobs.create(model=model, training_file=chat.id, method=method)
        assert err.value.body["target"] == target, method


def test_dpo_on_chat_data_fails_in_validation(frozen, fadvance, processed_file):
    client = preview_client(frozen)
    chat = processed_file(chat_jsonl(12), client=client)
    job = client.fine_tuning.jobs.create(model="gpt-4.1-mini-2025-04-14", training_file=chat.id,
                                         method={"type": "dpo", "dpo": {}})
    fadvance(91)
    failed = client.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed" and "preference" in failed.error.message


def test_reinforcement_fine_tuning_of_o4_mini(frozen, fadvance, processed_file):
    client = preview_client(frozen, "aoai-swc")
    train = processed_file(prompt_only_jsonl(12), client=client)
    valid = processed_file(prompt_only_jsonl(10), client=client)
    grader = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
              "reference": "{{item.answer}}", "operation": "eq"}
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model="o4-mini-2025-04-16", training_file=train.id,
                                       method={"type": "reinforcement", "reinforcement": {"grader": grader}})
    assert err.value.body["target"] == "validation_file"
    job = client.fine_tuning.jobs.create(
        model="o4-mini-2025-04-16", training_file=train.id, validation_file=valid.id,
        method={"type": "reinforcement",
                "reinforcement": {"grader": grader, "hyperparameters": {"n_epochs": 1, "reasoning_effort": "low"}}})
    fadvance(1500)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "succeeded"


def test_pause_and_resume_shift_the_timeline(frozen, fadvance, processed_file):
    client = preview_client(frozen)
    data = processed_file(chat_jsonl(12), client=client)
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=data.id, hyperparameters={"n_epochs": 3})
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.pause(job.id)  # still pending
    fadvance(150)
    estimate = client.fine_tuning.jobs.retrieve(job.id).estimated_finish
    pausing = client.fine_tuning.jobs.pause(job.id)
    assert pausing.status == "pausing"  # training goes on for 30 s, then the job is paused
    fadvance(30)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    steps = len([e for e in events(client, job.id) if e.type == "metrics"])
    fadvance(1000)
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    assert len([e for e in events(client, job.id) if e.type == "metrics"]) == steps
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.pause(job.id)
    assert client.fine_tuning.jobs.resume(job.id).status == "resuming"
    fadvance(30)
    resumed = client.fine_tuning.jobs.retrieve(job.id)
    assert resumed.status == "running"
    assert 1029 <= resumed.estimated_finish - estimate <= 1031  # paused 1000 s, resuming 30 s
    fadvance(400)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.finished_at == resumed.estimated_finish
    assert {"Job paused.", "Job resumed."} <= {e.message for e in events(client, job.id)}
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.resume(job.id)


@pytest.mark.outside_contract
def test_pause_needs_a_preview_api_version(fclient, training):
    job = new_job(fclient, training.id)
    with pytest.raises(openai.NotFoundError):
        fclient.fine_tuning.jobs.pause(job.id)


# -- persistence ------------------------------------------------------------------------------------
def test_restart_keeps_files_jobs_models_and_the_job_continues(tmp_path):
    def config():
        return EmulatorConfig(state_dir=tmp_path / "state", time_scale=0.001)

    with EmulatorServer(config()) as first, httpx.Client(base_url=first.base_url) as control:
        client = make_openai(first)
        data = client.files.create(file=("t.jsonl", chat_jsonl(12)), purpose="fine-tune")
        advance_clock(control, 11)
        short = new_job(client, data.id, hyperparameters={"n_epochs": 1})
        job = new_job(client, data.id, seed=5, hyperparameters={"n_epochs": 3})
        advance_clock(control, 300)
        finished = client.fine_tuning.jobs.retrieve(short.id)
        assert finished.status == "succeeded"
        assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
        seen = [e.id for e in events(client, job.id)]
        stopped_at = control.get("/_emulator/clock").json()["time"]

    with EmulatorServer(config()) as second, httpx.Client(base_url=second.base_url) as control:
        assert control.get("/_emulator/clock").json()["time"] >= stopped_at
        client = make_openai(second)
        assert client.files.retrieve(data.id).status == "processed"
        assert client.files.content(data.id).content == chat_jsonl(12)
        assert client.models.retrieve(finished.fine_tuned_model).fine_tune == short.id
        assert client.files.content(finished.result_files[0]).text.startswith("step,train_loss")
        assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
        assert [e.id for e in events(client, job.id)] == seen
        advance_clock(control, 200)
        done = client.fine_tuning.jobs.retrieve(job.id)
        assert done.status == "succeeded"
        assert len(client.fine_tuning.jobs.checkpoints.list(job.id).data) == 3
        assert [e.id for e in events(client, job.id)][-len(seen):] == seen


# -- the contract -----------------------------------------------------------------------------------
def test_responses_match_the_official_spec(fclient, fadvance, processed_file):
    def body(raw):
        return raw.http_response.json()

    train = processed_file(chat_jsonl(12))
    valid = processed_file(chat_jsonl(10))
    files = fclient.files.with_raw_response
    jobs = fclient.fine_tuning.jobs.with_raw_response
    assert spec_errors(body(files.retrieve(train.id)), "File") == []
    created = body(jobs.create(model=MODEL, training_file=train.id, validation_file=valid.id, seed=9,
                               suffix="spec", hyperparameters={"n_epochs": 2}))
    assert spec_errors(created, "FineTuningJob") == []
    fadvance(150)
    assert spec_errors(body(jobs.retrieve(created["id"])), "FineTuningJob") == []
    fadvance(DONE)
    done = body(jobs.retrieve(created["id"]))
    assert done["status"] == "succeeded" and spec_errors(done, "FineTuningJob") == []
    assert spec_errors(body(jobs.list()), "FineTuningJobList") == []
    assert spec_errors(body(jobs.list_events(created["id"], limit=100)), "FineTuningJobEventList") == []
    checkpoints = body(fclient.fine_tuning.jobs.checkpoints.with_raw_response.list(created["id"]))
    assert checkpoints["data"] and spec_errors(checkpoints, "FineTuningJobCheckpointList") == []
    assert spec_errors(body(files.list()), "FileList") == []
    assert spec_errors(body(fclient.models.with_raw_response.list()), "ModelList") == []
    assert spec_errors(body(fclient.models.with_raw_response.retrieve(done["fine_tuned_model"])), "Model") == []
    cancelled = body(jobs.cancel(body(jobs.create(model=MODEL, training_file=train.id))["id"]))
    assert spec_errors(cancelled, "FineTuningJob") == []
    assert spec_errors(body(files.delete(valid.id)), "FileDelete") == []
    with pytest.raises(openai.NotFoundError) as err:
        fclient.files.retrieve(valid.id)
    assert spec_errors(err.value.response.json(), "ErrorResponse") == []
