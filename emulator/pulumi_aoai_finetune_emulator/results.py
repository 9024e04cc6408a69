"""Training metrics of an emulated job: per step, per checkpoint, and the ``results.csv`` file.

Every value is a pure function of the job's plan (seed, data digests, model, hyperparameters), so two
jobs with the same seed, data and parameters produce the same numbers, and a restarted emulator
produces the same numbers again. Loss falls roughly exponentially towards a floor, token accuracy
rises with it; noise comes from a hash of (key, step, channel), not from a random generator's state.

Columns of ``results.csv`` (Azure's): step, train_loss, train_mean_token_accuracy, valid_loss,
validation_mean_token_accuracy, full_valid_loss, full_valid_mean_token_accuracy. The ``valid_*`` columns
are filled only when the job has a validation file, the ``full_valid_*`` ones only at epoch ends.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Iterator

COLUMNS = ("step", "train_loss", "train_mean_token_accuracy", "valid_loss", "validation_mean_token_accuracy",
           "full_valid_loss", "full_valid_mean_token_accuracy")


def metrics_key(*parts: Any) -> str:
    """The digest that determines a job's numbers."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _unit(key: str, *channel: Any) -> float:
    """A deterministic number in [0, 1) for (key, channel)."""
    digest = hashlib.sha256(f"{key}|{'|'.join(str(c) for c in channel)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _noise(key: str, *channel: Any) -> float:
    """Deterministic noise in [-1, 1)."""
    return 2.0 * _unit(key, *channel) - 1.0


def _curve(plan: dict[str, Any], step: int) -> tuple[float, float, float]:
    key = plan["metrics_key"]
    start = 1.8 + 0.9 * _unit(key, "start")
    floor = 0.12 + 0.25 * _unit(key, "floor")
    # Larger learning-rate multipliers converge faster (within reason).
    rate = 3.0 * min(2.5, max(0.4, (plan["learning_rate_multiplier"] / 0.1) ** 0.3))
    progress = step / max(1, plan["total_steps"])
    return start, floor, (start - floor) * math.exp(-rate * progress)


def _accuracy(loss: float) -> float:
    return min(0.999, max(0.0, 1.0 - 0.3 * loss))


def step_metrics(plan: dict[str, Any], step: int) -> dict[str, float]:
    """The metrics of ``step`` (1-based): train_*, and valid_* when the job has validation data,
    full_valid_* at the end of each epoch (with validation data)."""
    key = plan["metrics_key"]
    _, floor, excess = _curve(plan, step)
    train_loss = max(0.01, (floor + excess) * (1.0 + 0.12 * _noise(key, step, "train")))
    out = {
        "train_loss": round(train_loss, 5),
        "train_mean_token_accuracy": round(_accuracy(train_loss + 0.05 * _noise(key, step, "tacc")), 5),
    }
    if plan.get("has_validation"):
        # Validation loss tracks the training loss, with a gap that grows late in training.
        progress = step / max(1, plan["total_steps"])
        gap = 1.05 + 0.1 * _unit(key, "gap") + 0.15 * progress * progress * min(3.0, plan["n_epochs"] / 3.0)
        valid_loss = max(0.01, (floor + excess) * gap * (1.0 + 0.15 * _noise(key, step, "valid")))
        out["valid_loss"] = round(valid_loss, 5)
        out["valid_mean_token_accuracy"] = round(_accuracy(valid_loss + 0.06 * _noise(key, step, "vacc")), 5)
        if step % plan["steps_per_epoch"] == 0 or step == plan["total_steps"]:
            full = max(0.01, (floor + excess) * gap * (1.0 + 0.03 * _noise(key, step, "full")))
            out["full_valid_loss"] = round(full, 5)
            out["full_valid_mean_token_accuracy"] = round(_accuracy(full), 5)
    return out


def checkpoint_metrics(plan: dict[str, Any], step: int) -> dict[str, float]:
    """The ``metrics`` object of a checkpoint (the FineTuningJobCheckpoint field names)."""
    return {"step": float(step), **step_metrics(plan, step)}


def csv_lines(plan: dict[str, Any]) -> Iterator[str]:
    yield ",".join(COLUMNS) + "\n"
    for step in range(1, plan["total_steps"] + 1):
        m = step_metrics(plan, step)
        row = [str(step), _fmt(m.get("train_loss")), _fmt(m.get("train_mean_token_accuracy")),
               _fmt(m.get("valid_loss")), _fmt(m.get("valid_mean_token_accuracy")),
               _fmt(m.get("full_valid_loss")), _fmt(m.get("full_valid_mean_token_accuracy"))]
        yield ",".join(row) + "\n"


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.5f}"


def write_results_csv(path: Path, plan: dict[str, Any]) -> int:
    """Write ``results.csv`` to ``path`` (streamed line by line); return its size in bytes."""
    size = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        for line in csv_lines(plan):
            out.write(line)
            size += len(line.encode("utf-8"))
    return size
