"""aoai-ft review: preview JSON -> Markdown (the shapes are those of `pulumi preview --json`)."""

import json

import pytest
from click.testing import CliRunner

from pulumi_aoai_finetune import review
from pulumi_aoai_finetune.cli import main

U = review.UNKNOWN
SUB = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/"
NCUS, SWC = {"resource_id": SUB + "aoai-ncus"}, {"resource_id": SUB + "aoai-swc"}
FT_MODEL = "gpt-4o-mini-2024-07-18.ft-0123456789abcdef0123456789abcdef-e2e"
METRICS = {"steps": 36, "final_train_loss": 0.44, "final_full_valid_loss": 0.5331,
           "final_full_valid_token_accuracy": 0.8401, "best_valid_loss": 0.47, "best_valid_loss_step": 36,
           "overfitting": False}


def urn(name, kind=None):
    t = f"pulumi-python:dynamic/aoai:{kind}" if kind else "pulumi-python:dynamic:Resource"
    return f"urn:pulumi:dev::shop::{t}::{name}"


def step(op, name, *, old=None, new=None, outputs=None, deps=None, reasons=None, kind=None):
    s = {"op": op, "urn": urn(name, kind), "provider": "urn:pulumi:dev::shop::pulumi:providers:pulumi-python::default"}
    t = f"pulumi-python:dynamic/aoai:{kind}" if kind else "pulumi-python:dynamic:Resource"
    if old is not None:
        s["oldState"] = {"urn": s["urn"], "type": t, "inputs": {"__provider": "secret", **old},
                         "outputs": {"__provider": "secret", **old, **(outputs or {})}}
    if new is not None:
        s["newState"] = {"urn": s["urn"], "type": t, "inputs": {"__provider": "secret", **new},
                         "propertyDependencies": {k: [urn(v, kind and {"train": "TrainingFile", "job": "FineTuningJob",
                                                                        "base": "FineTuningJob"}.get(v))]
                                                  for k, v in (deps or {}).items()}}
    if reasons:
        s["replaceReasons"] = reasons
    return s


def preview(*steps):
    stack = {"op": "same", "urn": "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev",
             "newState": {"urn": "x", "type": "pulumi:pulumi:Stack"}}
    return {"config": {}, "steps": [stack, *steps], "changeSummary": {}}


def file_inputs(path, sha="a" * 64, size=2000):
    return {"account": NCUS, "path": str(path), "purpose": "fine-tune", "validate": True,
            "model": "gpt-4o-mini-2024-07-18", "content_sha256": sha, "content_bytes": size, "timeout_seconds": 3600}


def job_inputs(**extra):
    return {"account": NCUS, "base_model": "gpt-4o-mini-2024-07-18", "training_file": "file-old",
            "training_file_sha256": "a" * 64, "hyperparameters": {"n_epochs": 2}, "suffix": "e2e", "seed": 42,
            "wait": True, "timeout_seconds": 86400, "delete_model_on_destroy": False, **extra}


def dep_inputs(**extra):
    return {"account": NCUS, "deployment_name": "chat", "model": FT_MODEL, "model_format": "OpenAI",
            "model_version": "1", "sku": {"name": "Standard", "capacity": 1}, "timeout_seconds": 3600,
            "adopt_existing": False, **extra}


@pytest.fixture
def train(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps({"messages": [
        {"role": "system", "content": "You are terse."}, {"role": "user", "content": f"What is {i} + {i}?"},
        {"role": "assistant", "content": f"{2 * i}"}]}) + "\n" for i in range(40)))
    return path


def data_change(train, kind=None):
    """New training data: file replaced, job retrained, deployment replaced with the new model."""
    return preview(
        step("replace", "train", old=file_inputs(train), new=file_inputs(train, sha="b" * 64),
             outputs={"file_id": "file-old"}, reasons=["path"], kind=kind and "TrainingFile"),
        step("replace", "job", old=job_inputs(), new=job_inputs(training_file=U, training_file_sha256=U),
             outputs={"job_id": "ftjob-1", "fine_tuned_model": FT_MODEL, "metrics": METRICS},
             deps={"training_file": "train"}, reasons=["training_file"], kind=kind and "FineTuningJob"),
        step("replace", "chat", old=dep_inputs(), new=dep_inputs(model=U), deps={"model": "job"}, reasons=["model"],
             kind=kind and "ModelDeployment"),
    )


