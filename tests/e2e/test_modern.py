"""2026 scenarios under the real engine: global training of gpt-4.1-mini and a developer-tier
deployment that expires (emulator clock) and is redeployed; a DPO job and a tool-calling dataset; a
vision dataset with one bad image reference (preview error); a stack that waits for its turn at the
account's job limit and then asks for an 11th fine-tuned deployment (preview error)."""

from __future__ import annotations

import copy
from pathlib import Path

import httpx
import pytest
import yaml

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

from .conftest import set_clock
from .harness import REPO, Stack, write_chat_jsonl

DATA = Path(__file__).resolve().parent / "modern"
MINI41 = "gpt-4.1-mini-2025-04-14"
JOB_CREATE = r"/openai/fine_tuning/jobs$"
DAY = 24 * 3600


def _spec(emulator, **parts) -> dict:
    return {"subscription": emulator.config.subscription_id, "resource_group": emulator.config.resource_group,
            **parts}


def _text(result) -> str:
    return result.stdout + result.stderr


def test_global_training_and_a_developer_tier_deployment_that_expires(stack, emulator, emu, requests_log, tmp_path):
    train = write_chat_jsonl(tmp_path / "train.jsonl", 12)
    stack.set_spec(_spec(
        emulator,
        files={"train": {"account": "aoai-eus2", "path": str(train), "model": MINI41}},
        # East US 2 has no Standard training for gpt-4.1-mini: global training lifts that
        jobs={"job": {"account": "aoai-eus2", "base_model": MINI41, "training_type": "GlobalStandard",
                      "training_file": "train", "hyperparameters": {"n_epochs": 1}, "suffix": "glob"}},
        deployments={"dev": {"account": "aoai-eus2", "model": "job:job", "sku": {"name": "DeveloperTier",
                                                                                  "capacity": 1}}}))
    stack.up()
    out = stack.outputs()
    assert out["job_status"] == "succeeded" and out["job_fine_tuned_model"].startswith(MINI41 + ".ft-")
    assert out["deployment_dev"]["sku"]["name"] == "DeveloperTier" and out["deployment_dev"]["state"] == "Succeeded"
    log = requests_log.all()
    create = requests_log.matching(log, "POST", JOB_CREATE)
    assert len(create) == 1 and "api-version=2025-04-01-preview" in create[0]["query"]
    job = emulator.backend.store["jobs"][out["job_job_id"]]
    assert job["trainingType"] == "GlobalStandard"  # the documented spelling, exactly (rule T1)
    puts = requests_log.matching(log, "PUT", r"/deployments/dev$")
    assert puts and all("api-version=2025-07-01-preview" in e["query"] for e in puts)

    # 24 hours later Azure has removed the developer-tier deployment: the preview says why ...
    set_clock(emu, advance_seconds=DAY + 60)
    assert "aoai-eus2/dev" not in emulator.backend.store["deployments"]
    preview = stack.preview()
    assert "developer-tier deployments expire after 24 h" in _text(preview)
    assert "redeploy_expired" in _text(preview)
    # ... and the next `pulumi up` redeploys it, without training again
    up = stack.up()
    assert "redeploying expired developer-tier deployment dev" in _text(up)
    assert emulator.backend.store["deployments"]["aoai-eus2/dev"]["provisioningState"] == "Succeeded"
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1

    # `pulumi refresh` notices it too, with the same reason; `up` creates it again
    set_clock(emu, advance_seconds=DAY + 60)
    assert "developer-tier deployments expire after 24 h" in _text(stack.refresh())
    assert stack.resources("dev") == []
    stack.up()
    assert emulator.backend.store["deployments"]["aoai-eus2/dev"]["provisioningState"] == "Succeeded"


