"""A test program: declares files, jobs and deployments from the JSON in config ``test:spec``.

spec = {
  "subscription": ..., "resource_group": ...,
  "files": {"train": {"account": "aoai-ncus", "path": "...", ...TrainingFile inputs}},
  "jobs": {"job": {"account": ..., "base_model": "<model>" | "job:<other job>", "training_file": "train",
                   "validation_file": "valid"?, "custom_timeouts": "10m"?, ...FineTuningJob inputs}},
  "deployments": {"ncus": {"account": ..., "model": "job:<job>" | "checkpoint:<job>:<index>" | "<name>",
                           "source": "<account>"?, ...ModelDeployment inputs}}
}
"""

import os

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

spec = pulumi.Config("test").require_object("spec")
sub, rg = spec["subscription"], spec["resource_group"]


def account(name):
    return AccountArgs(resource_id=AccountArgs.id_for(sub, rg, name))


def model_ref(ref):
    if ref.startswith("job:"):
        return jobs[ref[4:]].fine_tuned_model
    if ref.startswith("checkpoint:"):
        _, job, index = ref.split(":")
        return jobs[job].checkpoints.apply(lambda cps, i=int(index): cps[i]["model"])
    return ref


files = {}
for key, f in (spec.get("files") or {}).items():
    f = dict(f)
    opts = pulumi.ResourceOptions(retain_on_delete=f.pop("retain_on_delete", False))
    if isinstance(f.get("path"), str) and "project_dir" not in f:
        # the tests keep their data in their tmp directory, outside this copied project
        f["project_dir"] = os.path.dirname(f["path"])
    files[key] = TrainingFile(key, account=account(f.pop("account")), opts=opts, **f)
    pulumi.export(f"file_{key}", files[key].file_id)

jobs = {}
for key, j in (spec.get("jobs") or {}).items():
    j = dict(j)
    timeouts = j.pop("custom_timeouts", None)
    opts = pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create=timeouts) if timeouts else None)
    train = j.pop("training_file", None)
    valid = j.pop("validation_file", None)
    jobs[key] = FineTuningJob(key, account=account(j.pop("account")), base_model=model_ref(j.pop("base_model")),
                              training_file=files.get(train, train), validation_file=files.get(valid, valid),
                              opts=opts, **j)
    for out in ("job_id", "status", "fine_tuned_model", "checkpoints", "metrics", "trained_tokens", "result_files"):
        pulumi.export(f"{key}_{out}", getattr(jobs[key], out))

for key, d in (spec.get("deployments") or {}).items():
    d = dict(d)
    source = d.pop("source", None)
    dep = ModelDeployment(key, account=account(d.pop("account")), model=model_ref(d.pop("model")),
                          source_account=account(source) if source else None, **d)
    pulumi.export(f"deployment_{key}", {"id": dep.id, "name": dep.deployment_name, "state": dep.provisioning_state,
                                        "sku": dep.deployed_sku, "model": dep.deployed_model})
