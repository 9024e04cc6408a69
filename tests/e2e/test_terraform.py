"""End to end with the real OpenTofu CLI: examples/terraform-quickstart (and its promotion
configuration) against the emulator, through the provider installed by a CLI config file of the
test's own. Protocol-level edge cases: tests/provider/adapters/terraform."""

from __future__ import annotations

import os
import re
import shutil
import signal
import time

import pytest

from .conftest import set_clock, wait_until
from .harness import REPO
from .tofu import Workspace, tofu_bin_dir

JOB_CREATE = r"/openai/fine_tuning/jobs$"
UPLOAD = r"/openai/files$"
DEPLOYMENT = r"/deployments/[^/]+$"
FIFTEEN_DAYS_AND_A_BIT = 1_300_000  # seconds: 15 days are 1,296,000
EXAMPLE = REPO / "examples" / "terraform-quickstart"


@pytest.fixture(scope="session")
def tofu_bin() -> str:
    return tofu_bin_dir()


@pytest.fixture
def quickstart(tmp_path, tofu_bin, emulator) -> Workspace:
    """The example as a user copies it, run with the provider settings in the environment."""
    shutil.copytree(EXAMPLE, tmp_path / "quickstart")
    return Workspace(tmp_path / "quickstart", tofu_bin, emulator.base_url)


def flat(text: str) -> str:
    """The CLI's output with its line wrapping undone (it wraps diagnostics at 78 columns)."""
    return " ".join(text.split())


def block(text: str, address: str) -> str:
    """The plan's block of one resource (from its `# address ...` line to the next one)."""
    m = re.search(rf"  # {re.escape(address)} (.*?)(?=\n  # |\nPlan:)", text, re.S)
    assert m, f"{address} not in the plan:\n{text}"
    return m.group(0)


