"""Quality gates on ModelDeployment: checked at preview when metrics are known, again before the PUT."""

import pytest

from pulumi_aoai_finetune import quality
from pulumi_aoai_finetune.controller import UNKNOWN
from pulumi_aoai_finetune.model_deployment import ModelDeploymentController
from pulumi_aoai_finetune.settings import ProviderSettings

A = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-a"}
MODEL = "gpt-4o-mini-2024-07-18.ft-abc"
BASE = {"account": A, "model": MODEL, "deployment_name": "chat"}
METRICS = {"steps": 36, "final_train_loss": 0.44, "final_train_token_accuracy": 0.87, "final_valid_loss": 0.47,
           "final_valid_token_accuracy": 0.85, "final_full_valid_loss": 0.5331,
           "final_full_valid_token_accuracy": 0.8401,
           "train_valid_gap_last_epoch": 0.05, "overfitting": False, "overfitting_note": "no signal",
           "results_file": "file-results"}


@pytest.fixture
def ctl():
    return ModelDeploymentController(ProviderSettings())


def checked(ctl, **extra):
    inputs, failures = ctl.check({}, {**BASE, **extra})
    assert failures == []
    return inputs


def test_args_to_inputs_drop_unset_thresholds():
    gate = quality.QualityGateArgs(max_final_valid_loss=0.6, min_final_valid_token_accuracy=0.8)
    assert gate.to_inputs() == {"max_final_valid_loss": 0.6, "min_final_valid_token_accuracy": 0.8,
                                "fail_on_overfitting": False, "require_metrics": True}
    assert quality.gate_inputs(None) is None and quality.gate_inputs({"max_final_valid_loss": 1}) == {
        "max_final_valid_loss": 1}


def test_evaluate_quotes_the_numbers():
    result = quality.evaluate({"max_final_valid_loss": 0.5, "min_final_valid_token_accuracy": 0.9}, METRICS)
    assert not result.passed
    assert result.failures == ["final validation loss 0.5331 > max 0.5000",
                               "final validation token accuracy 0.8401 < min 0.9000"]
    message = result.message(MODEL, METRICS)
    assert message.startswith(f"model {MODEL} misses its quality gate: final validation loss 0.5331 > max 0.5000")
    assert "results file file-results, 36 steps" in message


def test_evaluate_passes_within_thresholds():
    result = quality.evaluate({"max_final_valid_loss": 0.6, "max_final_train_loss": 0.5,
                               "min_final_train_token_accuracy": 0.8, "max_train_valid_gap": 0.1}, METRICS)
    assert result.passed and len(result.checked) == 4
    assert "passes its quality gate" in result.message(MODEL)


def test_full_validation_loss_is_preferred_over_the_last_minibatch():
    # last per-step valid loss 0.47 would pass 0.5; the full validation loss 0.5331 does not
    assert not quality.evaluate({"max_final_valid_loss": 0.5}, METRICS).passed
    only_step = {k: v for k, v in METRICS.items() if not k.startswith("final_full")}
    assert quality.evaluate({"max_final_valid_loss": 0.5}, only_step).passed


def test_missing_metrics_fail_unless_not_required():
    assert quality.evaluate({"max_final_valid_loss": 1}, None).failures[0].startswith("no training metrics")
    assert quality.evaluate({"max_final_valid_loss": 1, "require_metrics": False}, None).passed
    no_valid = {"steps": 10, "final_train_loss": 0.3}
    result = quality.evaluate({"max_final_valid_loss": 1}, no_valid)
    assert not result.passed and "needs a validation_file" in result.failures[0]
    assert quality.evaluate({"max_final_valid_loss": 1, "require_metrics": False}, no_valid).passed


def test_overfitting_flag():
    bad = {**METRICS, "overfitting": True, "overfitting_note": "overfitting: the gap grew from 0.1 to 0.3"}
    result = quality.evaluate({"fail_on_overfitting": True}, bad)
    assert not result.passed and "gap grew" in result.failures[0]
    assert quality.evaluate({"fail_on_overfitting": True}, METRICS).passed


@pytest.mark.parametrize("gate, field, message", [
    ({"max_final_valid_loss": "low"}, "quality_gate.max_final_valid_loss", "use a number"),
    ({"min_final_valid_token_accuracy": 80}, "quality_gate.min_final_valid_token_accuracy", "fraction from 0 to 1"),
    ({"max_final_train_loss": -1}, "quality_gate.max_final_train_loss", "zero or more"),
    ({"max_loss": 1}, "quality_gate", "unknown quality_gate keys"),
    ({"require_metrics": "yes", "max_final_valid_loss": 1}, "quality_gate.require_metrics", "true or false"),
    ({}, "quality_gate", "has no threshold"),
    ("strict", "quality_gate", "must be an object"),
])
def test_check_rejects_bad_gates(ctl, gate, field, message):
    _, failures = ctl.check({}, {**BASE, "quality_gate": gate, "metrics": METRICS})
    assert any(f == field and message in m for f, m in failures), failures


