import pytest

from pulumi_aoai_finetune.controller import UNKNOWN
from pulumi_aoai_finetune.fine_tuning_job import FineTuningJobController, parse_duration
from pulumi_aoai_finetune.settings import ProviderSettings

ACCOUNT = {"resource_id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.CognitiveServices/accounts/acct-a"}
BASE = {"account": ACCOUNT, "base_model": "gpt-4o-mini-2024-07-18", "training_file": "file-1"}


@pytest.fixture
def ctl():
    return FineTuningJobController(ProviderSettings())


def checked(ctl, **extra):
    inputs, failures = ctl.check({}, {**BASE, **extra})
    assert failures == []
    return inputs


@pytest.mark.parametrize("extra, field, message", [
    ({"suffix": "x" * 41}, "suffix", "1 to 40 characters"),
    ({"suffix": "bad;rm -rf"}, "suffix", "a-z A-Z 0-9"),
    ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs", "integer from 1 to 50"),
    ({"hyperparameters": {"n_epochs": 2.5}}, "hyperparameters.n_epochs", "integer from 1 to 50"),
    ({"hyperparameters": {"batch_size": 1000}}, "hyperparameters.batch_size", "1 to 256"),
    ({"hyperparameters": {"learning_rate_multiplier": float("nan")}}, "hyperparameters.learning_rate_multiplier", "number"),
    ({"hyperparameters": {"learning_rate_multiplier": -1}}, "hyperparameters.learning_rate_multiplier", "positive"),
    ({"hyperparameters": {"epochs": 3}}, "hyperparameters.epochs", "unknown hyperparameter"),
    ({"hyperparameters": [3]}, "hyperparameters", "must be an object"),
    ({"seed": -1}, "seed", "integer from 0"),
    ({"seed": "x"}, "seed", "integer from 0"),
    ({"method": "rl"}, "method", "supervised, dpo"),
    ({"base_model": ""}, "base_model", "required"),
    ({"training_file": None}, "training_file", "required"),
    ({"wait": "yes"}, "wait", "true or false"),
    ({"timeout_seconds": 0}, "timeout_seconds", "positive"),
])
def test_check_failures_name_the_field(ctl, extra, field, message):
    _, failures = ctl.check({}, {**BASE, **extra})
    assert any(f == field and message in m for f, m in failures), failures


def test_auto_and_unknown_values_pass(ctl):
    checked(ctl, hyperparameters={"n_epochs": "auto", "batch_size": UNKNOWN})
    checked(ctl, training_file=UNKNOWN, account=UNKNOWN)


def test_method_string_is_normalized(ctl):
    assert checked(ctl, method="dpo", base_model="gpt-4o-2024-08-06")["method"] == {"type": "dpo"}


@pytest.mark.parametrize("model", ["gpt-4o-mini-2024-07-18", "gpt-4.1-nano-2025-04-14"])
def test_dpo_is_refused_at_preview_for_models_the_dpo_page_does_not_list(ctl, model):
    _, failures = ctl.check({}, {**BASE, "base_model": model, "method": "dpo"})
    assert any(f == "method" and "not fine-tuned with the dpo method" in m for f, m in failures), failures


@pytest.mark.parametrize("key, value", [
    ("base_model", "gpt-35-turbo-0125"), ("training_file", "file-2"), ("validation_file", "file-3"),
    ("suffix", "other"), ("seed", 7), ("method", "supervised"), ("hyperparameters", {"n_epochs": 4}),
])
def test_every_training_input_replaces(ctl, key, value):
    olds = checked(ctl, hyperparameters={"n_epochs": 3}, suffix="s", seed=1)
    news = checked(ctl, **{**{"hyperparameters": {"n_epochs": 3}, "suffix": "s", "seed": 1}, key: value})
    d = ctl.diff("ftjob-1", olds, news)
    assert d.replaces == [key]


def test_floats_from_state_do_not_cause_a_diff(ctl):
    olds = checked(ctl, hyperparameters={"n_epochs": 3, "learning_rate_multiplier": 0.1}, seed=42)
    olds["hyperparameters"] = {"n_epochs": 3.0, "learning_rate_multiplier": 0.1}
    olds["seed"] = 42.0
    news = checked(ctl, hyperparameters={"n_epochs": 3, "learning_rate_multiplier": 0.1}, seed=42)
    assert not ctl.diff("ftjob-1", olds, news).changes


def test_reuploaded_identical_data_does_not_retrain(ctl):
    olds = checked(ctl, training_file_sha256="ab" * 32)
    news = checked(ctl, training_file="file-9", training_file_sha256="ab" * 32)
    d = ctl.diff("ftjob-1", olds, news)
    assert d.replaces == [] and d.updates == ["training_file"]


def test_unknown_training_file_at_preview_shows_a_replacement(ctl):
    olds = checked(ctl, training_file_sha256="ab" * 32)
    news = checked(ctl, training_file=UNKNOWN, training_file_sha256=UNKNOWN)
    assert ctl.diff("ftjob-1", olds, news).replaces == ["training_file"]


def test_wait_and_timeout_update_in_place(ctl):
    olds = checked(ctl)
    news = checked(ctl, wait=False, timeout_seconds=60)
    d = ctl.diff("ftjob-1", olds, news)
    assert d.replaces == [] and set(d.updates) == {"wait", "timeout_seconds"}


@pytest.mark.parametrize("text, seconds", [("2h", 7200), ("45m", 2700), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2 hours", "h", "10x"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


STATS = {"examples": 60, "tokens": 3960, "tokens_median": 66, "tokens_max": 71, "token_counting_exact": False}


@pytest.fixture
def logs(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr("pulumi.log.info", lambda msg, *a, **k: seen.append(msg))
    return seen


def test_the_preview_states_the_training_cost_of_the_declared_run(ctl, logs):
    inputs = checked(ctl, training_file_stats=STATS, hyperparameters={"n_epochs": 5}, suffix="support")
    (line,) = logs
    assert line.startswith("fine-tuning job of gpt-4o-mini-2024-07-18 (suffix support): training cost of the "
                           "declared run: training gpt-4o-mini-2024-07-18: 3,960 tokens x 5 epoch(s) = 19,800 "
                           "trained tokens ~ $0.06 at $3.00/1M")
    assert "auto" not in line  # its own n_epochs, not an assumption
    logs.clear()
    ctl.check(inputs, dict(inputs))  # an existing job: no new run, nothing to state
    assert logs == []
    checked(ctl, training_file_stats=STATS)
    assert "n_epochs auto: the service decides; 3 assumed for 60 examples by the documented rule" in logs[-1]


def test_a_replacement_states_the_new_run_beside_the_one_it_replaces(ctl, logs):
    olds = {**checked(ctl, training_file_stats=STATS, hyperparameters={"n_epochs": 2}), "trained_tokens": 7920.0}
    news = checked(ctl, training_file_stats=STATS, hyperparameters={"n_epochs": 6})
    logs.clear()
    assert ctl.diff("ftjob-1", olds, news).replaces == ["hyperparameters"]
    (line,) = logs
    assert "replaced (hyperparameters), a new paid run: training gpt-4o-mini-2024-07-18: 3,960 tokens x 6 epoch(s) " \
           "= 23,760 trained tokens ~ $0.07" in line
    assert line.endswith("the run it replaces: $0.02 (3,960 tokens x 2 epoch(s)); the service counted 7,920 "
                         "trained tokens")
    logs.clear()
    assert not ctl.diff("ftjob-1", olds, dict(olds)).changes and logs == []  # no new run: quiet
