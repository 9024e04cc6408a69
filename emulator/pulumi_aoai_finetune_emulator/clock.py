"""The emulator's clock: real time compressed by ``time_scale`` plus explicit advances.

Every lifecycle (jobs, file processing, deployments, the 15-day inactivity rule) is a function of
this clock, so tests move time forward instead of sleeping.
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

    def now(self) -> float:
        """Emulator time, in Unix seconds."""
        with self._lock:
            return self._base_emulated + (time.monotonic() - self._base_real) * self.time_scale

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base_emulated += seconds
        return self.now()

    def real_seconds(self, emulated_seconds: float) -> float:
        """How long ``emulated_seconds`` last in real time (for Retry-After hints)."""
        return emulated_seconds / self.time_scale
