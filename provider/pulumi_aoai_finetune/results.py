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
import bisect
import csv
import io
import math
import re
from array import array
from pathlib import Path
from typing import Any, Iterable, Iterator

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


class ResultsError(ValueError):
    """A results.csv that cannot be read as one; the message names the file and the line."""


#: The longest line read (results.csv rows are short): a longer one is refused, never held.
MAX_LINE_BYTES = 64 * 1024
#: Figures beyond this magnitude are not losses or accuracies: treated as missing, like nan (a loss of
#: 1e308 made the plot fail and the JSON summary hold Infinity).
LIMIT = 1e9


def _row(raw: dict[str, Any]) -> dict[str, float | None] | None:
    raw = {(k or "").strip(): v for k, v in raw.items()}
    row: dict[str, Any] = {}
    for col in COLUMNS:
        value = raw.get(col)
        for alias in _ALIASES.get(col, ()):
            if value in (None, ""):
                value = raw.get(alias)
        number = _num(value)
        row[col] = number if number is None or abs(number) <= LIMIT else None
    if row["step"] is None:
        return None
    row["step"] = int(row["step"])
    return row


def parse(text: str) -> list[dict[str, float | None]]:
    """The rows of a results.csv text (plain, or base64-encoded as the service may send it); rows
    without a step are skipped, steps are ints."""
    rows = []
    for raw in csv.DictReader(io.StringIO(decode(text).lstrip("\ufeff"))):
        row = _row(raw)
        if row is not None:
            rows.append(row)
    return rows


