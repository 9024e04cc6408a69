"""Running an evaluation: every case through the deployment's chat-completions endpoint (the real
openai SDK), graded, within bounds.

- **Concurrency** is bounded (``aoai-finetune:evalConcurrency``, default 4): that many cases are in
  flight at once, on daemon threads, so an interrupted run never waits for them to end.
- **Throttling**: the SDK retries a 429 (and 5xx, timeouts, dropped connections) up to
  ``aoai-finetune:maxRetries`` times, waiting what ``Retry-After`` asks; a case still refused after
  that counts as failed, with the service's message as its reason.
- **A case that errors** (a content filter's 400, a timeout, a 429 after the retries) counts as
  failed, with the reason; the run goes on. What makes every case meaningless stops the run at
  once instead, with the service's message: the deployment does not exist (404), the credential
  is refused (401/403), the endpoint is refused (TLS, plain http).
- **Bounded in time**: the run gives up after ``timeout`` seconds, and stops within a fraction of a
  second when ``cancelled`` is set, when the process is asked to stop (``_wait.request_stop``: the
  Terraform provider on Ctrl-C), or on Ctrl-C (KeyboardInterrupt in the calling thread).
  Chat completions leave nothing behind in the service: an interrupted run has nothing to clean up,
  and the next run starts over.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import _wait, clients
from ..errors import ConfigurationError, CredentialError, NotFoundError, ServiceError, WaitInterrupted
from . import graders
from .cases import Case

MAX_FAILURES = 20  # failing cases kept in the outputs (all are counted)
PROGRESS_SECONDS = 5.0
JUDGE_MAX_TOKENS = 300


class EvaluationInterrupted(WaitInterrupted):
    """The run was stopped (Ctrl-C, a stop request of the process, ``cancelled``) or ran out of time
    before every case ran. Nothing goes on in the service (``object_id`` is None)."""


@dataclass(frozen=True)
class Target:
    """A deployment to send chat completions to: an ``openai.AzureOpenAI`` client of its account."""

    client: Any
    deployment: str
    account: str = ""

    def ask(self, messages: list[dict[str, Any]], *, what: str, max_tokens: int, temperature: float,
            response_format: dict[str, Any] | None = None) -> tuple[str, dict[str, int]]:
        """(the answer's text, its usage) of one chat completion."""
        kwargs: dict[str, Any] = {"model": self.deployment, "messages": messages, "temperature": temperature,
                                  "max_tokens": max_tokens}
        if response_format is not None:
            kwargs["response_format"] = response_format
        with clients.openai_errors(what):
            reply = self.client.chat.completions.create(**kwargs)
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        if reply.usage is not None:
            usage = {"prompt_tokens": reply.usage.prompt_tokens or 0,
                     "completion_tokens": reply.usage.completion_tokens or 0}
        text = reply.choices[0].message.content if reply.choices else None
        return text or "", usage


@dataclass(frozen=True)
class Options:
    concurrency: int = 4
    max_tokens: int = 1024
    temperature: float = 0.0
    timeout: float = 3600.0
    rubric: str | None = None


@dataclass
class CaseResult:
    case: Case
    answer: str = ""
    grades: list[graders.Grade] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.grades) and all(g.passed for g in self.grades)


