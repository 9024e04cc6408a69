"""Drift under the real engine: objects deleted outside Pulumi, and Azure's 15-day deletion of idle
fine-tuned deployments (the emulator's clock moved forward). Refresh reports what is gone; the next
`pulumi up` repairs it without a second training run. (A deleted *model* can only come back by
training again: tests/e2e/test_scenarios.py::test_deleted_model_is_noticed_and_trained_again.)"""

from __future__ import annotations

from openai import AzureOpenAI

from .conftest import wait_until
from .harness import API_KEY

JOB_CREATE = r"/openai/fine_tuning/jobs$"
UPLOAD = r"/openai/files$"
DEPLOYMENT = r"/deployments/[^/]+$"
FIFTEEN_DAYS_AND_A_BIT = 1_300_000  # seconds: 15 days are 1,296,000


def names(resources) -> list[str]:
    return sorted(r["urn"].split("::")[-1] for r in resources)


def test_deleted_file_and_deployment_then_fifteen_idle_days_are_repaired_without_retraining(
        stack, base_spec, emulator, emu, inventory, requests_log):
    stack.set_spec(base_spec)
    stack.up()
    first = stack.outputs()
    client = AzureOpenAI(azure_endpoint=emulator.backend.account_endpoint("aoai-ncus"), api_key=API_KEY,
                         api_version="2024-10-21", max_retries=0)

    # Someone deletes the training file and the deployment in the portal.
    client.files.delete(first["file_train"])
    resp = emu.delete(f"{first['deployment_ncus']['id']}?api-version=2025-06-01", headers={"Authorization": "Bearer x"})
    assert resp.status_code in (200, 202, 204)
    # the delete is a long-running operation
    wait_until(lambda: not inventory.deployments(), timeout=30, what="the deployment delete")
    refreshed = stack.refresh()
    assert names(stack.resources()) == ["job"]  # refresh reports both gone; the job and its model stay
    assert "deleted" in refreshed.stdout and "is gone from account aoai-ncus" in refreshed.stdout + refreshed.stderr
    preview = stack.preview()
    assert "+ " in preview.stdout and "~ " in preview.stdout and "replace" not in preview.stdout  # no new run

    mark = requests_log.mark()
    stack.up()
    entries = requests_log.since(mark)
    assert len(requests_log.matching(entries, "POST", UPLOAD)) == 1     # the file, uploaded again
    assert len(requests_log.matching(entries, "PUT", DEPLOYMENT)) == 1  # the deployment, again
    assert not requests_log.matching(entries, "POST", JOB_CREATE)       # no second training run
    second = stack.outputs()
    assert second["job_job_id"] == first["job_job_id"] and second["job_fine_tuned_model"] == first["job_fine_tuned_model"]
    assert second["file_train"] != first["file_train"] and second["deployment_ncus"]["state"] == "Succeeded"
    assert inventory.counts() == (1, 1, 1)

    # Fifteen days without a completion: Azure deletes the fine-tuned deployment; the model stays.
    assert emu.post("/_emulator/clock", json={"advance_seconds": FIFTEEN_DAYS_AND_A_BIT}).status_code == 200
    assert inventory.deployments() == []
    refreshed = stack.refresh()
    assert names(stack.resources()) == ["job", "train"]
    assert "15 days without completions" in refreshed.stdout + refreshed.stderr
    mark = requests_log.mark()
    stack.up()
    entries = requests_log.since(mark)
    assert len(requests_log.matching(entries, "PUT", DEPLOYMENT)) == 1
    assert not requests_log.matching(entries, "POST", JOB_CREATE) and not requests_log.matching(entries, "POST", UPLOAD)
    third = stack.outputs()
    assert third["deployment_ncus"]["model"]["name"] == first["job_fine_tuned_model"]
    assert third["deployment_ncus"]["state"] == "Succeeded"
    assert inventory.counts() == (1, 1, 1)
    assert len(requests_log.matching(requests_log.all(), "POST", JOB_CREATE)) == 1  # one run, all along
