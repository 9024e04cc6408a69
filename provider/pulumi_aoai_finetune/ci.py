"""The pipeline project in CI: which stacks a change touches, their previews turned into one
pull-request comment, and `pulumi up` of a stack. ``aoai-ft ci`` (ci_command.py) is the command line;
examples/ci/ holds the GitHub Actions workflow that calls it.

A stack's preview is ``pulumi preview --json`` (the input of :mod:`review`) with ``--event-log``, whose
policy events the JSON document leaves out (Pulumi v3.274: "we don't handle policy events in JSON
serialization"); :class:`PolicyResults` reads them (``--event-log`` is offered with
``PULUMI_DEBUG_COMMANDS=true``). Stacks are named fully qualified, as a
self-managed backend (``azblob://``) knows them: ``organization/<project>/<stack>``.

Nothing of the run's credentials may reach the comment: every value of :data:`SENSITIVE_ENV` found in
the text is replaced, and so is the query of any URL that carries a SAS signature (``sig=``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from . import cost, github, review

MARKER = "<!-- aoai-ft ci review -->"
"""The hidden first line of the comment: the next run finds and updates it instead of adding one."""
ORGANIZATION = "organization"
"""The organization of every stack on a self-managed backend."""
SENSITIVE_ENV = ("AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING",
                 "AZURE_STORAGEBLOB_CONNECTIONSTRING", "AZURE_CLIENT_SECRET", "AZURE_OPENAI_API_KEY",
                 "AOAI_FT_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN", "GITHUB_TOKEN",
                 "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN")
_SAS_QUERY = re.compile(r"(?i)\?[^\s`'\"<>)|]*\bsig=[^\s`'\"<>)|]*")
_MAX_COMMENT = 65_000  # GitHub refuses comment bodies over 65,536 characters


class CiError(Exception):
    """A problem the command reports in one line (no traceback)."""


# -- the project ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    config_dir: Path

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> "Project":
        root = Path(root).resolve()
        for candidate in ("Pulumi.yaml", "Pulumi.yml"):
            if (root / candidate).is_file():
                doc = yaml.safe_load((root / candidate).read_text(encoding="utf-8")) or {}
                break
        else:
            raise CiError(f"{root}: no Pulumi.yaml (run in the project's directory or pass --cwd)")
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            raise CiError(f"{root / candidate}: no project name")
        return cls(root, name, root / str(doc.get("stackConfigDir") or "."))

    def stacks(self) -> list[str]:
        """The stacks that have a settings file, Pulumi.<stack>.yaml."""
        return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in self.config_dir.glob("Pulumi.*.yaml"))

    def qualified(self, stack: str) -> str:
        return stack if stack.count("/") == 2 else f"{ORGANIZATION}/{self.name}/{stack.rsplit('/', 1)[-1]}"

    def settings(self, stack: str) -> Path:
        return self.config_dir / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"

    def regions(self, stack: str) -> dict[str, str]:
        """Account name -> region, from the pipeline's ``accounts`` in the stack's settings (the
        preview does not carry regions)."""
        try:
            doc = yaml.safe_load(self.settings(stack).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return {}
        pipeline = (doc.get("config") or {}).get("finetune:pipeline") or {}
        out = {}
        for account in (pipeline.get("accounts") or {}).values() if isinstance(pipeline, dict) else ():
            if not isinstance(account, dict) or not account.get("region"):
                continue
            name = account.get("name") or str(account.get("id") or "").rstrip("/").rsplit("/", 1)[-1]
            if name:
                out[str(name)] = str(account["region"])
        return out


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        raise CiError(f"git {' '.join(args)}: {result.stderr.strip() or result.returncode}")
    return result.stdout


def changed_stacks(project: Project, base: str, stacks: Iterable[str]) -> list[str]:
    """The stacks among ``stacks`` that the commits since ``base`` touch: a stack whose settings file
    changed, and every stack when anything else of the project changed (program, data, policy,
    Pulumi.yaml). Markdown files do not count."""
    top = Path(git(project.root, "rev-parse", "--show-toplevel").strip()).resolve()
    files = [top / f for f in git(project.root, "diff", "--name-only", f"{base}...HEAD").splitlines() if f]
    wanted = list(dict.fromkeys(s.rsplit("/", 1)[-1] for s in stacks))
    settings = {project.settings(s).resolve(): s for s in project.stacks()}
    config_dir = project.config_dir.resolve()
    touched: set[str] = set()
    for path in (f.resolve() for f in files):
        if path in settings:
            touched.add(settings[path])
        elif not path.is_relative_to(project.root) or path.suffix.lower() == ".md":
            continue
        elif path.parent == config_dir and path.name.startswith("Pulumi.") and path.name not in (
                "Pulumi.yaml", "Pulumi.yml"):
            continue  # the settings of a stack that does not exist any more
        else:
            return wanted  # the program, its data, the policy, Pulumi.yaml: every stack
    return [s for s in wanted if s in touched]


# -- what a stack's preview found -----------------------------------------------------------
@dataclass
class PolicyResults:
    packs: list[str] = field(default_factory=list)
    passed: dict[str, int] = field(default_factory=dict)
    """Policy name -> resources it checked and passed."""
    violations: list[dict[str, str]] = field(default_factory=list)
    """{policy, pack, level, resource, message}"""

    @classmethod
    def from_event_log(cls, path: str | os.PathLike[str]) -> "PolicyResults":
        out = cls()
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError:
            return out
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            summary = event.get("policyAnalyzeSummaryEvent") or event.get("policyAnalyzeStackSummaryEvent")
            if summary:
                pack = summary.get("policyPackName") or "?"
                if pack not in out.packs:
                    out.packs.append(pack)
                for name in summary.get("passed") or []:
                    out.passed[name] = out.passed.get(name, 0) + 1
            violation = event.get("policyEvent")
            if violation:
                pack = violation.get("policyPackName") or "?"
                if pack not in out.packs:
                    out.packs.append(pack)
                urn = violation.get("resourceUrn") or ""
                out.violations.append({
                    "policy": violation.get("policyName") or "?", "pack": pack,
                    "level": violation.get("enforcementLevel") or "?",
                    "resource": urn.rsplit("::", 1)[-1] if urn else "(stack)",
                    "message": " ".join(str(violation.get("message") or "").split()),
                })
        return out

    @property
    def mandatory(self) -> list[dict[str, str]]:
        return [v for v in self.violations if v["level"] == "mandatory"]


@dataclass
class StackPreview:
    stack: str
    qualified: str
    returncode: int
    review: review.Review | None
    policy: PolicyResults | None
    error: str = ""
    """Why there is no review (the CLI's message), or the preview's failure."""

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or self.review is None or self.review.failed


def pulumi(args: list[str], *, project: Project, env: Mapping[str, str] | None = None,
           capture: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["pulumi", *args, "--non-interactive"], cwd=project.root, env=dict(env or os.environ),
                              capture_output=capture, text=True, timeout=timeout)
    except FileNotFoundError:
        raise CiError("the Pulumi CLI is not on PATH (the workflow installs it with pulumi/actions)") from None


def policy_args(policy_pack: str | None, policy_config: str | None) -> list[str]:
    args = ["--policy-pack", policy_pack] if policy_pack else []
    if policy_pack and policy_config:
        args += ["--policy-pack-config", policy_config]
    return args


def preview_stack(project: Project, stack: str, *, policy_pack: str | None = None,
                  policy_config: str | None = None, regions: Mapping[str, str] | None = None,
                  prices: cost.PriceTable | None = None, env: Mapping[str, str] | None = None) -> StackPreview:
    """``pulumi preview --json`` of one stack (with the policy pack), analysed by :mod:`review`."""
    qualified = project.qualified(stack)
    with tempfile.TemporaryDirectory(prefix="aoai-ft-ci-") as tmp:
        events = os.path.join(tmp, "events.jsonl")
        # --event-log exists only with PULUMI_DEBUG_COMMANDS set (v3.274); the events are the engine's
        # apitype.EngineEvent JSON lines, the same the service stores
        # --show-sames: unchanged resources too (a job retrained on an unchanged file is priced from it)
        result = pulumi(["preview", "--json", "--show-sames", "--stack", qualified, "--event-log", events,
                         *policy_args(policy_pack, policy_config)], project=project,
                        env={**(os.environ if env is None else env), "PULUMI_DEBUG_COMMANDS": "true"})
        policy = PolicyResults.from_event_log(events) if policy_pack else None
    try:
        doc = review.load_preview(json.loads(result.stdout)) if result.stdout.strip() else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or "steps" not in doc:
        message = "\n".join((result.stderr or result.stdout or "").strip().splitlines()[-15:])
        return StackPreview(stack, qualified, result.returncode or 1, None, policy,
                            error=message or "pulumi preview printed no JSON")
    mapping = {**project.regions(stack), **(regions or {})}
    analysed = review.build(doc, prices=prices, regions=mapping, base_dir=project.root)
    if not analysed.stack:
        analysed.stack, analysed.project = stack.rsplit("/", 1)[-1], project.name
    error = "\n".join(result.stderr.strip().splitlines()[-15:]) if result.returncode else ""
    return StackPreview(stack, qualified, result.returncode, analysed, policy, error=error)


# -- the comment -------------------------------------------------------------------------------
@dataclass
class Context:
    """Where the review comes from: the commit, the pull request and the run."""
    commit: str = ""
    ref: str = ""
    pull_request: int | None = None
    run_url: str = ""

    @classmethod
    def from_env(cls, project: Project, env: Mapping[str, str] | None = None) -> "Context":
        env = os.environ if env is None else env
        ctx = cls()
        event = github.event(env)
        pr = event.get("pull_request") if isinstance(event, dict) else None
        if isinstance(pr, dict):
            ctx.pull_request = pr.get("number")
            ctx.commit = ((pr.get("head") or {}).get("sha")) or ""
            ctx.ref = ((pr.get("head") or {}).get("ref")) or ""
        if not ctx.commit:
            ctx.commit = env.get("GITHUB_SHA") or _head(project)
        ctx.ref = ctx.ref or env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or ""
        if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL") or "https://github.com"
            ctx.run_url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
        return ctx


def _head(project: Project) -> str:
    try:
        return git(project.root, "rev-parse", "HEAD").strip()
    except CiError:
        return ""


def scrub(text: str, env: Mapping[str, str] | None = None) -> str:
    """The text without credentials: values of the sensitive variables, and SAS queries of URLs."""
    env = os.environ if env is None else env
    for name in SENSITIVE_ENV:
        value = env.get(name)
        if value and len(value) >= 8:
            text = text.replace(value, f"[{name}]")
    return _SAS_QUERY.sub("?[SAS redacted]", text)


def _demote(markdown: str) -> str:
    """A stack's review under its stack's heading: without its own title, sections one level down."""
    if markdown.startswith("## "):
        markdown = markdown.split("\n", 1)[1] if "\n" in markdown else ""
    return re.sub(r"(?m)^(#{2,5}) ", lambda m: "#" + m.group(1) + " ", markdown).strip("\n")


def _policy_section(policy: PolicyResults | None) -> list[str]:
    if policy is None:
        return ["#### Policy", "", "No policy pack was run (`--policy-pack`).", ""]
    out = ["#### Policy", ""]
    if not policy.packs:
        return out + ["The policy pack reported nothing (did it load?).", ""]
    checks = sum(policy.passed.values()) + len(policy.violations)
    head = f"Pack{'s' if len(policy.packs) > 1 else ''} " + ", ".join(review._code(p) for p in policy.packs)
    if not policy.violations:
        out.append(f"{head}: **passed**, {checks} check(s), no violation.")
    else:
        level = "**failed** (mandatory)" if policy.mandatory else "passed with advisory violations"
        out.append(f"{head}: {level}, {len(policy.violations)} violation(s) in {checks} check(s).")
        out += ["", "| Policy | Level | Resource | Message |", "|---|---|---|---|"]
        for v in policy.violations:
            out.append(f"| {review._code(v['policy'])} | {review._text(v['level'])} | {review._code(v['resource'])} | "
                       f"{review._text(v['message'])} |")
    out.append("")
    return out


def render_comment(previews: list[StackPreview], ctx: Context, *, skipped: Iterable[str] = ()) -> str:
    """One Markdown comment for all previewed stacks: a summary table, then each stack's review and
    policy results."""
    short = ctx.commit[:12] if ctx.commit else "(unknown)"
    out = [MARKER, "## Fine-tuning review", ""]
    where = f"Commit {review._code(short)}" + (f" ({review._code(ctx.ref)})" if ctx.ref else "")
    if ctx.run_url:
        where += f" · [workflow run]({ctx.run_url})"
    out += [where, ""]
    if not previews:
        out += ["No stack is changed by this pull request."]
        if skipped:
            out += ["", "Not previewed (unchanged): " + ", ".join(review._code(s) for s in skipped) + "."]
        return scrub("\n".join(out) + "\n")
    out += ["| Stack | Preview | Training runs | Training estimate | Hosting after | Policy |",
            "|---|---|---|---|---|---|"]
    for p in previews:
        r = p.review
        status = "**failed**" if p.failed else ("changes" if r and any(c.action != "same" for c in r.changes)
                                                else "no changes")
        if r is None:
            out.append(f"| {review._code(p.qualified)} | {status} | - | - | - | {_policy_cell(p.policy)} |")
            continue
        currency = r.prices.currency
        after = r.hosting("after")[0]
        out.append(f"| {review._code(p.qualified)} | {status} | {len(r.training_runs)} | "
                   f"{cost.usd(r.training_usd, currency)} | "
                   f"{cost.usd(after, currency)}/hour | {_policy_cell(p.policy)} |")
    if skipped:
        out += ["", "Not previewed (unchanged by this pull request): " + ", ".join(review._code(s) for s in skipped)
                + "."]
    out.append("")
    for p in previews:
        out += [f"### Stack {review._code(p.qualified)} at {review._code(short)}", ""]
        if p.review is not None:
            out.append(_demote(review.render(p.review)).rstrip())
            out.append("")
        if p.failed and p.error:
            out += ["**The preview failed:**", "", "```", p.error.replace("```", "'''"), "```", ""]
        out += _policy_section(p.policy)
    text = scrub("\n".join(out).rstrip() + "\n")
    if len(text) > _MAX_COMMENT:
        cut = text[:_MAX_COMMENT - 200].rsplit("\n", 1)[0]
        text = cut + "\n\n*(truncated: the whole review is in the workflow run's summary)*\n"
    return text


def _policy_cell(policy: PolicyResults | None) -> str:
    if policy is None:
        return "not run"
    if not policy.violations:
        return "passed" if policy.packs else "nothing reported"
    return ("**failed**" if policy.mandatory else "advisory") + f": {len(policy.violations)} violation(s)"
