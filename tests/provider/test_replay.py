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
from pulumi_aoai_finetune.account import AccountRef
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
    ("GET", r"/fine_tuning/jobs", "get_finetuning_jobs.json", "200"),
    ("POST", r"/fine_tuning/jobs", "post_finetuning_job.json", "201"),
    ("GET", r"/models/curie", "get_model_base.json", "200"),
    ("GET", r"/models/[^/]+", "get_model_finetune.json", "200"),
    ("GET", r"/models", "get_models.json", "200"),
    ("POST", r"/files/import", "import_file.json", "201"),
    ("GET", r"/files/[^/]+/content", None, "200"),
    ("GET", r"/files/[^/]+", "get_file.json", "200"),
    ("DELETE", r"/files/[^/]+", "delete_file.json", "200"),
    ("GET", r"/files", "get_files.json", "200"),
    ("POST", r"/files", "upload_file.json", "201"),
]
# Not in the repository's stored text (so not replayed): delete_finetuning_job.json (FineTuning_Delete,
# 2024-10-21); see specs/README.md, "Examples".


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


def test_an_upload_and_a_delete_from_the_examples(replay):
    """Files_Upload's 201 (a file still ``pending``, no ``bytes`` yet) through the SDK and the controller's
    outputs; Files_Delete's answer (``deleted: true``) through the controller's delete, which first reads
    the file (get_file.json: no owner marker in ``puppy.jsonl``) and then deletes it."""
    ctl = TrainingFileController(ProviderSettings())
    uploaded = replay.files.create(file=("puppy.jsonl", b'{"messages": []}\n'), purpose="fine-tune")
    outs = ctl._outputs({"account": ACCOUNT, "content_sha256": "abc"}, uploaded)
    expected = body(DATA, "upload_file.json", "201")
    assert outs["file_id"] == expected["id"] and outs["status"] == "pending" and outs["bytes"] is None
    assert outs["filename"] == "puppy.jsonl" and outs["created_at"] == "2022-03-01T09:15:27Z"
    ctl.delete(expected["id"], {"account": ACCOUNT})
    assert replay.seen[-2:] == ["get_file.json", "delete_file.json"]


def test_a_job_listing_from_the_example_is_found_but_not_adopted(replay):
    """FineTuning_List's example job matches these inputs; the provider finds it (its model exists:
    get_model_finetune.json) and refuses to attach to it without proof it is this stack's."""
    from pulumi_aoai_finetune.errors import ConfigurationError

    ctl = FineTuningJobController(ProviderSettings())
    listed = body(DATA, "get_finetuning_jobs.json")["data"][0]
    inputs = {"account": ACCOUNT, "base_model": "curie", "training_file": listed["training_file"]}
    with pytest.raises(ConfigurationError, match=listed["id"]):
        ctl._find_same(replay, inputs)
    assert "get_finetuning_jobs.json" in replay.seen and "get_model_finetune.json" in replay.seen


def test_the_models_list_and_a_base_model_from_the_examples(replay, monkeypatch):
    from pulumi_aoai_finetune import availability

    monkeypatch.setattr(clients, "data_plane", lambda *a, **k: replay)
    found = availability.account_standard_models(ProviderSettings(), AccountRef.parse(ACCOUNT))
    assert found == {"curie": True, "curie.ft-72a2792ef7d24ba7b82c7fe4a37e379f": False}
    base = replay.models.retrieve("curie")
    assert base.id == "curie" and replay.seen[-1] == "get_model_base.json"


ARM_PREVIEW = "cognitiveservices-arm-2025-07-01-preview"


class _Arm:
    """Stands in for CognitiveServicesManagementClient: answers with the example bodies, deserialised by the
    azure-mgmt-cognitiveservices models the real client uses."""

    def __init__(self, account=None, deployments=None):
        from types import SimpleNamespace

        self.accounts = SimpleNamespace(get=lambda *a, **k: account)
        self.deployments = SimpleNamespace(list=lambda *a, **k: iter(deployments or []))


def test_the_arm_preview_examples_validate_and_parse(monkeypatch):
    """ARM 2025-07-01-preview (developer tier): GetAccount and ListDeployments validate against the spec
    copy, and go through the provider's account read (region and endpoint) and deployment listing."""
    from azure.mgmt.cognitiveservices.models import Account, Deployment

    from pulumi_aoai_finetune import availability

    account_raw = body(ARM_PREVIEW, "GetAccount.json")
    listed_raw = body(ARM_PREVIEW, "ListDeployments.json")
    spec = f"{ARM_PREVIEW}.json"
    assert contract.schema_problems("Account", account_raw, spec) == []
    assert contract.schema_problems("DeploymentListResult", listed_raw, spec) == []
    arm = _Arm(Account.deserialize(account_raw), [Deployment.deserialize(d) for d in listed_raw["value"]])
    monkeypatch.setattr(clients, "arm", lambda *a, **k: arm)
    ref = AccountRef.parse({"resource_id": account_raw["id"]})
    assert availability._read_account(ProviderSettings(), ref) == ("westus", None)
    assert clients.endpoint(ProviderSettings(), ref) == account_raw["properties"]["endpoint"]
    assert availability._list_deployments(ProviderSettings(), ref) == [("deploymentName", "ada")]
