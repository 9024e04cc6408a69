"""aoai-ft review on `pulumi preview --json` produced by the real CLI, and aoai-ft report on a job
trained through the engine."""

from __future__ import annotations

import copy
import json
import subprocess

from PIL import Image

from .harness import REPO, write_chat_jsonl

AOAI_FT = str(REPO / ".venv" / "bin" / "aoai-ft")


def review(stack, tmp_path, name: str, *extra: str) -> str:
    """Preview with the real CLI, write the JSON to a file, run `aoai-ft review` on it."""
    return review_of(stack.preview_json(), stack, tmp_path, name, *extra)


def review_of(doc: dict, stack, tmp_path, name: str, *extra: str) -> str:
    """`aoai-ft review` of a `pulumi preview --json` document, as Markdown."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / f"{name}.md"
    result = subprocess.run([AOAI_FT, "review", str(path), "--out", str(out), "--region", "aoai-ncus=northcentralus",
                             "--region", "aoai-swc=swedencentral", *extra],
                            capture_output=True, text=True, env=stack.env(), timeout=300)
    assert result.returncode == 0, result.stderr
    return out.read_text(encoding="utf-8")


def test_review_of_real_previews(stack, base_spec, tmp_path, emulator):
    spec = copy.deepcopy(base_spec)
    stack.set_spec(spec)

    # First preview: everything is new; one paid training run; one deployment added.
    md = review(stack, tmp_path, "create")
    assert "**1 new paid training run**" in md
    assert "| `job` | FineTuningJob | create | new training run; **starts a new paid training run** |" in md
    assert "| `aoai-ncus` | northcentralus | `ncus` | - | - | - | - | 1 |" in md
    assert "| Training `job` (gpt-4o-mini-2024-07-18) | <$0.01 | " in md and "x 3 epochs at $3.00/1M" in md
    assert "| Hosting after the change | $1.70/hour" in md
    assert "promotes a fine-tuned model without metrics" in md

    stack.up()
    outputs = stack.outputs()

    # Nothing changed: no training run, nothing to warn about a replacement.
    md = review(stack, tmp_path, "noop")
    assert "No fine-tuning resource changes." in md and "no new training run" in md

    # Capacity only: the deployment is updated in place, no training run.
    spec["deployments"]["ncus"]["sku"]["capacity"] = 2
    stack.set_spec(spec)
    md = review(stack, tmp_path, "capacity")
    assert "| `ncus` | ModelDeployment | update | sku.capacity: 1 -> 2 |" in md
    assert "no new training run" in md and "instead of updated" not in md

    # New training data and a second region: a new paid run, the deployment replaced with the
    # retrained model (a warning), a deployment added in swedencentral.
    write_chat_jsonl(tmp_path / "train.jsonl", 12, marker="changed")
    spec["deployments"]["swc"] = {"account": "aoai-swc", "model": "job:job", "source": "aoai-ncus",
                                  "sku": {"name": "Standard", "capacity": 1}}
    stack.set_spec(spec)
    md = review(stack, tmp_path, "data")
    assert "**1 new paid training run**" in md
    assert "| `train` | TrainingFile | **replace** | the data changed (content SHA-256 differs)" in md
    assert "| `job` | FineTuningJob | **replace** | training_file: the data of `train` changed; " \
           "**starts a new paid training run** |" in md
    assert f"last run `{outputs['job_job_id']}` -> `{outputs['job_fine_tuned_model']}`: final training loss" in md
    assert "| `aoai-ncus` | northcentralus | - | - | `ncus` | - | - | 1 |" in md
    assert "| `aoai-swc` | swedencentral | `swc` | - | - | - | - | 1 |" in md
    assert "Deployment `ncus` in `aoai-ncus` will be **replaced** instead of updated (model changed): it is " \
           "deleted first" in md
    assert "| Hosting change | +$1.70/hour | before: $1.70/hour |" in md

    # Renaming a deployment replaces it: flagged.
    write_chat_jsonl(tmp_path / "train.jsonl", 12)
    spec = copy.deepcopy(base_spec)
    spec["deployments"]["ncus"]["deployment_name"] = "ncus-renamed"
    stack.set_spec(spec)
    md = review(stack, tmp_path, "rename")
    assert "no new training run" in md
    assert "Deployment `ncus` in `aoai-ncus` will be **replaced** instead of updated (deployment_name changed)" in md

    # Removing the deployment: its hourly fee stops.
    spec["deployments"] = {}
    stack.set_spec(spec)
    md = review(stack, tmp_path, "remove")
    assert "| `ncus` | ModelDeployment | **delete** |" in md and "-$1.70/hour" in md


def test_report_of_a_job_trained_through_the_engine(stack, base_spec, tmp_path, emulator):
    spec = copy.deepcopy(base_spec)
    spec["files"]["valid"] = {"account": "aoai-ncus", "path": str(write_chat_jsonl(tmp_path / "valid.jsonl", 10))}
    spec["jobs"]["job"]["validation_file"] = "valid"
    spec["deployments"] = {}
    stack.set_spec(spec)
    stack.up()
    job_id = stack.outputs()["job_job_id"]
    account = emulator.backend.account("aoai-ncus")["id"]
    env = {**stack.env(), "AOAI_FT_ARM_ENDPOINT": emulator.base_url, "AOAI_FT_CREDENTIAL": "token",
           "AOAI_FT_ALLOW_INSECURE_LOOPBACK": "true"}
    out = tmp_path / "report"
    result = subprocess.run([AOAI_FT, "report", job_id, "--account", account, "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "steps 36, epochs 3" in result.stdout and "overfitting:" in result.stdout
    with Image.open(out / f"{job_id}.png") as img:
        assert img.format == "PNG" and img.size == (1200, 800)
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20)) > 1
