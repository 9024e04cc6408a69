"""An emulator with fine-tuned models deployed, for the evaluation's tests through the real clients
(the fixtures ``lab`` and ``fresh`` are in tests/provider/conftest.py)."""

from __future__ import annotations

import json

import httpx

from pulumi_aoai_finetune import clients
from pulumi_aoai_finetune.account import AccountArgs, AccountRef
from pulumi_aoai_finetune.evaluation.cases import Case
from pulumi_aoai_finetune.settings import ProviderSettings

SYSTEM = "You are Contoso's console assistant. Answer in one sentence."
N = 30


def question(i: int) -> str:
    return f"Where do I change setting number {i}?"


def answer(i: int) -> str:
    return f"Open Admin > Settings > Panel {i} and press Save."


def training_jsonl(n: int = N) -> bytes:
    return "".join(json.dumps({"messages": [{"role": "system", "content": SYSTEM},
                                            {"role": "user", "content": question(i)},
                                            {"role": "assistant", "content": answer(i)}]}) + "\n"
                   for i in range(n)).encode()


def cases_lines(n: int = N, **extra_expect) -> list[dict]:
    """A case per trained prompt: the answer must name its panel."""
    return [{"id": f"panel-{i}", "messages": [{"role": "system", "content": SYSTEM},
                                              {"role": "user", "content": question(i)}],
             "expect": {"contains": f"Panel {i}", "not_contains": "I don't have", **extra_expect},
             "reference": answer(i)} for i in range(n)]


def as_cases(lines: list[dict]) -> list[Case]:
    out = []
    for number, line in enumerate(lines, 1):
        expect = dict(line["expect"])
        for key in ("contains", "not_contains"):
            if isinstance(expect.get(key), str):
                expect[key] = [expect[key]]
        if expect.get("model") is True:
            expect["model"] = {"rubric": None}
        out.append(Case(line["id"], number, line["messages"], expect, line.get("reference")))
    return out


class Lab:
    """The emulator, settings pointing at it, and helpers to train and deploy."""

    def __init__(self, server) -> None:
        self.server = server
        self.control = httpx.Client(base_url=server.base_url, timeout=60)
        self.settings = ProviderSettings(arm_endpoint=server.base_url, credential="token", access_token="t",
                                         api_key="k", allow_insecure_loopback=True, poll_interval=0.05,
                                         max_retries=2, request_timeout=30)
        # with its endpoint: the provider caches endpoints read from ARM per account id, and each lab
        # is another emulator (another port) with the same account ids
        self.account_inputs = {"resource_id": AccountArgs.id_for(server.config.subscription_id,
                                                                 server.config.resource_group, "aoai-ncus"),
                               "endpoint": server.backend.account_endpoint("aoai-ncus")}
        self.account = AccountRef.parse(self.account_inputs)

    def client(self, **settings):
        from dataclasses import replace

        return clients.data_plane(replace(self.settings, **settings) if settings else self.settings, self.account)

    def advance(self, seconds: float) -> None:
        self.control.post("/_emulator/clock", json={"advance_seconds": seconds}).raise_for_status()

    def train(self, data: bytes, n_epochs: int, *, seed: int = 11) -> str:
        client = self.client()
        training = client.files.create(file=("train.jsonl", data), purpose="fine-tune")
        self.advance(60)
        job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=training.id, seed=seed,
                                             hyperparameters={"n_epochs": n_epochs})
        self.advance(12 * 3600)
        job = client.fine_tuning.jobs.retrieve(job.id)
        assert job.status == "succeeded", job
        return job.fine_tuned_model

    def deploy(self, name: str, model: str, version: str = "1") -> None:
        from azure.mgmt.cognitiveservices.models import Deployment, DeploymentModel, DeploymentProperties, Sku

        arm = clients.arm(self.settings, self.account.subscription_id)
        arm.deployments.begin_create_or_update(
            self.account.resource_group, self.account.name, name,
            Deployment(sku=Sku(name="Standard", capacity=10),
                       properties=DeploymentProperties(model=DeploymentModel(format="OpenAI", name=model,
                                                                             version=version)))).result()

    def fault(self, **rule) -> dict:
        response = self.control.post("/_emulator/faults", json=rule)
        response.raise_for_status()
        return response.json()

    def hits(self) -> list[int]:
        return [r["hits"] for r in self.control.get("/_emulator/faults").json()["data"]]
