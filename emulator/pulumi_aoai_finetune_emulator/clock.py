"""The emulator's clock: real time compressed by ``time_scale`` plus explicit advances.

Every lifecycle (jobs, file processing, deployments, the 15-day inactivity rule) is a function of
this clock, so tests move time forward instead of sleeping. A frozen clock stands still (advances
still move it) until it is thawed, so a test can hold a job mid-training however slow the machine.
"""

from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self, time_scale: float = 1.0, start: float | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = float(time_scale)
        self._lock = threading.Lock()
        self._base_emulated = float(start if start is not None else time.time())
        self._base_real = time.monotonic()
        self._frozen = False

    def _now(self) -> float:
        if self._frozen:
            return self._base_emulated
        return self._base_emulated + (time.monotonic() - self._base_real) * self.time_scale

    def now(self) -> float:
        """Emulator time, in Unix seconds."""
        with self._lock:
            return self._now()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self, frozen: bool = True) -> float:
        """Stop the clock where it is (``frozen=False`` lets it run again from there)."""
        with self._lock:
            self._base_emulated = self._now()
            self._base_real = time.monotonic()
            self._frozen = frozen
            return self._base_emulated

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base_emulated += seconds
        return self.now()

    def real_seconds(self, emulated_seconds: float) -> float:
        """How long ``emulated_seconds`` last in real time (for Retry-After hints)."""
        return emulated_seconds / self.time_scale
