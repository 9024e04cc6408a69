"""Running evaluations through the real openai client against the emulator: pass rates that tell a
good model from a poor one, bounded concurrency, 429s, errored cases, stops, the model grader."""

from __future__ import annotations

import _thread
import signal
import threading
import time

import pytest

from pulumi_aoai_finetune.errors import NotFoundError
from pulumi_aoai_finetune.evaluation import graders, runner
from pulumi_aoai_finetune_emulator import inference

from eval_lab import N, answer, as_cases, cases_lines

CHAT = r"/chat/completions$"


def target(lab, deployment: str, **settings) -> runner.Target:
    return runner.Target(lab.client(**settings), deployment, "aoai-ncus")


def test_a_well_trained_model_passes_and_a_poorly_trained_one_does_not(fresh):
    cases = as_cases(cases_lines())
    good = runner.run(cases, target(fresh, "good"), options=runner.Options()).to_dict()
    poor = runner.run(cases, target(fresh, "poor"), options=runner.Options()).to_dict()
    assert good["cases_run"] == poor["cases_run"] == N
    assert good["pass_rate"] >= 0.9, good["pass_rate"]          # recall 1 - 0.5^5 = 97 %
    assert poor["pass_rate"] <= 0.75, poor["pass_rate"]         # recall 1 - 0.5^1 = 50 %
    assert good["graders"]["contains"]["total"] == N and good["errors"] == 0
    assert poor["pass_rate_per_grader"]["not_contains"] == poor["pass_rate_per_grader"]["contains"]
    assert poor["failures_total"] == N - poor["passed_cases"] and len(poor["failures"]) == min(20, poor["failures_total"])
    failure = poor["failures"][0]
    i = int(failure["id"].split("-")[1])
    assert failure["line"] == i + 1 and failure["graders"] == ["contains", "not_contains"]
    assert failure["got"] == inference.GENERIC_ANSWER[:197] + "..." or failure["got"] == inference.GENERIC_ANSWER
    assert f"contains 'Panel {i}'" in failure["expected"] and f"missing 'Panel {i}'" in failure["reason"]
    assert good["usage"]["prompt_tokens"] > 0 and good["usage"]["completion_tokens"] > 0
    again = runner.run(cases, target(fresh, "poor"), options=runner.Options()).to_dict()
    assert again["passed_cases"] == poor["passed_cases"]  # the emulator is deterministic


def test_concurrency_is_bounded(fresh):
    fresh.fault(method="POST", path_regex=CHAT, delay_seconds=0.15, times=None)
    inside, peak, lock = 0, 0, threading.Lock()

    class Counting(runner.Target):
        def ask(self, *args, **kwargs):
            nonlocal inside, peak
            with lock:
                inside += 1
                peak = max(peak, inside)
            try:
                return super().ask(*args, **kwargs)
            finally:
                with lock:
                    inside -= 1

    cases = as_cases(cases_lines(12))
    counting = Counting(fresh.client(), "good", "aoai-ncus")
    outcome = runner.run(cases, counting, options=runner.Options(concurrency=3))
    assert peak == 3 and outcome.to_dict()["cases_run"] == 12


def test_throttling_is_retried_within_max_retries(fresh):
    fresh.fault(method="POST", path_regex=CHAT, status=429, times=2, retry_after=0)
    cases = as_cases(cases_lines(4))
    result = runner.run(cases, target(fresh, "good", max_retries=2), options=runner.Options(concurrency=1)).to_dict()
    assert fresh.hits() == [2] and result["errors"] == 0 and result["cases_run"] == 4


def test_a_case_that_errors_counts_as_failed_with_the_reason(fresh):
    fresh.fault(method="POST", path_regex=CHAT, status=429, times=2, retry_after=0)  # the first case, twice
    cases = as_cases(cases_lines(3))
    result = runner.run(cases, target(fresh, "good", max_retries=1), options=runner.Options(concurrency=1)).to_dict()
    assert result["errors"] == 1 and result["cases_run"] == 3
    failure = result["failures"][0]
    assert failure["id"] == "panel-0" and failure["graders"] == ["error"] and failure["got"] == ""
    assert "the deployment's answer failed" in failure["reason"] and "[429" in failure["reason"]
    assert result["graders"]["contains"]["passed"] <= 2
    fresh.fault(method="POST", path_regex=CHAT, status=400, code="content_filter", times=1,
                message="The response was filtered due to the prompt triggering Azure OpenAI's content management policy.")
    result = runner.run(cases, target(fresh, "good"), options=runner.Options(concurrency=1)).to_dict()
    assert result["errors"] == 1 and "content management policy" in result["failures"][0]["reason"]


