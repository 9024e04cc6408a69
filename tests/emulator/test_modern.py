"""2026 features of the emulator, through the real clients: training types (Standard, GlobalStandard,
developerTier) checked against the catalog, DPO on gpt-4.1-mini, pause/resume with pausing/resuming,
the per-resource limits (running and queued jobs, files, fine-tuned deployments) and the developer
tier's deployment rules."""

from __future__ import annotations

import httpx
import openai
import pytest
from azure.core.exceptions import HttpResponseError
from .conftest import advance_clock, arm_deployment, make_arm_with
from .data_helpers import chat_jsonl, preference_jsonl
from openai import AzureOpenAI

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer, catalog, lifecycle, management, strict

PREVIEW = "2025-04-01-preview"
MINI41 = "gpt-4.1-mini-2025-04-14"
RG = "aoai-emulator"
ACCOUNTS = (("aoai-ncus", "northcentralus"), ("aoai-eus2", "eastus2"), ("aoai-pl", "polandcentral"),
            ("aoai-weu", "westeurope"), ("aoai-brs", "brazilsouth"))


def client_for(server, account="aoai-ncus", api_version=PREVIEW) -> AzureOpenAI:
    return AzureOpenAI(azure_endpoint=server.backend.account_endpoint(account), api_key="k",
                       api_version=api_version, max_retries=0)


@pytest.fixture
def modern(tmp_path):
    """A frozen-clock emulator with accounts in regions with and without Standard training, and small
    limits so the tests reach them quickly."""
    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=0.001, accounts=ACCOUNTS,
                            extra={"max_running_jobs": 1, "max_queued_jobs": 2, "max_files": 4,
                                   "max_fine_tuned_deployments": 2, "fine_tuned_deployment_create_seconds": 5})
    with EmulatorServer(config) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as control:
            server.control = control
            yield server


def advance(server, seconds):
    return advance_clock(server.control, seconds)


def upload(server, client, data=None, name="train.jsonl"):
    f = client.files.create(file=(name, data or chat_jsonl(12)), purpose="fine-tune")
    advance(server, 15)
    return f


def status(client, job_id):
    return client.fine_tuning.jobs.retrieve(job_id).status


def messages(client, job_id):
    return [e.message for e in client.fine_tuning.jobs.list_events(job_id, limit=1000).data]


# -- training types ---------------------------------------------------------------------------
def test_global_training_lifts_the_region_and_missing_type_gives_azures_message(modern):
    eus2 = client_for(modern, "aoai-eus2")
    data = upload(modern, eus2)
    # gpt-4.1-mini has no Standard training in East US 2: without trainingType Azure assumes Standard
    with pytest.raises(openai.BadRequestError) as err:
        eus2.fine_tuning.jobs.create(model=MINI41, training_file=data.id)
    assert err.value.body["message"].startswith("The specified base model does not support fine-tuning.")
    assert err.value.body["target"] == "model"
    with pytest.raises(openai.BadRequestError) as err:
        eus2.fine_tuning.jobs.create(model=MINI41, training_file=data.id, extra_body={"trainingType": "Standard"})
    assert err.value.body["message"].startswith("Standard TrainingType is not supported.")
    assert err.value.body["target"] == "trainingType"
    job = eus2.fine_tuning.jobs.create(model=MINI41, training_file=data.id, hyperparameters={"n_epochs": 1},
                                       extra_body={"trainingType": "globalstandard"})
    assert job.model_extra["trainingType"] == "globalstandard"
    advance(modern, 400)
    done = eus2.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model.startswith(MINI41 + ".ft-")


@pytest.mark.parametrize("account, model, training_type, fragment", [
    ("aoai-ncus", "o4-mini-2025-04-16", "GlobalStandard", "not offered with GlobalStandard"),
    ("aoai-ncus", "gpt-35-turbo-0125", "developerTier", "not offered with developerTier"),
    ("aoai-pl", "gpt-4.1-nano-2025-04-14", "GlobalStandard", "not offered to resources in polandcentral"),
])
def test_unsupported_training_types_answer_with_the_type(modern, account, model, training_type, fragment):
    client = client_for(modern, account)
    data = upload(modern, client)
    grader = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
              "reference": "{{item.answer}}", "operation": "eq"}
    method = {"type": "reinforcement", "reinforcement": {"grader": grader}} if model.startswith("o4") else None
    kwargs = {"method": method} if method else {}
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model=model, training_file=data.id, extra_body={"trainingType": training_type},
                                       **kwargs)
    assert err.value.body["target"] == "trainingType"
    assert err.value.body["message"].startswith(f"{training_type} TrainingType is not supported.")
    assert fragment in err.value.body["message"]


