"""An emulator on a free loopback port for provider tests that drive controllers through the real
clients, with the provider settings that reach it (``server.settings``)."""

from __future__ import annotations

import contextlib
from typing import Iterator

from pulumi_aoai_finetune import availability, clients
from pulumi_aoai_finetune.settings import ProviderSettings


@contextlib.contextmanager
def provider_emulator(tmp_path, monkeypatch, accounts, *, time_scale: float = 100.0) -> Iterator:
    from pulumi_aoai_finetune_emulator import EmulatorConfig, EmulatorServer

    monkeypatch.setenv("AOAI_FT_ACCESS_TOKEN", "t")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    config = EmulatorConfig(state_dir=tmp_path / "s", time_scale=time_scale, accounts=tuple(accounts),
                            extra={"fine_tuned_deployment_create_seconds": 5, "arm_retry_after": 0})
    with EmulatorServer(config) as server:
        availability.clear_cache()
        clients._endpoints.clear()  # account endpoints are cached per process: this emulator has a new port
        server.settings = ProviderSettings(arm_endpoint=server.base_url, credential="token",
                                           allow_insecure_loopback=True, poll_interval=0.05, max_retries=1)
        yield server
    availability.clear_cache()
