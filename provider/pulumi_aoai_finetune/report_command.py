"""``aoai-ft report``: the training results of a job (or of a results.csv file) for a reviewer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from . import report as report_mod
from . import results
from .errors import AoaiFinetuneError

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _download(job_id: str, account: str, endpoint: str | None, out_dir: Path) -> tuple[list[dict], int | None, str]:
    """results.csv of a job through the provider's clients; (rows, n_epochs, saved csv path)."""
    from . import clients
    from .account import AccountRef
    from .errors import NotFoundError
    from .settings import ProviderSettings

    settings = ProviderSettings.load()
    ref = AccountRef.parse({"resource_id": account, **({"endpoint": endpoint} if endpoint else {})}, "--account")
    client = clients.data_plane(settings, ref)
    with clients.openai_errors(f"reading job {job_id}"):
        job = client.fine_tuning.jobs.retrieve(job_id)
    if not job.result_files:
        raise click.ClickException(f"job {job_id} is {job.status} and has no results file yet"
                                   + ("" if job.status == "succeeded" else "; try again when it has succeeded"))
    n_epochs = None
    if job.hyperparameters is not None and isinstance(job.hyperparameters.n_epochs, int):
        n_epochs = job.hyperparameters.n_epochs
    for file_id in job.result_files:
        try:
            with clients.openai_errors(f"downloading results file {file_id} of {job_id}"):
                text = client.files.content(file_id).text
        except NotFoundError:
            continue
        rows = results.parse(text)
        if rows:
            out_dir.mkdir(parents=True, exist_ok=True)
            saved = out_dir / f"{_SAFE.sub('_', job_id)}-results.csv"
            saved.write_text(text, encoding="utf-8")
            return rows, n_epochs, str(saved)
    raise click.ClickException(f"job {job_id}: none of its result files {list(job.result_files)} holds results")


@click.command("report")
@click.argument("source")
@click.option("--account", envvar="AOAI_FT_ACCOUNT", metavar="ARM_ID",
              help="ARM resource id of the Azure OpenAI account of the job (needed for a job id; "
                   "env AOAI_FT_ACCOUNT). Credentials and endpoints as for the provider (AOAI_FT_* settings).")
@click.option("--endpoint", metavar="URL", help="The account's data-plane endpoint (default: read from ARM).")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the PNG plot (and the downloaded results.csv).")
@click.option("--n-epochs", type=click.IntRange(1, 50), default=None,
              help="Epochs of the run, when results.csv has no full-validation rows (a job id gives it).")
@click.option("--width", type=click.IntRange(200, 8000), default=report_mod.DEFAULT_WIDTH, show_default=True,
              help="Plot width in pixels.")
@click.option("--height", type=click.IntRange(200, 8000), default=report_mod.DEFAULT_HEIGHT, show_default=True,
              help="Plot height in pixels.")
@click.option("--evaluation", "evaluation_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The model's evaluation, shown beside the training metrics: JSON of `pulumi stack output "
                   "evaluation --json` (a ModelEvaluation's results) or of `aoai-ft eval --json`.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of a table.")
def report(source: str, account: str | None, endpoint: str | None, out_dir: Path, n_epochs: int | None,
           width: int, height: int, evaluation_file: Path | None, as_json: bool) -> None:
    """Summarize the training results of SOURCE (a fine-tuning job id, or a results.csv file) and
    plot loss and token accuracy against step.

    \b
    aoai-ft report results.csv --out review/
    aoai-ft report ftjob-abc123 --account /subscriptions/.../accounts/my-aoai --out review/
    """
    evaluation = _evaluation(evaluation_file) if evaluation_file is not None else None
    path = Path(source)
    try:
        if path.is_file():
            rows = results.ResultsFile(path)  # streamed: read again by each pass, never held whole
            name, csv_path = path.stem, str(path)
        else:
            if not source.startswith(("ftjob-", "ft-")) and ("/" in source or source.endswith(".csv")):
                raise click.ClickException(f"{source}: no such file")
            if not account:
                raise click.ClickException(f"{source} is not a file: to read a job, give --account "
                                           "<ARM id of its account>")
            rows, job_epochs, csv_path = _download(source, account, endpoint, out_dir)
            n_epochs = n_epochs or job_epochs
            name = _SAFE.sub("_", source)
    except AoaiFinetuneError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if not any(True for _ in rows):
            raise click.ClickException(f"{csv_path}: no result rows (is it a results.csv?)")
        summary, table, png = report_mod.write_report(rows, out_dir, name, title=name, width=width,
                                                      height=height, n_epochs=n_epochs)
    except (RuntimeError, OSError, results.ResultsError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"source": source, "results_csv": csv_path, "plot": str(png), "summary": summary,
                               "evaluation": evaluation}, indent=2))
    else:
        click.echo(table)
        if evaluation is not None:
            click.echo(evaluation_line(evaluation))
        click.echo(f"\nplot: {png}")
        if csv_path != source:
            click.echo(f"results.csv: {csv_path}")


def _evaluation(path: Path) -> dict:
    """A ModelEvaluation's results from a JSON file (its ``results``, or the whole outputs)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: not an evaluation's JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("results"), dict):
        data = data["results"]
    if not isinstance(data, dict) or "pass_rate" not in data or "cases_run" not in data:
        raise click.ClickException(f"{path}: no evaluation results in it (pass_rate, cases_run): give "
                                   "`pulumi stack output evaluation --json` or `aoai-ft eval --json`")
    return data


def evaluation_line(results: dict) -> str:
    """'evaluation: pass rate 86.7% (13 of 15 cases passed; model M on deployment D, cases ...); contains 86.7%'."""
    from .evaluation.gate import describe

    rate = results.get("pass_rate")
    line = f"evaluation: pass rate {float(rate) * 100:.1f}% ({describe(results)})" if rate is not None \
        else f"evaluation: {describe(results)}"
    per = results.get("pass_rate_per_grader") or {}
    if per:
        line += "; " + ", ".join(f"{g} {float(r) * 100:.1f}%" for g, r in per.items() if r is not None)
    return line
