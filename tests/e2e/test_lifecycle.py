"""The provider's lifecycle under the real Pulumi engine, against the emulator."""

from __future__ import annotations

import base64
import copy
import json

from .harness import ACCESS_TOKEN, API_KEY, write_chat_jsonl

JOB_CREATE = r"/openai/fine_tuning/jobs$"
UPLOAD = r"/openai/files$"
DEPLOYMENT = r"/deployments/[^/]+$"


def test_up_trains_and_deploys_then_noop_then_destroy(stack, base_spec, requests_log, emu):
    stack.set_spec(base_spec)
    stack.up()
    out = stack.outputs()
    assert out["file_train"].startswith("file-")
    assert out["job_status"] == "succeeded"
    model = out["job_fine_tuned_model"]
    assert model.startswith("gpt-4o-mini-2024-07-18.ft-")
    assert len(out["job_checkpoints"]) == 3 and all(c["model"] for c in out["job_checkpoints"])
    assert out["job_metrics"]["final_train_loss"] is not None
    assert out["job_trained_tokens"] > 0
    dep = out["deployment_ncus"]
    assert dep["state"] == "Succeeded" and dep["model"]["name"] == model and dep["sku"]["capacity"] == 1

    # A second `pulumi up` with nothing changed: no change, and not one write call.
    mark = requests_log.mark()
    result = stack.up()
    assert "unchanged" in result.stdout and "+ " not in result.stdout.split("Resources:")[-1]
    assert requests_log.writes(requests_log.since(mark)) == []

    # Destroy: deployment deleted, files deleted, model kept (the default).
    stack.destroy()
    after = requests_log.all()
    assert requests_log.matching(after, "DELETE", DEPLOYMENT)
    assert requests_log.matching(after, "DELETE", r"/openai/files/file-")
    assert emu.get("/_emulator/health").status_code == 200
    assert stack.resources() == []


def test_no_credential_reaches_state_outputs_or_logs(stack, base_spec):
    stack.set_spec(base_spec)
    stack.up()
    stack.up()
    for secrets in (False, True):
        exported = json.dumps(stack.export(show_secrets=secrets))
        assert API_KEY not in exported and ACCESS_TOKEN not in exported
    assert API_KEY not in json.dumps(stack.outputs())
    assert API_KEY not in stack.all_logs() and ACCESS_TOKEN not in stack.all_logs()
    # the serialized providers (base64 dill pickles) hold nothing but a class reference
    providers = [r["inputs"]["__provider"] for r in stack.export(show_secrets=True)["deployment"]["resources"]
                 if "__provider" in r.get("inputs", {})]
    assert len(providers) == 3
    for blob in providers:
        raw = base64.b64decode(blob if isinstance(blob, str) else blob["plaintext"].strip('"'))
        assert API_KEY.encode() not in raw and ACCESS_TOKEN.encode() not in raw
        assert b"pulumi_aoai_finetune" in raw and len(raw) < 200


def test_capacity_change_updates_in_place(stack, base_spec, requests_log):
    stack.set_spec(base_spec)
    stack.up()
    before = stack.outputs()["deployment_ncus"]["id"]
    spec = copy.deepcopy(base_spec)
    spec["deployments"]["ncus"]["sku"]["capacity"] = 3
    stack.set_spec(spec)
    preview = stack.preview()
    assert "~ " in preview.stdout and "replace" not in preview.stdout
    mark = requests_log.mark()
    stack.up()
    entries = requests_log.since(mark)
    assert requests_log.matching(entries, "PUT", DEPLOYMENT)
    assert not requests_log.matching(entries, "DELETE", DEPLOYMENT)
    assert not requests_log.matching(entries, "POST", JOB_CREATE)
    out = stack.outputs()["deployment_ncus"]
    assert out["id"] == before and out["sku"]["capacity"] == 3


def test_data_change_replaces_file_and_retrains_visibly(stack, base_spec, requests_log, tmp_path):
    stack.set_spec(base_spec)
    stack.up()
    first = stack.outputs()
    write_chat_jsonl(tmp_path / "train.jsonl", 14)
    preview = stack.preview()
    assert "+-" in preview.stdout or "replace" in preview.stdout
    assert "FineTuningJob" in preview.stdout or "job" in preview.stdout
    mark = requests_log.mark()
    stack.up()
    entries = requests_log.since(mark)
    assert len(requests_log.matching(entries, "POST", UPLOAD)) == 1
    assert len(requests_log.matching(entries, "POST", JOB_CREATE)) == 1
    second = stack.outputs()
    assert second["file_train"] != first["file_train"]
    assert second["job_fine_tuned_model"] != first["job_fine_tuned_model"]
    assert second["deployment_ncus"]["model"]["name"] == second["job_fine_tuned_model"]


def test_renamed_path_with_same_content_does_not_retrain(stack, base_spec, requests_log, tmp_path):
    stack.set_spec(base_spec)
    stack.up()
    moved = tmp_path / "renamed.jsonl"
    moved.write_bytes((tmp_path / "train.jsonl").read_bytes())
    spec = copy.deepcopy(base_spec)
    spec["files"]["train"]["path"] = str(moved)
    stack.set_spec(spec)
    mark = requests_log.mark()
    stack.up()
    assert requests_log.writes(requests_log.since(mark)) == []


def test_refresh_notices_a_deleted_deployment_and_up_redeploys_without_training(stack, base_spec, requests_log, emu, emulator):
    stack.set_spec(base_spec)
    stack.up()
    dep_id = stack.outputs()["deployment_ncus"]["id"]
    resp = emu.delete(f"{dep_id}?api-version=2025-06-01", headers={"Authorization": "Bearer x"})
    assert resp.status_code in (200, 202, 204)
    stack.refresh()
    assert stack.resources("ncus") == []
    assert stack.resources("job") != []
    mark = requests_log.mark()
    stack.up()
    entries = requests_log.since(mark)
    assert requests_log.matching(entries, "PUT", DEPLOYMENT)
    assert not requests_log.matching(entries, "POST", JOB_CREATE)
    assert stack.outputs()["deployment_ncus"]["state"] == "Succeeded"
