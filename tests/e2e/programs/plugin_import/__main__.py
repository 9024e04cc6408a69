"""Objects created outside Pulumi, imported by a program on the generated Python SDK (the `import_`
resource option), declared as their creator would have: data, base model, epochs, suffix, name.

config test:account (ARM id), test:ids ({file, job, deployment}: the import ids).
"""

import pulumi
import pulumi_aoai_finetune_plugin as aoai

config = pulumi.Config("test")
ids = config.require_object("ids")
account = aoai.AccountArgs(resource_id=config.require("account"))


def imported(key: str) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(import_=ids[key])


data = aoai.TrainingFile("data", account=account, path="data/train.jsonl", opts=imported("file"))
job = aoai.FineTuningJob("job", account=account, base_model="gpt-4o-mini-2024-07-18", training_file=data.file_id,
                         hyperparameters=aoai.HyperparametersArgs(n_epochs=2), suffix="outside",
                         opts=imported("job"))
chat = aoai.ModelDeployment("chat", account=account, model=job.fine_tuned_model, deployment_name="outside",
                            opts=imported("deployment"))

pulumi.export("model", job.fine_tuned_model)
pulumi.export("deployment", chat.deployment_id)
