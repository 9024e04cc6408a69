"""Force the validator's slow path (every line checked one by one), to compare it with the fast one."""

from __future__ import annotations

import pytest

from pulumi_aoai_finetune.data import validator as vmod


def slow_only(mp: pytest.MonkeyPatch) -> None:
    def no_batch(self, batch, ln0):
        raise vmod._Fallback

    def slow_line(self, raw, ln):
        self._slow(raw, ln, hash(raw))

    mp.setattr(vmod._FileCheck, "_batch_chat", no_batch)
    mp.setattr(vmod._FileCheck, "_line", slow_line)
