"""Benchmark 6: previews that stay fast with big data.

1. No-op ``pulumi preview`` and ``pulumi up --skip-preview`` of a stack whose ``TrainingFile`` is a
   ``--data-mb`` MB (default 200) local chat JSONL file, against the same stack with a 30-example
   file, on the same emulator, after one ``pulumi up`` of each (not timed); interleaved. Target:
   within 1.1x (an unchanged file is not read again: the check cache).
2. The check of a changed file (cache off), in a child process: one read (``local_data.check``:
   hash and validation together) against the two reads it replaced (``scan_file`` for the hash,
   then ``validate_file``), same file, warm page cache, interleaved.
3. The preview check of an import whose URL serves 1 GB (``Content-Length``) against one of a
   30-example file, both from a loopback HTTP server, in a child process: the big one is refused
   from its headers, so it costs what the small one costs (target within 1.1x; before, the whole
   body was downloaded and validated).

Each stack keeps its own check cache (``AOAI_FT_CACHE_DIR`` in its work directory, as every bench
stack), removed with it. See bench/README.md.
"""

from __future__ import annotations

import http.server
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ._common import (
    BASE_MODEL,
    RequestLog,
    Row,
    best,
    child_env,
    child_main,
    pulumi_bin_dir,
    ratio,
    run_child,
    spread,
    Stack,
    start_emulator,
    write_chat_jsonl,
)

TIME_SCALE = 1000.0  # file processing (10 s emulated) takes 10 ms
ACCOUNT = ("bigdata-ncus", "northcentralus")
IMPORT_BYTES = 1024 ** 3


# -- children -----------------------------------------------------------------------------------
def _child(p: dict[str, Any]) -> dict[str, Any]:
    os.environ["AOAI_FT_CACHE_DIR"] = "off"
    if p["candidate"] in ("one-read", "two-reads"):
        from pulumi_aoai_finetune import local_data
        from pulumi_aoai_finetune.data import validate_file

        t0 = time.perf_counter()
        if p["candidate"] == "one-read":
            result = local_data.check(p["path"], {"model": BASE_MODEL})
            ok = not result.failures
        else:
            local_data.scan_file(p["path"])
            ok = validate_file(p["path"], model=BASE_MODEL).ok
        return {"seconds": time.perf_counter() - t0, "ok": ok}
    import pulumi_aoai_finetune.cost  # noqa: F401  (loaded by configure() in the provider process)
    import pulumi_aoai_finetune.data  # noqa: F401
    from pulumi_aoai_finetune.settings import ProviderSettings
    from pulumi_aoai_finetune.training_file import TrainingFileController

    controller = TrainingFileController(ProviderSettings(allow_insecure_loopback=True))
    controller.live_reads = True
    inputs = {"account": {"resource_id": "/subscriptions/s/resourceGroups/r/providers/"
                                         "Microsoft.CognitiveServices/accounts/bench-a"}, "content_url": p["url"]}
    t0 = time.perf_counter()
    _, failures = controller.check({}, inputs)
    return {"seconds": time.perf_counter() - t0, "failures": [f for f, _ in failures]}


