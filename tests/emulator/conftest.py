"""Fixtures: a real emulator on a free loopback port, and the real clients pointed at it."""

from __future__ import annotations

import httpx
import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from openai import AzureOpenAI

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

API_VERSION = "2024-10-21"
ARM_API_VERSION = "2025-06-01"
TOKEN = "emulator-test-token"


class StaticBearer(SansIOHTTPPolicy):
    """Authorization for the loopback emulator (tests only; the provider has its own policy)."""

    def on_request(self, request):
        request.http_request.headers["Authorization"] = f"Bearer {TOKEN}"


class _NoCredential:
    def get_token(self, *scopes, **kwargs):  # pragma: no cover - the policy above replaces it
        raise AssertionError("not used")


@pytest.fixture
def emulator(tmp_path):
    config = EmulatorConfig(state_dir=tmp_path / "state", time_scale=1000.0)
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def control(emulator):
    """A plain HTTP client for the emulator's /_emulator/ controls."""
    with httpx.Client(base_url=emulator.base_url, timeout=30) as client:
        yield client


def make_openai(emulator, account: str = "aoai-ncus", **kwargs) -> AzureOpenAI:
    return AzureOpenAI(
        azure_endpoint=emulator.backend.account_endpoint(account),
        api_key="test-key",
        api_version=API_VERSION,
        max_retries=kwargs.pop("max_retries", 0),
        **kwargs,
    )


def make_arm(emulator, **kwargs) -> CognitiveServicesManagementClient:
    return CognitiveServicesManagementClient(
        credential=_NoCredential(),
        subscription_id=emulator.config.subscription_id,
        base_url=emulator.base_url,
        api_version=ARM_API_VERSION,
        authentication_policy=StaticBearer(),
        polling_interval=0.05,
        **kwargs,
    )


@pytest.fixture
def client(emulator) -> AzureOpenAI:
    return make_openai(emulator)


@pytest.fixture
def arm(emulator) -> CognitiveServicesManagementClient:
    return make_arm(emulator)


# -- management plane (ARM) helpers ----------------------------------------------------------------
from azure.mgmt.cognitiveservices.models import Deployment, DeploymentModel, DeploymentProperties, Sku  # noqa: E402


def arm_deployment(name: str, version: str | None = None, *, sku: str = "Standard", capacity: int | None = 1,
                   source: str | None = None, source_account: str | None = None, **properties) -> Deployment:
    """A Deployment body as a user of azure-mgmt-cognitiveservices writes it."""
    return Deployment(
        sku=Sku(name=sku, capacity=capacity),
        properties=DeploymentProperties(
            model=DeploymentModel(format="OpenAI", name=name, version=version, source=source,
                                  source_account=source_account),
            **properties,
        ),
    )


def account_resource_id(emulator, account: str) -> str:
    rec = emulator.backend.account(account)
    return rec["id"]


def advance(control, seconds: float) -> None:
    control.post("/_emulator/clock", json={"advance_seconds": seconds}).raise_for_status()


def train_fine_tuned_model(emulator, account: str = "aoai-ncus", *, base: str = "gpt-4o-mini-2024-07-18",
                           marker: str = "", n_epochs: int = 4) -> dict:
    """Fine-tune through the real data plane (openai client), moving the emulator clock instead of
    waiting. ``marker`` goes into the data, e.g. ``RAI-MODEL-TRIGGER:violence,self_harm`` for a
    model that fails the safety evaluation. Returns the model and its checkpoints, oldest first."""
    from .data_helpers import chat_jsonl

    client = make_openai(emulator, account)
    with httpx.Client(base_url=emulator.base_url, timeout=30) as control:
        training = client.files.create(file=("train.jsonl", chat_jsonl(12, marker=marker)), purpose="fine-tune")
        advance(control, 60)
        job = client.fine_tuning.jobs.create(model=base, training_file=training.id,
                                             hyperparameters={"n_epochs": n_epochs})
        advance(control, 4 * 3600)
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded", job
    checkpoints = sorted(client.fine_tuning.jobs.checkpoints.list(job.id), key=lambda c: c.step_number)
    return {"model": job.fine_tuned_model, "job": job.id,
            "checkpoints": [c.fine_tuned_model_checkpoint for c in checkpoints]}


