"""``aoai-ft ci``: the one command a CI workflow calls (examples/ci/github-actions.yml).

\b
aoai-ft ci changed --base origin/main dev staging prod   # the stacks a pull request touches
aoai-ft ci review --base origin/main dev staging prod    # their previews -> one PR comment
aoai-ft ci up dev                                         # pulumi up of one stack
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path

import click

from . import ci as ci_mod, cost, github
from .errors import AoaiFinetuneError
from .review_command import _regions

_LOCK_HELP = ("the stack is locked by another run. If that run is still going, wait for it. If its runner is "
              "gone (a cancelled or timed-out job: the lock message names user@host, pid and time), run "
              "`pulumi cancel --stack {stack} --yes` (it deletes the lock, it stops nothing), then this job "
              "again: an interrupted training run is picked up, not started twice. See the README, "
              "\"For a team\".")


def _project(cwd: Path | None) -> ci_mod.Project:
    try:
        return ci_mod.Project.load(cwd or Path.cwd())
    except ci_mod.CiError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def _signed_in():
    """The environment for Pulumi: with GitHub's OIDC token kept fresh in AZURE_FEDERATED_TOKEN_FILE
    when the job may ask for one (github.FederatedTokenFile), else as it is."""
    env = dict(os.environ)
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "1")
    with tempfile.TemporaryDirectory(prefix="aoai-ft-ci-", dir=os.environ.get("RUNNER_TEMP")) as tmp:
        token_file = github.FederatedTokenFile.from_env(tmp, env)
        if token_file is None:
            yield env
            return
        try:
            token_file.start()
        except github.GitHubError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo("aoai-ft ci: signing in to Azure with the job's OIDC token (workload identity federation)",
                   err=True)
        try:
            yield {**env, **token_file.env()}
        finally:
            token_file.stop()


@click.group("ci")
def ci() -> None:
    """Run the pipeline's stacks from CI: review pull requests, apply merges."""


_cwd = click.option("--cwd", type=click.Path(exists=True, file_okay=False, path_type=Path),
                    help="The Pulumi project's directory (default: the current one).")
_policy = [click.option("--policy-pack", help="Policy pack to run with every preview and up (a directory or "
                                              "an executable such as policy/run-policy-pack)."),
           click.option("--policy-pack-config", help="JSON configuration of the policy pack.")]


def _with(options):
    def wrap(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return wrap


@ci.command("changed")
@click.argument("stacks", nargs=-1, required=True)
@click.option("--base", required=True, help="The git ref the pull request goes into, e.g. origin/main.")
@_cwd
def changed(stacks: tuple[str, ...], base: str, cwd: Path | None) -> None:
    """Print which of STACKS the commits since BASE change (space-separated; nothing if none): a stack
    whose Pulumi.<stack>.yaml changed, or all of them when the program, its data, the policy or
    Pulumi.yaml changed."""
    project = _project(cwd)
    try:
        click.echo(" ".join(ci_mod.changed_stacks(project, base, stacks)))
    except ci_mod.CiError as exc:
        raise click.ClickException(str(exc)) from None


@ci.command("review")
@click.argument("stacks", nargs=-1, required=True)
@click.option("--base", help="Preview only the stacks the commits since this git ref change.")
@_with(_policy)
@click.option("--region", "region", multiple=True, metavar="ACCOUNT=REGION",
              help="Region of an account the stack settings do not name (repeatable).")
@click.option("--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar=cost.PRICES_ENV, help="Price table merged over the packaged one (env AOAI_FT_PRICES).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the comment's Markdown to this file.")
@click.option("--comment/--no-comment", default=None,
              help="Post or update the pull request's comment (default: when run for a pull request).")
@_cwd
def review(stacks: tuple[str, ...], base: str | None, policy_pack: str | None, policy_pack_config: str | None,
           region: tuple[str, ...], prices_file: Path | None, out_file: Path | None, comment: bool | None,
           cwd: Path | None) -> None:
    """Preview STACKS (`pulumi preview --json`, with the policy pack), and write one review for the
    pull request: per stack the commit, the training runs and their cost, the deployments per region
    and their hosting cost, and the policy results. Posts it as a comment, or updates the one an
    earlier run posted. Exits 1 when a preview failed, after posting."""
    project = _project(cwd)
    try:
        selected = ci_mod.changed_stacks(project, base, stacks) if base else list(dict.fromkeys(stacks))
        prices = cost.load_prices(prices_file)
    except (ci_mod.CiError, AoaiFinetuneError) as exc:
        raise click.ClickException(str(exc)) from None
    skipped = [project.qualified(s) for s in stacks if s not in selected]
    previews = []
    with _signed_in() as env:
        for stack in selected:
            click.echo(f"aoai-ft ci: previewing {project.qualified(stack)}", err=True)
            try:
                previews.append(ci_mod.preview_stack(project, stack, policy_pack=policy_pack,
                                                     policy_config=policy_pack_config, regions=_regions(region, None),
                                                     prices=prices, env=env))
            except ci_mod.CiError as exc:
                raise click.ClickException(str(exc)) from None
    ctx = ci_mod.Context.from_env(project)
    markdown = ci_mod.render_comment(previews, ctx, skipped=skipped)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(markdown, encoding="utf-8")
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(markdown.replace(ci_mod.MARKER + "\n", "") + "\n")
    if comment is None:
        comment = ctx.pull_request is not None
    if comment:
        if ctx.pull_request is None:
            raise click.ClickException("--comment: no pull request in GITHUB_EVENT_PATH (run on `pull_request`)")
        try:
            what, posted = github.PullRequestComments.from_env().upsert(ctx.pull_request, markdown, ci_mod.MARKER)
        except github.GitHubError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"aoai-ft ci: {what} the review comment on pull request #{ctx.pull_request} "
                   f"({posted.get('html_url') or posted.get('id')})", err=True)
    if out_file is None and not comment:
        click.echo(markdown, nl=False)
    failed = [p.qualified for p in previews if p.failed]
    if failed:
        click.echo(f"aoai-ft ci: the preview of {', '.join(failed)} failed (see the review)", err=True)
        sys.exit(1)


@ci.command("up")
@click.argument("stack")
@_with(_policy)
@_cwd
def up(stack: str, policy_pack: str | None, policy_pack_config: str | None, cwd: Path | None) -> None:
    """`pulumi up --yes` of STACK (with the policy pack), its output streamed; the stack's outputs go
    to the job summary. A stack locked by another run fails with what to do."""
    project = _project(cwd)
    qualified = project.qualified(stack)
    tail: deque[str] = deque(maxlen=40)
    with _signed_in() as env:
        try:
            proc = subprocess.Popen(["pulumi", "up", "--yes", "--non-interactive", "--stack", qualified,
                                     *ci_mod.policy_args(policy_pack, policy_pack_config)],
                                    cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, bufsize=1)
        except FileNotFoundError:
            raise click.ClickException("the Pulumi CLI is not on PATH") from None
        for line in proc.stdout:
            sys.stdout.write(line)
            tail.append(line)
        rc = proc.wait()
        if rc == 0 and os.environ.get("GITHUB_STEP_SUMMARY"):
            outputs = ci_mod.pulumi(["stack", "output", "--json", "--stack", qualified], project=project, env=env)
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
                fh.write(f"## `pulumi up` of `{qualified}`\n\nOutputs (secrets hidden):\n\n```json\n"
                         f"{ci_mod.scrub(outputs.stdout.strip())}\n```\n")
    if rc != 0:
        if "the stack is currently locked" in "".join(tail):
            raise click.ClickException(_LOCK_HELP.format(stack=qualified))
        sys.exit(rc)
