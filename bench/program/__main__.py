"""The benchmarks' Pulumi program: declares files, jobs and deployments from the JSON in the
environment variable ``BENCH_SPEC`` (set by bench/_common.py's Stack; empty spec = empty stack).

spec = {
  "subscription": ..., "resource_group": ...,
  "files": {"train": {"account": "<name>", "path": "...", ...TrainingFile inputs}},
  "jobs": {"job": {"account": ..., "base_model": "...", "training_file": "train", ...FineTuningJob inputs}},
  "deployments": {"d1": {"account": ..., "model": "job:<job>" | "checkpoint:<job>:<index>" (of the checkpoints that are not the model) | "<model name>",
                         "source": "<account>"?, ...ModelDeployment inputs}}
}
"""

import json
import os

import pulumi

from pulumi_aoai_finetune import AccountArgs, FineTuningJob, ModelDeployment, TrainingFile

spec = json.loads(os.environ.get("BENCH_SPEC") or "{}")
sub, rg = spec.get("subscription"), spec.get("resource_group")


def account(name):
    return AccountArgs(resource_id=AccountArgs.id_for(sub, rg, name))


def model_ref(ref):
    if ref.startswith("job:"):
        return jobs[ref[4:]].fine_tuned_model
    if ref.startswith("checkpoint:"):
        _, job, index = ref.split(":")
        # the checkpoints other than the final model (the service lists the last epoch's as the model itself)
        return pulumi.Output.all(jobs[job].checkpoints, jobs[job].fine_tuned_model).apply(
            lambda a, i=int(index): [c["model"] for c in a[0] if c["model"] != a[1]][i])
    return ref


files = {}
for key, f in (spec.get("files") or {}).items():
    f = dict(f)
    files[key] = TrainingFile(key, account=account(f.pop("account")), **f)

jobs = {}
for key, j in (spec.get("jobs") or {}).items():
    j = dict(j)
    train = j.pop("training_file")
    jobs[key] = FineTuningJob(key, account=account(j.pop("account")), training_file=files.get(train, train), **j)
    pulumi.export(f"{key}_model", jobs[key].fine_tuned_model)

for key, d in (spec.get("deployments") or {}).items():
    d = dict(d)
    source = d.pop("source", None)
    ModelDeployment(key, account=account(d.pop("account")), model=model_ref(d.pop("model")),
                    source_account=account(source) if source else None, **d)
