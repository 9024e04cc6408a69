"""The thin adapter between Pulumi's dynamic-provider protocol and the controllers (the Python API).

Controllers (:mod:`..controller`, one per resource module) hold the logic over plain, validated
inputs and know nothing of pickling, ``__provider`` or gRPC; :class:`DynamicProvider` subclasses (in
the resource modules, beside the ``Resource`` classes users instantiate) only name their controller.
The provider plugin (:mod:`.plugin`) serves the same controllers to every Pulumi language.

Facts of the dynamic protocol handled here (see pulumi-notes.md):
- ``olds`` in diff/update are the old *outputs*, so outputs always repeat the inputs;
- integers come back as floats;
- unknown values at preview arrive as :data:`UNKNOWN`;
- the provider object is pickled (by reference: the ``...Provider`` classes stay in their resource
  modules, whose names existing states record) into the state: it holds no client, credential or
  setting; settings are loaded in ``configure`` in the provider process.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ..controller import UNKNOWN, Controller, is_unknown, load_check_modules, strip_internal
from ..errors import AoaiFinetuneError
from ..settings import ProviderSettings

__all__ = ["UNKNOWN", "DynamicProvider", "ProviderError", "is_unknown", "widen_worker_pool"]


class ProviderError(Exception):
    """What the engine shows for a failed operation: the message, without our stack frames."""


# Calls the provider process serves at once. Pulumi's dynamic provider server
# (pulumi/dynamic/__main__.py) hands gRPC calls to a pool of 4 threads, and a create that waits on a
# long ARM operation holds its thread for minutes: a deployment to a fifth region would wait for one
# of the first four to finish. Per-account serialization is ours (model_deployment.py), not the pool's.
PROVIDER_THREADS = 32


def widen_worker_pool(size: int = PROVIDER_THREADS) -> bool:
    """Let the thread pool serving the current call grow to ``size`` threads; True if it did.

    A pool worker thread of :class:`ThreadPoolExecutor` holds a weak reference to its executor as
    its first argument; raising ``_max_workers`` makes later submissions start threads as needed.
    Anything else (not a pool thread, another layout) leaves things as they are.
    """
    args = getattr(threading.current_thread(), "_args", None) or ()
    ref = args[0] if args else None
    executor = ref() if callable(ref) else None
    if not isinstance(executor, ThreadPoolExecutor) or not isinstance(getattr(executor, "_max_workers", None), int):
        return False
    if executor._max_workers < size:
        executor._max_workers = size
    return True


class DynamicProvider(ResourceProvider):
    controller: ClassVar[type[Controller]]

    def configure(self, req) -> None:
        # Runs in the provider process only: keep error output to the message users need.
        sys.tracebacklimit = 0
        widen_worker_pool()
        load_check_modules()
        try:
            self._settings = ProviderSettings.load(req.config)
        except AoaiFinetuneError as exc:
            self._settings_error = str(exc)

    def _controller(self) -> Controller:
        error = getattr(self, "_settings_error", None)
        if error:
            raise ProviderError(error)
        settings = getattr(self, "_settings", None) or ProviderSettings.load()
        ctl = self.controller(settings)
        ctl.live_reads = True
        return ctl

    def check(self, _olds, news):
        try:
            inputs, failures = self._controller().check(strip_internal(_olds), strip_internal(news))
        except AoaiFinetuneError as exc:
            return CheckResult(strip_internal(news), [CheckFailure("", str(exc))])
        return CheckResult(inputs, [CheckFailure(p, r) for p, r in failures])

    def diff(self, _id, _olds, _news):
        d = _call(self._controller().diff, _id, strip_internal(_olds), strip_internal(_news))
        return DiffResult(changes=d.changes, replaces=d.replaces or None, stables=None,
                          delete_before_replace=d.delete_before_replace)

    def create(self, props):
        id_, outs = _call(self._controller().create, strip_internal(props))
        return CreateResult(id_, outs)

    def read(self, id_, props):
        new_id, outs = _call(self._controller().read, id_, strip_internal(props))
        return ReadResult(new_id, outs)

    def update(self, _id, _olds, _news):
        outs = _call(self._controller().update, _id, strip_internal(_olds), strip_internal(_news))
        return UpdateResult(outs)

    def delete(self, _id, _props):
        _call(self._controller().delete, _id, strip_internal(_props))


def _call(fn, *args):
    try:
        return fn(*args)
    except AoaiFinetuneError as exc:
        raise ProviderError(f"{type(exc).__name__}: {exc}") from None
