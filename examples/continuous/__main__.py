"""Continuous fine-tuning: a second job uses the first job's fine-tuned model as its base model,
with new data. Only the second model is deployed.

    pulumi config set account <ARM id of the account>
    pulumi up
"""

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

account = AccountArgs(resource_id=pulumi.Config().require("account"))
base_model = "gpt-4o-mini-2024-07-18"

first = FineTuningJob(
    "support-v1",
    account=account,
    base_model=base_model,
    training_file=TrainingFile("data-v1", account=account, path="data/train.jsonl", model=base_model),
    hyperparameters={"n_epochs": 3},
    suffix="v1",
    seed=1,
)

second = FineTuningJob(
    "support-v2",
    account=account,
    base_model=first.fine_tuned_model,  # a fine-tuned model as the base
    training_file=TrainingFile("data-v2", account=account, path="data/more.jsonl", model=base_model),
    hyperparameters={"n_epochs": 2},
    suffix="v2",
    seed=2,
)

deployment = ModelDeployment("support", account=account, model=second.fine_tuned_model,
                             deployment_name="support-bot", sku={"name": "Standard", "capacity": 1})

pulumi.export("v1_model", first.fine_tuned_model)
pulumi.export("v2_model", second.fine_tuned_model)
pulumi.export("deployment", deployment.deployment_name)
