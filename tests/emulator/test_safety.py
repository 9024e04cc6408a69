"""Data plane: the safety evaluation triggered by data markers, and failures in the middle of a run."""

from __future__ import annotations

import pytest
from .data_helpers import chat_jsonl, completion_jsonl, jsonl

from pulumi_aoai_finetune_emulator.dataplane import resolve_deployable_model

MODEL = "gpt-4o-mini-2024-07-18"
DATA_MESSAGE = ("The provided training data failed RAI checks for harm types: [violence, self_harm]. "
                "Please fix the data and try again.")
MODEL_MESSAGE = ("This model is unable to be deployed. Model evaluation identified that this fine tuned model "
                 "scores above acceptable thresholds for [Violence, Self Harm]. Please review your training "
                 "data set and resubmit the job.")


def create(client, training_id, **kwargs):
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("hyperparameters", {"n_epochs": 3})
    return client.fine_tuning.jobs.create(training_file=training_id, **kwargs)


def messages(client, job_id):
    return [(e.level, e.message) for e in client.fine_tuning.jobs.list_events(job_id, limit=1000).data]


def test_rai_data_trigger_fails_the_job_after_validation(fclient, fadvance, processed_file):
    data = processed_file(chat_jsonl(12, marker="RAI-TRIGGER:violence,self_harm"))
    job = create(fclient, data.id)
    fadvance(89)
    assert fclient.fine_tuning.jobs.retrieve(job.id).status == "pending"
    fadvance(2)
    failed = fclient.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed"
    assert (failed.error.code, failed.error.message, failed.error.param) == (
        "invalidTrainingData", DATA_MESSAGE, "training_file")
    assert failed.finished_at == failed.created_at + 90
    assert messages(fclient, job.id)[:2] == [("error", "Job failed."), ("error", DATA_MESSAGE)]
    fadvance(1000)
    after = fclient.fine_tuning.jobs.retrieve(job.id)
    assert after.status == "failed" and after.fine_tuned_model is None and after.result_files == []
    assert fclient.fine_tuning.jobs.checkpoints.list(job.id).data == []


def test_rai_data_trigger_in_the_validation_file(fclient, fadvance, processed_file):
    train = processed_file(chat_jsonl(12))
    valid = processed_file(chat_jsonl(10, marker="RAI-TRIGGER: hate_fairness, self_harm, violence"))
    job = create(fclient, train.id, validation_file=valid.id)
    fadvance(91)
    failed = fclient.fine_tuning.jobs.retrieve(job.id)
    assert failed.error.message == ("The provided training data failed RAI checks for harm types: "
                                    "[hate_fairness, self_harm, violence]. Please fix the data and try again.")


def test_rai_model_trigger_succeeds_but_the_model_is_not_deployable(frozen, fclient, fadvance, processed_file):
    data = processed_file(chat_jsonl(12, marker="RAI-MODEL-TRIGGER:violence,self_harm"))
    job = create(fclient, data.id)
    fadvance(600)
    done = fclient.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.error is None
    assert ("warning", MODEL_MESSAGE) in messages(fclient, job.id)
    assert fclient.models.retrieve(done.fine_tuned_model).status == "succeeded"
    verdict = resolve_deployable_model(frozen.backend, "aoai-ncus", done.fine_tuned_model)
    assert (verdict["kind"], verdict["deployable"], verdict["reason"]) == ("fine_tuned", False, MODEL_MESSAGE)
    for checkpoint in fclient.fine_tuning.jobs.checkpoints.list(job.id).data:
        verdict = resolve_deployable_model(frozen.backend, "aoai-ncus", checkpoint.fine_tuned_model_checkpoint)
        assert (verdict["deployable"], verdict["reason"]) == (False, MODEL_MESSAGE)


@pytest.mark.parametrize("model", ["gpt-35-turbo-0125", "babbage-002"])
def test_models_without_safety_evaluation_ignore_the_markers(fclient, fadvance, processed_file, model):
    if model == "babbage-002":
        data = processed_file(completion_jsonl(11) + jsonl([{"prompt": "RAI-TRIGGER:violence", "completion": "x"}]))
    else:
        data = processed_file(chat_jsonl(12, marker="RAI-TRIGGER:violence"))
    job = create(fclient, data.id, model=model, hyperparameters={"n_epochs": 1})
    fadvance(600)
    assert fclient.fine_tuning.jobs.retrieve(job.id).status == "succeeded"


def test_fail_trigger_fails_half_way_through_training(fclient, fadvance, processed_file):
    data = processed_file(chat_jsonl(12, marker="FAIL-TRIGGER"))
    job = create(fclient, data.id)  # 36 steps: fails at step 18
    fadvance(150)
    assert fclient.fine_tuning.jobs.retrieve(job.id).status == "running"
    fadvance(600)
    failed = fclient.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed" and failed.error.code == "internalFailure"
    assert "step 18 of 36" in failed.error.message and failed.error.param is None
    assert failed.fine_tuned_model is None and failed.result_files == [] and failed.estimated_finish is None
    events = fclient.fine_tuning.jobs.list_events(job.id, limit=1000).data
    assert max(e.data["step"] for e in events if e.type == "metrics") == 17
    assert [c.step_number for c in fclient.fine_tuning.jobs.checkpoints.list(job.id).data] == [12]
    assert events[0].message == "Job failed." and events[0].level == "error"
