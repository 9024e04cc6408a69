"""Which data format and limits apply to a base model.

Sources (checked 2025–2026, see /work/shared/docs/domain.md):
- the Azure OpenAI fine-tuning model table ("Training example context length"):
  gpt-35-turbo 0613: 4,096; 1106 and 0125: 16,385; gpt-4 0613: 8,192;
  gpt-4o-mini 2024-07-18 and gpt-4o 2024-08-06: 65,536; gpt-4.1 and gpt-4.1-mini: 65,536;
  gpt-4.1-nano: 32,768; babbage-002 / davinci-002: 16,384.
- vision fine-tuning: Azure documents gpt-4o (2024-08-06) and gpt-4.1 (2025-04-14); this project
  also allows gpt-4.1-mini/-nano (the issue says "gpt-4.1*"), so a vision file for those models is
  not rejected here — the service has the last word.
- DPO: Azure documents gpt-4o (2024-08-06), gpt-4o-mini and the gpt-4.1 family. For other chat
  models a DPO file is reported as a warning, not an error, because the list keeps growing.
- Reinforcement fine-tuning (RFT): o4-mini (2025-04-16) only, and o4-mini only with it. Its data
  (the RFT how-to page) is one prompt per line, ``{"messages": [...developer/system and user
  messages...], <fields>}``, where the other top-level fields are the reference data the grader
  reads as ``{{item.<field>}}``; the model writes the answer, so no assistant reply ends it.

Model names are Azure's (dashes, no dots in 3.5: ``gpt-35-turbo-0125``); OpenAI spellings
(``gpt-3.5-turbo``) and fine-tuned ids (``gpt-35-turbo-0613.ft-5fd1...``,
``ft:gpt-4o-mini-2024-07-18:org::abc``) resolve to their base model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

DataFormat = Literal["chat", "completion", "dpo", "rft"]
Method = Literal["supervised", "dpo", "reinforcement"]

METHODS: tuple[str, ...] = ("supervised", "dpo", "reinforcement")

#: Default model of the CLI and of :func:`validate_file`.
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"

#: Service limit: each uploaded file must be smaller than this (the document says "< 512 MB").
MAX_FILE_BYTES = 512 * 1024 * 1024
#: The job will not run with fewer examples.
MIN_EXAMPLES = 10
#: Fewer than this is a quality risk ("hundreds to thousands recommended").
RECOMMENDED_EXAMPLES = 100
#: Limit per job: tokens in the training file x epochs.
MAX_TRAINED_TOKENS = 2_000_000_000
#: Vision limits (Azure vision fine-tuning docs).
MAX_IMAGES_PER_EXAMPLE = 64
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_EXAMPLES = 50_000
IMAGE_MEDIA_TYPES: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What the validator needs to know about a base model."""

    name: str
    """The model as given (fine-tuned ids keep their full name)."""
    base: str
    """The resolved base model, e.g. ``gpt-4o-mini-2024-07-18``."""
    family: str
    """The family used for the limits, e.g. ``gpt-4o-mini``."""
    data_format: Literal["chat", "completion"]
    max_example_tokens: int
    """Maximum tokens in one training example; longer ones are truncated by the service."""
    encoding: Literal["o200k_base", "cl100k_base"]
    vision: bool
    tools: bool
    dpo: bool
    known: bool
    reinforcement_only: bool = False

    def format_for(self, method: str) -> DataFormat:
        if method == "dpo":
            return "dpo"
        if method == "reinforcement":
            return "rft"
        return self.data_format


@dataclass(frozen=True, slots=True)
class _Family:
    prefix: str
    data_format: Literal["chat", "completion"]
    max_example_tokens: int
    encoding: Literal["o200k_base", "cl100k_base"]
    vision: bool = False
    tools: bool = True
    dpo: bool = False
    reinforcement_only: bool = False
    versions: tuple[tuple[str, int], ...] = ()
    """(version suffix, max example tokens) where a version differs from the family default."""


