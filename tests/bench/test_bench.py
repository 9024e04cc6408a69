"""Keeps `python -m bench` from rotting: a --tiny run of every benchmark, checked for shape, not speed.

It drives the real Pulumi CLI (regions, noop) like the e2e tests; timings are not asserted, only that
every benchmark produced its rows with numbers in them and that nothing failed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHES = ("upload", "regions", "noop", "wait", "validator", "bigdata")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "provider"), str(ROOT / "emulator"), str(ROOT)])
    return env


@pytest.mark.e2e
def test_bench_tiny_runs_every_benchmark(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bench", "--tiny", "--json", "--tmp", str(tmp_path)],
                            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    doc = json.loads(result.stdout)
    assert doc["errors"] == {}
    assert doc["params"]["tiny"] is True
    rows = doc["rows"]
    assert {r["bench"] for r in rows} == set(BENCHES)
    for bench in BENCHES:
        assert len([r for r in rows if r["bench"] == bench]) >= 2, bench
    for r in rows:
        for key in ("measured", "baseline"):
            assert isinstance(r[key], (int, float)) and math.isfinite(r[key]) and r[key] >= 0, (r["name"], key)
        assert r["ratio"] is None or (isinstance(r["ratio"], (int, float)) and math.isfinite(r["ratio"]))
        assert r["target"] and r["met"] in (True, False, None)
    # the facts that do not depend on the machine's speed
    noop = {r["name"]: r for r in rows if r["bench"] == "noop"}
    assert noop["no-op up: API calls"]["details"]["calls"]["writes"] == 0
    assert noop["no-op preview: API calls"]["details"]["calls"]["writes"] == 0
    assert noop["same-account ARM operations at once (first up)"]["measured"] == 1
    upload = [r for r in rows if r["bench"] == "upload"]
    assert all(r["measured"] > 0 and r["baseline"] > 0 for r in upload)
    # the table went to stderr, every benchmark in it
    for bench in BENCHES:
        assert f"{bench}: " in result.stderr
    assert list(tmp_path.iterdir()) == []  # temporary files are removed


def test_bench_rejects_an_unknown_benchmark() -> None:
    result = subprocess.run([sys.executable, "-m", "bench", "--only", "upload,nope"], cwd=ROOT, env=_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown benchmark(s) nope" in result.stderr


@pytest.mark.parametrize("reset", [True, False])
def test_commands_start_with_default_signal_handling_even_if_the_bench_did_not(reset: bool) -> None:
    """Started with SIGINT ignored (a background job of a script), the bench still starts its commands
    with SIGINT at its default: the Pulumi engine stops its plugins with it (else ~5 s per command)."""
    code = ("import signal, subprocess, sys\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "from bench._common import default_signals\n"
            + ("default_signals()\n" if reset else "")
            + "out = subprocess.run(['cat', '/proc/self/status'], capture_output=True, text=True).stdout\n"
            "print(next(line for line in out.splitlines() if line.startswith('SigIgn:')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                         check=True, timeout=60).stdout
    ignored = int(out.split()[-1], 16)
    assert bool(ignored & (1 << 1)) is not reset  # bit 1: signal 2, SIGINT