@pytest.mark.parametrize("kind", [None, "typed"])
def test_data_change_is_a_new_paid_training_run(train, kind):
    r = review.build(data_change(train, kind))
    kinds = {c.name: (c.kind, c.action) for c in r.changes}
    assert kinds == {"train": ("TrainingFile", "replace"), "job": ("FineTuningJob", "replace"),
                     "chat": ("ModelDeployment", "replace")}
    job = next(c for c in r.changes if c.name == "job")
    assert job.paid_training and "training_file: the data of `train` changed" in job.why
    assert job.training.epochs == 2 and job.training.tokens > 0 and job.training.usd is not None
    md = review.render(r)
    assert "**1 new paid training run**" in md
    assert "| `job` | FineTuningJob | **replace** | training_file: the data of `train` changed; " \
           "**starts a new paid training run** |" in md
    assert "| `train` | TrainingFile | **replace** | the data changed (content SHA-256 differs)" in md
    assert "last run `ftjob-1`" in md and "final validation loss 0.5331" in md
    assert f"| Training `job` (gpt-4o-mini-2024-07-18) | {review.cost.usd(job.training.usd)} | " \
           f"{job.training.tokens:,} tokens x 2 epochs at $3.00/1M |" in md
    assert "will be **replaced** instead of updated (model changed): it is deleted first" in md
    assert "promotes a fine-tuned model without metrics" in md
    assert "the model of job `job` (retrained in this update)" in md


def test_the_review_prices_a_job_like_its_preview_and_beside_the_run_it_replaces():
    """With the statistics the file's check computed (the job's training_file_stats), the review states
    the declared run's cost as the job's preview does (cost.estimate_job), and the replaced run's."""
    stats = {"examples": 400, "tokens": 50_000, "tokens_median": 120, "tokens_max": 300,
             "token_counting_exact": False}
    old = job_inputs(training_file_stats=dict(stats, tokens=40_000), hyperparameters={"n_epochs": 2})
    new = job_inputs(training_file_stats=stats, hyperparameters={"n_epochs": 4})
    r = review.build(preview(step("replace", "job", old=old, new=new, outputs={"job_id": "ftjob-1"},
                                  reasons=["hyperparameters"])))
    (job,) = r.changes
    assert job.paid_training and job.training.epochs == 4 and job.training.trained_tokens == 200_000
    stated = review.cost.estimate_job(new, r.prices)
    assert (job.training.usd, job.training.trained_tokens) == (stated.usd, stated.trained_tokens)
    assert job.training_replaced.trained_tokens == 80_000  # 40,000 tokens x 2 epochs
    md = review.render(r)
    assert f"  - the run it replaces: {review.cost.usd(job.training_replaced.usd)} (40,000 tokens x 2 epoch(s))" in md
    assert f"| Training `job` (gpt-4o-mini-2024-07-18) | {review.cost.usd(stated.usd)} | 50,000 tokens x 4 epochs" in md
    assert "replaces a run of" in md


def test_capacity_change_is_an_update_not_a_replacement():
    md = review.markdown(preview(step("update", "chat", old=dep_inputs(),
                                      new=dep_inputs(sku={"name": "Standard", "capacity": 3}))))
    assert "| `chat` | ModelDeployment | update | sku.capacity: 1 -> 3 |" in md
    assert "instead of updated" not in md
    assert "no new training run" in md and "(+$0.00/hour)" in md


def test_rename_replaces_without_downtime_note():
    r = review.build(preview(step("replace", "chat", old=dep_inputs(), new=dep_inputs(deployment_name="chat-2"),
                                  reasons=["deployment_name"])))
    warning = next(w for w in r.warnings if "replaced" in w)
    assert "(deployment_name changed)" in warning and "deleted first" not in warning


