"""Data plane under injected faults: the openai SDK's retries against 429, 500, dropped connections and
slow answers, checked against the emulator's request log."""

from __future__ import annotations

import openai
import pytest
from .conftest import make_openai
from .data_helpers import chat_jsonl


def add_fault(control, **rule) -> dict:
    response = control.post("/_emulator/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()


def logged(control, method: str, path_suffix: str) -> list[dict]:
    return [r for r in control.get("/_emulator/requests").json()["data"]
            if r["method"] == method and r["path"].endswith(path_suffix)]


def test_429_with_retry_after_is_retried_and_creates_one_file(frozen, fcontrol):
    rule = add_fault(fcontrol, method="POST", path_regex="/openai/files$", status=429, retry_after=1, times=1)
    client = make_openai(frozen, max_retries=2)
    created = client.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    assert [f.id for f in client.files.list().data] == [created.id]
    posts = logged(fcontrol, "POST", "/aoai-ncus/openai/files")
    assert [p["status"] for p in posts] == [429, 201]
    assert posts[0]["fault"] == rule["id"]
    assert fcontrol.get("/_emulator/faults").json()["data"][0]["hits"] == 1


def test_429_without_retries_surfaces_as_rate_limit_error(frozen, fcontrol):
    add_fault(fcontrol, method="POST", path_regex="/openai/files$", status=429, retry_after=1, times=1)
    with pytest.raises(openai.RateLimitError) as err:
        make_openai(frozen).files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    assert err.value.body["code"] == "tooManyRequests"
    assert err.value.response.headers["retry-after"] == "1"
    assert make_openai(frozen).files.list().data == []


def test_429_on_job_creation_is_retried_and_creates_one_job(frozen, fcontrol, processed_file):
    data = processed_file(chat_jsonl())
    add_fault(fcontrol, method="POST", path_regex="/fine_tuning/jobs$", status=429, retry_after=0, times=1)
    client = make_openai(frozen, max_retries=1)
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=data.id)
    assert [j.id for j in client.fine_tuning.jobs.list().data] == [job.id]
    assert [p["status"] for p in logged(fcontrol, "POST", "/fine_tuning/jobs")] == [429, 201]


def test_500_is_retried(frozen, fcontrol, processed_file):
    data = processed_file(chat_jsonl())
    job = make_openai(frozen).fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=data.id)
    add_fault(fcontrol, method="GET", path_regex=f"/fine_tuning/jobs/{job.id}$", status=500, times=1)
    with pytest.raises(openai.InternalServerError) as err:
        make_openai(frozen).fine_tuning.jobs.retrieve(job.id)
    assert err.value.status_code == 500 and err.value.body["code"] == "InternalServerError"
    add_fault(fcontrol, method="GET", path_regex=f"/fine_tuning/jobs/{job.id}$", status=500, times=1)
    assert make_openai(frozen, max_retries=1).fine_tuning.jobs.retrieve(job.id).id == job.id
    assert [g["status"] for g in logged(fcontrol, "GET", f"/fine_tuning/jobs/{job.id}")] == [500, 500, 200]


def test_dropped_connection(frozen, fcontrol):
    created = make_openai(frozen).files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    add_fault(fcontrol, method="GET", path_regex=f"/files/{created.id}$", drop_connection=True, times=1)
    with pytest.raises(openai.APIConnectionError):
        make_openai(frozen).files.retrieve(created.id)
    add_fault(fcontrol, method="GET", path_regex=f"/files/{created.id}$", drop_connection=True, times=1)
    assert make_openai(frozen, max_retries=1).files.retrieve(created.id).id == created.id
    assert [g["status"] for g in logged(fcontrol, "GET", f"/files/{created.id}")] == ["dropped", "dropped", 200]


def test_slow_answer_hits_the_client_timeout(frozen, fcontrol):
    add_fault(fcontrol, method="GET", path_regex="/openai/models$", delay_seconds=1.0, times=1)
    with pytest.raises(openai.APITimeoutError):
        make_openai(frozen, timeout=0.2).models.list()
    assert make_openai(frozen, timeout=5).models.list().data  # the rule is spent


def test_a_fault_scoped_to_one_account(frozen, fcontrol):
    add_fault(fcontrol, path_regex="^/accounts/aoai-swc/", status=503, times=None)
    assert make_openai(frozen, "aoai-ncus").files.list().data == []
    with pytest.raises(openai.InternalServerError) as err:
        make_openai(frozen, "aoai-swc").files.list()
    assert err.value.status_code == 503