@pytest.fixture
def slow_emulator(tmp_path):
    """An emulator whose clock runs in real time: operations stay in progress until a test advances
    the clock (for the one-operation-per-account rule). No Retry-After, so pollers use 0.05 s."""
    config = EmulatorConfig(state_dir=tmp_path / "slow-state", time_scale=1.0, extra={"arm_retry_after": 0})
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def slow_arm(slow_emulator) -> CognitiveServicesManagementClient:
    return make_arm(slow_emulator)


@pytest.fixture
def control_slow(slow_emulator):
    with httpx.Client(base_url=slow_emulator.base_url, timeout=30) as client:
        yield client


def make_arm_with(emulator, *, subscription_id: str | None = None, **kwargs) -> CognitiveServicesManagementClient:
    """Like make_arm, with any of subscription_id, api_version, authentication_policy replaced."""
    kwargs.setdefault("api_version", ARM_API_VERSION)
    kwargs.setdefault("authentication_policy", StaticBearer())
    kwargs.setdefault("polling_interval", 0.05)
    return CognitiveServicesManagementClient(
        credential=_NoCredential(), subscription_id=subscription_id or emulator.config.subscription_id,
        base_url=emulator.base_url, **kwargs,
    )


# -- data plane (added by the data-plane area) -------------------------------------------------------
def advance_clock(control: httpx.Client, seconds: float) -> float:
    """Move the emulator's clock forward through its control API; returns the new emulator time."""
    response = control.post("/_emulator/clock", json={"advance_seconds": seconds})
    response.raise_for_status()
    return response.json()["time"]


@pytest.fixture(scope="module")
def _frozen_server(tmp_path_factory):
    config = EmulatorConfig(state_dir=tmp_path_factory.mktemp("frozen") / "state", time_scale=0.001)
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def frozen(_frozen_server):
    """An emulator whose clock (practically) moves only through ``POST /_emulator/clock``, so tests can
    observe intermediate states (pending, running) without racing real time. One server per test
    module, reset (state, blobs, faults, request log) before each test; its clock keeps its time."""
    _frozen_server.backend.reset()
    return _frozen_server


@pytest.fixture
def fcontrol(frozen):
    with httpx.Client(base_url=frozen.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def fclient(frozen) -> AzureOpenAI:
    return make_openai(frozen)


@pytest.fixture
def fadvance(fcontrol):
    """``fadvance(seconds)``: move the frozen emulator's clock."""
    return lambda seconds: advance_clock(fcontrol, seconds)


@pytest.fixture
def processed_file(fclient, fadvance):
    """``processed_file(data, filename=...)``: upload to the frozen emulator and wait (emulated) until
    the file is processed; returns the file object."""
    def upload(data: bytes, filename: str = "train.jsonl", client: AzureOpenAI | None = None):
        client = client or fclient
        created = client.files.create(file=(filename, data), purpose="fine-tune")
        fadvance(15)
        return client.files.retrieve(created.id)
    return upload


def spec_errors(instance, definition: str, *, enums: bool = True) -> list[str]:
    """Where ``instance`` breaks ``#/definitions/<definition>`` of the official data-plane spec 2024-10-21
    (the copy shipped with the emulator, ``specs/``; a missing copy fails, never skips): closed objects,
    types, required fields; enums where the spec closes them (``enums`` is kept for the callers)."""
    from pulumi_aoai_finetune_emulator import contract

    return [str(p) for p in contract.schema_problems(definition, instance, "azureopenai-dataplane-2024-10-21.json")]
