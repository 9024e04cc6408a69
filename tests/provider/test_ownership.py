"""Ownership: a resource reuses, attaches to, takes over or deletes only what it can prove is its own.

Two stacks with identical data share one account (the emulator, through the real clients): each gets
its own file, job and deployment; the interrupted-`up` recovery still finds this stack's own objects;
destroy leaves what another stack owns. The markers themselves are unit-tested first."""

from __future__ import annotations

import json

import pytest

from pulumi_aoai_finetune import clients, ownership
from pulumi_aoai_finetune.errors import ConfigurationError
from pulumi_aoai_finetune.fine_tuning_job import FineTuningJobController
from pulumi_aoai_finetune.model_deployment import ModelDeploymentController
from pulumi_aoai_finetune.training_file import TrainingFileController

SUB, RG = "00000000-0000-0000-0000-000000000000", "aoai-emulator"
ACCOUNT = {"resource_id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.CognitiveServices/"
                          "accounts/aoai-ncus"}
MINI = "gpt-4o-mini-2024-07-18"


def owner(stack: str, resource: str) -> dict:
    return {"stack": f"organization/shared/{stack}", "resource": resource}


# -- markers ---------------------------------------------------------------------------------------
def test_markers_differ_per_stack_and_resource_and_are_stable():
    a = ownership.Owner("org/p/dev", "TrainingFile/training-data")
    assert a.marker == ownership.Owner("org/p/dev", "TrainingFile/training-data").marker
    assert ownership.is_marker(a.marker) and a.marker.startswith("aoaift-")
    others = {ownership.Owner("org/p/prod", "TrainingFile/training-data").marker,
              ownership.Owner("org/q/dev", "TrainingFile/training-data").marker,
              ownership.Owner("org/p/dev", "TrainingFile/validation-data").marker}
    assert a.marker not in others and len(others) == 3
    assert ownership.stack_key_of(a.marker) == a.stack_key
    assert ownership.stack_key_of(ownership.Owner("org/p/dev", "FineTuningJob/x").marker) == a.stack_key


@pytest.mark.parametrize("name, marked", [
    ("train.jsonl", "train.{m}.jsonl"),
    ("data", "data.{m}"),
    ("my.train.jsonl", "my.train.{m}.jsonl"),
    (".jsonl", ".jsonl.{m}"),
])
def test_the_marker_goes_before_the_extension_and_comes_off_again(name, marked):
    m = ownership.Owner("o/p/s", "TrainingFile/t").marker
    got = ownership.marked_filename(name, m)
    assert got == marked.format(m=m)
    assert ownership.marker_in_filename(got) == m
    assert ownership.unmarked_filename(got) == name
    assert ownership.marked_filename(got, m) == got  # never twice
    assert ownership.marker_in_filename(name) is None and ownership.marked_filename(name, None) == name


def test_owner_inputs_are_parsed_defensively():
    assert ownership.parse_owner(None) is None
    assert ownership.parse_owner({"stack": "", "resource": "x"}) is None
    assert ownership.parse_owner("org/p/s") is None
    assert ownership.parse_owner({"stack": "o/p/s", "resource": "K/n"}) == ownership.Owner("o/p/s", "K/n")
    assert ownership.marker_in_tags({"aoai-finetune-owner": "not a marker"}) is None


def test_the_provider_plugin_derives_the_owner_from_the_urn():
    """YAML and TypeScript programs go through the provider plugin, which gets the URN, not the program."""
    from pulumi_aoai_finetune import schema
    from pulumi_aoai_finetune.adapters.plugin.provider import AoaiFinetuneProvider

    urn = "urn:pulumi:dev::finetune::aoai-finetune:index:FineTuningJob::fine-tune"
    assert ownership.owner_from_urn(urn, "FineTuningJob") == {"stack": "organization/finetune/dev",
                                                              "resource": "FineTuningJob/fine-tune"}
    parented = "urn:pulumi:dev::finetune::my:Component$aoai-finetune:index:TrainingFile::train"
    assert ownership.owner_from_urn(parented, "TrainingFile")["resource"] == "TrainingFile/train"
    assert ownership.owner_from_urn("not a urn", "TrainingFile") is None
    plugin = AoaiFinetuneProvider("0.0.0")
    news = plugin._defaults(schema.FINE_TUNING_JOB, "fine-tune", {"base_model": "m"}, urn)
    assert news["owner"] == ownership.owner_from_urn(urn, "FineTuningJob")
    given = {"stack": "o/p/s", "resource": "FineTuningJob/x"}
    assert plugin._defaults(schema.FINE_TUNING_JOB, "fine-tune", {"owner": given}, urn)["owner"] == given


# -- against the emulator ----------------------------------------------------------------------
@pytest.fixture
def emu(tmp_path, monkeypatch):
    from emulated import provider_emulator

    with provider_emulator(tmp_path, monkeypatch, (("aoai-ncus", "northcentralus"),), time_scale=1000.0) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch):
    """Each test is a new provider process: nothing claimed yet."""
    from pulumi_aoai_finetune import fine_tuning_job, training_file

    monkeypatch.setattr(training_file, "_claimed", set())
    monkeypatch.setattr(fine_tuning_job, "_attached", set(), raising=False)


