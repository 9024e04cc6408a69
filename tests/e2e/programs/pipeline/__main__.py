"""A test program: declares files, a job and deployments from the JSON in config ``test:spec``.

spec = {
  "subscription": ..., "resource_group": ...,
  "files": {"train": {"account": "aoai-ncus", "path": "...", ...TrainingFile inputs}},
  "job": {"account": ..., "base_model": ..., "training_file": "train", "validation_file": "valid"?, ...} | null,
  "deployments": {"ncus": {"account": ..., "model": "job" | "checkpoint:-1" | "<name>",
                           "source": "<account>"?, ...ModelDeployment inputs}}
}
"""

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

spec = pulumi.Config("test").require_object("spec")
sub, rg = spec["subscription"], spec["resource_group"]


def account(name):
    return AccountArgs(resource_id=AccountArgs.id_for(sub, rg, name))


files = {}
for key, f in (spec.get("files") or {}).items():
    f = dict(f)
    opts = pulumi.ResourceOptions(retain_on_delete=f.pop("retain_on_delete", False))
    files[key] = TrainingFile(key, account=account(f.pop("account")), opts=opts, **f)
    pulumi.export(f"file_{key}", files[key].file_id)

job = None
if spec.get("job"):
    j = dict(spec["job"])
    timeouts = j.pop("custom_timeouts", None)
    opts = pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create=timeouts) if timeouts else None)
    train = files[j.pop("training_file")] if j.get("training_file") in files else j.pop("training_file", None)
    valid = j.pop("validation_file", None)
    valid = files.get(valid, valid)
    job = FineTuningJob("job", account=account(j.pop("account")), training_file=train, validation_file=valid,
                        opts=opts, **j)
    for out in ("job_id", "status", "fine_tuned_model", "checkpoints", "metrics", "trained_tokens", "result_files"):
        pulumi.export(f"job_{out}", getattr(job, out))

for key, d in (spec.get("deployments") or {}).items():
    d = dict(d)
    model = d.pop("model")
    if model == "job":
        model = job.fine_tuned_model
    elif model.startswith("checkpoint:"):
        index = int(model.split(":", 1)[1])
        model = job.checkpoints.apply(lambda cps, i=index: cps[i]["model"])
    source = d.pop("source", None)
    dep = ModelDeployment(key, account=account(d.pop("account")), model=model,
                          source_account=account(source) if source else None, **d)
    pulumi.export(f"deployment_{key}", {"name": dep.deployment_name, "state": dep.provisioning_state,
                                        "sku": dep.deployed_sku, "model": dep.deployed_model})
