"""The team setup under the real engine: the stacks' state in Azure Blob Storage (Azurite), shared by
several people. The promotion flow (dev trains and deploys; staging reads dev through the
StackReference and deploys after the gate), a second `up` of a stack while one runs (Pulumi's lock),
two stacks at once on the shared backend, and a stale lock cleared with `pulumi cancel`."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess

import yaml
from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

from .conftest import RequestLog, set_clock, start_up, wait_until
from .harness import ACCESS_TOKEN, API_KEY, REPO, Stack

JOB_CREATE = r"/openai/fine_tuning/jobs$"
LOCKED = "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or " \
         "delete the lock file with `pulumi cancel`."


def local_pipeline() -> dict:
    return yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]


def dev_pipeline(**hyperparameters) -> dict:
    pipeline = copy.deepcopy(local_pipeline())
    pipeline["training"]["hyperparameters"].update(hyperparameters)
    pipeline["deployments"] = [{"account": "ncus", "name": "support-dev", "sku": {"name": "Standard", "capacity": 1}}]
    return pipeline


def staging_pipeline() -> dict:
    local = local_pipeline()
    return {
        "subscription": local["subscription"], "resource_group": local["resource_group"],
        "accounts": {"swc": {"name": "aoai-swc", "region": "swedencentral"}},
        "promote": {"stack": "organization/finetune/dev",
                    "gate": {"max_final_valid_loss": 5.0, "min_final_valid_token_accuracy": 0.1}},
        "deployments": [{"account": "swc", "name": "support", "sku": {"name": "Standard", "capacity": 2}}],
    }


def member(tmp_path, who: str, stack_name: str, pulumi_bin, emulator_url: str, azurite, container: str,
           pipeline: dict | None = None, config_from: Stack | None = None) -> Stack:
    """One person's checkout and Pulumi home, logged in to the shared backend. The stack's settings
    file is the team's (committed: its encryption salt too), so a second person takes it from the
    first."""
    stack = Stack(tmp_path / who / stack_name, pulumi_bin, emulator_url, program="root", name=stack_name,
                  backend=azurite.backend_url(container), extra_env=azurite.env())
    settings = f"Pulumi.{stack_name}.yaml"
    if config_from is not None:
        (stack.project / "stacks" / settings).write_text((config_from.project / "stacks" / settings).read_text())
    if pipeline is not None:
        stack.set_pipeline(stack_name, pipeline)
    return stack


def test_promotion_with_the_state_in_blob_storage(tmp_path, pulumi_bin, emulator, requests_log, azurite):
    container = azurite.create_container("finetune-state-promotion")
    dev = member(tmp_path, "alice", "dev", pulumi_bin, emulator.base_url, azurite, container, dev_pipeline())
    dev.up()
    dev_out = dev.outputs()
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1

    # Another person promotes: staging reads dev's model and metrics through the StackReference
    # (organization/finetune/dev on the shared backend), passes the gate, deploys in another region.
    staging = member(tmp_path, "bob", "staging", pulumi_bin, emulator.base_url, azurite, container,
                     staging_pipeline())
    staging.up()
    out = staging.outputs()
    assert out["fine_tuned_model"] == dev_out["fine_tuned_model"]
    assert out["metrics"] == dev_out["metrics"]
    assert [(d["region"], d["model"], d["state"]) for d in out["deployments"].values()] == \
        [("swedencentral", dev_out["fine_tuned_model"], "Succeeded")]
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1  # promotion never retrains

    # The state is in the container, nowhere else: the stacks' checkpoints, no lock left behind, and
    # nothing in either person's Pulumi home or checkout.
    blobs = azurite.blobs(container)
    assert {".pulumi/stacks/finetune/dev.json", ".pulumi/stacks/finetune/staging.json"} <= set(blobs)
    assert not [b for b in blobs if b.startswith(".pulumi/locks/")]
    assert any(b.startswith(".pulumi/history/finetune/staging/") for b in blobs)
    for person in ("alice", "bob"):
        assert not [p for p in (tmp_path / person).rglob("*.json") if ".pulumi" in p.parts and "stacks" in p.parts]
    checkpoint = azurite.read(container, ".pulumi/stacks/finetune/staging.json").decode()
    assert json.loads(checkpoint)["checkpoint"]["latest"]["resources"]
    # credentials never reach the shared state
    for blob in blobs:
        text = azurite.read(container, blob).decode("utf-8", "replace")
        assert API_KEY not in text and ACCESS_TOKEN not in text and azurite.env()["AZURE_STORAGE_KEY"] not in text

    # The qualified name is what other stacks and people use: organization/<project>/<stack>.
    listed = dev.run("stack", "ls", "--json")
    assert {s["name"] for s in json.loads(listed.stdout)} >= {"dev", "staging"}
    assert dev.run("stack", "--show-name", "--fully-qualify-stack-names").stdout.strip() == "organization/finetune/dev"


def test_two_people_at_once_and_a_stale_lock(tmp_path, pulumi_bin, emulator, emu, requests_log, azurite):
    container = azurite.create_container("finetune-state-locks")
    alice = member(tmp_path, "alice", "dev", pulumi_bin, emulator.base_url, azurite, container,
                   dev_pipeline(n_epochs=25))  # long enough to be running when the others act
    alice.run("preview")  # creates nothing; the stack exists on the backend from `stack select --create`
    bob = member(tmp_path, "bob", "dev", pulumi_bin, emulator.base_url, azurite, container, config_from=alice)

    # Alice's `up` holds the stack's lock while the job trains (the clock stands still once it runs).
    proc = start_up(alice)
    try:
        wait_until(lambda: requests_log.matching(requests_log.all(), "POST", JOB_CREATE), timeout=180,
                   what="alice's job create")
        set_clock(emu, frozen=True, advance_seconds=120)
        lock_dir = ".pulumi/locks/organization/finetune/dev/"
        assert len(azurite.blobs(container, lock_dir)) == 1

        # Bob's `up` of the same stack meanwhile: refused with Pulumi's lock message, nothing done.
        mark = requests_log.mark()
        refused = bob.up(check=False)
        text = refused.stdout + refused.stderr
        assert refused.returncode != 0 and LOCKED in text
        # it names the lock blob, and who holds it: user@host (pid) at time
        assert f"azblob://{container}/{lock_dir}" in text and ".json?domain=127.0.0.1:" in text
        assert "(pid " in text and azurite.env()["AZURE_STORAGE_KEY"] not in text
        assert RequestLog.writes(requests_log.since(mark)) == []

        # Carol's stack of another team (its own Azure account) on the same backend runs meanwhile.
        config = EmulatorConfig(state_dir=tmp_path / "emulator-b", time_scale=300.0,
                                accounts=(("aoai-ncus", "northcentralus"), ("aoai-swc", "swedencentral")))
        with EmulatorServer(config) as other:
            carol = member(tmp_path, "carol", "sandbox", pulumi_bin, other.base_url, azurite, container,
                           dev_pipeline())
            carol.up()
            assert carol.outputs()["fine_tuned_model"]
        assert proc.poll() is None, "alice's up should still be running"

        # Alice's runner dies (killed; a cancelled CI job does the same): the lock stays behind.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stale = azurite.blobs(container, lock_dir)
    assert len(stale) == 1
    # the same through the CI command, which says what to do about it
    again = subprocess.run([str(REPO / ".venv" / "bin" / "aoai-ft"), "ci", "up", "dev"], cwd=bob.project,
                           env=bob.env(), capture_output=True, text=True, timeout=300)
    assert again.returncode != 0 and LOCKED in again.stdout
    assert "pulumi cancel --stack organization/finetune/dev --yes` (it deletes the lock, it stops nothing)" \
        in " ".join(again.stderr.split())

    # What the README says to do: make sure its process is gone, `pulumi cancel` (deletes the stack's
    # lock files, stops nothing), then `up`: it attaches to the job alice's run started.
    bob.run("cancel", "--yes")
    assert azurite.blobs(container, lock_dir) == []
    set_clock(emu, frozen=False)
    bob.up()
    assert bob.outputs()["fine_tuned_model"]
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1
    assert azurite.blobs(container, lock_dir) == []