def sdk(emu):
    from openai import AzureOpenAI

    return AzureOpenAI(azure_endpoint=emu.backend.account_endpoint("aoai-ncus"), api_key="k",
                       api_version="2024-10-21", max_retries=0)


def data_file(tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
            for i in range(12)]
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return str(path)


def checked(controller, emu, **news):
    """A controller on the emulator and the inputs its check made of ``news`` (which must pass)."""
    ctl = controller(emu.settings)
    inputs, failures = ctl.check({}, {"account": ACCOUNT, **news})
    assert failures == []
    return ctl, inputs


def file_inputs(emu, path, stack, resource="TrainingFile/training-data"):
    return checked(TrainingFileController, emu, path=path, owner=owner(stack, resource))


def test_two_stacks_with_identical_data_each_get_their_own_file(emu, tmp_path):
    path = data_file(tmp_path)
    ctl_a, inputs_a = file_inputs(emu, path, "a")
    id_a, outs_a = ctl_a.create(inputs_a)
    ctl_b, inputs_b = file_inputs(emu, path, "b")
    id_b, outs_b = ctl_b.create(inputs_b)
    assert id_a != id_b  # before the marker, B reused A's file: same name, size and content, no job on it
    assert ownership.unmarked_filename(outs_a["filename"]) == "train.jsonl" == ownership.unmarked_filename(
        outs_b["filename"])
    assert outs_a["owner_marker"] != outs_b["owner_marker"]
    # destroying B leaves A's file
    ctl_b.delete(id_b, outs_b)
    assert {f.id for f in sdk(emu).files.list().data} == {id_a}


def test_a_file_left_by_this_stacks_interrupted_up_is_reused(emu, tmp_path):
    path = data_file(tmp_path)
    ctl, inputs = file_inputs(emu, path, "a")
    marker = ownership.Owner(inputs["owner"]["stack"], inputs["owner"]["resource"]).marker
    with open(path, "rb") as fh:  # what a `pulumi up` killed during the upload left behind
        landed = sdk(emu).files.create(file=(f"train.{marker}.jsonl", fh), purpose="fine-tune")
    with open(path, "rb") as fh:  # the same data, uploaded by another stack (its marker) and by hand
        sdk(emu).files.create(file=("train.jsonl", fh), purpose="fine-tune")
    emu.backend.advance_clock(15)
    file_id, outs = ctl.create(inputs)
    assert file_id == landed.id and outs["owner_marker"] == marker
    assert len(sdk(emu).files.list().data) == 2  # nothing uploaded


def test_an_adopted_file_of_another_stack_is_left_in_place_on_destroy(emu, tmp_path):
    path = data_file(tmp_path)
    ctl_a, inputs_a = file_inputs(emu, path, "a")
    id_a, _ = ctl_a.create(inputs_a)
    ctl_b, inputs_b = file_inputs(emu, path, "b")
    id_b, outs_b = ctl_b.create(dict(inputs_b, adopt_file_id=id_a))
    assert id_b == id_a and outs_b["owner_marker"] is None
    ctl_b.delete(id_b, outs_b)
    assert sdk(emu).files.retrieve(id_a).status == "processed"


def job_inputs(emu, stack, training_file, **extra):
    return checked(FineTuningJobController, emu, **{
        "base_model": MINI, "training_file": training_file, "hyperparameters": {"n_epochs": 3}, "seed": 7,
        "wait": False, "owner": owner(stack, "FineTuningJob/fine-tune"), **extra})


def test_a_job_attaches_only_to_this_stacks_run(emu, tmp_path):
    path = data_file(tmp_path)
    ctl_a, inputs_a = file_inputs(emu, path, "a")
    file_a, _ = ctl_a.create(inputs_a)
    # A's run, started by an interrupted `pulumi up` of A
    earlier = sdk(emu).fine_tuning.jobs.create(model=MINI, training_file=file_a, hyperparameters={"n_epochs": 3},
                                                seed=7)
    job_ctl, inputs = job_inputs(emu, "a", file_a)
    job_id, outs = job_ctl.create(inputs)
    assert job_id == earlier.id and ownership.stack_key_of(outs["owner_marker"]) == ownership.Owner(
        inputs["owner"]["stack"], "x").stack_key
    # stack B (another provider process) names A's file by id with identical inputs: nothing proves A's
    # run is B's
    from pulumi_aoai_finetune import fine_tuning_job

    fine_tuning_job._attached.clear()
    job_ctl_b, inputs_b = job_inputs(emu, "b", file_a)
    with pytest.raises(ConfigurationError, match=f"{earlier.id}.*adopt_job_id"):
        job_ctl_b.create(inputs_b)
    assert len(sdk(emu).fine_tuning.jobs.list().data) == 1
    # with another seed, B starts its own run
    job_ctl_b, inputs_b = job_inputs(emu, "b", file_a, seed=8)
    id_b, _ = job_ctl_b.create(inputs_b)
    assert id_b != earlier.id


