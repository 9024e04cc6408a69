"""The provider plugin (aoai-finetune:index:*) under the real engine, from Pulumi YAML: what the
dynamic resources cannot do (known outputs at preview), and what users see when something is wrong."""

from __future__ import annotations

import json

from .harness import Stack, write_chat_jsonl
from .test_examples import account_id
from .test_review import review_of

JOB_CREATE = r"/openai/fine_tuning/jobs$"
DEPLOYMENT_PUT = r"/deployments/[^/]+$"


def yaml_stack(tmp_path, pulumi_bin, emulator, *, marker: str = "") -> Stack:
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="yaml")
    (stack.project / "data").mkdir()
    write_chat_jsonl(stack.project / "data" / "train.jsonl", 12, marker=marker)
    stack.config_set("account", account_id(emulator, "aoai-ncus"))
    return stack


def ops(preview: dict) -> dict[str, str]:
    """The resources' operations in a `preview --json` (unchanged ones are not listed)."""
    return {s["urn"].split("::")[-1]: s["op"] for s in preview["steps"]
            if "aoai-finetune:index" in s["urn"] and s["op"] != "same"}


def test_an_in_place_update_keeps_the_model_known_at_preview(tmp_path, pulumi_bin, emulator, requests_log):
    # The same data uploaded again under another name: a new file, the job updated in place (no new
    # training run), and its deployment unchanged, because the update's preview says the model stays.
    # `aoai-ft review` reads each of these previews of the plugin's resources (aoai-finetune:index:*).
    stack = yaml_stack(tmp_path, pulumi_bin, emulator)
    md = review_of(stack.preview_json(), stack, tmp_path, "create")
    assert "## Fine-tuning review: stack `test` (e2e-yaml)" in md and "**1 new paid training run**" in md
    assert "| `job` | FineTuningJob | create | new training run; **starts a new paid training run** |" in md
    assert "| `chat` | ModelDeployment | create | new deployment of the model of job `job` (created in this update) |" in md
    assert "| Training `job` (gpt-4o-mini-2024-07-18) | <$0.01 | " in md and "x 2 epochs at $3.00/1M" in md
    assert "| `aoai-ncus` | northcentralus | `chat` | - | - | - | - | 1 |" in md
    stack.up()
    before = stack.outputs()
    stack.config_set("filename", "renamed.jsonl")
    preview = json.loads(stack.run("preview", "--json", "--show-sames").stdout)  # as `aoai-ft ci` runs it
    assert ops(preview) == {"train": "replace", "job": "update"}  # the deployment: unchanged
    md = review_of(preview, stack, tmp_path, "rename")
    assert "| `train` | TrainingFile | **replace** | filename: train.jsonl -> renamed.jsonl |" in md, md
    assert "the same data re-uploaded: no new training run |" in md and "**Summary:** no new training run" in md
    assert "| `aoai-ncus` | northcentralus | - | - | - | - | `chat` | 1 | $1.70/hour |" in md  # unchanged
    assert "| `chat` | ModelDeployment |" not in md
    stack.up()
    after = stack.outputs()
    assert after["fileId"] != before["fileId"] and after["model"] == before["model"]
    log = requests_log.all()
    assert len(requests_log.matching(log, "POST", JOB_CREATE)) == 1
    assert len(requests_log.matching(log, "PUT", DEPLOYMENT_PUT)) == 1
    # a change of training data is a new run, and the deployment's model is not known until it ends
    stack.config_set("epochs", "3")
    preview = stack.preview_json()
    assert ops(preview) == {"job": "replace", "chat": "replace"}
    md = review_of(preview, stack, tmp_path, "epochs")
    assert "| `job` | FineTuningJob | **replace** | hyperparameters.n_epochs: 2 -> 3; **starts a new paid training run** |" \
        in md, md
    assert "Deployment `chat` in `aoai-ncus` will be **replaced** instead of updated (model changed)" in md


