"""``results.csv`` of a fine-tuning job -> the figures a reviewer looks at.

Columns (Azure): step, train_loss, train_mean_token_accuracy, valid_loss,
validation_mean_token_accuracy, full_valid_loss, full_valid_mean_token_accuracy; the valid_* columns
are empty without a validation file, the full_* ones are filled once per epoch.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any, Iterable

COLUMNS = ("step", "train_loss", "train_mean_token_accuracy", "valid_loss",
           "validation_mean_token_accuracy", "full_valid_loss", "full_valid_mean_token_accuracy")


def _num(value: Any) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse(text: str) -> list[dict[str, float | None]]:
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row = {col: _num(raw.get(col)) for col in COLUMNS}
        if row["step"] is None:
            continue
        row["step"] = int(row["step"])
        rows.append(row)
    return rows


def _last(rows: Iterable[dict], col: str) -> float | None:
    value = None
    for row in rows:
        if row.get(col) is not None:
            value = row[col]
    return value


def summarize(rows: list[dict[str, float | None]]) -> dict[str, Any]:
    """Final and best figures; ``None`` where the data has no such column."""
    if not rows:
        return {"steps": 0}
    valid = [r for r in rows if r.get("valid_loss") is not None]
    best = min(valid, key=lambda r: r["valid_loss"]) if valid else None
    summary = {
        "steps": rows[-1]["step"],
        "final_train_loss": _last(rows, "train_loss"),
        "final_train_token_accuracy": _last(rows, "train_mean_token_accuracy"),
        "final_valid_loss": _last(rows, "valid_loss"),
        "final_valid_token_accuracy": _last(rows, "validation_mean_token_accuracy"),
        "final_full_valid_loss": _last(rows, "full_valid_loss"),
        "final_full_valid_token_accuracy": _last(rows, "full_valid_mean_token_accuracy"),
        "best_train_loss": min((r["train_loss"] for r in rows if r.get("train_loss") is not None), default=None),
        "best_valid_loss": best["valid_loss"] if best else None,
        "best_valid_loss_step": best["step"] if best else None,
    }
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in summary.items()}
