"""Cost estimates from the user-editable price table."""

import pytest
import yaml

from pulumi_aoai_finetune import cost
from pulumi_aoai_finetune.data import validate_bytes
from pulumi_aoai_finetune.errors import ConfigurationError


@pytest.fixture
def prices(monkeypatch):
    monkeypatch.delenv(cost.PRICES_ENV, raising=False)
    return cost.load_prices()


def test_packaged_table_states_date_and_source(prices):
    raw = yaml.safe_load(cost.DEFAULT_PRICES.read_text())
    assert raw["as_of"] and raw["source"] and raw["currency"] == "USD"
    assert prices.as_of == str(raw["as_of"])
    assert prices.hosting_per_hour["Standard"] == 1.70


@pytest.mark.parametrize("model, key", [
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
    ("gpt-4.1-2025-04-14", "gpt-4.1"),
    ("gpt-35-turbo-0125.ft-5fd1918ee65d4cd38a5dcf6835066ed7", "gpt-35-turbo"),
    ("gpt-3.5-turbo-0125", "gpt-35-turbo"),
])
def test_training_price_by_longest_prefix(prices, model, key):
    assert prices.training_price(model)[1] == key


def test_training_estimate_is_tokens_times_epochs_times_price(prices):
    est = cost.estimate_training("gpt-4o-mini-2024-07-18", 1_000_000, 2, prices=prices)
    assert est.trained_tokens == 2_000_000
    assert est.usd == pytest.approx(2 * prices.training_per_1m_tokens["gpt-4o-mini"])
    assert est.epochs_note == ""
    assert "2,000,000 trained tokens" in est.line() and "prices as of" in est.line()


def test_auto_epochs_are_assumed_and_said(prices):
    est = cost.estimate_training("gpt-4o-mini-2024-07-18", 1000, None, prices=prices)
    assert est.epochs == 3 and "auto" in est.epochs_note and "assumed" in est.epochs_note
    small = cost.estimate_training("gpt-4o-mini-2024-07-18", 1000, "auto", n_examples=10, prices=prices)
    assert small.epochs == 10 and "10 examples" in small.epochs_note


def test_unknown_model_is_not_priced(prices):
    est = cost.estimate_training("my-own-model", 1000, 3, prices=prices)
    assert est.usd is None and "no training price" in est.line()


def test_training_type_multiplier(prices):
    std = cost.estimate_training("gpt-4o-mini", 1_000_000, 1, prices=prices)
    glob = cost.estimate_training("gpt-4o-mini", 1_000_000, 1, prices=prices, training_type="GlobalStandard")
    assert glob.usd == pytest.approx(std.usd * prices.training_type_multiplier["GlobalStandard"])


def test_estimate_from_validator_stats(prices):
    data = b"".join(
        b'{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", "content": "a"}]}\n' % i
        for i in range(20))
    report = validate_bytes(data, model="gpt-4o-mini-2024-07-18")
    stats = report.stats["training"]
    est = cost.estimate_training_from_stats(stats, "gpt-4o-mini-2024-07-18", prices=prices)
    assert est.tokens == stats.tokens.total and est.epochs == 5  # 20 examples: OpenAI's rule says 5
    lines = cost.training_log_lines(report, model=None, path="/x/train.jsonl")
    assert len(lines) == 1 and lines[0].startswith("train.jsonl: 20 examples")  # the cost is the job's to state


STATS = {"examples": 60, "tokens": 3960, "tokens_median": 66, "tokens_max": 71, "token_counting_exact": False}


def job(**extra):
    return {"base_model": "gpt-4o-mini-2024-07-18", "training_file": "file-1", "training_file_stats": STATS, **extra}


def test_the_job_states_the_cost_of_its_declared_epochs(prices):
    est = cost.estimate_job(job(hyperparameters={"n_epochs": 5}), prices)
    assert (est.tokens, est.epochs, est.trained_tokens, est.epochs_note) == (3960, 5, 19800, "")
    assert est.usd == pytest.approx(19800 / 1e6 * 3.00)
    assert "3,960 tokens x 5 epoch(s) = 19,800 trained tokens" in est.line() and "auto" not in est.line()
    floats = cost.estimate_job(job(hyperparameters={"n_epochs": 5.0}), prices)  # from the state
    assert floats.epochs == 5