def test_quickstart_plan_apply_noop_drift_promotion_and_destroy(quickstart, emulator, emu, inventory,
                                                                requests_log) -> None:
    # -- plan: what a reviewer reads; nothing is written ----------------------------------------
    mark = requests_log.mark()
    plan = quickstart.plan()
    out = flat(plan.stdout)
    assert "Plan: 4 to add, 0 to change, 0 to destroy." in out
    assert "training cost of the declared run" in out and "3,960 tokens x 3 epoch(s)" in out
    assert "a new training run (paid)" in out and "estimated hosting Standard" in out
    assert "deployment support-bot in aoai-ncus" in out and "deployment support-bot in aoai-swc" in out  # per region
    assert requests_log.writes(requests_log.since(mark)) == []

    # -- apply: upload, train (waiting), deploy in two regions at once ----------------------------
    applied = quickstart.apply()
    lines = applied.stdout.splitlines()
    creating = [i for i, l in enumerate(lines) if re.match(r"aoai_finetune_model_deployment\.\w+: Creating", l)]
    done = [i for i, l in enumerate(lines) if re.match(r"aoai_finetune_model_deployment\.\w+: Creation complete", l)]
    assert len(creating) == 2 and len(done) == 2 and max(creating) < min(done), "regions were not deployed in parallel"
    outputs = quickstart.outputs()
    model = outputs["fine_tuned_model"]
    assert model.endswith("-quickstart") and outputs["metrics"]["steps"] > 0
    assert inventory.counts("aoai-ncus") == (1, 1, 1) and len(inventory.deployments("aoai-swc")) == 1
    assert inventory.deployments("aoai-swc")[0]["properties"]["model"]["name"] == model
    log = (quickstart.root.parent / "tofu.log").read_text()
    assert "Step 60/180" in log or "running -> succeeded" in log  # the training's progress, in the provider log

    # -- a second apply changes nothing and writes nothing ----------------------------------------
    mark = requests_log.mark()
    again = quickstart.apply()
    assert "Resources: 0 added, 0 changed, 0 destroyed." in again.stdout
    assert requests_log.writes(requests_log.since(mark)) == []

    # -- drift: Azure removes idle deployments after 15 days; the next apply redeploys, no retraining
    set_clock(emu, advance_seconds=FIFTEEN_DAYS_AND_A_BIT)
    assert inventory.deployments("aoai-ncus") == [] and inventory.deployments("aoai-swc") == []
    plan = quickstart.plan("-detailed-exitcode", check=False)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan.stdout
    assert "15 days without completions" in flat(plan.stdout)
    mark = requests_log.mark()
    quickstart.apply()
    entries = requests_log.since(mark)
    assert len(requests_log.matching(entries, "PUT", DEPLOYMENT)) == 2
    assert not requests_log.matching(entries, "POST", JOB_CREATE) and not requests_log.matching(entries, "POST", UPLOAD)
    assert quickstart.outputs()["fine_tuned_model"] == model

    # -- new data: the file and the job are replaced (a paid run, said so); nothing applied --------
    data = quickstart.root / "data" / "train.jsonl"
    original = data.read_text()
    data.write_text(original + original.splitlines()[0] + "\n")
    mark = requests_log.mark()
    plan = quickstart.plan()
    job = block(plan.stdout, "aoai_finetune_fine_tuning_job.support_bot")
    assert "must be replaced" in job and re.search(r"training_file_sha256\s+=.*# forces replacement", job)
    assert re.search(r"content_sha256\s+=.*# forces replacement", block(plan.stdout, "aoai_finetune_training_file.train"))
    replaced = flat(plan.stdout)
    assert "a new training run (paid) replaces job" in replaced and "a new paid run: training" in replaced
    # ... and bad data fails the plan, with file and line, before anything is sent
    data.write_text(original + '{"messages": [{"role": "user", "content": "no answer"}]}\n')
    bad = quickstart.plan(check=False)
    assert bad.returncode == 1 and "train.jsonl:61" in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
    assert requests_log.writes(requests_log.since(mark)) == []
    data.write_text(original)

    # -- promotion: a second configuration reads the first's outputs (terraform_remote_state) -------
    promotion = Workspace(quickstart.root / "promotion", quickstart.bin_dir, emulator.base_url)
    promoted = promotion.apply()
    assert "1 added" in promoted.stdout
    prod = inventory.deployments("aoai-eus2")
    assert len(prod) == 1 and prod[0]["properties"]["model"]["name"] == model
    assert prod[0]["sku"]["capacity"] == 2
    assert len(inventory.jobs("aoai-ncus")) == 1  # promoting never trains

    # -- destroy in dependency order; the model is kept (delete_model_on_destroy is false) ----------
    promotion.destroy()
    destroyed = quickstart.destroy()
    order = [m.group(1) for m in re.finditer(r"^(aoai_finetune_\w+)\.\w+: Destruction complete", destroyed.stdout, re.M)]
    assert order.index("aoai_finetune_fine_tuning_job") > max(i for i, t in enumerate(order)
                                                              if t == "aoai_finetune_model_deployment")
    assert order[-1] == "aoai_finetune_training_file"
    assert inventory.deployments("aoai-ncus") == [] and inventory.files("aoai-ncus") == []
    models = inventory._data("aoai-ncus", "models")
    assert model in {m["id"] for m in models}  # kept: retraining would be paid again


