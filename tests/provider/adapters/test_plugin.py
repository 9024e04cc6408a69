"""The provider plugin's adapter (adapters/plugin): names and values on the wire, the package schema,
and the workarounds for the SDK's defects (each kept under test here)."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime import proto

from pulumi_aoai_finetune import schema
from pulumi_aoai_finetune.adapters.plugin import wire
from pulumi_aoai_finetune.adapters.plugin.provider import AoaiFinetuneProvider, Servicer
from pulumi_aoai_finetune.adapters.plugin.pulumi_schema import package_schema, type_token
from pulumi_aoai_finetune.controller import UNKNOWN
from pulumi_aoai_finetune.errors import ConfigurationError

ACCOUNT = "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-a"
URN = "urn:pulumi:dev::proj::aoai-finetune:index:{kind}::{name}"


def pv(value):
    """A plain value as the engine sends it (numbers as floats)."""
    if isinstance(value, dict):
        return PropertyValue({k: pv(v) for k, v in value.items()})
    if isinstance(value, list):
        return PropertyValue([pv(v) for v in value])
    if isinstance(value, int) and not isinstance(value, bool):
        return PropertyValue(float(value))
    return PropertyValue(value)


def wire_map(values: dict) -> dict:
    return {k: pv(v) for k, v in values.items()}


def run(coro):
    return asyncio.run(coro)


# -- wire ---------------------------------------------------------------------------------------------------
def test_camel_on_the_wire_snake_for_the_controllers_and_back():
    res = schema.FINE_TUNING_JOB
    values, secret = wire.from_wire(wire_map({
        "account": {"resourceId": ACCOUNT}, "baseModel": "m", "hyperparameters": {"n_epochs": 3},
        "seed": 42, "timeoutSeconds": 60.5,
        "checkpoints": [{"id": "c", "model": "m:ckpt-step-1", "stepNumber": 1, "metrics": {"step": 1}}],
    }), res)
    assert values == {"account": {"resource_id": ACCOUNT}, "base_model": "m", "hyperparameters": {"n_epochs": 3},
                      "seed": 42, "timeout_seconds": 60.5,
                      "checkpoints": [{"id": "c", "model": "m:ckpt-step-1", "step_number": 1, "metrics": {"step": 1}}]}
    assert isinstance(values["seed"], int) and isinstance(values["hyperparameters"]["n_epochs"], int)
    back = {k: v.value for k, v in wire.to_wire(values, res).items()}
    assert set(back) == {"account", "baseModel", "hyperparameters", "seed", "timeoutSeconds", "checkpoints"}
    assert set(back["account"]) == {"resourceId"} and set(back["hyperparameters"]) == {"n_epochs"}
    assert set(back["checkpoints"][0].value) == {"id", "model", "stepNumber", "metrics"}
    assert back["seed"] == 42.0 and secret == set()


def test_a_dynamic_resources_state_reads_too():
    # a stack moved over from the dynamic resources: snake_case keys and the pickled provider
    values, _ = wire.from_wire(wire_map({"__provider": "gASV...", "base_model": "m", "training_file_sha256": "a" * 64,
                                         "account": {"resource_id": ACCOUNT}}), schema.FINE_TUNING_JOB)
    assert values == {"base_model": "m", "training_file_sha256": "a" * 64, "account": {"resource_id": ACCOUNT}}


def test_secrets_are_unwrapped_and_wrapped_again():
    res = schema.TRAINING_FILE
    props = wire_map({"account": {"resourceId": ACCOUNT}, "path": "/p/t.jsonl"})
    props["path"] = props["path"].with_secret(True)
    values, secret = wire.from_wire(props, res)
    assert values["path"] == "/p/t.jsonl" and secret == {"path"}
    out = wire.to_wire({**values, "content_url": "https://x/y?sig=1"}, res, secret)
    assert out["path"].is_secret and out["contentUrl"].is_secret  # the one sent secret, and the schema's secret
    assert not out["account"].is_secret


def test_unknowns_travel_as_the_engines_sentinel():
    # defect 1: PropertyValue.computed() cannot be marshalled; the sentinel string can, and means unknown
    out = wire.to_wire({"file_id": UNKNOWN, "sha256": "abc"}, schema.TRAINING_FILE)
    assert out["fileId"].value == UNKNOWN
    assert out["fileId"].marshal().string_value == UNKNOWN
    # defect 2: a Computed value is never compared; it becomes the sentinel on the way in
    values, _ = wire.from_wire({"path": PropertyValue(Computed())}, schema.TRAINING_FILE)
    assert values["path"] == UNKNOWN


def test_unknown_properties_are_named_with_a_suggestion():
    failures = wire.unknown_inputs({"base_modle": "m", "base_model": "m"}, schema.FINE_TUNING_JOB)
    assert failures == [("baseModle", "FineTuningJob has no property baseModle; did you mean baseModel?")]


def test_messages_and_paths_in_pulumis_names():
    res = schema.MODEL_DEPLOYMENT
    assert wire.camel_path("quality_gate.max_final_valid_loss", res) == "qualityGate.maxFinalValidLoss"
    assert wire.camel_path("sku.capacity", res) == "sku.capacity"
    assert wire.camel_path("hyperparameters.n_epochs", schema.FINE_TUNING_JOB) == "hyperparameters.n_epochs"
    text = "deployment_name 'x' is taken; see /data/my_deployment_name.txt and set adopt_existing"
    assert wire.camel_text(text, res) == ("deploymentName 'x' is taken; see /data/my_deployment_name.txt and set "
                                          "adoptExisting")


# -- the package schema ------------------------------------------------------------------------------------
def test_the_package_schema_follows_the_source():
    spec = package_schema("1.2.3")
    assert spec["name"] == "aoai-finetune" and spec["version"] == "1.2.3"
    assert spec["language"]["python"]["packageName"] == "pulumi_aoai_finetune_plugin"
    assert spec["language"]["nodejs"]["packageName"] == "@pulumi/aoai-finetune"
    for res in schema.RESOURCES:
        r = spec["resources"][res.token]
        assert list(r["inputProperties"]) == [f.camel for f in res.inputs]
        assert set(r["properties"]) == {f.camel for f in res.inputs + res.outputs}
        assert r["requiredInputs"] == [f.camel for f in res.inputs if f.required]
        assert "state" not in r and not any(f.camel in r["properties"] for f in res.state)
    text = json.dumps(spec)
    assert "$" not in text.replace("$ref", "")  # every $name reference rendered
    for ref in {v for v in _refs(spec) if v.startswith("#/types/")}:
        assert ref[len("#/types/"):] in spec["types"]
    assert set(spec["types"]) == {type_token(o) for o in schema.object_types().values()}
    assert spec["types"][type_token(schema.HYPERPARAMETERS)]["properties"].keys() == {"n_epochs", "batch_size",
                                                                                     "learning_rate_multiplier"}
    assert spec["config"]["variables"]["apiKey"]["secret"] is True
    content_url = spec["resources"][schema.TRAINING_FILE.token]["inputProperties"]["contentUrl"]
    assert content_url["secret"] is True and "Changing it replaces the TrainingFile." in content_url["description"]


def _refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


# -- the provider ----------------------------------------------------------------------------------------------
@pytest.fixture
def provider(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: yaml\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.jsonl").write_text("".join(
        json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}) + "\n"
        for i in range(12)))
    prov = AoaiFinetuneProvider("0.0.1", cwd=str(tmp_path))
    run(prov.configure(p.ConfigureRequest({}, {}, True, False)))
    return prov


def check(provider, kind, name, news, olds=None):
    request = p.CheckRequest(URN.format(kind=kind, name=name), wire_map(olds or {}), wire_map(news), b"")
    response = run(provider.check(request))
    return {k: v for k, v in wire.from_wire(response.inputs, schema.resource(kind))[0].items()}, \
        [(f.property, f.reason) for f in response.failures or []]


def test_check_takes_paths_from_the_programs_directory(provider, tmp_path):
    inputs, failures = check(provider, "TrainingFile", "t", {"account": {"resourceId": ACCOUNT}, "path": "data/t.jsonl"})
    assert failures == []
    assert inputs["path"] == str(tmp_path / "data" / "t.jsonl") and "project_dir" not in inputs  # used, not kept
    assert len(inputs["content_sha256"]) == 64
    outside = tmp_path.parent / "elsewhere.jsonl"
    outside.write_text((tmp_path / "data" / "t.jsonl").read_text())
    _, failures = check(provider, "TrainingFile", "t", {"account": {"resourceId": ACCOUNT}, "path": str(outside)})
    assert failures and failures[0][0] == "path" and "outside the project directory" in failures[0][1]
    _, failures = check(provider, "TrainingFile", "t", {"account": {"resourceId": ACCOUNT}, "path": str(outside),
                                                        "projectDir": str(tmp_path.parent)})
    assert failures == []


def test_check_fills_in_what_the_python_api_fills_in(provider):
    inputs, failures = check(provider, "ModelDeployment", "chat-bot", {"account": {"resourceId": ACCOUNT},
                                                                      "model": "gpt-4o-mini-2024-07-18"})
    assert failures == [] and inputs["deployment_name"] == "chat-bot"
    inputs, _ = check(provider, "FineTuningJob", "j", {"account": {"resourceId": ACCOUNT}, "baseModel": "m-1",
                                                       "trainingFile": ACCOUNT + "/files/file-9"})
    assert inputs["training_file"] == "file-9"  # a TrainingFile's id is taken for its file id


def test_check_failures_use_pulumis_names(provider):
    _, failures = check(provider, "FineTuningJob", "j", {"account": {"resourceId": ACCOUNT}, "baseModel": "m-1",
                                                         "hyperparameters": {"n_epochs": 0}, "seeed": 1})
    assert ("seeed", "FineTuningJob has no property seeed; did you mean seed?") in failures
    assert any(f == "trainingFile" and m.startswith("trainingFile is required") for f, m in failures), failures
    assert any(f == "hyperparameters.n_epochs" for f, _ in failures)


def test_bad_settings_fail_the_preview_naming_the_key(provider):
    request = p.CheckRequest("urn:pulumi:dev::proj::pulumi:providers:aoai-finetune::default", {},
                             {"pollInterval": PropertyValue("-1"), "version": PropertyValue("0.0.1")}, b"")
    response = run(provider.check_config(request))
    assert [f.reason for f in response.failures] == ["aoai-finetune:pollInterval must be a positive number of "
                                                     "seconds (at most 3600)"]


def test_a_settings_change_never_replaces(provider):
    request = p.DiffRequest("urn", "id", {"pollInterval": PropertyValue("1")}, {"pollInterval": PropertyValue("2")}, [])
    response = run(provider.diff_config(request))
    assert response.changes is True and response.replaces == [] and response.diffs == ["pollInterval"]


def test_diff_details_each_property_in_pulumis_names(provider):
    olds = {"account": {"resourceId": ACCOUNT}, "deploymentName": "d1", "model": "m", "sku": {"name": "Standard",
                                                                                          "capacity": 1}}
    news = {**olds, "sku": {"name": "Standard", "capacity": 2}, "deploymentName": "d2"}
    response = run(provider.diff(p.DiffRequest(URN.format(kind="ModelDeployment", name="d"), ACCOUNT + "/deployments/d1",
                                               wire_map(olds), wire_map(news), [])))
    assert response.replaces == ["deploymentName"] and set(response.diffs) == {"deploymentName", "sku"}
    assert response.detailed_diff["deploymentName"].kind == p.PropertyDiffKind.UPDATE_REPLACE
    assert response.detailed_diff["sku"].kind == p.PropertyDiffKind.UPDATE
    ignored = run(provider.diff(p.DiffRequest(URN.format(kind="ModelDeployment", name="d"), "id", wire_map(olds),
                                              wire_map(news), ["sku", "deploymentName"])))
    assert ignored.changes is False


def test_an_unchanged_dynamic_resource_is_one_update_that_drops_its_pickled_provider(provider):
    olds = {"__provider": "gASV", "account": {"resource_id": ACCOUNT}, "deployment_name": "d", "model": "m",
            "model_format": "OpenAI", "model_version": "1", "sku": {"name": "Standard", "capacity": 1},
            "timeout_seconds": 3600, "adopt_existing": False}
    news = {"account": {"resourceId": ACCOUNT}, "deploymentName": "d", "model": "m", "modelFormat": "OpenAI",
            "modelVersion": "1", "sku": {"name": "Standard", "capacity": 1}, "timeoutSeconds": 3600,
            "adoptExisting": False}
    request = p.DiffRequest(URN.format(kind="ModelDeployment", name="d"), ACCOUNT + "/deployments/d", wire_map(olds),
                            wire_map(news), [])
    response = run(provider.diff(request))
    assert response.changes is True and response.replaces == [] and list(response.detailed_diff) == ["__provider"]
    # the update makes no call (there is no service here: any call would fail) and writes the plugin's names
    update = run(provider.update(p.UpdateRequest(request.urn, request.resource_id, wire_map(olds), wire_map(news),
                                                 0, [], False)))
    assert "__provider" not in update.properties and "deploymentName" in update.properties


def test_preview_outputs(provider):
    urn = URN.format(kind="FineTuningJob", name="j")
    olds = {"account": {"resourceId": ACCOUNT}, "baseModel": "m", "trainingFile": "file-1", "status": "succeeded",
            "fineTunedModel": "m.ft-1", "jobId": "ftjob-1"}
    news = {"account": {"resourceId": ACCOUNT}, "baseModel": "m", "trainingFile": "file-2", "wait": True}
    done = run(provider.update(p.UpdateRequest(urn, "ftjob-1", wire_map(olds), wire_map(news), 0, [], True)))
    assert done.properties["fineTunedModel"].value == "m.ft-1" and done.properties["trainingFile"].value == "file-2"
    running = run(provider.update(p.UpdateRequest(urn, "ftjob-1", wire_map({**olds, "status": "running"}),
                                                  wire_map(news), 0, [], True)))
    assert running.properties["fineTunedModel"].value == UNKNOWN and running.properties["jobId"].value == "ftjob-1"
    created = run(provider.create(p.CreateRequest(URN.format(kind="TrainingFile", name="t"), wire_map(
        {"account": {"resourceId": ACCOUNT}, "path": "/p", "contentSha256": "c" * 64}), 0, True)))
    assert created.properties["sha256"].value == "c" * 64 and created.properties["fileId"].value == UNKNOWN


# -- the servicer: what the engine receives ------------------------------------------------------------------
class _Aborted(Exception):
    pass


class _Context:
    def __init__(self):
        self.aborted = None

    async def abort(self, code, details):
        self.aborted = (code, details)
        raise _Aborted(details)


class _Stub(p.Provider):
    def __init__(self, read=None, fail=None):
        self._read, self._fail = read, fail

    async def read(self, request):
        return self._read

    async def create(self, request):
        raise self._fail


def _servicer(provider):
    return Servicer([], "0.0.1", provider, engine_address="127.0.0.1:1")


def test_a_missing_object_reads_as_no_properties_at_all():
    # defect 3: an empty properties struct would make `pulumi import <missing id>` import an empty resource
    request = proto.ReadRequest(id="x", urn=URN.format(kind="TrainingFile", name="t"))
    response = run(_servicer(_Stub(read=p.ReadResponse())).Read(request, _Context()))
    assert response.id == "" and not response.HasField("properties") and not response.HasField("inputs")
    found = p.ReadResponse(resource_id="x", properties={"fileId": PropertyValue("x")}, inputs={})
    response = run(_servicer(_Stub(read=found)).Read(request, _Context()))
    assert response.id == "x" and response.HasField("properties")


class _Engine:
    """The engine's Log calls, as the plugin makes them."""

    def __init__(self):
        self.logs = []

    def Log(self, req):  # noqa: N802 - the EngineStub method name
        self.logs.append(req)


