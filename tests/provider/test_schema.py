"""The schema (pulumi_aoai_finetune.schema) against what the front ends and the controllers accept.

Strict on purpose: an input, output or setting added to a resource without its schema entry (or
the reverse) fails here, naming it. The checks:
- the Python dynamic API: keyword arguments, the props it registers, the outputs it annotates;
- the controllers: each input's change is a replacement or an in-place update as declared, the
  defaults check fills in, the required inputs, the output keys of a real create (against the
  emulator), the object types' keys;
- the provider settings.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import json
from typing import Any

import pulumi
import pytest

from pulumi_aoai_finetune import availability, clients, model_deployment, quality, schema, settings
from pulumi_aoai_finetune.account import AccountArgs
from pulumi_aoai_finetune.schema import (ANY, BOOLEAN, INTEGER, NUMBER, STRING, ListOf, MapOf, Object, OneOf,
                                         Primitive, RESOURCES)
from pulumi_aoai_finetune.settings import ProviderSettings

CONTROLLERS = {"TrainingFile": "TrainingFileController", "FineTuningJob": "FineTuningJobController",
               "ModelDeployment": "ModelDeploymentController", "ModelEvaluation": "ModelEvaluationController"}
IDS = [r.name for r in RESOURCES]


def module_of(res):
    return importlib.import_module(f"pulumi_aoai_finetune.{res.module}")


def controller(res, live=False):
    ctl = getattr(module_of(res), CONTROLLERS[res.name])(ProviderSettings())
    ctl.live_reads = live
    return ctl


def resource_class(res):
    return getattr(module_of(res), res.name)


# -- examples and changed values, from the schema's own types ----------------------------------------
def example(f: schema.Field) -> Any:
    if f.example is not None:
        return copy.deepcopy(f.example)
    if isinstance(f.type, Object):
        return {g.name: example(g) for g in f.type.fields if g.required or g.example is not None}
    return {STRING: "x", INTEGER: 1, NUMBER: 1.5, BOOLEAN: True, ANY: {"k": 1}}.get(f.type, "x")


def changed(value: Any, t: schema.Type) -> Any:
    if isinstance(t, Object):
        first = t.fields[0]
        return {**value, first.name: changed(value.get(first.name, example(first)), first.type)}
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "-changed"
    if isinstance(value, list):
        return value + value[:1]
    if isinstance(value, dict):
        return {**value, "changed": True}
    raise AssertionError(f"no changed value for {value!r}")


def baseline(res, tmp_path) -> dict:
    """Valid inputs using every input (those that exclude each other: the first)."""
    inputs = {f.name: example(f) for f in res.inputs}
    if res is schema.TRAINING_FILE:
        path = tmp_path / "train.jsonl"
        path.write_text("\n".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                          {"role": "assistant", "content": f"a{i}"}]})
                                  for i in range(12)) + "\n")
        inputs.update(path=str(path), project_dir=str(tmp_path), content_url=None, adopt_file_id=None, grader=None,
                      method=None, filename="train.jsonl")
    if res is schema.FINE_TUNING_JOB:
        inputs.update(adopt_job_id=None, method=None, training_type=None)
    if res is schema.MODEL_DEPLOYMENT:
        inputs.update(source_account=None, metrics=None, quality_gate=None, model="gpt-4o-mini-2024-07-18",
                      model_version="2024-07-18")
    if res is schema.MODEL_EVALUATION:
        path = tmp_path / "cases.jsonl"
        path.write_text(json.dumps({"messages": [{"role": "user", "content": "q"}], "expect": {"contains": "a"}}) + "\n")
        inputs.update(cases=str(path), project_dir=str(tmp_path), model_grader=None)
    for f in res.inputs:
        for obj in schema.walk_objects(f.type):
            assert obj.fields, obj.name
    return inputs


def state_of(res, inputs: dict) -> dict:
    """Old outputs as the state holds them: the inputs, the content hashes, the outputs."""
    olds = dict(inputs)
    for f in res.inputs:
        if f.replace == "content":
            olds[f.content_key] = "a" * 64
    for f in res.outputs:
        olds[f.name] = None
    return olds


# -- the Python dynamic API ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", IDS)
def test_python_keywords_are_the_schemas_inputs(name):
    res = schema.resource(name)
    params = set(inspect.signature(resource_class(res).__init__).parameters) - {"self", "resource_name", "opts"}
    declared = {f.name for f in res.inputs if f.python}
    assert params - declared == set(), f"{name}: Python keywords missing from the schema"
    assert declared - params == set(), f"{name}: schema inputs the Python API does not take"


@pytest.mark.parametrize("name", IDS)
def test_dynamic_props_are_inputs_outputs_and_state(name, monkeypatch):
    res = schema.resource(name)
    seen = {}

    def capture(self, provider, resource_name, props, opts=None):
        seen.update(props)

    monkeypatch.setattr(pulumi.dynamic.Resource, "__init__", capture)
    kwargs = {"account": AccountArgs(resource_id=schema.ACCOUNT_ID)}
    kwargs.update({"TrainingFile": {"path": "/data/t.jsonl", "project_dir": "/data"},
                   "FineTuningJob": {"base_model": "m", "training_file": "file-1"},
                   "ModelDeployment": {"model": "m"},
                   "ModelEvaluation": {"deployment_name": "d", "model": "m", "cases": "/data/cases.jsonl",
                                       "project_dir": "/data"}}[name])
    resource_class(res)("r", **kwargs)
    keys = set(seen) - {f.name for f in res.state}
    inputs, outputs = {f.name for f in res.inputs}, {f.name for f in res.outputs}
    assert keys - inputs - outputs == set(), f"{name}: registered props not in the schema"
    assert (inputs | outputs) - keys == set(), f"{name}: schema properties the Python API does not register"


@pytest.mark.parametrize("name", IDS)
def test_annotated_outputs(name):
    res = schema.resource(name)
    annotated = set(inspect.get_annotations(resource_class(res)))
    outputs = {f.name for f in res.outputs}
    assert outputs - annotated == set(), f"{name}: outputs without a typed attribute"
    assert annotated - outputs - {f.name for f in res.inputs if f.computed} == set()


@pytest.mark.parametrize("name", IDS)
def test_module_outputs_constant(name):
    res = schema.resource(name)
    declared = set(module_of(res).OUTPUTS)
    outputs = {f.name for f in res.outputs}
    assert outputs == declared - {f.name for f in res.inputs if f.computed}


# -- the controllers -------------------------------------------------------------------------------------
def diff_kind(res, olds, news) -> str:
    d = controller(res).diff("id-1", olds, news)
    return "replace" if d.replaces else "update" if d.updates else "none"


@pytest.mark.parametrize("name", IDS)
def test_each_input_changes_as_declared(name, tmp_path):
    res = schema.resource(name)
    inputs = baseline(res, tmp_path)
    olds = state_of(res, inputs)
    news = dict(olds)
    assert diff_kind(res, olds, news) == "none"
    for f in res.inputs:
        base = inputs[f.name] if inputs[f.name] is not None else example(f)
        olds_f = {**olds, f.name: base}
        news_f = {**olds_f, f.name: changed(base, f.type)}
        expected = "update" if f.replace == "content" else f.replace
        assert diff_kind(res, olds_f, news_f) == expected, f"{name}.{f.name}: a change should be {expected}"
        if f.replace == "content":
            news_f[f.content_key] = "b" * 64
            assert diff_kind(res, olds_f, news_f) == "replace", f"{name}.{f.name}: new content should replace"
        if f.replace == "replace" and not f.required and inputs[f.name] is None:
            # setting an input that was unset: a replacement too (e.g. a source account added)
            assert diff_kind(res, {**olds, f.name: None}, {**olds, f.name: base}) == "replace", f.name


@pytest.mark.parametrize("name", IDS)
def test_check_fills_in_the_declared_defaults(name, tmp_path):
    res = schema.resource(name)
    inputs = baseline(res, tmp_path)
    for f in res.inputs:
        if f.default is not None:
            inputs.pop(f.name)
    checked, failures = controller(res).check({}, inputs)
    assert failures == []
    for f in res.inputs:
        if f.default is not None:
            assert checked.get(f.name) == f.default, f"{name}.{f.name}: default {f.default!r}"


@pytest.mark.parametrize("name", IDS)
def test_required_inputs(name, tmp_path):
    res = schema.resource(name)
    inputs = baseline(res, tmp_path)
    assert controller(res).check({}, inputs)[1] == []
    for f in res.inputs:
        if f.required:
            failures = controller(res).check({}, {k: v for k, v in inputs.items() if k != f.name})[1]
            assert any(field == f.name for field, _ in failures), f"{name}.{f.name} is required"


def test_object_types_match_what_the_code_takes():
    assert {f.name for f in dataclasses.fields(AccountArgs)} == {f.name for f in schema.ACCOUNT.fields}
    assert {f.name for f in dataclasses.fields(quality.QualityGateArgs)} == {f.name for f in schema.QUALITY_GATE.fields}
    from pulumi_aoai_finetune import model_evaluation

    assert {f.name for f in dataclasses.fields(model_evaluation.ModelGraderArgs)} == \
        {f.name for f in schema.MODEL_GRADER.fields}
    assert set(model_evaluation.GRADER_KEYS) == {f.name for f in schema.MODEL_GRADER.fields}
    assert set(model_evaluation.RESULT_KEYS) == {f.name for f in schema.EVALUATION_RESULTS.fields}
    assert set(quality.KEYS) == {f.name for f in schema.QUALITY_GATE.fields}
    assert quality.FLAGS == {f.name: f.default for f in schema.QUALITY_GATE.fields if f.type is BOOLEAN}
    from pulumi_aoai_finetune import fine_tuning_job

    assert set(fine_tuning_job.HYPERPARAMETERS) == {f.name for f in schema.HYPERPARAMETERS.fields}
    # the sku takes exactly its declared keys, and its description names every sku the check accepts
    ctl = controller(schema.MODEL_DEPLOYMENT)
    sku = {f.name: f.default for f in schema.SKU.fields}
    base = {"account": {"resource_id": schema.ACCOUNT_ID}, "model": "gpt-4o-mini-2024-07-18", "deployment_name": "dep"}
    assert ctl.check({}, {**base, "sku": sku})[1] == []
    assert ctl.check({}, {**base, "sku": {**sku, "extra": 1}})[1]
    for name in model_deployment.SKUS:
        assert f"`{name}`" in schema.SKU.field("name").description
    for spelling in availability.TRAINING_TYPES.values():
        assert f"`{spelling}`" in schema.FINE_TUNING_JOB.input("training_type").description
    for option in model_deployment.VERSION_UPGRADE_OPTIONS:
        assert f"`{option}`" in schema.MODEL_DEPLOYMENT.input("version_upgrade_option").description


def test_settings_are_the_schemas():
    assert settings._KEYS == {s.name: (s.key, s.env) for s in schema.SETTINGS}
    assert set(settings.SECRET_FIELDS) == {s.name for s in schema.SETTINGS if s.secret}
    defaults = ProviderSettings()
    for s in schema.SETTINGS:
        if not s.secret:
            assert getattr(defaults, s.name) == s.default, s.name
    kinds = {f.name: f.type for f in dataclasses.fields(ProviderSettings)}
    for s in schema.SETTINGS:
        assert kinds[s.name] == {STRING: "str", BOOLEAN: "bool", NUMBER: "float", INTEGER: "int"}[s.type], s.name


def test_every_resource_and_property_is_described():
    for res in RESOURCES:
        assert len(res.description) > 40, res.name
        for f in res.inputs + res.outputs + res.state:
            assert f.description.strip().endswith((".", ")")), f"{res.name}.{f.name}"
            assert f.name == f.name.lower() and " " not in f.name
    for obj in schema.object_types().values():
        assert obj.description, obj.name
        for f in obj.fields:
            assert f.description, f"{obj.name}.{f.name}"
    for s in schema.SETTINGS:
        assert s.description and s.key == schema.camel(s.name)
    for res in RESOURCES:
        names = [f.name for f in res.inputs + res.outputs + res.state]
        assert len(names) == len(set(names)), res.name
        for f in res.inputs:
            if f.replace == "content":
                assert f.content_key in {g.name for g in res.state + res.inputs}, f.name


def test_types_are_well_formed():
    def ok(t):
        if isinstance(t, Primitive):
            return t.name in ("string", "integer", "number", "boolean", "any")
        if isinstance(t, (ListOf,)):
            return ok(t.items)
        if isinstance(t, MapOf):
            return ok(t.values)
        if isinstance(t, OneOf):
            return all(ok(o) for o in t.options)
        return isinstance(t, Object) and all(ok(f.type) for f in t.fields)

    for res in RESOURCES:
        for f in res.inputs + res.outputs + res.state:
            assert ok(f.type), f"{res.name}.{f.name}"


# -- what a real create returns (against the emulator) ---------------------------------------------------
@pytest.fixture
def emu(tmp_path, monkeypatch):
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    monkeypatch.setenv("AOAI_FT_ACCESS_TOKEN", "t")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=1000.0, accounts=(("aoai-ncus", "northcentralus"),))
    with EmulatorServer(config) as server:
        availability.clear_cache()
        clients._endpoints.clear()
        server.settings = ProviderSettings(arm_endpoint=server.base_url, credential="token",
                                           allow_insecure_loopback=True, poll_interval=0.05, max_retries=1)
        yield server
    availability.clear_cache()


def test_a_real_lifecycle_returns_exactly_the_declared_keys(emu, tmp_path):
    account = {"resource_id": AccountArgs.id_for(emu.config.subscription_id, emu.config.resource_group, "aoai-ncus")}

    def run(res, news):
        ctl = getattr(module_of(res), CONTROLLERS[res.name])(emu.settings)
        inputs, failures = ctl.check({}, news)
        assert failures == []
        id_, outs = ctl.create(inputs)
        declared = {f.name for f in res.inputs + res.outputs + res.state}
        assert set(outs) - declared == set(), f"{res.name}: outputs not in the schema"
        assert {f.name for f in res.outputs} - set(outs) == set(), f"{res.name}: declared outputs not returned"
        new_id, read = ctl.read(id_, outs)
        assert new_id == id_ and set(read) - declared == set()
        return outs

    base = baseline(schema.TRAINING_FILE, tmp_path)
    file = run(schema.TRAINING_FILE, {"account": account, "path": base["path"], "project_dir": str(tmp_path)})
    job = run(schema.FINE_TUNING_JOB, {"account": account, "base_model": "gpt-4o-mini-2024-07-18",
                                       "training_file": file["file_id"], "hyperparameters": {"n_epochs": 1},
                                       "seed": 42})  # deterministic training: the evaluation below fails some cases
    assert job["status"] == "succeeded" and job["checkpoints"]
    assert set(job["checkpoints"][0]) == {f.name for f in schema.CHECKPOINT.fields}
    assert set(job["resolved_hyperparameters"]) <= {f.name for f in schema.HYPERPARAMETERS.fields}
    dep = run(schema.MODEL_DEPLOYMENT, {"account": account, "model": job["fine_tuned_model"],
                                        "deployment_name": "schema-test"})
    assert set(dep["deployed_model"]) == {f.name for f in schema.DEPLOYED_MODEL.fields}
    assert set(dep["deployed_sku"]) == {f.name for f in schema.SKU.fields}
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps({"id": f"c{i}", "messages": [{"role": "user", "content": f"q{i}"}],
                                         "expect": {"contains": f"a{i}", "regex": "a"}}) + "\n" for i in range(3)))
    ev = run(schema.MODEL_EVALUATION, {"account": account, "deployment_name": "schema-test",
                                       "model": job["fine_tuned_model"], "cases": str(cases),
                                       "project_dir": str(tmp_path)})
    assert set(ev["results"]) == {f.name for f in schema.EVALUATION_RESULTS.fields}
    assert set(ev["usage"]) == {f.name for f in schema.EVALUATION_USAGE.fields}
    assert set(ev["failures"][0]) == {f.name for f in schema.EVALUATION_FAILURE.fields}
    assert {frozenset(g) for g in ev["graders"].values()} == {frozenset(f.name for f in schema.GRADER_COUNT.fields)}


def test_description_references_name_real_properties():
    import re

    names = {f.name for r in RESOURCES for f in r.inputs + r.outputs + r.state} | {s.name for s in schema.SETTINGS}
    names |= {f.name for o in schema.object_types().values() for f in o.fields}
    texts = [r.description for r in RESOURCES] + [o.description for o in schema.object_types().values()]
    texts += [f.description for r in RESOURCES for f in r.inputs + r.outputs + r.state]
    texts += [f.description for o in schema.object_types().values() for f in o.fields]
    texts += [s.description for s in schema.SETTINGS]
    for text in texts:
        for name in re.findall(r"\$([a-z][a-z0-9_]*)", text):
            assert name in names, f"${name} in {text!r}"
    assert schema.render("set $content_url", "camel") == "set `contentUrl`"
    assert schema.render("set $content_url", "snake") == "set `content_url`"