def test_destroying_an_adopted_job_of_another_stack_leaves_it_running(emu, tmp_path):
    path = data_file(tmp_path)
    ctl_a, inputs_a = file_inputs(emu, path, "a")
    file_a, _ = ctl_a.create(inputs_a)
    job_ctl, inputs = job_inputs(emu, "a", file_a)
    job_a, _ = job_ctl.create(inputs)
    ctl_b, inputs_b = job_inputs(emu, "b", file_a, adopt_job_id=job_a)
    adopted, outs_b = ctl_b.create(inputs_b)
    assert adopted == job_a and outs_b["owner_marker"] is None
    ctl_b.delete(adopted, outs_b)
    assert sdk(emu).fine_tuning.jobs.retrieve(job_a).status not in ("cancelled", "cancelling")


def deployment_inputs(emu, stack, model, name="shared-name", **extra):
    return checked(ModelDeploymentController, emu, model=model, deployment_name=name,
                   sku={"name": "Standard", "capacity": 1}, owner=owner(stack, f"ModelDeployment/{name}"), **extra)


def _trained_model(emu, tmp_path):
    client = sdk(emu)
    with open(data_file(tmp_path), "rb") as fh:
        data = client.files.create(file=("t.jsonl", fh), purpose="fine-tune")
    emu.backend.advance_clock(15)
    job = client.fine_tuning.jobs.create(model=MINI, training_file=data.id, hyperparameters={"n_epochs": 1})
    emu.backend.advance_clock(3000)
    return client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model


def test_a_deployment_name_taken_by_another_stack_is_refused_not_taken_over(emu, tmp_path):
    model = _trained_model(emu, tmp_path)
    ctl_a, inputs_a = deployment_inputs(emu, "a", model)
    dep_id, outs_a = ctl_a.create(inputs_a)
    tags = sdk_arm_tags(emu, "shared-name")
    assert tags == {"aoai-finetune-owner": outs_a["owner_marker"], "aoai-finetune-stack": "organization/shared/a"}
    # same name, same model, another stack: before the marker, B took A's deployment over silently
    ctl_b, inputs_b = deployment_inputs(emu, "b", model)
    with pytest.raises(ConfigurationError, match="another stack's owner tag.*adopt_existing"):
        ctl_b.create(inputs_b)
    # A's interrupted `up` (the deployment exists, not in A's state): A brings it to the declared state
    again_id, _ = ctl_a.create(inputs_a)
    assert again_id == dep_id
    # B adopts it explicitly: the tag is B's now, so A's destroy leaves it alone
    adopted_id, outs_b = ctl_b.create(dict(inputs_b, adopt_existing=True))
    assert sdk_arm_tags(emu, "shared-name")["aoai-finetune-owner"] == outs_b["owner_marker"]
    ctl_a.delete(dep_id, outs_a)
    assert sdk_arm_tags(emu, "shared-name") is not None
    assert ctl_a.read(dep_id, outs_a) == (None, {})  # refresh of A drops it too
    ctl_b.delete(adopted_id, outs_b)
    assert sdk_arm_tags(emu, "shared-name") is None


def test_a_name_another_stack_takes_after_this_process_listed_the_account_is_still_refused(emu, tmp_path):
    """The check of stack B lists the account (the name is free there); stack A, another process, then
    deploys that name; B's create must read it again and refuse, not overwrite A's deployment (it once
    trusted a listing under 30 s old)."""
    from pulumi_aoai_finetune import availability
    from pulumi_aoai_finetune.account import AccountRef

    model = _trained_model(emu, tmp_path)
    ctl_b, inputs_b = deployment_inputs(emu, "b", model)
    assert availability.fine_tuned_deployments(emu.settings, AccountRef.parse(ACCOUNT)) == []  # listed: free
    theirs = ownership.Owner("organization/shared/a", "ModelDeployment/shared-name").marker
    clients.arm(emu.settings, SUB).deployments.begin_create_or_update(RG, "aoai-ncus", "shared-name", {
        "sku": {"name": "Standard", "capacity": 1}, "tags": {"aoai-finetune-owner": theirs},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}}}).result()
    with pytest.raises(ConfigurationError, match="another stack's owner tag"):
        ctl_b.create(inputs_b)
    assert sdk_arm_tags(emu, "shared-name")["aoai-finetune-owner"] == theirs


def test_an_untagged_deployment_is_not_taken_over_without_adopt_existing(emu, tmp_path):
    model = _trained_model(emu, tmp_path)
    ctl, inputs = deployment_inputs(emu, "a", model, name="by-hand")
    arm = clients.arm(emu.settings, SUB)
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "by-hand", {
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}}}).result()
    with pytest.raises(ConfigurationError, match="no owner tag"):
        ctl.create(inputs)


def sdk_arm_tags(emu, name):
    from pulumi_aoai_finetune.errors import NotFoundError

    arm = clients.arm(emu.settings, SUB)
    try:
        with clients.arm_errors("reading"):
            return arm.deployments.get(RG, "aoai-ncus", name).tags
    except NotFoundError:
        return None
