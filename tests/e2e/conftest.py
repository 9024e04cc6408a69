"""End-to-end fixtures: the real Pulumi CLI, an emulator on a free port, a fresh stack per test."""

from __future__ import annotations

import httpx
import pytest

from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

from .harness import Stack, pulumi_bin_dir, reap_processes_under, write_chat_jsonl

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _reap_orphaned_plugins(tmp_path):
    """After each test, no language host or provider process of a killed `pulumi` lingers."""
    yield
    reap_processes_under(tmp_path)


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


# -- faults, inventory and killing `pulumi up` (tests/e2e/test_faults.py, test_interruptions.py, ...) ----------
class FaultControl:
    """``/_emulator/faults``: arm rules, read how often each fired, clear them."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def add(self, **rule) -> dict:
        response = self.client.post("/_emulator/faults", json=rule)
        assert response.status_code == 201, response.text
        return response.json()

    def rules(self) -> list[dict]:
        return self.client.get("/_emulator/faults").json()["data"]

    def hits(self, rule: dict) -> int:
        return next(r["hits"] for r in self.rules() if r["id"] == rule["id"])

    def clear(self) -> None:
        self.client.delete("/_emulator/faults")


@pytest.fixture
def faults(emu) -> FaultControl:
    return FaultControl(emu)


class Inventory:
    """What exists on the emulator, read through its APIs (also for an emulator in another process)."""

    def __init__(self, base_url: str, subscription: str, resource_group: str) -> None:
        from .harness import ACCESS_TOKEN, API_KEY

        self.base_url, self.sub, self.rg = base_url, subscription, resource_group
        self.client = httpx.Client(base_url=base_url, timeout=30, headers={"api-key": API_KEY,
                                                                           "Authorization": f"Bearer {ACCESS_TOKEN}"})

    def _data(self, account: str, path: str) -> list[dict]:
        response = self.client.get(f"/accounts/{account}/openai/{path}", params={"api-version": "2024-10-21"})
        response.raise_for_status()
        return response.json()["data"]

    def files(self, account: str = "aoai-ncus") -> list[dict]:
        """The data files (purpose fine-tune; a job's results files are the service's own)."""
        return [f for f in self._data(account, "files") if f["purpose"] == "fine-tune"]

    def jobs(self, account: str = "aoai-ncus") -> list[dict]:
        return self._data(account, "fine_tuning/jobs?limit=100")

    def deployments(self, account: str = "aoai-ncus") -> list[dict]:
        response = self.client.get(f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/"
                                   f"Microsoft.CognitiveServices/accounts/{account}/deployments",
                                   params={"api-version": "2025-06-01"})
        response.raise_for_status()
        return response.json()["value"]

    def counts(self, account: str = "aoai-ncus") -> tuple[int, int, int]:
        """(files, jobs, deployments) in the account."""
        return len(self.files(account)), len(self.jobs(account)), len(self.deployments(account))


@pytest.fixture
def inventory(emulator):
    inv = Inventory(emulator.base_url, emulator.config.subscription_id, emulator.config.resource_group)
    yield inv
    inv.client.close()


def start_up(stack: Stack, *extra: str):
    """`pulumi up` in its own process group, so a test can kill the CLI with its provider processes."""
    import subprocess

    return subprocess.Popen(["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", *extra],
                            cwd=stack.project, env=stack.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def kill_when(proc, condition, *, timeout: float = 120.0, what: str = "") -> str:
    """Wait until ``condition()`` holds while ``pulumi up`` runs, then SIGKILL its whole process group.
    Returns what the CLI printed until then."""
    import os
    import signal
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"pulumi up ended before {what}:\n{proc.stdout.read()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return out


def wait_until(condition, *, timeout: float = 60.0, what: str = ""):
    """Poll ``condition()`` until it is true (and return it); fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


def set_clock(emu, **body) -> None:
    """``POST /_emulator/clock``: ``frozen=True`` stops the emulator's clock (so a job stays where it is
    however slow the machine), ``frozen=False`` restarts it, ``advance_seconds=N`` moves it."""
    emu.post("/_emulator/clock", json=body).raise_for_status()


def up_after_kill(stack: Stack):
    """The next `pulumi up`; a killed run leaves the file backend's lock behind: cancel it as a user would."""
    result = stack.up(check=False)
    if result.returncode != 0 and "locked" in result.stdout + result.stderr:
        stack.run("cancel", "--yes")
        result = stack.up(check=False)
    return result


# -- the state in Azure Blob Storage (tests/e2e/test_team.py, test_ci.py) ----------------------
@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """One Azurite for the session (it takes seconds to start); each test makes its own container."""
    from .azurite import Azurite, azurite_bin_dir

    server = Azurite(azurite_bin_dir(), tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()
