"""ModelEvaluation: a deployed model evaluated on held-out cases, as a declared step of the pipeline.

    dep = ModelDeployment("support", account=account, model=job.fine_tuned_model)
    ev = ModelEvaluation("support-eval", deployment_name=dep, cases="eval/cases.jsonl")
    pulumi.export("evaluation", ev.results)

Inputs
    account          AccountArgs of the deployment's account (default, with a ModelDeployment as
                     ``deployment_name``: its account)
    deployment_name  the deployment to evaluate: its name, or a ModelDeployment (then ``account`` and
                     ``model`` default to its own)
    model            the model the deployment serves (a ModelDeployment's ``model``): evaluating
                     again when it changes needs no call to find out
    cases            a local JSONL file of cases (see :mod:`.evaluation.cases`): validated at preview,
                     every problem with file and line; its SHA-256 decides whether it changed
    model_grader     ModelGraderArgs: the deployment that judges the cases whose ``expect`` has
                     ``model`` (``deployment_name``, ``account`` (default: the same), ``rubric``,
                     ``model`` for the cost estimate)
    max_tokens       the answer's token limit per case (default 1024); temperature (default 0)
    timeout_seconds  how long the whole run may take (default 3600)
    project_dir      the directory ``cases`` must stay inside (default: the Pulumi project's)

Outputs: the inputs plus ``results`` (what gates and other stacks read: ``model``,
``deployment_name``, ``cases_sha256``, ``cases_run``, ``passed_cases``, ``pass_rate``,
``pass_rate_per_grader``, ``errors``, ``evaluated_at``), and ``cases_run``, ``pass_rate``,
``pass_rate_per_grader``, ``graders`` (passed/total per grader), ``errors``, ``usage`` (tokens of
the deployment and of the judge), ``estimated_cost_usd``, ``failures`` (the first 20 failing cases:
id, line, graders, expected, got, reason -- truncated), ``failures_total``, ``evaluated_at``.

Lifecycle. Creating runs the evaluation (see :mod:`.evaluation.runner`: bounded concurrency, 429s
retried, a case that errors fails with its reason). A change of model, deployment, account, case
file content, model grader, max_tokens or temperature replaces it: a new run, which the preview
shows as a replacement and logs with its estimated cost. Anything else (a renamed case file with
the same content, the timeout) is updated in place without a call, and a no-op ``pulumi up`` makes
no call at all. An evaluation leaves nothing in the service: ``read`` keeps the recorded results
(``pulumi refresh`` does not re-run it) and deleting it deletes nothing.

The gate is applied where the model is promoted: ModelDeployment's ``quality_gate``
(``min_eval_pass_rate``, ``min_eval_pass_rate_per_grader``) with ``evaluation=ev.results``, or the
stacks' ``promote.gate.evaluation`` -- a model whose evaluation missed it is refused, at preview
when the results are known, quoting the numbers.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
from pulumi.dynamic import Resource

from . import clients, cost
from ._common import check_account, project_file, same_account
from . import schema
from .adapters.dynamic import DynamicProvider
from .controller import Controller, Diff, as_int, is_unknown
from .account import AccountArgs, AccountRef, account_inputs
from .errors import ConfigurationError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,63}")
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,255}")
GRADER_KEYS = ("deployment_name", "account", "rubric", "model")
MAX_RUBRIC = 8000
MAX_TOKENS = 100_000
REPLACE_KEYS = ("deployment_name", "model", "model_grader", "max_tokens", "temperature")
UPDATE_KEYS = ("timeout_seconds",)
RESULT_KEYS = ("model", "deployment_name", "cases_sha256", "cases_run", "passed_cases", "pass_rate",
               "pass_rate_per_grader", "errors", "evaluated_at")
OUTPUTS = ("results", "cases_run", "pass_rate", "pass_rate_per_grader", "graders", "errors", "usage",
           "estimated_cost_usd", "failures", "failures_total", "evaluated_at")
JUDGE_OVERHEAD_TOKENS = 150  # the judge's instructions and framing, per case


@dataclass
class ModelGraderArgs:
    """The deployment that judges answers against a rubric (see :mod:`.evaluation.graders`).

    :param deployment_name: the judge's deployment (a base model with structured outputs, e.g. gpt-4o)
    :param account: its account (default: the evaluated deployment's)
    :param rubric: what a good answer is (a case's ``expect.model.rubric`` overrides it)
    :param model: the judge's model, for the cost estimate only
    """

    deployment_name: pulumi.Input[str]
    account: "AccountArgs | pulumi.Input[dict] | str | None" = None
    rubric: Optional[pulumi.Input[str]] = None
    model: Optional[pulumi.Input[str]] = None

    def to_inputs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"deployment_name": self.deployment_name}
        if self.account is not None:
            out["account"] = account_inputs(self.account)
        for key in ("rubric", "model"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


class ModelEvaluationController(Controller):
    resource = schema.MODEL_EVALUATION

    # -- preview -------------------------------------------------------------------------
    def check(self, olds, news):
        from .evaluation.cases import read_cases

        inputs = dict(news)
        failures: list[tuple[str, str]] = []
        check_account(inputs, failures)
        inputs.setdefault("max_tokens", 1024)
        inputs.setdefault("temperature", 0)
        inputs.setdefault("timeout_seconds", 3600)
        name = inputs.get("deployment_name")
        if not is_unknown(name) and (not isinstance(name, str) or not NAME.fullmatch(name)):
            failures.append(("deployment_name", f"deployment_name {name!r} must name the deployment to evaluate (2 to "
                                                "64 letters, digits, '-', '_' and '.')"))
        model = inputs.get("model")
        if not is_unknown(model) and (not isinstance(model, str) or not MODEL_NAME.fullmatch(model)):
            failures.append(("model", f"model is required: the model the deployment serves (a ModelDeployment's "
                                      f"model), got {model!r}"))
        failures.extend(_check_grader(inputs))
        failures.extend(_check_numbers(inputs))
        grader = inputs.get("model_grader")
        cases = inputs.get("cases")
        if cases is None:
            failures.append(("cases", "cases is required: a JSONL file of cases (messages and expect, one per line)"))
        elif not is_unknown(cases):
            path = project_file(cases, inputs, failures, "cases", what="case files")
            if path is not None:
                report = read_cases(path, api_version=self.settings.api_version, model_grader=grader is not None,
                                    keep=False)
                if not report.ok:
                    failures.append(("cases", report.summary(max_lines=20)))
                else:
                    inputs.update(cases_sha256=report.sha256, cases_count=report.count,
                                  cases_prompt_tokens=report.prompt_tokens, cases_graders=report.graders)
        if not failures and self._will_run(olds, inputs):
            pulumi.log.info(estimate_line(inputs))
        return inputs, failures

    @staticmethod
    def _will_run(olds: dict, inputs: dict) -> bool:
        """Whether this preview's inputs mean a (new) run: the estimate is logged then."""
        if not olds:
            return True
        d = Diff()
        _compare(d, olds, inputs)
        return bool(d.replaces)

    def diff(self, id_, olds, news):
        d = Diff()
        _compare(d, olds, news)
        if olds.get("cases") != news.get("cases") and "cases" not in d.replaces:
            d.updates.append("cases")  # a renamed case file with the same content: recorded, not run again
        d.compare(olds, news, UPDATE_KEYS, replace=False, normalize=as_int)
        return d

    # -- lifecycle ---------------------------------------------------------------------------
    def create(self, inputs):
        from .evaluation import runner
        from .evaluation.cases import read_cases

        account = AccountRef.parse(inputs["account"])
        grader = inputs.get("model_grader")
        report = read_cases(inputs["cases"], api_version=self.settings.api_version, model_grader=grader is not None)
        if not report.ok:
            raise ConfigurationError(report.summary(max_lines=20))
        deployment = inputs["deployment_name"]
        target = runner.Target(clients.data_plane(self.settings, account), deployment, account.name)
        judge = None
        if grader is not None:
            judge_account = AccountRef.parse(grader["account"], "model_grader.account") if grader.get("account") \
                else account
            judge = runner.Target(clients.data_plane(self.settings, judge_account), grader["deployment_name"],
                                  judge_account.name)
        what = f"evaluation of deployment {deployment} ({inputs.get('model')})"
        pulumi.log.info(f"{what}: {report.count} cases from {inputs['cases']}, {self.settings.eval_concurrency} at a "
                        "time")
        options = runner.Options(concurrency=self.settings.eval_concurrency, max_tokens=int(inputs["max_tokens"]),
                                 temperature=float(inputs["temperature"]), timeout=float(inputs["timeout_seconds"]),
                                 rubric=(grader or {}).get("rubric"))
        outcome = runner.run(report.cases, target, options=options, judge=judge, progress=pulumi.log.info, what=what)
        outs = dict(inputs)
        outs["cases_sha256"] = report.sha256
        outs.update(outcome.outputs(model=inputs.get("model"), deployment=deployment, sha256=report.sha256,
                                    judge_model=(grader or {}).get("model")))
        pulumi.log.info(f"{what}: {runner.summary_line(outs)}")
        for failure in outs["failures"][:5]:
            pulumi.log.info(f"  failed {failure['id']} (line {failure['line']}): {failure['reason']}")
        return f"evaluation-{uuid.uuid4().hex}", outs

    def read(self, id_, props):
        return id_, dict(props)  # a record of a run: nothing in the service to read back

    def update(self, id_, olds, news):
        outs = dict(olds)
        outs.update({k: v for k, v in news.items() if k not in OUTPUTS})
        return outs

    def delete(self, id_, props):
        pass  # chat completions leave nothing in the service


def _compare(d: Diff, olds: dict, news: dict) -> None:
    if not same_account(olds.get("account"), news.get("account")):
        d.replaces.append("account")
    d.compare(olds, news, REPLACE_KEYS, replace=True, normalize=as_int)
    if news.get("cases") is not None and olds.get("cases_sha256") != news.get("cases_sha256"):
        d.replaces.append("cases")


def _check_grader(inputs: dict) -> list[tuple[str, str]]:
    grader = inputs.get("model_grader")
    if grader is None or is_unknown(grader):
        return []
    if not isinstance(grader, dict):
        return [("model_grader", "model_grader must be an object: deployment_name, and optionally account, rubric, "
                                 "model")]
    failures = []
    unknown = sorted(set(grader) - set(GRADER_KEYS))
    if unknown:
        failures.append(("model_grader", f"unknown model_grader keys {unknown}; use {', '.join(GRADER_KEYS)}"))
    name = grader.get("deployment_name")
    if not is_unknown(name) and (not isinstance(name, str) or not NAME.fullmatch(name)):
        failures.append(("model_grader.deployment_name", f"model_grader.deployment_name must name the judge's "
                                                         f"deployment, got {name!r}"))
    if grader.get("account") is not None:
        check_account(grader, failures, "account")
        failures = [(f"model_grader.{f}" if f == "account" else f, m) for f, m in failures]
    rubric = grader.get("rubric")
    if rubric is not None and not is_unknown(rubric) and (not isinstance(rubric, str) or not rubric.strip()
                                                          or len(rubric) > MAX_RUBRIC):
        failures.append(("model_grader.rubric", f"model_grader.rubric must be a non-empty text of at most "
                                                f"{MAX_RUBRIC} characters"))
    model = grader.get("model")
    if model is not None and not is_unknown(model) and (not isinstance(model, str) or not MODEL_NAME.fullmatch(model)):
        failures.append(("model_grader.model", f"model_grader.model must be a model name, got {model!r}"))
    return failures


def _check_numbers(inputs: dict) -> list[tuple[str, str]]:
    failures = []
    tokens = as_int(inputs.get("max_tokens"))
    if not is_unknown(tokens) and (isinstance(tokens, bool) or not isinstance(tokens, int)
                                   or not 1 <= tokens <= MAX_TOKENS):
        failures.append(("max_tokens", f"max_tokens must be an integer from 1 to {MAX_TOKENS}, got {tokens!r}"))
    temperature = inputs.get("temperature")
    if not is_unknown(temperature) and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                        or not math.isfinite(temperature) or not 0 <= temperature <= 2):
        failures.append(("temperature", f"temperature must be a number from 0 to 2, got {temperature!r}"))
    timeout = inputs.get("timeout_seconds")
    if not is_unknown(timeout) and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not 0 < timeout < float("inf")):
        failures.append(("timeout_seconds", f"timeout_seconds must be a positive number of seconds, got {timeout!r}"))
    return failures


