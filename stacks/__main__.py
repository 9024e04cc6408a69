"""The project's program: a fine-tuning pipeline declared from the stack's configuration.

Reads ``finetune:pipeline`` (see config.py), then declares: the accounts (existing, or created with
azure-native), the training and validation files, the fine-tuning job, one deployment per target
-- cross-region deployments name the training account as ``source`` -- and the evaluation of one
of them on held-out cases. A promoting stack trains nothing: it deploys the model another stack
trained (StackReference) or a pinned model id, after a gate on the source's metrics and on a
stack's evaluation of that model (refused at preview, quoting the numbers).
"""

from __future__ import annotations

import os

import pulumi

from pulumi_aoai_finetune import (AccountArgs, FineTuningJob, ModelDeployment, ModelEvaluation, ModelGraderArgs,
                                  TrainingFile)
from config import ConfigError, Pipeline, parse  # the program's directory is on sys.path

try:
    pipeline: Pipeline = parse(pulumi.Config("finetune").require_object("pipeline"))
except ConfigError as exc:
    raise pulumi.RunError(str(exc)) from None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def account_ids() -> dict[str, pulumi.Input[str]]:
    if pipeline.azure is None:
        return {key: pipeline.account_id(key) for key in pipeline.accounts}
    from azure_resources import create_accounts  # only real-Azure stacks need azure-native

    return create_accounts(pipeline)


ids = account_ids()
accounts = {key: AccountArgs(resource_id=rid) for key, rid in ids.items()}
granted = None  # files and the job wait for the role assignments this stack makes (real Azure only; rule A1)
if pipeline.azure is not None:
    from azure_resources import ASSIGNMENTS

    granted = pulumi.ResourceOptions(depends_on=ASSIGNMENTS)


def local(value: str) -> str:
    return value if os.path.isabs(value) else os.path.join(ROOT, value)


def data_source(value: str) -> dict[str, str]:
    if value.startswith(("https://", "http://")):
        return {"content_url": value}
    return {"path": local(value)}


deployable: dict[int | None, pulumi.Output[str]] = {}
source_key: str | None = None
source_id: pulumi.Input[str] | None = None

if pipeline.training is not None:
    t = pipeline.training
    source_key = t.account
    if t.base_model_stack:
        base_model = pulumi.StackReference(t.base_model_stack).require_output("fine_tuned_model")
    else:
        base_model = t.base_model
    model_for_data = base_model if isinstance(base_model, str) else None
    training_file = TrainingFile("training-data", account=accounts[t.account], model=model_for_data,
                                 method=t.method, grader=t.grader, opts=granted, **data_source(t.training_data))
    validation_file = None
    if t.validation_data:
        validation_file = TrainingFile("validation-data", account=accounts[t.account], model=model_for_data,
                                       method=t.method, grader=t.grader, opts=granted,
                                       **data_source(t.validation_data))
    method = {"type": "reinforcement", "reinforcement": {"grader": t.grader}} if t.grader else t.method
    opts = pulumi.ResourceOptions.merge(granted, pulumi.ResourceOptions(
        custom_timeouts=pulumi.CustomTimeouts(create=t.timeout) if t.timeout else None))
    job = FineTuningJob(
        "fine-tune", account=accounts[t.account], base_model=base_model, training_file=training_file,
        validation_file=validation_file, hyperparameters=t.hyperparameters or None, suffix=t.suffix, seed=t.seed,
        method=method, training_type=t.training_type, wait=t.wait,
        delete_model_on_destroy=not t.keep_model_on_destroy, opts=opts)
    deployable[None] = job.fine_tuned_model
    for d in pipeline.deployments:
        if d.checkpoint is not None:
            deployable[d.checkpoint] = job.checkpoints.apply(lambda cps, i=d.checkpoint: cps[i]["model"])
    pulumi.export("training_account_id", ids[t.account])
    pulumi.export("job_id", job.job_id)
    pulumi.export("fine_tuned_model", job.fine_tuned_model)
    pulumi.export("checkpoints", job.checkpoints)
    pulumi.export("metrics", job.metrics)
    pulumi.export("training_file", training_file.file_id)
else:
    p = pipeline.promote
    refs: dict[str, pulumi.StackReference] = {}

    def ref(stack: str) -> pulumi.StackReference:  # one per stack (a second would be a duplicate URN)
        if stack not in refs:
            refs[stack] = pulumi.StackReference(stack)
        return refs[stack]

    if p.stack:
        model = ref(p.stack).require_output("fine_tuned_model")
        source_id = ref(p.stack).require_output("training_account_id")
        metrics = ref(p.stack).get_output("metrics")
    else:
        model, source_id, metrics = pulumi.Output.from_input(p.model), p.source_account, pulumi.Output.from_input(None)
    evaluated = ref(p.gate.evaluation.stack).get_output("evaluation") if p.gate and p.gate.evaluation \
        else pulumi.Output.from_input(None)

    def gate(args):
        name, recorded, evaluation = args
        if p.gate is None:
            if not recorded:
                pulumi.log.warn(f"promoting {name} without recorded metrics and without a gate")
            return name
        problems = p.gate.failures(recorded)
        if p.gate.evaluation is not None:
            problems += p.gate.evaluation.failures(evaluation, name)
        if problems:
            raise pulumi.RunError(f"finetune:pipeline.promote.gate: refusing to promote {name}: " + "; ".join(problems))
        if p.gate.evaluation is not None:
            pulumi.log.info(f"promoting {name}: its evaluation in {p.gate.evaluation.stack} passes the gate")
        return name

    deployable[None] = pulumi.Output.all(model, metrics, evaluated).apply(gate)
    pulumi.export("fine_tuned_model", deployable[None])
    pulumi.export("training_account_id", source_id)
    pulumi.export("metrics", metrics)

deployments = {}
resources: dict[tuple[str, str], ModelDeployment] = {}
for d in pipeline.deployments:
    # cross-account (other region or subscription): name the training account as the source
    if pipeline.training is not None:
        source = accounts[source_key] if d.account != source_key else None
    else:  # the promoted model's account, unless it is this very account
        source = pulumi.Output.all(source_id, ids[d.account]).apply(
            lambda a: a[0] if a[0] and str(a[0]).lower() != str(a[1]).lower() else None)
    dep = ModelDeployment(f"{d.account}-{d.name}", account=accounts[d.account], deployment_name=d.name,
                          model=deployable[d.checkpoint], sku=d.sku, source_account=source)
    resources[(d.account, d.name)] = dep
    deployments[f"{d.account}/{d.name}"] = pulumi.Output.all(
        dep.provisioning_state, dep.endpoint, dep.deployed_model, dep.deployed_sku).apply(
        lambda a, region=pipeline.accounts[d.account].region: {
            "region": region, "state": a[0], "endpoint": a[1], "model": (a[2] or {}).get("name"), "sku": a[3]})
pulumi.export("deployments", deployments)

if pipeline.evaluation is not None:
    e = pipeline.evaluation
    grader = ModelGraderArgs(deployment_name=e.grader_deployment, rubric=e.rubric, model=e.grader_model,
                             account=accounts[e.grader_account or e.deployment.account]) if e.grader_deployment else None
    evaluation = ModelEvaluation("evaluation", deployment_name=resources[(e.deployment.account, e.deployment.name)],
                                 cases=local(e.cases), model_grader=grader, max_tokens=e.max_tokens or 1024,
                                 project_dir=ROOT)
    pulumi.export("evaluation", evaluation.results)
