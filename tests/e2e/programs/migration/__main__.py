"""A stack moved from the dynamic resources to the plugin's (README: "Moving a stack to the plugin").

config test:stage: "dynamic" (the Python API, pulumi_aoai_finetune) or "plugin" (the generated SDK,
pulumi_aoai_finetune_plugin, each resource aliased to its old dynamic type); test:account: the ARM id.
"""

import pulumi

config = pulumi.Config("test")
account_id = config.require("account")
base_model = "gpt-4o-mini-2024-07-18"

if config.require("stage") == "dynamic":
    from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

    account = AccountArgs(resource_id=account_id)
    training = TrainingFile("training-data", account=account, path="data/train.jsonl", model=base_model)
    job = FineTuningJob("support-bot", account=account, base_model=base_model, training_file=training,
                        hyperparameters={"n_epochs": 2}, suffix="moved", seed=42)
    chat = ModelDeployment("support-bot", account=account, model=job.fine_tuned_model,
                           sku={"name": "Standard", "capacity": 1})
    fine_tuned_model = job.fine_tuned_model
else:
    import pulumi_aoai_finetune_plugin as aoai

    def moved(kind: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=f"pulumi-python:dynamic/aoai:{kind}")])

    account = aoai.AccountArgs(resource_id=account_id)
    training = aoai.TrainingFile("training-data", account=account, path="data/train.jsonl", model=base_model,
                                 opts=moved("TrainingFile"))
    job = aoai.FineTuningJob("support-bot", account=account, base_model=base_model, training_file=training.file_id,
                             training_file_sha256=training.sha256, hyperparameters={"n_epochs": 2},
                             suffix="moved", seed=42, opts=moved("FineTuningJob"))
    chat = aoai.ModelDeployment("support-bot", account=account, model=job.fine_tuned_model,
                                sku=aoai.SkuArgs(name="Standard", capacity=1), opts=moved("ModelDeployment"))
    fine_tuned_model = job.fine_tuned_model

pulumi.export("model", fine_tuned_model)
pulumi.export("endpoint", chat.endpoint)