def estimate_line(inputs: dict) -> str:
    """The preview's line for a run to come: cases, tokens and the estimated cost (an upper bound:
    every answer at max_tokens)."""
    count = int(inputs.get("cases_count") or 0)
    prompt = int(inputs.get("cases_prompt_tokens") or 0)
    max_tokens = int(as_int(inputs.get("max_tokens")) or 1024)
    model = inputs.get("model") if isinstance(inputs.get("model"), str) and not is_unknown(inputs.get("model")) \
        else None
    est = cost.estimate_inference(model, prompt, count * max_tokens)
    judged = int((inputs.get("cases_graders") or {}).get("model", 0))
    grader = inputs.get("model_grader") if isinstance(inputs.get("model_grader"), dict) else {}
    text = (f"evaluation of deployment {inputs.get('deployment_name')}: {count} case(s) will run, ~{prompt:,} input "
            f"tokens and at most {count * max_tokens:,} output tokens (max_tokens {max_tokens}): "
            f"at most {cost.usd(est.usd)}")
    if est.note:
        text += f" ({est.note})"
    if judged:
        judge_prompt = prompt * judged // max(1, count) + judged * (max_tokens + JUDGE_OVERHEAD_TOKENS)
        judge = cost.estimate_inference(grader.get("model") if isinstance(grader.get("model"), str) else None,
                                        judge_prompt, judged * 300)
        text += f"; the model grader judges {judged}: at most {cost.usd(judge.usd)}"
        if judge.note:
            text += f" ({judge.note}: set model_grader.model to price it)"
    return f"{text}; {est.prices}"


