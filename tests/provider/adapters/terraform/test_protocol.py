"""The provider process at the protocol level, as the CLI drives it (terraform/server.py, adapter.py):
the edge cases a CLI run does not reach reliably. Scenarios with the real CLI: tests/e2e/terraform."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import grpc
import httpx
import msgpack
import pytest

from pulumi_aoai_finetune.adapters.terraform import wire

from .conftest import account_id, plugin_env
from .plugin import Plugin, client_certificate, config_for, diagnostics, dynamic, write_chat_jsonl

FILE, JOB, DEPLOYMENT = ("aoai_finetune_training_file", "aoai_finetune_fine_tuning_job",
                         "aoai_finetune_model_deployment")
MODEL = "gpt-4o-mini-2024-07-18"


def account(emulator, name: str = "aoai-ncus") -> dict:
    return {"resource_id": account_id(emulator, name), "endpoint": None}


def requests_since(emulator, mark: int) -> list[dict]:
    return httpx.get(f"{emulator.base_url}/_emulator/requests").json()["data"][mark:]


def mark(emulator) -> int:
    return len(requests_since(emulator, 0))


def writes(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]


def create(plugin, type_name: str, config: dict) -> tuple[dict, bytes, list]:
    plan = plugin.plan(type_name, None, config)
    assert not [d for d in diagnostics(plan) if d[0] == "error"], diagnostics(plan)
    applied = plugin.apply(type_name, None, plugin.undyn(plan.planned_state), config, plan.planned_private)
    return plugin.undyn(applied.new_state), applied.private, diagnostics(applied)


def uploaded(plugin, emulator) -> tuple[dict, bytes]:
    write_chat_jsonl(plugin.workdir / "train.jsonl", 12)
    state, private, diags = create(plugin, FILE, config_for(FILE, account=account(emulator), path="train.jsonl",
                                                            model=MODEL))
    assert not diags and state["status"] == "processed"
    return state, private


def job_config(emulator, file_state: dict, **extra) -> dict:
    return config_for(JOB, account=account(emulator), base_model=MODEL, training_file=file_state["file_id"],
                      training_file_sha256=file_state["content_sha256"], hyperparameters=dynamic({"n_epochs": 3}),
                      suffix="proto", seed=7, **extra)


# -- handshake and TLS (tf's defect 4) ------------------------------------------------------------
def test_each_plugin_process_has_its_own_key_and_writes_none(tmp_path, emulator) -> None:
    """tf caches one 1024-bit key for 7 days under $HOME/.cache: here each process makes its own,
    in memory, and its socket is in a directory only the user can open."""
    import stat

    from cryptography import x509

    from .plugin import server_pem

    home = tmp_path / "home"
    first, second = Plugin(plugin_env(tmp_path), tmp_path), Plugin(plugin_env(tmp_path), tmp_path)
    try:
        assert first.schema().resource_schemas.keys() >= {FILE, JOB, DEPLOYMENT}
        certs = [x509.load_pem_x509_certificate(server_pem(p.handshake[5])) for p in (first, second)]
        assert certs[0].public_key().public_numbers() != certs[1].public_key().public_numbers()
        assert certs[0].public_key().key_size >= 256 and certs[0].not_valid_after_utc < certs[0].not_valid_before_utc \
            + __import__("datetime").timedelta(days=2)
        socket_dir = os.path.dirname(first.handshake[3])
        assert stat.S_IMODE(os.stat(socket_dir).st_mode) == 0o700
    finally:
        first.close()
        second.close()
    assert not any(home.rglob("*")), "the plugin wrote under $HOME (tf caches its TLS key there)"


def test_started_by_hand_the_launcher_says_what_it_is(tmp_path) -> None:
    import subprocess

    from .plugin import LAUNCHER

    out = subprocess.run([str(LAUNCHER)], env=plugin_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "plugin of Terraform and OpenTofu" in out.stderr and "Traceback" not in out.stderr


# -- plan ---------------------------------------------------------------------------------------------
def test_unknown_and_refined_unknown_inputs_plan_without_a_call(plugin, emulator) -> None:
    refined = msgpack.ExtType(12, msgpack.packb({1: False, 2: "file-"}))
    before = mark(emulator)
    config = config_for(JOB, account={"resource_id": msgpack.ExtType(12, msgpack.packb({1: False})), "endpoint": None},
                        base_model=MODEL, training_file=refined, training_file_sha256=msgpack.ExtType(0, b""),
                        hyperparameters=dynamic({"n_epochs": 3}), seed=1)
    plan = plugin.plan(JOB, None, config)
    assert [d for d in diagnostics(plan) if d[0] == "error"] == []
    planned = plugin.undyn(plan.planned_state)
    assert planned["training_file"] == refined  # echoed as the CLI sent it
    assert wire.is_wire_unknown(planned["fine_tuned_model"]) and planned["wait"] is True
    assert planned["timeout_seconds"] == 86400
    assert writes(requests_since(emulator, before)) == []


def test_bad_data_fails_the_plan_with_file_and_line_and_nothing_is_sent(plugin, emulator) -> None:
    path = write_chat_jsonl(plugin.workdir / "bad.jsonl", 12)
    lines = path.read_text().splitlines()
    lines[4] = '{"messages": [{"role": "user", "content": "no answer"}]}'
    path.write_text("\n".join(lines) + "\n")
    before = mark(emulator)
    plan = plugin.plan(FILE, None, config_for(FILE, account=account(emulator), path="bad.jsonl", model=MODEL))
    errors = [d for d in diagnostics(plan) if d[0] == "error"]
    assert errors and "bad.jsonl:5" in errors[0][1] + errors[0][2], errors
    assert plan.diagnostics[0].attribute.steps[0].attribute_name == "path"
    assert not plan.HasField("planned_state") or plugin.undyn(plan.planned_state) is None
    assert writes(requests_since(emulator, before)) == []


def test_a_misconfigured_account_names_the_field(plugin, emulator) -> None:
    plan = plugin.plan(FILE, None, config_for(FILE, account={"resource_id": "not-an-id", "endpoint": None},
                                              path="x.jsonl"))
    errors = [(d, pb) for d, pb in zip(diagnostics(plan), plan.diagnostics) if d[0] == "error"]
    assert any("account.resource_id 'not-an-id' is not an account id" in d[1] for d, _ in errors), errors
    assert any(pb.attribute.steps[0].attribute_name == "account" for _, pb in errors)


# -- replacement, in-place updates, no-op -----------------------------------------------------------
def test_a_new_training_input_forces_replacement_and_a_reupload_of_the_same_data_does_not(plugin, emulator) -> None:
    file_state, file_private = uploaded(plugin, emulator)
    config = job_config(emulator, file_state)
    job, private, diags = create(plugin, JOB, config)
    assert job["status"] == "succeeded" and job["fine_tuned_model"]
    before = mark(emulator)
    noop = plugin.plan(JOB, job, config, private)
    assert plugin.undyn(noop.planned_state) == job and list(noop.requires_replace) == []
    # n_epochs 3 -> 4: a new paid run, shown as such
    more = dict(config, hyperparameters=dynamic({"n_epochs": 4}))
    plan = plugin.plan(JOB, job, more, private)
    assert [[s.attribute_name for s in p.steps] for p in plan.requires_replace] == [["hyperparameters"]]
    assert any("new training run (paid)" in d[1] for d in diagnostics(plan))
    # the same data uploaded again (a new file id, unknown at plan time): an update, outputs known
    same = dict(config, training_file=msgpack.ExtType(0, b""))
    plan = plugin.plan(JOB, job, same, private)
    assert list(plan.requires_replace) == []
    planned = plugin.undyn(plan.planned_state)
    assert planned["fine_tuned_model"] == job["fine_tuned_model"]  # a deployment of it stays as it is
    assert writes(requests_since(emulator, before)) == []


def test_a_changed_file_content_replaces_the_file_by_its_hash(plugin, emulator) -> None:
    state, private = uploaded(plugin, emulator)
    write_chat_jsonl(plugin.workdir / "train.jsonl", 13)
    plan = plugin.plan(FILE, state, config_for(FILE, account=account(emulator), path="train.jsonl", model=MODEL),
                       private)
    assert ["content_sha256"] in [[s.attribute_name for s in p.steps] for p in plan.requires_replace]
    assert plugin.undyn(plan.planned_state)["content_sha256"] != state["content_sha256"]


# -- stop during apply (tf's defect 1) -----------------------------------------------------------------
def test_stop_during_a_training_wait_keeps_the_job_and_the_next_apply_attaches(plugin, emulator) -> None:
    file_state, _ = uploaded(plugin, emulator)
    config = job_config(emulator, file_state)
    httpx.post(f"{emulator.base_url}/_emulator/clock", json={"frozen": True}).raise_for_status()
    plan = plugin.plan(JOB, None, config)
    answer: dict = {}

    def run() -> None:
        answer["response"] = plugin.apply(JOB, None, plugin.undyn(plan.planned_state), config, plan.planned_private)

    worker = threading.Thread(target=run)
    worker.start()
    jobs_url = f"{emulator.base_url}/accounts/aoai-ncus/openai/fine_tuning/jobs?api-version=2024-10-21"
    headers = {"api-key": "any"}
    deadline = time.monotonic() + 60
    while not httpx.get(jobs_url, headers=headers).json()["data"]:
        assert time.monotonic() < deadline, "the job was never created"
        time.sleep(0.1)
    os.kill(plugin.proc.pid, signal.SIGINT)  # what a terminal sends the whole process group: ignored
    time.sleep(0.5)
    assert plugin.proc.poll() is None
    stopped = time.monotonic()
    plugin.stop()
    worker.join(timeout=30)
    assert not worker.is_alive() and time.monotonic() - stopped < 10, "the wait did not end promptly"
    response = answer["response"]
    job = plugin.undyn(response.new_state)
    assert job is not None and job["id"].startswith("ftjob-") and job["status"] in ("pending", "running",
                                                                                    "validating_files", "queued")
    assert [d[0] for d in diagnostics(response)] == ["warning"]  # kept as it is: not tainted
    assert "goes on in the service" in diagnostics(response)[0][1]
    # the server still answers after StopProvider (tf stopped it there)
    assert plugin.read(JOB, job, response.private).new_state.msgpack

    # the next run (a new provider process, as the CLI starts one per command) waits for that job
    httpx.post(f"{emulator.base_url}/_emulator/clock", json={"frozen": False}).raise_for_status()
    again = Plugin(plugin_env(plugin.workdir.parent), plugin.workdir)
    try:
        assert not again.configure({"arm_endpoint": emulator.base_url, "credential": "token",
                                    "allow_insecure_loopback": True, "poll_interval": 0.2})
        plan = again.plan(JOB, job, config, response.private)
        planned = again.undyn(plan.planned_state)
        assert list(plan.requires_replace) == [] and wire.is_wire_unknown(planned["status"])
        assert any("waits for it (no new run)" in d[1] for d in diagnostics(plan))
        done = again.apply(JOB, job, planned, config, plan.planned_private)
        final = again.undyn(done.new_state)
        assert final["id"] == job["id"] and final["status"] == "succeeded", diagnostics(done)
    finally:
        again.close()
    assert len(httpx.get(jobs_url, headers=headers).json()["data"]) == 1  # never a second paid run


def test_stop_during_a_deployment_wait_returns_it_with_an_error_so_it_is_tainted(plugin, emulator) -> None:
    file_state, _ = uploaded(plugin, emulator)
    job, _, _ = create(plugin, JOB, job_config(emulator, file_state))
    config = config_for(DEPLOYMENT, account=account(emulator), model=job["fine_tuned_model"], deployment_name="half")
    plan = plugin.plan(DEPLOYMENT, None, config)
    httpx.post(f"{emulator.base_url}/_emulator/clock", json={"frozen": True}).raise_for_status()  # it stays Creating
    answer: dict = {}
    worker = threading.Thread(target=lambda: answer.update(response=plugin.apply(
        DEPLOYMENT, None, plugin.undyn(plan.planned_state), config, plan.planned_private)))
    worker.start()
    deployments = (f"{emulator.base_url}{account(emulator)['resource_id']}/deployments")
    deadline = time.monotonic() + 60
    while not httpx.get(deployments, params={"api-version": "2025-06-01"},
                        headers={"Authorization": "Bearer x"}).json().get("value"):
        assert time.monotonic() < deadline, "the deployment was never sent"
        time.sleep(0.1)
    time.sleep(0.5)
    plugin.stop()
    worker.join(timeout=30)
    assert not worker.is_alive()
    response = answer["response"]
    state = plugin.undyn(response.new_state)
    # an error with the object: the CLI keeps it tainted and replaces it at the next apply
    assert state is not None and state["id"].endswith("/deployments/half")
    assert state["provisioning_state"] != "Succeeded"
    errors = [d for d in diagnostics(response) if d[0] == "error"]
    assert errors and "goes on in the service" in errors[0][1] and "tainted" in errors[0][2]


# -- read and import ----------------------------------------------------------------------------------
def test_a_deployment_deleted_outside_reads_as_gone(plugin, emulator) -> None:
    file_state, _ = uploaded(plugin, emulator)
    job, _, _ = create(plugin, JOB, job_config(emulator, file_state))
    state, private, diags = create(plugin, DEPLOYMENT, config_for(DEPLOYMENT, account=account(emulator),
                                                                  model=job["fine_tuned_model"], deployment_name="gone"))
    assert state is not None, diags
    httpx.delete(f"{emulator.base_url}{state['id']}", params={"api-version": "2025-06-01"},
                 headers={"Authorization": "Bearer x"}).raise_for_status()
    deadline = time.monotonic() + 30
    while True:
        read = plugin.read(DEPLOYMENT, state, private)
        if plugin.undyn(read.new_state) is None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert plugin.undyn(read.new_state) is None
    assert any("deleted outside" in d[1] + d[2] for d in diagnostics(read))


@pytest.mark.parametrize("type_name, suffix", [
    (FILE, "/files/file-0000"), (JOB, "/fine_tuning/jobs/ftjob-0000"), (DEPLOYMENT, "/deployments/nothing")])
def test_import_of_a_missing_id_is_a_clear_error(plugin, emulator, type_name, suffix) -> None:
    response = plugin.import_(type_name, account_id(emulator) + suffix)
    assert list(response.imported_resources) == []
    errors = [d for d in diagnostics(response) if d[0] == "error"]
    assert len(errors) == 1 and "does not exist" in errors[0][1]


def test_import_of_a_malformed_id_says_the_form(plugin) -> None:
    errors = diagnostics(plugin.import_(JOB, "ftjob-123"))
    assert errors and "<account ARM id>/fine_tuning/jobs/<job id>" in errors[0][1]


def test_imported_objects_declared_as_they_are_plan_no_change(plugin, emulator) -> None:
    """`tofu import`, then the declaring configuration: its plan keeps the state the import read (no
    changes), although the configuration writes what the service does not record (a file's path and
    model, a deployment's metrics and quality gate); the CLI is told to accept that (legacy_type_system)."""
    file_state, _ = uploaded(plugin, emulator)
    config = job_config(emulator, file_state, training_file_stats=file_state["content_stats"])
    job, _, _ = create(plugin, JOB, config)
    deployment_config = config_for(DEPLOYMENT, account=account(emulator), model=job["fine_tuned_model"],
                                   deployment_name="imported", metrics=job["metrics"],
                                   quality_gate={"max_final_train_loss": 2.5})
    deployment, _, _ = create(plugin, DEPLOYMENT, deployment_config)
    before = mark(emulator)
    imported = {}
    for type_name, id_, cfg in (
            (FILE, f"{account_id(emulator)}/files/{file_state['id']}",
             config_for(FILE, account=account(emulator), path="train.jsonl", model=MODEL)),
            (JOB, f"{account_id(emulator)}/fine_tuning/jobs/{job['id']}", config),
            (DEPLOYMENT, deployment["id"], deployment_config)):
        response = plugin.import_(type_name, id_)
        assert not diagnostics(response), diagnostics(response)
        found = response.imported_resources[0]
        state = plugin.undyn(found.state)
        assert state["id"] == id_.rsplit("/", 1)[-1] or state["id"] == id_
        read = plugin.read(type_name, state, found.private)  # the CLI reads an imported object at once
        state = plugin.undyn(read.new_state)
        plan = plugin.plan(type_name, state, cfg, read.private)
        assert [d for d in diagnostics(plan) if d[0] == "error"] == []
        assert list(plan.requires_replace) == [], (type_name, plan.requires_replace)
        assert plugin.undyn(plan.planned_state) == state, type_name  # no changes
        assert plan.legacy_type_system, type_name
        imported[type_name] = (state, read.private)
    assert writes(requests_since(emulator, before)) == []

    # a real change to an imported object plans as any change: the configuration's values, checked
    state, private = imported[DEPLOYMENT]
    bigger = dict(deployment_config, sku={"name": "Standard", "capacity": 2})
    plan = plugin.plan(DEPLOYMENT, state, bigger, private)
    planned = plugin.undyn(plan.planned_state)
    assert not plan.legacy_type_system and planned["sku"]["capacity"] == 2
    assert planned["quality_gate"]["max_final_train_loss"] == 2.5
    # ... and a gate the model misses is not hidden by the import: the plan fails, naming it
    strict = dict(deployment_config, quality_gate={"max_final_train_loss": 0.0001})
    plan = plugin.plan(DEPLOYMENT, state, strict, private)
    errors = [d for d in diagnostics(plan) if d[0] == "error"]
    assert errors and "misses its quality gate: final training loss" in errors[0][1], diagnostics(plan)
    assert not plan.legacy_type_system
    assert writes(requests_since(emulator, before)) == []

    # an imported job still training is an update that waits for it, as after an interrupted apply
    httpx.post(f"{emulator.base_url}/_emulator/clock", json={"frozen": True}).raise_for_status()
    running, _, _ = create(plugin, JOB, dict(job_config(emulator, file_state), seed=8, wait=False))
    assert running["status"] not in ("succeeded", "failed", "cancelled")
    found = plugin.import_(JOB, f"{account_id(emulator)}/fine_tuning/jobs/{running['id']}").imported_resources[0]
    read = plugin.read(JOB, plugin.undyn(found.state), found.private)
    plan = plugin.plan(JOB, plugin.undyn(read.new_state), dict(job_config(emulator, file_state), seed=8), read.private)
    assert not plan.legacy_type_system and list(plan.requires_replace) == []
    assert any("waits for it (no new run)" in d[1] for d in diagnostics(plan)), diagnostics(plan)
