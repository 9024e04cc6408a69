"""The fine-tuning workflow with nothing but the real clients: the openai SDK for the data plane and
azure-mgmt-cognitiveservices for ARM. Against the emulator:

    aoai-ft emulator --port 8765 &          # prints: emulator ready: http://127.0.0.1:8765 ...
    python walkthrough.py http://127.0.0.1:8765 data.jsonl

Uploads a file, trains, prints events, checkpoints and results.csv, deploys the model in a second
region (with `source`), then deletes it all (deployment, model, files).
"""

from __future__ import annotations

import sys
import time

from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Deployment, DeploymentModel, DeploymentProperties, Sku
from openai import AzureOpenAI

SUB, RG = "00000000-0000-0000-0000-000000000000", "aoai-emulator"
TRAIN, SERVE = "aoai-ncus", "aoai-swc"


class EmulatorBearer(SansIOHTTPPolicy):  # the emulator takes any bearer token over loopback http
    def on_request(self, request):
        request.http_request.headers["Authorization"] = "Bearer walkthrough"


def main(base_url: str, data_path: str) -> None:
    arm = CognitiveServicesManagementClient(object(), SUB, base_url=base_url, api_version="2025-06-01",
                                            authentication_policy=EmulatorBearer(), polling_interval=0.5)
    train_account = arm.accounts.get(RG, TRAIN)
    client = AzureOpenAI(azure_endpoint=train_account.properties.endpoint, api_key="walkthrough",
                         api_version="2024-10-21")

    with open(data_path, "rb") as fh:
        f = client.files.create(file=("data.jsonl", fh), purpose="fine-tune")
    while (f := client.files.retrieve(f.id)).status not in ("processed", "error"):
        time.sleep(0.5)
    print("file", f.id, f.status)

    job = client.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=f.id, seed=1,
                                         suffix="walkthrough", hyperparameters={"n_epochs": 2})
    while (job := client.fine_tuning.jobs.retrieve(job.id)).status not in ("succeeded", "failed", "cancelled"):
        time.sleep(0.5)
    print("job", job.id, job.status, job.fine_tuned_model)
    for event in reversed(client.fine_tuning.jobs.list_events(job.id, limit=5).data):
        print("event", event.message)
    for cp in client.fine_tuning.jobs.checkpoints.list(job.id):
        print("checkpoint", cp.fine_tuned_model_checkpoint, cp.step_number)
    results = client.files.content(job.result_files[0]).text
    print("results.csv", results.splitlines()[0], f"({len(results.splitlines()) - 1} rows)")

    body = Deployment(sku=Sku(name="Standard", capacity=1), properties=DeploymentProperties(
        model=DeploymentModel(format="OpenAI", name=job.fine_tuned_model, version="1", source=train_account.id)))
    dep = arm.deployments.begin_create_or_update(RG, SERVE, "walkthrough", body).result()
    print("deployment", dep.name, "in", SERVE, dep.properties.provisioning_state, "source", dep.properties.model.source)

    arm.deployments.begin_delete(RG, SERVE, "walkthrough").result()
    # no model delete in the data plane: deleting the job (FineTuning_Delete, not in the openai SDK) takes the
    # model with it
    client.delete(f"/fine_tuning/jobs/{job.id}", cast_to=type(None))
    client.files.delete(f.id)
    for rf in job.result_files:
        client.files.delete(rf)
    print("deleted deployment, model and files")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
