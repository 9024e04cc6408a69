"""ModelEvaluation: check (the case file and every input, at preview), diff (what runs again),
create against the emulator, and the gate a ModelDeployment applies to its results."""

from __future__ import annotations

import json
import os

import pulumi
import pytest

from eval_lab import as_cases, cases_lines  # noqa: F401  (the lab fixture is in conftest.py)
from pulumi_aoai_finetune import model_evaluation, quality
from pulumi_aoai_finetune.account import AccountArgs
from pulumi_aoai_finetune.model_deployment import ModelDeploymentController
from pulumi_aoai_finetune.model_evaluation import ModelEvaluationController
from pulumi_aoai_finetune.settings import ProviderSettings

ACCOUNT = {"resource_id": AccountArgs.id_for("00000000-0000-0000-0000-000000000000", "aoai-emulator", "aoai-ncus")}
MODEL = "gpt-4o-mini-2024-07-18.ft-0123456789abcdef0123456789abcdef-support"


def write_cases(directory, lines, name="cases.jsonl"):
    path = directory / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return str(path)


def inputs(tmp_path, **overrides):
    out = {"account": ACCOUNT, "deployment_name": "support", "model": MODEL, "project_dir": str(tmp_path)}
    if "cases" not in overrides:
        out["cases"] = write_cases(tmp_path, cases_lines(4))
    out.update(overrides)
    return out


@pytest.fixture
def logged(monkeypatch):
    lines: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **k: lines.append(message))
    return lines


def check(news, olds=None, settings=None):
    return ModelEvaluationController(settings or ProviderSettings()).check(olds or {}, news)


def test_check_reads_and_hashes_the_cases_and_logs_the_estimate(tmp_path, logged):
    checked, failures = check(inputs(tmp_path))
    assert failures == []
    assert checked["cases_count"] == 4 and len(checked["cases_sha256"]) == 64
    assert checked["cases_graders"] == {"contains": 4, "not_contains": 4} and checked["cases_prompt_tokens"] > 0
    assert (checked["max_tokens"], checked["temperature"], checked["timeout_seconds"]) == (1024, 0, 3600)
    assert len(logged) == 1
    assert logged[0].startswith("evaluation of deployment support: 4 case(s) will run, ~")
    assert "at most 4,096 output tokens (max_tokens 1024): at most $0.01" in logged[0] or "<$0.01" in logged[0]
    logged.clear()
    check(dict(checked), olds=dict(checked))  # nothing changed: no run, no estimate
    assert logged == []


def test_the_estimate_prices_the_judge_and_says_when_it_cannot(tmp_path, logged):
    lines = cases_lines(3, model=True)
    news = inputs(tmp_path, cases=write_cases(tmp_path, lines), model_grader={"deployment_name": "judge"})
    assert check(news)[1] == []
    assert "the model grader judges 3: at most not priced (model not known yet: set model_grader.model" in logged[0]
    logged.clear()
    news["model_grader"]["model"] = "gpt-4o-2024-08-06"
    check(news)
    assert "the model grader judges 3: at most $0.0" in logged[0]


@pytest.mark.parametrize("override, field, fragment", [
    ({"cases": None}, "cases", "cases is required"),
    ({"cases": "missing.jsonl"}, "cases", "no such file"),
    ({"cases": "/etc/passwd"}, "cases", "outside the project directory"),
    ({"cases": "cases\x00.jsonl"}, "cases", "without control characters"),
    ({"deployment_name": "a"}, "deployment_name", "must name the deployment"),
    ({"deployment_name": "../x"}, "deployment_name", "must name the deployment"),
    ({"model": None}, "model", "model is required"),
    ({"model": "bad model"}, "model", "model is required"),
    ({"account": None}, "account", "account is required"),
    ({"account": {"resource_id": "/subscriptions/x"}}, "account", "is not an account id"),
    ({"max_tokens": 0}, "max_tokens", "from 1 to 100000"),
    ({"max_tokens": 1.5}, "max_tokens", "from 1 to 100000"),
    ({"temperature": 2.5}, "temperature", "from 0 to 2"),
    ({"temperature": float("nan")}, "temperature", "from 0 to 2"),
    ({"timeout_seconds": -1}, "timeout_seconds", "positive number"),
    ({"model_grader": "judge"}, "model_grader", "must be an object"),
    ({"model_grader": {"deployment_name": "judge", "temperature": 1}}, "model_grader", "unknown model_grader keys"),
    ({"model_grader": {}}, "model_grader.deployment_name", "judge's deployment"),
    ({"model_grader": {"deployment_name": "judge", "rubric": ""}}, "model_grader.rubric", "non-empty"),
    ({"model_grader": {"deployment_name": "judge", "account": {"resource_id": "x"}}}, "model_grader.account",
     "not an account id"),
    ({"model_grader": {"deployment_name": "judge", "model": "a b"}}, "model_grader.model", "model name"),
])
def test_bad_inputs_fail_the_preview_naming_the_field(tmp_path, logged, override, field, fragment):
    news = inputs(tmp_path)
    news.update(override)
    failures = check(news)[1]
    assert any(f == field and fragment in message for f, message in failures), failures
    assert logged == []  # nothing to run, nothing estimated


