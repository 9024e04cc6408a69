"""``results.csv`` of a fine-tuning job -> the figures a reviewer looks at.

Columns (Azure): step, train_loss, train_mean_token_accuracy, valid_loss,
validation_mean_token_accuracy, full_valid_loss, full_valid_mean_token_accuracy; the valid_* columns
are empty without a validation file, the full_* ones are filled once per epoch (at its last step).

:func:`summarize` gives the final and best figures and an overfitting signal. Its keys only ever
grow (FineTuningJob puts the summary into its ``metrics`` output, which quality gates and stack
programs read):

=================================  ===========================================================
``steps``                          the last step
``final_train_loss``               last train_loss (likewise ``final_train_token_accuracy``)
``final_valid_loss``               last per-step valid_loss (a mini-batch: noisy)
``final_valid_token_accuracy``     last validation_mean_token_accuracy
``final_full_valid_loss``          last full validation loss (whole validation file, per epoch)
``final_full_valid_token_accuracy``  likewise for token accuracy
``best_train_loss``                lowest train_loss
``best_valid_loss``                lowest per-step valid_loss, at ``best_valid_loss_step``
``best_train_token_accuracy``      highest train token accuracy
``best_valid_token_accuracy``      highest per-step validation token accuracy
``best_full_valid_loss``           lowest full validation loss, at ``best_full_valid_loss_step``
``epochs``                         epochs seen (full-validation rows, or ``n_epochs`` given)
``train_valid_gap_last_epoch``     mean of valid_loss - train_loss over the last epoch's steps
``train_valid_gap_previous_epoch`` the same over the epoch before
``overfitting``                    True / False, or None when it cannot be told (no validation
                                   data, a single epoch)
``overfitting_note``               why, in words, with the numbers
=================================  ===========================================================

The overfitting signal: over the last epoch the gap between validation and training loss grew
by more than :data:`GAP_GROWTH` (relative to the previous epoch's gap, at least
:data:`GAP_GROWTH_MIN` absolute), or the validation loss rose while the training loss fell. Epochs
come from the full-validation rows (one per epoch end), else from ``n_epochs`` (steps split
evenly), else the run is split in quarters and the last two quarters are compared.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
import re
from pathlib import Path
from typing import Any, Iterable

COLUMNS = ("step", "train_loss", "train_mean_token_accuracy", "valid_loss",
           "validation_mean_token_accuracy", "full_valid_loss", "full_valid_mean_token_accuracy")
# Some writers (and the checkpoint metrics object) spell the validation accuracy column this way.
_ALIASES = {"validation_mean_token_accuracy": ("valid_mean_token_accuracy",)}

#: The gap must grow by more than this fraction of the previous epoch's gap ...
GAP_GROWTH = 0.10
#: ... and by at least this much loss, to count as an overfitting signal.
GAP_GROWTH_MIN = 0.01
#: A validation loss this much higher (relative) than the epoch before counts as rising.
VALID_RISE = 0.01


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


_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


def decode(text: str) -> str:
    """The CSV text of a result file's content, which the service may hand out base64-encoded (rule R1 of
    docs/azure-rules.md): a body that is only base64 characters and decodes to UTF-8 text with a header
    line is decoded; anything else is returned as it is."""
    body = text.strip()
    if not body or "," in body or not _BASE64.fullmatch(body):
        return text
    try:
        decoded = base64.b64decode("".join(body.split()), validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return text
    return decoded if "," in decoded.split("\n", 1)[0] else text


def parse(text: str) -> list[dict[str, float | None]]:
    """The rows of a results.csv text (plain, or base64-encoded as the service may send it); rows
    without a step are skipped, steps are ints."""
    rows = []
    for raw in csv.DictReader(io.StringIO(decode(text).lstrip("\ufeff"))):
        raw = {(k or "").strip(): v for k, v in raw.items()}
        row = {}
        for col in COLUMNS:
            value = raw.get(col)
            for alias in _ALIASES.get(col, ()):
                if value in (None, ""):
                    value = raw.get(alias)
            row[col] = _num(value)
        if row["step"] is None:
            continue
        row["step"] = int(row["step"])
        rows.append(row)
    return rows


def parse_file(path: str | Path) -> list[dict[str, float | None]]:
    return parse(Path(path).read_text(encoding="utf-8-sig"))


def _last(rows: Iterable[dict], col: str) -> float | None:
    value = None
    for row in rows:
        if row.get(col) is not None:
            value = row[col]
    return value


def _best(rows: list[dict], col: str, *, highest: bool = False) -> dict | None:
    have = [r for r in rows if r.get(col) is not None]
    if not have:
        return None
    pick = max if highest else min
    # the first step reaching the best value
    return pick(have, key=lambda r: (r[col], -r["step"] if highest else r["step"]))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def epoch_ends(rows: list[dict], n_epochs: int | None = None) -> tuple[list[int], str]:
    """The last step of each epoch, and how that was found."""
    if not rows:
        return [], "no rows"
    full = [r["step"] for r in rows if r.get("full_valid_loss") is not None]
    if len(full) >= 2:
        return full, "epochs from the full-validation rows"
    last = rows[-1]["step"]
    if n_epochs and n_epochs >= 2:
        per = math.ceil(last / n_epochs)
        return [min(last, per * (i + 1)) for i in range(n_epochs)], f"{n_epochs} epochs of ~{per} steps (n_epochs)"
    if len(full) == 1 and full[0] >= last:
        return full, "one epoch (one full-validation row)"
    quarter = max(1, math.ceil(last / 4))
    ends = sorted({min(last, quarter * (i + 1)) for i in range(4)})
    return ends, "epochs unknown: the run split in quarters"


def _segments(rows: list[dict], ends: list[int]) -> list[list[dict]]:
    segments: list[list[dict]] = []
    start = -math.inf
    for end in ends:
        segments.append([r for r in rows if start < r["step"] <= end])
        start = end
    return [s for s in segments if s]


def overfitting(rows: list[dict], n_epochs: int | None = None) -> dict[str, Any]:
    """The overfitting signal of :func:`summarize` (keys ``overfitting``, ``overfitting_note``,
    ``epochs``, ``train_valid_gap_last_epoch``, ``train_valid_gap_previous_epoch``)."""
    ends, basis = epoch_ends(rows, n_epochs)
    has_full = any(r.get("full_valid_loss") is not None for r in rows)
    epochs = len(ends) if (has_full or n_epochs) and "quarters" not in basis else None
    out: dict[str, Any] = {"epochs": epochs, "train_valid_gap_last_epoch": None,
                           "train_valid_gap_previous_epoch": None, "overfitting": None, "overfitting_note": ""}
    if not any(r.get("valid_loss") is not None or r.get("full_valid_loss") is not None for r in rows):
        out["overfitting_note"] = "no validation data: overfitting cannot be told (add a validation_file)"
        return out
    segs = _segments(rows, ends)
    if len(segs) < 2:
        out["overfitting_note"] = "a single epoch: nothing to compare the last epoch with"
        return out
    unit = "quarter" if "quarters" in basis else "epoch"

    def stats(seg: list[dict]) -> tuple[float | None, float | None, float | None]:
        gaps = [r["valid_loss"] - r["train_loss"] for r in seg
                if r.get("valid_loss") is not None and r.get("train_loss") is not None]
        train = _mean([r["train_loss"] for r in seg if r.get("train_loss") is not None])
        end_full = [r["full_valid_loss"] for r in seg if r.get("full_valid_loss") is not None]
        valid = end_full[-1] if end_full else _mean([r["valid_loss"] for r in seg if r.get("valid_loss") is not None])
        return _mean(gaps), train, valid

    gap_prev, train_prev, valid_prev = stats(segs[-2])
    gap_last, train_last, valid_last = stats(segs[-1])
    out["train_valid_gap_last_epoch"] = gap_last
    out["train_valid_gap_previous_epoch"] = gap_prev
    reasons = []
    if gap_last is not None and gap_prev is not None:
        growth = gap_last - gap_prev
        if growth > max(GAP_GROWTH_MIN, GAP_GROWTH * abs(gap_prev)):
            reasons.append(f"the validation-training loss gap grew from {gap_prev:.4f} to {gap_last:.4f} "
                           f"over the last {unit}")
    if None not in (valid_prev, valid_last, train_prev, train_last) \
            and valid_last > valid_prev * (1 + VALID_RISE) and train_last < train_prev:
        reasons.append(f"validation loss rose from {valid_prev:.4f} to {valid_last:.4f} while training loss fell "
                       f"from {train_prev:.4f} to {train_last:.4f}")
    if reasons:
        out["overfitting"] = True
        out["overfitting_note"] = "overfitting: " + "; ".join(reasons) + f" ({basis})"
    elif gap_last is None and valid_last is None:
        out["overfitting_note"] = "no per-step validation loss to compare"
    else:
        out["overfitting"] = False
        shown = f"gap {gap_prev:.4f} -> {gap_last:.4f}" if gap_last is not None and gap_prev is not None \
            else f"validation loss {valid_prev} -> {valid_last}"
        out["overfitting_note"] = f"no overfitting signal over the last {unit}: {shown} ({basis})"
    return out


def summarize(rows: list[dict[str, float | None]], *, n_epochs: int | None = None) -> dict[str, Any]:
    """Final and best figures, and the overfitting signal; ``None`` where the data has no such
    column. ``n_epochs`` (optional) helps find epochs when there are no full-validation rows."""
    if not rows:
        return {"steps": 0}
    best_valid = _best(rows, "valid_loss")
    best_full = _best(rows, "full_valid_loss")
    best_train_acc = _best(rows, "train_mean_token_accuracy", highest=True)
    best_valid_acc = _best(rows, "validation_mean_token_accuracy", highest=True)
    summary = {
        "steps": rows[-1]["step"],
        "final_train_loss": _last(rows, "train_loss"),
        "final_train_token_accuracy": _last(rows, "train_mean_token_accuracy"),
        "final_valid_loss": _last(rows, "valid_loss"),
        "final_valid_token_accuracy": _last(rows, "validation_mean_token_accuracy"),
        "final_full_valid_loss": _last(rows, "full_valid_loss"),
        "final_full_valid_token_accuracy": _last(rows, "full_valid_mean_token_accuracy"),
        "best_train_loss": min((r["train_loss"] for r in rows if r.get("train_loss") is not None), default=None),
        "best_valid_loss": best_valid["valid_loss"] if best_valid else None,
        "best_valid_loss_step": best_valid["step"] if best_valid else None,
        "best_train_token_accuracy": best_train_acc["train_mean_token_accuracy"] if best_train_acc else None,
        "best_valid_token_accuracy": best_valid_acc["validation_mean_token_accuracy"] if best_valid_acc else None,
        "best_full_valid_loss": best_full["full_valid_loss"] if best_full else None,
        "best_full_valid_loss_step": best_full["step"] if best_full else None,
    }
    summary.update(overfitting(rows, n_epochs))
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in summary.items()}


def final_valid_loss(metrics: dict[str, Any] | None) -> float | None:
    """The validation loss a gate or a reader should use: the full validation loss of the last
    epoch when there is one, else the last per-step validation loss."""
    if not metrics:
        return None
    full = metrics.get("final_full_valid_loss")
    return full if full is not None else metrics.get("final_valid_loss")


def final_valid_token_accuracy(metrics: dict[str, Any] | None) -> float | None:
    if not metrics:
        return None
    full = metrics.get("final_full_valid_token_accuracy")
    return full if full is not None else metrics.get("final_valid_token_accuracy")
