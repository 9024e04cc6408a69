"""Fixtures of the provider tests."""

from __future__ import annotations

import pytest

from eval_lab import Lab, training_jsonl


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Deployments: ``good`` (5 epochs on the cases' prompts), ``poor`` (1 epoch), ``base`` (gpt-4o-mini)."""
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    config = EmulatorConfig(state_dir=tmp_path_factory.mktemp("eval") / "state", time_scale=1000.0,
                            accounts=(("aoai-ncus", "northcentralus"),))
    with EmulatorServer(config) as server:
        lab = Lab(server)
        lab.good_model = lab.train(training_jsonl(), 5)
        lab.poor_model = lab.train(training_jsonl(), 1, seed=12)
        lab.deploy("good", lab.good_model)
        lab.deploy("poor", lab.poor_model)
        lab.deploy("base", "gpt-4o-mini", "2024-07-18")
        yield lab
        lab.control.close()


@pytest.fixture
def fresh(lab):
    """The lab with no fault armed before and after the test."""
    lab.control.delete("/_emulator/faults")
    yield lab
    lab.control.delete("/_emulator/faults")