def test_deployments_per_region_and_hosting_delta():
    doc = preview(
        step("create", "swc", new=dep_inputs(account=SWC, deployment_name="swc", source_account=NCUS,
                                             metrics=METRICS, quality_gate={"max_final_valid_loss": 0.6})),
        step("delete", "old", old=dep_inputs(deployment_name="old")),
        step("same", "chat", old=dep_inputs(), new=dep_inputs()),
    )
    r = review.build(doc, regions={"aoai-ncus": "northcentralus", "aoai-swc": "swedencentral"})
    md = review.render(r)
    assert "| `aoai-ncus` | northcentralus | - | `old` | - | - | `chat` | 1 | $1.70/hour |" in md
    assert "| `aoai-swc` | swedencentral | `swc` | - | - | - | - | 1 |" in md
    assert r.hosting("before")[0] == pytest.approx(3.4) and r.hosting("after")[0] == pytest.approx(3.4)
    assert "quality gate: passes (final validation loss 0.5331 <= max 0.6000)" in md
    assert not [w for w in r.warnings if "swc" in w]


def test_unknown_region_is_said():
    md = review.markdown(preview(step("create", "chat", new=dep_inputs())))
    assert "(unknown: pass --region)" in md


def test_failing_quality_gate_is_a_warning_with_numbers():
    md = review.markdown(preview(step("update", "chat", old=dep_inputs(metrics=METRICS),
                                      new=dep_inputs(metrics=METRICS, quality_gate={"max_final_valid_loss": 0.5}))))
    assert "misses its quality gate: final validation loss 0.5331 > max 0.5000" in md
    assert "| `chat` | ModelDeployment | update | quality_gate.max_final_valid_loss: (none) -> 0.5 |" in md


def test_metrics_without_gate_on_a_new_deployment_is_a_warning():
    r = review.build(preview(step("create", "chat", new=dep_inputs(metrics=METRICS))))
    assert any("without a quality gate" in w for w in r.warnings)


def test_base_model_deployment_needs_no_metrics():
    r = review.build(preview(step("create", "base", new=dep_inputs(model="gpt-4o-mini"))))
    assert r.warnings == []


def test_job_setting_change_is_not_a_training_run():
    r = review.build(preview(step("update", "job", old=job_inputs(), new=job_inputs(timeout_seconds=3600))))
    job = r.changes[0]
    assert not job.paid_training and job.why == ["timeout_seconds: 86400 -> 3600"]
    assert "no new training run" in review.render(r)


def test_reupload_of_the_same_data_is_not_a_training_run():
    r = review.build(preview(step("update", "job", old=job_inputs(), new=job_inputs(training_file="file-new"))))
    assert not r.changes[0].paid_training
    assert "the same data re-uploaded: no new training run" in r.changes[0].why


def test_adopted_job_is_not_a_training_run():
    r = review.build(preview(step("create", "job", new=job_inputs(adopt_job_id="ftjob-9"))))
    assert not r.changes[0].paid_training and "adopts the existing job ftjob-9" in r.changes[0].why[0]


def test_continuous_fine_tuning_prices_the_root_base_model(train):
    doc = preview(
        step("create", "train", new=file_inputs(train)),
        step("create", "base", new=job_inputs(training_file=U), deps={"training_file": "train"}),
        step("create", "job", new=job_inputs(base_model=U, training_file=U, hyperparameters={}),
             deps={"base_model": "base", "training_file": "train"}),
    )
    r = review.build(doc)
    job = next(c for c in r.changes if c.name == "job")
    assert job.training.model == "gpt-4o-mini-2024-07-18" and job.training.usd is not None
    assert "n_epochs auto" in job.training.epochs_note
    assert len(r.training_runs) == 2


def test_training_data_not_local_is_guessed_from_its_size(tmp_path):
    doc = preview(step("create", "train", new=file_inputs(tmp_path / "gone.jsonl", size=40_000)),
                  step("create", "job", new=job_inputs(training_file=U), deps={"training_file": "train"}))
    job = next(c for c in review.build(doc).changes if c.name == "job")
    assert job.training.tokens == 10_000 and "guessed from its size" in " ".join(job.training.notes)


