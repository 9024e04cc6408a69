"""Training-data validation, statistics and token estimates for Azure OpenAI fine-tuning.

Catches bad data at ``pulumi preview`` / ``aoai-ft validate``, before anything is uploaded or
paid for. Everything streams: memory stays constant whatever the file size.

Public API (stable names):

``validate_file(path, *, model="gpt-4o-mini-2024-07-18", method="supervised",
validation_path=None, n_epochs=None, max_findings=50, tokenizer="heuristic",
dedup_limit=500_000, grader=None) -> Report``
    Validate a training file (and optionally a validation file). Bad data never raises; it
    becomes findings. ``method`` is ``"supervised"``, ``"dpo"`` or ``"reinforcement"``; the data
    format (chat, prompt/completion, DPO, RFT) follows from model and method. ``grader``
    (reinforcement): the job's grader object, whose ``{{item.<field>}}`` fields every line must have.

``validate_bytes(data, *, name="train.jsonl", model=..., method=..., validation=None,
validation_name="validation.jsonl", ...) -> Report``
    The same for data in memory.

``validate_stream(fp, *, name, model=..., method=..., ...) -> Report``
    The same for a binary stream read once (e.g. a download); ``name`` is what findings call it.

``Report``
    ``.ok`` (no errors; warnings allowed), ``.findings`` (first ``max_findings`` per rule, in file
    and line order), ``.counts`` (exact per rule), ``.errors``, ``.warnings``, ``.error_count``,
    ``.warning_count``, ``.stats`` (``{"training": DatasetStats, "validation": ...}``),
    ``.to_dict()`` (JSON-ready), ``.summary(max_lines=20)`` (short text for a Pulumi
    ``CheckFailure``), ``.format_text()`` (the CLI's text output).

``Finding``
    ``severity`` ("error" | "warning"), ``rule`` (see ``RULES``), ``file``, ``line`` (1-based, or
    ``None`` for the whole file), ``message`` (what is wrong and what to do);
    ``str(finding)`` is ``"train.jsonl:17: messages[2].role is \\"bot\\"; use one of ..."``.

``model_spec(model) -> ModelSpec``, ``default_n_epochs(n_examples)``
    Data format, tokens per example, vision/DPO support of a base or fine-tuned model.

``validate`` (in ``.command``)
    The click command ``aoai-ft validate``; register it with ``cli.add_command(validate)``.
"""

from .findings import RULES, Finding, FindingCollector, Report
from .formats import DEFAULT_MODEL, ModelSpec, base_model, default_n_epochs, model_spec
from .stats import DatasetStats, TokenHistogram
from .tokens import TokenizerUnavailable, exact_available
from .validator import DEFAULT_DEDUP_LIMIT, validate_bytes, validate_file, validate_stream

__all__ = [
    "DEFAULT_DEDUP_LIMIT",
    "DEFAULT_MODEL",
    "RULES",
    "DatasetStats",
    "Finding",
    "FindingCollector",
    "ModelSpec",
    "Report",
    "TokenHistogram",
    "TokenizerUnavailable",
    "base_model",
    "default_n_epochs",
    "exact_available",
    "model_spec",
    "validate_bytes",
    "validate_file",
    "validate_stream",
]
