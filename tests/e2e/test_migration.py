"""A real stack created with the dynamic resources moves to the plugin's by aliases (README: "Moving a
stack to the plugin"): the preview replaces nothing, nothing is trained or deployed again, and after a
refresh the state holds the plugin's resources only."""

from __future__ import annotations

import json

from .harness import Stack, write_chat_jsonl
from .test_examples import account_id

JOB_CREATE = r"/openai/fine_tuning/jobs$"
DEPLOYMENT_PUT = r"/deployments/[^/]+$"
UPLOAD = r"/openai/files$"


def test_a_dynamic_stack_moves_to_the_plugin_without_replacing_anything(tmp_path, pulumi_bin, emulator,
                                                                         requests_log):
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="migration", plugin=True)
    (stack.project / "data").mkdir()
    write_chat_jsonl(stack.project / "data" / "train.jsonl", 12)
    stack.config_set("test:account", account_id(emulator, "aoai-ncus"))
    stack.config_set("test:stage", "dynamic")
    stack.up()
    before = stack.outputs()
    assert {r["type"] for r in stack.resources()} == {f"pulumi-python:dynamic/aoai:{k}" for k in
                                                     ("TrainingFile", "FineTuningJob", "ModelDeployment")}

    stack.config_set("test:stage", "plugin")
    preview = stack.preview_json()
    ops = {s["urn"].split("::")[-2]: s["op"] for s in preview["steps"] if "aoai" in s["urn"]}
    assert set(ops.values()) <= {"same", "update"}, ops  # no replacement, no create, no delete
    mark = requests_log.mark()
    stack.up()
    since = requests_log.since(mark)
    for method, pattern in (("POST", UPLOAD), ("POST", JOB_CREATE), ("PUT", DEPLOYMENT_PUT)):
        assert requests_log.matching(since, method, pattern) == [], pattern  # nothing uploaded, trained, deployed
    assert stack.outputs() == before

    stack.refresh()
    state = stack.export()["deployment"]["resources"]
    ours = [r for r in state if "aoai" in r["type"] and not r["type"].startswith("pulumi:providers:")]
    assert {r["type"] for r in ours} == {f"aoai-finetune:index:{k}" for k in
                                         ("TrainingFile", "FineTuningJob", "ModelDeployment")}
    assert not any("__provider" in json.dumps(r.get("outputs", {})) for r in ours)
    assert not any(r["type"] == "pulumi:providers:pulumi-python" for r in state)
    result = stack.preview()
    assert "4 unchanged" in result.stdout, result.stdout
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1
