"""Pulumi resources for Azure OpenAI fine-tuning.

    from pulumi_aoai_finetune import AccountArgs, TrainingFile, FineTuningJob, ModelDeployment

Settings (ARM endpoint, credential kind, polling) come from stack config ``aoai-finetune:*`` or the
environment; see :mod:`pulumi_aoai_finetune.settings`.
"""

from .account import AccountArgs
from .errors import AoaiFinetuneError
from .fine_tuning_job import FineTuningJob
from .model_deployment import ModelDeployment
from .training_file import TrainingFile

__all__ = ["AccountArgs", "AoaiFinetuneError", "FineTuningJob", "ModelDeployment", "TrainingFile"]
