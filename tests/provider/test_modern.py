"""2026 features of the provider: training types, methods (DPO, reinforcement), pause/resume,
api-versions per job and per sku, the job limit (waiting for a turn), preview reads of the account
(region, /models, deployments) and the developer tier's 24-hour expiry."""

from __future__ import annotations

import types

import pytest

from pulumi_aoai_finetune import availability, clients, model_deployment
from pulumi_aoai_finetune.errors import ServiceError, TransientError
from pulumi_aoai_finetune.fine_tuning_job import FineTuningJobController
from pulumi_aoai_finetune.model_deployment import ModelDeploymentController
from pulumi_aoai_finetune.settings import ProviderSettings

SUB, RG = "00000000-0000-0000-0000-000000000000", "aoai-emulator"


def account(name="acct-a"):
    return {"resource_id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/accounts/{name}"}


MINI41 = "gpt-4.1-mini-2025-04-14"
BASE = {"account": account(), "base_model": MINI41, "training_file": "file-1"}


@pytest.fixture
def ctl():
    return FineTuningJobController(ProviderSettings())


def failures_of(ctl, **extra):
    return ctl.check({}, {**BASE, **extra})[1]


# -- the table ---------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, canonical", [
    ("GlobalStandard", "GlobalStandard"), ("globalstandard", "GlobalStandard"), ("global_standard", "GlobalStandard"),
    ("standard", "Standard"), ("developerTier", "developerTier"), ("developer-tier", "developerTier"),
    ("Cheap", None), (3, None),
])
def test_training_type_spellings(raw, canonical):
    assert availability.normalize_training_type(raw) == canonical


def test_wire_value_is_the_rest_samples_spelling():
    # the documented spellings, exactly (Azure accepts only "developerTier" for the developer tier)
    assert [availability.wire_training_type(t) for t in ("globalstandard", "STANDARD", "developer_tier")] == \
        ["GlobalStandard", "Standard", "developerTier"]


@pytest.mark.parametrize("model, training_type, region, fragment", [
    (MINI41, "Standard", "eastus2", "has no Standard training in eastus2"),
    (MINI41, "Standard", "eastus2", "use training_type GlobalStandard or developerTier"),
    ("o4-mini-2025-04-16", "GlobalStandard", None, "GlobalStandard training is not offered for o4-mini"),
    ("gpt-35-turbo-0125", "developerTier", "northcentralus", "not offered for gpt-35-turbo-0125"),
    ("gpt-4.1-nano-2025-04-14", "GlobalStandard", "polandcentral", "not offered to resources in polandcentral"),
    (MINI41, "GlobalStandard", "mexicocentral", "not offered to resources in mexicocentral"),
])
def test_training_type_problems(model, training_type, region, fragment):
    assert fragment in availability.training_type_problem(model, training_type, region)


@pytest.mark.parametrize("model, training_type, region", [
    (MINI41, "GlobalStandard", "eastus2"), (MINI41, "Standard", "northcentralus"),
    (MINI41 + ".ft-abc-x", "developerTier", "westeurope"), ("gpt-4o-mini-2024-07-18", "GlobalStandard", None),
    ("some-future-model", "GlobalStandard", "eastus2"),  # unknown: the service decides
])
def test_training_types_offered(model, training_type, region):
    assert availability.training_type_problem(model, training_type, region) is None


def test_what_the_account_says_wins_over_the_table():
    assert availability.training_type_problem(MINI41, "Standard", "northcentralus", standard_here=False)
    assert availability.training_type_problem(MINI41, "Standard", "eastus2", standard_here=True) is None


def test_methods_and_deployment_skus_per_model():
    assert availability.method_problem("gpt-35-turbo-0125", "dpo")
    assert availability.method_problem(MINI41, "dpo") is None
    assert availability.method_problem("o4-mini-2025-04-16", "reinforcement") is None
    assert "DeveloperTier" in availability.deployment_sku_problem("gpt-4o-mini-2024-07-18.ft-abc", "DeveloperTier")
    assert availability.deployment_sku_problem(MINI41 + ".ft-abc:ckpt-step-3", "Developer") is None
    assert availability.deployment_sku_problem("gpt-4o-mini", "DeveloperTier") is None  # base model: Azure decides