def test_a_dpo_job_and_a_tool_calling_dataset(stack, emulator):
    stack.set_spec(_spec(
        emulator,
        files={"prefs": {"account": "aoai-ncus", "path": str(DATA / "prefs.jsonl"), "model": MINI41, "method": "dpo"},
               "tools": {"account": "aoai-ncus", "path": str(DATA / "tools.jsonl"), "model": MINI41}},
        jobs={"dpo": {"account": "aoai-ncus", "base_model": MINI41, "training_file": "prefs", "suffix": "dpo",
                      "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "l2_multiplier": 0.05,
                                                                             "n_epochs": 1}}}},
              "tools": {"account": "aoai-ncus", "base_model": MINI41, "training_file": "tools", "suffix": "tools",
                        "hyperparameters": {"n_epochs": 1}}}))
    up = stack.up()
    assert "prefs.jsonl: 12 examples" in _text(up) and "tools.jsonl: 12 examples" in _text(up)  # validated as such
    out = stack.outputs()
    assert out["dpo_status"] == "succeeded" and out["dpo_fine_tuned_model"].endswith("-dpo")
    assert out["tools_status"] == "succeeded" and out["tools_fine_tuned_model"].endswith("-tools")
    job = emulator.backend.store["jobs"][out["dpo_job_id"]]
    hp = job["method"]["dpo"]["hyperparameters"]
    assert job["method"]["type"] == "dpo" and (hp["beta"], hp["l2_multiplier"]) == (0.2, 0.05)


def test_a_vision_dataset_with_one_bad_image_reference_fails_the_preview(stack, emulator, requests_log):
    stack.set_spec(_spec(emulator, files={"vision": {"account": "aoai-ncus", "path": str(DATA / "vision-bad.jsonl"),
                                                     "model": "gpt-4.1-2025-04-14"}}))
    result = stack.preview(check=False)
    assert result.returncode != 0
    text = _text(result)
    assert "vision-bad.jsonl:7" in text and "http://example.com/bikes/6.png" in text and "https://" in text
    assert requests_log.writes(requests_log.all()) == []


@pytest.fixture
def limited(tmp_path):
    """An emulator running one job at a time and queueing one more, with quick deployments."""
    config = EmulatorConfig(state_dir=tmp_path / "limited-state", time_scale=300.0,
                            accounts=(("aoai-ncus", "northcentralus"),),
                            extra={"max_running_jobs": 1, "max_queued_jobs": 1,
                                   "fine_tuned_deployment_create_seconds": 30})
    with EmulatorServer(config) as server:
        yield server


def test_jobs_wait_their_turn_then_an_11th_deployment_fails_the_preview(tmp_path, pulumi_bin, limited):
    stack = Stack(tmp_path / "pulumi", pulumi_bin, limited.base_url)
    train = write_chat_jsonl(tmp_path / "train.jsonl", 12)
    jobs = {f"j{n}": {"account": "aoai-ncus", "base_model": "gpt-4o-mini-2024-07-18", "training_file": "train",
                      "hyperparameters": {"n_epochs": 3}, "suffix": f"j{n}"} for n in (1, 2, 3, 4)}
    # ten distinct models: each job's model and its two earlier listed checkpoints (rule CK1: checkpoint -1 is
    # the model itself)
    refs = [r for n in (1, 2, 3, 4) for r in (f"job:j{n}", f"checkpoint:j{n}:-2", f"checkpoint:j{n}:-3")][:10]
    spec = _spec(limited, files={"train": {"account": "aoai-ncus", "path": str(train)}}, jobs=jobs,
                 deployments={f"d{i + 1:02d}": {"account": "aoai-ncus", "model": ref} for i, ref in enumerate(refs)})
    stack.set_spec(spec)
    up = stack.up()  # three jobs, one slot and one queue place: the third waits its turn instead of failing
    assert "waiting for its turn" in _text(up)
    out = stack.outputs()
    assert [out[f"j{n}_status"] for n in (1, 2, 3, 4)] == ["succeeded"] * 4
    with httpx.Client(base_url=limited.base_url) as client:
        assert len(client.get("/_emulator/requests").json()["data"]) > 0
    assert sum(1 for k in limited.backend.store["deployments"] if k.startswith("aoai-ncus/")) == 10

    spec = copy.deepcopy(spec)
    spec["deployments"]["d11"] = {"account": "aoai-ncus", "model": "checkpoint:j4:-3"}
    stack.set_spec(spec)
    result = stack.preview(check=False)
    assert result.returncode != 0
    text = _text(result)
    assert "account aoai-ncus already has 10 fine-tuned deployments" in text and "number 11" in text


