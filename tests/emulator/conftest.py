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
