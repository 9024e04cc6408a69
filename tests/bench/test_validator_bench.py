"""Keeps `python -m bench.validator` from rotting: a ~1 MB run of every candidate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_validator_runs_on_a_small_file(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "provider"), str(ROOT)])
    result = subprocess.run(
        [sys.executable, "-m", "bench.validator", "--sizes", "1", "--tmp", str(tmp_path),
         "--repeat", "1", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for candidate in ("bare", "validator", "validator-py", "load-all"):
        assert f" {candidate} " in out
    assert "validator" in out and "x the bare decode loop" in out
    assert "data valid: True" in out
    assert "same report without C: True" in out
    assert list(tmp_path.iterdir()) == []  # generated files are deleted
    rows = {r["candidate"]: r for r in json.loads(out[out.index("\n[") + 1:])}
    assert rows["validator-py"]["speedups"] is False  # the pure-Python candidate really runs without C
