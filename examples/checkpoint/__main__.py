"""Deploy a checkpoint: train with a validation file, then deploy the epoch whose validation loss
was lowest (Azure lists the last three checkpoints, which are deployable; the last one is the fine-tuned model
itself).

    pulumi config set account <ARM id of the account>
    pulumi up
"""

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

account = AccountArgs(resource_id=pulumi.Config().require("account"))
base_model = "gpt-4o-mini-2024-07-18"

job = FineTuningJob(
    "support-bot",
    account=account,
    base_model=base_model,
    training_file=TrainingFile("training-data", account=account, path="data/train.jsonl", model=base_model),
    validation_file=TrainingFile("validation-data", account=account, path="data/valid.jsonl", model=base_model),
    hyperparameters={"n_epochs": 4},
    suffix="checkpoint",
    seed=7,
)


def best_checkpoint(checkpoints):
    """The deployable checkpoint (last three) with the lowest validation loss."""
    deployable = checkpoints[-3:]
    scored = [c for c in deployable if (c.get("metrics") or {}).get("valid_loss") is not None]
    return min(scored, key=lambda c: c["metrics"]["valid_loss"])["model"] if scored else deployable[-1]["model"]


checkpoint = job.checkpoints.apply(best_checkpoint)
deployment = ModelDeployment("best-epoch", account=account, model=checkpoint, deployment_name="support-bot-best",
                             sku={"name": "Standard", "capacity": 1})

pulumi.export("checkpoint", checkpoint)
pulumi.export("final_model", job.fine_tuned_model)
pulumi.export("deployment", deployment.deployment_name)
