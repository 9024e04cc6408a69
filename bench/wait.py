"""Benchmark 4: waiting on a fine-tuning job: API calls per minute and how late the end is noticed.

Measured: the provider's real create path, ``FineTuningJobController(settings).create(inputs)``
(``check`` first, as the engine does), in a child process of its own, with ``pollInterval`` = P,
on a job the emulator trains in about ``job_seconds`` real seconds (time scale chosen for that).
From the emulator's request log and its record of the job:
- calls per minute of training (real and emulated), split into status reads and event reads;
- lag = the first status read that started after the job's emulated finish, minus that finish
  (converted to real time with the log's own emulated/real timestamps); also until create returns;
- backoff: the median gap between the first status reads over the median gap once it has settled
  (the poll starts at P/8 and grows by half each read up to P: below 1x), and the settled gap
  itself (at most P, so that the lag stays bounded by P).
Baselines: one status read per poll interval (60/P per minute) for the rate, P for the lag.
See bench/README.md.
"""

from __future__ import annotations

import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._common import (
    BASE_MODEL,
    Row,
    account_id,
    child_env,
    child_main,
    endpoint,
    openai_client,
    provider_env,
    ratio,
    run_child,
    spread,
    start_emulator,
    write_chat_jsonl,
)

ACCOUNT = "aoai-wait"
_EARLY = 3  # poll gaps counted as "first"; the settled gap is the median from gap 2 * _EARLY on
EMULATED_JOB_SECONDS = 460.0  # queue 60 + validation 30 + 3 epochs of ~100 + post-processing 60


def _child(p: dict[str, Any]) -> dict[str, Any]:
    from pulumi_aoai_finetune.fine_tuning_job import FineTuningJobController
    from pulumi_aoai_finetune.settings import ProviderSettings

    controller = FineTuningJobController(ProviderSettings.load())
    news = {"account": {"resource_id": p["account_id"], "endpoint": p["endpoint"]}, "base_model": BASE_MODEL,
            "training_file": p["file_id"], "hyperparameters": {"n_epochs": 3}, "suffix": "wait",
            "seed": p["seed"], "timeout_seconds": 3600}
    inputs, failures = controller.check({}, news)
    if failures:
        raise RuntimeError(f"check failed: {failures}")
    t_start = time.time()
    job_id, outs = controller.create(inputs)
    t_return = time.time()
    return {"job_id": job_id, "status": outs["status"], "t_start": t_start, "t_return": t_return}