@pytest.mark.parametrize("hp", [None, {}, {"n_epochs": "auto"}, {"n_epochs": -1}])
def test_auto_epochs_are_the_documented_rule_said_as_such(prices, hp):
    est = cost.estimate_job(job(hyperparameters=hp), prices)
    assert est.epochs == 3  # 60 examples
    assert est.epochs_note == ("n_epochs auto: the service decides; 3 assumed for 60 examples by the documented "
                               "rule (OpenAI's; Azure publishes none)")


def test_the_job_prices_its_training_type_and_says_what_it_cannot_price(prices):
    glob = cost.estimate_job(job(hyperparameters={"n_epochs": 2}, training_type="GlobalStandard"), prices)
    std = cost.estimate_job(job(hyperparameters={"n_epochs": 2}), prices)
    assert glob.usd == pytest.approx(std.usd * prices.training_type_multiplier["GlobalStandard"])
    rft = cost.estimate_job(job(base_model="o4-mini-2025-04-16", method={"type": "reinforcement"}), prices)
    assert rft.usd is None and "billed by training time" in rft.line()
    unread = cost.estimate_job(job(training_file_stats=None), prices)
    assert unread.trained_tokens is None and "not read at preview" in unread.line()
    unknown = cost.estimate_job(job(training_file_stats="04da6b54-80e4-46f7-96ec-b56ff0331ba9"), prices)
    assert unknown.trained_tokens is None


@pytest.mark.parametrize("sku, per_hour, note", [
    ({"name": "Standard", "capacity": 5}, 1.70, "whatever the capacity"),
    ({"name": "globalstandard", "capacity": 1.0}, 1.70, ""),
    ({"name": "DeveloperTier", "capacity": 1}, 0.0, "no hourly fee"),
    ({"name": "ProvisionedManaged", "capacity": 50}, None, "PTU"),
    ({"name": "Mystery", "capacity": 1}, None, "no hosting price"),
])
def test_hosting(prices, sku, per_hour, note):
    est = cost.estimate_hosting(sku, prices)
    assert est.usd_per_hour == (pytest.approx(per_hour) if per_hour is not None else None)
    assert note in est.note
    if per_hour:
        assert est.usd_per_month == pytest.approx(per_hour * 730)


def test_user_table_is_merged_over_the_packaged_one(tmp_path, monkeypatch):
    user = tmp_path / "my-prices.yaml"
    user.write_text("as_of: '2030-01-01'\nhosting_per_hour: {Standard: 2.5}\nprovisioned_per_ptu_hour: 1.0\n")
    monkeypatch.setenv(cost.PRICES_ENV, str(user))
    prices = cost.load_prices()
    assert prices.as_of == "2030-01-01" and prices.hosting_per_hour["Standard"] == 2.5
    assert prices.hosting_per_hour["GlobalStandard"] == 1.70  # kept from the packaged table
    assert prices.describe() == "prices as of 2030-01-01 (prices.yaml + my-prices.yaml)"
    assert cost.estimate_hosting({"name": "ProvisionedManaged", "capacity": 50}, prices).usd_per_hour == 50.0


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "mapping"),
    ("hosting_per_hour: {Standard: cheap}", "not a valid price table"),
    ("hosting_per_hour: {Standard: -1}", "negative"),
    ("a: [", "not valid YAML"),
])
def test_bad_user_table_is_a_configuration_error(tmp_path, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        cost.load_prices(bad)


def test_logging_never_raises(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv(cost.PRICES_ENV, str(tmp_path / "missing.yaml"))
    cost.log_hosting_estimate("chat", {"name": "Standard", "capacity": 1})
    assert "hosting estimate unavailable" in capsys.readouterr().err
