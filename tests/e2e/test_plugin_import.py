"""`pulumi import` of a file, a job and a deployment created outside Pulumi (with the openai SDK and an
ARM PUT), from YAML (`pulumi import` with code generation) and from Python (the generated SDK's
`import_` option). After the import the program previews no change, and nothing was created."""

from __future__ import annotations

import json
import time

import yaml
from openai import AzureOpenAI

from .harness import API_KEY, Stack, write_chat_jsonl
from .test_examples import account_id

CREATES = (("POST", r"/openai/files(/import)?$"), ("POST", r"/openai/fine_tuning/jobs$"),
           ("PUT", r"/deployments/[^/]+$"))


def created(requests_log, mark: int) -> list[dict]:
    since = requests_log.since(mark)
    return [e for method, pattern in CREATES for e in requests_log.matching(since, method, pattern)]


def make_outside(emulator, inventory, data) -> dict[str, str]:
    """A processed file, a succeeded job and a deployment, made the way a team does by hand."""
    client = AzureOpenAI(azure_endpoint=emulator.backend.account_endpoint("aoai-ncus"), api_key=API_KEY,
                         api_version="2024-10-21")
    with open(data, "rb") as fh:
        file = client.files.create(file=("train.jsonl", fh), purpose="fine-tune")
    while client.files.retrieve(file.id).status != "processed":
        time.sleep(0.1)
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=file.id,
                                         hyperparameters={"n_epochs": 2}, suffix="outside")
    deadline = time.monotonic() + 120
    while (job := client.fine_tuning.jobs.retrieve(job.id)).status != "succeeded":
        assert job.status not in ("failed", "cancelled") and time.monotonic() < deadline, job.status
        time.sleep(0.2)
    account = account_id(emulator, "aoai-ncus")
    url = f"{account}/deployments/outside"
    response = inventory.client.put(url, params={"api-version": "2025-06-01"}, json={
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": job.fine_tuned_model, "version": "1"}}})
    assert response.status_code in (200, 201), response.text
    while inventory.client.get(url, params={"api-version": "2025-06-01"}).json()["properties"].get(
            "provisioningState") != "Succeeded":
        time.sleep(0.1)
    return {"file": f"{account}/files/{file.id}", "job": f"{account}/fine_tuning/jobs/{job.id}", "deployment": url,
            "model": job.fine_tuned_model}


def test_import_from_yaml_with_generated_code(tmp_path, pulumi_bin, emulator, inventory, requests_log):
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="yaml")
    data = write_chat_jsonl(tmp_path / "train.jsonl", 12)
    ids = make_outside(emulator, inventory, data)
    program = stack.project / "Pulumi.yaml"
    program.write_text("name: e2e-yaml\nruntime: yaml\n")  # no resources yet
    (stack.project / "import.json").write_text(json.dumps({"resources": [
        {"type": "aoai-finetune:index:TrainingFile", "name": "data", "id": ids["file"]},
        {"type": "aoai-finetune:index:FineTuningJob", "name": "job", "id": ids["job"]},
        {"type": "aoai-finetune:index:ModelDeployment", "name": "chat", "id": ids["deployment"]},
    ]}))
    mark = requests_log.mark()
    stack.run("import", "--file", "import.json", "--out", "imported.yaml", "--yes", "--protect=false")
    generated = yaml.safe_load((stack.project / "imported.yaml").read_text())
    job = generated["resources"]["job"]["properties"]
    assert job["baseModel"] == "gpt-4o-mini-2024-07-18" and job["suffix"] == "outside"
    assert job["hyperparameters"]["n_epochs"] == 2 and job["trainingFile"] == ids["file"].rsplit("/", 1)[-1]
    assert generated["resources"]["chat"]["properties"]["model"] == ids["model"]
    # the program with the generated code: no change
    doc = yaml.safe_load(program.read_text())
    doc["resources"] = generated["resources"]
    program.write_text(yaml.safe_dump(doc))
    result = stack.preview()
    assert "4 unchanged" in result.stdout, result.stdout
    assert created(requests_log, mark) == []  # nothing uploaded, trained or deployed


def test_import_from_python_with_the_import_option(tmp_path, pulumi_bin, emulator, inventory, requests_log):
    stack = Stack(tmp_path, pulumi_bin, emulator.base_url, program="plugin_import", plugin=True)
    (stack.project / "data").mkdir()
    data = write_chat_jsonl(stack.project / "data" / "train.jsonl", 12)
    ids = make_outside(emulator, inventory, data)
    stack.config_set("test:account", account_id(emulator, "aoai-ncus"))
    stack.run("config", "set", "test:ids", json.dumps({k: ids[k] for k in ("file", "job", "deployment")}))
    mark = requests_log.mark()
    result = stack.up()
    assert "3 imported" in result.stdout, result.stdout
    assert stack.outputs() == {"model": ids["model"], "deployment": ids["deployment"]}
    again = stack.preview()
    assert "4 unchanged" in again.stdout, again.stdout  # the declaring program: no change
    assert created(requests_log, mark) == []
    kinds = {r["type"] for r in stack.resources()}
    assert kinds == {"aoai-finetune:index:TrainingFile", "aoai-finetune:index:FineTuningJob",
                     "aoai-finetune:index:ModelDeployment"}