class ModelEvaluationProvider(DynamicProvider):
    controller = ModelEvaluationController


class ModelEvaluation(Resource, module="aoai", name="ModelEvaluation"):
    """A deployed model evaluated on held-out cases (see the module docs)."""

    results: pulumi.Output[dict]
    cases_run: pulumi.Output[int]
    pass_rate: pulumi.Output[float]
    pass_rate_per_grader: pulumi.Output[dict]
    graders: pulumi.Output[dict]
    errors: pulumi.Output[int]
    usage: pulumi.Output[dict]
    estimated_cost_usd: pulumi.Output[Optional[float]]
    failures: pulumi.Output[list]
    failures_total: pulumi.Output[int]
    evaluated_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        deployment_name: "pulumi.Input[str] | Any",
        cases: pulumi.Input[str],
        account: "AccountArgs | pulumi.Input[dict] | str | None" = None,
        model: Optional[pulumi.Input[str]] = None,
        model_grader: "ModelGraderArgs | pulumi.Input[dict] | None" = None,
        max_tokens: pulumi.Input[int] = 1024,
        temperature: pulumi.Input[float] = 0,
        timeout_seconds: pulumi.Input[float] = 3600,
        project_dir: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        from .model_deployment import ModelDeployment
        from .training_file import resolve_local

        if isinstance(deployment_name, ModelDeployment):  # its name, account and model
            dep = deployment_name
            account = account if account is not None else dep.account
            model = model if model is not None else dep.model
            deployment_name = dep.deployment_name
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[dep]))
        if account is None:
            raise TypeError("ModelEvaluation needs account= (or a ModelDeployment as deployment_name)")
        cases, project_dir = resolve_local(cases, project_dir)  # relative to the program's directory
        props: dict[str, Any] = {
            "account": account_inputs(account), "deployment_name": deployment_name, "model": model,
            "cases": cases, "model_grader": model_grader.to_inputs() if isinstance(model_grader, ModelGraderArgs)
            else model_grader,
            "max_tokens": max_tokens, "temperature": temperature, "timeout_seconds": timeout_seconds,
            "project_dir": project_dir, "cases_sha256": None, "cases_count": None, "cases_prompt_tokens": None,
            "cases_graders": None,
        }
        for key in OUTPUTS:
            props.setdefault(key, None)
        super().__init__(ModelEvaluationProvider(), resource_name, props, opts)