# Longest prefix first: the first match wins.
_FAMILIES: tuple[_Family, ...] = (
    _Family("gpt-4.1-nano", "chat", 32_768, "o200k_base", vision=True, dpo=True),
    _Family("gpt-4.1-mini", "chat", 65_536, "o200k_base", vision=True, dpo=True),
    _Family("gpt-4.1", "chat", 65_536, "o200k_base", vision=True, dpo=True),
    _Family("gpt-4o-mini", "chat", 65_536, "o200k_base", dpo=True),
    _Family("gpt-4o", "chat", 65_536, "o200k_base", vision=True, dpo=True),
    _Family("o4-mini", "chat", 65_536, "o200k_base", reinforcement_only=True),
    _Family("gpt-4", "chat", 8_192, "cl100k_base"),
    _Family(
        "gpt-35-turbo",
        "chat",
        16_385,
        "cl100k_base",
        versions=(("0613", 4_096), ("1106", 16_385), ("0125", 16_385)),
    ),
    _Family("babbage-002", "completion", 16_384, "cl100k_base", tools=False),
    _Family("davinci-002", "completion", 16_384, "cl100k_base", tools=False),
)

_UNKNOWN = _Family("", "chat", 65_536, "o200k_base", vision=True, dpo=True)


def base_model(model: str) -> str:
    """The base model of ``model``: strips fine-tuned suffixes and normalises OpenAI spellings."""
    name = model.strip()
    if name.startswith("ft:"):
        # OpenAI style: ft:<base>:<org>:<suffix>:<id>
        parts = name.split(":")
        name = parts[1] if len(parts) > 1 else name
    if ".ft-" in name:
        # Azure style: <base>.ft-<hex>[-suffix]
        name = name.split(".ft-", 1)[0]
    name = name.lower()
    if name.startswith("gpt-3.5-turbo"):
        name = "gpt-35-turbo" + name[len("gpt-3.5-turbo") :]
    return name


def model_spec(model: str) -> ModelSpec:
    """Look up the format and limits of ``model``. Unknown models get permissive chat defaults
    (``known=False``; the validator then reports ``model.unknown`` as a warning)."""
    base = base_model(model)
    for fam in _FAMILIES:
        if base == fam.prefix or base.startswith(fam.prefix + "-"):
            limit = fam.max_example_tokens
            rest = base[len(fam.prefix) + 1 :]
            for version, version_limit in fam.versions:
                if rest.startswith(version):
                    limit = version_limit
            return ModelSpec(
                name=model,
                base=base,
                family=fam.prefix,
                data_format=fam.data_format,
                max_example_tokens=limit,
                encoding=fam.encoding,
                vision=fam.vision,
                tools=fam.tools,
                dpo=fam.dpo,
                known=True,
                reinforcement_only=fam.reinforcement_only,
            )
    return ModelSpec(
        name=model,
        base=base,
        family=base,
        data_format=_UNKNOWN.data_format,
        max_example_tokens=_UNKNOWN.max_example_tokens,
        encoding=_UNKNOWN.encoding,
        vision=_UNKNOWN.vision,
        tools=_UNKNOWN.tools,
        dpo=_UNKNOWN.dpo,
        known=False,
    )


def known_models() -> list[str]:
    """The model families this module knows, for messages and docs."""
    return [f.prefix for f in _FAMILIES]


def default_n_epochs(n_examples: int) -> int:
    """The number of epochs the service picks when ``n_epochs`` is not set (or -1).

    OpenAI's published rule (cookbook "Data preparation and analysis for chat model fine-tuning"):
    3 epochs, raised for small data sets so that about 100 examples are seen (at most 25) and
    lowered for large ones so that about 25,000 are seen (at least 1). Azure does not document its
    own rule; for 34..8,333 examples both say 3.
    """
    target, min_examples, max_examples = 3, 100, 25_000
    if n_examples <= 0:
        return target
    if n_examples * target < min_examples:
        return min(25, min_examples // n_examples)
    if n_examples * target > max_examples:
        return max(1, max_examples // n_examples)
    return target


_ITEM_REFERENCE = re.compile(r"\{\{\s*item\.([A-Za-z_][A-Za-z0-9_]*)")


def grader_fields(grader: object) -> tuple[str, ...]:
    """The data fields a reinforcement grader reads: every ``{{item.<field>}}`` in its strings
    (templates, references, nested graders), in order of first appearance. ``{{sample.*}}`` is the
    model's answer and needs nothing from the data."""
    found: dict[str, None] = {}
    stack = [grader]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.update(dict.fromkeys(_ITEM_REFERENCE.findall(value)))
        elif isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed(value))
    return tuple(found)
