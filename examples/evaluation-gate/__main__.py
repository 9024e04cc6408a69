"""Eval-gated promotion: staging trains, deploys and evaluates; prod deploys only what passed.

The `staging` stack (config `account`, and `epochs`, default 4) trains, deploys the model and
evaluates the deployment on held-out questions (data/cases.jsonl: the answer must name the right
console page). The `prod` stack (config `promoteFrom`, e.g.
organization/aoai-evaluation-gate/staging, `account`, and `minPassRate`, default 0.8) trains nothing. It reads staging's model and evaluation through a
StackReference and deploys the model behind a quality gate on the evaluation. A model whose
evaluation missed the gate is refused at `pulumi preview`, quoting the numbers.

    pulumi stack select staging && pulumi config set account <ARM id> && pulumi up
    pulumi stack select prod && pulumi config set promoteFrom organization/aoai-evaluation-gate/staging \\
        && pulumi config set account <ARM id> && pulumi up
"""

import pulumi

from pulumi_aoai_finetune import (AccountArgs, FineTuningJob, ModelDeployment, ModelEvaluation, QualityGateArgs,
                                  TrainingFile)

config = pulumi.Config()
account = AccountArgs(resource_id=config.require("account"))
promote_from = config.get("promoteFrom")

if promote_from is None:  # staging: train, deploy, evaluate
    job = FineTuningJob(
        "support-bot",
        account=account,
        base_model="gpt-4o-mini-2024-07-18",
        training_file=TrainingFile("training-data", account=account, path="data/train.jsonl"),
        hyperparameters={"n_epochs": config.get_int("epochs") or 4},
        suffix="gated",
        seed=42,
    )
    staging = ModelDeployment("staging", account=account, model=job.fine_tuned_model, deployment_name="support-bot")
    evaluation = ModelEvaluation("held-out", deployment_name=staging, cases="data/cases.jsonl", max_tokens=256)
    pulumi.export("fine_tuned_model", job.fine_tuned_model)
    pulumi.export("training_account_id", config.require("account"))
    pulumi.export("evaluation", evaluation.results)
    pulumi.export("failures", evaluation.failures)
else:  # prod: the staging model, if its evaluation passed
    ref = pulumi.StackReference(promote_from)
    ModelDeployment(
        "prod",
        account=account,
        model=ref.require_output("fine_tuned_model"),
        source_account=AccountArgs(resource_id=ref.require_output("training_account_id")),
        deployment_name="support-bot",
        evaluation=ref.require_output("evaluation"),
        quality_gate=QualityGateArgs(min_eval_pass_rate=config.get_float("minPassRate") or 0.8),
    )
    pulumi.export("fine_tuned_model", ref.require_output("fine_tuned_model"))
