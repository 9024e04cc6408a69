"""`aoai-ft emulator` as a process: ready line, the SDK-only walkthrough, clean stop on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AOAI_FT = Path(sys.executable).with_name("aoai-ft")


def test_emulator_command_and_sdk_walkthrough(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"messages": [
        {"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}) + "\n" for i in range(12)))
    proc = subprocess.Popen([str(AOAI_FT), "emulator", "--port", "0", "--time-scale", "500",
                             "--state-dir", str(tmp_path / "state")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready = proc.stdout.readline()
        m = re.match(r"emulator ready: (http://127\.0\.0\.1:\d+) \(subscription .*accounts aoai-ncus=northcentralus", ready)
        assert m, ready
        out = subprocess.run([sys.executable, str(REPO / "examples" / "sdk-walkthrough" / "walkthrough.py"),
                              m.group(1), str(data)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        text = out.stdout
        assert re.search(r"^job ftjob-\w+ succeeded gpt-4o-mini-2024-07-18\.ft-\w+-walkthrough$", text, re.M)
        assert text.count("checkpoint ") == 2
        assert "results.csv step,train_loss,train_mean_token_accuracy" in text
        assert "Succeeded source /subscriptions/" in text and "deleted deployment, model and files" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
    assert rc == 0  # a clean stop, state saved
    assert (tmp_path / "state" / "state.json").exists()
