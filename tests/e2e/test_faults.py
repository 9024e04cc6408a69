"""Transient faults on every call the provider makes, under the real engine: retried with backoff
within ``aoai-finetune:maxRetries``, never creating twice (counted on the emulator, not inferred
from the outcome), and a fault that never clears ends in a clear error within a bounded time.

Faults are armed through ``/_emulator/faults``. ``after_handler`` faults let the request land (the
file or job really is created) and then lose the answer -- a dropped connection, or an answer held
past ``aoai-finetune:requestTimeout`` -- the cases where a naive retry would create twice.
"""

from __future__ import annotations

import copy
import re
import time

import httpx
import pytest

from .harness import write_chat_jsonl

UPLOAD = r"/openai/files$"
IMPORT = r"/openai/files/import$"
FILE = r"/openai/files/file-[^/]+$"
FILES = r"/openai/files$"
JOB_CREATE = r"/openai/fine_tuning/jobs$"
JOB = r"/openai/fine_tuning/jobs/ftjob-[^/]+$"
EVENTS = r"/openai/fine_tuning/jobs/ftjob-[^/]+/events$"
CHECKPOINTS = r"/openai/fine_tuning/jobs/ftjob-[^/]+/checkpoints$"
CONTENT = r"/openai/files/file-[^/]+/content$"
DEPLOYMENT = r"/deployments/[^/]+$"
OPERATION = r"/operationResults/[^/]+$"
BUSY = ("Another operation is being performed on the parent resource '/subscriptions/x/resourceGroups/y/providers/"
        "Microsoft.CognitiveServices/accounts/aoai-ncus'. Please try again later.")


def assert_all_fired(faults, armed: list[dict]) -> None:
    hits = {r["id"]: r["hits"] for r in faults.rules()}
    missed = [f"{r['method']} {r['path_regex']} {r.get('status') or ''}{' drop' if r['drop_connection'] else ''}"
              f"{' late' if r['delay_seconds'] else ''}: {hits[r['id']]}/{r['times']}"
              for r in armed if hits[r["id"]] != r["times"]]
    assert not missed, missed


def statuses(entries, method, pattern) -> list:
    from .conftest import RequestLog

    return [e["status"] for e in RequestLog.matching(entries, method, pattern)]


# -- emulator hooks the tests below rely on ----------------------------------------------------------------
def test_after_handler_faults_let_the_create_land_and_lose_the_answer(emulator, faults, inventory, tmp_path):
    url = f"{emulator.base_url}/accounts/aoai-ncus/openai/files?api-version=2024-10-21"
    faults.add(method="POST", path_regex=UPLOAD, drop_connection=True, after_handler=True)
    with pytest.raises(httpx.TransportError):
        httpx.post(url, headers={"api-key": "k"}, data={"purpose": "fine-tune"},
                   files={"file": ("t.jsonl", write_chat_jsonl(tmp_path / "t.jsonl").read_bytes())})
    assert len(inventory.files()) == 1  # it landed, the client never heard
    faults.add(method="POST", path_regex=UPLOAD, delay_seconds=2, after_handler=True)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(url, headers={"api-key": "k"}, data={"purpose": "fine-tune"}, timeout=0.5,
                   files={"file": ("t.jsonl", (tmp_path / "t.jsonl").read_bytes())})
    assert len(inventory.files()) == 2


