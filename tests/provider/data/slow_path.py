"""Force the validator's slow path (every line checked one by one), to compare it with the fast one."""

from __future__ import annotations

import pytest

from pulumi_aoai_finetune.data import fastpath


def slow_only(mp: pytest.MonkeyPatch) -> None:
    def slow_batch(self, batch, ln0):
        for ln, raw in enumerate(batch, ln0 + 1):
            self.check.slow(raw, ln)

    mp.setattr(fastpath.FastPath, "batch", slow_batch)
