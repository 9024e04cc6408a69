"""Every example under examples/ runs against the emulator with the real engine."""

from __future__ import annotations

from .harness import Stack

JOB_CREATE = r"/openai/fine_tuning/jobs$"


def account_id(emulator, name: str) -> str:
    return (f"/subscriptions/{emulator.config.subscription_id}/resourceGroups/{emulator.config.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{name}")


def test_quickstart(tmp_path, pulumi_bin, emulator):
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="examples/quickstart", name="dev")
    stack.config_set("account", account_id(emulator, "aoai-ncus"))
    result = stack.up()
    out = stack.outputs()
    assert out["fine_tuned_model"].endswith("-quickstart") and out["deployment"] == "support-bot"
    assert out["endpoint"].endswith("/accounts/aoai-ncus/")
    assert "succeeded" in result.stdout  # the job's progress is shown while `pulumi up` waits


def test_checkpoint(tmp_path, pulumi_bin, emulator):
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="examples/checkpoint", name="dev")
    stack.config_set("account", account_id(emulator, "aoai-ncus"))
    stack.up()
    out = stack.outputs()
    assert out["checkpoint"].startswith(out["final_model"] + ":ckpt-step-")


def test_continuous(tmp_path, pulumi_bin, emulator, requests_log):
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="examples/continuous", name="dev")
    stack.config_set("account", account_id(emulator, "aoai-ncus"))
    stack.up()
    out = stack.outputs()
    assert out["v1_model"] != out["v2_model"] and out["v2_model"].endswith("-v2")
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 2


def test_promotion_two_stacks(tmp_path, pulumi_bin, emulator, requests_log):
    backend = tmp_path / "backend"
    backend.mkdir()
    dev = Stack(tmp_path / "dev", pulumi_bin, emulator.base_url, program="examples/promotion", name="dev", state=backend)
    dev.config_set("trainAccount", account_id(emulator, "aoai-ncus"))
    dev.up()
    prod = Stack(tmp_path / "prod", pulumi_bin, emulator.base_url, program="examples/promotion", name="prod",
                 state=backend)
    prod.config_set("promoteFrom", "organization/aoai-promotion/dev")
    prod.run("config", "set", "--path", "regions[0]", account_id(emulator, "aoai-swc"))
    prod.run("config", "set", "--path", "regions[1]", account_id(emulator, "aoai-eus2"))
    prod.up()
    assert prod.outputs()["fine_tuned_model"] == dev.outputs()["fine_tuned_model"]
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1
    deployments = [r["outputs"] for r in prod.resources() if r["outputs"].get("deployment_name")]
    assert {d["deployed_model"]["source"].rsplit("/", 1)[-1] for d in deployments} == {"aoai-ncus"}
    assert len(deployments) == 2 and all(d["provisioning_state"] == "Succeeded" for d in deployments)
