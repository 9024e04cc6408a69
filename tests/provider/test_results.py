"""results.csv -> summary: final/best figures, token accuracy, the overfitting signal."""

import math

import pytest

from pulumi_aoai_finetune import results

HEADER = ",".join(results.COLUMNS)
ORIGINAL_KEYS = {"steps", "final_train_loss", "final_train_token_accuracy", "final_valid_loss",
                 "final_valid_token_accuracy", "final_full_valid_loss", "final_full_valid_token_accuracy",
                 "best_train_loss", "best_valid_loss", "best_valid_loss_step"}


def csv_text(rows, header=HEADER):
    lines = [header]
    for r in rows:
        lines.append(",".join("" if v is None else str(v) for v in r))
    return "\n".join(lines) + "\n"


def run(epochs=3, steps_per_epoch=10, *, overfit=False, validation=True, full=True):
    """Synthetic rows: training loss falls; validation follows it, or turns up in the last epoch."""
    rows = []
    total = epochs * steps_per_epoch
    for step in range(1, total + 1):
        train = 2.0 * math.exp(-3 * step / total) + 0.1
        valid = train * 1.1
        if overfit and step > (epochs - 1) * steps_per_epoch:
            valid = train * 1.1 + 0.05 * (step - (epochs - 1) * steps_per_epoch)
        end = step % steps_per_epoch == 0
        rows.append((step, round(train, 5), round(1 - 0.3 * train, 5),
                     round(valid, 5) if validation else None, round(1 - 0.3 * valid, 5) if validation else None,
                     round(valid, 5) if validation and full and end else None,
                     round(1 - 0.3 * valid, 5) if validation and full and end else None))
    return results.parse(csv_text(rows))


def test_parse_skips_rows_without_step_and_reads_bom_and_blanks():
    text = "\ufeff" + csv_text([(1, 1.5, 0.6, None, None, None, None), ("", 1, 1, 1, 1, 1, 1),
                                (2, "nan", 0.7, None, None, None, None)])
    rows = results.parse(text)
    assert [r["step"] for r in rows] == [1, 2]
    assert rows[0]["valid_loss"] is None and rows[1]["train_loss"] is None


def test_parse_accepts_the_valid_mean_token_accuracy_spelling():
    header = HEADER.replace("validation_mean_token_accuracy", "valid_mean_token_accuracy")
    rows = results.parse(csv_text([(1, 1.0, 0.5, 1.1, 0.45, None, None)], header=header))
    assert rows[0]["validation_mean_token_accuracy"] == 0.45


def test_summary_keys_are_stable_and_additive():
    summary = results.summarize(run())
    assert ORIGINAL_KEYS <= set(summary)
    assert {"best_train_token_accuracy", "best_valid_token_accuracy", "overfitting", "overfitting_note",
            "epochs", "train_valid_gap_last_epoch", "train_valid_gap_previous_epoch"} <= set(summary)


def test_final_and_best_figures():
    rows = run()
    s = results.summarize(rows)
    assert s["steps"] == 30 and s["epochs"] == 3
    assert s["final_train_loss"] == rows[-1]["train_loss"]
    assert s["final_valid_token_accuracy"] == rows[-1]["validation_mean_token_accuracy"]
    assert s["best_valid_loss"] == min(r["valid_loss"] for r in rows)
    assert s["best_valid_loss_step"] == 30
    assert s["best_train_token_accuracy"] == max(r["train_mean_token_accuracy"] for r in rows)
    assert s["best_valid_token_accuracy"] == max(r["validation_mean_token_accuracy"] for r in rows)
    assert s["final_full_valid_loss"] == rows[-1]["full_valid_loss"]
    assert s["best_full_valid_loss_step"] == 30


def test_best_valid_loss_step_is_the_first_step_reaching_it():
    rows = results.parse(csv_text([(1, 1, 0.5, 0.9, 0.5, None, None), (2, 1, 0.5, 0.7, 0.6, None, None),
                                   (3, 1, 0.5, 0.7, 0.6, None, None)]))
    assert results.summarize(rows)["best_valid_loss_step"] == 2


def test_healthy_run_has_no_overfitting_signal():
    s = results.summarize(run())
    assert s["overfitting"] is False
    assert "no overfitting signal" in s["overfitting_note"] and "full-validation rows" in s["overfitting_note"]


def test_gap_growing_over_the_last_epoch_is_overfitting():
    s = results.summarize(run(overfit=True))
    assert s["overfitting"] is True
    assert s["train_valid_gap_last_epoch"] > s["train_valid_gap_previous_epoch"]
    assert "gap grew" in s["overfitting_note"]
    assert f"{s['train_valid_gap_last_epoch']:.4f}" in s["overfitting_note"]


