"""``aoai-ft validate``: check training data before anything is uploaded.

Register on the ``aoai-ft`` click group with::

    from pulumi_aoai_finetune.data.command import validate
    cli.add_command(validate)

Exit codes: 0 valid (warnings allowed), 1 the data has errors, 2 usage error (click's default).
"""

from __future__ import annotations

import json
import sys

import click

from .formats import DEFAULT_MODEL, METHODS
from .tokens import TOKENIZERS, TokenizerUnavailable
from .validator import validate_file


@click.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--model",
    "-m",
    default=DEFAULT_MODEL,
    show_default=True,
    help="Base model (or fine-tuned model id) the data is for; decides format and limits.",
)
@click.option(
    "--validation",
    "validation",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Validation file: checked the same way, and for overlap with the training file.",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="supervised",
    show_default=True,
    help="Fine-tuning method; dpo expects preference pairs, reinforcement one prompt per line "
    "plus the fields its grader reads.",
)
@click.option(
    "--grader",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Reinforcement only: a JSON or YAML file with the job's grader object; every line must "
    "have the fields it reads as {{item.<field>}}.",
)
@click.option(
    "--n-epochs",
    type=click.IntRange(min=-1),
    default=None,
    help="Epochs for the trained-tokens estimate (default: the service's automatic choice, "
    "estimated).",
)
@click.option(
    "--tokenizer",
    type=click.Choice(TOKENIZERS),
    default="heuristic",
    show_default=True,
    help="heuristic: fast estimate (±20%); exact: real BPE counts (needs bpe-openai).",
)
@click.option(
    "--max-findings",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Findings shown per rule (counts stay exact).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="json: one JSON document on stdout, for CI pipelines.",
)
def validate(
    file: str,
    model: str,
    validation: str | None,
    method: str,
    grader: str | None,
    n_epochs: int | None,
    tokenizer: str,
    max_findings: int,
    output_format: str,
) -> None:
    """Validate a fine-tuning JSONL FILE: every problem with file, line and fix, plus statistics
    (examples, tokens, estimated trained tokens)."""
    if n_epochs == 0:
        raise click.BadParameter("must be a positive number, or -1 for auto", param_hint="--n-epochs")
    grader_obj = _load_grader(grader, method) if grader else None
    try:
        report = validate_file(
            file,
            model=model,
            method=method,
            validation_path=validation,
            n_epochs=n_epochs,
            max_findings=max_findings,
            tokenizer=tokenizer,
            grader=grader_obj,
        )
    except TokenizerUnavailable as exc:
        raise click.UsageError(str(exc)) from exc
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.format_text())
    sys.exit(0 if report.ok else 1)


def _load_grader(path: str, method: str) -> dict:
    """The grader object from a JSON or YAML file (YAML is a superset of JSON); it may also be
    wrapped as in a job's method: ``{"grader": {...}}``."""
    import yaml

    if method != "reinforcement":
        raise click.BadParameter("is for --method reinforcement only", param_hint="--grader")
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--grader") from exc
    if isinstance(doc, dict) and isinstance(doc.get("grader"), dict):
        doc = doc["grader"]
    if not isinstance(doc, dict) or not doc.get("type"):
        raise click.BadParameter(f"{path}: not a grader object (a mapping with a type)", param_hint="--grader")
    return doc