@pytest.mark.parametrize("error, message", [
    (ConfigurationError("training_file: no such file"), "ConfigurationError: trainingFile: no such file"),
    (ZeroDivisionError("division by zero"), "internal error of the aoai-finetune provider "
                                            "(ZeroDivisionError: division by zero); please report it with what "
                                            "`--debug` shows"),
])
def test_errors_reach_the_engine_as_one_message(error, message, capsys, monkeypatch):
    import pulumi.runtime.settings

    engine = _Engine()
    monkeypatch.setattr(pulumi.runtime.settings, "get_engine", lambda: engine)
    urn = URN.format(kind="FineTuningJob", name="j")
    request = proto.CreateRequest(urn=urn)
    context = _Context()
    with pytest.raises(_Aborted):
        run(_servicer(_Stub(fail=error)).Create(request, context))
    assert context.aborted == (grpc.StatusCode.UNKNOWN, message)
    assert "Traceback" not in context.aborted[1] and 'File "' not in context.aborted[1]
    # nothing on stderr: the engine shows every line a plugin writes there to the user (plugin.go's runtrace)
    assert capsys.readouterr().err == ""
    if isinstance(error, ConfigurationError):
        assert engine.logs == []
    else:  # a bug's traceback: on the debug channel only (`pulumi up --debug`), on the resource
        (log,) = engine.logs
        assert log.severity == proto.DEBUG and log.urn == urn
        assert log.message.startswith("Traceback") and "ZeroDivisionError: division by zero" in log.message