# -- every call, one fault of each kind ---------------------------------------------------------------------
def test_transient_faults_on_every_call_are_retried_and_create_exactly_once(
        stack, base_spec, faults, inventory, requests_log, data_server, tmp_path):
    write_chat_jsonl(tmp_path / "valid.jsonl", 10, system="You are a helpful assistant!")
    spec = copy.deepcopy(base_spec)
    spec["files"]["valid"] = {"account": "aoai-ncus", "content_url": f"{data_server}/valid.jsonl"}  # an import
    spec["jobs"]["job"]["validation_file"] = "valid"
    stack.set_spec(spec)
    stack.config_set("aoai-finetune:requestTimeout", "2")
    late = dict(after_handler=True, delay_seconds=3)      # lands, answers after the client's 2 s timeout
    lost = dict(after_handler=True, drop_connection=True)  # lands, the connection drops before the answer
    armed = [
        # upload: throttled (Retry-After 1), unavailable, then it lands but the answer is lost
        faults.add(method="POST", path_regex=UPLOAD, status=429, retry_after=1),
        faults.add(method="POST", path_regex=UPLOAD, status=503),
        faults.add(method="POST", path_regex=UPLOAD, **lost),
        faults.add(method="GET", path_regex=FILES, status=500),          # the "did it land?" listing
        # import: a server error, then it lands but answers too late (a timeout)
        faults.add(method="POST", path_regex=IMPORT, status=500),
        faults.add(method="POST", path_regex=IMPORT, **late),
        # job create: throttled, then it lands but answers too late; then every job read
        faults.add(method="POST", path_regex=JOB_CREATE, status=429, retry_after=1),
        faults.add(method="POST", path_regex=JOB_CREATE, **late),
        faults.add(method="GET", path_regex=JOB_CREATE, status=503),     # the job listing (attach check)
        faults.add(method="GET", path_regex=JOB, status=500, times=2),
        faults.add(method="GET", path_regex=JOB, drop_connection=True),
        faults.add(method="GET", path_regex=JOB, status=429, retry_after=1),
        faults.add(method="GET", path_regex=JOB, **late),
        faults.add(method="GET", path_regex=EVENTS, status=503, times=2),
        faults.add(method="GET", path_regex=CHECKPOINTS, status=500),
        faults.add(method="GET", path_regex=CONTENT, drop_connection=True),
        # ARM: the read before create, the PUT (throttled, unavailable, lost), the LRO polls
        faults.add(method="GET", path_regex=DEPLOYMENT, status=503),
        faults.add(method="PUT", path_regex=DEPLOYMENT, status=429, retry_after=1),
        faults.add(method="PUT", path_regex=DEPLOYMENT, status=503),
        faults.add(method="PUT", path_regex=DEPLOYMENT, **lost),
        faults.add(method="GET", path_regex=OPERATION, status=500),
        faults.add(method="GET", path_regex=OPERATION, drop_connection=True),
        faults.add(method="GET", path_regex=OPERATION, **late),
    ]
    started = time.monotonic()
    stack.up()
    up_seconds = time.monotonic() - started

    # Every fault fired, and the up still converged with exactly one of each object.
    assert_all_fired(faults, armed)
    files, jobs, deployments = inventory.files(), inventory.jobs(), inventory.deployments()
    # each name carries its resource's owner marker (ownership.py) before the extension
    assert sorted(re.sub(r"\.aoaift-[0-9a-f-]+", "", f["filename"]) for f in files) == ["train.jsonl", "valid.jsonl"]
    assert len(jobs) == 1 and jobs[0]["status"] == "succeeded"
    assert len(deployments) == 1 and deployments[0]["properties"]["provisioningState"] == "Succeeded"
    out = stack.outputs()
    assert out["job_job_id"] == jobs[0]["id"] and out["deployment_ncus"]["state"] == "Succeeded"

    log = requests_log.all()
    assert statuses(log, "POST", UPLOAD) == [429, 503, "dropped"]  # the 4th attempt found the landed file
    assert statuses(log, "POST", IMPORT) == [500, 201]              # the late 201 was noticed, not re-sent
    assert statuses(log, "POST", JOB_CREATE) == [429, 201]          # likewise: attached, no second job
    puts = statuses(log, "PUT", DEPLOYMENT)
    assert puts[:3] == [429, 503, "dropped"] and set(puts[3:]) <= {200, 201, 409}
    # Retry-After is honoured: the upload after the 429 waited at least the second asked for.
    upload_posts = requests_log.matching(log, "POST", UPLOAD)
    assert upload_posts[1]["real_time"] - upload_posts[0]["real_time"] >= 1.0
    job_posts = requests_log.matching(log, "POST", JOB_CREATE)
    assert job_posts[1]["real_time"] - job_posts[0]["real_time"] >= 1.0
    def describe(e):  # what the client saw: an injected status, "dropped", or an answer it gave up on
        return f"{e['status']} late" if e["fault"] and e.get("served") == e["status"] else e["status"]

    seen = {what: [describe(e) for e in requests_log.matching(log, method, pattern)] for what, method, pattern in (
        ("upload", "POST", UPLOAD), ("import", "POST", IMPORT), ("job create", "POST", JOB_CREATE),
        ("job list", "GET", JOB_CREATE), ("job get", "GET", JOB), ("events", "GET", EVENTS),
        ("checkpoints", "GET", CHECKPOINTS), ("results", "GET", CONTENT), ("ARM GET", "GET", DEPLOYMENT),
        ("ARM PUT", "PUT", DEPLOYMENT), ("LRO poll", "GET", OPERATION))}
    print(f"\n[faults] {len(armed)} rules, {sum(r['times'] for r in armed)} faults, up in {up_seconds:.1f} s")
    for what, codes in seen.items():
        print(f"[faults]   {what}: {codes}")

    # Refresh under faults on every read: nothing is mistaken for gone, nothing changes.
    refresh_faults = [faults.add(method="GET", path_regex=FILE, status=503, times=2),
                      faults.add(method="GET", path_regex=FILE, drop_connection=True),
                      faults.add(method="GET", path_regex=JOB, status=500),
                      faults.add(method="GET", path_regex=r"/openai/models/", status=503),
                      faults.add(method="GET", path_regex=DEPLOYMENT, status=503),
                      faults.add(method="GET", path_regex=DEPLOYMENT, drop_connection=True)]
    before = {r["urn"]: r["outputs"] for r in stack.resources()}
    stack.refresh()
    assert_all_fired(faults, refresh_faults)
    after = {r["urn"]: r["outputs"] for r in stack.resources()}
    assert after.keys() == before.keys()
    assert all(after[u]["status" if "status" in after[u] else "provisioning_state"] ==
               before[u]["status" if "status" in before[u] else "provisioning_state"] for u in after)

    # Destroy under faults: the DELETE is lost once (it landed: ARM is busy deleting) and fails once.
    delete_faults = [faults.add(method="DELETE", path_regex=DEPLOYMENT, status=503),
                     faults.add(method="DELETE", path_regex=DEPLOYMENT, **lost),
                     faults.add(method="DELETE", path_regex=FILE, status=500)]
    stack.destroy()
    assert_all_fired(faults, delete_faults)
    assert inventory.deployments() == [] and inventory.files() == []
    assert stack.resources() == []


