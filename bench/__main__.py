"""``python -m bench``: every benchmark against the local emulator, one table of ratios.

    python -m bench [--only upload,regions,noop,wait,validator,bigdata] [--size-mb 200] [--regions 6]
                    [--deployments 10] [--repeat 3] [--tiny] [--json] [--tmp DIR]

Each figure is compared with a baseline measured in the same run (the machines are noisy): see
bench/README.md for the method of each benchmark and how to read the table. ``--tiny`` runs
everything at a toy size (what tests/bench/test_bench.py runs); ``--json`` prints the rows, the
machine and the parameters as one JSON document on stdout (the table then goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any, Callable

from ._common import REPO, Row, child_env, default_signals, machine, ratio

BENCHES = ("upload", "regions", "noop", "wait", "validator", "bigdata")
DEFAULTS = {"size_mb": 200.0, "regions": 6, "deployments": 10, "repeat": 3, "op_seconds": 2.5,
            "poll_interval": 1.0, "job_seconds": 20.0, "validator_mb": 50.0, "data_mb": 200.0}
TINY = {"size_mb": 2.0, "regions": 2, "deployments": 2, "repeat": 1, "op_seconds": 0.5,
        "poll_interval": 0.2, "job_seconds": 1.5, "validator_mb": 1.0, "data_mb": 2.0}


def _validator_rows(size_mb: float, repeat: int, tmp: str | None, log) -> list[Row]:
    """bench.validator's own command, in a fresh process (so its children's peak RSS is not inflated by
    this emulator-hosting process); its JSON rows become two rows of this table."""
    with tempfile.TemporaryDirectory(prefix="aoai-bench-validator-", dir=tmp) as d:
        out = subprocess.run([sys.executable, "-m", "bench.validator", "--sizes", f"{size_mb:g}", "--repeat",
                              str(repeat), "--tmp", d, "--json"], cwd=REPO, env=child_env(),
                             capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"bench.validator failed: {out.stderr[-2000:]}")
    text = out.stdout
    rows = json.loads(text[text.index("\n[") + 1:])
    by = {r["candidate"]: r for r in rows}
    v, bare = by["validator"], by["bare"]
    log(f"  validator {v['size_mb']:.0f} MB: {v['mb_s']:.0f} MB/s vs bare {bare['mb_s']:.0f} MB/s")
    details = {"size_mb": v["size_mb"], "examples": v.get("examples"), "data_valid": v.get("validator_ok"),
               "load_all_mb_s": by.get("load-all", {}).get("mb_s"),
               "validator_vs_load_all": v.get("validator_vs_load_all"),
               "load_all_peak_rss_mb": by.get("load-all", {}).get("peak_rss_mb"),
               "c_token_keys": v.get("speedups"), "same_report_without_c": v.get("same_report"),
               "pure_python_mb_s": by.get("validator-py", {}).get("mb_s"),
               "pure_python_vs_bare": by.get("validator-py", {}).get("ratio_to_bare")}
    return [
        Row("validator", f"throughput, {v['size_mb']:.0f} MB file", v["mb_s"], "MB/s", bare["mb_s"],
            "bare msgspec decode loop", ratio(v["mb_s"], bare["mb_s"]), ">= 0.5x",
            ratio(v["mb_s"], bare["mb_s"]) >= 0.5, details),
        Row("validator", f"peak RSS, {v['size_mb']:.0f} MB file", v["peak_rss_mb"], "MB", bare["peak_rss_mb"],
            "bare decode loop process", ratio(v["peak_rss_mb"], bare["peak_rss_mb"]), "< 150 MB",
            v["peak_rss_mb"] < 150, {}),
    ]


def _runners(p: dict[str, Any], tmp: str | None, log) -> dict[str, Callable[[], list[Row]]]:
    from . import bigdata, noop, regions, upload, wait

    return {
        "upload": lambda: upload.run(p["size_mb"], p["repeat"], tmp, log),
        "regions": lambda: regions.run(p["regions"], p["repeat"], p["op_seconds"], tmp, log),
        "noop": lambda: noop.run(p["deployments"], p["repeat"], tmp, log),
        "wait": lambda: wait.run(p["poll_interval"], p["job_seconds"], p["repeat"], tmp, log),
        "validator": lambda: _validator_rows(p["validator_mb"], p["repeat"], tmp, log),
        "bigdata": lambda: bigdata.run(p["data_mb"], p["repeat"], tmp, log),
    }


# -- the table ------------------------------------------------------------------------------------
def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("calls", "ops"):
        return f"{value:.0f} {unit}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "calls/min":
        return f"{value:.0f} calls/min"
    if unit == "s":
        return f"{value:.2f} s"
    if unit in ("MB", "MB/s"):
        return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{value:g} {unit}"


def table(rows: list[Row], header: str) -> str:
    cells = [("benchmark", "measured", "baseline", "ratio", "target", "met?")]
    for r in rows:
        base = _fmt(r.baseline, r.unit if r.unit != "x" else "x")
        cells.append((f"{r.bench}: {r.name}", _fmt(r.measured, r.unit),
                      f"{base} ({r.baseline_label})" if r.baseline_label else base,
                      "—" if r.ratio is None else f"{r.ratio:.2f}x", r.target,
                      {True: "yes", False: "NO", None: "—"}[r.met]))
    widths = [max(len(c[i]) for c in cells) for i in range(6)]
    lines = [header, ""]
    for n, c in enumerate(cells):
        lines.append(" | ".join(c[i].ljust(widths[i]) for i in range(6)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    default_signals()  # every command below starts with default signal handling (see _common)
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated subset of {', '.join(BENCHES)}")
    ap.add_argument("--tiny", action="store_true", help="toy sizes: checks that everything runs (seconds, not minutes)")
    ap.add_argument("--size-mb", type=float, help=f"upload file size (default {DEFAULTS['size_mb']:g}; also size/4)")
    ap.add_argument("--regions", type=int, help=f"regions (accounts) to deploy to (default {DEFAULTS['regions']})")
    ap.add_argument("--deployments", type=int, help=f"deployments of the no-op stack (default {DEFAULTS['deployments']})")
    ap.add_argument("--repeat", type=int, help=f"runs of each measurement; the least disturbed counts "
                                                f"(default {DEFAULTS['repeat']})")
    ap.add_argument("--op-seconds", type=float, help="real seconds of one emulated ARM deployment "
                                                     f"(default {DEFAULTS['op_seconds']:g})")
    ap.add_argument("--poll-interval", type=float, help=f"pollInterval for the wait benchmark "
                                                        f"(default {DEFAULTS['poll_interval']:g} s)")
    ap.add_argument("--job-seconds", type=float, help=f"real duration of the emulated job "
                                                      f"(default {DEFAULTS['job_seconds']:g} s)")
    ap.add_argument("--validator-mb", type=float, help=f"validator file size (default {DEFAULTS['validator_mb']:g})")
    ap.add_argument("--data-mb", type=float, help=f"training file of the big-data no-op stack "
                                                  f"(default {DEFAULTS['data_mb']:g})")
    ap.add_argument("--tmp", default=None, help="directory for temporary files (default: the system's)")
    ap.add_argument("--json", action="store_true", help="print one JSON document on stdout (table on stderr)")
    args = ap.parse_args(argv)

    only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(only) - set(BENCHES)
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(BENCHES)}")
    params = dict(TINY if args.tiny else DEFAULTS)
    for key in params:
        if getattr(args, key, None) is not None:
            params[key] = getattr(args, key)
    params["repeat"] = max(1, int(params["repeat"]))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    info = machine()
    runners = _runners(params, args.tmp, log)
    rows: list[Row] = []
    errors: dict[str, str] = {}
    started = time.perf_counter()
    for name in only:
        log(f"[{name}]")
        t0 = time.perf_counter()
        try:
            rows.extend(runners[name]())
        except Exception as exc:  # one broken benchmark must not hide the others
            errors[name] = f"{type(exc).__name__}: {exc}"
            log(traceback.format_exc())
            rows.append(Row(name, "FAILED", None, "", None, "", None, "runs", False, {"error": errors[name]}))
        log(f"  ({time.perf_counter() - t0:.0f} s)")
    elapsed = time.perf_counter() - started
    header = (f"aoai-ft bench, {info['date']}: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, "
              f"Python {info['python']}, load {info['load_avg'][0]}\n"
              f"sizes: upload {params['size_mb']:g} MB (and {params['size_mb'] / 4:g} MB), {params['regions']} regions "
              f"at {params['op_seconds']:g} s per ARM operation, no-op stack of {params['deployments']} deployments, "
              f"wait P={params['poll_interval']:g} s on a {params['job_seconds']:g} s job, validator "
              f"{params['validator_mb']:g} MB, big-data stack {params['data_mb']:g} MB; best of {params['repeat']}; {elapsed:.0f} s in all"
              + (" (--tiny: timings mean nothing)" if args.tiny else ""))
    text = table(rows, header)
    if args.json:
        print(text, file=sys.stderr)
        doc = {"machine": info, "params": {**params, "tiny": args.tiny}, "seconds": elapsed,
               "rows": [r.to_dict() for r in rows], "errors": errors}
        print(json.dumps(doc, indent=2, default=str))
    else:
        print(text)
    return 1 if errors else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
