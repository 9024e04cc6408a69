"""aoai-ft report: the summary table and the PNG plot, from a results.csv or a job id."""

import json

import httpx
import pytest
from click.testing import CliRunner
from PIL import Image

from pulumi_aoai_finetune import clients, report, results
from pulumi_aoai_finetune.cli import main

emulated = pytest.importorskip("pulumi_aoai_finetune_emulator.results")
PLAN = {"metrics_key": "report-test", "learning_rate_multiplier": 0.1, "total_steps": 30, "steps_per_epoch": 10,
        "n_epochs": 3, "has_validation": True}


@pytest.fixture
def results_csv(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("".join(emulated.csv_lines(PLAN)))
    return path


def assert_real_png(path, width, height):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        img.load()
        assert img.format == "PNG" and img.size == (width, height)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 1
    # the series colours are drawn: training (blue) and validation (orange)
    drawn = {rgb for _, rgb in colours}
    assert (0x1F, 0x77, 0xB4) in drawn and (0xFF, 0x7F, 0x0E) in drawn


def test_summary_table_lists_final_and_best_and_overfitting(results_csv):
    summary = results.summarize(results.parse_file(results_csv))
    text = report.summary_table(summary, title="job-1")
    assert text.splitlines()[0] == "job-1"
    assert "steps 30, epochs 3" in text
    assert f"{summary['final_train_loss']:.4f}" in text and f"{summary['best_valid_loss']:.4f}" in text
    assert f"(step {summary['best_valid_loss_step']})" in text
    assert "token accuracy" in text and "overfitting:" in text


def test_plot_is_a_real_png_of_the_requested_size(results_csv, tmp_path):
    rows = results.parse_file(results_csv)
    png = report.plot(rows, tmp_path / "out" / "plot.png", width=900, height=600)
    assert_real_png(png, 900, 600)


def test_plot_without_validation_data(tmp_path):
    rows = results.parse("".join(emulated.csv_lines({**PLAN, "has_validation": False})))
    png = report.plot(rows, tmp_path / "p.png")  # no validation series: check size and colours only
    with Image.open(png) as img:
        assert img.size == (report.DEFAULT_WIDTH, report.DEFAULT_HEIGHT)
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20)) > 1


def test_plot_refuses_empty_results(tmp_path):
    with pytest.raises(ValueError, match="no rows"):
        report.plot([], tmp_path / "p.png")


def test_cli_report_from_a_results_csv(results_csv, tmp_path):
    out = tmp_path / "review"
    result = CliRunner().invoke(main, ["report", str(results_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "final train" in result.output and "overfitting:" in result.output
    assert_real_png(out / "results.png", report.DEFAULT_WIDTH, report.DEFAULT_HEIGHT)
    as_json = CliRunner().invoke(main, ["report", str(results_csv), "--out", str(out), "--json", "--width", "640",
                                        "--height", "480"])
    doc = json.loads(as_json.output)
    assert doc["summary"]["steps"] == 30 and doc["plot"].endswith("results.png")
    assert_real_png(out / "results.png", 640, 480)


def test_cli_report_needs_an_account_for_a_job_id(tmp_path):
    result = CliRunner().invoke(main, ["report", "ftjob-123", "--out", str(tmp_path)], env={"AOAI_FT_ACCOUNT": ""})
    assert result.exit_code != 0 and "--account" in result.output


def test_cli_report_of_a_missing_file(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nope.csv")])
    assert result.exit_code != 0 and "no such file" in result.output


def test_cli_report_of_a_job_through_the_provider_clients(tmp_path, monkeypatch):
    """A job trained in the emulator: the command reads it with the provider's settings and clients."""
    server_mod = pytest.importorskip("pulumi_aoai_finetune_emulator")
    from openai import AzureOpenAI

    config = server_mod.EmulatorConfig(state_dir=tmp_path / "emulator", time_scale=1000.0)
    with server_mod.EmulatorServer(config) as server:
        endpoint = server.backend.account_endpoint("aoai-ncus")
        client = AzureOpenAI(azure_endpoint=endpoint, api_key="k", api_version="2024-10-21", max_retries=0)
        data = "".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                       for i in range(12)).encode()
        with httpx.Client(base_url=server.base_url, timeout=30) as control:
            train = client.files.create(file=("train.jsonl", data), purpose="fine-tune")
            valid = client.files.create(file=("valid.jsonl", data), purpose="fine-tune")
            control.post("/_emulator/clock", json={"advance_seconds": 60}).raise_for_status()
            job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=train.id,
                                                 validation_file=valid.id, hyperparameters={"n_epochs": 2})
            control.post("/_emulator/clock", json={"advance_seconds": 4 * 3600}).raise_for_status()
        assert client.fine_tuning.jobs.retrieve(job.id).status == "succeeded"

        for key, value in {"AOAI_FT_ARM_ENDPOINT": server.base_url, "AOAI_FT_CREDENTIAL": "token",
                           "AOAI_FT_ACCESS_TOKEN": "t", "AOAI_FT_ALLOW_INSECURE_LOOPBACK": "true",
                           "AZURE_OPENAI_API_KEY": "k", "AOAI_FT_MAX_RETRIES": "0"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(clients, "_credentials", {})
        monkeypatch.setattr(clients, "_endpoints", {})
        account = server.backend.account("aoai-ncus")["id"]
        out = tmp_path / "out"
        result = CliRunner().invoke(main, ["report", job.id, "--account", account, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "steps" in result.output and "epochs 2" in result.output
        assert (out / f"{job.id}-results.csv").read_text().startswith("step,train_loss")
        assert_real_png(out / f"{job.id}.png", report.DEFAULT_WIDTH, report.DEFAULT_HEIGHT)


def test_cli_report_shows_the_evaluation_beside_the_training_metrics(results_csv, tmp_path):
    results = {"model": "m.ft-1", "deployment_name": "support", "cases_sha256": "ab" * 32, "cases_run": 15.0,
               "passed_cases": 13.0, "pass_rate": 0.8667, "pass_rate_per_grader": {"contains": 0.8667}, "errors": 0}
    stack_output = tmp_path / "evaluation.json"
    stack_output.write_text(json.dumps(results))
    out = tmp_path / "out"
    shown = CliRunner().invoke(main, ["report", str(results_csv), "--out", str(out), "--evaluation", str(stack_output)])
    assert shown.exit_code == 0, shown.output
    table, evaluation = shown.output.split("overfitting:", 1)
    assert "evaluation: pass rate 86.7% (13 of 15 cases passed; model m.ft-1 on deployment support, cases " \
           "abababababab); contains 86.7%" in evaluation
    eval_json = tmp_path / "eval.json"  # the whole `aoai-ft eval --json` output works too
    eval_json.write_text(json.dumps({"cases_run": 15, "results": results}))
    as_json = CliRunner().invoke(main, ["report", str(results_csv), "--out", str(out), "--json",
                                        "--evaluation", str(eval_json)])
    assert json.loads(as_json.output)["evaluation"]["pass_rate"] == 0.8667
    (tmp_path / "bad.json").write_text("{}")
    bad = CliRunner().invoke(main, ["report", str(results_csv), "--out", str(out), "--evaluation",
                                    str(tmp_path / "bad.json")])
    assert bad.exit_code == 1 and "no evaluation results in it" in bad.output
