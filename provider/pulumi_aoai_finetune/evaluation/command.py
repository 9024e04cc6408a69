"""``aoai-ft eval``: run an evaluation from the command line, for a quick look.

The same case file, graders, run and gate as ModelEvaluation, without Pulumi. Credentials and
endpoints come from the provider's settings in the environment (``AOAI_FT_*``,
``AZURE_OPENAI_API_KEY``). Exit codes: 0 done (and the gate, if given, passes), 1 the gate is
missed or the case file has problems, 2 a usage error, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import AoaiFinetuneError


def _per_grader(values: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for value in values:
        name, sep, rate = value.partition("=")
        try:
            out[name.strip()] = float(rate)
        except ValueError:
            raise click.BadParameter(f"{value!r}: use GRADER=RATE, e.g. contains=0.9",
                                     param_hint="--min-pass-rate-per-grader") from None
        if not sep:
            raise click.BadParameter(f"{value!r}: use GRADER=RATE", param_hint="--min-pass-rate-per-grader")
    return out


def _deployed_model(settings, account, deployment: str) -> str | None:
    """The model a deployment serves, read from ARM; None when ARM cannot be read from here."""
    from .. import clients

    try:
        with clients.arm_errors(f"reading deployment {deployment}"):
            found = clients.arm(settings, account.subscription_id).deployments.get(account.resource_group,
                                                                                    account.name, deployment)
    except AoaiFinetuneError:
        return None
    model = found.properties.model if found.properties else None
    return model.name if model is not None else None


@click.command("eval")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False))
@click.option("--deployment", required=True, metavar="NAME", help="The deployment to evaluate.")
@click.option("--account", envvar="AOAI_FT_ACCOUNT", required=True, metavar="ARM_ID",
              help="ARM resource id of the deployment's account (env AOAI_FT_ACCOUNT).")
@click.option("--endpoint", metavar="URL", help="The account's data-plane endpoint (default: read from ARM).")
@click.option("--model", metavar="MODEL", help="The model the deployment serves (default: read from ARM); "
                                               "recorded in the results and used for the cost estimate.")
@click.option("--judge-deployment", metavar="NAME", help="The model grader's deployment, for cases with expect.model.")
@click.option("--judge-account", metavar="ARM_ID", help="The judge's account (default: --account).")
@click.option("--judge-model", metavar="MODEL", help="The judge's model, for the cost estimate.")
@click.option("--rubric", metavar="TEXT", help="The model grader's rubric (@FILE reads it from a file).")
@click.option("--min-pass-rate", type=click.FloatRange(0, 1), help="The gate: the lowest accepted pass rate.")
@click.option("--min-pass-rate-per-grader", multiple=True, metavar="GRADER=RATE",
              help="The gate per grader (repeatable), e.g. contains=1.0.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Cases in flight at once (default: the "
                                                                  "evalConcurrency setting, 4).")
@click.option("--max-tokens", type=click.IntRange(1, 100_000), default=1024, show_default=True,
              help="The answer's token limit per case.")
@click.option("--temperature", type=click.FloatRange(0, 2), default=0.0, show_default=True)
@click.option("--timeout", type=click.FloatRange(min=1), default=3600.0, show_default=True,
              help="Seconds the whole run may take.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (ModelEvaluation's outputs).")
def evaluate(cases: str, deployment: str, account: str, endpoint: str | None, model: str | None,
             judge_deployment: str | None, judge_account: str | None, judge_model: str | None, rubric: str | None,
             min_pass_rate: float | None, min_pass_rate_per_grader: tuple[str, ...], concurrency: int | None,
             max_tokens: int, temperature: float, timeout: float, as_json: bool) -> None:
    """Run the cases of CASES (JSONL: messages and expect per line) against a deployment and grade
    the answers, as ModelEvaluation does in a stack.

    \b
    aoai-ft eval eval/cases.jsonl --deployment support --account /subscriptions/.../accounts/my-aoai
    aoai-ft eval cases.jsonl --deployment support --account ... --min-pass-rate 0.9 --judge-deployment gpt-4o
    """
    from .. import clients
    from ..account import AccountRef
    from ..settings import ProviderSettings
    from . import gate as gate_mod
    from . import runner
    from .cases import read_cases

    gate = {}
    if min_pass_rate is not None:
        gate["min_pass_rate"] = min_pass_rate
    if min_pass_rate_per_grader:
        gate["min_pass_rate_per_grader"] = _per_grader(min_pass_rate_per_grader)
    if gate:
        problems = gate_mod.check_gate(gate, "--min-pass-rate")
        if problems:
            raise click.UsageError("; ".join(message for _, message in problems))
    if rubric and rubric.startswith("@"):
        rubric = Path(rubric[1:]).read_text(encoding="utf-8")
    try:
        settings = ProviderSettings.load()
        report = read_cases(cases, api_version=settings.api_version, model_grader=judge_deployment is not None)
        if not report.ok:
            click.echo(report.summary(max_lines=50), err=True)
            sys.exit(1)
        ref = AccountRef.parse({"resource_id": account, **({"endpoint": endpoint} if endpoint else {})}, "--account")
        target = runner.Target(clients.data_plane(settings, ref), deployment, ref.name)
        judge = None
        if judge_deployment:
            judge_ref = AccountRef.parse(judge_account, "--judge-account") if judge_account else ref
            judge = runner.Target(clients.data_plane(settings, judge_ref), judge_deployment, judge_ref.name)
        model = model or _deployed_model(settings, ref, deployment)
        options = runner.Options(concurrency=concurrency or settings.eval_concurrency, max_tokens=max_tokens,
                                 temperature=temperature, timeout=timeout, rubric=rubric)
        what = f"evaluation of deployment {deployment}" + (f" ({model})" if model else "")
        progress = (lambda line: click.echo(line, err=True))
        outcome = runner.run(report.cases, target, options=options, judge=judge, progress=progress, what=what)
    except runner.EvaluationInterrupted as exc:
        click.echo(f"aoai-ft eval: {exc}", err=True)
        sys.exit(130)
    except AoaiFinetuneError as exc:
        raise click.ClickException(str(exc)) from None
    outs = outcome.outputs(model=model, deployment=deployment, sha256=report.sha256, judge_model=judge_model)
    verdict = gate_mod.evaluate(gate, outs["results"], model=None) if gate else None
    if as_json:
        if verdict is not None:
            outs["gate"] = {"passed": verdict.passed, "failures": verdict.failures, "checked": verdict.checked}
        click.echo(json.dumps(outs, indent=2))
    else:
        click.echo(render(outs, name=cases))
        if verdict is not None:
            click.echo(("gate: passes (" + "; ".join(verdict.checked) + ")") if verdict.passed
                       else ("gate: MISSED: " + "; ".join(verdict.failures)))
    if verdict is not None and not verdict.passed:
        sys.exit(1)


def render(outs: dict, *, name: str) -> str:
    """The results as a text table for a terminal (also used by ``aoai-ft report``)."""
    from .. import cost

    results = outs.get("results") or {}
    lines = [f"evaluation of deployment {results.get('deployment_name')}"
             + (f" ({results['model']})" if results.get("model") else "")
             + f": {name} (sha256 {str(results.get('cases_sha256'))[:12]}), {outs.get('cases_run')} cases"]
    rate = outs.get("pass_rate")
    lines.append(f"  {'passed':<14}{results.get('passed_cases')}/{outs.get('cases_run')}"
                 + (f"  {rate * 100:.1f}%" if rate is not None else ""))
    for grader, entry in (outs.get("graders") or {}).items():
        share = f"  {entry['pass_rate'] * 100:.1f}%" if entry.get("pass_rate") is not None else ""
        lines.append(f"  {grader:<14}{entry['passed']}/{entry['total']}{share}")
    lines.append(f"  {'errors':<14}{outs.get('errors', 0)}")
    usage = outs.get("usage") or {}
    tokens = f"{usage.get('prompt_tokens', 0):,} in + {usage.get('completion_tokens', 0):,} out"
    if usage.get("judge_prompt_tokens") or usage.get("judge_completion_tokens"):
        tokens += f" (judge: {usage['judge_prompt_tokens']:,} in + {usage['judge_completion_tokens']:,} out)"
    lines.append(f"  {'tokens':<14}{tokens} ~ {cost.usd(outs.get('estimated_cost_usd'))}")
    failures = outs.get("failures") or []
    if failures:
        total = outs.get("failures_total") or len(failures)
        lines.append(f"failing cases ({total}{', first ' + str(len(failures)) if total > len(failures) else ''}):")
        for f in failures:
            lines.append(f"  line {f['line']:<5}{f['id']}: {f['reason']}")
            if f.get("got"):
                lines.append(f"  {'':<10}got: {json.dumps(f['got'], ensure_ascii=False)}")
    return "\n".join(lines)
