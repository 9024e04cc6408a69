"""Benchmark: the streaming validator against a bare msgspec decode loop and the load-all approach.

    python -m bench.validator --sizes 50,200,500 [--tmp DIR] [--repeat 3] [--model M]

For each size it generates a chat JSONL file of that many MB (deterministic, realistic shapes:
a fixed system message, 1-4 user/assistant turns, some ``weight: 0``, ~3% non-ASCII text) into
a temporary directory under ``--tmp``, runs every candidate in its own subprocess (so each peak
RSS is its own, read with ``os.wait4``), and deletes the files afterwards. Time is measured inside
the child around the work only (no interpreter start-up); peak RSS is the child's whole process.
The runs are interleaved by round (bare, validator, load-all, bare, ...) and the file is read
before every run, so that all candidates see the same load and a warm page cache.

Candidates
    bare      the baseline: ``for line in f: Decoder(Example).decode(line)`` with a typed
              msgspec Struct (role: str, content: str) — decoding only, no checks
    validator ``pulumi_aoai_finetune.data.validate_file`` (all checks and statistics), with its
              C token keys (``data/_speedups.c``) when they were built at install
    validator-py  the same without the C token keys: the pure-Python path (an install with no
              C compiler); the same report
    load-all  the common approach (OpenAI cookbook style): ``[json.loads(l) for l in f]`` into a
              list, then check every example and estimate tokens from the list

Output: one table, MB/s, ratio to ``bare`` measured in the same run, peak RSS, and per size the
ratio validator/load-all. See bench/README-validator.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

CANDIDATES = ("bare", "validator", "validator-py", "load-all")
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
_MB = 1_000_000

# ----------------------------------------------------------------------------------------------
# data generation

_WORDS = (
    "the of and to in is you that it was for on are as with they at be this have from or one "
    "had by word but not what all were we when your can said there use an each which she do how "
    "their if will up other about out many then them these so some her would make like him into "
    "time has look two more write go see number no way could people my than first water been "
    "call who oil its now find long down day did get come made may part order invoice refund "
    "account password shipping delivery subscription contoso azure deployment model training"
).split()
_NON_ASCII = ["こんにちは、ご注文の状況を確認します。", "Größe und Gewicht prüfen.", "café déjà vu", "数据集"]
_SYSTEM = "You are Contoso's support assistant. Answer briefly, politely and only about orders."


def _sentence_pool(rng: random.Random, n: int = 4000) -> list[str]:
    pool = []
    for _ in range(n):
        words = rng.choices(_WORDS, k=rng.randint(6, 24))
        s = " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", "!"])
        if rng.random() < 0.03:
            s += " " + rng.choice(_NON_ASCII)
        pool.append(s)
    return pool


def generate(path: Path, size_mb: float, seed: int = 7) -> int:
    """Write a valid chat JSONL file of about ``size_mb`` MB; return the number of examples."""
    rng = random.Random(seed)
    pool = _sentence_pool(rng)
    target = int(size_mb * _MB)
    enc = msgspec.json.Encoder()
    written = 0
    n = 0
    with open(path, "wb", buffering=1 << 20) as f:
        while written < target:
            msgs: list[dict[str, object]] = [{"role": "system", "content": _SYSTEM}]
            turns = rng.randint(1, 4)
            for t in range(turns):
                msgs.append({"role": "user", "content": " ".join(rng.choices(pool, k=rng.randint(1, 6)))})
                reply: dict[str, object] = {
                    "role": "assistant",
                    "content": " ".join(rng.choices(pool, k=rng.randint(1, 10))),
                }
                if t < turns - 1 and rng.random() < 0.2:
                    reply["weight"] = 0
                msgs.append(reply)
            line = enc.encode({"messages": msgs}) + b"\n"
            f.write(line)
            written += len(line)
            n += 1
    return n


# ----------------------------------------------------------------------------------------------
# candidates (run in a child process)


class _Message(msgspec.Struct):
    role: str
    content: str


class _Example(msgspec.Struct):
    messages: list[_Message]


def _run_bare(path: str, model: str) -> dict[str, object]:
    decode = msgspec.json.Decoder(_Example).decode
    n = 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=1 << 20) as f:
        for line in f:
            decode(line)
            n += 1
    return {"seconds": time.perf_counter() - t0, "examples": n}


def _run_validator(path: str, model: str, speedups: bool = True) -> dict[str, object]:
    from pulumi_aoai_finetune.data import fastpath, validate_file

    if not speedups:
        fastpath._c_token_keys = None
    t0 = time.perf_counter()
    report = validate_file(path, model=model)
    seconds = time.perf_counter() - t0
    st = report.stats["training"]
    return {
        "seconds": seconds,
        "examples": st.examples,
        "ok": report.ok,
        "errors": report.error_count,
        "warnings": report.warning_count,
        "tokens_total": st.tokens.total,
        "speedups": fastpath._c_token_keys is not None,
        "report_sha256": hashlib.sha256(
            json.dumps(report.to_dict(), sort_keys=True, default=str).encode()
        ).hexdigest(),
    }


def _run_load_all(path: str, model: str) -> dict[str, object]:
    """The usual notebook approach: read everything into a list, then check it."""
    t0 = time.perf_counter()
    with open(path, encoding="utf-8-sig") as f:
        dataset = [json.loads(line) for line in f]
    errors: dict[str, int] = {}
    lengths = []
    for ex in dataset:
        if not isinstance(ex, dict) or not isinstance(ex.get("messages"), list):
            errors["data_type"] = errors.get("data_type", 0) + 1
            continue
        n_assistant = 0
        chars = 0
        for m in ex["messages"]:
            if "role" not in m or "content" not in m:
                errors["message_missing_key"] = errors.get("message_missing_key", 0) + 1
            if any(k not in ("role", "content", "name", "weight") for k in m):
                errors["message_unrecognized_key"] = errors.get("message_unrecognized_key", 0) + 1
            if m.get("role") not in ("system", "user", "assistant"):
                errors["unrecognized_role"] = errors.get("unrecognized_role", 0) + 1
            content = m.get("content")
            if not isinstance(content, str):
                errors["missing_content"] = errors.get("missing_content", 0) + 1
            else:
                chars += len(content)
            if m.get("role") == "assistant":
                n_assistant += 1
        if not n_assistant:
            errors["example_missing_assistant_message"] = errors.get("x", 0) + 1
        lengths.append(chars // 4 + 4 * len(ex["messages"]) + 3)
    seen = set()
    dups = 0
    for ex in dataset:
        key = json.dumps(ex, sort_keys=True)
        if key in seen:
            dups += 1
        seen.add(key)
    lengths.sort()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "examples": len(dataset), "errors": sum(errors.values())}


_RUNNERS = {
    "bare": _run_bare,
    "validator": _run_validator,
    "validator-py": lambda path, model: _run_validator(path, model, speedups=False),
    "load-all": _run_load_all,
}


def _child(candidate: str, path: str, model: str) -> None:
    result = _RUNNERS[candidate](path, model)
    sys.stdout.write(json.dumps(result) + "\n")


# ----------------------------------------------------------------------------------------------
# parent


def _spawn(candidate: str, path: Path, model: str) -> dict[str, object]:
    """Run one candidate in a fresh interpreter; return its result plus its own peak RSS."""
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[1]
    extra = [str(root / "provider"), str(root)]
    env["PYTHONPATH"] = os.pathsep.join(extra + [p for p in [env.get("PYTHONPATH")] if p])
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.validator", "--child", candidate, str(path), "--model", model],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(root),
        env=env,
    )
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{candidate} failed ({proc.returncode}): {err.decode()[-2000:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux: KiB
    return result


def _warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def run(sizes: list[float], tmp: str | None, repeat: int, model: str, out=sys.stdout) -> list[dict]:
    rows: list[dict] = []
    workdir = Path(tempfile.mkdtemp(prefix="aoai-ft-bench-", dir=tmp))
    try:
        for size in sizes:
            path = workdir / f"chat-{size:g}MB.jsonl"
            n = generate(path, size)
            actual = path.stat().st_size
            per: dict[str, dict] = {}
            # Rounds interleave the candidates (bare, validator, load-all, bare, ...), so that a
            # change in the machine's load affects them alike; the page cache is warmed before
            # every run, so that each reads the same file from memory.
            for round_ in range(repeat):
                for cand in CANDIDATES:
                    if cand == "load-all" and size > 50 and round_ > 0:
                        continue
                    _warm(path)
                    r = _spawn(cand, path, model)
                    best = per.get(cand)
                    peak = max(r["peak_rss_mb"], best["peak_rss_mb"]) if best else r["peak_rss_mb"]
                    if best is None or r["seconds"] < best["seconds"]:
                        best = r
                    per[cand] = {**best, "peak_rss_mb": peak}
            for best in per.values():
                best["mb_s"] = actual / _MB / best["seconds"]
            for cand in CANDIDATES:
                r = per[cand]
                rows.append(
                    {
                        "size_mb": actual / _MB,
                        "examples": n,
                        "candidate": cand,
                        "seconds": r["seconds"],
                        "mb_s": r["mb_s"],
                        "ratio_to_bare": r["mb_s"] / per["bare"]["mb_s"],
                        "peak_rss_mb": r["peak_rss_mb"],
                        "validator_vs_load_all": per["validator"]["mb_s"] / per["load-all"]["mb_s"],
                        "validator_ok": per["validator"].get("ok"),
                        "speedups": r.get("speedups"),  # the C token keys (validator candidates)
                        "same_report": per["validator"]["report_sha256"]
                        == per["validator-py"]["report_sha256"],
                    }
                )
            path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _print_table(rows, out)
    return rows


def _print_table(rows: list[dict], out) -> None:
    head = f"{'size MB':>8} {'examples':>9} {'candidate':<12} {'s':>7} {'MB/s':>8} {'x bare':>7} {'peak RSS MB':>12}"
    print(head, file=out)
    print("-" * len(head), file=out)
    for r in rows:
        print(
            f"{r['size_mb']:>8.1f} {r['examples']:>9,} {r['candidate']:<12} {r['seconds']:>7.2f} "
            f"{r['mb_s']:>8.0f} {r['ratio_to_bare']:>6.2f}x {r['peak_rss_mb']:>12.1f}",
            file=out,
        )
    print(file=out)
    seen = set()
    for r in rows:
        if r["size_mb"] in seen:
            continue
        seen.add(r["size_mb"])
        v = next(x for x in rows if x["size_mb"] == r["size_mb"] and x["candidate"] == "validator")
        vp = next(x for x in rows if x["size_mb"] == r["size_mb"] and x["candidate"] == "validator-py")
        c = "with its C token keys" if v["speedups"] else "C token keys NOT built: pure Python"
        print(
            f"{r['size_mb']:.0f} MB: validator ({c}) {v['ratio_to_bare']:.2f}x the bare decode loop "
            f"(target >= 0.5x; pure Python {vp['ratio_to_bare']:.2f}x), "
            f"{r['validator_vs_load_all']:.2f}x the load-all approach, peak "
            f"{v['peak_rss_mb']:.0f} MB (target < 150 MB), data valid: {r['validator_ok']}, "
            f"same report without C: {r['same_report']}",
            file=out,
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.validator", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="50,200,500", help="file sizes in MB, comma-separated")
    ap.add_argument("--tmp", default=None, help="directory for the generated files (deleted after)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per candidate; the best counts")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--json", action="store_true", help="also print the rows as JSON")
    ap.add_argument("--child", nargs=2, metavar=("CANDIDATE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], args.model)
        return 0
    sizes = [float(s) for s in args.sizes.split(",") if s.strip()]
    rows = run(sizes, args.tmp, max(1, args.repeat), args.model)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