def test_import_a_file_a_job_and_a_deployment(quickstart, tmp_path, emulator, inventory, requests_log) -> None:
    quickstart.apply()
    state = quickstart.resources()
    ids = {address: r["values"]["id"] for address, r in state.items()}
    account = state["aoai_finetune_training_file.train"]["values"]["account"]["resource_id"]
    # a second copy of the configuration, without state: the objects exist, Terraform does not know them
    shutil.copytree(EXAMPLE, tmp_path / "adopter")
    adopter = Workspace(tmp_path / "adopter", quickstart.bin_dir, emulator.base_url)
    mark = requests_log.mark()
    import_ids = {
        "aoai_finetune_training_file.train": f"{account}/files/{ids['aoai_finetune_training_file.train']}",
        "aoai_finetune_fine_tuning_job.support_bot":
            f"{account}/fine_tuning/jobs/{ids['aoai_finetune_fine_tuning_job.support_bot']}",
        "aoai_finetune_model_deployment.here": ids["aoai_finetune_model_deployment.here"],
        "aoai_finetune_model_deployment.second_region": ids["aoai_finetune_model_deployment.second_region"]}
    # the same with `import` blocks in the configuration: the plan imports the four and changes nothing
    shutil.copytree(EXAMPLE, tmp_path / "blocks")
    (tmp_path / "blocks" / "imports.tf").write_text("".join(
        f'import {{\n  to = {address}\n  id = "{import_id}"\n}}\n' for address, import_id in import_ids.items()))
    blocks = Workspace(tmp_path / "blocks", quickstart.bin_dir, emulator.base_url).plan()
    assert "Plan: 4 to import, 0 to add, 0 to change, 0 to destroy." in blocks.stdout, blocks.stdout
    for address, import_id in import_ids.items():
        result = adopter.run("import", address, import_id)
        assert "Import successful!" in result.stdout
    # The configuration declares what was imported: no changes. What the service cannot tell (a
    # file's local path, a deployment's quality gate) is the configuration's; nothing is written.
    plan = adopter.plan("-detailed-exitcode", check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes. Your infrastructure matches the configuration." in plan.stdout
    applied = adopter.apply()
    assert "Resources: 0 added, 0 changed, 0 destroyed." in applied.stdout
    assert requests_log.writes(requests_log.since(mark)) == []  # adopting made no write call
    # the imported objects are managed: new data still replaces the file and the job (a paid run, said so)
    data = adopter.root / "data" / "train.jsonl"
    data.write_text(data.read_text() + data.read_text().splitlines()[0] + "\n")
    replaced = adopter.plan()
    assert "must be replaced" in block(replaced.stdout, "aoai_finetune_training_file.train")
    assert "must be replaced" in block(replaced.stdout, "aoai_finetune_fine_tuning_job.support_bot")
    assert "a new training run (paid) replaces job" in flat(replaced.stdout)
    assert requests_log.writes(requests_log.since(mark)) == []
    assert inventory.counts("aoai-ncus") == (1, 1, 1)
    # an id that names nothing is a clear error, and imports nothing
    missing = adopter.run("import", "aoai_finetune_fine_tuning_job.support_bot",
                          f"{account}/fine_tuning/jobs/ftjob-doesnotexist", check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stdout + missing.stderr


def test_ctrl_c_during_training_keeps_the_job_and_the_next_apply_attaches(quickstart, emu, inventory,
                                                                          requests_log) -> None:
    proc = quickstart.start("apply", "-auto-approve")
    wait_until(lambda: inventory.jobs("aoai-ncus"), timeout=180, what="the job to be created")
    set_clock(emu, frozen=True)  # the job stays where it is, however slow the machine
    time.sleep(1.0)  # the provider is in its wait
    interrupted = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the CLI and its provider processes
    out, _ = proc.communicate(timeout=120)
    assert time.monotonic() - interrupted < 30, "the wait did not end promptly"
    assert proc.returncode != 0 and "Interrupt received" in out
    assert "goes on in the service" in flat(out) and "Traceback" not in out
    state = quickstart.state_file()
    kept = {r["type"]: r["instances"][0] for r in state["resources"] if r["mode"] == "managed"}
    assert set(kept) == {"aoai_finetune_training_file", "aoai_finetune_fine_tuning_job"}  # no deployment yet
    job = kept["aoai_finetune_fine_tuning_job"]
    assert job.get("status") != "tainted" and job["attributes"]["status"] not in ("succeeded", "failed", "cancelled")
    [running] = inventory.jobs("aoai-ncus")
    assert running["status"] in ("running", "pending", "queued", "validating_files")

    plan = quickstart.plan()  # the job still runs: an in-place update that waits for it
    job_block = block(plan.stdout, "aoai_finetune_fine_tuning_job.support_bot")
    assert "will be updated in-place" in job_block and "must be replaced" not in job_block
    assert "this apply waits for it (no new run)" in flat(plan.stdout)
    set_clock(emu, frozen=False)
    mark = requests_log.mark()
    quickstart.apply()
    assert not requests_log.matching(requests_log.since(mark), "POST", JOB_CREATE)  # attached, never a second run
    [job] = inventory.jobs("aoai-ncus")
    assert job["id"] == running["id"] and job["status"] == "succeeded"
    assert quickstart.outputs()["fine_tuned_model"] == job["fine_tuned_model"]
    assert len(inventory.deployments("aoai-ncus")) == 1 and len(inventory.deployments("aoai-swc")) == 1


def test_installed_from_a_filesystem_mirror_with_init(tmp_path, tofu_bin, emulator, requests_log) -> None:
    """The README's other way to install: a filesystem mirror holding the launcher, then `tofu init`."""
    import sys

    from .tofu import SOURCE

    mirror = tmp_path / "mirror"
    target = mirror / SOURCE / "0.1.0" / "linux_amd64"
    target.mkdir(parents=True)
    (target / "terraform-provider-aoai_v0.1.0").symlink_to(os.path.join(os.path.dirname(sys.executable),
                                                                        "terraform-provider-aoai"))
    (tmp_path / "tofu-cli.tfrc").write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{SOURCE}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{SOURCE}"]\n  }}\n'
        "}\n", encoding="utf-8")
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(EXAMPLE / "data" / "train.jsonl", config / "train.jsonl")
    (config / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aoai = {\n'
        f'      source  = "{SOURCE}"\n      version = "0.1.0"\n    }}\n  }}\n}}\n'
        'resource "aoai_finetune_training_file" "train" {\n'
        f'  account = {{ resource_id = "/subscriptions/{emulator.config.subscription_id}/resourceGroups/'
        f'{emulator.config.resource_group}/providers/Microsoft.CognitiveServices/accounts/aoai-ncus" }}\n'
        '  path    = "train.jsonl"\n}\n', encoding="utf-8")
    ws = Workspace(config, tofu_bin, emulator.base_url)
    init = ws.run("init")
    assert "Installing terraform.local/aoai-finetune/aoai v0.1.0" in init.stdout, init.stdout
    lock = (config / ".terraform.lock.hcl").read_text()
    assert 'version     = "0.1.0"' in lock and '"h1:' in lock
    mark = requests_log.mark()
    plan = ws.plan()
    assert "Plan: 1 to add" in plan.stdout and "development overrides" not in plan.stdout
    assert requests_log.writes(requests_log.since(mark)) == []


# -- deployments of base models on an emulator whose ARM operations take real seconds ------------------
def base_deployments_config(subscription: str, resource_group: str, deployments: dict[str, str]) -> str:
    """A configuration of base-model deployments: {deployment name: account name}."""
    blocks = [f'locals {{\n  accounts = "/subscriptions/{subscription}/resourceGroups/{resource_group}'
              '/providers/Microsoft.CognitiveServices/accounts"\n}\n']
    for name, account in deployments.items():
        blocks.append(
            f'resource "aoai_finetune_model_deployment" "{name.replace("-", "_")}" {{\n'
            f'  account         = {{ resource_id = "${{local.accounts}}/{account}" }}\n'
            '  model           = "gpt-4o-mini"\n  model_version   = "2024-07-18"\n'
            f'  deployment_name = "{name}"\n'
            '  sku             = { name = "GlobalStandard", capacity = 1 }\n}\n')
    return "\n".join(blocks)


@pytest.fixture
def slow_arm(tmp_path):
    """An emulator whose deployment PUTs take ~4 real seconds (240 emulated seconds at 60x), so that
    operations overlap as they do on Azure."""
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    config = EmulatorConfig(state_dir=tmp_path / "slow-emulator-state", time_scale=60.0,
                            accounts=(("aoai-ncus", "northcentralus"), ("aoai-swc", "swedencentral")),
                            extra={"deployment_create_seconds": 240})
    with EmulatorServer(config) as server:
        yield server


def _workspace(tmp_path, name: str, tofu_bin: str, server, deployments: dict[str, str]) -> Workspace:
    root = tmp_path / name / "config"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aoai = { source = "terraform.local/aoai-finetune/aoai" }\n  }\n}\n'
        + base_deployments_config(server.config.subscription_id, server.config.resource_group, deployments),
        encoding="utf-8")
    return Workspace(root, tofu_bin, server.base_url)


