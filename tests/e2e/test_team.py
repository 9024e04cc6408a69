"""The team setup under the real engine: the stacks' state in Azure Blob Storage (Azurite), shared by
several people: a second `up` of a stack while one runs (Pulumi's lock), two stacks at once on the
shared backend, and a stale lock cleared with `pulumi cancel`. The promotion flow on that backend
(dev trains and deploys; staging reads dev through the StackReference and deploys after the gate)
runs through the CI command in test_ci.py."""

from __future__ import annotations

import copy
import os
import signal
import subprocess

import yaml
from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

from .conftest import RequestLog, set_clock, start_up, wait_until
from .harness import REPO, Stack

JOB_CREATE = r"/openai/fine_tuning/jobs$"
LOCKED = "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or " \
         "delete the lock file with `pulumi cancel`."


def local_pipeline() -> dict:
    return yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]


def dev_pipeline(**hyperparameters) -> dict:
    pipeline = copy.deepcopy(local_pipeline())
    pipeline["training"]["hyperparameters"].update(hyperparameters)
    pipeline["deployments"] = [{"account": "ncus", "name": "support-dev", "sku": {"name": "Standard", "capacity": 1}}]
    pipeline.pop("evaluation")  # the local stack's evaluation names its own deployment
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
