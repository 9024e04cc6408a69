"""The repository's own Pulumi project under the real engine: the local stack, and promotion."""

from __future__ import annotations

import copy

import yaml

from .harness import REPO, Stack

JOB_CREATE = r"/openai/fine_tuning/jobs$"
DEPLOYMENT = r"/deployments/[^/]+$"


def test_local_stack_trains_deploys_two_regions_then_noop(tmp_path, pulumi_bin, emulator, requests_log):
    stack = Stack(tmp_path / "local", pulumi_bin, emulator.base_url, program="root", name="local", passphrase="local")
    stack.up()
    out = stack.outputs()
    assert out["fine_tuned_model"].endswith("-support")
    deps = out["deployments"]
    assert {d["region"] for d in deps.values()} == {"northcentralus", "swedencentral"}
    assert all(d["state"] == "Succeeded" and d["model"] == out["fine_tuned_model"] for d in deps.values())
    assert out["metrics"]["final_valid_loss"] is not None
    evaluation = out["evaluation"]  # the held-out questions asked of the ncus deployment
    assert evaluation["model"] == out["fine_tuned_model"] and evaluation["cases_run"] == 15
    mark = requests_log.mark()
    second = stack.up()
    assert requests_log.since(mark) == [] or requests_log.writes(requests_log.since(mark)) == []
    assert requests_log.matching(requests_log.since(mark), "POST", r"/chat/completions$") == []
    assert "7 unchanged" in second.stdout


def test_config_mistake_fails_preview_naming_the_key(tmp_path, pulumi_bin, emulator, requests_log):
    stack = Stack(tmp_path / "bad", pulumi_bin, emulator.base_url, program="root", name="bad")
    pipeline = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]
    pipeline["deployments"][1]["sku"]["capacity"] = 0
    stack.set_pipeline("bad", pipeline)
    result = stack.preview(check=False)
    assert result.returncode != 0
    assert "finetune:pipeline.deployments[1].sku.capacity: must be an integer from 1 to 10000, got 0" in result.stdout + result.stderr
    assert requests_log.writes(requests_log.all()) == []


def test_promotion_deploys_the_dev_model_in_prod_without_training(tmp_path, pulumi_bin, emulator, requests_log):
    shared_state = tmp_path / "backend"
    shared_state.mkdir()
    local = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]
    dev_pipeline = copy.deepcopy(local)
    dev_pipeline["deployments"] = [{"account": "ncus", "name": "support-dev", "sku": {"name": "Standard", "capacity": 1}}]
    dev_pipeline.pop("evaluation")  # the local stack's evaluation names its own deployment
    dev = Stack(tmp_path / "dev", pulumi_bin, emulator.base_url, program="root", name="edev", state=shared_state)
    dev.set_pipeline("edev", dev_pipeline)
    dev.up()
    dev_model = dev.outputs()["fine_tuned_model"]
    jobs_after_dev = len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE))
    assert jobs_after_dev == 1

    prod_pipeline = {
        "subscription": local["subscription"], "resource_group": local["resource_group"],
        "accounts": {"swc": {"name": "aoai-swc", "region": "swedencentral"},
                     "eus2": {"name": "aoai-eus2", "region": "eastus2"}},
        "promote": {"stack": "organization/finetune/edev",
                    "gate": {"max_final_valid_loss": 5.0, "min_final_valid_token_accuracy": 0.1}},
        "deployments": [{"account": "swc", "name": "support", "sku": {"name": "Standard", "capacity": 2}},
                        # DP1: no Standard deployment of a fine-tuned gpt-4o-mini in East US 2
                        {"account": "eus2", "name": "support", "sku": {"name": "GlobalStandard", "capacity": 2}}],
    }
    prod = Stack(tmp_path / "prod", pulumi_bin, emulator.base_url, program="root", name="eprod", state=shared_state)
    prod.set_pipeline("eprod", prod_pipeline)
    prod.up()
    out = prod.outputs()
    assert out["fine_tuned_model"] == dev_model
    assert {d["region"] for d in out["deployments"].values()} == {"swedencentral", "eastus2"}
    assert all(d["model"] == dev_model and d["state"] == "Succeeded" for d in out["deployments"].values())
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == jobs_after_dev  # no second training

    # The gate: tighten it beyond dev's recorded metrics and the preview refuses, quoting the numbers.
    prod_pipeline["promote"]["gate"] = {"max_final_valid_loss": 0.0001}
    prod.set_pipeline("eprod", prod_pipeline)
    result = prod.preview(check=False)
    assert result.returncode != 0
    assert "refusing to promote" in result.stdout + result.stderr and "needed: <= 0.0001" in result.stdout + result.stderr