def test_parallel_deployments_on_one_account_survive_arm_409(tmp_path, tofu_bin, slow_arm) -> None:
    """One `tofu apply` creates three deployments on one account and one in another region at once,
    while a second configuration's apply (another team) deploys on the same account: ARM answers 409
    "another operation" to what overlaps on an account; every deployment is created, none fails."""
    team = _workspace(tmp_path, "team", tofu_bin, slow_arm,
                      {"chat-1": "aoai-ncus", "chat-2": "aoai-ncus", "chat-3": "aoai-ncus", "chat-swc": "aoai-swc"})
    other = _workspace(tmp_path, "other", tofu_bin, slow_arm, {"other-team": "aoai-ncus"})
    procs = [ws.start("apply", "-auto-approve") for ws in (team, other)]
    outs = [proc.communicate(timeout=600)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outs
    assert "Apply complete! Resources: 4 added" in outs[0] and "Apply complete! Resources: 1 added" in outs[1]
    log = slow_arm.backend.faults.requests()
    puts = [e for e in log if e["method"] == "PUT" and re.search(DEPLOYMENT, e["path"])]
    conflicts = [e for e in puts if e["status"] == 409]
    assert conflicts, "the two applies did not overlap on aoai-ncus: no 409 to survive"
    assert len([e for e in puts if e["status"] in (200, 201)]) == 5  # one accepted PUT per deployment
    deployments = slow_arm.backend.store["deployments"]
    assert sorted(deployments) == ["aoai-ncus/chat-1", "aoai-ncus/chat-2", "aoai-ncus/chat-3",
                                   "aoai-ncus/other-team", "aoai-swc/chat-swc"]
    assert {d["provisioningState"] for d in deployments.values()} == {"Succeeded"}
    # the regions were deployed at once: the other region's PUT went out while aoai-ncus's were under way
    ncus = [e["real_time"] for e in puts if "/accounts/aoai-ncus/" in e["path"] and e["status"] in (200, 201)]
    swc = [e["real_time"] for e in puts if "/accounts/aoai-swc/" in e["path"]]
    assert min(swc) < max(ncus)
    print(f"\n[tofu 409] 5 deployments (4 in one apply), {len(conflicts)} real 409s survived")


def test_ctrl_c_during_a_deployment_operation_keeps_it_tainted_and_the_next_apply_replaces_it(
        tmp_path, tofu_bin, slow_arm) -> None:
    ws = _workspace(tmp_path, "ctrl-c", tofu_bin, slow_arm, {"half": "aoai-ncus"})
    proc = ws.start("apply", "-auto-approve")
    wait_until(lambda: slow_arm.backend.store["deployments"].get("aoai-ncus/half"), timeout=120,
               what="the deployment's PUT")
    time.sleep(0.5)  # the provider is polling ARM's operation
    interrupted = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert time.monotonic() - interrupted < 30, "the operation's wait did not end promptly"
    assert proc.returncode != 0 and "Interrupt received" in out and "Traceback" not in out
    assert "goes on in the service" in flat(out)
    [kept] = [r["instances"][0] for r in ws.state_file()["resources"] if r["mode"] == "managed"]
    assert kept["status"] == "tainted" and kept["attributes"]["id"].endswith("/deployments/half")
    plan = ws.plan()
    assert "is tainted, so it must be replaced" in plan.stdout, plan.stdout
    ws.apply()
    deployments = slow_arm.backend.store["deployments"]
    assert list(deployments) == ["aoai-ncus/half"] and deployments["aoai-ncus/half"]["provisioningState"] == "Succeeded"
    assert ws.plan("-detailed-exitcode", check=False).returncode == 0
