"""The emulator's own controls (``/_emulator/...``), through httpx."""

from __future__ import annotations

import time

import pytest
from azure.mgmt.cognitiveservices.models import Account, Sku

from .conftest import advance, arm_deployment
from .data_helpers import chat_jsonl

RG = "aoai-emulator"


def test_health(emulator, control):
    body = control.get("/_emulator/health").json()
    assert body["status"] == "ok"
    assert body["accounts"] == ["aoai-ncus", "aoai-swc"]
    assert body["time_scale"] == 1000.0
    assert body["time"] > 1_600_000_000


def test_reset_restores_the_seeded_state(emulator, arm, control):
    arm.accounts.begin_create(RG, "aoai-extra", Account(location="eastus2", kind="OpenAI", sku=Sku(name="S0"))).result()
    arm.deployments.begin_create_or_update(RG, "aoai-ncus", "chat", arm_deployment("gpt-4o-mini")).result()
    control.post("/_emulator/faults", json={"path_regex": "^/nothing$", "status": 500, "times": None})
    assert control.post("/_emulator/reset").json() == {"status": "reset"}
    assert {a.name for a in arm.accounts.list()} == {"aoai-ncus", "aoai-swc"}
    assert list(arm.deployments.list(RG, "aoai-ncus")) == []
    assert control.get("/_emulator/faults").json()["data"] == []
    # the log restarted: it holds only the calls made since the reset
    paths = [r["path"] for r in control.get("/_emulator/requests").json()["data"]]
    assert all("/accounts/aoai-extra" not in p for p in paths)


def test_faults_are_listed_counted_and_cleared(emulator, arm, control):
    created = control.post("/_emulator/faults", json={"method": "GET", "path_regex": "/accounts/aoai-swc$",
                                                      "status": 500, "times": 1})
    assert created.status_code == 201
    rule = created.json()
    assert rule["hits"] == 0 and rule["status"] == 500
    assert [f["id"] for f in control.get("/_emulator/faults").json()["data"]] == [rule["id"]]
    # the client's retry policy rides over one 500
    assert arm.accounts.get(RG, "aoai-swc").name == "aoai-swc"
    assert control.get("/_emulator/faults").json()["data"][0]["hits"] == 1
    assert control.delete("/_emulator/faults").status_code == 204
    assert control.get("/_emulator/faults").json()["data"] == []


@pytest.mark.parametrize("spec, fragment", [
    ({"status": 500}, "path_regex is required"),
    ({"path_regex": "/x", "status": 500, "colour": "red"}, "unknown fault fields"),
    ({"path_regex": "/x"}, "a fault needs status"),
])
def test_invalid_fault_specs_are_400(control, spec, fragment):
    response = control.post("/_emulator/faults", json=spec)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_requests_log_records_arm_calls_and_can_be_cleared(emulator, arm, control):
    arm.accounts.get(RG, "aoai-ncus")
    log = control.get("/_emulator/requests").json()["data"]
    entry = [r for r in log if r["path"].endswith("/accounts/aoai-ncus")][-1]
    assert entry["method"] == "GET" and entry["status"] == 200
    assert "api-version=2025-06-01" in entry["query"]
    assert not [r for r in log if r["path"].startswith("/_emulator")]  # controls are not logged
    assert control.delete("/_emulator/requests").status_code == 204
    assert control.get("/_emulator/requests").json()["data"] == []


def test_clock_reads_advances_and_validates(control):
    before = control.get("/_emulator/clock").json()
    assert before["time_scale"] == 1000.0
    moved = control.post("/_emulator/clock", json={"advance_seconds": 3600}).json()
    assert moved["time"] >= before["time"] + 3600
    for body in ({"advance_seconds": -1}, {"advance_seconds": "soon"}, {}, {"advance_seconds": None}):
        response = control.post("/_emulator/clock", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["target"] == "advance_seconds"


def test_a_frozen_clock_stands_still_and_a_job_with_it(emulator, control, client):
    training = client.files.create(file=("train.jsonl", chat_jsonl(12)), purpose="fine-tune")
    advance(control, 60)
    # freeze before the job exists: at this scale it is pending for only 60 ms of real time
    frozen = control.post("/_emulator/clock", json={"frozen": True}).json()
    assert frozen["frozen"] is True
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=training.id)
    time.sleep(0.3)  # 300 emulated seconds at this scale, were the clock running
    assert control.get("/_emulator/clock").json() == frozen
    assert client.fine_tuning.jobs.retrieve(job.id).status == job.status == "pending"
    # an advance still moves a frozen clock, by exactly what was asked
    moved = control.post("/_emulator/clock", json={"advance_seconds": 100}).json()
    assert moved["time"] == frozen["time"] + 100 and moved["frozen"] is True
    thawed = control.post("/_emulator/clock", json={"frozen": False}).json()
    assert thawed["frozen"] is False and thawed["time"] >= moved["time"]
    time.sleep(0.05)
    assert control.get("/_emulator/clock").json()["time"] > thawed["time"]
    response = control.post("/_emulator/clock", json={"frozen": "yes"})
    assert response.status_code == 400 and response.json()["error"]["target"] == "frozen"


def test_access_can_be_denied_for_a_while_as_a_role_assignment_propagates(frozen, fcontrol, fclient, fadvance):
    """Rule A1: until a new role assignment has propagated, the data plane answers 403."""
    import openai

    response = fcontrol.post("/_emulator/access", json={"account": "aoai-ncus", "deny_seconds": 120})
    assert response.status_code == 200
    with pytest.raises(openai.PermissionDeniedError) as err:
        fclient.files.list()
    assert err.value.body["code"] == "PermissionDenied"
    fadvance(121)
    assert fclient.files.list().data == []
