"""``aoai-ft review``: a Markdown review of a fine-tuning change from ``pulumi preview --json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import cost, review as review_mod
from .errors import AoaiFinetuneError


def _regions(values: tuple[str, ...], regions_file: Path | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if regions_file is not None:
        import yaml

        data = yaml.safe_load(regions_file.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise click.BadParameter("expected a mapping of account name -> region", param_hint="--regions")
        out.update({str(k): str(v) for k, v in data.items()})
    for value in values:
        account, sep, region = value.partition("=")
        if not sep or not account or not region:
            raise click.BadParameter(f"{value!r}: use ACCOUNT=REGION", param_hint="--region")
        out[account.strip()] = region.strip()
    return out


@click.command("review")
@click.argument("preview", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown to this file (default: standard output).")
@click.option("--region", "region", multiple=True, metavar="ACCOUNT=REGION",
              help="Region of an account (repeatable); regions are not part of the preview.")
@click.option("--regions", "regions_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML mapping of account name -> region.")
@click.option("--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              envvar=cost.PRICES_ENV, help="Price table merged over the packaged prices.yaml (env AOAI_FT_PRICES).")
@click.option("--base-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory relative training-file paths are resolved against (default: current).")
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON instead of Markdown.")
@click.option("--fail-on-warnings", is_flag=True, help="Exit with status 2 when the review has warnings.")
def review(preview: str, out_file: Path | None, region: tuple[str, ...], regions_file: Path | None,
           prices_file: Path | None, base_dir: Path | None, as_json: bool, fail_on_warnings: bool) -> None:
    """Write a pull-request review (Markdown) of PREVIEW, the output of `pulumi preview --json`
    (`-` for standard input): what is created, updated, replaced or deleted and why, new paid
    training runs, deployments per region, the cost estimate, and warnings.

    \b
    pulumi preview --json > preview.json
    aoai-ft review preview.json --region my-aoai=swedencentral --out review.md
    """
    try:
        if preview == "-":
            doc = json.loads(sys.stdin.read())
        else:
            doc = review_mod.load_preview(preview)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{preview}: not the JSON of `pulumi preview --json` ({exc})") from None
    if not isinstance(doc, dict) or "steps" not in doc:
        raise click.ClickException(f"{preview}: no 'steps' in it; produce it with `pulumi preview --json`")
    try:
        prices = cost.load_prices(prices_file)
        result = review_mod.build(doc, prices=prices, regions=_regions(region, regions_file), base_dir=base_dir)
    except AoaiFinetuneError as exc:
        raise click.ClickException(str(exc)) from None
    text = json.dumps(result.to_dict(), indent=2, default=str) + "\n" if as_json else review_mod.render(result)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
        click.echo(f"review written to {out_file}", err=True)
    else:
        click.echo(text, nl=False)
    if fail_on_warnings and result.warnings:
        sys.exit(2)
