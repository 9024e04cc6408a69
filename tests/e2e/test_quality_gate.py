"""Quality gates under the real engine: a model that misses its gate is never deployed; and the
policy pack (pulumi-policy) run by the CLI with --policy-pack."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

from .harness import REPO, write_chat_jsonl

DEPLOYMENT_PUT = r"/deployments/[^/]+$"
POLICY_PACK = REPO / "policy" / "run-policy-pack"

# The pipeline program, plus a deployment's metrics wired from a job: "metrics": "job:<name>".
PROGRAM = '''
import os

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile
from pulumi_aoai_finetune.quality import QualityGateArgs

spec = pulumi.Config("test").require_object("spec")
sub, rg = spec["subscription"], spec["resource_group"]


def account(name):
    return AccountArgs(resource_id=AccountArgs.id_for(sub, rg, name))


files = {}
for key, f in spec["files"].items():
    f = dict(f)
    f.setdefault("project_dir", os.path.dirname(f["path"]))  # the tests keep their data outside the project
    files[key] = TrainingFile(key, account=account(f.pop("account")), **f)
jobs = {}
for key, j in spec["jobs"].items():
    j = dict(j)
    valid = j.pop("validation_file", None)
    jobs[key] = FineTuningJob(key, account=account(j.pop("account")), training_file=files[j.pop("training_file")],
                              validation_file=files.get(valid), **j)
    pulumi.export(f"{key}_metrics", jobs[key].metrics)
    pulumi.export(f"{key}_job_id", jobs[key].job_id)
for key, d in spec["deployments"].items():
    d = dict(d)
    job = jobs[d.pop("model")[4:]]
    metrics = job.metrics if d.pop("metrics", None) else None
    gate = d.pop("quality_gate", None)
    dep = ModelDeployment(key, account=account(d.pop("account")), model=job.fine_tuned_model, metrics=metrics,
                          quality_gate=QualityGateArgs(**gate) if gate else None, **d)
    pulumi.export(f"deployment_{key}", dep.deployment_name)
'''


def use_program(stack) -> None:
    (stack.project / "__main__.py").write_text(PROGRAM, encoding="utf-8")


def gated_spec(base_spec, tmp_path, gate):
    spec = copy.deepcopy(base_spec)
    spec["files"]["valid"] = {"account": "aoai-ncus", "path": str(write_chat_jsonl(tmp_path / "valid.jsonl", 10))}
    spec["jobs"]["job"]["validation_file"] = "valid"
    spec["deployments"]["ncus"].update({"metrics": True, "quality_gate": gate})
    return spec


def state_names(stack) -> set[str]:
    return {r["urn"].split("::")[-1] for r in stack.export()["deployment"].get("resources", [])}


def test_model_missing_its_gate_is_refused_then_deployed_when_the_gate_allows(stack, base_spec, tmp_path,
                                                                               requests_log):
    use_program(stack)
    stack.set_spec(gated_spec(base_spec, tmp_path, {"max_final_valid_loss": 0.01}))
    mark = requests_log.mark()

    # The metrics arrive during this `up` (the job trains first): the deployment is refused before
    # any ARM call, with the numbers.
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ncus" in text and "misses its quality gate: final validation loss" in text
    assert "> max 0.0100" in text and "36 steps" in text
    assert requests_log.matching(requests_log.since(mark), "PUT", DEPLOYMENT_PUT) == []
    assert "job" in state_names(stack) and "ncus" not in state_names(stack)
    job = next(r for r in stack.export()["deployment"]["resources"] if r["urn"].endswith("::job"))
    metrics = job["outputs"]["metrics"]
    loss = metrics["final_full_valid_loss"]
    assert f"final validation loss {loss:.4f} > max 0.0100" in text

    # Now the metrics are known: the preview itself fails, quoting the numbers.
    preview = stack.preview(check=False)
    assert preview.returncode != 0
    assert f"final validation loss {loss:.4f} > max 0.0100" in preview.stdout + preview.stderr
    # ... and `aoai-ft review` of that preview says so
    failing = tmp_path / "failing-preview.json"
    failing.write_text(stack.run("preview", "--json", check=False).stdout, encoding="utf-8")
    md = subprocess.run([str(REPO / ".venv" / "bin" / "aoai-ft"), "review", str(failing)], capture_output=True,
                        text=True, env=stack.env(), timeout=300).stdout
    assert "**The preview failed**" in md
    assert f"misses its quality gate: final validation loss {loss:.4f} > max 0.0100" in md

    # A gate the model meets: deployed.
    stack.set_spec(gated_spec(base_spec, tmp_path, {"max_final_valid_loss": round(loss + 0.5, 2),
                                                     "min_final_valid_token_accuracy": 0.1}))
    stack.up()
    assert "ncus" in state_names(stack)
    assert requests_log.matching(requests_log.since(mark), "PUT", DEPLOYMENT_PUT)

    # Changing the gate alone updates in place without touching the deployment.
    stack.set_spec(gated_spec(base_spec, tmp_path, {"max_final_valid_loss": round(loss + 1.0, 2)}))
    preview = stack.preview()
    assert "replace" not in preview.stdout.split("Resources:")[-1]
    mark = requests_log.mark()
    stack.up()
    assert requests_log.writes(requests_log.since(mark)) == []


def _policy_config(tmp_path: Path, **overrides) -> Path:
    config = {
        "aoai-ft-allowed-base-models": {"allowed_base_models": ["gpt-4o-mini"]},
        "aoai-ft-allowed-regions": {"allowed_regions": ["northcentralus"],
                                    "account_regions": {"aoai-ncus": "northcentralus", "aoai-swc": "swedencentral"}},
        "aoai-ft-required-suffix": {"required_suffix": "e2e"},
        "aoai-ft-max-capacity": {"max_capacity": 2},
        "aoai-ft-quality-gate": {"require_quality_gate": True},
    }
    config.update(overrides)
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(config))
    return path


def test_policy_pack_under_the_cli(stack, base_spec, tmp_path):
    use_program(stack)
    spec = gated_spec(base_spec, tmp_path, {"max_final_valid_loss": 5.0})
    stack.set_spec(spec)
    ok = stack.run("preview", "--policy-pack", str(POLICY_PACK), "--policy-pack-config", str(_policy_config(tmp_path)))
    assert "aoai-finetune-guardrails" in ok.stdout and "mandatory" not in ok.stdout

    bad = copy.deepcopy(spec)
    bad["jobs"]["job"]["suffix"] = "adhoc"
    bad["deployments"]["ncus"]["sku"]["capacity"] = 5
    bad["deployments"]["swc"] = {"account": "aoai-swc", "model": "job:job", "sku": {"name": "Standard", "capacity": 1}}
    stack.set_spec(bad)
    result = stack.run("preview", "--policy-pack", str(POLICY_PACK), "--policy-pack-config",
                       str(_policy_config(tmp_path)), check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "aoai-ft-required-suffix" in out and "suffix 'adhoc' must start with 'e2e'" in out
    assert "aoai-ft-max-capacity" in out and "capacity 5 is above the allowed maximum 2" in out
    assert "aoai-ft-allowed-regions" in out and "account aoai-swc is in swedencentral" in out
    assert "aoai-ft-quality-gate" in out and "must have a quality_gate" in out  # swc has no gate

    # After training, the metrics are known to the policy: a platform threshold the model misses
    # blocks its deployment.
    stack.set_spec(spec)
    stack.up()
    strict = _policy_config(tmp_path, **{"aoai-ft-quality-gate": {"max_final_valid_loss": 0.01}})
    result = stack.run("preview", "--policy-pack", str(POLICY_PACK), "--policy-pack-config", str(strict), check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "platform gate:" in out and "> max 0.0100" in out
