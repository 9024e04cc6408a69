"""What the benchmarks share: result rows, child processes, the emulator, a small Pulumi driver.

Nothing here measures anything by itself; see bench/README.md for the method of each benchmark.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

REPO = Path(__file__).resolve().parents[1]
PROGRAM = Path(__file__).resolve().parent / "program"
PULUMI_VERSION = "v3.274.1"
API_KEY = "bench-emulator-key"
ACCESS_TOKEN = "bench-arm-token"
PASSPHRASE = "bench"
API_VERSION = "2024-10-21"
BASE_MODEL = "gpt-4o-mini-2024-07-18"
# Regions whose accounts take fine-tuned deployments in the emulator (its catalog.py): the regions
# that offer fine-tuning for some model. Only four exist, so a 5th and 6th account reuse regions:
# the provider serializes per *account*, so distinct accounts are what parallelism is about.
FT_REGIONS = ("northcentralus", "swedencentral", "eastus2", "switzerlandwest")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_MB = 1_000_000


# -- rows of the table -----------------------------------------------------------------------
@dataclass
class Row:
    bench: str            # upload | regions | noop | wait | validator | bigdata
    name: str             # what is measured, e.g. "throughput 200 MB"
    measured: float | None
    unit: str
    baseline: float | None
    baseline_label: str   # what the baseline is, in a few words
    ratio: float | None   # measured / baseline (None when a ratio means nothing, e.g. 0 calls)
    target: str           # as the issue states it
    met: bool | None      # None: informational
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def best(values: Iterable[float]) -> float:
    """The least disturbed of repeated timings (the minimum): other jobs only ever add time."""
    return min(values)


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "os": platform.platform(),
            "python": platform.python_version(), "load_avg": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


# -- child processes -------------------------------------------------------------------------
def default_signals() -> None:
    """Let every command this process starts begin with default signal handling.

    A process started in the background by a non-interactive shell (``cmd &`` in a script, many
    CI runners and agents) starts with SIGINT and SIGQUIT ignored, and ``exec`` keeps an ignored
    signal ignored, so every child would inherit it. The Pulumi engine stops its plugins (the
    language host, the dynamic provider) with SIGINT and kills one only ~5 s later: each
    ``pulumi`` command then took ~5 s longer, which swamped the no-op and regions figures. A
    Python handler, unlike "ignored", is reset to the default by ``exec``. Called from the main
    thread (``python -m bench`` and :meth:`Stack.run`); elsewhere it does nothing."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # also makes Ctrl-C stop the bench
    if hasattr(signal, "SIGQUIT") and signal.getsignal(signal.SIGQUIT) is signal.SIG_IGN:
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "AOAI_FT_", "AZURE_"))}
    paths = [str(REPO / "provider"), str(REPO / "emulator"), str(REPO)]
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])
    env.update(extra or {})
    return env


def provider_env(emulator_url: str, *, poll_interval: float, max_retries: int = 4) -> dict[str, str]:
    """The provider's settings, from the environment (settings.py), pointing at the emulator."""
    return {
        "AOAI_FT_ARM_ENDPOINT": emulator_url,
        "AOAI_FT_CREDENTIAL": "token",
        "AOAI_FT_ACCESS_TOKEN": ACCESS_TOKEN,
        "AZURE_OPENAI_API_KEY": API_KEY,
        "AOAI_FT_ALLOW_INSECURE_LOOPBACK": "true",
        "AOAI_FT_POLL_INTERVAL": str(poll_interval),
        "AOAI_FT_MAX_RETRIES": str(max_retries),
    }


