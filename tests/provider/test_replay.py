"""Replay: Microsoft's own example responses (the ``x-ms-examples`` of the operations the provider uses,
shipped unchanged in the emulator's ``specs/examples/``) through the provider's parsing and state code --
the real openai SDK's models and the ARM client's deserialisation -- not only our emulator's answers.

Each example is served by a mock transport under the real SDK client, so what is parsed is exactly the
example's body; the controllers' ``read`` then turns it into resource outputs."""

from __future__ import annotations

import json
import re

import httpx2
import pytest
from openai import AzureOpenAI

from pulumi_aoai_finetune import clients
from pulumi_aoai_finetune.fine_tuning_job import FineTuningJobController
from pulumi_aoai_finetune.model_deployment import ModelDeploymentController
from pulumi_aoai_finetune.settings import ProviderSettings
from pulumi_aoai_finetune.training_file import TrainingFileController
from pulumi_aoai_finetune_emulator import contract

EXAMPLES = contract.SPECS_DIR / "examples"
DATA = "azureopenai-dataplane-2024-10-21"
ACCOUNT = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/aoairesource",
           "endpoint": "https://aoairesource.openai.azure.com/"}
RESULTS_CSV = "step,train_loss,train_mean_token_accuracy,valid_loss,validation_mean_token_accuracy\n1,0.5,0.8,,\n2,0.4,0.9,,\n"


def example(folder: str, name: str) -> dict:
    return json.loads((EXAMPLES / folder / name).read_text(encoding="utf-8"))


def body(folder: str, name: str, status: str = "200"):
    return example(folder, name)["responses"][status]["body"]


# (method, path under /openai, example file, status)
ROUTES = [
    ("GET", r"/fine_tuning/jobs/[^/]+/checkpoints", "get_finetuning_job_checkpoints.json", "200"),
    ("GET", r"/fine_tuning/jobs/[^/]+/events", "get_finetuning_job_events.json", "200"),
    ("POST", r"/fine_tuning/jobs/[^/]+/cancel", "cancel_finetuning_job.json", "200"),
    ("GET", r"/fine_tuning/jobs/[^/]+", "get_finetuning_job.json", "200"),
    ("POST", r"/fine_tuning/jobs", "post_finetuning_job.json", "201"),
    ("GET", r"/models/[^/]+", "get_model_finetune.json", "200"),
    ("POST", r"/files/import", "import_file.json", "201"),
    ("GET", r"/files/[^/]+/content", None, "200"),
    ("GET", r"/files/[^/]+", "get_file.json", "200"),
    ("GET", r"/files", "get_files.json", "200"),
]


@pytest.fixture
def replay(monkeypatch):
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path.split("/openai", 1)[1]
        for method, pattern, name, status in ROUTES:
            if request.method == method and re.fullmatch(pattern, path):
                seen.append(name or "content")
                if name is None:
                    return httpx2.Response(200, content=RESULTS_CSV.encode(), headers={"content-type": "text/csv"})
                return httpx2.Response(int(status), json=body(DATA, name, status))
        raise AssertionError(f"no example for {request.method} {path}")

    client = AzureOpenAI(azure_endpoint=ACCOUNT["endpoint"], api_key="k", api_version="2024-10-21", max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    monkeypatch.setattr(clients, "data_plane", lambda *a, **k: client)
    client.seen = seen
    return client


def test_the_examples_are_the_responses_of_their_operations():
    """Every example body validates against its operation's response schema in the spec copy (the same
    closed-object check the emulator's answers pass), so replaying them tests the official contract."""
    spec = contract.contract("data", "2024-10-21")
    for method, pattern, name, status in ROUTES:
        if name is None:
            continue
        path = re.sub(r"\[\^/\]\+", "x", pattern)
        assert spec.check_response(method, path, int(status), body(DATA, name, status)) == [], name


def test_a_job_read_from_the_examples_gives_complete_outputs(replay):
    ctl = FineTuningJobController(ProviderSettings())
    job = body(DATA, "get_finetuning_job.json")
    props = {"account": ACCOUNT, "base_model": "curie", "training_file": job["training_file"], "status": "running",
             "checkpoints": None}
    id_, outs = ctl.read(job["id"], props)
    assert id_ == job["id"]
    assert outs["status"] == "succeeded" and outs["fine_tuned_model"] == job["fine_tuned_model"]
    assert outs["trained_tokens"] == 2342 and outs["result_files"] == job["result_files"]
    assert outs["finished_at"] == "2022-03-01T09:35:11Z" and outs["created_at"] == "2022-03-01T09:15:27Z"
    assert outs["resolved_hyperparameters"] == {"n_epochs": -1}
    steps = [c["step_number"] for c in outs["checkpoints"]]
    assert steps == [10, 20, 30] and all(c["model"].endswith(f":ckpt-step-{s}") for c, s in zip(outs["checkpoints"], steps))
    assert outs["checkpoints"][0]["metrics"]["full_valid_loss"] == 0.567
    assert outs["metrics"]["steps"] == 2 and outs["metrics"]["results_file"] == job["result_files"][0]
    assert {"get_finetuning_job.json", "get_model_finetune.json", "get_finetuning_job_checkpoints.json",
            "content"} <= set(replay.seen)


def test_creating_a_job_parses_the_example_answer(replay, monkeypatch):
    ctl = FineTuningJobController(ProviderSettings())
    created = ctl._send_create(replay, {"base_model": "curie", "training_file": "file-181a1cbdcdcf4677ada87f63a0928099"})
    expected = body(DATA, "post_finetuning_job.json", "201")
    assert (created.id, created.status, created.model) == (expected["id"], "pending", "curie")
    assert created.hyperparameters.n_epochs == -1


def test_a_file_read_and_an_import_from_the_examples(replay):
    ctl = TrainingFileController(ProviderSettings())
    expected = body(DATA, "get_file.json")
    id_, outs = ctl.read(expected["id"], {"account": ACCOUNT, "path": "/x/puppy.jsonl", "content_sha256": "abc"})
    assert id_ == expected["id"] and outs["status"] == "processed" and outs["bytes"] == 140
    assert outs["filename"] == "puppy.jsonl" and outs["created_at"] == "2022-03-01T09:15:27Z" and outs["sha256"] == "abc"
    from openai.types import FileObject

    imported = replay.post("/files/import", cast_to=FileObject, body=example(DATA, "import_file.json")["parameters"]
                           ["fileImport"])
    assert imported.status == "pending" and imported.bytes is None  # the example's answer has no bytes yet
    listed = clients.first_page(replay.files.list(purpose="fine-tune"))
    assert [f.purpose for f in listed] == ["fine-tune", "fine-tune-results"]


def test_a_deployment_from_the_arm_example_through_the_arm_models():
    from azure.mgmt.cognitiveservices.models import Deployment

    raw = body("cognitiveservices-arm-2025-06-01", "GetDeployment.json")
    assert contract.schema_problems("Deployment", raw, "cognitiveservices-arm-2025-06-01.json") == []
    result = Deployment.deserialize(raw)
    ctl = ModelDeploymentController(ProviderSettings())
    from pulumi_aoai_finetune.account import AccountRef

    outs = ctl._outputs(AccountRef.parse(ACCOUNT), {"account": ACCOUNT, "model": "ada"}, result)
    assert outs["deployment_id"] == raw["id"] and outs["provisioning_state"] == "Succeeded"
    assert outs["deployed_model"] == {"name": "ada", "version": "1", "format": "OpenAI", "source": None}
    assert outs["deployed_sku"] == {"name": "Standard", "capacity": 1}
    assert outs["endpoint"] == ACCOUNT["endpoint"]
