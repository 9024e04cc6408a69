"""stacks/config.py: every stack file parses; every mistake names its config key."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "stacks"))

from config import ConfigError, parse  # noqa: E402

STACKS = sorted(p.name.split(".")[1] for p in (REPO / "stacks").glob("Pulumi.*.yaml"))


def pipeline_of(stack: str) -> dict:
    return yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]["finetune:pipeline"]


def test_the_four_environments_exist():
    assert set(STACKS) >= {"local", "dev", "staging", "prod"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_is_valid(stack):
    p = parse(pipeline_of(stack))
    assert p.deployments


LOCAL = pipeline_of("local")


def mutate(path: str, value):
    cfg = copy.deepcopy(LOCAL)
    node = cfg
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return cfg


@pytest.mark.parametrize("path, value, key, message", [
    ("accounts.ncus.region", "mars-central", "accounts.ncus.region", "unknown Azure region"),
    ("accounts.ncus.colour", "blue", "accounts.ncus.colour", "unknown key"),
    ("accounts.ncus.name", "bad name!", "accounts.ncus.name", "not a valid account name"),
    ("accounts.ncus.id", "/subscriptions/x", "accounts.ncus", "exactly one of id"),
    ("accounts", {}, "accounts", "non-empty mapping"),
    ("trainning", {}, "trainning", "unknown key"),
    ("training.suffix", "x" * 41, "training.suffix", "1 to 40 characters"),
    ("training.suffix", "a;b", "training.suffix", "1 to 40 characters"),
    ("training.account", "westeu", "training.account", "not one of the accounts"),
    ("training.base_model", KeyError, "training.base_model", "is required"),
    ("training.data", {"validation": "x"}, "training.data.training", "is required"),
    ("training.hyperparameters", {"n_epochs": 0}, "training.hyperparameters.n_epochs", "integer from 1 to 50"),
    ("training.hyperparameters", {"n_epochs": "3"}, "training.hyperparameters.n_epochs", "integer from 1 to 50"),
    ("training.hyperparameters", {"learning_rate_multiplier": float("nan")},
     "training.hyperparameters.learning_rate_multiplier", "positive number"),
    ("training.hyperparameters", {"learning_rate_multiplier": -0.1},
     "training.hyperparameters.learning_rate_multiplier", "positive number"),
    ("training.hyperparameters", {"warmup": 3}, "training.hyperparameters.warmup", "unknown key"),
    ("training.seed", -1, "training.seed", "integer from 0"),
    ("training.method", "rlhf", "training.method", "must be one of"),
    ("training.timeout", "forever", "training.timeout", "duration"),
    ("training.wait", "yes", "training.wait", "true or false"),
    ("deployments.0.sku", {"name": "Standard", "capacity": 0}, "deployments[0].sku.capacity", "integer from 1"),
    ("deployments.0.sku", {"name": "Standard", "capacity": 10**9}, "deployments[0].sku.capacity", "integer from 1"),
    ("deployments.0.sku", {"name": "Standard", "capacity": "2"}, "deployments[0].sku.capacity", "integer from 1"),
    ("deployments.0.sku", {"name": "Gold", "capacity": 1}, "deployments[0].sku.name", "must be one of"),
    ("deployments.0.account", "nowhere", "deployments[0].account", "not one of the accounts"),
    ("deployments.0.name", "x", "deployments[0].name", "2 to 64"),
    ("deployments.1.account", "ncus", "deployments[1].name", "declared twice"),
    ("deployments.0.checkpoint", -4, "deployments[0].checkpoint", "integer from -3 to -1"),
    ("deployments", {"a": 1}, "deployments", "expected a list"),
])
def test_mistakes_name_the_config_key(path, value, key, message):
    with pytest.raises(ConfigError) as err:
        parse(mutate(path, value))
    text = str(err.value)
    assert text.startswith(f"finetune:pipeline.{key}:"), text
    assert message in text


GRADER = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
          "reference": "{{item.answer}}", "operation": "eq"}


def test_reinforcement_takes_the_grader():
    cfg = mutate("training.method", "reinforcement")
    cfg["training"]["base_model"] = "o4-mini-2025-04-16"
    cfg["training"]["grader"] = GRADER
    for d in cfg["deployments"]:  # fine-tuned o4-mini: Standard in eastus2/swedencentral only (DP1)
        d["sku"] = {"name": "GlobalStandard", "capacity": 1}
    t = parse(cfg).training
    assert t.method == "reinforcement" and t.grader == GRADER


@pytest.mark.parametrize("change, key, message", [
    ({"method": "reinforcement"}, "training.grader", "needs the grader"),
    ({"method": "reinforcement", "grader": "string_check"}, "training.grader", "grader object with a type"),
    ({"method": "reinforcement", "grader": GRADER, "data": {"training": "data/train.jsonl"}},
     "training.data.validation", "needs a validation file"),
    ({"method": "supervised", "grader": GRADER}, "training.grader", "reinforcement only"),
])
def test_reinforcement_mistakes_name_the_key(change, key, message):
    cfg = copy.deepcopy(LOCAL)
    cfg["training"].update(change)
    with pytest.raises(ConfigError) as err:
        parse(cfg)
    assert str(err.value).startswith(f"finetune:pipeline.{key}:") and message in str(err.value)


def test_training_and_promote_are_exclusive():
    cfg = copy.deepcopy(LOCAL)
    cfg["promote"] = {"stack": "organization/finetune/dev"}
    with pytest.raises(ConfigError, match="exactly one of training"):
        parse(cfg)


def test_pinned_promotion_needs_the_source_account():
    cfg = pipeline_of("prod")
    del cfg["promote"]["source_account"]
    with pytest.raises(ConfigError, match="promote.source_account: is required"):
        parse(cfg)


def test_gate_failures_quote_the_numbers():
    gate = parse(pipeline_of("staging")).promote.gate
    assert gate.failures({"final_valid_loss": 0.5, "final_valid_token_accuracy": 0.9}) == []
    problems = gate.failures({"final_valid_loss": 0.75, "final_valid_token_accuracy": 0.7})
    assert problems == ["final_valid_loss is 0.75 (needed: <= 0.6)", "final_valid_token_accuracy is 0.7 (needed: >= 0.8)"]
    assert "no recorded metrics" in gate.failures(None)[0]


def test_evaluation_and_its_gate():
    local = parse(pipeline_of("local")).evaluation
    assert (local.deployment.account, local.deployment.name, local.cases, local.max_tokens) == \
        ("ncus", "support", "data/eval.jsonl", 256)
    gate = parse(pipeline_of("prod")).promote.gate
    assert (gate.evaluation.stack, gate.evaluation.min_pass_rate) == ("organization/finetune/staging", 0.8)
    assert not gate.gates_metrics and gate.failures(None) == []  # a pinned model: no metrics to gate
    assert parse(pipeline_of("staging")).promote.gate.evaluation is None


@pytest.mark.parametrize("change, key", [
    (lambda p: p["evaluation"].update(deployment="nope"), "evaluation.deployment"),
    (lambda p: p["evaluation"].pop("account"), "evaluation.account"),  # support is in ncus and swc
    (lambda p: p["evaluation"].pop("cases"), "evaluation.cases"),
    (lambda p: p["evaluation"].update(max_tokens=0), "evaluation.max_tokens"),
    (lambda p: p["evaluation"].update(model_grader={"account": "ncus"}), "evaluation.model_grader.deployment"),
    (lambda p: p["evaluation"].update(model_grader={"deployment": "judge", "account": "x"}),
     "evaluation.model_grader.account"),
    (lambda p: p["evaluation"].update(extra=1), "evaluation.extra"),
])
def test_evaluation_mistakes_name_the_key(change, key):
    pipeline = pipeline_of("local")
    change(pipeline)
    with pytest.raises(ConfigError) as err:
        parse(pipeline)
    assert str(err.value).startswith(f"finetune:pipeline.{key}:"), str(err.value)


@pytest.mark.parametrize("gate, key", [
    ({"evaluation": {"min_pass_rate": 1.5}}, "promote.gate.evaluation.min_pass_rate"),
    ({"evaluation": {"min_pass_rate_per_grader": {"regexp": 0.5}}}, "promote.gate.evaluation.min_pass_rate_per_grader"),
    ({"evaluation": {"stack": "o/p/s"}}, "promote.gate.evaluation"),
    ({"evaluation": {"min_pass_rate": 0.5, "minimum": 1}}, "promote.gate.evaluation.minimum"),
    ({}, "promote.gate"),
])
def test_evaluation_gate_mistakes_name_the_key(gate, key):
    pipeline = pipeline_of("staging")
    pipeline["promote"]["gate"] = gate
    with pytest.raises(ConfigError) as err:
        parse(pipeline)
    assert str(err.value).startswith(f"finetune:pipeline.{key}:"), str(err.value)
    pinned = pipeline_of("prod")
    pinned["promote"]["gate"] = {"evaluation": {"min_pass_rate": 0.5}}
    with pytest.raises(ConfigError, match=r"promote\.gate\.evaluation\.stack: is required with a pinned model"):
        parse(pinned)


def test_a_standard_deployment_of_a_fine_tuned_model_where_azure_has_none_fails_naming_the_key():
    """Rule DP1: the prod stack deployed a fine-tuned gpt-4o-mini as Standard in East US 2."""
    import yaml

    from config import ConfigError, parse

    prod = yaml.safe_load((Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.prod.yaml").read_text())
    pipeline = prod["config"]["finetune:pipeline"]
    parse(pipeline)  # as shipped: GlobalStandard in East US 2
    pipeline["deployments"][0]["sku"]["name"] = "Standard"
    with pytest.raises(ConfigError) as info:
        parse(pipeline)
    assert "deployments[0].sku.name" in str(info.value) and "northcentralus, swedencentral" in str(info.value)


def test_the_last_checkpoint_and_the_model_in_one_account_are_the_same_model():
    """Rule CK1: checkpoint -1 is the fine-tuned model itself: deploying both in one account is refused."""
    pipeline = pipeline_of("local")
    pipeline.pop("evaluation", None)
    pipeline["deployments"] = [{"account": "ncus", "name": "final"},
                               {"account": "ncus", "name": "last-epoch", "checkpoint": -1}]
    with pytest.raises(ConfigError, match=r"deployments\[1\]: .*same model in account 'ncus'"):
        parse(pipeline)
    pipeline["deployments"][1]["checkpoint"] = -2
    parse(pipeline)