def test_a_misspelled_property_fails_the_preview_naming_it(tmp_path, pulumi_bin, emulator, requests_log):
    stack = yaml_stack(tmp_path, pulumi_bin, emulator)
    program = stack.project / "Pulumi.yaml"
    declared = program.read_text()
    mark = requests_log.mark()
    # a required property misspelled: the one missing is named, beside what was given
    program.write_text(declared.replace("baseModel:", "baseModle:"))
    result = stack.preview(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Missing required property 'baseModel'" in text and "baseModle: string" in text, text
    # an optional one, inside an object that keeps the service's keys: named, with the line
    program.write_text(declared.replace("n_epochs:", "n_epoch:"))
    result = stack.preview(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Property n_epoch does not exist on 'aoai-finetune:index:Hyperparameters'" in text, text
    assert "Existing properties are: n_epochs, batch_size, learning_rate_multiplier" in text
    assert requests_log.writes(requests_log.since(mark)) == []


def test_bad_input_fails_the_preview_naming_the_field_in_one_message(tmp_path, pulumi_bin, emulator, requests_log):
    stack = yaml_stack(tmp_path, pulumi_bin, emulator)
    stack.config_set("epochs", "0")
    mark = requests_log.mark()
    result = stack.preview(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "hyperparameters.n_epochs is 0; use an integer from 1 to 50" in text, text
    assert "Traceback" not in text and 'File "' not in text
    assert requests_log.writes(requests_log.since(mark)) == []


def test_a_provider_error_reads_as_one_message(tmp_path, pulumi_bin, emulator, inventory):
    stack = yaml_stack(tmp_path, pulumi_bin, emulator, marker="FAIL-TRIGGER")
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "error: TrainingFailedError: fine-tuning job ftjob-" in text, text
    assert "Traceback" not in text and 'File "' not in text and ".py" not in text
    state = {r["urn"].split("::")[-1] for r in stack.resources()}
    assert state == {"train"}  # the failed job left nothing in the state, the deployment was not tried


def test_import_ids_and_a_missing_object(tmp_path, pulumi_bin, emulator):
    stack = yaml_stack(tmp_path, pulumi_bin, emulator)
    missing = account_id(emulator, "aoai-ncus") + "/files/file-nope"
    result = stack.run("import", "--yes", "aoai-finetune:index:TrainingFile", "gone", missing, check=False)
    assert result.returncode != 0 and f"resource '{missing}' does not exist" in result.stdout + result.stderr
    result = stack.run("import", "--yes", "aoai-finetune:index:FineTuningJob", "bad", "ftjob-1", check=False)
    text = result.stdout + result.stderr
    assert "import id 'ftjob-1' is not of the form <account ARM id>/fine_tuning/jobs/<job id>" in text
    assert "Traceback" not in text
    assert json.loads(stack.run("stack", "export").stdout)["deployment"].get("resources") in (None, [])


def test_ctrl_c_ends_a_training_wait_and_the_next_up_attaches(tmp_path, pulumi_bin, emulator, emu, inventory):
    import os
    import signal

    from .conftest import set_clock, start_up, wait_until

    stack = yaml_stack(tmp_path, pulumi_bin, emulator)
    stack.config_set("epochs", "25")  # a long run
    proc = start_up(stack)
    wait_until(lambda: inventory.jobs(), timeout=120, what="the job's create")
    set_clock(emu, frozen=True)  # it cannot end before the Ctrl-C, however slow the machine
    os.kill(proc.pid, signal.SIGINT)  # a Ctrl-C: the engine cancels, the plugin ends its wait
    out, _ = proc.communicate(timeout=120)  # as the other interruption tests: the machine may be loaded
    assert proc.returncode != 0
    assert "WaitInterrupted: fine-tuning job ftjob-" in out and "goes on in the service" in out, out
    assert "Traceback" not in out
    set_clock(emu, frozen=False)
    result = stack.up()
    assert "attaching to fine-tuning job" in result.stdout + result.stderr
    assert len(inventory.jobs()) == 1  # no second paid run


def test_the_policy_pack_guards_a_yaml_program(tmp_path, pulumi_bin, emulator, requests_log):
    from .test_quality_gate import POLICY_PACK

    stack = yaml_stack(tmp_path, pulumi_bin, emulator)
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"aoai-ft-required-suffix": {"required_suffix": "prod"},
                                  "aoai-ft-quality-gate": {"require_quality_gate": True}}))
    mark = requests_log.mark()
    result = stack.run("preview", "--policy-pack", str(POLICY_PACK), "--policy-pack-config", str(config), check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "aoai-ft-required-suffix" in out and "suffix 'e2e' must start with 'prod'" in out, out
    assert "aoai-ft-quality-gate" in out  # the deployment declares no qualityGate
    assert requests_log.writes(requests_log.since(mark)) == []


def test_a_credential_in_clear_in_stack_config_gets_a_warning_from_the_plugin(tmp_path, pulumi_bin, emulator):
    """The engine hands the plugin's CheckConfig the stack config with secret values marked: a key set
    without --secret is named in a warning (its value never shown); set with --secret, no warning."""
    from .harness import API_KEY

    stack = yaml_stack(tmp_path, pulumi_bin, emulator)
    stack.run("config", "set", "aoai-finetune:apiKey", API_KEY)
    preview = stack.preview()
    text = preview.stdout + preview.stderr
    assert "aoai-finetune:apiKey is set in stack config without --secret" in text, text[-3000:]
    assert API_KEY not in text
    stack.run("config", "set", "--secret", "aoai-finetune:apiKey", API_KEY)
    result = stack.preview()
    assert "without --secret" not in result.stdout + result.stderr