def test_training_file_given_as_an_id_cannot_be_priced():
    r = review.build(preview(step("create", "job", new=job_inputs(training_file="file-xyz"))))
    assert any("could not be priced" in w for w in r.warnings)


def test_delete_and_no_change():
    md = review.markdown(preview(step("delete", "job", old=job_inputs(), outputs={"job_id": "ftjob-1"})))
    assert "| `job` | FineTuningJob | **delete** | removed from the program" in md
    assert "No fine-tuning resource changes." in review.markdown(preview())


def test_other_resources_are_ignored():
    doc = preview({"op": "create", "urn": "urn:pulumi:dev::shop::azure-native:storage:Account::sa",
                   "newState": {"type": "azure-native:storage:Account", "inputs": {"sku": {}, "deployment_name": 1}}})
    assert review.build(doc).changes == []


def test_cli_writes_markdown_and_json(tmp_path, train):
    path = tmp_path / "preview.json"
    path.write_text("warning: something printed first\n" + json.dumps(data_change(train)))
    out = tmp_path / "review.md"
    result = CliRunner().invoke(main, ["review", str(path), "--out", str(out), "--region", "aoai-ncus=northcentralus"])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("## Fine-tuning review: stack `dev` (shop)")
    assert "northcentralus" in out.read_text()
    as_json = CliRunner().invoke(main, ["review", str(path), "--json"])
    doc = json.loads(as_json.output)
    assert doc["training_usd"] > 0 and {c["name"] for c in doc["changes"]} == {"train", "job", "chat"}
    strict = CliRunner().invoke(main, ["review", str(path), "--fail-on-warnings"])
    assert strict.exit_code == 2


