"""End-to-end fixtures: the real Pulumi CLI, an emulator on a free port, a fresh stack per test."""

from __future__ import annotations

import httpx
import pytest

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

from .harness import Stack, pulumi_bin_dir, write_chat_jsonl

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def pulumi_bin() -> str:
    return pulumi_bin_dir()


@pytest.fixture
def emulator(tmp_path):
    config = EmulatorConfig(state_dir=tmp_path / "emulator-state", time_scale=300.0,
                            accounts=(("aoai-ncus", "northcentralus"), ("aoai-swc", "swedencentral"),
                                      ("aoai-eus2", "eastus2")))
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def emu(emulator):
    """httpx client on the emulator's controls and request log."""
    with httpx.Client(base_url=emulator.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def stack(tmp_path, pulumi_bin, emulator) -> Stack:
    return Stack(tmp_path / "pulumi", pulumi_bin, emulator.base_url)


@pytest.fixture
def base_spec(emulator, tmp_path) -> dict:
    data = write_chat_jsonl(tmp_path / "train.jsonl", 12)
    return {
        "subscription": emulator.config.subscription_id,
        "resource_group": emulator.config.resource_group,
        "files": {"train": {"account": "aoai-ncus", "path": str(data)}},
        "jobs": {"job": {"account": "aoai-ncus", "base_model": "gpt-4o-mini-2024-07-18", "training_file": "train",
                         "hyperparameters": {"n_epochs": 3}, "suffix": "e2e", "seed": 42}},
        "deployments": {"ncus": {"account": "aoai-ncus", "model": "job:job",
                                 "sku": {"name": "Standard", "capacity": 1}}},
    }


class RequestLog:
    """The emulator's log of requests served, to count calls between two points of a test."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def all(self) -> list[dict]:
        return self.client.get("/_emulator/requests").json()["data"]

    def mark(self) -> int:
        return len(self.all())

    def since(self, mark: int) -> list[dict]:
        return self.all()[mark:]

    @staticmethod
    def writes(entries: list[dict]) -> list[dict]:
        return [e for e in entries if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]

    @staticmethod
    def matching(entries: list[dict], method: str, pattern: str) -> list[dict]:
        import re

        return [e for e in entries if e["method"] == method and re.search(pattern, e["path"])]


@pytest.fixture
def requests_log(emu) -> RequestLog:
    return RequestLog(emu)