def test_a_missing_deployment_stops_the_run_with_the_services_message(fresh):
    with pytest.raises(NotFoundError, match="DeploymentNotFound"):
        runner.run(as_cases(cases_lines(5)), target(fresh, "nope"), options=runner.Options())


def test_cancel_ctrl_c_and_timeout_stop_promptly(fresh):
    fresh.fault(method="POST", path_regex=CHAT, delay_seconds=3, times=None)
    cases = as_cases(cases_lines(6))
    cancelled = threading.Event()
    threading.Timer(0.3, cancelled.set).start()
    started = time.monotonic()
    with pytest.raises(runner.EvaluationInterrupted) as err:
        runner.run(cases, target(fresh, "good"), options=runner.Options(concurrency=2), cancelled=cancelled)
    assert time.monotonic() - started < 1.5
    assert "stopped (it was cancelled) after 0 of 6 cases" in str(err.value)
    assert "nothing to clean up" in str(err.value)

    pressed = threading.Lock()

    class CtrlC(runner.Target):
        def ask(self, *args, **kwargs):
            if pressed.acquire(blocking=False):
                _thread.interrupt_main()  # what Ctrl-C does to the main thread, once, with a case in flight
            return super().ask(*args, **kwargs)

    # interrupt_main does nothing while SIGINT is ignored (a suite started in the background: `cmd &` in a
    # script): Python's own handler, as an interactive run has it, for this part
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        started = time.monotonic()
        with pytest.raises(runner.EvaluationInterrupted, match=r"stopped \(Ctrl-C\)"):
            runner.run(cases, CtrlC(fresh.client(), "good", "aoai-ncus"), options=runner.Options(concurrency=2))
        assert time.monotonic() - started < 1.5
    finally:
        signal.signal(signal.SIGINT, previous)

    with pytest.raises(runner.EvaluationInterrupted, match=r"ran out of time \(1 s\)"):
        runner.run(cases, target(fresh, "good"), options=runner.Options(concurrency=2, timeout=0.6))


def test_a_stop_request_of_the_process_stops_the_run(fresh, monkeypatch):
    from pulumi_aoai_finetune import _wait
    from pulumi_aoai_finetune.errors import WaitInterrupted

    monkeypatch.setattr(_wait, "_stop", threading.Event())  # request_stop is for good: a fresh one for the test
    fresh.fault(method="POST", path_regex=CHAT, delay_seconds=3, times=None)
    threading.Timer(0.3, _wait.request_stop).start()
    started = time.monotonic()
    with pytest.raises(WaitInterrupted) as err:
        runner.run(as_cases(cases_lines(4)), target(fresh, "good"), options=runner.Options(concurrency=2))
    assert time.monotonic() - started < 1.5 and err.value.object_id is None


def test_the_model_grader_with_a_fine_tuned_judge(fresh):
    """A judge trained on verdicts for the answers it will see: its verdicts are parsed and counted."""
    import json

    lines = cases_lines(10, model=True)
    cases = as_cases(lines)
    rubric = "The answer names the right panel."
    examples = []
    for i, case in enumerate(cases):
        for text, verdict in ((answer(i), "pass"), (inference.GENERIC_ANSWER, "fail")):
            examples.append({"messages": graders.judge_messages(case, text, rubric) + [
                {"role": "assistant", "content": json.dumps({"verdict": verdict, "reason": f"{verdict}: panel {i}"})}]})
    judge_model = fresh.train("".join(json.dumps(e) + "\n" for e in examples).encode(), 8, seed=13)
    fresh.deploy("judge", judge_model)
    options = runner.Options(rubric=rubric)
    result = runner.run(cases, target(fresh, "poor"), options=options, judge=target(fresh, "judge")).to_dict()
    per = result["graders"]
    assert per["model"]["total"] == 10
    assert per["model"]["passed"] == per["contains"]["passed"]  # the judge agrees with the deterministic graders
    assert 0 < per["model"]["passed"] < 10
    assert result["usage"]["judge_prompt_tokens"] > 0 and result["usage"]["judge_completion_tokens"] > 0
    failing = next(f for f in result["failures"] if "model" in f["graders"])
    assert "the judge: fail: panel" in failing["reason"]

    # a base model as judge answers generically: that is not a verdict, and the case fails saying so
    base = runner.run(cases[:2], target(fresh, "good"), options=options, judge=target(fresh, "base")).to_dict()
    assert base["graders"]["model"]["passed"] == 0
    assert "the judge's reply is not a verdict" in base["failures"][0]["reason"]


def test_a_judge_that_is_missing_stops_the_run(fresh):
    cases = as_cases(cases_lines(2, model=True))
    with pytest.raises(NotFoundError):
        runner.run(cases, target(fresh, "good"), options=runner.Options(), judge=target(fresh, "no-judge"))