def test_faults_that_never_clear_fail_within_the_bound_and_the_next_up_converges(
        stack, base_spec, faults, inventory, requests_log):
    stack.set_spec(base_spec)
    stack.config_set("aoai-finetune:maxRetries", "1")  # 2 attempts per call: the bound, kept short here
    stack.config_set("aoai-finetune:pollInterval", "0.05")
    timings, seen = {}, {}

    def failing_up(name: str) -> str:
        started = time.monotonic()
        result = stack.up(check=False)
        timings[name] = time.monotonic() - started
        assert result.returncode != 0
        text = result.stdout + result.stderr
        seen[name] = next((line.strip() for line in text.splitlines() if "Error:" in line), "")
        return text

    # The upload never succeeds: two attempts, a clear error, nothing created.
    faults.add(method="POST", path_regex=UPLOAD, status=503, times=None)
    text = failing_up("upload")
    assert "uploading" in text and "[503 ServiceUnavailable]" in text and "gave up after 2 attempt(s)" in text
    assert len(requests_log.matching(requests_log.all(), "POST", UPLOAD)) == 2
    assert inventory.counts() == (0, 0, 0) and stack.resources("train") == []

    # The job's status can never be read: the wait gives up after 11 failed reads in a row.
    faults.clear()
    faults.add(method="GET", path_regex=JOB, status=500, times=None)
    text = failing_up("job reads")
    assert "reading job ftjob-" in text and "gave up after 11 failed reads in a row" in text
    assert inventory.counts() == (1, 1, 0) and stack.resources("job") == []

    # ARM never accepts the deployment: the job is attached (no second run), the PUT gives up.
    faults.clear()
    faults.add(method="PUT", path_regex=DEPLOYMENT, status=503, times=None)
    text = failing_up("deployment")
    assert "creating deployment ncus in aoai-ncus" in text and "[503 ServiceUnavailable]" in text
    assert "attaching to fine-tuning job" in text
    assert len(requests_log.matching(requests_log.all(), "PUT", DEPLOYMENT)) == 2
    assert inventory.counts() == (1, 1, 0)

    # The faults clear: the next up converges with one file, one job, one deployment.
    faults.clear()
    stack.up()
    assert inventory.counts() == (1, 1, 1)
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1
    assert stack.outputs()["deployment_ncus"]["state"] == "Succeeded"
    print("\n[never-clearing faults] seconds per failing up: "
          + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    for name, line in seen.items():
        print(f"[never-clearing faults]   {name}: {line}")
    assert all(v < 60 for v in timings.values()), timings


def test_ten_deployments_on_one_account_in_one_up_survive_arm_409(stack, emulator, faults, inventory, requests_log):
    spec = {"subscription": emulator.config.subscription_id, "resource_group": emulator.config.resource_group,
            "deployments": {f"chat-{i}": {"account": "aoai-ncus", "model": "gpt-4o-mini", "model_version": "2024-07-18",
                                          "sku": {"name": "Standard", "capacity": 1}} for i in range(10)}}
    stack.set_spec(spec)
    conflict = faults.add(method="PUT", path_regex=DEPLOYMENT, status=409, code="RequestConflict", message=BUSY,
                          times=4)
    started = time.monotonic()
    stack.up()
    seconds = time.monotonic() - started
    assert faults.hits(conflict) == 4
    deployments = inventory.deployments()
    assert len(deployments) == 10
    assert all(d["properties"]["provisioningState"] == "Succeeded" for d in deployments)
    out = stack.outputs()
    assert all(out[f"deployment_chat-{i}"]["state"] == "Succeeded" for i in range(10))
    puts = requests_log.matching(requests_log.all(), "PUT", DEPLOYMENT)
    injected = [p for p in puts if p["fault"] == conflict["id"]]
    real_409 = [p for p in puts if p["status"] == 409 and p["fault"] is None]
    assert len(injected) == 4 and len(puts) - len(injected) - len(real_409) == 10
    print(f"\n[409] 10 deployments, 4 injected + {len(real_409)} real 409s, up in {seconds:.1f} s")


def test_two_stacks_deploying_to_one_account_at_once_both_succeed_through_real_409s(tmp_path, pulumi_bin):
    """Per-account serialization lives in one provider process; two `pulumi up` processes (two stacks,
    two pipelines) on one account meet the service's own rule instead: ARM answers 409 "another
    operation" to the second, which retries until the first is done."""
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    from .conftest import start_up
    from .harness import Stack

    # base-model deployments of ~4 real seconds each, so the two ups overlap
    config = EmulatorConfig(state_dir=tmp_path / "emulator-state", time_scale=60.0,
                            accounts=(("aoai-ncus", "northcentralus"),), extra={"deployment_create_seconds": 240})
    with EmulatorServer(config) as emulator:
        stacks = []
        for i in (1, 2):
            stack = Stack(tmp_path / f"team-{i}", pulumi_bin, emulator.base_url)
            stack.set_spec({"subscription": config.subscription_id, "resource_group": config.resource_group,
                            "deployments": {f"team-{i}": {"account": "aoai-ncus", "model": "gpt-4o-mini",
                                                          "model_version": "2024-07-18",
                                                          "sku": {"name": "Standard", "capacity": 1}}}})
            stacks.append(stack)
        procs = [start_up(stack) for stack in stacks]
        outs = [proc.communicate(timeout=300)[0] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outs
        log = emulator.backend.faults.requests()
        puts = [e for e in log if e["method"] == "PUT" and re.search(DEPLOYMENT, e["path"])]
        conflicts = [e for e in puts if e["status"] == 409]
        assert conflicts, "the two ups did not overlap: no 409 to survive"
        assert len([e for e in puts if e["status"] in (200, 201)]) == 2
        deployments = emulator.backend.store["deployments"]
        assert {k: d["provisioningState"] for k, d in deployments.items()} == {
            "aoai-ncus/team-1": "Succeeded", "aoai-ncus/team-2": "Succeeded"}
        assert all(s.outputs()[f"deployment_team-{i}"]["state"] == "Succeeded" for i, s in enumerate(stacks, 1))
    print(f"\n[two processes] {len(conflicts)} real 409s survived; both deployments succeeded")