def test_cli_rejects_what_is_not_a_preview(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    assert "no 'steps'" in CliRunner().invoke(main, ["review", str(bad)]).output
    bad.write_text("not json")
    assert "not the JSON of `pulumi preview --json`" in CliRunner().invoke(main, ["review", str(bad)]).output
    assert CliRunner().invoke(main, ["review", str(tmp_path / "x.json"), "--region", "nope"]).exit_code != 0


def test_failed_preview_shows_its_errors():
    doc = preview()
    doc["diagnostics"] = [
        {"message": "info: train.jsonl: 12 examples\n", "severity": "info#err"},
        {"urn": urn("chat"), "severity": "error",
         "message": "error: resource 'chat': property quality_gate has a problem: model m misses its quality gate: "
                    "final validation loss 0.5331 > max 0.0100\n"},
        {"message": "error: Resource monitor has terminated, shutting down\n", "severity": "error"},
    ]
    r = review.build(doc)
    assert r.failed and len(r.diagnostics) == 1 and r.diagnostics[0].startswith("error: resource 'chat'")
    md = review.render(r)
    assert "**The preview failed**" in md and "0.5331 > max 0.0100" in md and "info: train" not in md


# -- evaluations -------------------------------------------------------------------------------------
RESULTS = {"model": FT_MODEL, "deployment_name": "chat", "cases_sha256": "c" * 64, "cases_run": 15.0,
           "passed_cases": 13.0, "pass_rate": 0.8667, "pass_rate_per_grader": {"contains": 0.8667}, "errors": 0.0}


def eval_inputs(**extra):
    return {"account": NCUS, "deployment_name": "chat", "model": FT_MODEL, "cases": "/p/data/eval.jsonl",
            "cases_sha256": "c" * 64, "cases_count": 15, "cases_prompt_tokens": 660, "cases_graders": {"contains": 15},
            "max_tokens": 256, "temperature": 0, "timeout_seconds": 3600, **extra}


def test_an_evaluation_that_runs_again_is_shown_with_its_cost_and_last_results():
    doc = preview(step("replace", "held-out", kind="ModelEvaluation", old=eval_inputs(),
                       new=eval_inputs(cases_sha256="d" * 64, cases_count=20, cases_prompt_tokens=900),
                       outputs={"results": RESULTS}, reasons=["cases"]))
    result = review.build(doc)
    (change,) = result.of("ModelEvaluation")
    assert "the case file changed (content SHA-256 differs)" in change.why
    assert "**runs again**: 20 case(s) on deployment `chat`" in change.why
    assert change.evaluation.prompt_tokens == 900 and change.evaluation.completion_tokens == 20 * 256
    md = review.render(result)
    assert "### Evaluations" in md and "- `held-out` (deployment `chat`): **runs**, 900 input + 5,120 output" in md
    assert "  - last run: 13/15 cases passed (86.7%); contains 86.7%; model `" + FT_MODEL + "`" in md
    assert "| Evaluation `held-out` | at most <$0.01 | 900 input + up to 5,120 output tokens |" in md
    unchanged = review.render(review.build(preview(step("same", "held-out", kind="ModelEvaluation", old=eval_inputs(),
                                                        new=eval_inputs(), outputs={"results": RESULTS}))))
    assert "- `held-out` (deployment `chat`): unchanged, no run" in unchanged
    assert "  - results: 13/15 cases passed (86.7%)" in unchanged


def test_a_deployment_gated_on_an_evaluation_shows_it_and_warns_when_it_misses():
    gate = {"min_eval_pass_rate": 0.9}
    doc = preview(step("create", "prod", kind="ModelDeployment",
                       new=dep_inputs(deployment_name="prod", evaluation=RESULTS, quality_gate=gate)))
    result = review.build(doc)
    (change,) = result.of("ModelDeployment")
    assert change.gate is not None and not change.gate.passed
    assert any("evaluation pass rate 0.8667 < min 0.9000 (13 of 15 cases passed" in w for w in result.warnings)
    assert not any("without metrics" in w for w in result.warnings)
    assert "evaluation: 13/15 cases passed (86.7%)" in review.render(result)


def test_the_datas_statistics_are_never_listed_as_a_change(train):
    old, new = file_inputs(train), file_inputs(train, sha="b" * 64)
    old["content_stats"], new["content_stats"] = {"examples": 40, "tokens": 381}, {"examples": 40, "tokens": 383}
    assert review.changed_inputs(old, new) == ["content_sha256"]
    assert review.changed_inputs(job_inputs(training_file_stats={"tokens": 1}),
                                 job_inputs(training_file_stats={"tokens": 2})) == []


def as_plugin(dynamic_preview):
    """The same preview as the provider plugin's resources give it: aoai-finetune:index:* types,
    camelCase properties, no pickled provider."""
    from pulumi_aoai_finetune import schema

    def convert(kind, props):
        res = schema.resource(kind)
        fields = res.inputs + res.outputs + res.state
        out = {}
        for key, value in props.items():
            if key == "__provider":
                continue
            f = next((f for f in fields if f.name == key), None)
            if f is not None and isinstance(f.type, schema.Object) and isinstance(value, dict) and not f.type.api_keys:
                value = {(g.camel if (g := next((g for g in f.type.fields if g.name == k), None)) else k): v
                         for k, v in value.items()}
            out[f.camel if f else key] = value
        return out

    steps = []
    for s in json.loads(json.dumps(dynamic_preview["steps"]).replace("pulumi-python:dynamic/aoai:",
                                                                       "aoai-finetune:index:")):
        if s["urn"].split("::")[-2].startswith("aoai-finetune:index:"):
            kind = s["urn"].split("::")[-2].rsplit(":", 1)[-1]
            for state in ("oldState", "newState"):
                if state in s:
                    for part in ("inputs", "outputs", "propertyDependencies"):
                        if part in s[state]:
                            s[state][part] = convert(kind, s[state][part])
            if "replaceReasons" in s:
                s["replaceReasons"] = list(convert(kind, dict.fromkeys(s["replaceReasons"])))
        steps.append(s)
    return {**dynamic_preview, "steps": steps}


def test_the_plugins_resources_review_alike(train):
    dynamic = data_change(train, "typed")
    plugin = as_plugin(dynamic)
    assert "baseModel" in json.dumps(plugin) and "aoai-finetune:index:FineTuningJob" in json.dumps(plugin)
    assert review.render(review.build(plugin)) == review.render(review.build(dynamic))
