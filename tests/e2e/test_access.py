"""Rule A1 under the real engine: right after a role assignment is made, the data plane answers 403 for
minutes; with aoai-finetune:accessPropagationTimeout the upload waits it out, without it `up` fails at
once saying what to check."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_an_upload_waits_for_a_role_assignment_to_propagate(stack, base_spec, emu, requests_log):
    spec = dict(base_spec, jobs={}, deployments={})
    stack.set_spec(spec)
    # 3,000 emulator seconds = 10 real seconds at this emulator's time scale (300)
    emu.post("/_emulator/access", json={"account": "aoai-ncus", "deny_seconds": 3000}).raise_for_status()
    failed = stack.up(check=False)
    assert failed.returncode != 0
    text = failed.stdout + failed.stderr
    assert "Cognitive Services OpenAI Contributor" in text and "accessPropagationTimeout" in text
    assert "Traceback" not in text

    emu.post("/_emulator/access", json={"account": "aoai-ncus", "deny_seconds": 3000}).raise_for_status()
    stack.config_set("aoai-finetune:accessPropagationTimeout", "120")
    mark = requests_log.mark()
    result = stack.up()
    assert "a new role assignment takes minutes to propagate" in result.stdout + result.stderr
    statuses = [e["status"] for e in requests_log.since(mark) if e["path"].endswith("/openai/files")]
    assert 403 in statuses and (200 in statuses or 201 in statuses)
    assert stack.outputs()["file_train"].startswith("file-")