class ResultsFile:
    """The rows of a results.csv file, read streamed each time it is iterated (so a summary can pass
    over them twice in constant memory). Errors name the file and the line: text that is not UTF-8,
    a line longer than :data:`MAX_LINE_BYTES`, a file that is not CSV."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __iter__(self) -> Iterator[dict[str, float | None]]:
        where = [0]  # the line number being read

        def lines(fh) -> Iterator[str]:
            while raw := fh.readline(MAX_LINE_BYTES + 1):
                where[0] += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    raise ResultsError(f"{self.path}:{where[0]}: a line longer than {MAX_LINE_BYTES // 1024} KiB: "
                                       "not a results.csv")
                try:
                    yield raw.decode("utf-8-sig" if where[0] == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise ResultsError(f"{self.path}:{where[0]}: not UTF-8 text (byte {exc.start + 1} of the line): "
                                       "not a results.csv") from None

        with open(self.path, "rb") as fh:
            reader = csv.reader(lines(fh))
            try:
                header = [f.strip() for f in next(reader, [])]
                for fields in reader:
                    row = _row(dict(zip(header, fields)))
                    if row is not None:
                        yield row
            except csv.Error as exc:
                raise ResultsError(f"{self.path}:{where[0]}: not CSV ({exc})") from None


def parse_file(path: str | Path) -> list[dict[str, float | None]]:
    return list(ResultsFile(path))


def epoch_ends(rows: Iterable[dict], n_epochs: int | None = None) -> tuple[list[int], str]:
    """The last step of each epoch, and how that was found."""
    first = _Pass()
    for row in rows:
        first.add(row)
    ends, basis = _ends(first.full_steps, first.last_step, first.count, n_epochs)
    return list(ends), basis


def _ends(full: Any, last: int | None, count: int, n_epochs: int | None) -> tuple[Any, str]:
    if not count or last is None:
        return [], "no rows"
    if len(full) >= 2:
        return full, "epochs from the full-validation rows"
    if n_epochs and n_epochs >= 2:
        per = math.ceil(last / n_epochs)
        return [min(last, per * (i + 1)) for i in range(n_epochs)], f"{n_epochs} epochs of ~{per} steps (n_epochs)"
    if len(full) == 1 and full[0] >= last:
        return full, "one epoch (one full-validation row)"
    quarter = max(1, math.ceil(last / 4))
    ends = sorted({min(last, quarter * (i + 1)) for i in range(4)})
    return ends, "epochs unknown: the run split in quarters"


class _Pass:
    """What one pass over the rows gathers: the last figure of each column, the best ones (with the
    first step reaching them), the full-validation steps, whether there is validation data."""

    def __init__(self) -> None:
        self.count = 0
        self.last_step: int | None = None
        self.last: dict[str, float] = {}
        self.best: dict[tuple[str, bool], tuple[float, int]] = {}
        self.full_steps = array("q")  # 8 bytes a full-validation row (one per epoch in a real run)
        self.validation = False

    def add(self, row: dict) -> None:
        self.count += 1
        step = row["step"]
        self.last_step = step
        for col in COLUMNS[1:]:
            value = row.get(col)
            if value is None:
                continue
            self.last[col] = value
            for highest in (False, True):
                best = self.best.get((col, highest))
                better = best is None or (value > best[0] if highest else value < best[0]) \
                    or (value == best[0] and step < best[1])  # the first step reaching it
                if better:
                    self.best[(col, highest)] = (value, step)
        if row.get("full_valid_loss") is not None:
            self.full_steps.append(step)
        if row.get("valid_loss") is not None or row.get("full_valid_loss") is not None:
            self.validation = True

    def best_of(self, col: str, *, highest: bool = False) -> tuple[float, int] | None:
        return self.best.get((col, highest))


class _Segment:
    """Running sums of one epoch (or quarter): gaps, training loss, validation loss, last full loss."""

    def __init__(self) -> None:
        self.gap = [0.0, 0]
        self.train = [0.0, 0]
        self.valid = [0.0, 0]
        self.full: tuple[int, float] | None = None

    def add(self, row: dict) -> None:
        if row.get("valid_loss") is not None and row.get("train_loss") is not None:
            self.gap[0] += row["valid_loss"] - row["train_loss"]
            self.gap[1] += 1
        if row.get("train_loss") is not None:
            self.train[0] += row["train_loss"]
            self.train[1] += 1
        if row.get("valid_loss") is not None:
            self.valid[0] += row["valid_loss"]
            self.valid[1] += 1
        if row.get("full_valid_loss") is not None:
            self.full = (row["step"], row["full_valid_loss"]) if self.full is None or row["step"] >= self.full[0] \
                else self.full

    def stats(self) -> tuple[float | None, float | None, float | None]:
        def mean(pair: list) -> float | None:
            return pair[0] / pair[1] if pair[1] else None

        valid = self.full[1] if self.full is not None else mean(self.valid)
        return mean(self.gap), mean(self.train), valid


def _last_two_segments(rows: Iterable[dict], ends: list[int]) -> list[_Segment]:
    """The last two epochs (segments between ``ends``) that hold rows, gathered in one pass whatever
    the rows' order, keeping two segments at most."""
    kept: dict[int, _Segment] = {}
    for row in rows:
        step = row["step"]
        index = bisect.bisect_left(ends, step)
        if index >= len(ends):
            continue  # past the last epoch's end
        if index not in kept:
            if len(kept) == 2 and index < min(kept):
                continue
            kept[index] = _Segment()
            if len(kept) > 2:
                del kept[min(kept)]
        kept[index].add(row)
    return [kept[i] for i in sorted(kept)]


