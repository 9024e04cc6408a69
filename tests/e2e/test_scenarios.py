"""Scenarios of the provider issue under the real engine: failures, regions, checkpoints,
continuous fine-tuning, interruption, adoption, waiting choices."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import time

from openai import AzureOpenAI

from .conftest import set_clock, wait_until
from .harness import API_KEY, write_chat_jsonl

JOB_CREATE = r"/openai/fine_tuning/jobs$"
UPLOAD = r"/openai/files$"
DEPLOYMENT = r"/deployments/[^/]+$"


def openai_for(emulator, account="aoai-ncus") -> AzureOpenAI:
    return AzureOpenAI(azure_endpoint=emulator.backend.account_endpoint(account), api_key=API_KEY,
                       api_version="2024-10-21", max_retries=0)


def test_failed_job_fails_the_update_with_the_service_message(stack, base_spec, tmp_path):
    write_chat_jsonl(tmp_path / "train.jsonl", 12, marker="RAI-TRIGGER:violence,self_harm")
    stack.set_spec(base_spec)
    result = stack.up(check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "failed RAI checks for harm types" in text and "violence" in text
    assert stack.resources("job") == [] and stack.resources("ncus") == []
    assert stack.resources("train") != []  # the file itself is fine and stays


def test_undeployable_model_is_refused_with_the_evaluation_message(stack, base_spec, tmp_path):
    write_chat_jsonl(tmp_path / "train.jsonl", 12, marker="RAI-MODEL-TRIGGER:violence")
    stack.set_spec(base_spec)
    result = stack.up(check=False)
    assert result.returncode != 0
    assert "unable to be deployed" in result.stdout + result.stderr
    assert stack.resources("job") != [] and stack.resources("ncus") == []


def test_cross_region_deployment_with_source(stack, base_spec, requests_log):
    spec = copy.deepcopy(base_spec)
    spec["deployments"]["swc"] = {"account": "aoai-swc", "model": "job:job", "source": "aoai-ncus",
                                  "sku": {"name": "Standard", "capacity": 2}}
    # one deployment per fine-tuned model: the training region gets none in this stack
    del spec["deployments"]["ncus"]
    stack.set_spec(spec)
    stack.up()
    out = stack.outputs()
    dep = out["deployment_swc"]
    assert dep["state"] == "Succeeded"
    assert dep["model"]["name"] == out["job_fine_tuned_model"]
    assert dep["model"]["source"].endswith("/accounts/aoai-ncus")
    puts = requests_log.matching(requests_log.all(), "PUT", DEPLOYMENT)
    assert all("/accounts/aoai-swc/" in e["path"] for e in puts)


def test_checkpoint_deployment(stack, base_spec):
    spec = copy.deepcopy(base_spec)
    spec["deployments"]["ncus"]["model"] = "checkpoint:job:-2"
    stack.set_spec(spec)
    stack.up()
    out = stack.outputs()
    assert ":ckpt-step-" in out["deployment_ncus"]["model"]["name"]
    assert out["deployment_ncus"]["model"]["name"] == out["job_checkpoints"][-2]["model"]


def test_continuous_fine_tuning_from_a_fine_tuned_model(stack, base_spec, tmp_path):
    spec = copy.deepcopy(base_spec)
    spec["files"]["more"] = {"account": "aoai-ncus", "path": str(write_chat_jsonl(tmp_path / "more.jsonl", 15))}
    spec["jobs"]["job2"] = {"account": "aoai-ncus", "base_model": "job:job", "training_file": "more",
                            "hyperparameters": {"n_epochs": 2}, "suffix": "step2"}
    spec["deployments"]["ncus"]["model"] = "job:job2"
    stack.set_spec(spec)
    stack.up()
    out = stack.outputs()
    assert out["job2_status"] == "succeeded"
    assert out["job2_fine_tuned_model"] != out["job_fine_tuned_model"]
    assert out["deployment_ncus"]["model"]["name"] == out["job2_fine_tuned_model"]


def test_interrupted_up_attaches_to_the_running_job(stack, base_spec, requests_log, emulator, emu):
    spec = copy.deepcopy(base_spec)
    spec["jobs"]["job"]["hyperparameters"]["n_epochs"] = 8  # long enough to interrupt
    stack.set_spec(spec)
    proc = subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"], cwd=stack.project,
                            env=stack.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not requests_log.matching(requests_log.all(), "POST", JOB_CREATE):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    set_clock(emu, frozen=True)  # the job cannot end before it is looked at, however slow the machine
    os.killpg(proc.pid, signal.SIGKILL)  # the whole CLI and its provider processes
    proc.wait(timeout=30)
    status = openai_for(emulator).fine_tuning.jobs.list().data[0].status
    assert status not in ("succeeded", "failed", "cancelled")
    set_clock(emu, frozen=False)
    result = stack.up(check=False)
    if result.returncode != 0 and "locked" in result.stdout + result.stderr:
        stack.run("cancel", "--yes")
        result = stack.up()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1
    assert len(requests_log.matching(requests_log.all(), "POST", UPLOAD)) <= 2
    out = stack.outputs()
    assert out["job_status"] == "succeeded"
    assert "attaching to fine-tuning job" in result.stdout + result.stderr


def test_wait_timeout_then_next_up_attaches(stack, base_spec, requests_log, emu):
    spec = copy.deepcopy(base_spec)
    spec["jobs"]["job"]["hyperparameters"]["n_epochs"] = 50  # ~17 s: the 1 s timeout comes first
    spec["jobs"]["job"]["custom_timeouts"] = "1s"
    stack.set_spec(spec)
    result = stack.up(check=False)
    assert result.returncode != 0 and "still not done after 1 s" in result.stdout + result.stderr
    del spec["jobs"]["job"]["custom_timeouts"]
    stack.set_spec(spec)
    set_clock(emu, advance_seconds=6000)  # the job is done by now
    stack.up()
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1
    assert stack.outputs()["job_status"] == "succeeded"


def test_no_wait_then_refresh_reads_the_finished_job(stack, base_spec, emulator):
    spec = copy.deepcopy(base_spec)
    spec["jobs"]["job"]["wait"] = False
    spec["deployments"] = {}
    stack.set_spec(spec)
    stack.up()
    assert stack.outputs()["job_status"] in ("pending", "running", "validating_files", "queued")
    job_id = stack.outputs()["job_job_id"]
    client = openai_for(emulator)
    wait_until(lambda: client.fine_tuning.jobs.retrieve(job_id).status == "succeeded", timeout=60, what="the job")
    stack.refresh()  # updates the resource's state (stack outputs change on the next up)
    state = stack.resources("job")[0]["outputs"]
    assert state["status"] == "succeeded" and state["fine_tuned_model"] and len(state["checkpoints"]) == 3


def test_destroying_a_running_job_cancels_it(stack, base_spec, emulator, emu, requests_log):
    spec = copy.deepcopy(base_spec)
    # 50 epochs last ~17 s here; the clock stops as soon as `up` returns, so the job is still active
    # when `destroy` reads it, however slow the machine
    spec["jobs"]["job"].update(wait=False, hyperparameters={"n_epochs": 50})
    spec["deployments"] = {}
    stack.set_spec(spec)
    stack.up()
    set_clock(emu, frozen=True)
    job_id = stack.outputs()["job_job_id"]
    assert openai_for(emulator).fine_tuning.jobs.retrieve(job_id).status in ("pending", "running")
    stack.destroy()
    assert requests_log.matching(requests_log.all(), "POST", rf"/fine_tuning/jobs/{job_id}/cancel$")
    assert openai_for(emulator).fine_tuning.jobs.retrieve(job_id).status == "cancelled"


def test_delete_model_on_destroy_is_a_choice(stack, base_spec, emulator, requests_log):
    spec = copy.deepcopy(base_spec)
    spec["jobs"]["job"]["delete_model_on_destroy"] = True
    stack.set_spec(spec)
    stack.up()
    model = stack.outputs()["job_fine_tuned_model"]
    job_id = stack.outputs()["job_job_id"]
    result = stack.destroy()
    # rule D1: the model goes with its job (there is no DELETE /models), and its absence is confirmed
    log = requests_log.all()
    assert requests_log.matching(log, "DELETE", rf"/fine_tuning/jobs/{job_id}$")
    assert not requests_log.matching(log, "DELETE", r"/models/")
    assert requests_log.matching(log, "GET", r"/models/" + model.replace(".", r"\.") + "$")[-1]["status"] == 404
    assert f"deleted job {job_id} and its model {model}" in result.stdout + result.stderr
    ids = [m.id for m in openai_for(emulator).models.list()]
    assert model not in ids


def test_adopting_existing_file_and_job_reads_the_real_objects(stack, base_spec, emulator, requests_log, tmp_path):
    client = openai_for(emulator)
    with open(tmp_path / "train.jsonl", "rb") as fh:
        f = client.files.create(file=("adopted.jsonl", fh), purpose="fine-tune")
    wait_until(lambda: client.files.retrieve(f.id).status == "processed", timeout=30, what="the file")
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id, seed=5)
    spec = copy.deepcopy(base_spec)
    spec["files"]["train"] = {"account": "aoai-ncus", "path": str(tmp_path / "train.jsonl"), "adopt_file_id": f.id}
    spec["jobs"]["job"] = {"account": "aoai-ncus", "base_model": "gpt-4o-mini-2024-07-18", "training_file": "train",
                           "seed": 5, "adopt_job_id": job.id}
    stack.set_spec(spec)
    mark = requests_log.mark()
    stack.up()
    entries = requests_log.since(mark)
    assert not requests_log.matching(entries, "POST", UPLOAD)
    assert not requests_log.matching(entries, "POST", JOB_CREATE)
    out = stack.outputs()
    assert out["file_train"] == f.id and out["job_job_id"] == job.id and out["job_status"] == "succeeded"
    assert out["job_fine_tuned_model"] == client.fine_tuning.jobs.retrieve(job.id).fine_tuned_model


def test_deleted_model_is_noticed_and_trained_again(stack, base_spec, emulator, requests_log, emu):
    stack.set_spec(base_spec)
    stack.up()
    out = stack.outputs()
    resp = emu.delete(f"{out['deployment_ncus']['id']}?api-version=2025-06-01", headers={"Authorization": "Bearer x"})
    assert resp.status_code in (200, 202, 204)
    deadline = time.monotonic() + 30
    client = openai_for(emulator)
    while True:  # the deployment delete is a long-running operation; the model can go (with its job) once it is done
        try:
            client.delete(f"/fine_tuning/jobs/{out['job_job_id']}", cast_to=type(None))
            break
        except Exception:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    stack.refresh()
    assert stack.resources("job") == [] and stack.resources("ncus") == []
    stack.up()
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 2
    again = stack.outputs()
    assert again["job_fine_tuned_model"] != out["job_fine_tuned_model"]
    assert again["deployment_ncus"]["model"]["name"] == again["job_fine_tuned_model"]
