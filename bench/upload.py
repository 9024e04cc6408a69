"""Benchmark 1: uploading a training file through ``TrainingFile`` vs a bare streaming upload.

Measured: the provider's real create path, ``TrainingFileController(settings).create(inputs)``
(upload through the openai SDK, then waiting until the service has processed the file), in a
child process of its own, its settings pointing at the emulator through the environment.
Baseline: a bare streaming multipart POST of the same file to the same endpoint with the HTTP
client the openai SDK is built on (``httpx2``), in a child process of its own.

Throughput is file bytes / seconds inside the child, around the work only (imports and interpreter
start-up excluded). Peak RSS is each child's own, read with ``os.wait4``. Both are measured at two
sizes (``size`` and ``size / 4``) to show whether memory grows with the file. See bench/README.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._common import (
    API_KEY,
    API_VERSION,
    Row,
    account_id,
    best,
    child_env,
    child_main,
    endpoint,
    provider_env,
    ratio,
    rss_now_mb,
    run_child,
    spread,
    start_emulator,
    write_chat_jsonl,
)

ACCOUNT = "aoai-upload"
# 1000 emulator seconds per real second: the emulator's 10 s of file processing last 10 ms, so the
# provider's wait for "processed" (one poll, POLL seconds) is all that create() adds to the upload.
TIME_SCALE = 1000.0
POLL = 0.05
_MB = 1_000_000


# -- children ---------------------------------------------------------------------------------
def _child_provider(p: dict[str, Any]) -> dict[str, Any]:
    from pulumi_aoai_finetune.settings import ProviderSettings
    from pulumi_aoai_finetune.training_file import TrainingFileController

    import openai  # noqa: F401  (imported before the clock starts, as in the provider process)

    settings = ProviderSettings.load()
    controller = TrainingFileController(settings)
    inputs = {"account": {"resource_id": p["account_id"], "endpoint": p["endpoint"]}, "path": p["path"],
              "purpose": "fine-tune", "validate": False, "timeout_seconds": 600,
              "content_bytes": p["bytes"], "model": None, "filename": None, "adopt_file_id": None}
    rss_before = rss_now_mb()
    c0, t0 = _cpu(), time.perf_counter()
    file_id, outs = controller.create(inputs)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    if outs["bytes"] != p["bytes"] or outs["status"] != "processed":
        raise RuntimeError(f"upload recorded {outs['bytes']} bytes, status {outs['status']}")
    return {"seconds": seconds, "cpu_seconds": cpu, "file_id": file_id, "rss_before_mb": rss_before}


def _cpu() -> float:
    """CPU seconds of this process (user + system): the client's own cost, less noisy than wall time."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _child_bare(p: dict[str, Any]) -> dict[str, Any]:
    import httpx2

    url = p["endpoint"].rstrip("/") + "/openai/files"
    rss_before = rss_now_mb()
    with httpx2.Client(timeout=600) as client:
        c0, t0 = _cpu(), time.perf_counter()
        with open(p["path"], "rb") as fh:
            r = client.post(url, params={"api-version": API_VERSION}, headers={"api-key": API_KEY},
                            files={"file": (Path(p["path"]).name, fh)}, data={"purpose": "fine-tune"})
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    r.raise_for_status()
    body = r.json()
    if body["bytes"] != p["bytes"]:
        raise RuntimeError(f"upload recorded {body['bytes']} bytes")
    return {"seconds": seconds, "cpu_seconds": cpu, "file_id": body["id"], "rss_before_mb": rss_before}


_CHILDREN = {"provider": _child_provider, "bare": _child_bare}


def _child(payload: dict[str, Any]) -> dict[str, Any]:
    return _CHILDREN[payload["candidate"]](payload)


