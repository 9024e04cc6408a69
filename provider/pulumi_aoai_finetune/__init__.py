"""Pulumi resources for Azure OpenAI fine-tuning.

    from pulumi_aoai_finetune import AccountArgs, TrainingFile, FineTuningJob, ModelDeployment, ModelEvaluation

Settings (ARM endpoint, credential kind, polling) come from stack config ``aoai-finetune:*`` or the
environment; see :mod:`pulumi_aoai_finetune.settings`. The names are imported lazily, so tools that
only need a submodule (``aoai-ft validate``) do not pay for importing Pulumi.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AccountArgs": "account",
    "AoaiFinetuneError": "errors",
    "FineTuningJob": "fine_tuning_job",
    "ModelDeployment": "model_deployment",
    "ModelEvaluation": "model_evaluation",
    "ModelGraderArgs": "model_evaluation",
    "QualityGateArgs": "quality",
    "TrainingFile": "training_file",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from .account import AccountArgs
    from .errors import AoaiFinetuneError
    from .fine_tuning_job import FineTuningJob
    from .model_deployment import ModelDeployment
    from .model_evaluation import ModelEvaluation, ModelGraderArgs
    from .quality import QualityGateArgs
    from .training_file import TrainingFile
