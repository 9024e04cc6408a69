"""Data plane: models (list, get, delete), the catalog, resolve_deployable_model."""

from __future__ import annotations

import openai
import pytest
from .conftest import make_openai
from .data_helpers import chat_jsonl
from openai import OpenAI

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer, catalog, management
from pulumi_aoai_finetune_emulator.dataplane import resolve_deployable_model
from pulumi_aoai_finetune_emulator.errors import ServiceError

MODEL = "gpt-4o-mini-2024-07-18"


def by_id(models) -> dict:
    return {m.id: m for m in models}


@pytest.fixture
def fine_tuned(fclient, fadvance, processed_file):
    """A fine-tuned model of aoai-ncus (a real one-epoch job) and its job."""
    data = processed_file(chat_jsonl(12))
    job = fclient.fine_tuning.jobs.create(model=MODEL, training_file=data.id, hyperparameters={"n_epochs": 1})
    fadvance(400)
    job = fclient.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded"
    return job


# -- list and get ---------------------------------------------------------------------------------------
def test_list_base_models_of_a_fine_tuning_region(fclient):
    listing = fclient.models.list()
    assert listing.object == "list"
    models = by_id(listing.data)
    expected = {MODEL, "gpt-35-turbo-0125", "babbage-002", "gpt-4.1-nano-2025-04-14", "text-embedding-ada-002"}
    assert expected <= set(models)
    mini = models[MODEL]
    assert mini.object == "model" and mini.model_extra["created_at"] > 0
    assert mini.capabilities == {"fine_tune": True, "inference": True, "completion": False,
                                 "chat_completion": True, "embeddings": False}
    assert mini.lifecycle_status == "generally-available"
    assert set(mini.deprecation) == {"fine_tune", "inference"}
    inference_only = models["gpt-4o-2024-11-20"]
    assert inference_only.capabilities["fine_tune"] is False and "fine_tune" not in inference_only.deprecation
    assert models["text-embedding-ada-002"].capabilities["embeddings"] is True
    assert models["babbage-002"].capabilities["completion"] is True


def test_fine_tune_capability_depends_on_the_region(tmp_path):
    accounts = (("aoai-eus2", "eastus2"), ("aoai-weu", "westeurope"))
    with EmulatorServer(EmulatorConfig(state_dir=tmp_path / "s", time_scale=0.001, accounts=accounts)) as server:
        eus2 = by_id(make_openai(server, "aoai-eus2").models.list().data)
        assert eus2[MODEL].capabilities["fine_tune"] is False
        assert eus2["gpt-4o-2024-08-06"].capabilities["fine_tune"] is True
        assert eus2["o4-mini-2025-04-16"].capabilities["fine_tune"] is True
        weu = by_id(make_openai(server, "aoai-weu").models.list().data)
        assert not any(m.capabilities["fine_tune"] for m in weu.values())
        assert all(m.capabilities["inference"] for m in weu.values())


def test_get_model(fclient):
    mini = fclient.models.retrieve(MODEL)
    assert mini.id == MODEL and mini.capabilities["fine_tune"] is True
    for missing in ("gpt-9", f"{MODEL}.ft-0123456789abcdef0123456789abcdef"):
        with pytest.raises(openai.NotFoundError) as err:
            fclient.models.retrieve(missing)
        assert err.value.body["code"] == "notFound"


def test_fine_tuned_model_is_listed_for_its_account_only(frozen, fclient, fine_tuned):
    name = fine_tuned.fine_tuned_model
    model = fclient.models.retrieve(name)
    assert (model.status, model.model, model.fine_tune, model.object) == ("succeeded", MODEL, fine_tuned.id, "model")
    assert model.capabilities == {"fine_tune": True, "inference": True, "completion": False,
                                  "chat_completion": True, "embeddings": False}
    assert "inference" in model.deprecation and model.lifecycle_status == "generally-available"
    assert fclient.models.list().data[-1].id == name
    other = make_openai(frozen, "aoai-swc")
    assert name not in by_id(other.models.list().data)
    with pytest.raises(openai.NotFoundError):
        other.models.retrieve(name)


# -- delete (rule D1: no DELETE /models in either data-plane spec; deleting the job removes its model) --------
def delete_job(client, job_id: str) -> None:
    """``FineTuning_Delete``: not in the openai SDK, sent through its own request method."""
    client.delete(f"/fine_tuning/jobs/{job_id}", cast_to=type(None))


