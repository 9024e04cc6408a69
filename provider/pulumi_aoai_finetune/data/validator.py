"""The streaming training-data validator: :func:`validate_file`, :func:`validate_bytes`,
:func:`validate_stream`.

How it is built
    - :mod:`.reader` reads a source in batches of whole lines, in bounded memory (pieces of at
      most 64 KiB, lines up to 64 MiB: :data:`MAX_LINE_BYTES`; a longer one is reported and
      skipped without being kept). Memory does not grow with the file beyond the bounded tables
      of :mod:`.filecheck`.
    - :mod:`.filecheck` checks one file: it streams the batches through the fast path, keeps the
      statistics, duplicates and system messages, and applies the file's own rules at its end.
    - :mod:`.fastpath` is the fast path: typed msgspec decoding of the plain, valid shapes and
      statistics for a whole batch at once; it reports no finding.
    - :mod:`.rules` holds the rules, one module per data format (chat, tools, vision,
      completion, preference/DPO, reinforcement): the slow path, every finding of a line with its
      exact JSON path.
    - This module ties them for a training file and an optional validation file, with the
      model's and method's findings, and builds the :class:`~.findings.Report`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, BinaryIO, Callable

from .filecheck import Context, FileCheck
from .findings import FindingCollector, Report
from .formats import (
    DEFAULT_MODEL,
    MAX_TRAINED_TOKENS,
    METHODS,
    default_n_epochs,
    grader_fields,
    known_models,
    model_spec,
)
from .reader import MAX_LINE_BYTES

__all__ = ["validate_file", "validate_bytes", "validate_stream", "DEFAULT_DEDUP_LIMIT", "MAX_LINE_BYTES"]

#: Maximum number of distinct example digests kept for duplicate/overlap detection.
DEFAULT_DEDUP_LIMIT = 500_000


def _model_findings(ctx: Context, name: str) -> None:
    spec, method, col = ctx.spec, ctx.method, ctx.collector
    if not spec.known:
        col.add(
            "model.unknown",
            name,
            None,
            f'model "{spec.name}" is not in this validator\'s table (known: '
            f"{', '.join(known_models())}); checked as a chat model with "
            f"{spec.max_example_tokens:,} tokens per example",
        )
    if spec.reinforcement_only and method != "reinforcement":
        col.add(
            "model.method",
            name,
            None,
            f"{spec.base} is fine-tuned with reinforcement learning (graders), not {method}; "
            "use method reinforcement",
        )
    elif method == "reinforcement" and spec.known and not spec.reinforcement_only:
        col.add(
            "model.method",
            name,
            None,
            f"{spec.base} cannot be trained with reinforcement fine-tuning; Azure offers it "
            "for o4-mini (2025-04-16)",
        )
    elif method == "dpo" and spec.data_format == "completion":
        col.add(
            "model.method",
            name,
            None,
            f"{spec.base} cannot be trained with DPO; use a chat model such as "
            "gpt-4o-2024-08-06 or gpt-4.1-mini",
        )
    elif method == "dpo" and not spec.dpo and spec.known:
        col.add(
            "model.method_undocumented",
            name,
            None,
            f"Azure does not document DPO for {spec.base} (documented: gpt-4o, gpt-4o-mini, "
            "gpt-4.1 family); the job may be rejected",
        )


def _validate(
    train: tuple[str, bytes | BinaryIO | str | os.PathLike[str]],
    validation: tuple[str, bytes | BinaryIO | str | os.PathLike[str]] | None,
    *,
    model: str,
    method: str,
    n_epochs: int | None,
    max_findings: int,
    tokenizer: str,
    dedup_limit: int,
    grader: Mapping[str, Any] | None = None,
    on_read: Callable[[bytes], Any] | None = None,
) -> Report:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if grader is not None and method != "reinforcement":
        raise ValueError("grader is for method reinforcement only")
    if grader is not None and not isinstance(grader, Mapping):
        raise ValueError("grader must be the grader object (a mapping)")
    if max_findings < 1:
        raise ValueError("max_findings must be at least 1")
    spec = model_spec(model)
    collector = FindingCollector(max_findings)
    fields = grader_fields(grader) if grader is not None else None
    ctx = Context(spec, method, collector, tokenizer, dedup_limit, fields)
    _model_findings(ctx, train[0])

    def run(check: FileCheck, source: bytes | BinaryIO | str | os.PathLike[str]) -> None:
        if isinstance(source, (str, os.PathLike)):
            check.run_path(source)
        elif isinstance(source, bytes):
            check.run_bytes(source)
        else:
            check.run(source)

    tcheck = FileCheck(ctx, train[0], "training")
    try:
        if on_read is not None:
            tcheck.run_path(train[1], on_read)  # type: ignore[arg-type]
        else:
            run(tcheck, train[1])
        return _report(ctx, tcheck, validation, run, n_epochs)
    finally:
        tcheck.close()


def _report(
    ctx: Context,
    tcheck: FileCheck,
    validation: tuple[str, bytes | BinaryIO | str | os.PathLike[str]] | None,
    run: Any,
    n_epochs: int | None,
) -> Report:
    collector, spec, train_name = ctx.collector, ctx.spec, tcheck.name
    ts = tcheck.stats
    if n_epochs is None or n_epochs == -1:
        ts.n_epochs = default_n_epochs(ts.examples)
        ts.n_epochs_note = (
            f"n_epochs not set: the service decides; assumed {ts.n_epochs} by OpenAI's rule "
            "(3; more below 34 examples, fewer above 8,333)"
        )
    else:
        if n_epochs < 1:
            raise ValueError("n_epochs must be a positive integer (or -1/None for auto)")
        ts.n_epochs = n_epochs
        ts.n_epochs_note = "n_epochs as given"
    if ts.trained_tokens and ts.trained_tokens > MAX_TRAINED_TOKENS:
        collector.add(
            "dataset.token_budget",
            train_name,
            None,
            f"about {ts.trained_tokens:,} tokens x epochs, over the {MAX_TRAINED_TOKENS:,} a job "
            "may train; use fewer epochs or fewer examples",
        )
    stats = {"training": ts}
    files = [train_name]
    if validation is not None:
        vcheck = FileCheck(
            ctx, validation[0], "validation", train=tcheck if tcheck.seen is not None else None
        )
        try:
            run(vcheck, validation[1])
        finally:
            vcheck.close()
        stats["validation"] = vcheck.stats
        files.append(validation[0])
    return Report.from_collector(
        collector,
        model=spec.name,
        base_model=spec.base,
        method=ctx.method,
        data_format=ctx.fmt,
        stats=stats,
        file_order=files,
    )


def validate_file(
    path: str | os.PathLike[str],
    *,
    model: str = DEFAULT_MODEL,
    method: str = "supervised",
    validation_path: str | os.PathLike[str] | None = None,
    n_epochs: int | None = None,
    max_findings: int = 50,
    tokenizer: str = "heuristic",
    dedup_limit: int = DEFAULT_DEDUP_LIMIT,
    grader: Mapping[str, Any] | None = None,
    on_read: Callable[[bytes], Any] | None = None,
) -> Report:
    """Validate a training file (and optionally a validation file) for ``model`` and ``method``.

    Streams the files (constant memory), never raises for bad data: every problem becomes a
    :class:`~.findings.Finding` in the returned :class:`~.findings.Report`. Raises ``ValueError``
    for bad arguments and :class:`~.tokens.TokenizerUnavailable` for ``tokenizer="exact"``
    without ``bpe-openai``.

    ``n_epochs``: for the trained-tokens estimate; ``None`` or -1 = the service's automatic
    choice (estimated). ``max_findings``: findings kept per rule (counts stay exact).
    ``tokenizer``: ``"heuristic"`` (default, fast) or ``"exact"``. File names in findings are
    ``str(path)`` as given. ``grader`` (method reinforcement): the job's grader object; every
    line must then have the fields it reads as ``{{item.<field>}}``. ``on_read``: given every chunk
    of the training file as it is read, in order (to hash it in the same read, say); what it raises
    (other than ``OSError``) ends the validation and propagates.
    """
    return _validate(
        (os.fspath(path), path),
        (os.fspath(validation_path), validation_path) if validation_path is not None else None,
        model=model,
        method=method,
        n_epochs=n_epochs,
        max_findings=max_findings,
        tokenizer=tokenizer,
        dedup_limit=dedup_limit,
        grader=grader,
        on_read=on_read,
    )


def validate_bytes(
    data: bytes,
    *,
    name: str = "train.jsonl",
    model: str = DEFAULT_MODEL,
    method: str = "supervised",
    validation: bytes | None = None,
    validation_name: str = "validation.jsonl",
    n_epochs: int | None = None,
    max_findings: int = 50,
    tokenizer: str = "heuristic",
    dedup_limit: int = DEFAULT_DEDUP_LIMIT,
    grader: Mapping[str, Any] | None = None,
) -> Report:
    """Like :func:`validate_file` for data already in memory (tests, inline stack data)."""
    return _validate(
        (name, bytes(data)),
        (validation_name, bytes(validation)) if validation is not None else None,
        model=model,
        method=method,
        n_epochs=n_epochs,
        max_findings=max_findings,
        tokenizer=tokenizer,
        dedup_limit=dedup_limit,
        grader=grader,
    )


def validate_stream(
    fp: BinaryIO,
    *,
    name: str,
    model: str = DEFAULT_MODEL,
    method: str = "supervised",
    n_epochs: int | None = None,
    max_findings: int = 50,
    tokenizer: str = "heuristic",
    dedup_limit: int = DEFAULT_DEDUP_LIMIT,
    grader: Mapping[str, Any] | None = None,
) -> Report:
    """Like :func:`validate_file` for a binary stream read once, front to back (a download):
    ``name`` is what findings call it. Duplicates are found by whole-line hashes (the stream cannot
    be read again). Errors of the stream itself (``OSError``, a network error) propagate."""
    return _validate(
        (name, fp),
        None,
        model=model,
        method=method,
        n_epochs=n_epochs,
        max_findings=max_findings,
        tokenizer=tokenizer,
        dedup_limit=dedup_limit,
        grader=grader,
    )
