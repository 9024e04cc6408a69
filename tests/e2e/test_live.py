"""Live acceptance: the end-to-end scenario against real Azure, as Terraform's Azure provider runs its
acceptance tests. Off unless asked for:

    AOAI_FT_LIVE=1 \\
    AOAI_FT_LIVE_SUBSCRIPTION=<subscription id> AOAI_FT_LIVE_RESOURCE_GROUP=<existing resource group> \\
    AOAI_FT_LIVE_REGION=<region, e.g. northcentralus> \\
    bash scripts/test.sh tests/e2e/test_live.py -s

Credentials come from ``DefaultAzureCredential`` (``az login``, a managed identity, workload identity
federation...); the identity needs Contributor on the resource group and "Cognitive Services OpenAI
Contributor" on it (inherited by the account the test creates). ``AOAI_FT_LIVE_MODEL`` overrides the
base model (default gpt-4.1-nano-2025-04-14, the cheapest the developer tier trains).

What it does, with the same harness (:class:`Stack`, the ``pipeline`` test program) as the emulator runs:
prints the estimated cost first; creates an Azure OpenAI account (ARM, the real client) with a unique
name; ``pulumi up``: uploads a 10-line data set, trains on the developer tier (1 epoch), deploys the
model on the developer tier (no hourly fee); ``pulumi refresh`` (nothing drifted); ``pulumi destroy``
(deployment, then job and model, then file). Whatever happens, ``finally`` destroys the stack and
deletes the account. Without the variables the test is skipped and says which are missing.
"""

from __future__ import annotations

import json
import os
import sys
import uuid

import pytest

from .harness import Stack

pytestmark = pytest.mark.e2e

LIVE_VARIABLES = ("AOAI_FT_LIVE_SUBSCRIPTION", "AOAI_FT_LIVE_RESOURCE_GROUP", "AOAI_FT_LIVE_REGION")
DEFAULT_MODEL = "gpt-4.1-nano-2025-04-14"
EXAMPLES = 10  # the fewest a job accepts


