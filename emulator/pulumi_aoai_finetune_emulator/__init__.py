"""A local emulator of Azure OpenAI: the ARM management plane (accounts, deployments) and the
authoring data plane (files, fine-tuning jobs, models) in one loopback HTTP server.

It is a separate package: the provider (``pulumi_aoai_finetune``) never imports it. Tests, demos
and the ``aoai-ft emulator`` command use it; the real clients (``openai.AzureOpenAI`` and
``azure-mgmt-cognitiveservices``) talk to it unchanged.
"""

from .config import EmulatorConfig
from .server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer"]
