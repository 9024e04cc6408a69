"""The policy pack's rules, called directly (the e2e test runs the pack under the real CLI)."""

import sys
from pathlib import Path

import pytest

POLICY = Path(__file__).resolve().parents[2] / "policy"
sys.path.insert(0, str(POLICY))
import aoai_finetune_policy as pol  # noqa: E402

sys.path.remove(str(POLICY))

SUB = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
JOB = {"account": {"resource_id": SUB + "aoai-ncus"}, "base_model": "gpt-4o-mini-2024-07-18",
       "training_file": "file-1", "suffix": "team-chat"}
DEP = {"account": {"resource_id": SUB + "aoai-ncus"}, "deployment_name": "chat",
       "sku": {"name": "Standard", "capacity": 5}, "model": "gpt-4o-mini-2024-07-18.ft-abc-team-chat"}
FILE = {"account": {"resource_id": SUB + "aoai-eus2"}, "purpose": "fine-tune", "path": "/d/train.jsonl"}
METRICS = {"steps": 30, "final_full_valid_loss": 0.8, "final_full_valid_token_accuracy": 0.75, "final_train_loss": 0.5}
TYPED = "pulumi-python:dynamic/aoai:"


def test_resources_are_told_apart_by_type_or_inputs():
    assert pol.kind_of(JOB) == "FineTuningJob" and pol.kind_of(DEP) == "ModelDeployment"
    assert pol.kind_of(FILE) == "TrainingFile"
    assert pol.kind_of({"x": 1}, TYPED + "ModelDeployment") == "ModelDeployment"
    assert pol.kind_of(JOB, "azure-native:storage:Account") is None


@pytest.mark.parametrize("model, allowed, ok", [
    ("gpt-4o-mini-2024-07-18", None, True),
    ("gpt-4o-2024-08-06", ["gpt-4o-mini"], False),
    ("gpt-4o-mini-2024-07-18.ft-abc", ["gpt-4o-mini"], True),  # continuous fine-tuning: its base counts
    ("babbage-002", None, False),
    (pol.UNKNOWN, ["gpt-4o-mini"], True),  # another job's model: that job is checked itself
])
def test_allowed_base_models(model, allowed, ok):
    config = {"allowed_base_models": allowed} if allowed else {}
    found = pol.allowed_base_models({**JOB, "base_model": model}, config)
    assert (found == []) is ok
    if not ok:
        assert "is not allowed" in found[0]


def test_allowed_regions_use_the_account_mapping():
    config = {"allowed_regions": ["northcentralus", "swedencentral"],
              "account_regions": {"aoai-ncus": "northcentralus", SUB + "aoai-eus2": "eastus2"}}
    assert pol.allowed_regions(JOB, config) == []
    assert pol.allowed_regions(FILE, config) == [
        "account aoai-eus2 is in eastus2; allowed regions: northcentralus, swedencentral"]
    other = {**DEP, "source_account": {"resource_id": SUB + "aoai-west"}}
    assert "its region is not known" in pol.allowed_regions(other, config)[0]
    assert pol.allowed_regions(other, {**config, "allow_unmapped_accounts": True}) == []
    assert pol.allowed_regions(FILE, {}) == []  # not configured: not applicable


@pytest.mark.parametrize("suffix, config, message", [
    ("team-chat", {"required_suffix": "team-"}, None),
    (None, {}, "must set a suffix"),
    ("chat", {"required_suffix": "team-"}, "must start with 'team-'"),
    ("team-Chat", {"suffix_pattern": "^[a-z-]+$"}, "does not match"),
    (pol.UNKNOWN, {"required_suffix": "team-"}, None),
])
def test_required_suffix(suffix, config, message):
    props = {k: v for k, v in {**JOB, "suffix": suffix}.items() if v is not None}
    found = pol.required_suffix(props, config)
    assert (message is None and found == []) or (message and message in found[0])


def test_adopted_jobs_need_no_suffix():
    assert pol.required_suffix({**{k: v for k, v in JOB.items() if k != "suffix"}, "adopt_job_id": "ftjob-1"}, {}) == []