class _Body(http.server.BaseHTTPRequestHandler):
    """/big: 1 GB of valid lines with its Content-Length; anything else: the file in ``directory``."""

    directory = ""
    sent: dict[str, int] = {}

    def do_GET(self) -> None:
        name = self.path.split("?")[0].strip("/")
        if name != "big":
            data = (Path(self.directory) / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        line = b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
        chunk = line * ((1 << 20) // len(line))
        self.send_response(200)
        self.send_header("Content-Length", str(IMPORT_BYTES - IMPORT_BYTES % len(chunk)))
        self.end_headers()
        try:
            for _ in range(IMPORT_BYTES // len(chunk)):
                self.wfile.write(chunk)
                self.sent["big"] = self.sent.get("big", 0) + len(chunk)
        except OSError:
            pass  # the client hung up

    def log_message(self, *args: Any) -> None:
        pass


# -- parent -----------------------------------------------------------------------------------
def _stack(workdir: Path, name: str, bin_dir: str, emu, data: float, tiny: bool) -> tuple[Stack, Path]:
    stack = Stack(workdir / name, bin_dir, emu.base_url, name=name, poll_interval=0.05)
    path = stack.project / "train.jsonl"  # data files must lie inside the project
    if tiny:
        write_chat_jsonl(path, examples=int(data))
    else:
        write_chat_jsonl(path, size_mb=data)
    then = time.time() - 10  # older than the check cache's "just written" margin
    os.utime(path, (then, then))
    stack.spec = {"subscription": emu.config.subscription_id, "resource_group": emu.config.resource_group,
                  "files": {"train": {"account": ACCOUNT[0], "path": str(path), "model": BASE_MODEL}}}
    return stack, path


def _noop_rows(workdir: Path, data_mb: float, repeat: int, log) -> list[Row]:
    emu = start_emulator(time_scale=TIME_SCALE, accounts=(ACCOUNT,), state_dir=workdir / "emulator")
    try:
        bin_dir = pulumi_bin_dir()
        big, big_path = _stack(workdir, "big", bin_dir, emu, data_mb, tiny=False)
        small, small_path = _stack(workdir, "small", bin_dir, emu, 30, tiny=True)
        size, tiny_size = big_path.stat().st_size, small_path.stat().st_size
        requests = RequestLog(emu)
        first = {s.name: s.up() for s in (small, big)}
        log(f"  bigdata: first up {first['small']:.1f} s (tiny file), {first['big']:.1f} s ({size / 1e6:.0f} MB)")
        times: dict[str, dict[str, list[float]]] = {s.name: {"preview": [], "up": []} for s in (big, small)}
        calls = []
        for i in range(repeat):
            for stack in ((small, big) if i % 2 == 0 else (big, small)):
                mark = requests.mark()
                times[stack.name]["preview"].append(stack.preview())
                times[stack.name]["up"].append(stack.up())
                calls.append(requests.summary(requests.since(mark)))
            log(f"  bigdata: no-op preview {times['small']['preview'][-1]:.1f} s tiny / "
                f"{times['big']['preview'][-1]:.1f} s big, no-op up {times['small']['up'][-1]:.1f} / "
                f"{times['big']['up'][-1]:.1f} s")
        worst = max(calls, key=lambda s: s["calls"])
        rows = []
        for key, what in (("preview", "no-op preview"), ("up", "no-op up")):
            b, s = best(times["big"][key]), best(times["small"][key])
            rows.append(Row("bigdata", f"{what}, {size / 1e6:.0f} MB training file", b, "s", s,
                            f"same stack, {tiny_size / 1e3:.0f} KB file", ratio(b, s), "<= 1.1x",
                            (ratio(b, s) or 0) <= 1.1,
                            {"data_bytes": size, "tiny_bytes": tiny_size, "big": spread(times["big"][key]),
                             "small": spread(times["small"][key]), "first_up_seconds": first,
                             "api_calls_worst": worst["calls"], "writes_worst": worst["writes"]}))
        return rows
    finally:
        emu.stop()


def _read_rows(workdir: Path, data_mb: float, repeat: int, log) -> list[Row]:
    path = workdir / "changed.jsonl"
    write_chat_jsonl(path, size_mb=data_mb)
    env = child_env()
    times: dict[str, list[float]] = {"one-read": [], "two-reads": []}
    for i in range(repeat):
        for cand in (("two-reads", "one-read") if i % 2 == 0 else ("one-read", "two-reads")):
            path.read_bytes()  # a warm page cache for both
            r = run_child("bench.bigdata", {"candidate": cand, "path": str(path)}, env)
            assert r["ok"], r
            times[cand].append(r["seconds"])
        log(f"  bigdata: changed file checked in {times['one-read'][-1]:.2f} s (one read) vs "
            f"{times['two-reads'][-1]:.2f} s (hash, then validation)")
    one, two = best(times["one-read"]), best(times["two-reads"])
    return [Row("bigdata", f"check of a changed {path.stat().st_size / 1e6:.0f} MB file (cache off)", one, "s", two,
                "hash, then validation (two reads)", ratio(one, two), "(no target; warm page cache)", None,
                {"one_read": spread(times["one-read"]), "two_reads": spread(times["two-reads"])})]


def _import_rows(workdir: Path, repeat: int, log) -> list[Row]:
    small = workdir / "small.jsonl"
    write_chat_jsonl(small, examples=30)
    _Body.directory, _Body.sent = str(workdir), {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Body)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    env = child_env()
    times: dict[str, list[float]] = {"big": [], "small": []}
    try:
        for i in range(repeat):
            for name in (("small", "big") if i % 2 == 0 else ("big", "small")):
                url = f"{base}/big?sig=x" if name == "big" else f"{base}/small.jsonl?sig=x"
                r = run_child("bench.bigdata", {"candidate": "import", "url": url}, env)
                assert r["failures"] == (["content_url"] if name == "big" else []), r
                times[name].append(r["seconds"])
            log(f"  bigdata: import check {times['big'][-1]:.2f} s (1 GB, refused) vs {times['small'][-1]:.2f} s "
                "(30 examples)")
    finally:
        server.shutdown()
    b, s = best(times["big"]), best(times["small"])
    return [Row("bigdata", "preview check of a 1 GB import (over the limit)", b, "s", s,
                "a 30-example import, same server", ratio(b, s), "<= 1.1x (refused from its headers)",
                (ratio(b, s) or 0) <= 1.1,
                {"big": spread(times["big"]), "small": spread(times["small"]),
                 "bytes_the_server_sent_at_most": _Body.sent.get("big", 0)})]


def run(data_mb: float, repeat: int, tmp: str | None = None, log=print) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="aoai-bench-bigdata-", dir=tmp))
    try:
        return (_noop_rows(workdir, data_mb, repeat, log) + _read_rows(workdir, data_mb, repeat, log)
                + _import_rows(workdir, repeat, log))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if "--child" in sys.argv:
        raise SystemExit(child_main(_child))
    raise SystemExit("run `python -m bench --only bigdata`")
