"""Dataset statistics, gathered in constant memory while the file streams by.

Token quantiles come from :class:`TokenHistogram`: a count per distinct value below 131,072
tokens (every model's per-example limit is below that, so median/p95 are exact quantiles of the
per-example estimates), and buckets of 1/64 of a power of two above it (within 1.6%). Its size is
bounded by the number of distinct values, not by the number of examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

TOKEN_EXACT_BELOW = 1 << 17
_SUB_BUCKET_BITS = 6


class TokenHistogram:
    """Streaming counts of per-example token numbers with nearest-rank quantiles.

    The validator's hot loop counts values below :data:`TOKEN_EXACT_BELOW` in a local dict and
    hands it over with :meth:`merge_counts`; everything else goes through :meth:`add`.
    """

    __slots__ = ("_counts", "count", "total", "_big_min", "_big_max")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self.count = 0
        self.total = 0
        self._big_min: int | None = None
        self._big_max: int | None = None

    def add(self, n: int) -> None:
        self.count += 1
        self.total += n
        if n >= TOKEN_EXACT_BELOW:
            if self._big_min is None or n < self._big_min:
                self._big_min = n
            if self._big_max is None or n > self._big_max:
                self._big_max = n
            # keep the top bits: relative error below 2**-_SUB_BUCKET_BITS
            shift = n.bit_length() - 1 - _SUB_BUCKET_BITS
            n = (n >> shift) << shift
        counts = self._counts
        counts[n] = counts.get(n, 0) + 1

    def merge_counts(self, counts: dict[int, int]) -> None:
        """Add a {value: count} dict of values below :data:`TOKEN_EXACT_BELOW`."""
        mine = self._counts
        for value, n in counts.items():
            mine[value] = mine.get(value, 0) + n
            self.count += n
            self.total += value * n

    @property
    def exact(self) -> bool:
        return self._big_max is None

    @property
    def min(self) -> int | None:
        if not self._counts:
            return None
        low = min(self._counts)
        return low if low < TOKEN_EXACT_BELOW else self._big_min

    @property
    def max(self) -> int | None:
        if self._big_max is not None:
            return self._big_max
        return max(self._counts) if self._counts else None

    def quantile(self, q: float) -> int | None:
        """Nearest-rank quantile (q in [0, 1]); ``None`` when empty."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for value in sorted(self._counts):
            seen += self._counts[value]
            if seen >= rank:
                return value
        return self.max  # pragma: no cover - unreachable

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "min": self.min,
            "median": self.quantile(0.5),
            "p95": self.quantile(0.95),
            "max": self.max,
            "mean": round(self.mean, 1) if self.mean is not None else None,
            "total": self.total,
            "quantiles_exact": self.exact,
        }


@dataclass(slots=True)
class DatasetStats:
    """Statistics of one file. Token numbers are estimates unless ``token_counting`` says exact."""

    file: str
    role: str  # "training" | "validation"
    data_format: str
    bytes: int = 0
    lines: int = 0
    blank_lines: int = 0
    examples: int = 0
    """Lines that are JSON objects (valid or not)."""
    lines_with_errors: int = 0
    messages: int = 0
    min_messages: int | None = None
    max_messages: int | None = None
    examples_with_images: int = 0
    examples_with_tools: int = 0
    tokens: TokenHistogram = field(default_factory=TokenHistogram)
    max_example_tokens: int = 0
    examples_over_limit: int = 0
    duplicates: int = 0
    system_message_variants: int = 0
    token_counting: str = ""
    token_counting_exact: bool = False
    n_epochs: int | None = None
    n_epochs_note: str = ""
    notes: list[str] = field(default_factory=list)

    def add_example_messages(self, n: int) -> None:
        self.messages += n
        if self.min_messages is None or n < self.min_messages:
            self.min_messages = n
        if self.max_messages is None or n > self.max_messages:
            self.max_messages = n

    @property
    def trained_tokens(self) -> int | None:
        """Estimated billed training tokens: total tokens x epochs (training file only)."""
        if self.n_epochs is None:
            return None
        return self.tokens.total * self.n_epochs

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "role": self.role,
            "format": self.data_format,
            "bytes": self.bytes,
            "lines": self.lines,
            "blank_lines": self.blank_lines,
            "examples": self.examples,
            "lines_with_errors": self.lines_with_errors,
            "messages": {
                "total": self.messages,
                "min_per_example": self.min_messages,
                "max_per_example": self.max_messages,
                "mean_per_example": round(self.messages / self.examples, 2)
                if self.examples
                else None,
            },
            "examples_with_images": self.examples_with_images,
            "examples_with_tools": self.examples_with_tools,
            "tokens_per_example": self.tokens.to_dict(),
            "tokens_total": self.tokens.total,
            "max_tokens_per_example": self.max_example_tokens,
            "examples_over_limit": self.examples_over_limit,
            "duplicates": self.duplicates,
            "system_message_variants": self.system_message_variants,
            "n_epochs": self.n_epochs,
            "n_epochs_note": self.n_epochs_note,
            "trained_tokens_estimate": self.trained_tokens,
            "token_counting": {"method": self.token_counting, "exact": self.token_counting_exact},
            "notes": list(self.notes),
        }

    def format_text(self) -> str:
        def n(v: int | float | None) -> str:
            if v is None:
                return "-"
            if isinstance(v, float):
                return f"{v:,.1f}"
            return f"{v:,}"

        t = self.tokens
        lines = [f"Statistics: {self.file} ({self.role}, {self.data_format} format)"]
        lines.append(
            f"  examples            {n(self.examples)} (lines {n(self.lines)}, blank "
            f"{n(self.blank_lines)}, with errors {n(self.lines_with_errors)}, size "
            f"{self.bytes / 1e6:,.1f} MB)"
        )
        if self.data_format != "completion":
            mean = self.messages / self.examples if self.examples else None
            lines.append(
                f"  messages            {n(self.messages)} (per example min {n(self.min_messages)}"
                f" / mean {n(mean)} / max {n(self.max_messages)})"
            )
        if self.examples_with_images or self.examples_with_tools:
            lines.append(
                f"  with images / tools {n(self.examples_with_images)} / "
                f"{n(self.examples_with_tools)}"
            )
        lines.append(
            f"  tokens per example  min {n(t.min)} / median {n(t.quantile(0.5))} / p95 "
            f"{n(t.quantile(0.95))} / max {n(t.max)} (limit {n(self.max_example_tokens)}; "
            f"{n(self.examples_over_limit)} over)"
        )
        lines.append(f"  tokens total        {n(t.total)}")
        if self.n_epochs is not None:
            lines.append(
                f"  trained tokens      {n(self.trained_tokens)} (= total x {self.n_epochs} "
                f"epochs; {self.n_epochs_note})"
            )
        lines.append(
            f"  duplicates          {n(self.duplicates)}; system message variants "
            f"{n(self.system_message_variants)}"
        )
        lines.append(f"  token counting      {self.token_counting}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)
