"""stacks/__main__.py under pulumi.runtime.set_mocks: what each stack file declares."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("mock_run.py")


def run(stack: str, config: dict | None = None, ref_outputs: dict | None = None) -> dict:
    args = [sys.executable, str(RUNNER), stack, "--ref-outputs", json.dumps(ref_outputs or {})]
    if config is not None:
        args += ["--config-json", json.dumps(config)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def by_kind(result: dict) -> dict[str, list[dict]]:
    kinds: dict[str, list[dict]] = {"file": [], "job": [], "deployment": [], "evaluation": [], "azure": []}
    for r in result["resources"]:
        i = r["inputs"]
        if r["type"].startswith("azure-native:"):
            kinds["azure"].append(r)
        elif "purpose" in i:
            kinds["file"].append(r)
        elif "base_model" in i:
            kinds["job"].append(r)
        elif "cases" in i:
            kinds["evaluation"].append(r)
        elif "deployment_name" in i:
            kinds["deployment"].append(r)
    return kinds


def test_local_trains_once_and_deploys_in_two_regions_with_source_for_the_other():
    k = by_kind(run("local"))
    assert sorted(f["name"] for f in k["file"]) == ["training-data", "validation-data"]  # registered concurrently
    assert len(k["job"]) == 1 and k["job"][0]["inputs"]["suffix"] == "support"
    deps = {d["name"]: d["inputs"] for d in k["deployment"]}
    assert set(deps) == {"ncus-support", "swc-support"}
    assert deps["ncus-support"].get("source_account") is None
    assert deps["swc-support"]["source_account"]["resource_id"].endswith("/accounts/aoai-ncus")
    assert deps["swc-support"]["model"] == "gpt-4o-mini-2024-07-18.ft-mock"
    assert k["azure"] == []
    (evaluation,) = k["evaluation"]  # the ncus deployment on the held-out questions
    inputs = evaluation["inputs"]
    assert (inputs["deployment_name"], inputs["model"]) == ("support", "gpt-4o-mini-2024-07-18.ft-mock")
    assert inputs["account"]["resource_id"].endswith("/accounts/aoai-ncus")
    assert inputs["cases"] == str(REPO / "data" / "eval.jsonl") and inputs["max_tokens"] == 256


def test_dev_creates_the_surroundings_with_azure_native():
    k = by_kind(run("dev"))
    types = sorted(r["type"] for r in k["azure"])
    assert "azure-native:resources:ResourceGroup" in types
    assert "azure-native:cognitiveservices:Account" in types
    assert "azure-native:authorization:RoleAssignment" in types
    role = next(r for r in k["azure"] if r["type"].endswith("RoleAssignment"))["inputs"]
    assert role["roleDefinitionId"].endswith("a001fd3d-188f-4b5d-821b-7da978bf7442")
    assert len(k["job"]) == 1


DEV_OUTPUTS = {"fine_tuned_model": "gpt-4o-mini-2024-07-18.ft-abc-support",
               "training_account_id": "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-finetune-dev"
                                      "/providers/Microsoft.CognitiveServices/accounts/contoso-ft-dev-ncus",
               "metrics": {"final_valid_loss": 0.4, "final_valid_token_accuracy": 0.9}}


def test_staging_promotes_dev_model_without_training_and_with_source():
    k = by_kind(run("staging", ref_outputs=DEV_OUTPUTS))
    assert k["file"] == [] and k["job"] == []
    (dep,) = k["deployment"]
    assert dep["inputs"]["model"] == DEV_OUTPUTS["fine_tuned_model"]
    assert dep["inputs"]["source_account"] == DEV_OUTPUTS["training_account_id"]


def test_staging_gate_refuses_a_model_with_bad_metrics():
    bad = dict(DEV_OUTPUTS, metrics={"final_valid_loss": 0.9, "final_valid_token_accuracy": 0.9})
    result = run("staging", ref_outputs=bad)
    assert "refusing to promote" in result.get("error", "") and "final_valid_loss is 0.9 (needed: <= 0.6)" in result["error"]


PINNED = "gpt-4o-mini-2024-07-18.ft-0123456789abcdef0123456789abcdef-support"


def staging_evaluation(model: str = PINNED, passed: int = 14) -> dict:
    return {"evaluation": {"model": model, "deployment_name": "support", "cases_sha256": "ab" * 32, "cases_run": 15,
                           "passed_cases": passed, "pass_rate": round(passed / 15, 4),
                           "pass_rate_per_grader": {"contains": round(passed / 15, 4)}, "errors": 0}}


def test_staging_evaluates_its_deployment_and_exports_the_results():
    result = run("staging", ref_outputs=DEV_OUTPUTS)
    (evaluation,) = by_kind(result)["evaluation"]
    assert evaluation["inputs"]["model"] == DEV_OUTPUTS["fine_tuned_model"]
    assert result["outputs"]["evaluation"]["model"] == DEV_OUTPUTS["fine_tuned_model"]


def test_prod_deploys_the_pinned_model_in_two_regions_once_staging_evaluated_it():
    k = by_kind(run("prod", ref_outputs=staging_evaluation()))
    assert k["job"] == [] and k["evaluation"] == []
    models = {d["inputs"]["model"] for d in k["deployment"]}
    assert models == {PINNED}
    assert all(d["inputs"]["source_account"].endswith("contoso-ft-dev-ncus") for d in k["deployment"])
    assert {d["inputs"]["sku"]["capacity"] for d in k["deployment"]} == {10}


def test_prod_refuses_a_model_whose_evaluation_missed_the_gate_or_that_was_not_evaluated():
    missed = run("prod", ref_outputs=staging_evaluation(passed=9))["error"]
    assert missed.startswith(f"finetune:pipeline.promote.gate: refusing to promote {PINNED}: ")
    assert "evaluation pass rate 0.6000 < min 0.8000 (9 of 15 cases passed; model " in missed
    other = run("prod", ref_outputs=staging_evaluation(model=PINNED + "-v2"))["error"]
    assert f"the evaluation is of model {PINNED}-v2, not of {PINNED}" in other
    assert "has no evaluation" in run("prod", ref_outputs={})["error"]


def test_config_error_fails_before_any_resource():
    cfg = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]
    cfg["finetune:pipeline"]["training"]["suffix"] = "way-too-long-" * 5
    result = run("local", config=cfg)
    assert result["error"].startswith("finetune:pipeline.training.suffix:")
    assert result["resources"] == []


def test_reinforcement_passes_the_grader_to_the_files_and_the_job():
    cfg = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]
    grader = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
              "reference": "{{item.answer}}", "operation": "eq"}
    cfg["finetune:pipeline"]["training"].update(method="reinforcement", grader=grader,
                                                base_model="o4-mini-2025-04-16")
    for d in cfg["finetune:pipeline"]["deployments"]:  # fine-tuned o4-mini: Standard in eastus2/swedencentral only
        d["sku"] = {"name": "GlobalStandard", "capacity": 1}
    k = by_kind(run("local", config=cfg))
    assert [(f["inputs"]["method"], f["inputs"]["grader"]) for f in k["file"]] == [("reinforcement", grader)] * 2
    (job,) = k["job"]
    assert job["inputs"]["method"] == {"type": "reinforcement", "reinforcement": {"grader": grader}}
    assert job["inputs"]["validation_file"]