@pytest.mark.outside_contract
def test_there_is_no_model_delete_operation(fclient, fine_tuned):
    with pytest.raises(openai.NotFoundError) as err:
        fclient.models.delete(fine_tuned.fine_tuned_model)
    assert err.value.body == {"code": "404", "message": "Resource not found"}
    assert fclient.models.retrieve(fine_tuned.fine_tuned_model).id == fine_tuned.fine_tuned_model


def test_deleting_the_job_deletes_its_model_and_checkpoints(fclient, fine_tuned):
    name = fine_tuned.fine_tuned_model
    delete_job(fclient, fine_tuned.id)
    with pytest.raises(openai.NotFoundError):
        fclient.models.retrieve(name)
    with pytest.raises(openai.NotFoundError):
        fclient.fine_tuning.jobs.retrieve(fine_tuned.id)
    with pytest.raises(openai.NotFoundError):
        delete_job(fclient, fine_tuned.id)


def test_the_job_is_not_deleted_while_its_model_or_a_checkpoint_is_deployed(frozen, fclient, fine_tuned,
                                                                           monkeypatch):
    name = fine_tuned.fine_tuned_model
    checkpoint = fclient.fine_tuning.jobs.checkpoints.list(fine_tuned.id).data[-1].fine_tuned_model_checkpoint
    deployed = {name: "dep-model"}
    monkeypatch.setattr(management, "deployments_using_model",
                        lambda backend, model: [{"id": f".../deployments/{deployed[model]}", "name": deployed[model]}]
                        if model in deployed else [], raising=False)
    with pytest.raises(openai.ConflictError) as err:
        delete_job(fclient, fine_tuned.id)
    assert err.value.body["code"] == "conflict" and "dep-model" in err.value.body["message"]
    deployed = {checkpoint: "dep-checkpoint"}
    with pytest.raises(openai.ConflictError) as err:
        delete_job(fclient, fine_tuned.id)
    assert "dep-checkpoint" in err.value.body["message"]
    assert fclient.models.retrieve(name).id == name
    deployed = {}
    delete_job(fclient, fine_tuned.id)
    with pytest.raises(openai.NotFoundError):
        fclient.models.retrieve(name)


# -- the catalog and the management plane's questions --------------------------------------------------
def test_catalog_functions():
    assert catalog.fine_tune_regions(MODEL) == {"northcentralus", "swedencentral"}
    assert catalog.fine_tune_regions("gpt-35-turbo-0125") == {"eastus2", "northcentralus", "swedencentral",
                                                             "switzerlandwest"}
    assert catalog.fine_tune_regions("o4-mini-2025-04-16") == {"eastus2", "swedencentral"}
    assert catalog.fine_tune_regions("nope") == set()
    entry = catalog.base_model("North Central US", MODEL)
    assert entry["fine_tune"] is True and entry["kind"] == "chat" and entry["arm_version"] == "2024-07-18"
    assert catalog.base_model("westeurope", MODEL)["fine_tune"] is False
    assert catalog.base_model("eastus2", "gpt-35-turbo", "0125")["id"] == "gpt-35-turbo-0125"
    assert catalog.base_model("eastus2", "gpt-4o-mini", "2024-07-18")["id"] == MODEL
    assert catalog.base_model("eastus2", "gpt-9") is None
    assert catalog.supports_fine_tuned_deployment("swedencentral")
    assert catalog.supports_fine_tuned_deployment("eastus2")
    assert not catalog.supports_fine_tuned_deployment("westeurope")
    assert catalog.fine_tuning_regions() == {"eastus2", "northcentralus", "swedencentral", "switzerlandwest"}


def test_resolve_deployable_model(frozen, fclient, fine_tuned):
    backend = frozen.backend
    name = fine_tuned.fine_tuned_model
    assert resolve_deployable_model(backend, "aoai-ncus", name) == {
        "kind": "fine_tuned", "name": name, "account": "aoai-ncus", "base_model": MODEL, "deployable": True,
        "reason": None}
    base = resolve_deployable_model(backend, "aoai-swc", MODEL)
    assert (base["kind"], base["deployable"], base["base_model"]) == ("base", True, MODEL)
    assert resolve_deployable_model(backend, "aoai-ncus", "gpt-4o-mini", "2024-07-18")["name"] == MODEL
    for account, model in (("aoai-swc", name), ("aoai-ncus", "gpt-9"), ("aoai-ncus", f"{name}:ckpt-step-1"),
                           ("nowhere", MODEL)):
        with pytest.raises(ServiceError) as err:
            resolve_deployable_model(backend, account, model)
        assert err.value.status == 404