def test_a_symlink_out_of_the_project_and_a_directory_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    write_cases(outside, cases_lines(2))
    os.symlink(outside / "cases.jsonl", project / "cases.jsonl")
    (project / "dir.jsonl").mkdir()
    failures = check(inputs(project, cases=str(project / "cases.jsonl")))[1]
    assert any("is a symlink (or under one) that leads to" in m for _, m in failures), failures
    failures = check(inputs(project, cases="dir.jsonl"))[1]
    assert any("not a regular file" in m for _, m in failures), failures


def test_problems_in_the_case_file_fail_the_preview_with_file_and_line(tmp_path):
    lines = cases_lines(3)
    lines[1]["expect"] = {"regex": "(open"}
    lines[2]["messages"] = []
    path = write_cases(tmp_path, lines)
    failures = check(inputs(tmp_path, cases=path))[1]
    assert [f for f, _ in failures] == ["cases"]
    message = failures[0][1]
    assert f"{path}:2: expect.regex: not a valid regular expression" in message
    assert f"{path}:3: messages: must be a non-empty list of messages" in message
    # a model grader case without a model grader
    path = write_cases(tmp_path, cases_lines(1, model=True), "judged.jsonl")
    assert "none is configured" in check(inputs(tmp_path, cases=path))[1][0][1]


def test_diff_runs_again_only_for_what_changes_the_results(tmp_path):
    ctl = ModelEvaluationController(ProviderSettings())
    olds, _ = check(inputs(tmp_path))
    assert not ctl.diff("id", olds, dict(olds)).changes
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_bytes(open(olds["cases"], "rb").read())
    moved, _ = check({**olds, "cases": str(renamed)})
    d = ctl.diff("id", olds, moved)
    assert (d.replaces, d.updates) == ([], ["cases"])  # same content: recorded, not run again
    edited, _ = check({**olds, "cases": write_cases(tmp_path, cases_lines(5), "new.jsonl")})
    assert ctl.diff("id", olds, edited).replaces == ["cases"]
    for key, value in (("model", MODEL + "2"), ("deployment_name", "other"), ("max_tokens", 10), ("temperature", 1),
                       ("model_grader", {"deployment_name": "judge"})):
        assert ctl.diff("id", olds, {**olds, key: value}).replaces == [key], key
    assert ctl.diff("id", olds, {**olds, "account": {"resource_id": ACCOUNT["resource_id"].replace("ncus", "swc")}}
                    ).replaces == ["account"]
    assert ctl.diff("id", olds, {**olds, "account": {"resource_id": ACCOUNT["resource_id"].upper()}}).changes is False
    d = ctl.diff("id", olds, {**olds, "timeout_seconds": 60})
    assert (d.replaces, d.updates) == ([], ["timeout_seconds"])
    assert not ctl.diff("id", {**olds, "max_tokens": 1024.0}, olds).changes  # integers come back as floats
    assert not ctl.diff("id", olds, {**olds, "project_dir": "/elsewhere"}).changes


