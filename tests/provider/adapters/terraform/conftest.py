"""Fixtures of the protocol-level tests: an emulator on a free port and the provider process on it."""

from __future__ import annotations

import os

import pytest

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

from .plugin import Plugin

API_KEY = "tf-protocol-key-5b1e"
ACCESS_TOKEN = "tf-protocol-token-92ac"


@pytest.fixture
def emulator(tmp_path):
    config = EmulatorConfig(state_dir=tmp_path / "emulator-state", time_scale=300.0,
                            accounts=(("aoai-ncus", "northcentralus"), ("aoai-swc", "swedencentral")))
    with EmulatorServer(config) as server:
        yield server


def account_id(emulator, name: str = "aoai-ncus") -> str:
    c = emulator.config
    return (f"/subscriptions/{c.subscription_id}/resourceGroups/{c.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{name}")


def plugin_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AOAI_FT_", "AZURE_", "TF_"))}
    env.update({"HOME": str(tmp_path / "home"), "AZURE_OPENAI_API_KEY": API_KEY,
                "AOAI_FT_ACCESS_TOKEN": ACCESS_TOKEN})
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


@pytest.fixture
def plugin(tmp_path, emulator):
    """The provider, configured for the emulator (settings in the provider block, credentials in the
    environment, as a user would keep them out of the configuration)."""
    work = tmp_path / "work"
    work.mkdir()
    p = Plugin(plugin_env(tmp_path), work)
    p.workdir = work
    diags = p.configure({"arm_endpoint": emulator.base_url, "credential": "token",
                         "allow_insecure_loopback": True, "poll_interval": 0.2, "max_retries": 3})
    assert not diags, diags
    yield p
    p.close()
