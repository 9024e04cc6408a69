"""Eval-gated promotion under the real engine: staging trains, deploys and evaluates the deployed
model on held-out questions; prod promotes only a model whose evaluation passed its gate, and
refuses at preview, quoting the numbers, one that did not."""

from __future__ import annotations

import copy

import yaml

from .harness import REPO, Stack

CHAT = r"/chat/completions$"
JOB_CREATE = r"/openai/fine_tuning/jobs$"


def test_promotion_is_gated_on_the_source_stacks_evaluation(tmp_path, pulumi_bin, emulator, requests_log):
    backend = tmp_path / "backend"
    backend.mkdir()
    local = yaml.safe_load((REPO / "stacks" / "Pulumi.local.yaml").read_text())["config"]["finetune:pipeline"]
    staging_pipeline = copy.deepcopy(local)  # trains (3 epochs), deploys, evaluates the ncus deployment
    staging = Stack(tmp_path / "staging", pulumi_bin, emulator.base_url, program="root", name="estaging",
                    state=backend)
    staging.set_pipeline("estaging", staging_pipeline)
    first = staging.up()
    out = staging.outputs()
    good = out["evaluation"]
    assert good["model"] == out["fine_tuned_model"] and good["cases_run"] == 15
    assert good["pass_rate"] >= 0.8, good
    assert "evaluation of deployment support: 15 case(s) will run" in first.stdout + first.stderr  # the estimate
    asked = requests_log.matching(requests_log.all(), "POST", CHAT)
    assert len(asked) == 15 and all("/deployments/support/" in r["path"] for r in asked)

    prod_pipeline = {
        "subscription": local["subscription"], "resource_group": local["resource_group"],
        "accounts": {"eus2": {"name": "aoai-eus2", "region": "eastus2"}},
        "promote": {"stack": "organization/finetune/estaging",
                    "gate": {"evaluation": {"min_pass_rate": 0.8, "min_pass_rate_per_grader": {"contains": 0.8}}}},
        # a fine-tuned gpt-4o-mini gets no Standard deployment in East US 2 (docs/azure-rules.md, DP1)
        "deployments": [{"account": "eus2", "name": "support", "sku": {"name": "GlobalStandard", "capacity": 1}}],
    }
    prod = Stack(tmp_path / "prod", pulumi_bin, emulator.base_url, program="root", name="eprod", state=backend)
    prod.set_pipeline("eprod", prod_pipeline)
    promoted = prod.up()
    assert prod.outputs()["fine_tuned_model"] == out["fine_tuned_model"]
    assert "its evaluation in organization/finetune/estaging passes the gate" in promoted.stdout + promoted.stderr

    # A badly trained model (one epoch): staging retrains, redeploys and evaluates again...
    staging_pipeline["training"]["hyperparameters"]["n_epochs"] = 1
    staging.set_pipeline("estaging", staging_pipeline)
    mark = requests_log.mark()
    staging.up()
    poor = staging.outputs()["evaluation"]
    assert poor["model"] != good["model"] and poor["pass_rate"] < 0.8, poor
    assert len(requests_log.matching(requests_log.since(mark), "POST", CHAT)) == 15  # re-run: the model changed
    # ... and prod refuses it at preview, quoting the numbers; nothing is written
    mark = requests_log.mark()
    refused = prod.preview(check=False)
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0
    passed = round(poor["pass_rate"] * 15)
    assert f"refusing to promote {poor['model']}: evaluation pass rate {poor['pass_rate']:.4f} < min 0.8000 " \
           f"({passed} of 15 cases passed; model {poor['model']} on deployment support" in text, text[-3000:]
    assert "contains pass rate" in text
    assert requests_log.writes(requests_log.since(mark)) == []
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 2  # prod never trains


def test_a_noop_up_asks_nothing_and_a_new_case_file_runs_again(tmp_path, pulumi_bin, emulator, requests_log):
    stack = Stack(tmp_path / "local", pulumi_bin, emulator.base_url, program="root", name="local", passphrase="local")
    stack.up()
    assert len(requests_log.matching(requests_log.all(), "POST", CHAT)) == 15
    mark = requests_log.mark()
    stack.up()
    assert requests_log.matching(requests_log.since(mark), "POST", CHAT) == []
    cases = stack.project / "data" / "eval.jsonl"
    cases.write_text("\n".join(cases.read_text().splitlines()[:5]) + "\n")  # a new case file: a new run
    preview = stack.preview()
    shown = preview.stdout + preview.stderr
    assert "evaluation of deployment support: 5 case(s) will run" in shown
    assert "+-pulumi-python:dynamic/aoai:ModelEvaluation: (replace)" in shown and "cases_sha256" in shown, shown
    mark = requests_log.mark()
    stack.up()
    assert len(requests_log.matching(requests_log.since(mark), "POST", CHAT)) == 5
    assert stack.outputs()["evaluation"]["cases_run"] == 5


def test_one_ctrl_c_stops_an_evaluation_under_pulumi_up(tmp_path, pulumi_bin, emulator, faults):
    """The engine's cancel (one SIGINT to `pulumi up`) reaches the evaluation's run: it stops within
    seconds, saying how far it got, and the next `up` runs it again."""
    import os
    import signal
    import time

    from .conftest import start_up, wait_until

    stack = Stack(tmp_path / "local", pulumi_bin, emulator.base_url, program="root", name="local", passphrase="local")
    stack.up()
    cases = stack.project / "data" / "eval.jsonl"
    cases.write_text("\n".join(cases.read_text().splitlines()[:6]) + "\n")  # a new case file: a new run
    held = faults.add(method="POST", path_regex=CHAT, delay_seconds=60, times=None)  # answers held back a minute
    proc = start_up(stack)
    wait_until(lambda: faults.hits(held) >= 1, timeout=180, what="the evaluation to ask its first case")
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    took = time.monotonic() - started
    print(f"\n[cancel] one SIGINT during an evaluation: `pulumi up` exited {took:.1f} s later")
    assert proc.returncode != 0 and took < 20, (took, out[-3000:])  # before: the run went on to its end
    assert "stopped (it was cancelled) after 0 of 6 cases" in out, out[-3000:]
    assert "Traceback" not in out
    faults.clear()
    stack.up()
    assert stack.outputs()["evaluation"]["cases_run"] == 6