def test_create_runs_the_cases_and_records_the_results(lab, tmp_path, logged):
    ctl = ModelEvaluationController(lab.settings)
    account = lab.account_inputs
    news, failures = ctl.check({}, {"account": account, "deployment_name": "poor", "model": lab.poor_model,
                                    "cases": write_cases(tmp_path, cases_lines()), "project_dir": str(tmp_path)})
    assert failures == []
    id_, outs = ctl.create(news)
    assert id_.startswith("evaluation-")
    results = outs["results"]
    assert results["model"] == lab.poor_model and results["deployment_name"] == "poor"
    assert results["cases_sha256"] == news["cases_sha256"] and results["cases_run"] == 30
    assert results["pass_rate"] == outs["pass_rate"] == round(results["passed_cases"] / 30, 4) < 0.8
    assert outs["failures_total"] == 30 - results["passed_cases"] and outs["estimated_cost_usd"] > 0
    assert outs["evaluated_at"].endswith("Z")
    assert any(line.startswith(f"evaluation of deployment poor ({lab.poor_model}): {results['passed_cases']}/30 "
                               "cases passed") for line in logged)
    assert any(line.startswith("  failed panel-") for line in logged)
    assert ctl.read(id_, outs) == (id_, outs)  # a record: nothing to read back
    ctl.delete(id_, outs)  # nothing to delete
    updated = ctl.update(id_, outs, {**news, "timeout_seconds": 60})
    assert updated["timeout_seconds"] == 60 and updated["results"] == results


def test_a_deployment_gated_on_its_evaluation_is_refused_at_preview_with_the_numbers():
    results = {"model": MODEL, "deployment_name": "staging", "cases_sha256": "ab" * 32, "cases_run": 20,
               "passed_cases": 11, "pass_rate": 0.55, "pass_rate_per_grader": {"contains": 0.6, "regex": 1.0},
               "errors": 1}
    ctl = ModelDeploymentController(ProviderSettings())
    base = {"account": ACCOUNT, "model": MODEL, "deployment_name": "prod", "evaluation": results}
    _, failures = ctl.check({}, {**base, "quality_gate": {"min_eval_pass_rate": 0.8,
                                                          "min_eval_pass_rate_per_grader": {"regex": 0.9}}})
    message = dict(failures)["quality_gate"]
    assert f"model {MODEL} misses its quality gate: evaluation pass rate 0.5500 < min 0.8000 " \
           f"(11 of 20 cases passed, 1 errored; model {MODEL} on deployment staging, cases abababababab)" in message
    assert "regex pass rate 1 >= min 0.9000" not in message  # only what missed is quoted
    assert ctl.check({}, {**base, "quality_gate": {"min_eval_pass_rate": 0.5}})[1] == []
    # an evaluation of another model does not count; no evaluation at all is refused too
    other = ctl.check({}, {**base, "model": MODEL + "-v2", "quality_gate": {"min_eval_pass_rate": 0.5}})[1]
    assert "the evaluation is of model " + MODEL in dict(other)["quality_gate"]
    missing = ctl.check({}, {**base, "evaluation": None, "quality_gate": {"min_eval_pass_rate": 0.5}})[1]
    assert "no evaluation results" in dict(missing)["quality_gate"]
    bad = ctl.check({}, {**base, "quality_gate": {"min_eval_pass_rate": 2, "min_eval_pass_rate_per_grader": {"x": 1}}})[1]
    assert {f for f, _ in bad} == {"quality_gate.min_eval_pass_rate", "quality_gate.min_eval_pass_rate_per_grader"}
    # a gate on the evaluation only does not need training metrics
    assert quality.evaluate({"min_eval_pass_rate": 0.5}, None, results, model=MODEL).passed
    with pytest.raises(quality.QualityGateError, match="evaluation pass rate 0.5500 < min 0.8000"):
        quality.enforce({**base, "quality_gate": {"min_eval_pass_rate": 0.8}})


def test_the_resource_takes_a_model_deployment(tmp_path, monkeypatch):
    from pulumi_aoai_finetune.model_deployment import ModelDeployment

    seen = {}

    def capture(self, provider, name, props, opts=None):
        seen.update(props=props, opts=opts)

    monkeypatch.setattr(pulumi.dynamic.Resource, "__init__", capture)
    dep = ModelDeployment.__new__(ModelDeployment)
    dep.account, dep.model, dep.deployment_name = ACCOUNT, MODEL, "support"
    model_evaluation.ModelEvaluation("eval", deployment_name=dep, cases="cases.jsonl", project_dir=str(tmp_path),
                                     model_grader=model_evaluation.ModelGraderArgs("judge", rubric="Be right."))
    props = seen["props"]
    assert (props["account"], props["model"], props["deployment_name"]) == (ACCOUNT, MODEL, "support")
    assert props["cases"] == os.path.abspath("cases.jsonl")
    assert props["model_grader"] == {"deployment_name": "judge", "rubric": "Be right."}
    assert dep in seen["opts"].depends_on
    with pytest.raises(TypeError, match="needs account"):
        model_evaluation.ModelEvaluation("eval", deployment_name="support", cases="c.jsonl")