def overfitting(rows: Iterable[dict], n_epochs: int | None = None, *, first: _Pass | None = None) -> dict[str, Any]:
    """The overfitting signal of :func:`summarize` (keys ``overfitting``, ``overfitting_note``,
    ``epochs``, ``train_valid_gap_last_epoch``, ``train_valid_gap_previous_epoch``). ``rows`` is
    iterated twice at most (a list, or a :class:`ResultsFile`)."""
    if first is None:
        first = _Pass()
        for row in rows:
            first.add(row)
    ends, basis = _ends(first.full_steps, first.last_step, first.count, n_epochs)
    has_full = bool(first.full_steps)
    epochs = len(ends) if (has_full or n_epochs) and "quarters" not in basis else None
    out: dict[str, Any] = {"epochs": epochs, "train_valid_gap_last_epoch": None,
                           "train_valid_gap_previous_epoch": None, "overfitting": None, "overfitting_note": ""}
    if not first.validation:
        out["overfitting_note"] = "no validation data: overfitting cannot be told (add a validation_file)"
        return out
    segs = _last_two_segments(rows, ends)
    if len(segs) < 2:
        out["overfitting_note"] = "a single epoch: nothing to compare the last epoch with"
        return out
    unit = "quarter" if "quarters" in basis else "epoch"
    gap_prev, train_prev, valid_prev = segs[-2].stats()
    gap_last, train_last, valid_last = segs[-1].stats()
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


def summarize(rows: Iterable[dict[str, float | None]], *, n_epochs: int | None = None) -> dict[str, Any]:
    """Final and best figures, and the overfitting signal; ``None`` where the data has no such
    column. ``n_epochs`` (optional) helps find epochs when there are no full-validation rows.
    ``rows`` (a list, or a :class:`ResultsFile` read streamed) is iterated at most twice: memory does
    not grow with the number of rows, beyond the steps of the full-validation rows."""
    first = _Pass()
    for row in rows:
        first.add(row)
    if not first.count:
        return {"steps": 0}

    def best(col: str, highest: bool = False) -> tuple[float, int] | tuple[None, None]:
        found = first.best_of(col, highest=highest)
        return found if found is not None else (None, None)

    best_valid, best_valid_step = best("valid_loss")
    best_full, best_full_step = best("full_valid_loss")
    summary = {
        "steps": first.last_step,
        "final_train_loss": first.last.get("train_loss"),
        "final_train_token_accuracy": first.last.get("train_mean_token_accuracy"),
        "final_valid_loss": first.last.get("valid_loss"),
        "final_valid_token_accuracy": first.last.get("validation_mean_token_accuracy"),
        "final_full_valid_loss": first.last.get("full_valid_loss"),
        "final_full_valid_token_accuracy": first.last.get("full_valid_mean_token_accuracy"),
        "best_train_loss": best("train_loss")[0],
        "best_valid_loss": best_valid,
        "best_valid_loss_step": best_valid_step,
        "best_train_token_accuracy": best("train_mean_token_accuracy", True)[0],
        "best_valid_token_accuracy": best("validation_mean_token_accuracy", True)[0],
        "best_full_valid_loss": best_full,
        "best_full_valid_loss_step": best_full_step,
    }
    summary.update(overfitting(rows, n_epochs, first=first))
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in summary.items()}


#: Points per plotted series at most: a longer run is drawn from each bucket's lowest and highest point.
PLOT_POINTS = 4000


def plot_series(rows: Iterable[dict], last_step: int, columns: Iterable[str]) -> dict[str, list[tuple[int, float]]]:
    """(step, value) points of each column, for a plot, in constant memory: steps are split in
    ``PLOT_POINTS / 2`` buckets and each keeps its lowest and highest point (spikes stay visible)."""
    width = max(1, math.ceil(max(last_step, 1) / (PLOT_POINTS // 2)))
    kept: dict[str, dict[int, list[tuple[int, float]]]] = {col: {} for col in columns}
    for row in rows:
        bucket = row["step"] // width
        for col, buckets in kept.items():
            value = row.get(col)
            if value is None:
                continue
            point = (row["step"], value)
            low_high = buckets.get(bucket)
            if low_high is None:
                buckets[bucket] = [point, point]
            elif value < low_high[0][1]:
                low_high[0] = point
            elif value > low_high[1][1]:
                low_high[1] = point
    return {col: sorted({p for pair in buckets.values() for p in pair}) for col, buckets in kept.items()}


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