def test_check_fails_the_preview_when_known_metrics_miss_the_gate(ctl):
    _, failures = ctl.check({}, {**BASE, "metrics": METRICS,
                                 "quality_gate": {"max_final_valid_loss": 0.5, "require_metrics": True}})
    assert len(failures) == 1 and failures[0][0] == "quality_gate"
    assert "final validation loss 0.5331 > max 0.5000" in failures[0][1] and MODEL in failures[0][1]


def test_check_passes_when_metrics_are_not_known_yet(ctl):
    inputs = checked(ctl, metrics=UNKNOWN, model=UNKNOWN, quality_gate={"max_final_valid_loss": 0.1})
    assert inputs["quality_gate"] == {"max_final_valid_loss": 0.1}


def test_check_refuses_a_gate_without_metrics(ctl):
    _, failures = ctl.check({}, {**BASE, "quality_gate": {"max_final_valid_loss": 0.6}})
    assert failures and "metrics=job.metrics" in failures[0][1]


def test_create_refuses_before_any_arm_call(ctl, monkeypatch):
    def no_arm(*a, **k):
        raise AssertionError("ARM must not be called")

    monkeypatch.setattr(ctl, "_client", no_arm)
    monkeypatch.setattr(ctl, "_put", no_arm)
    inputs = checked(ctl, metrics=UNKNOWN, quality_gate={"max_final_valid_loss": 0.5})
    inputs["metrics"] = METRICS  # the job finished during the same `pulumi up`
    with pytest.raises(quality.QualityGateError, match=r"refusing to deploy chat: model .* 0\.5331 > max 0\.5000"):
        ctl.create(inputs)


def test_create_deploys_when_the_gate_passes(ctl, monkeypatch):
    calls = []
    monkeypatch.setattr(ctl, "_client", lambda account: None)
    monkeypatch.setattr(ctl, "_get", lambda *a: None)

    class Result:
        id = "/deployments/chat"
        sku = None
        properties = None

    monkeypatch.setattr(ctl, "_put", lambda account, inputs, verb: calls.append(verb) or Result())
    monkeypatch.setattr("pulumi_aoai_finetune.clients.endpoint", lambda settings, account: "https://x")
    inputs = checked(ctl, metrics=METRICS, quality_gate={"max_final_valid_loss": 0.6})
    id_, outs = ctl.create(inputs)
    assert calls == ["creating"] and outs["quality_gate"] == {"max_final_valid_loss": 0.6}


def test_gate_and_metrics_changes_update_in_place_without_arm(ctl, monkeypatch):
    olds = {**checked(ctl, metrics=METRICS, quality_gate={"max_final_valid_loss": 0.6}),
            "deployment_id": "/deployments/chat", "provisioning_state": "Succeeded"}
    news = checked(ctl, metrics={**METRICS, "steps": 40}, quality_gate={"max_final_valid_loss": 0.7})
    d = ctl.diff("id", olds, news)
    assert d.replaces == [] and sorted(d.updates) == ["metrics", "quality_gate"]
    monkeypatch.setattr(ctl, "_put", lambda *a: (_ for _ in ()).throw(AssertionError("no PUT")))
    outs = ctl.update("id", olds, news)
    assert outs["quality_gate"] == {"max_final_valid_loss": 0.7} and outs["metrics"]["steps"] == 40
    assert outs["deployment_id"] == "/deployments/chat"


def test_update_refuses_a_model_that_misses_a_tightened_gate(ctl):
    olds = checked(ctl, metrics=METRICS, quality_gate={"max_final_valid_loss": 0.6})
    news = {**olds, "quality_gate": {"max_final_valid_loss": 0.5}}
    with pytest.raises(quality.QualityGateError, match="0.5331 > max 0.5000"):
        ctl.update("id", olds, news)


def test_metrics_alone_never_replace(ctl):
    olds = checked(ctl, metrics=METRICS)
    d = ctl.diff("id", olds, {**olds, "metrics": UNKNOWN})
    assert d.replaces == [] and d.updates == ["metrics"]
    # integers come back as floats from the state: not a change
    assert not ctl.diff("id", {**olds, "metrics": {**METRICS, "steps": 36.0}}, olds).changes


def test_old_state_without_gate_inputs_shows_no_diff(ctl):
    olds = checked(ctl)
    assert "quality_gate" not in olds and "metrics" not in olds
    assert not ctl.diff("id", olds, checked(ctl)).changes


def test_resource_accepts_quality_gate_args():
    import inspect

    from pulumi_aoai_finetune.model_deployment import ModelDeployment

    params = inspect.signature(ModelDeployment.__init__).parameters
    assert "quality_gate" in params and "metrics" in params