@pytest.mark.outside_contract
@pytest.mark.parametrize("spelling", ["developertier", "DeveloperTier", "DEVELOPERTIER"])
def test_the_developer_tier_is_accepted_only_as_developerTier(modern, spelling):
    """Rule T1 (docs/azure-rules.md): the live service takes the developer tier only spelled developerTier
    and answers any other spelling with a misleading message; Standard/GlobalStandard take any case."""
    client = client_for(modern, "aoai-weu")
    data = upload(modern, client)
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model=MINI41, training_file=data.id, extra_body={"trainingType": spelling})
    assert err.value.body["message"] == "The fineTuningJob field is required."
    job = client.fine_tuning.jobs.create(model=MINI41, training_file=data.id,
                                         extra_body={"trainingType": "developerTier"})
    assert job.model_extra["trainingType"] == "developerTier"


def test_the_catalog_lists_the_newer_models_per_region(modern):
    ncus = {m.id: m for m in client_for(modern, "aoai-ncus").models.list()}
    eus2 = {m.id: m for m in client_for(modern, "aoai-eus2").models.list()}
    for model in ("gpt-4.1-2025-04-14", MINI41, "gpt-4.1-nano-2025-04-14"):
        assert ncus[model].capabilities["fine_tune"] is True      # Standard training here
        assert eus2[model].capabilities["fine_tune"] is False     # Global only there
    assert eus2["o4-mini-2025-04-16"].capabilities["fine_tune"] is True
    assert catalog.lookup("gpt-4.1-nano-2025-04-14")["max_example_tokens"] == 32768
    assert catalog.lookup(MINI41)["max_example_tokens"] == 65536


def test_dpo_on_gpt41_mini_with_global_training(modern):
    client = client_for(modern, "aoai-weu")
    data = upload(modern, client, preference_jsonl(12), "prefs.jsonl")
    job = client.fine_tuning.jobs.create(
        model=MINI41, training_file=data.id, extra_body={"trainingType": "GlobalStandard"},
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.3, "l2_multiplier": 0.05, "n_epochs": 1}}})
    advance(modern, 400)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded"
    hp = done.method.dpo.hyperparameters
    assert hp.beta == 0.3 and hp.model_extra["l2_multiplier"] == 0.05


def test_a_dpo_job_is_shown_in_the_shape_of_the_api_version_that_asks(modern):
    """2024-10-21's FineTuningJob has no `method`, `integrations` nor `trainingType`: a DPO job created
    through the preview version and listed through 2024-10-21 (as the provider lists jobs to find its
    own) comes without them, so the answer keeps to that version's spec (rule V1). It broke the strict
    contract mode once (an e2e run with a DPO job and a plain job on one account)."""
    client = client_for(modern, "aoai-weu")
    data = upload(modern, client, preference_jsonl(12), "prefs.jsonl")
    job = client.fine_tuning.jobs.create(
        model=MINI41, training_file=data.id, extra_body={"trainingType": "GlobalStandard"},
        method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.3, "n_epochs": 1}}})
    old = client_for(modern, "aoai-weu", api_version="2024-10-21")
    for shown in (old.fine_tuning.jobs.retrieve(job.id), old.fine_tuning.jobs.list().data[0]):
        assert shown.id == job.id and shown.method is None
        assert "trainingType" not in (shown.model_extra or {})
    assert modern.backend.contract_violations == []
    new = client.fine_tuning.jobs.list().data[0]
    assert new.method.type == "dpo" and new.model_extra["trainingType"] == "GlobalStandard"


