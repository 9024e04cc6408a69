"""The emulator's state and behaviour, independent of HTTP.

:class:`Backend` owns the store, the clock, the fault rules and the account table. The behaviour of
each area lives in its own module and works on a Backend:

- ``dataplane.py``: files, fine-tuning jobs, events, checkpoints, models (per account);
- ``management.py``: ARM accounts and deployments, their long-running operations;
- ``lifecycle.py``: the state machines, advanced by :meth:`Backend.tick` from the emulator clock.

Routes (``routes/``) only parse requests, call these functions and serialize the result.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable

from .clock import Clock
from .config import EmulatorConfig
from .faults import Faults
from .store import Store

# Functions called with (backend, now) on every tick, registered by the areas.
_tickers: list[Callable[["Backend", float], None]] = []


def ticker(fn: Callable[["Backend", float], None]) -> Callable[["Backend", float], None]:
    _tickers.append(fn)
    return fn


class Backend:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._tmpdir: str | None = None
        if config.state_dir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="aoai-emulator-")
            state_dir = Path(self._tmpdir)
        else:
            state_dir = Path(config.state_dir)
        self.store = Store(state_dir)
        saved_clock = self.store.data.get("clock")
        self.clock = Clock(config.time_scale, start=saved_clock)
        self.faults = Faults()
        self.base_url = f"http://{config.host}:{config.port}"
        self.lock = self.store.lock
        # account -> emulator time until which its data plane answers 403 (POST /_emulator/access)
        self.access_denied_until: dict[str, float] = {}
        self._seed_accounts()

    # -- identity and time -------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex}"

    def account_endpoint(self, account: str) -> str:
        """The data-plane endpoint of an account, as ARM reports it in ``properties.endpoint``."""
        return f"{self.base_url}/accounts/{account}/"

    # -- state ---------------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance every lifecycle to the clock's present, then persist."""
        with self.lock:
            now = self.now()
            for fn in _tickers:
                fn(self, now)
            self.save()

    def save(self) -> None:
        with self.lock:
            self.store.data["clock"] = self.now()
            self.store.save()

    def reset(self) -> None:
        with self.lock:
            self.store.reset()
            self.faults.clear()
            self.faults.clear_log()
            self._seed_accounts()

    def freeze_clock(self, frozen: bool) -> None:
        self.tick()  # lifecycles catch up to the moment the clock stops
        self.clock.freeze(frozen)

    def advance_clock(self, seconds: float) -> float:
        self.clock.advance(seconds)
        self.tick()
        return self.now()

    def close(self) -> None:
        self.save()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    # -- accounts (the table both planes read) ----------------------------------------------
    def _seed_accounts(self) -> None:
        from . import management  # the area that knows how an account looks

        with self.lock:
            for name, region in self.config.accounts:
                if name not in self.store["accounts"]:
                    management.create_account_record(
                        self, self.config.subscription_id, self.config.resource_group, name, region
                    )
            self.save()

    def account(self, name: str) -> dict[str, Any] | None:
        return self.store["accounts"].get(name)