def test_api_versions():
    assert availability.data_plane_api_version("2024-10-21", False) == "2024-10-21"
    assert availability.data_plane_api_version("2024-10-21", True) == "2025-04-01-preview"
    assert availability.data_plane_api_version("2025-06-01-preview", True) == "2025-06-01-preview"
    assert availability.arm_api_version("2025-06-01", "Standard") == "2025-06-01"
    assert availability.arm_api_version("2025-06-01", "DeveloperTier") == "2025-07-01-preview"
    assert availability.arm_api_version("2025-06-01", "developer") == "2025-07-01-preview"
    assert availability.arm_api_version("2025-09-01", "DeveloperTier") == "2025-09-01"


# -- FineTuningJob check and diff -------------------------------------------------------------
@pytest.mark.parametrize("extra, field, fragment", [
    ({"training_type": "Cheap"}, "training_type", "Standard, GlobalStandard, developerTier"),
    ({"base_model": "o4-mini-2025-04-16", "training_type": "GlobalStandard",
      "method": {"type": "reinforcement", "reinforcement": {"grader": {"type": "string_check"}}},
      "validation_file": "file-2"}, "training_type", "not offered for o4-mini"),
    ({"base_model": "o4-mini-2025-04-16"}, "method", "reinforcement only"),
    ({"base_model": "o4-mini-2025-04-16", "method": "reinforcement"}, "method.reinforcement.grader", "grader"),
    ({"base_model": "o4-mini-2025-04-16", "method": "reinforcement"}, "validation_file", "validation_file"),
    ({"base_model": "gpt-35-turbo-0125", "method": "dpo"}, "method", "not fine-tuned with the dpo method"),
    ({"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}}}, "method.dpo.hyperparameters.beta", "(0, 2]"),
    ({"method": {"type": "dpo", "dpo": {"hyperparameters": {"l2_multiplier": -1}}}},
     "method.dpo.hyperparameters.l2_multiplier", ">= 0"),
    ({"method": {"type": "supervised", "supervised": {"hyperparameters": {"beta": 1}}}},
     "method.supervised.hyperparameters.beta", "unknown hyperparameter"),
    ({"method": {"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 0}}}},
     "method.dpo.hyperparameters.n_epochs", "1 to 50"),
    ({"paused": "yes"}, "paused", "true or false"),
])
def test_check_failures(ctl, extra, field, fragment):
    failures = failures_of(ctl, **extra)
    assert any(f == field and fragment in m for f, m in failures), failures


def test_valid_modern_jobs_pass_and_are_normalized(ctl):
    inputs, failures = ctl.check({}, {**BASE, "training_type": "globalstandard", "paused": True,
                                      "method": {"type": "dpo", "dpo": {"hyperparameters": {
                                          "beta": 0.1, "l2_multiplier": "auto", "n_epochs": 2}}}})
    assert failures == []
    assert inputs["training_type"] == "GlobalStandard"
    rft = {**BASE, "base_model": "o4-mini-2025-04-16", "validation_file": "file-2",
           "method": {"type": "reinforcement", "reinforcement": {"grader": {"type": "string_check"},
                                                                  "hyperparameters": {"reasoning_effort": "low"}}}}
    assert ctl.check({}, rft)[1] == []


def test_training_type_replaces_and_paused_updates_in_place(ctl):
    olds = ctl.check({}, {**BASE, "training_type": "Standard"})[0]
    news = ctl.check({}, {**BASE, "training_type": "GlobalStandard"})[0]
    assert ctl.diff("ftjob-1", olds, news).replaces == ["training_type"]
    paused = ctl.check({}, {**BASE, "training_type": "Standard", "paused": True})[0]
    d = ctl.diff("ftjob-1", olds, paused)
    assert d.replaces == [] and d.updates == ["paused"]
    unset = dict(olds, paused=None)
    assert not ctl.diff("ftjob-1", unset, dict(olds, paused=False)).changes  # None and false are the same


# -- FineTuningJob create: the body, the api-version, the job limit ---------------------------------
class FakeJobs:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def create(self, **kwargs):
        self.calls.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def list(self, limit=100):
        return types.SimpleNamespace(data=[], has_next_page=lambda: False)


class FakeClient:
    def __init__(self, answers):
        self.fine_tuning = types.SimpleNamespace(jobs=FakeJobs(answers))

    def with_options(self, **kwargs):
        return self


def test_training_type_is_sent_in_extra_body_in_its_documented_spelling(ctl):
    client = FakeClient([types.SimpleNamespace(id="ftjob-1")])
    ctl._send_create(client, {**BASE, "training_type": "GlobalStandard"})
    assert client.fine_tuning.jobs.calls[0]["extra_body"] == {"trainingType": "GlobalStandard"}
    ctl._send_create(client := FakeClient([types.SimpleNamespace(id="ftjob-3")]), {**BASE, "training_type": "developertier"})
    assert client.fine_tuning.jobs.calls[0]["extra_body"] == {"trainingType": "developerTier"}
    ctl._send_create(client := FakeClient([types.SimpleNamespace(id="ftjob-2")]), BASE)
    assert "extra_body" not in client.fine_tuning.jobs.calls[0]


def test_the_job_uses_the_preview_api_version_only_when_it_needs_it(ctl, monkeypatch):
    seen = []
    monkeypatch.setattr(clients, "data_plane", lambda settings, acct, api_version=None: seen.append(api_version))
    from pulumi_aoai_finetune.account import AccountRef

    acct = AccountRef.parse(account())
    for inputs in (BASE, {**BASE, "training_type": "Standard"}, {**BASE, "method": {"type": "dpo"}},
                   {**BASE, "paused": False}, {**BASE, "paused": True}):
        ctl._data_plane(acct, inputs)
    assert seen == ["2024-10-21", "2025-04-01-preview", "2025-04-01-preview", "2024-10-21", "2025-04-01-preview"]


def _limit_error():
    return TransientError("The maximum number of queued fine-tuning jobs (20) for this resource has been reached "
                          "(3 jobs run at once). Try again when running jobs have completed.", status=429,
                          code="quotaExceeded", operation="creating the fine-tuning job", retry_after=None)


def test_at_the_job_limit_create_waits_its_turn(monkeypatch):
    ctl = FineTuningJobController(ProviderSettings(poll_interval=1.0))
    client = FakeClient([_limit_error(), _limit_error(), types.SimpleNamespace(id="ftjob-9")])
    sleeps, logs = [], []
    monkeypatch.setattr("pulumi_aoai_finetune.fine_tuning_job.stoppable_sleep", lambda s, **kw: sleeps.append(s))
    monkeypatch.setattr("pulumi.log.info", lambda msg, *a, **k: logs.append(msg))
    from pulumi_aoai_finetune.account import AccountRef

    job = ctl._create_in_turn(client, AccountRef.parse(account()), {**BASE, "timeout_seconds": 3600})
    assert job.id == "ftjob-9"
    assert sleeps == [1.0, 2.0]  # backoff, not the create_once retries of a throttled call
    assert any("waiting for its turn" in m for m in logs)


def test_at_the_job_limit_create_gives_up_after_the_timeout(monkeypatch):
    ctl = FineTuningJobController(ProviderSettings(poll_interval=1.0))
    client = FakeClient([_limit_error()] * 10)
    monkeypatch.setattr("pulumi_aoai_finetune.fine_tuning_job.stoppable_sleep", lambda s, **kw: None)
    from pulumi_aoai_finetune.account import AccountRef
    from pulumi_aoai_finetune.errors import WaitTimeoutError

    with pytest.raises(WaitTimeoutError, match="stayed at its fine-tuning job limit"):
        ctl._create_in_turn(client, AccountRef.parse(account()), {**BASE, "timeout_seconds": 0.5})


@pytest.mark.parametrize("error", [
    ServiceError("Whatever the service says today.", status=400, code="quotaExceeded"),
    ServiceError("Rate limit is exceeded.", status=429, code="tooManyRequests"),
    TransientError("Any wording at all", status=429, code=None),
])
def test_a_limit_is_recognised_by_status_and_code_not_wording(monkeypatch, error):
    """Rule L2: 429, or the codes quotaExceeded/tooManyRequests, mean "wait for a turn"."""
    ctl = FineTuningJobController(ProviderSettings(poll_interval=1.0))
    client = FakeClient([error, types.SimpleNamespace(id="ftjob-7")])
    monkeypatch.setattr("pulumi_aoai_finetune.fine_tuning_job.stoppable_sleep", lambda s, **kw: None)
    from pulumi_aoai_finetune.account import AccountRef

    assert ctl._create_in_turn(client, AccountRef.parse(account()), {**BASE, "timeout_seconds": 60}).id == "ftjob-7"


class _Files:
    def __init__(self, statuses):
        self.statuses = list(statuses)

    def retrieve(self, file_id):
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return types.SimpleNamespace(id=file_id, status=status, status_details=None)


def test_a_file_still_being_processed_is_waited_for_by_its_status(monkeypatch):
    """Rule L2: a 400 on create is checked against the files' status (Azure's wording is not relied on)."""
    ctl = FineTuningJobController(ProviderSettings(poll_interval=0.01))
    unready = ServiceError("Some words.", status=400, code="invalidPayload")
    client = FakeClient([unready, types.SimpleNamespace(id="ftjob-8")])
    client.files = _Files(["pending", "running", "processed"])
    monkeypatch.setattr("pulumi.log.info", lambda *a, **k: None)
    from pulumi_aoai_finetune.account import AccountRef

    assert ctl._create_in_turn(client, AccountRef.parse(account()), {**BASE, "timeout_seconds": 60}).id == "ftjob-8"
    # a 400 about something else (the files are processed) is the user's error: raised at once
    client = FakeClient([unready])
    client.files = _Files(["processed"])
    with pytest.raises(ServiceError, match="Some words"):
        ctl._create_in_turn(client, AccountRef.parse(account()), {**BASE, "timeout_seconds": 60})


def test_azures_misleading_message_gets_a_hint_without_training_type(ctl):
    error = ServiceError("The specified base model does not support fine-tuning.", status=400, code="invalidPayload")
    with pytest.raises(ServiceError, match="set training_type"):
        ctl._send_create(FakeClient([error]), BASE)
    with pytest.raises(ServiceError) as info:
        ctl._send_create(FakeClient([error]), {**BASE, "training_type": "Standard"})
    assert "set training_type" not in str(info.value)


# -- preview reads against the emulator -------------------------------------------------------------
@pytest.fixture
def emu(tmp_path, monkeypatch):
    from emulated import provider_emulator

    accounts = (("aoai-ncus", "northcentralus"), ("aoai-eus2", "eastus2"), ("aoai-pl", "polandcentral"))
    with provider_emulator(tmp_path, monkeypatch, accounts) as server:
        yield server


def live(cls, settings):
    ctl = cls(settings)
    ctl.live_reads = True
    return ctl


@pytest.mark.parametrize("acct, training_type, model, ok", [
    ("aoai-eus2", "GlobalStandard", MINI41, True),
    ("aoai-eus2", "Standard", MINI41, False),        # /models of the account: fine_tune false
    ("aoai-ncus", "Standard", MINI41, True),
    ("aoai-pl", "GlobalStandard", "gpt-4.1-nano-2025-04-14", False),
    ("aoai-pl", "GlobalStandard", MINI41, True),
])
def test_training_type_checked_against_the_accounts_region_at_preview(emu, acct, training_type, model, ok):
    ctl = live(FineTuningJobController, emu.settings)
    failures = ctl.check({}, {**BASE, "account": account(acct), "base_model": model,
                              "training_type": training_type})[1]
    assert (failures == []) is ok, failures


def test_unreadable_account_falls_back_to_the_table(emu):
    ctl = live(FineTuningJobController, emu.settings)
    failures = ctl.check({}, {**BASE, "account": account("not-created-yet"), "training_type": "Standard"})[1]
    assert failures == []  # gpt-4.1-mini has Standard regions; the region is unknown


def _deploy(emu, name, model, sku="Standard"):
    ctl = live(ModelDeploymentController, emu.settings)
    inputs, failures = ctl.check({}, {"account": account("aoai-ncus"), "model": model, "deployment_name": name,
                                      "sku": {"name": sku, "capacity": 1}})
    assert failures == [], failures
    return ctl.create(inputs)


def _uploaded(emu):
    """An SDK client on aoai-ncus and a processed 12-example training file uploaded with it."""
    from openai import AzureOpenAI

    client = AzureOpenAI(azure_endpoint=emu.backend.account_endpoint("aoai-ncus"), api_key="k",
                         api_version="2024-10-21", max_retries=0)
    data = client.files.create(file=("t.jsonl", b"\n".join(
        b'{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", "content": "a"}]}' % i
        for i in range(12))), purpose="fine-tune")
    emu.backend.advance_clock(15)
    return client, data


def _train(emu, base=MINI41):
    client, data = _uploaded(emu)
    job = client.fine_tuning.jobs.create(model=base, training_file=data.id, hyperparameters={"n_epochs": 3})
    emu.backend.advance_clock(3000)
    job = client.fine_tuning.jobs.retrieve(job.id)
    checkpoints = sorted(client.fine_tuning.jobs.checkpoints.list(job.id), key=lambda c: c.step_number)
    return job.fine_tuned_model, [c.fine_tuned_model_checkpoint for c in checkpoints]


def test_the_account_limit_of_fine_tuned_deployments_at_preview(emu, monkeypatch):
    monkeypatch.setattr(availability, "MAX_FINE_TUNED_DEPLOYMENTS", 2)
    model, checkpoints = _train(emu)
    assert checkpoints[-1] == model  # rule CK1: the last checkpoint is the model itself
    _deploy(emu, "one", model)
    _deploy(emu, "two", checkpoints[-2])
    ctl = live(ModelDeploymentController, emu.settings)
    news = {"account": account("aoai-ncus"), "model": "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # unknown at preview
            "deployment_name": "three", "sku": {"name": "Standard", "capacity": 1}}
    failures = ctl.check({}, news)[1]
    assert failures and failures[0][0] == "deployment_name"
    assert "already has 2 fine-tuned deployments (one, two)" in failures[0][1] and "number 3" in failures[0][1]
    # an existing deployment, or a base model, is not refused
    assert ctl.check({}, dict(news, deployment_name="two"))[1] == []
    assert ctl.check({}, dict(news, model="gpt-4o-mini"))[1] == []


def test_developer_tier_expiry_is_expected_drift(emu, monkeypatch):
    warnings = []
    monkeypatch.setattr("pulumi.log.warn", lambda msg, *a, **k: warnings.append(msg))
    model, _ = _train(emu)
    id_, outs = _deploy(emu, "dev", model, sku="DeveloperTier")
    assert outs["deployed_sku"]["name"] == "DeveloperTier"
    ctl = live(ModelDeploymentController, emu.settings)
    news = {k: outs[k] for k in ("account", "model", "deployment_name", "sku")}
    inputs, failures = ctl.check(outs, news)
    assert failures == [] and "redeploy_expired" not in inputs and not ctl.diff(id_, outs, inputs).changes
    emu.backend.advance_clock(24 * 3600 + 1)
    inputs, failures = ctl.check(outs, news)
    assert failures == [] and inputs["redeploy_expired"] is True
    assert ctl.diff(id_, outs, inputs).updates == ["redeploy_expired"]
    assert any("developer-tier deployments expire after 24 h" in w for w in warnings)
    assert ctl.read(id_, outs) == (None, {})  # refresh: gone, with the same reason
    assert "developer-tier deployments expire after 24 h" in warnings[-1]
    redeployed = ctl.update(id_, outs, inputs)
    assert redeployed["provisioning_state"] == "Succeeded" and "redeploy_expired" not in redeployed


def test_developer_tier_sku_of_a_gpt4o_mini_model_fails_the_preview():
    ctl = ModelDeploymentController(ProviderSettings())
    failures = ctl.check({}, {"account": account(), "model": "gpt-4o-mini-2024-07-18.ft-abc",
                              "deployment_name": "dev", "sku": {"name": "DeveloperTier", "capacity": 1}})[1]
    assert failures and failures[0][0] == "sku.name" and "offered: " in failures[0][1]


def test_developer_tier_uses_the_newer_arm_api_version(monkeypatch):
    seen = []
    monkeypatch.setattr(clients, "arm", lambda settings, sub, api_version=None: seen.append(api_version))
    from pulumi_aoai_finetune.account import AccountRef

    ctl = ModelDeploymentController(ProviderSettings())
    ctl._client(AccountRef.parse(account()), {"name": "DeveloperTier"})
    ctl._client(AccountRef.parse(account()), {"name": "GlobalStandard"})
    assert seen == ["2025-07-01-preview", "2025-06-01"]
    assert model_deployment.SKUS[:4] == ("Standard", "GlobalStandard", "DataZoneStandard", "DeveloperTier")


def test_paused_is_an_input_the_user_can_flip(emu, monkeypatch):
    client, data = _uploaded(emu)
    # At 100x a one-epoch job can be paused for only ~1.2 real seconds (running with a trained step, and
    # not ending within the 30 s of pausing): a stalled machine would let it succeed before the provider
    # pauses it. So the clock stands still and each of the provider's waits between polls moves it by
    # what that wait would have been at this scale.
    from pulumi_aoai_finetune import _wait, fine_tuning_job

    emu.backend.freeze_clock(True)
    monkeypatch.setattr(fine_tuning_job, "poll", lambda *a, **kw: _wait.poll(
        *a, **kw, sleep=lambda seconds: emu.backend.advance_clock(seconds * emu.config.time_scale)))
    ctl = live(FineTuningJobController, emu.settings)
    inputs, failures = ctl.check({}, {"account": account("aoai-ncus"), "base_model": MINI41, "training_file": data.id,
                                      "hyperparameters": {"n_epochs": 1}, "paused": True})
    assert failures == []
    job_id, outs = ctl.create(inputs)
    assert outs["status"] == "paused" and outs["fine_tuned_model"] is None
    events = [e.message for e in client.fine_tuning.jobs.list_events(job_id, limit=100).data]
    assert "Job paused." in events
    resumed = dict(inputs, paused=False)
    assert ctl.diff(job_id, outs, resumed).updates == ["paused"]
    final = ctl.update(job_id, outs, resumed)
    assert final["status"] == "succeeded" and final["fine_tuned_model"].startswith(MINI41 + ".ft-")
    assert final["paused"] is False


def test_a_new_file_must_fit_the_accounts_file_limits(tmp_path, monkeypatch):
    from pulumi_aoai_finetune import availability
    from pulumi_aoai_finetune.training_file import TrainingFileController

    data = tmp_path / "t.jsonl"
    data.write_text("".join(
        '{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", "content": "a%d"}]}\n' % (i, i)
        for i in range(12)))
    account = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-a"}
    ctl = TrainingFileController(ProviderSettings())
    ctl.live_reads = True
    monkeypatch.setattr(availability, "account_files", lambda settings, acct: (100, 5_000))
    _, failures = ctl.check({}, {"account": account, "path": str(data), "project_dir": str(tmp_path)})
    assert failures == [("path", "account acct-a already holds 100 files; Azure allows 100 per resource: "
                                 "delete files no job needs any more")]
    monkeypatch.setattr(availability, "account_files", lambda settings, acct: (3, availability.MAX_FILES_BYTES - 10))
    _, failures = ctl.check({}, {"account": account, "path": str(data), "project_dir": str(tmp_path)})
    assert failures and "would pass Azure's 1,024 MiB per resource" in failures[0][1]
    # a file that exists already is not counted against the limits again
    inputs, _ = ctl.check({}, {"account": account, "path": str(data), "project_dir": str(tmp_path)})
    _, failures = ctl.check(inputs, {"account": account, "path": str(data), "project_dir": str(tmp_path)})
    assert failures == []


# -- the body as 2025-04-01-preview defines it (rule M3) ----------------------------------------------
def test_dpo_hyperparameters_are_taken_flat_or_nested_and_sent_nested(ctl):
    flat = {**BASE, "base_model": MINI41, "method": {"type": "dpo", "dpo": {"beta": 0.2, "l2_multiplier": 0.05}}}
    inputs, failures = ctl.check({}, flat)
    assert failures == []
    assert inputs["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "l2_multiplier": 0.05}}}
    nested = {**BASE, "base_model": MINI41,
              "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "l2_multiplier": 0.05}}}}
    assert not ctl.diff("ftjob-1", inputs, ctl.check({}, nested)[0]).changes  # the same job either way
    client = FakeClient([types.SimpleNamespace(id="ftjob-1")])
    ctl._send_create(client, inputs)
    assert client.fine_tuning.jobs.calls[0]["method"] == {"type": "dpo", "dpo": {"hyperparameters": {
        "beta": 0.2, "l2_multiplier": 0.05}}}
    _, failures = ctl.check({}, {**flat, "method": {"type": "dpo", "dpo": {"betta": 1}}})
    assert any(f == "method.dpo" and "betta" in m for f, m in failures), failures


def test_auto_is_not_sent_and_supervised_hyperparameters_go_top_level(ctl):
    client = FakeClient([types.SimpleNamespace(id="ftjob-1")] * 3)
    ctl._send_create(client, {**BASE, "hyperparameters": {"n_epochs": 2, "batch_size": "auto"}})
    assert client.fine_tuning.jobs.calls[-1]["hyperparameters"] == {"n_epochs": 2}
    ctl._send_create(client, {**BASE, "method": {"type": "supervised", "supervised": {
        "hyperparameters": {"learning_rate_multiplier": 0.1, "n_epochs": "auto"}}}})
    call = client.fine_tuning.jobs.calls[-1]
    assert call["method"] == {"type": "supervised"} and call["hyperparameters"] == {"learning_rate_multiplier": 0.1}
    ctl._send_create(client, {**BASE, "base_model": MINI41, "method": {"type": "dpo"}})
    assert client.fine_tuning.jobs.calls[-1]["method"] == {"type": "dpo", "dpo": {}}  # DpoMethodRequest requires dpo


# -- a job the service pauses by itself (rule J1) --------------------------------------------------------
class _PollJobs:
    def __init__(self, statuses):
        self.statuses = list(statuses)

    def retrieve(self, job_id):
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return types.SimpleNamespace(id=job_id, status=status, fine_tuned_model=None, error=None)

    def list_events(self, job_id, limit=50):
        return types.SimpleNamespace(data=[types.SimpleNamespace(
            id="ev-1", created_at=1, type="message",
            message="Job paused: the training cost of this job reached the limit ...")])


def test_a_job_paused_by_the_service_ends_the_wait_with_what_to_do(monkeypatch):
    from pulumi_aoai_finetune.errors import TrainingPausedError

    ctl = FineTuningJobController(ProviderSettings(poll_interval=0.01))
    monkeypatch.setattr("pulumi.log.info", lambda *a, **k: None)
    client = types.SimpleNamespace(fine_tuning=types.SimpleNamespace(jobs=_PollJobs(["running", "paused"])))
    with pytest.raises(TrainingPausedError) as info:
        ctl._wait(client, types.SimpleNamespace(id="ftjob-1", status="running"), {**BASE, "timeout_seconds": 60})
    text = str(info.value)
    assert "paused by the service" in text and "the training cost" in text
    assert "set paused: false" in text and "paused: true" in text


def test_paused_false_resumes_a_job_the_service_paused(monkeypatch):
    ctl = FineTuningJobController(ProviderSettings(poll_interval=0.01))
    monkeypatch.setattr("pulumi.log.info", lambda *a, **k: None)
    jobs = _PollJobs(["paused", "running", "succeeded"])
    resumed = []
    monkeypatch.setattr(ctl, "_resume", lambda account, job_id, inputs: resumed.append(job_id)
                        or types.SimpleNamespace(id=job_id, status="resuming"))
    client = types.SimpleNamespace(fine_tuning=types.SimpleNamespace(jobs=jobs))
    final = ctl._wait(client, types.SimpleNamespace(id="ftjob-2", status="running"),
                      {**BASE, "paused": False, "timeout_seconds": 60})
    assert final.status == "succeeded" and resumed == ["ftjob-2"]


# -- where a fine-tuned model gets a Standard deployment (rule DP1) ----------------------------------------
@pytest.mark.parametrize("model, sku, region, ok", [
    ("gpt-4o-mini-2024-07-18.ft-abc", "Standard", "eastus2", False),
    ("gpt-4o-mini-2024-07-18.ft-abc", "Standard", "North Central US", True),
    ("gpt-4o-mini-2024-07-18.ft-abc", "GlobalStandard", "eastus2", True),
    ("gpt-4o-2024-08-06.ft-abc", "Standard", "northcentralus", False),
    ("gpt-4o-2024-08-06.ft-abc:ckpt-step-10", "Standard", "eastus2", True),
    (MINI41 + ".ft-abc", "Standard", "westeurope", False),
    ("o4-mini-2025-04-16.ft-abc", "Standard", "swedencentral", True),
    ("gpt-35-turbo-0125.ft-abc", "Standard", "switzerlandwest", True),
    ("gpt-4o-mini-2024-07-18", "Standard", "eastus2", True),          # a base model: the service decides
    ("davinci-002.ft-abc", "Standard", "eastus2", True),              # not in the page's table: not checked
])
def test_standard_deployment_regions_of_fine_tuned_models(model, sku, region, ok):
    problem = availability.deployment_region_problem(model, sku, region)
    assert (problem is None) is ok, problem
    if not ok:
        assert "Standard deployment only in" in problem and "GlobalStandard" in problem


# -- clouds and tenants (rules A2, A3) ----------------------------------------------------------------
def test_the_data_plane_token_scope_is_configurable(monkeypatch):
    settings = ProviderSettings.load(environ={"AOAI_FT_TOKEN_SCOPE": "https://cognitiveservices.azure.us/.default"})
    assert settings.token_scope == "https://cognitiveservices.azure.us/.default"
    assert ProviderSettings().token_scope == "https://cognitiveservices.azure.com/.default"
    from pulumi_aoai_finetune.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="tokenScope"):
        ProviderSettings.load(environ={"AOAI_FT_TOKEN_SCOPE": "cognitiveservices"})
    asked = []

    class Cred:
        def get_token(self, scope):
            asked.append(scope)
            return types.SimpleNamespace(token="t")

    monkeypatch.setattr(clients, "credential", lambda s: Cred())
    from pulumi_aoai_finetune.account import AccountRef

    client = clients.data_plane(settings, AccountRef.parse({**account(), "endpoint": "https://x.openai.azure.us/"}))
    client._azure_ad_token_provider()
    assert asked == ["https://cognitiveservices.azure.us/.default"]


def test_a_source_account_in_another_tenant_is_refused_at_preview(monkeypatch):
    from azure.core.exceptions import ClientAuthenticationError

    class Accounts:
        def get(self, *a, **k):
            error = ClientAuthenticationError(message="The access token is from the wrong issuer.")
            error.error = types.SimpleNamespace(code="InvalidAuthenticationTokenTenant", message=error.message)
            raise error

    monkeypatch.setattr(clients, "arm", lambda *a, **k: types.SimpleNamespace(accounts=Accounts()))
    ctl = ModelDeploymentController(ProviderSettings())
    src = {"resource_id": "/subscriptions/other/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/src"}
    failures = ctl._check_source_tenant({"source_account": src})
    assert failures and failures[0][0] == "source_account" and "x-ms-authorization-auxiliary" in failures[0][1]