# -- pause and resume -------------------------------------------------------------------------
def test_pause_goes_through_pausing_and_resume_through_resuming(modern):
    client = client_for(modern)
    data = upload(modern, client)
    job = client.fine_tuning.jobs.create(model=MINI41, training_file=data.id, hyperparameters={"n_epochs": 3})
    advance(modern, 91)  # running, no step trained yet
    assert status(client, job.id) == "running"
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.pause(job.id)
    advance(modern, 30)
    assert client.fine_tuning.jobs.pause(job.id).status == "pausing"
    advance(modern, 10)
    assert status(client, job.id) == "pausing"
    advance(modern, 25)
    assert status(client, job.id) == "paused"
    frozen = len(messages(client, job.id))
    advance(modern, 5000)
    assert status(client, job.id) == "paused" and len(messages(client, job.id)) == frozen
    with pytest.raises(openai.NotFoundError), strict.suspended():  # pause/resume are preview routes
        client_for(modern, api_version="2024-10-21").fine_tuning.jobs.resume(job.id)
    assert client.fine_tuning.jobs.resume(job.id).status == "resuming"
    advance(modern, 31)
    assert status(client, job.id) == "running"
    advance(modern, 1000)
    assert status(client, job.id) == "succeeded"
    assert {"Pausing the job.", "Job paused.", "Resuming the job.", "Job resumed."} <= set(messages(client, job.id))


# -- limits -------------------------------------------------------------------------------------
def test_jobs_beyond_the_running_limit_wait_for_a_slot_and_the_queue_is_bounded(modern):
    client = client_for(modern)
    data = upload(modern, client)
    first = client.fine_tuning.jobs.create(model=MINI41, training_file=data.id, hyperparameters={"n_epochs": 1})
    advance(modern, 61)  # the first one took the only slot
    second = client.fine_tuning.jobs.create(model=MINI41, training_file=data.id, hyperparameters={"n_epochs": 1})
    third = client.fine_tuning.jobs.create(model=MINI41, training_file=data.id, hyperparameters={"n_epochs": 1})
    with pytest.raises(openai.RateLimitError) as err:  # two wait already: the queue is full
        client.fine_tuning.jobs.create(model=MINI41, training_file=data.id)
    assert err.value.body["code"] == "quotaExceeded" and "queued fine-tuning jobs" in err.value.body["message"]
    assert err.value.response.headers["retry-after"] == "60"
    advance(modern, 100)
    assert status(client, first.id) == "running"
    assert status(client, second.id) == "pending"
    assert "Waiting for a free training slot: this resource runs 1 fine-tuning jobs at a time." in messages(
        client, second.id)
    advance(modern, 3000)  # in one step: each job starts exactly when the one before ended
    jobs = [client.fine_tuning.jobs.retrieve(j.id) for j in (first, second, third)]
    assert [j.status for j in jobs] == ["succeeded"] * 3
    for before, after in zip(jobs, jobs[1:]):
        started = next(e for e in client.fine_tuning.jobs.list_events(after.id, limit=100).data
                       if e.message.startswith("Validating training file"))
        assert started.created_at == before.finished_at


def test_developer_training_has_a_pool_of_its_own(modern):
    client = client_for(modern)
    data = upload(modern, client)
    client.fine_tuning.jobs.create(model=MINI41, training_file=data.id)
    advance(modern, 61)
    dev = client.fine_tuning.jobs.create(model=MINI41, training_file=data.id,
                                         extra_body={"trainingType": "developerTier"})
    advance(modern, 100)
    assert status(client, dev.id) == "running"  # the standard slot is taken, the developer pool is not
    assert lifecycle.MAX_RUNNING_JOBS == 3 and lifecycle.MAX_RUNNING_JOBS_DEVELOPER == 5
    assert lifecycle.MAX_QUEUED_JOBS == 20


def test_file_count_limit(modern):
    client = client_for(modern)
    for i in range(4):
        client.files.create(file=(f"t{i}.jsonl", chat_jsonl(10)), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("t5.jsonl", chat_jsonl(10)), purpose="fine-tune")
    assert err.value.body["code"] == "quotaExceeded" and "4 fine-tune files" in err.value.body["message"]
    assert len(client.files.list().data) == 4


def _trained(server, client, base=MINI41, epochs=3):
    data = upload(server, client)
    job = client.fine_tuning.jobs.create(model=base, training_file=data.id, hyperparameters={"n_epochs": epochs})
    advance(server, 2000)
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded", job
    checkpoints = sorted(client.fine_tuning.jobs.checkpoints.list(job.id), key=lambda c: c.step_number)
    return job.fine_tuned_model, [c.fine_tuned_model_checkpoint for c in checkpoints]