def live_settings() -> dict[str, str]:
    """The live environment, or pytest.skip naming what is missing."""
    if os.environ.get("AOAI_FT_LIVE") != "1":
        pytest.skip("live acceptance against real Azure is off: set AOAI_FT_LIVE=1 and "
                    + ", ".join(LIVE_VARIABLES) + " (see tests/e2e/test_live.py)")
    missing = [name for name in LIVE_VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.skip(f"AOAI_FT_LIVE=1, but {', '.join(missing)} not set")
    return {"subscription": os.environ["AOAI_FT_LIVE_SUBSCRIPTION"],
            "resource_group": os.environ["AOAI_FT_LIVE_RESOURCE_GROUP"],
            "region": os.environ["AOAI_FT_LIVE_REGION"].lower(),
            "model": os.environ.get("AOAI_FT_LIVE_MODEL", DEFAULT_MODEL)}


def write_tiny_data(path) -> None:
    lines = [json.dumps({"messages": [
        {"role": "system", "content": "You answer with the sum only."},
        {"role": "user", "content": f"What is {i} + {i}?"},
        {"role": "assistant", "content": str(2 * i)}]}) for i in range(EXAMPLES)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def estimated_cost(data_path, model: str) -> str:
    """The provider's own estimate (cost.py, prices.yaml): developer-tier training, 1 epoch, and a
    developer-tier deployment (no hourly fee)."""
    from pulumi_aoai_finetune import cost
    from pulumi_aoai_finetune.data import validate_file

    report = validate_file(str(data_path), model=model)
    assert report.ok, report.summary()
    training = cost.estimate_training_from_stats(report.stats["training"], model, 1, training_type="developerTier")
    hosting = cost.estimate_hosting({"name": "DeveloperTier", "capacity": 1})
    return f"{training.line()}; {hosting.line()}"


def live_stack(tmp_path, pulumi_bin, live: dict[str, str]) -> Stack:
    """The harness's stack, pointed at real Azure: ARM's public endpoint, DefaultAzureCredential, https
    only; the emulator's fake credentials removed from the environment."""
    stack = Stack(tmp_path / "pulumi", pulumi_bin, "https://management.azure.com",
                  extra_env={"AZURE_OPENAI_API_KEY": None, "AOAI_FT_ACCESS_TOKEN": None})
    for key, value in {"aoai-finetune:credential": "default", "aoai-finetune:allowInsecureLoopback": "false",
                       "aoai-finetune:pollInterval": "30", "aoai-finetune:maxRetries": "6"}.items():
        stack.config_set(key, value)
    return stack


def test_live_upload_train_deploy_refresh_destroy(tmp_path, pulumi_bin):
    live = live_settings()
    from azure.identity import DefaultAzureCredential
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
    from azure.mgmt.cognitiveservices.models import Account, AccountProperties, Sku

    data = tmp_path / "train.jsonl"
    write_tiny_data(data)
    with _terminal() as out:
        out.write(f"\nlive acceptance: estimated cost {estimated_cost(data, live['model'])}\n")
    arm = CognitiveServicesManagementClient(DefaultAzureCredential(exclude_interactive_browser_credential=True),
                                            live["subscription"])
    name = f"aoaift-live-{uuid.uuid4().hex[:10]}"
    stack = None
    try:
        arm.accounts.begin_create(live["resource_group"], name, Account(
            location=live["region"], kind="OpenAI", sku=Sku(name="S0"),
            properties=AccountProperties(custom_sub_domain_name=name, public_network_access="Enabled"))).result()
        stack = live_stack(tmp_path, pulumi_bin, live)
        stack.set_spec({
            "subscription": live["subscription"], "resource_group": live["resource_group"],
            "files": {"train": {"account": name, "path": str(data), "model": live["model"]}},
            "jobs": {"job": {"account": name, "base_model": live["model"], "training_file": "train",
                             "training_type": "developerTier", "hyperparameters": {"n_epochs": 1},
                             "suffix": "live", "seed": 42, "delete_model_on_destroy": True,
                             "custom_timeouts": "6h"}},
            "deployments": {"dev": {"account": name, "model": "job:job",
                                    "sku": {"name": "DeveloperTier", "capacity": 1}}},
        })
        stack.up()
        outputs = stack.outputs()
        assert outputs["job_status"] == "succeeded" and outputs["job_fine_tuned_model"].startswith(live["model"])
        assert outputs["deployment_dev"]["state"] == "Succeeded"
        assert outputs["deployment_dev"]["sku"]["name"] == "DeveloperTier"
        stack.refresh()
        assert "pulumi-python:dynamic/aoai:ModelDeployment" in json.dumps(stack.export())
        stack.destroy()
        assert not [r for r in stack.resources()]
    finally:
        if stack is not None:
            stack.run("destroy", "--yes", "--skip-preview", check=False, timeout=3600)
        arm.accounts.begin_delete(live["resource_group"], name).result()


class _terminal:
    """Writes that reach the terminal even while pytest captures output (the estimate comes first)."""

    def __enter__(self):
        return sys.__stdout__

    def __exit__(self, *exc):
        sys.__stdout__.flush()
        return False


def test_without_the_variables_the_live_tests_skip_saying_why(monkeypatch):
    monkeypatch.delenv("AOAI_FT_LIVE", raising=False)
    with pytest.raises(pytest.skip.Exception, match="AOAI_FT_LIVE=1"):
        live_settings()
    monkeypatch.setenv("AOAI_FT_LIVE", "1")
    for name in LIVE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(pytest.skip.Exception, match="AOAI_FT_LIVE_SUBSCRIPTION"):
        live_settings()


def test_the_estimate_printed_first_is_the_providers_own(tmp_path):
    data = tmp_path / "train.jsonl"
    write_tiny_data(data)
    line = estimated_cost(data, DEFAULT_MODEL)
    assert "gpt-4.1-nano" in line and "trained tokens" in line and "$" in line, line