def test_the_engines_cancel_ends_every_wait():
    from fresh_python import run_fresh

    out = run_fresh(
        "import asyncio\n"
        "from pulumi_aoai_finetune import _wait\n"
        "from pulumi_aoai_finetune.adapters.plugin.provider import AoaiFinetuneProvider\n"
        "before = _wait.stop_requested()\n"
        "asyncio.run(AoaiFinetuneProvider('0.0.1').cancel())\n"
        "print(before, _wait.stop_requested())\n"
    )
    assert out == "False True"


def test_every_resource_of_the_schema_is_served():
    from pulumi_aoai_finetune import ids
    from pulumi_aoai_finetune.adapters.plugin.provider import controller_class

    for res in schema.RESOURCES:
        assert controller_class(res).resource is res
    evaluation = schema.resource("ModelEvaluation")
    with pytest.raises(ConfigurationError, match="ModelEvaluation cannot be imported"):
        ids.parse_import_id(evaluation, "x")
    assert ids.long_id(evaluation, "eval-1", {"resource_id": ACCOUNT}) == "eval-1"


def test_a_credential_in_clear_gets_a_warning_naming_the_key_never_the_value(tmp_path, monkeypatch):
    """The engine hands CheckConfig secret config unmarked: the stack's file tells a key set with
    --secret (`secure:`) from one set in clear."""
    import pulumi

    said = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: said.append(message))
    (tmp_path / "Pulumi.yaml").write_text("name: proj\nruntime: yaml\nstackConfigDir: config\n")
    (tmp_path / "config").mkdir()
    stack_file = tmp_path / "config" / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  aoai-finetune:apiKey: k-123\n  aoai-finetune:accessToken:\n"
                          "    secure: AAABAxyz\n")
    provider = AoaiFinetuneProvider("0.0.1", cwd=str(tmp_path))
    urn = "urn:pulumi:dev::proj::pulumi:providers:aoai-finetune::default"
    given = {"apiKey": PropertyValue("k-123"), "accessToken": PropertyValue("t-456")}
    response = run(provider.check_config(p.CheckRequest(urn, {}, given, b"")))
    assert response.failures == []
    assert len(said) == 1 and said[0].startswith("aoai-finetune:apiKey is set in stack config without --secret")
    assert "k-123" not in said[0] and "t-456" not in said[0]
    said.clear()
    stack_file.write_text("config:\n  aoai-finetune:apiKey:\n    secure: AAABAxyz\n")
    run(provider.check_config(p.CheckRequest(urn, {}, given, b"")))
    stack_file.unlink()  # no file (an environment, another tool): nothing to tell
    run(provider.check_config(p.CheckRequest(urn, {}, given, b"")))
    assert said == []