def run_child(module: str, payload: dict[str, Any], env: dict[str, str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``python -m <module> --child`` with ``payload`` as JSON on stdin; return the JSON it
    prints last. ``peak_rss_mb`` is the child's own peak RSS (``VmHWM`` of its address space, read by
    the child at exit); ``maxrss_wait4_mb`` is what ``os.wait4`` reports for it, kept for reference:
    Linux carries the *parent's* peak RSS into a child's ``ru_maxrss`` across fork/vfork + exec, so
    that figure is never below this (emulator-hosting) parent's."""
    import threading

    proc = subprocess.Popen([sys.executable, "-m", module, "--child"], cwd=str(REPO), env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    proc.stdin.write(json.dumps(payload).encode())  # type: ignore[union-attr]
    proc.stdin.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise TimeoutError(f"{module} child still running after {timeout:.0f} s")
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    out, err = chunks.get("out", b""), chunks.get("err", b"")
    if proc.returncode != 0:
        raise RuntimeError(f"{module} child failed ({proc.returncode}): {err.decode(errors='replace')[-3000:]}")
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{module} child printed no result: {err.decode(errors='replace')[-3000:]}")
    result = json.loads(lines[-1])
    result["maxrss_wait4_mb"] = usage.ru_maxrss / 1024  # Linux: KiB
    return result


def child_main(fn) -> int:
    """Entry of a ``--child`` process: payload on stdin, result (with its own peak RSS) on stdout."""
    payload = json.loads(sys.stdin.read())
    result = fn(payload)
    result["peak_rss_mb"] = rss_now_mb()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


def rss_now_mb() -> float:
    """Peak RSS so far of this process's own address space (``VmHWM``, not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- data -----------------------------------------------------------------------------------------
_WORDS = ("the order refund invoice account password shipping delivery subscription contoso azure "
          "deployment model training question answer please thanks help status week day time price "
          "number change cancel address email phone support ticket product size color return").split()


def write_chat_jsonl(path: Path, *, size_mb: float | None = None, examples: int | None = None, seed: int = 7) -> int:
    """A valid chat JSONL file of about ``size_mb`` MB or of ``examples`` lines (varied lines, ~1 KB
    each, generated from a pool so that 200 MB take a few seconds). Returns the number of examples."""
    rng = random.Random(seed)
    pool = []
    for _ in range(2000):
        turns = []
        for t in range(rng.randint(1, 3)):
            turns.append({"role": "user", "content": " ".join(rng.choices(_WORDS, k=rng.randint(8, 60))) + "?"})
            turns.append({"role": "assistant", "content": " ".join(rng.choices(_WORDS, k=rng.randint(8, 90))) + "."})
        pool.append((json.dumps({"messages": [{"role": "system", "content": "You are Contoso's support assistant."}]
                                 + turns}, separators=(",", ":")) + "\n").encode())
    target = int(size_mb * _MB) if size_mb is not None else None
    n = written = 0
    with open(path, "wb", buffering=1 << 20) as f:
        while (target is not None and written < target) or (examples is not None and n < examples):
            line = pool[n % len(pool)] if n < len(pool) else rng.choice(pool)
            f.write(line)
            written += len(line)
            n += 1
    return n


# -- the emulator -------------------------------------------------------------------------------
def start_emulator(*, time_scale: float, accounts: tuple[tuple[str, str], ...], state_dir: Path,
                   extra: dict[str, Any] | None = None):
    """An emulator in a thread of this process (the measured code always runs in other processes)."""
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    config = EmulatorConfig(time_scale=time_scale, accounts=accounts, state_dir=state_dir, api_key=None,
                            extra=dict(extra or {}))
    return EmulatorServer(config).start()


def account_id(emu, name: str) -> str:
    return (f"/subscriptions/{emu.config.subscription_id}/resourceGroups/{emu.config.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{name}")


def endpoint(emu, name: str) -> str:
    return f"{emu.base_url}/accounts/{name}/"


def region_accounts(n: int, prefix: str = "aoai") -> tuple[tuple[str, str], ...]:
    """``n`` accounts spread over the regions that take fine-tuned deployments."""
    out = []
    for i in range(n):
        region = FT_REGIONS[i % len(FT_REGIONS)]
        out.append((f"{prefix}-{i + 1}-{region}", region))
    return tuple(out)


class RequestLog:
    """The emulator's request log (``GET /_emulator/requests``), read in-process."""

    def __init__(self, emu) -> None:
        self.emu = emu

    def mark(self) -> int:
        return len(self.emu.backend.faults.requests())

    def since(self, mark: int) -> list[dict[str, Any]]:
        return self.emu.backend.faults.requests()[mark:]

    @staticmethod
    def summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
        writes = [e for e in entries if e["method"] in WRITE_METHODS]
        return {"calls": len(entries), "reads": len(entries) - len(writes), "writes": len(writes),
                "write_calls": [f"{e['method']} {e['path']}" for e in writes][:20],
                "read_calls": [f"{e['method']} {e['path']}" for e in entries if e["method"] not in WRITE_METHODS][:40],
                "status_409": sum(1 for e in entries if e["status"] == 409)}


def openai_client(emu, account: str):
    from openai import AzureOpenAI

    return AzureOpenAI(api_key=API_KEY, azure_endpoint=endpoint(emu, account), api_version=API_VERSION,
                       max_retries=2, timeout=600)


def train_model(emu, account: str, workdir: Path, *, seed: int = 1) -> dict[str, Any]:
    """Train a model on the emulator beforehand (upload, job, clock forward): not part of any timing."""
    client = openai_client(emu, account)
    path = workdir / f"train-{seed}.jsonl"
    write_chat_jsonl(path, examples=30, seed=seed)
    with open(path, "rb") as fh:
        f = client.files.create(file=(path.name, fh), purpose="fine-tune")
    emu.backend.advance_clock(60)
    job = client.fine_tuning.jobs.create(model=BASE_MODEL, training_file=f.id, seed=seed, suffix="bench",
                                         hyperparameters={"n_epochs": 3})
    emu.backend.advance_clock(4 * 3600)
    job = client.fine_tuning.jobs.retrieve(job.id)
    if job.status != "succeeded":
        raise RuntimeError(f"training on the emulator ended {job.status}: {job.error}")
    checkpoints = sorted(client.fine_tuning.jobs.checkpoints.list(job.id, limit=100),
                         key=lambda c: c.step_number)
    return {"job_id": job.id, "model": job.fine_tuned_model,
            "checkpoints": [c.fine_tuned_model_checkpoint for c in checkpoints]}


def arm_operations(emu, since: float, until: float | None = None) -> list[dict[str, Any]]:
    """The emulator's ARM deployment operations that started in [since, until] (emulator time)."""
    with emu.backend.lock:
        ops = [dict(op) for op in emu.backend.store["operations"].values()
               if op.get("plane") == "arm" and op["kind"].startswith("deployment.")
               and op["start_time"] >= since and (until is None or op["start_time"] <= until)]
    return sorted(ops, key=lambda op: op["start_time"])


def max_overlap(ops: list[dict[str, Any]]) -> int:
    """Most operations in progress at the same moment (emulator time)."""
    points = []
    for op in ops:
        points.append((op["start_time"], 1))
        points.append((op["end_time"] if op["end_time"] is not None else float("inf"), -1))
    current = peak = 0
    for _, step in sorted(points, key=lambda p: (p[0], p[1])):  # an end before a start at the same time
        current += step
        peak = max(peak, current)
    return peak


def max_overlap_per_account(ops: list[dict[str, Any]]) -> int:
    by_account: dict[str, list[dict[str, Any]]] = {}
    for op in ops:
        by_account.setdefault(op["account"], []).append(op)
    return max((max_overlap(v) for v in by_account.values()), default=0)


# -- the Pulumi CLI -----------------------------------------------------------------------------
def pulumi_bin_dir() -> str:
    found = shutil.which("pulumi")
    if found and shutil.which("pulumi-language-python"):
        return os.path.dirname(found)
    cached = Path.home() / ".cache" / "pulumi-aoai-finetune" / f"pulumi-{PULUMI_VERSION}" / "bin"
    if (cached / "pulumi").exists():
        return str(cached)
    out = subprocess.run(["bash", str(REPO / "scripts" / "pulumi-cli.sh")], check=True,
                         capture_output=True, text=True, timeout=3000)
    return out.stdout.strip().splitlines()[-1]


class PulumiError(RuntimeError):
    pass


class Stack:
    """One stack of bench/program on a local file backend; the program reads its spec from the
    environment (``BENCH_SPEC``), settings come from the environment too (no config calls)."""

    def __init__(self, workdir: Path, bin_dir: str, emulator_url: str, *, name: str = "bench",
                 poll_interval: float = 0.2, project: Path | None = None) -> None:
        self.workdir = workdir
        self.bin_dir = bin_dir
        self.name = name
        self.spec: dict[str, Any] = {}
        self.emulator_url = emulator_url
        self.poll_interval = poll_interval
        self.project = project or workdir / "project"
        if project is None:
            shutil.copytree(PROGRAM, self.project, ignore=shutil.ignore_patterns("__pycache__"))
            (self.project / "Pulumi.yaml").write_text(
                "name: aoai-bench\nruntime:\n  name: python\n  options:\n"
                f"    virtualenv: {REPO / '.venv'}\n", encoding="utf-8")
        self.state = workdir / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.home = workdir / "pulumi-home"
        self.home.mkdir(exist_ok=True)
        self.run("stack", "select", "--create", self.name)

    def env(self) -> dict[str, str]:
        env = child_env(provider_env(self.emulator_url, poll_interval=self.poll_interval))
        env.update({
            "PATH": f"{self.bin_dir}{os.pathsep}{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "BENCH_SPEC": json.dumps(self.spec),
            "AOAI_FT_CACHE_DIR": str(self.workdir / "check-cache"),  # the provider's check cache, per stack
        })
        return env

    def run(self, *args: str, timeout: float = 1800) -> tuple[subprocess.CompletedProcess, float]:
        cmd = ["pulumi", *args, "--non-interactive", "--stack", self.name] if args[0] != "stack" \
            else ["pulumi", *args, "--non-interactive"]
        default_signals()
        t0 = time.perf_counter()
        result = subprocess.run(cmd, cwd=self.project, env=self.env(), capture_output=True, text=True,
                                timeout=timeout)
        elapsed = time.perf_counter() - t0
        if result.returncode != 0:
            raise PulumiError(f"pulumi {' '.join(args)} exited {result.returncode}\n{result.stdout[-4000:]}\n"
                              f"{result.stderr[-2000:]}")
        return result, elapsed

    def up(self) -> float:
        return self.run("up", "--yes", "--skip-preview")[1]

    def preview(self, *extra: str) -> float:
        return self.run("preview", *extra)[1]

    def destroy(self) -> float:
        return self.run("destroy", "--yes", "--skip-preview")[1]