@dataclass
class Outcome:
    """The results of a run: what the resource outputs and the command prints."""

    results: list[CaseResult]
    usage: dict[str, int]
    judge_usage: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        total = len(self.results)
        passed = sum(r.passed for r in self.results)
        per: dict[str, dict[str, Any]] = {}
        for r in self.results:
            for g in r.case.graders:
                entry = per.setdefault(g, {"passed": 0, "total": 0})
                entry["total"] += 1
                entry["passed"] += any(x.grader == g and x.passed for x in r.grades) and r.error is None
        for entry in per.values():
            entry["pass_rate"] = round(entry["passed"] / entry["total"], 4) if entry["total"] else None
        failing = [r for r in self.results if not r.passed]
        return {
            "cases_run": total,
            "passed_cases": passed,
            "pass_rate": round(passed / total, 4) if total else None,
            "graders": per,
            "pass_rate_per_grader": {g: e["pass_rate"] for g, e in per.items()},
            "errors": sum(r.error is not None for r in self.results),
            "usage": {**self.usage, "total_tokens": self.usage["prompt_tokens"] + self.usage["completion_tokens"],
                      "judge_prompt_tokens": self.judge_usage["prompt_tokens"],
                      "judge_completion_tokens": self.judge_usage["completion_tokens"]},
            "failures": [_failure(r) for r in failing[:MAX_FAILURES]],
            "failures_total": len(failing),
            "seconds": round(self.seconds, 2),
        }


    def outputs(self, *, model: str | None, deployment: str, sha256: str, judge_model: str | None = None
                ) -> dict[str, Any]:
        """The outputs of a run (ModelEvaluation's, ``aoai-ft eval --json``): the figures, the token
        cost from the price table, and ``results``, the short form gates and other stacks read."""
        from .. import cost
        from .._common import rfc3339

        run = self.to_dict()
        usage = run["usage"]
        total = cost.estimate_inference(model, usage["prompt_tokens"], usage["completion_tokens"]).usd
        if usage["judge_prompt_tokens"] or usage["judge_completion_tokens"]:
            judge = cost.estimate_inference(judge_model, usage["judge_prompt_tokens"], usage["judge_completion_tokens"])
            total = None if total is None or judge.usd is None else total + judge.usd
        evaluated_at = rfc3339(time.time())
        out = {k: run[k] for k in ("cases_run", "pass_rate", "pass_rate_per_grader", "graders", "errors", "usage",
                                   "failures", "failures_total")}
        out.update(estimated_cost_usd=round(total, 6) if total is not None else None, evaluated_at=evaluated_at)
        out["results"] = {"model": model, "deployment_name": deployment, "cases_sha256": sha256,
                          "cases_run": run["cases_run"], "passed_cases": run["passed_cases"],
                          "pass_rate": run["pass_rate"], "pass_rate_per_grader": run["pass_rate_per_grader"],
                          "errors": run["errors"], "evaluated_at": evaluated_at}
        return out


def summary_line(outs: dict[str, Any]) -> str:
    """'17/20 cases passed (85.0%); contains 90.0%, regex 100.0%; 1 errored; 3,120 tokens ~ <$0.01'."""
    from .. import cost

    rate = outs.get("pass_rate")
    text = f"{(outs.get('results') or {}).get('passed_cases')}/{outs.get('cases_run')} cases passed"
    if rate is not None:
        text += f" ({rate * 100:.1f}%)"
    per = outs.get("pass_rate_per_grader") or {}
    if per:
        text += "; " + ", ".join(f"{g} {r * 100:.1f}%" for g, r in per.items() if r is not None)
    if outs.get("errors"):
        text += f"; {outs['errors']} errored"
    usage = outs.get("usage") or {}
    tokens = (usage.get("total_tokens") or 0) + (usage.get("judge_prompt_tokens") or 0) \
        + (usage.get("judge_completion_tokens") or 0)
    return text + f"; {tokens:,} tokens ~ {cost.usd(outs.get('estimated_cost_usd'))}"


def _expected(case: Case) -> str:
    e = case.expect
    parts = []
    if "exact" in e:
        parts.append(f"exact {graders.clip(e['exact'], 80)!r}")
    for key in ("contains", "not_contains"):
        if key in e:
            parts.append(f"{key.replace('_', ' ')} " + ", ".join(repr(graders.clip(s, 60)) for s in e[key]))
    if "regex" in e:
        parts.append(f"regex {graders.clip(e['regex'], 80)!r}")
    if "json" in e:
        parts.append("JSON" + (" matching its schema" if e["json"].get("schema") else ""))
    if "model" in e:
        parts.append("the judge's pass")
    if case.reference:
        parts.append(f"reference {graders.clip(case.reference, 80)!r}")
    return graders.clip("; ".join(parts))


def _failure(r: CaseResult) -> dict[str, Any]:
    failed = [g for g in r.grades if not g.passed]
    reason = r.error or "; ".join(f"{g.grader}: {g.reason}" for g in failed)
    return {"id": r.case.id, "line": r.case.line, "graders": [g.grader for g in failed] if not r.error else ["error"],
            "expected": _expected(r.case), "got": graders.clip(r.answer) if not r.error else "",
            "reason": graders.clip(reason, 300)}