# -- parent -----------------------------------------------------------------------------------
def run(size_mb: float, repeat: int, tmp: str | None = None, log=print) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="aoai-bench-upload-", dir=tmp))
    emu = start_emulator(time_scale=TIME_SCALE, accounts=((ACCOUNT, "northcentralus"),),
                         state_dir=workdir / "emulator")
    try:
        sizes = [size_mb, size_mb / 4]
        results: dict[float, dict[str, Any]] = {}
        env = child_env(provider_env(emu.base_url, poll_interval=POLL))
        for size in sizes:
            path = workdir / f"train-{size:g}MB.jsonl"
            write_chat_jsonl(path, size_mb=size)
            nbytes = path.stat().st_size
            with open(path, "rb") as fh:  # warm the page cache: both candidates read from memory
                while fh.read(1 << 24):
                    pass
            payload = {"path": str(path), "bytes": nbytes, "account_id": account_id(emu, ACCOUNT),
                       "endpoint": endpoint(emu, ACCOUNT)}
            per: dict[str, list[dict[str, Any]]] = {"bare": [], "provider": []}
            for i in range(repeat):
                order = ("bare", "provider") if i % 2 == 0 else ("provider", "bare")  # interleaved
                for cand in order:
                    r = run_child("bench.upload", {**payload, "candidate": cand}, env)
                    r["mb_s"] = nbytes / _MB / r["seconds"]
                    per[cand].append(r)
                    _delete_file(emu, r["file_id"])  # keep the emulator's disk use flat
                    log(f"  upload {nbytes / _MB:.0f} MB {cand}: {r['mb_s']:.0f} MB/s, client CPU "
                        f"{r['cpu_seconds']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
            results[size] = {**per, "bytes": nbytes}
            path.unlink()
        return _rows(results, sizes)
    finally:
        emu.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _delete_file(emu, file_id: str) -> None:
    from . import _common

    _common.openai_client(emu, ACCOUNT).files.delete(file_id)


def _rows(results: dict, sizes: list[float]) -> list[Row]:
    big, small = sizes
    rb, rs = results[big], results[small]
    mb = rb["bytes"] / _MB
    prov = mb / best(r["seconds"] for r in rb["provider"])  # the least disturbed run of each
    bare = mb / best(r["seconds"] for r in rb["bare"])
    peak_p = max(r["peak_rss_mb"] for r in rb["provider"])
    peak_b = max(r["peak_rss_mb"] for r in rb["bare"])
    peak_p_small = max(r["peak_rss_mb"] for r in rs["provider"])
    imports_p = max(r["rss_before_mb"] for r in rb["provider"])
    details = {
        "bytes": rb["bytes"], "provider_mb_s": spread([r["mb_s"] for r in rb["provider"]]),
        "bare_mb_s": spread([r["mb_s"] for r in rb["bare"]]),
        "small_bytes": rs["bytes"],
        "small_provider_mb_s": max(r["mb_s"] for r in rs["provider"]),
        "small_bare_mb_s": max(r["mb_s"] for r in rs["bare"]),
        "provider_rss_after_imports_mb": imports_p,
        "bare_rss_after_imports_mb": max(r["rss_before_mb"] for r in rb["bare"]),
        "bare_peak_rss_small_mb": max(r["peak_rss_mb"] for r in rs["bare"]),
        # the client's own CPU per 100 MB: what the provider layer costs, independent of the server's speed
        "provider_cpu_s_per_100mb": min(r["cpu_seconds"] for r in rb["provider"]) / mb * 100,
        "bare_cpu_s_per_100mb": min(r["cpu_seconds"] for r in rb["bare"]) / mb * 100,
        "measured_path": "TrainingFileController.create() in its own process (upload + wait until processed)",
    }
    return [
        Row("upload", f"throughput, {mb:.0f} MB file", prov, "MB/s", bare, "bare httpx2 multipart POST",
            ratio(prov, bare), ">= 0.8x", ratio(prov, bare) >= 0.8, details),
        Row("upload", f"peak RSS of the provider, {mb:.0f} MB file", peak_p, "MB", peak_b,
            "bare httpx2 process", ratio(peak_p, peak_b), "< 150 MB", peak_p < 150,
            {"after_imports_mb": imports_p, "added_by_upload_mb": peak_p - imports_p}),
        Row("upload", f"peak RSS growth, {mb:.0f} MB vs {rs['bytes'] / _MB:.0f} MB file", peak_p, "MB", peak_p_small,
            f"same code, {rs['bytes'] / _MB:.0f} MB file", ratio(peak_p, peak_p_small),
            "size independent (<= 1.1x)", ratio(peak_p, peak_p_small) <= 1.1, {}),
    ]


if __name__ == "__main__":
    if "--child" in sys.argv:
        raise SystemExit(child_main(_child))
    raise SystemExit("run `python -m bench --only upload`")