def test_the_project_config_refuses_an_11th_deployment_on_one_account(tmp_path, pulumi_bin, emulator):
    stack = Stack(tmp_path / "root", pulumi_bin, emulator.base_url, program="root", name="eleven")
    pipeline = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]
    pipeline["deployments"] = [{"account": "ncus", "name": f"support-{i}"} for i in range(11)]
    path = stack.project / "stacks" / "Pulumi.eleven.yaml"
    doc = yaml.safe_load(path.read_text()) if path.exists() else {}
    doc.setdefault("config", {})["finetune:pipeline"] = pipeline
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = stack.preview(check=False)
    assert result.returncode != 0
    assert ("finetune:pipeline.deployments[10]: 'support-10' would be deployment number 11 in account 'ncus'"
            in _text(result))


RFT_GRADER = {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
              "reference": "{{item.answer}}", "operation": "eq"}


def _rft_file(path: Path, n: int, *, field: str = "answer", missing_at: int | None = None) -> str:
    import json

    rows = []
    for i in range(n):
        row = {"messages": [{"role": "developer", "content": "Reply with the number only."},
                            {"role": "user", "content": f"What is {i} + {i}?"}]}
        if i + 1 != missing_at:
            row[field] = str(2 * i)
        rows.append(json.dumps(row))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_a_reinforcement_job_whose_data_is_checked_against_its_grader(stack, emulator, requests_log, tmp_path):
    o4 = "o4-mini-2025-04-16"
    train = _rft_file(tmp_path / "rft-train.jsonl", 12, missing_at=7)
    valid = _rft_file(tmp_path / "rft-valid.jsonl", 10)
    files = {"train": {"account": "aoai-eus2", "path": train, "model": o4, "method": "reinforcement",
                       "grader": RFT_GRADER},
             "valid": {"account": "aoai-eus2", "path": valid, "model": o4, "method": "reinforcement",
                       "grader": RFT_GRADER}}
    jobs = {"rft": {"account": "aoai-eus2", "base_model": o4, "training_file": "train", "validation_file": "valid",
                    "suffix": "rft", "method": {"type": "reinforcement", "reinforcement": {"grader": RFT_GRADER}}}}
    stack.set_spec(_spec(emulator, files=files, jobs=jobs))
    # a line without the field the grader reads: the preview fails on it, before any upload
    result = stack.preview(check=False)
    assert result.returncode != 0
    assert 'rft-train.jsonl:7: no "answer", which the grader reads as {{item.answer}}' in _text(result)
    assert requests_log.writes(requests_log.all()) == []
    # fixed, the job trains with its grader
    _rft_file(tmp_path / "rft-train.jsonl", 12)
    stack.up()
    out = stack.outputs()
    assert out["rft_status"] == "succeeded" and out["rft_fine_tuned_model"].endswith("-rft")
    job = emulator.backend.store["jobs"][out["rft_job_id"]]
    assert job["method"]["type"] == "reinforcement" and job["method"]["reinforcement"]["grader"] == RFT_GRADER


def test_reinforcement_data_for_a_model_without_it_fails_the_preview(stack, emulator, requests_log, tmp_path):
    train = _rft_file(tmp_path / "rft.jsonl", 12)
    stack.set_spec(_spec(emulator, files={"train": {"account": "aoai-ncus", "path": train, "model": MINI41,
                                                    "method": "reinforcement"}}))
    result = stack.preview(check=False)
    assert result.returncode != 0
    assert f"{MINI41} cannot be trained with reinforcement fine-tuning; Azure offers it for o4-mini" in _text(result)
    assert requests_log.writes(requests_log.all()) == []
