"""Training results for a reviewer: a summary table (text) and a plot (PNG), as Azure AI Studio
shows them: loss and token accuracy against step, training and validation on the same axes.

The plot is drawn with matplotlib's Agg canvas directly (no GUI backend, no display needed, the
global backend is left alone), at an exact pixel size: ``width`` x ``height`` pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from . import results

DEFAULT_WIDTH = 1200
DEFAULT_HEIGHT = 800
DPI = 100

TRAIN_COLOR = "#1f77b4"
VALID_COLOR = "#ff7f0e"
FULL_COLOR = "#2ca02c"


def _f(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(figure, final training, final validation, best training, best validation) rows."""
    s = summary
    best_step = s.get("best_valid_loss_step")
    best_valid = _f(s.get("best_valid_loss"))
    if best_step is not None:
        best_valid += f" (step {best_step})"
    return [
        ("loss", _f(s.get("final_train_loss")), _f(s.get("final_valid_loss")), _f(s.get("best_train_loss")),
         best_valid),
        ("token accuracy", _f(s.get("final_train_token_accuracy")), _f(s.get("final_valid_token_accuracy")),
         _f(s.get("best_train_token_accuracy")), _f(s.get("best_valid_token_accuracy"))),
        ("full validation loss", "", _f(s.get("final_full_valid_loss")), "",
         _f(s.get("best_full_valid_loss")) + (f" (step {s['best_full_valid_loss_step']})"
                                              if s.get("best_full_valid_loss_step") is not None else "")),
        ("full validation accuracy", "", _f(s.get("final_full_valid_token_accuracy")), "", ""),
    ]


def summary_table(summary: Mapping[str, Any], *, title: str | None = None) -> str:
    """The summary of :func:`results.summarize` as a plain-text table."""
    header = ("", "final train", "final valid", "best train", "best valid")
    rows = [header] + summary_rows(summary)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    out = []
    if title:
        out.append(title)
    epochs = summary.get("epochs")
    out.append(f"steps {summary.get('steps', 0)}" + (f", epochs {epochs}" if epochs else ""))
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                             for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    signal = summary.get("overfitting")
    label = {True: "YES", False: "no", None: "unknown"}[signal]
    out.append(f"overfitting: {label} - {summary.get('overfitting_note') or ''}".rstrip(" -"))
    return "\n".join(out)


SERIES = ("train_loss", "valid_loss", "full_valid_loss", "train_mean_token_accuracy",
          "validation_mean_token_accuracy", "full_valid_mean_token_accuracy")


def plot(rows: Iterable[dict[str, Any]], path: str | Path, *, title: str | None = None,
         width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT, last_step: int | None = None) -> Path:
    """Write a PNG of loss and token accuracy against step to ``path``; return the path. ``rows`` (a
    list, or a :class:`results.ResultsFile` read streamed) is drawn from at most
    :data:`results.PLOT_POINTS` points per series (``last_step``: the run's, if known)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # an optional dependency of the CLI only
        raise RuntimeError("the plot needs matplotlib: pip install matplotlib") from exc

    if last_step is None:
        last_step = max((r["step"] for r in rows), default=None)
    if last_step is None:
        raise ValueError("results.csv has no rows to plot")
    points = results.plot_series(rows, last_step, SERIES)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    loss_ax, acc_ax = fig.subplots(2, 1, sharex=True)

    def series(col: str) -> tuple[list[int], list[float]]:
        return [p[0] for p in points[col]], [p[1] for p in points[col]]

    for ax, (train_col, valid_col, full_col, label) in (
        (loss_ax, ("train_loss", "valid_loss", "full_valid_loss", "loss")),
        (acc_ax, ("train_mean_token_accuracy", "validation_mean_token_accuracy",
                  "full_valid_mean_token_accuracy", "token accuracy")),
    ):
        xs, ys = series(train_col)
        if xs:
            ax.plot(xs, ys, color=TRAIN_COLOR, linewidth=1.4, label=f"training {label}")
        xs, ys = series(valid_col)
        if xs:
            ax.plot(xs, ys, color=VALID_COLOR, linewidth=1.4, label=f"validation {label}")
        xs, ys = series(full_col)
        if xs:
            ax.plot(xs, ys, color=FULL_COLOR, linestyle="--", marker="o", markersize=5,
                    label=f"full validation {label} (epoch end)")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    acc_ax.set_xlabel("step")
    loss_ax.set_title(title or "Training results")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=DPI)
    return path


def write_report(rows: Iterable[dict[str, Any]], out_dir: str | Path, name: str, *,
                 title: str | None = None, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT,
                 n_epochs: int | None = None) -> tuple[dict[str, Any], str, Path]:
    """Summary, its text table, and the PNG written as ``<out_dir>/<name>.png``. ``rows`` is read
    three times at most (a :class:`results.ResultsFile` streams them each time)."""
    summary = results.summarize(rows, n_epochs=n_epochs)
    png = plot(rows, Path(out_dir) / f"{name}.png", title=title or name, width=width, height=height,
               last_step=summary.get("steps") or None)
    return summary, summary_table(summary, title=title or name), png
