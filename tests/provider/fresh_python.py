"""Run code in a new interpreter (a clean ``sys.modules``), for tests of what gets imported when."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pulumi_aoai_finetune


def run_fresh(code: str) -> str:
    """Run ``code`` with the provider importable; its standard output, stripped."""
    provider = str(Path(pulumi_aoai_finetune.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": provider + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
