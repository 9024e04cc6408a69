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
  setting; settings are loaded in ``configure`` in the provider process;
- cancellation: the CLI turns the first Ctrl-C or SIGTERM into the engine's ``Cancel`` call, then
  waits for the operations in flight. The SDK's dynamic-provider server answers ``Cancel`` and does
  nothing else, so a create waiting hours for a training run held the update (the first Ctrl-C looked
  ignored; users killed the CLI and left pending operations). ``configure`` hooks it
  (:func:`hook_engine_cancel`): every wait of this process then ends at once, saying what goes on in
  the service (:func:`.._wait.request_stop`);
- shutdown: the engine stops a plugin with SIGINT to its process group, then SIGKILL 5 s later. A
  ``pulumi`` started with SIGINT ignored (``cmd &`` in a script, nohup-style CI runners) hands SIG_IGN
  on to the provider, where Python installs no handler: ``configure`` gives SIGINT its default
  action back in that case (:func:`default_sigint_if_ignored`).
"""

from __future__ import annotations

import sys
import threading
import time
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
from ..settings import ProviderSettings, credentials_in_clear

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


def hook_engine_cancel() -> bool:
    """Make the engine's ``Cancel`` call to this dynamic-provider process stop every wait
    (:func:`.._wait.request_stop`); True if it was hooked. The SDK's server (``pulumi.dynamic.__main__``,
    run as ``__main__``) registered its servicer's bound ``Cancel`` with gRPC when it started, so the
    method cannot be replaced: its code is (same arguments, no closure, the same globals). Anything
    else than that layout is left alone."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    target = getattr(getattr(main, "DynamicResourceProviderServicer", None), "Cancel", None)
    code = getattr(target, "__code__", None)
    if getattr(spec, "name", None) != "pulumi.dynamic.__main__" or code is None or code.co_freevars \
            or code.co_argcount != _engine_cancel.__code__.co_argcount:
        return False
    if code is not _engine_cancel.__code__:
        target.__code__ = _engine_cancel.__code__
    return True


def _engine_cancel(self, request, context):  # pragma: no cover - becomes the servicer's Cancel
    from google.protobuf import empty_pb2

    from pulumi_aoai_finetune import _wait

    _wait.request_stop()
    return empty_pb2.Empty()


def default_sigint_if_ignored() -> bool:
    """Give SIGINT its default action back if this process started with it ignored; True if it did.
    ``signal.signal`` works in the main thread only, and ``configure`` runs in a worker thread, so the
    C library's ``signal`` is called (POSIX only). The engine sends SIGINT only to stop the plugin."""
    import signal

    if sys.platform == "win32" or signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        return False
    import ctypes

    return ctypes.CDLL(None, use_errno=True).signal(int(signal.SIGINT), 0) != -1  # 0: SIG_DFL


def watch_engine(argv: list[str] | None = None, *, every: float = 2.0, refusals: int = 3) -> bool:
    """Stop every wait, then end this process, once the engine is gone: a ``pulumi up`` killed hard
    (SIGKILL, a closed CI runner) leaves its plugins behind, in process groups of their own, and a
    provider waiting for a training run would poll it for hours for nobody. The engine passes its
    address as the plugin's first argument; ``refusals`` refused connections in a row (a closed port,
    not a slow one) mean it is gone. True if the watch started."""
    import os
    import socket

    from .. import _wait

    args = sys.argv[1:] if argv is None else argv
    host, _, port = (args[0] if args else "").rpartition(":")
    if not host or not port.isdigit() or getattr(watch_engine, "started", False):
        return False
    watch_engine.started = True  # type: ignore[attr-defined]

    def run() -> None:
        refused = 0
        while refused < refusals:
            time.sleep(every)
            try:
                socket.create_connection((host, int(port)), timeout=every).close()
                refused = 0
            except ConnectionRefusedError:
                refused += 1
            except OSError:
                refused = 0  # slow or unreachable for a moment: not proof the engine is gone
        _wait.request_stop()
        time.sleep(1.0)  # the waits end and their threads return (to nobody)
        os._exit(0)

    threading.Thread(target=run, name="aoai-engine-watch", daemon=True).start()
    return True


_credentials_checked = threading.Event()


def warn_credentials_in_clear() -> None:
    """In the program, once: a credential in stack config set without ``--secret`` gets a warning at
    preview (the provider process cannot tell: its config arrives decrypted, secret or not)."""
    if _credentials_checked.is_set():
        return
    _credentials_checked.set()
    import pulumi
    from pulumi.runtime import config as runtime_config

    for warning in credentials_in_clear(runtime_config.is_config_secret, runtime_config.get_config):
        pulumi.log.warn(warning)


class DynamicProvider(ResourceProvider):
    controller: ClassVar[type[Controller]]

    def __init__(self) -> None:  # made in the program only (the provider process unpickles it)
        super().__init__()
        warn_credentials_in_clear()

    def configure(self, req) -> None:
        # Runs in the provider process only: keep error output to the message users need.
        sys.tracebacklimit = 0
        widen_worker_pool()
        if hook_engine_cancel():  # only in the SDK's provider server (not under tests or other hosts)
            default_sigint_if_ignored()
            watch_engine()
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