def test_validation_loss_rising_while_training_falls_is_overfitting():
    # epoch ends only (full rows), no per-step validation: the rise alone is the signal
    rows = results.parse(csv_text([(10, 1.0, 0.7, None, None, 1.2, 0.6), (20, 0.6, 0.8, None, None, 1.0, 0.65),
                                   (30, 0.3, 0.9, None, None, 1.3, 0.6)]))
    s = results.summarize(rows)
    assert s["overfitting"] is True and "validation loss rose from 1.0000 to 1.3000" in s["overfitting_note"]


def test_without_validation_data_the_signal_is_unknown():
    s = results.summarize(run(validation=False))
    assert s["overfitting"] is None and "no validation data" in s["overfitting_note"]
    assert s["final_valid_loss"] is None and s["best_valid_token_accuracy"] is None


def test_single_epoch_cannot_be_compared():
    s = results.summarize(run(epochs=1))
    assert s["overfitting"] is None and "single epoch" in s["overfitting_note"]


def test_epochs_from_n_epochs_when_there_are_no_full_rows():
    rows = run(overfit=True, full=False)
    s = results.summarize(rows, n_epochs=3)
    assert s["epochs"] == 3 and s["overfitting"] is True and "n_epochs" in s["overfitting_note"]


def test_without_epoch_information_quarters_are_compared():
    s = results.summarize(run(full=False))
    assert s["epochs"] is None and "quarter" in s["overfitting_note"]


def test_empty():
    assert results.summarize([]) == {"steps": 0}


@pytest.mark.parametrize("metrics, loss, acc", [
    ({"final_full_valid_loss": 0.5, "final_valid_loss": 0.7, "final_full_valid_token_accuracy": 0.8,
      "final_valid_token_accuracy": 0.7}, 0.5, 0.8),
    ({"final_valid_loss": 0.7, "final_valid_token_accuracy": 0.7}, 0.7, 0.7),
    (None, None, None),
])
def test_final_validation_figures_prefer_the_full_validation(metrics, loss, acc):
    assert results.final_valid_loss(metrics) == loss
    assert results.final_valid_token_accuracy(metrics) == acc


def test_emulator_results_parse_and_summarize():
    emulated = pytest.importorskip("pulumi_aoai_finetune_emulator.results")
    plan = {"metrics_key": "k", "learning_rate_multiplier": 0.1, "total_steps": 24, "steps_per_epoch": 8,
            "n_epochs": 3, "has_validation": True}
    s = results.summarize(results.parse("".join(emulated.csv_lines(plan))))
    assert s["steps"] == 24 and s["epochs"] == 3 and s["overfitting"] in (True, False)
    assert s["final_valid_token_accuracy"] is not None


def test_a_base64_encoded_result_file_is_decoded():
    """Rule R1: a results.csv handed out base64-encoded gives the same rows, not "no rows"."""
    import base64

    text = "step,train_loss,train_mean_token_accuracy\n1,1.5,0.5\n2,1.2,0.6\n"
    encoded = base64.b64encode(("\ufeff" + text).encode()).decode()
    assert results.parse(encoded) == results.parse(text) and len(results.parse(text)) == 2
    wrapped = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)) + "\n"
    assert results.parse(wrapped) == results.parse(text)
    assert results.decode("not,base64\n") == "not,base64\n"
    assert results.decode("QUJD") == "QUJD"  # decodes, but to no CSV header: left alone


def test_the_job_metrics_come_through_a_base64_result_file_from_the_emulator(tmp_path):
    import httpx
    from openai import AzureOpenAI

    from pulumi_aoai_finetune.fine_tuning_job import FineTuningJobController
    from pulumi_aoai_finetune.settings import ProviderSettings
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    line = '{"messages": [{"role": "user", "content": "hi %d"}, {"role": "assistant", "content": "hello"}]}\n'
    data = "".join(line % i for i in range(12)).encode()
    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=0.001, extra={"results_base64": True})
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as control:
        client = AzureOpenAI(azure_endpoint=server.backend.account_endpoint("aoai-ncus"), api_key="k",
                             api_version="2024-10-21", max_retries=0)
        train = client.files.create(file=("t.jsonl", data), purpose="fine-tune")
        control.post("/_emulator/clock", json={"advance_seconds": 15})
        job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=train.id,
                                             hyperparameters={"n_epochs": 2})
        control.post("/_emulator/clock", json={"advance_seconds": 3600})
        job = client.fine_tuning.jobs.retrieve(job.id)
        raw = client.files.content(job.result_files[0]).text
        assert "," not in raw  # base64 on the wire
        metrics = FineTuningJobController(ProviderSettings())._metrics(client, job)
        assert metrics is not None and metrics["steps"] >= 2 and metrics["results_file"] == job.result_files[0]
