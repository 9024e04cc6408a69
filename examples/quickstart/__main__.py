"""Quickstart: upload training data, fine-tune gpt-4o-mini, deploy the model.

    pulumi config set account /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>
    pulumi up
"""

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

config = pulumi.Config()
account = AccountArgs(resource_id=config.require("account"))
base_model = config.get("baseModel") or "gpt-4o-mini-2024-07-18"

training = TrainingFile("training-data", account=account, path="data/train.jsonl", model=base_model)

job = FineTuningJob(
    "support-bot",
    account=account,
    base_model=base_model,
    training_file=training,
    hyperparameters={"n_epochs": 3},
    suffix="quickstart",
    seed=42,
)

deployment = ModelDeployment(
    "support-bot",
    account=account,
    model=job.fine_tuned_model,
    deployment_name="support-bot",
    sku={"name": "Standard", "capacity": 1},
)

pulumi.export("fine_tuned_model", job.fine_tuned_model)
pulumi.export("metrics", job.metrics)
pulumi.export("deployment", deployment.deployment_name)
pulumi.export("endpoint", deployment.endpoint)
