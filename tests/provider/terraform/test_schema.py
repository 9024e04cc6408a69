"""The Terraform schema names what the controllers and the Python API name (terraform/schema.py)."""

from __future__ import annotations

import inspect

import pytest

from pulumi_aoai_finetune import FineTuningJob, ModelDeployment, TrainingFile
from pulumi_aoai_finetune import fine_tuning_job, model_deployment, training_file
from pulumi_aoai_finetune.settings import _KEYS
from pulumi_aoai_finetune.terraform import schema

CASES = [
    ("aoai_finetune_training_file", TrainingFile, training_file.OUTPUTS, {"content_sha256", "content_bytes"}),
    ("aoai_finetune_fine_tuning_job", FineTuningJob, fine_tuning_job.OUTPUTS,
     {"training_file_sha256", "validation_file_sha256"}),
    ("aoai_finetune_model_deployment", ModelDeployment, model_deployment.OUTPUTS, set()),
]


@pytest.mark.parametrize("type_name, resource, outputs, hidden", CASES, ids=[c[0] for c in CASES])
def test_attributes_are_the_python_api_and_the_controller_outputs(type_name, resource, outputs, hidden) -> None:
    attrs = {a.name: a for a in schema.RESOURCES[type_name]}
    arguments = set(inspect.signature(resource.__init__).parameters) - {"self", "resource_name", "opts"}
    inputs = {n for n, a in attrs.items() if a.is_input}
    computed = {n for n, a in attrs.items() if a.kind == "computed"} - {"id"}
    assert inputs == arguments | (hidden & inputs)  # every keyword argument, no other input
    assert set(outputs) <= computed | inputs  # every output (a file's filename is both)
    assert computed - set(outputs) <= hidden  # nothing computed that the controller does not give


def test_every_provider_setting_is_in_the_provider_block_with_secrets_sensitive() -> None:
    names = {a.name: a for a in schema.PROVIDER}
    assert set(schema.PROVIDER_KEYS.values()) == {key for key, _ in _KEYS.values()}
    assert names["api_key"].sensitive and names["access_token"].sensitive
    assert not names["arm_endpoint"].sensitive and names["arm_endpoint"].kind == "optional"


def test_resource_type_names_belong_to_the_provider_type() -> None:
    # Terraform infers the provider of a resource from the part of its type before the first "_"
    assert all(name.split("_", 1)[0] == schema.PROVIDER_TYPE for name in schema.RESOURCES)
    assert schema.SOURCE_ADDRESS.endswith("/" + schema.PROVIDER_TYPE)