def test_fine_tuned_deployment_limit_per_account(modern):
    arm = make_arm_with(modern, polling_interval=0.01)
    model, checkpoints = _trained(modern, client_for(modern))
    assert checkpoints[-1] == model  # rule CK1: the last checkpoint is the model itself
    for name, ref in (("d1", model), ("d2", checkpoints[-2])):
        poller = arm.deployments.begin_create_or_update(RG, "aoai-ncus", name, arm_deployment(ref, "1"))
        advance(modern, 10)
        assert poller.result().properties.provisioning_state == "Succeeded"
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "d3", arm_deployment(checkpoints[-3], "1"))
    assert info.value.status_code == 400 and info.value.error.code == "QuotaExceeded"
    assert "already has 2 fine-tuned model deployments (d1, d2)" in info.value.error.message
    # base models do not count; the default limit is 10
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "base", arm_deployment("gpt-4o-mini"))
    assert management.MAX_FINE_TUNED_DEPLOYMENTS == 10


def test_developer_tier_deployments_serve_the_gpt41_family_only(modern):
    arm = make_arm_with(modern, api_version="2025-07-01-preview", polling_interval=0.01)
    client = client_for(modern)
    mini4o, _ = _trained(modern, client, base="gpt-4o-mini-2024-07-18", epochs=1)
    with pytest.raises(HttpResponseError) as info:
        arm.deployments.begin_create_or_update(RG, "aoai-ncus", "dev", arm_deployment(mini4o, "1", sku="DeveloperTier"))
    assert info.value.error.target == "sku.name" and "'DeveloperTier'" in info.value.error.message
    mini41, _ = _trained(modern, client, epochs=1)
    poller = arm.deployments.begin_create_or_update(RG, "aoai-ncus", "dev", arm_deployment(mini41, "1",
                                                                                          sku="DeveloperTier"))
    advance(modern, 10)
    assert poller.result().sku.name == "DeveloperTier"
    advance(modern, 24 * 3600)
    assert [d.name for d in arm.deployments.list(RG, "aoai-ncus")] == []  # 24 h later: gone


def test_the_service_pauses_a_job_by_itself_and_it_resumes(modern):
    """Rule J1: Azure pauses reinforcement fine-tuning jobs at their cost ceiling; PAUSE-TRIGGER in the data
    makes the emulator do so half-way. The job keeps its progress and resumes through the resume route."""
    client = client_for(modern, "aoai-ncus")
    data = upload(modern, client, chat_jsonl(12, marker="PAUSE-TRIGGER"))
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=data.id,
                                         hyperparameters={"n_epochs": 2})
    advance(modern, 5000)
    paused = client.fine_tuning.jobs.retrieve(job.id)
    assert paused.status == "paused" and paused.estimated_finish is None
    assert any(m.startswith("Job paused: the training cost") for m in messages(client, job.id))
    client.fine_tuning.jobs.resume(job.id)
    advance(modern, 5000)
    done = client.fine_tuning.jobs.retrieve(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model


def test_standard_deployments_of_fine_tuned_models_only_where_the_table_says(tmp_path):
    """Rule DP1: a fine-tuned gpt-4o-mini gets Standard in North Central US and Sweden Central only;
    GlobalStandard from any region."""
    from .conftest import account_resource_id, make_arm, train_fine_tuned_model

    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=1000.0,
                            accounts=(("aoai-ncus", "northcentralus"), ("aoai-eus2", "eastus2")))
    with EmulatorServer(config) as server:
        ft = train_fine_tuned_model(server, "aoai-ncus")
        arm = make_arm(server)
        source = account_resource_id(server, "aoai-ncus")
        with pytest.raises(HttpResponseError) as info:
            arm.deployments.begin_create_or_update(RG, "aoai-eus2", "std", arm_deployment(ft["model"], "1", source=source))
        assert info.value.error.target == "sku.name" and "northcentralus, swedencentral" in info.value.error.message
        done = arm.deployments.begin_create_or_update(
            RG, "aoai-eus2", "glob", arm_deployment(ft["model"], "1", sku="GlobalStandard", source=source)).result()
        assert done.properties.provisioning_state == "Succeeded"
