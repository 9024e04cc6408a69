"""Multi-region promotion with a StackReference.

The `dev` stack trains (config `trainAccount`); the `prod` stack (config `promoteFrom`, e.g.
organization/aoai-promotion/dev, and `regions`, a list of account ids) trains nothing: it reads the
model and the training account from dev and deploys it in every account, naming dev's account as
the source. Promotion is a config change, not a retraining. `sku` (default Standard) picks the
deployment type: a fine-tuned model gets a Standard deployment only in some regions per base model
(gpt-4o-mini: North Central US, Sweden Central); GlobalStandard is offered from every region.

    pulumi stack select dev  && pulumi config set trainAccount <ARM id> && pulumi up
    pulumi stack select prod && pulumi config set promoteFrom organization/aoai-promotion/dev \\
        && pulumi config set --path 'regions[0]' <ARM id> && pulumi up
"""

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

config = pulumi.Config()
promote_from = config.get("promoteFrom")

if promote_from is None:  # the training stage
    account = AccountArgs(resource_id=config.require("trainAccount"))
    job = FineTuningJob(
        "support-bot",
        account=account,
        base_model="gpt-4o-mini-2024-07-18",
        training_file=TrainingFile("training-data", account=account, path="data/train.jsonl"),
        hyperparameters={"n_epochs": 3},
        suffix="promoted",
        seed=42,
    )
    ModelDeployment("dev", account=account, model=job.fine_tuned_model, deployment_name="support-bot-dev")
    pulumi.export("fine_tuned_model", job.fine_tuned_model)
    pulumi.export("training_account_id", config.require("trainAccount"))
    pulumi.export("metrics", job.metrics)
else:  # a later stage: the model trained by the earlier stack, deployed in each region
    dev = pulumi.StackReference(promote_from)
    model = dev.require_output("fine_tuned_model")
    source = AccountArgs(resource_id=dev.require_output("training_account_id"))
    for i, account_id in enumerate(config.require_object("regions")):
        ModelDeployment(f"region-{i}", account=AccountArgs(resource_id=account_id), model=model,
                        source_account=source, deployment_name="support-bot",
                        sku={"name": config.get("sku") or "Standard", "capacity": config.get_int("capacity") or 2})
    pulumi.export("fine_tuned_model", model)
