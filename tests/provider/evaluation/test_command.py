"""aoai-ft eval: the same cases, run and gate from the command line, against the emulator."""

from __future__ import annotations

import json

from click.testing import CliRunner

from eval_lab import cases_lines
from pulumi_aoai_finetune.cli import main


def env(lab) -> dict[str, str]:
    return {"AOAI_FT_ARM_ENDPOINT": lab.server.base_url, "AOAI_FT_CREDENTIAL": "token", "AOAI_FT_ACCESS_TOKEN": "t",
            "AOAI_FT_ALLOW_INSECURE_LOOPBACK": "true", "AZURE_OPENAI_API_KEY": "k", "AOAI_FT_MAX_RETRIES": "1"}


def write(tmp_path, lines) -> str:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def test_eval_prints_the_results_and_exits_by_the_gate(fresh, tmp_path):
    cases = write(tmp_path, cases_lines(10))
    args = ["eval", cases, "--deployment", "poor", "--account", fresh.account.resource_id]
    shown = CliRunner().invoke(main, args + ["--min-pass-rate", "0.95"], env=env(fresh))
    assert shown.exit_code == 1, shown.output  # a one-epoch model misses 0.95
    assert f"evaluation of deployment poor ({fresh.poor_model}): {cases} (sha256 " in shown.output  # model read from ARM
    assert "  contains" in shown.output and "failing cases (" in shown.output
    assert "gate: MISSED: evaluation pass rate" in shown.output
    as_json = CliRunner().invoke(main, args + ["--json", "--min-pass-rate", "0.1", "--concurrency", "2"],
                                 env=env(fresh))
    assert as_json.exit_code == 0, as_json.output
    outs = json.loads(as_json.output[as_json.output.index("{"):])
    assert outs["results"]["cases_run"] == 10 and outs["gate"]["passed"] is True
    assert outs["results"]["model"] == fresh.poor_model


def test_eval_refuses_a_bad_case_file_with_file_and_line(fresh, tmp_path):
    lines = cases_lines(2)
    lines[1]["expect"] = {"regex": "("}
    result = CliRunner().invoke(main, ["eval", write(tmp_path, lines), "--deployment", "good", "--account",
                                       fresh.account.resource_id], env=env(fresh))
    assert result.exit_code == 1 and "cases.jsonl:2: expect.regex: not a valid regular expression" in result.output
    missing = CliRunner().invoke(main, ["eval", write(tmp_path, cases_lines(1)), "--deployment", "nope", "--account",
                                        fresh.account.resource_id], env=env(fresh))
    assert missing.exit_code == 1 and "DeploymentNotFound" in missing.output
