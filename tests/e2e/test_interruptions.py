"""Interruptions under the real engine: `pulumi up` killed at each phase, jobs that fail or are
cancelled outside Pulumi, a deployment that ends Failed, the emulator restarted mid-run. After each,
the stack's state matches what exists (``pulumi refresh --expect-no-changes``) and the next
`pulumi up` converges with exactly one file, one job and one deployment per region, counted on the
emulator."""

from __future__ import annotations

import copy
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from openai import AzureOpenAI

from .conftest import Inventory, kill_when, set_clock, start_up, up_after_kill, wait_until
from .harness import API_KEY, REPO, Stack, write_chat_jsonl

UPLOAD = r"/openai/files$"
JOB_CREATE = r"/openai/fine_tuning/jobs$"
JOB = r"/openai/fine_tuning/jobs/ftjob-[^/]+$"
OPERATION = r"/operationResults/[^/]+$"


def two_regions(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    spec["deployments"]["swc"] = {"account": "aoai-swc", "model": "job:job", "source": "aoai-ncus",
                                  "sku": {"name": "Standard", "capacity": 1}}
    return spec


def state_matches_reality(stack: Stack) -> None:
    """A refresh finds nothing to change: every resource in the state exists as recorded."""
    stack.run("refresh", "--yes", "--skip-preview", "--expect-no-changes")


def unlock(stack: Stack) -> None:
    """A killed run leaves the backend's lock: `pulumi cancel`, as a user would (no-op when unlocked)."""
    stack.run("cancel", "--yes", check=False)


def test_up_killed_at_each_phase_converges_with_one_of_each(stack, base_spec, emulator, emu, faults, inventory,
                                                            requests_log):
    spec = two_regions(base_spec)
    spec["jobs"]["job"]["hyperparameters"]["n_epochs"] = 25  # long enough to be killed while waiting
    stack.set_spec(spec)
    kills = []

    # 1. During the upload (the service holds the request for 3 s).
    slow = faults.add(method="POST", path_regex=UPLOAD, delay_seconds=3)
    proc = start_up(stack)
    kill_when(proc, lambda: faults.hits(slow) == 1, what="the upload")
    kills.append("upload")
    # the held request resumes: its bytes had arrived, so the file is stored, orphaned; the emulator
    # logs the request once it has answered it (to nobody)
    wait_until(lambda: requests_log.matching(requests_log.all(), "POST", UPLOAD), what="the held upload")
    landed, jobs, deployments = inventory.counts()
    assert (jobs, deployments) == (0, 0) and landed <= 1

    # 2. Right after the job was created.
    unlock(stack)
    proc = start_up(stack)
    out = kill_when(proc, lambda: requests_log.matching(requests_log.all(), "POST", JOB_CREATE),
                    what="the job create")
    kills.append("job created")
    assert inventory.counts() == (1, 1, 0)  # the orphaned upload was reused, not uploaded again
    assert not landed or "reusing file" in out

    # 3. While waiting for the job: it runs, with progress read. The clock stands still meanwhile
    # (past the queue), so the job is still running when the next up reads it, however slow the machine.
    set_clock(emu, frozen=True, advance_seconds=120)
    unlock(stack)
    mark = requests_log.mark()
    proc = start_up(stack)
    kill_when(proc, lambda: len(requests_log.matching(requests_log.since(mark), "GET", JOB)) >= 3,
              what="the wait")
    kills.append("waiting")
    job = inventory.jobs()[0]
    assert job["status"] == "running", job["status"]
    set_clock(emu, frozen=False)

    # 4. During the deployment: the long-running operation's poll is held.
    unlock(stack)
    held = faults.add(method="GET", path_regex=OPERATION, delay_seconds=5)
    proc = start_up(stack)
    kill_when(proc, lambda: faults.hits(held) == 1, timeout=180, what="the deployment")
    kills.append("deploying")
    faults.clear()

    # 5. The next up converges: exactly one file, one job, one deployment per region.
    result = up_after_kill(stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert inventory.counts("aoai-ncus") == (1, 1, 1)
    assert len(inventory.deployments("aoai-swc")) == 1
    log = requests_log.all()
    assert len(requests_log.matching(log, "POST", JOB_CREATE)) == 1
    assert len([e for e in requests_log.matching(log, "POST", UPLOAD) if e["status"] in (201, None)]) == 1
    out = stack.outputs()
    assert out["job_job_id"] == job["id"] and out["job_status"] == "succeeded"
    assert out["deployment_ncus"]["state"] == "Succeeded" and out["deployment_swc"]["state"] == "Succeeded"
    state_matches_reality(stack)
    print(f"\n[kills] {', '.join(kills)}: converged with 1 file, 1 job, 1 deployment per region "
          f"(the upload killed in flight {'landed and was reused' if landed else 'did not land'})")


def test_an_import_killed_in_flight_is_recognised_by_its_content_an_hour_later(stack, base_spec, emulator, emu,
                                                                               faults, inventory, requests_log,
                                                                               data_server, tmp_path):
    """The import lands but `pulumi up` is killed before the answer; an hour later (emulator clock) the
    next up finds the imported file by the content hash the preview read from the URL: no second import."""
    write_chat_jsonl(tmp_path / "valid.jsonl", 10, system="You are a helpful assistant!")
    spec = copy.deepcopy(base_spec)
    spec["files"] = {"valid": {"account": "aoai-ncus", "content_url": f"{data_server}/valid.jsonl?sig=e2e"}}
    spec["jobs"], spec["deployments"] = {}, {}
    stack.set_spec(spec)
    held = faults.add(method="POST", path_regex=r"/openai/files/import$", after_handler=True, delay_seconds=8)
    proc = start_up(stack)
    kill_when(proc, lambda: faults.hits(held) == 1 and inventory.files(), what="the import to land")
    faults.clear()
    # the held answer goes out to nobody; the emulator logs the request then
    wait_until(lambda: requests_log.matching(requests_log.all(), "POST", r"/openai/files/import$"),
               what="the held import")
    (landed,) = inventory.files()
    set_clock(emu, advance_seconds=3600)
    result = up_after_kill(stack)
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout + result.stderr
    assert f"reusing file {landed['id']}" in text and "no second import" in text
    assert [f["id"] for f in inventory.files()] == [landed["id"]]
    assert len(requests_log.matching(requests_log.all(), "POST", r"/openai/files/import$")) == 1
    assert stack.outputs()["file_valid"] == landed["id"]


def test_job_failing_mid_run_leaves_true_state_and_the_fixed_data_converges(stack, base_spec, inventory, tmp_path):
    write_chat_jsonl(tmp_path / "train.jsonl", 12, marker="FAIL-TRIGGER")
    stack.set_spec(base_spec)
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0 and "failed due to an internal error during training" in text
    assert "TrainingFailedError" in text
    assert [r["urn"].split("::")[-1] for r in stack.resources()] == ["train"]  # no job, no deployment
    assert [j["status"] for j in inventory.jobs()] == ["failed"] and inventory.deployments() == []
    state_matches_reality(stack)

    write_chat_jsonl(tmp_path / "train.jsonl", 12)  # the data fixed: a new file, a new run
    stack.up()
    assert sorted(j["status"] for j in inventory.jobs()) == ["failed", "succeeded"]
    assert len(inventory.files()) == 1 and len(inventory.deployments()) == 1
    state_matches_reality(stack)


def test_job_cancelled_outside_then_deployment_failed_then_converges(stack, base_spec, emulator, emu, faults,
                                                                    inventory, requests_log):
    spec = copy.deepcopy(base_spec)
    spec["jobs"]["job"]["hyperparameters"]["n_epochs"] = 25
    stack.set_spec(spec)
    client = AzureOpenAI(azure_endpoint=emulator.backend.account_endpoint("aoai-ncus"), api_key=API_KEY,
                         api_version="2024-10-21", max_retries=0)
    proc = start_up(stack)
    deadline = time.monotonic() + 60
    while not (inventory.jobs() and inventory.jobs()[0]["status"] == "running"):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    set_clock(emu, frozen=True)  # it cannot end before the cancel, however slow the machine
    client.fine_tuning.jobs.cancel(inventory.jobs()[0]["id"])  # someone cancels it in the portal
    set_clock(emu, frozen=False)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "was cancelled (outside Pulumi)" in out
    assert stack.resources("job") == [] and stack.resources("ncus") == []
    state_matches_reality(stack)

    # The next up trains again (the cancelled run is never attached to) and the deployment ends Failed.
    spec["jobs"]["job"]["hyperparameters"]["n_epochs"] = 3
    stack.set_spec(spec)
    failing = faults.add(method="PUT", path_regex=r"/deployments/ncus$", fail_operation=True,
                         message="Injected fault: capacity could not be allocated.")
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0 and faults.hits(failing) == 1
    assert "deployment ncus in aoai-ncus" in text and "capacity could not be allocated" in text
    assert stack.resources("job") != [] and stack.resources("ncus") == []
    assert inventory.deployments() == []  # the failed deployment was removed, not left half-made
    state_matches_reality(stack)

    stack.up()
    assert sorted(j["status"] for j in inventory.jobs()) == ["cancelled", "succeeded"]
    assert inventory.counts() == (1, 2, 1)
    assert stack.outputs()["deployment_ncus"]["state"] == "Succeeded"
    state_matches_reality(stack)


# -- the emulator restarted during `pulumi up` ---------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_emulator(port: int, state_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "aoai-ft"), "emulator", "--port", str(port), "--state-dir", str(state_dir),
         "--time-scale", "300", "--account", "aoai-ncus=northcentralus", "--account", "aoai-swc=swedencentral"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    line = proc.stdout.readline()
    assert line.startswith("emulator ready:"), line + (proc.stdout.read() if proc.poll() is not None else "")
    return proc


def test_emulator_restart_during_up_keeps_state_and_up_converges(tmp_path, pulumi_bin):
    port, state_dir = _free_port(), tmp_path / "emulator-state"
    emulator = _start_emulator(port, state_dir)
    try:
        url = f"http://127.0.0.1:{port}"
        inventory = Inventory(url, "00000000-0000-0000-0000-000000000000", "aoai-emulator")
        data = write_chat_jsonl(tmp_path / "train.jsonl", 12)
        spec = {"subscription": inventory.sub, "resource_group": inventory.rg,
                "files": {"train": {"account": "aoai-ncus", "path": str(data)}},
                "jobs": {"job": {"account": "aoai-ncus", "base_model": "gpt-4o-mini-2024-07-18", "training_file": "train",
                                 "hyperparameters": {"n_epochs": 12}, "suffix": "restart", "seed": 1}},
                "deployments": {"ncus": {"account": "aoai-ncus", "model": "job:job"},
                                "swc": {"account": "aoai-swc", "model": "job:job", "source": "aoai-ncus"}}}
        stack = Stack(tmp_path / "pulumi", pulumi_bin, url)
        stack.set_spec(spec)
        proc = start_up(stack)
        deadline = time.monotonic() + 60
        while not (inventory.jobs() and inventory.jobs()[0]["status"] == "running"):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        os.killpg(emulator.pid, signal.SIGKILL)  # a crash: no graceful save (state is saved on every change)
        emulator.wait(timeout=10)
        down = time.monotonic()
        time.sleep(3)  # down for a while: calls meet a refused connection
        emulator = _start_emulator(port, state_dir)
        downtime = time.monotonic() - down
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out  # the provider's retries rode out the restart
        assert inventory.counts("aoai-ncus") == (1, 1, 1) and len(inventory.deployments("aoai-swc")) == 1
        assert inventory.jobs()[0]["status"] == "succeeded"
        state_matches_reality(stack)
        print(f"\n[restart] emulator down {downtime:.1f} s during the job wait; up succeeded")
    finally:
        os.killpg(emulator.pid, signal.SIGTERM)
        emulator.wait(timeout=10)
