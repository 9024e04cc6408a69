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
    # rule CK1: the last epoch's checkpoint is the model itself, earlier ones <model>:ckpt-step-N
    assert out["checkpoint"] == out["final_model"] or out["checkpoint"].startswith(out["final_model"] + ":ckpt-step-")


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
    prod.config_set("sku", "GlobalStandard")  # no Standard deployment of a fine-tuned gpt-4o-mini in East US 2 (DP1)
    prod.up()
    assert prod.outputs()["fine_tuned_model"] == dev.outputs()["fine_tuned_model"]
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1
    deployments = [r["outputs"] for r in prod.resources() if r["outputs"].get("deployment_name")]
    assert {d["deployed_model"]["source"].rsplit("/", 1)[-1] for d in deployments} == {"aoai-ncus"}
    assert len(deployments) == 2 and all(d["provisioning_state"] == "Succeeded" for d in deployments)


def test_yaml_quickstart(tmp_path, pulumi_bin, emulator, requests_log, inventory):
    # Pulumi YAML through the provider plugin: two files, a job, deployments in two regions; destroyed
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="examples/yaml-quickstart", name="dev")
    stack.config_set("trainAccount", account_id(emulator, "aoai-ncus"))
    stack.config_set("serveAccount", account_id(emulator, "aoai-swc"))
    result = stack.up()
    assert "using pulumi-resource-aoai-finetune from $PATH" not in result.stdout + result.stderr  # the installed plugin
    out = stack.outputs()
    assert out["fineTunedModel"].endswith("-yaml") and out["metrics"]["final_valid_loss"] is not None
    assert [e.rsplit("/", 2)[-2] for e in out["endpoints"]] == ["aoai-ncus", "aoai-swc"]
    deployments = {r["urn"].split("::")[-1]: r for r in stack.resources() if r["type"].endswith("ModelDeployment")}
    second = deployments["support-bot-second-region"]["outputs"]
    assert second["deployedModel"]["source"] == account_id(emulator, "aoai-ncus")
    assert second["deployedSku"] == {"name": "Standard", "capacity": 2}
    mark = requests_log.mark()
    again = stack.up()
    assert "6 unchanged" in again.stdout, again.stdout
    assert requests_log.writes(requests_log.since(mark)) == []  # a no-op up makes no write call
    ours = {r["outputs"]["deploymentName"] for r in deployments.values()}
    assert len(inventory.files()) == 2 and ours <= {d["name"] for d in inventory.deployments("aoai-ncus") +
                                                      inventory.deployments("aoai-swc")}
    stack.destroy()  # the plugin's Delete: both deployments, both files; the stack is empty
    assert stack.resources() == [] and inventory.files() == []
    assert not ours & {d["name"] for d in inventory.deployments("aoai-ncus") + inventory.deployments("aoai-swc")}


def test_typescript_quickstart(tmp_path, pulumi_bin, emulator):
    # TypeScript with the Node.js SDK generated from the plugin's schema (@pulumi/aoai-finetune)
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="examples/typescript-quickstart", name="dev")
    stack.config_set("account", account_id(emulator, "aoai-swc"))
    stack.up()
    out = stack.outputs()
    assert out["fineTunedModel"].endswith("-quickstart") and out["deploymentName"] == "support-bot"
    assert out["endpoint"].endswith("/accounts/aoai-swc/") and out["metrics"]["steps"] > 0


def test_evaluation_gate(tmp_path, pulumi_bin, emulator, requests_log):
    backend = tmp_path / "backend"
    backend.mkdir()
    staging = Stack(tmp_path / "staging", pulumi_bin, emulator.base_url, program="examples/evaluation-gate",
                    name="staging", state=backend)
    staging.config_set("account", account_id(emulator, "aoai-ncus"))
    staging.up()
    evaluation = staging.outputs()["evaluation"]
    assert evaluation["cases_run"] == 15 and evaluation["pass_rate"] >= 0.8, evaluation
    prod = Stack(tmp_path / "prod", pulumi_bin, emulator.base_url, program="examples/evaluation-gate", name="prod",
                 state=backend)
    prod.config_set("promoteFrom", "organization/aoai-evaluation-gate/staging")
    prod.config_set("account", account_id(emulator, "aoai-swc"))
    prod.up()  # the evaluation passes the gate (0.8): promoted
    assert prod.outputs()["fine_tuned_model"] == staging.outputs()["fine_tuned_model"]
    staging.config_set("epochs", "1")  # a badly trained model replaces it in staging, and is evaluated again
    staging.up()
    poor = staging.outputs()["evaluation"]
    assert poor["pass_rate"] < 0.8, poor
    mark = requests_log.mark()
    refused = prod.preview(check=False)  # prod refuses it at preview, quoting the numbers
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert f"evaluation pass rate {poor['pass_rate']:.4f} < min 0.8000" in text, text[-3000:]
    assert requests_log.writes(requests_log.since(mark)) == []