@pytest.mark.parametrize("sku, config, ok", [
    ({"name": "Standard", "capacity": 5}, {}, True),
    ({"name": "Standard", "capacity": 51}, {}, False),
    ({"name": "Standard", "capacity": 20.0}, {"max_capacity": 10.0}, False),
    ({"name": "GlobalStandard", "capacity": 200}, {"max_capacity_by_sku": {"globalstandard": 300}}, True),
    ({"name": "Standard", "capacity": pol.UNKNOWN}, {"max_capacity": 1}, True),
])
def test_max_capacity(sku, config, ok):
    found = pol.max_capacity({**DEP, "sku": sku}, config)
    assert (found == []) is ok
    if not ok:
        assert "above the allowed maximum" in found[0] and ".0" not in found[0]


def test_quality_gate_required_for_fine_tuned_models():
    found = pol.quality_gate(DEP, {})
    assert any("must have a quality_gate" in m for m in found) and any("metrics=job.metrics" in m for m in found)
    assert pol.quality_gate({**DEP, "model": "gpt-4o-mini"}, {}) == []  # a base model
    assert pol.quality_gate(DEP, {"require_quality_gate": False}) == []


def test_no_deployment_of_a_model_that_failed_its_gate():
    props = {**DEP, "metrics": METRICS, "quality_gate": {"max_final_valid_loss": 0.6}}
    found = pol.quality_gate(props, {})
    assert found == [f"model {DEP['model']} misses its quality gate: final validation loss 0.8000 > max 0.6000 "
                     "(30 steps)"]
    assert pol.quality_gate({**props, "quality_gate": {"max_final_valid_loss": 0.9}}, {}) == []


def test_platform_thresholds_apply_on_top_of_the_stack_gate():
    props = {**DEP, "metrics": METRICS, "quality_gate": {"max_final_valid_loss": 0.9}}
    found = pol.quality_gate(props, {"min_final_valid_token_accuracy": 0.8})
    assert found and found[0].startswith("platform gate:") and "0.7500 < min 0.8000" in found[0]


def test_unknown_metrics_at_preview_are_left_to_the_provider():
    props = {**DEP, "model": pol.UNKNOWN, "metrics": pol.UNKNOWN, "quality_gate": {"max_final_valid_loss": 0.1}}
    assert pol.quality_gate(props, {"max_final_valid_loss": 0.1}) == []


def test_plain_unwraps_policy_proxies_and_unknowns():
    from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, unknown_checking_proxy

    proxied = unknown_checking_proxy({"sku": {"name": "Standard", "capacity": UNKNOWN_NUMBER_VALUE},
                                      "tags": ["a", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"]})
    out = pol.plain(proxied)
    assert out == {"sku": {"name": "Standard", "capacity": pol.UNKNOWN}, "tags": ["a", pol.UNKNOWN]}


def test_evaluate_runs_every_rule_on_this_projects_resources_only():
    config = {"aoai-ft-max-capacity": {"max_capacity": 2}, "aoai-ft-quality-gate": {"require_quality_gate": False}}
    assert pol.evaluate(TYPED + "ModelDeployment", DEP, config) == {
        "aoai-ft-max-capacity": ["sku Standard capacity 5 is above the allowed maximum 2"]}
    assert pol.evaluate("azure-native:storage:Account", DEP, config) == {}


def test_the_pack_declares_every_rule_with_a_config_schema():
    from pulumi_policy import PolicyConfigSchema

    for name, (description, rule, schema) in pol.RULES.items():
        assert name.startswith("aoai-ft-") and description and callable(rule)
        PolicyConfigSchema(properties=schema)  # valid for pulumi_policy
    assert (POLICY / "PulumiPolicy.yaml").is_file() and (POLICY / "run-policy-pack").stat().st_mode & 0o111


def test_the_plugins_resources_are_checked_alike():
    config = {"aoai-ft-max-capacity": {"max_capacity": 2}, "aoai-ft-quality-gate": {"require_quality_gate": False}}
    camel = {("deploymentName" if k == "deployment_name" else k): v for k, v in DEP.items()}
    assert pol.evaluate("aoai-finetune:index:ModelDeployment", camel, config) == \
        pol.evaluate(TYPED + "ModelDeployment", DEP, config) != {}
