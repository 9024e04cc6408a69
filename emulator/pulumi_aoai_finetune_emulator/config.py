"""Emulator settings, as given on the command line or by a test."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

STRICT_CONTRACT_ENV = "AOAI_EMULATOR_STRICT_CONTRACT"


def _strict_default() -> bool:
    return os.environ.get(STRICT_CONTRACT_ENV, "").strip().lower() in ("1", "true", "yes")

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "aoai-emulator"
# Accounts that exist from the start unless --account is given: two regions that offer
# fine-tuning, so a cross-region deployment works out of the box.
DEFAULT_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("aoai-ncus", "northcentralus"),
    ("aoai-swc", "swedencentral"),
)


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    state_dir: Path | None = None  # None: a temporary directory, removed on stop
    # Emulator seconds per real second: 100 makes a default 3-epoch job last a few seconds.
    time_scale: float = 100.0
    accounts: tuple[tuple[str, str], ...] = DEFAULT_ACCOUNTS
    api_key: str | None = None  # None: any non-empty api-key / bearer token is accepted
    subscription_id: str = DEFAULT_SUBSCRIPTION
    resource_group: str = DEFAULT_RESOURCE_GROUP
    extra: dict = field(default_factory=dict)
    # Check every request (and answer) against the official spec of its api-version (strict.py); the
    # test suite turns it on through AOAI_EMULATOR_STRICT_CONTRACT=1.
    strict_contract: bool = field(default_factory=_strict_default)