def run(poll_interval: float, job_seconds: float, repeat: int, tmp: str | None = None, log=print) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="aoai-bench-wait-", dir=tmp))
    time_scale = EMULATED_JOB_SECONDS / job_seconds
    emu = start_emulator(time_scale=time_scale, accounts=((ACCOUNT, "northcentralus"),),
                         state_dir=workdir / "emulator")
    try:
        data = workdir / "train.jsonl"
        write_chat_jsonl(data, examples=30)
        with open(data, "rb") as fh:
            f = openai_client(emu, ACCOUNT).files.create(file=(data.name, fh), purpose="fine-tune")
        emu.backend.advance_clock(60)  # processed
        env = child_env(provider_env(emu.base_url, poll_interval=poll_interval))
        runs = []
        for i in range(repeat):
            r = run_child("bench.wait", {"account_id": account_id(emu, ACCOUNT), "endpoint": endpoint(emu, ACCOUNT),
                                         "file_id": f.id, "seed": 100 + i}, env)
            if r["status"] != "succeeded":
                raise RuntimeError(f"job {r['job_id']} ended {r['status']}")
            runs.append(_analyse(emu, r, time_scale))
            a = runs[-1]
            log(f"  wait: job of {a['training_real_s']:.1f} s real: {a['calls']} calls "
                f"({a['status_reads']} status, {a['event_reads']} events), lag {a['lag_s']:.2f} s "
                f"(return {a['return_lag_s']:.2f} s), P={poll_interval} s")
        lag = max(a["lag_s"] for a in runs)
        per_min = max(a["calls_per_real_min"] for a in runs)
        early_vs_late = max(a["early_vs_settled"] for a in runs)
        settled = max(a["median_gap_late_s"] or 0.0 for a in runs)
        baseline_rate = 60.0 / poll_interval
        details = {
            "poll_interval_s": poll_interval, "time_scale": time_scale, "jobs": len(runs),
            "lag_s": spread([a["lag_s"] for a in runs]), "return_lag_s": spread([a["return_lag_s"] for a in runs]),
            "calls_per_real_min": spread([a["calls_per_real_min"] for a in runs]),
            "calls_per_emulated_min": spread([a["calls_per_emulated_min"] for a in runs]),
            "status_reads_per_real_min": spread([a["status_per_real_min"] for a in runs]),
            "per_job": runs,
        }
        return [
            Row("wait", f"lag job end -> noticed (P={poll_interval:g} s)", lag, "s", poll_interval, "poll interval P",
                ratio(lag, poll_interval), "bounded by P (<= 1x)", lag <= poll_interval, details),
            Row("wait", "API calls per real minute of training", per_min, "calls/min", baseline_rate,
                "one status read per P", ratio(per_min, baseline_rate), "(no target; see backoff)", None,
                {"calls_per_emulated_min": details["calls_per_emulated_min"],
                 "calls_per_hour_at_default_P_10s": per_min * poll_interval / 10.0 * 60}),
            Row("wait", f"backoff: first {_EARLY} poll gaps vs settled gap", early_vs_late, "x", 1.0,
                "fixed-interval polling", early_vs_late, "< 1x, settled gap <= P",
                early_vs_late < 0.9 and settled <= poll_interval * 1.1,
                {"median_gap_early_s": [a["median_gap_early_s"] for a in runs],
                 "median_gap_late_s": [a["median_gap_late_s"] for a in runs], "poll_interval_s": poll_interval}),
        ]
    finally:
        emu.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _analyse(emu, r: dict[str, Any], time_scale: float) -> dict[str, Any]:
    job_id = r["job_id"]
    with emu.backend.lock:
        job = dict(emu.backend.store["jobs"][job_id])
    origin = job["_created"] + job.get("_shift", 0.0)
    created, finished = job["_created"], origin + job["_plan"]["finish_at"]
    log = [e for e in emu.backend.faults.requests() if r["t_start"] - 0.5 <= e["real_time"] <= r["t_return"] + 0.5]
    anchor = min(log, key=lambda e: abs(e["time"] - finished))

    def real(emulated: float) -> float:
        return anchor["real_time"] + (emulated - anchor["time"]) / time_scale

    status = re.compile(rf"/fine_tuning/jobs/{re.escape(job_id)}$")
    status_reads = [e for e in log if e["method"] == "GET" and status.search(e["path"])]
    event_reads = [e for e in log if "/events" in e["path"]]
    # a request is logged when it starts; at high time scales the read that saw the job end may have
    # started a few emulated seconds before it (the status is computed later, while handling), so the
    # last status read (polling stops at the terminal status) stands in when none started after the end
    noticed = next((e for e in status_reads if e["time"] >= finished), status_reads[-1])
    t0, t1 = real(created), real(finished)
    during = [e for e in log if t0 <= e["real_time"] <= t1]
    # backoff shows as short gaps between the first status reads, growing to a settled gap
    reads = [e["real_time"] for e in status_reads if e["real_time"] <= t1]
    gaps = [b - a for a, b in zip(reads, reads[1:])]
    early, late = gaps[:_EARLY], gaps[2 * _EARLY:]
    early_vs_settled = (statistics.median(early) / statistics.median(late)) if early and late else 1.0
    training_real = t1 - t0
    return {
        "job_id": job_id, "training_real_s": training_real, "training_emulated_s": finished - created,
        "calls": len(log), "status_reads": len(status_reads), "event_reads": len(event_reads),
        "calls_per_real_min": len(during) / training_real * 60,
        "status_per_real_min": sum(1 for e in during if status.search(e["path"])) / training_real * 60,
        "calls_per_emulated_min": len(during) / ((finished - created) / 60),
        "lag_s": max(0.0, noticed["real_time"] - t1), "return_lag_s": r["t_return"] - t1,
        "early_vs_settled": early_vs_settled,
        "median_gap_early_s": statistics.median(early) if early else None,
        "median_gap_late_s": statistics.median(late) if late else None,
    }


if __name__ == "__main__":
    if "--child" in sys.argv:
        raise SystemExit(child_main(_child))
    raise SystemExit("run `python -m bench --only wait`")