def _fatal(exc: BaseException) -> bool:
    """Errors that make every case meaningless: stop the run."""
    if isinstance(exc, (CredentialError, ConfigurationError)):
        return True
    return isinstance(exc, NotFoundError)


def run(cases: list[Case], target: Target, *, options: Options, judge: Target | None = None,
        cancelled: threading.Event | None = None, progress: Callable[[str], None] | None = None,
        what: str = "evaluation") -> Outcome:
    """Run ``cases`` against ``target`` (and the ``judge`` for cases with a model grader)."""
    clients.load_sdks()  # before the worker threads: see clients.load_sdks
    cancelled = cancelled or threading.Event()
    stop = threading.Event()
    todo: queue.Queue[Case] = queue.Queue()
    for case in cases:
        todo.put(case)
    done: queue.Queue[tuple[Case, CaseResult | None, BaseException | None, dict, dict]] = queue.Queue()

    def one(case: Case) -> tuple[CaseResult, dict, dict]:
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        judge_usage = {"prompt_tokens": 0, "completion_tokens": 0}
        result = CaseResult(case)
        try:
            result.answer, usage = target.ask(case.messages, what=f"case {case.id} (line {case.line}) on deployment "
                                                                 f"{target.deployment}",
                                              max_tokens=options.max_tokens, temperature=options.temperature)
        except ServiceError as exc:
            if _fatal(exc):
                raise
            result.error = f"the deployment's answer failed: {exc}"
            return result, usage, judge_usage
        result.grades = graders.grade(case, result.answer)
        if "model" in case.expect and judge is not None and not stop.is_set():
            try:
                reply, judge_usage = judge.ask(graders.judge_messages(case, result.answer, options.rubric),
                                               what=f"the judge ({judge.deployment}) on case {case.id}",
                                               max_tokens=JUDGE_MAX_TOKENS, temperature=0.0,
                                               response_format=graders.VERDICT_FORMAT)
                result.grades.append(graders.parse_verdict(reply))
            except graders.VerdictError as exc:
                result.grades.append(graders.Grade("model", False, str(exc)))
            except ServiceError as exc:
                if _fatal(exc):
                    raise
                result.grades.append(graders.Grade("model", False, f"the judge's call failed: {exc}"))
        return result, usage, judge_usage

    def worker() -> None:
        while not stop.is_set():
            try:
                case = todo.get_nowait()
            except queue.Empty:
                return
            try:
                result, usage, judge_usage = one(case)
                done.put((case, result, None, usage, judge_usage))
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                done.put((case, None, exc, {}, {}))

    started = time.monotonic()
    deadline = started + options.timeout
    results: dict[int, CaseResult] = {}
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    judge_usage = {"prompt_tokens": 0, "completion_tokens": 0}
    last_progress = started
    try:
        for i in range(max(1, min(options.concurrency, len(cases) or 1))):
            threading.Thread(target=worker, name=f"aoai-eval-{i}", daemon=True).start()
        while len(results) < len(cases):
            if cancelled.is_set() or _wait.stop_requested():
                raise EvaluationInterrupted(_stopped(what, "it was cancelled", results, cases))
            if time.monotonic() > deadline:
                raise EvaluationInterrupted(_stopped(what, f"it ran out of time ({options.timeout:.0f} s)",
                                                     results, cases))
            try:
                case, result, error, u, ju = done.get(timeout=0.2)
            except queue.Empty:
                continue
            if error is not None:
                raise error
            results[case.line] = result
            for key in usage:
                usage[key] += u.get(key, 0)
                judge_usage[key] += ju.get(key, 0)
            if progress is not None and time.monotonic() - last_progress >= PROGRESS_SECONDS:
                last_progress = time.monotonic()
                progress(f"{what}: {len(results)}/{len(cases)} cases, "
                         f"{sum(r.passed for r in results.values())} passed")
    except KeyboardInterrupt:
        raise EvaluationInterrupted(_stopped(what, "Ctrl-C", results, cases)) from None
    finally:
        stop.set()
    ordered = [results[c.line] for c in cases]
    return Outcome(ordered, usage, judge_usage, time.monotonic() - started)


def _stopped(what: str, why: str, results: dict, cases: list) -> str:
    return (f"{what} stopped ({why}) after {len(results)} of {len(cases)} cases; chat completions leave nothing "
            "running in the service, so there is nothing to clean up: the next run evaluates every case again")
