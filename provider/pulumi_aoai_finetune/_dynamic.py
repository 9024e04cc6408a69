"""The thin adapter between Pulumi's dynamic-provider protocol and the resource controllers.

Controllers (one per resource module) hold the logic over plain, validated inputs and know nothing
of pickling, ``__provider`` or gRPC; :class:`DynamicProvider` subclasses only name their controller.
The same controllers could be served by a schema-based provider plugin later.

Facts of the dynamic protocol handled here (see pulumi-notes.md):
- ``olds`` in diff/update are the old *outputs*, so outputs always repeat the inputs;
- integers come back as floats;
- unknown values at preview arrive as :data:`UNKNOWN`;
- the provider object is pickled (by reference, this module is importable) into the state: it
  holds no client, credential or setting; settings are loaded in ``configure`` in the provider
  process.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .errors import AoaiFinetuneError
from .settings import ProviderSettings

# The value the engine sends for an input not known yet at preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def is_unknown(value: Any) -> bool:
    """Not known yet (at preview): the engine's sentinel, an ``Unknown``, or an output value."""
    from pulumi import Output
    from pulumi.output import Unknown

    if isinstance(value, (Unknown, Output)) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def strip_internal(props: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (props or {}).items() if not k.startswith("__")}


def as_int(value: Any) -> Any:
    """Integers come back from the state as floats (1.0); give them back their type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Diff:
    replaces: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    delete_before_replace: bool = False

    @property
    def changes(self) -> bool:
        return bool(self.replaces or self.updates)

    def compare(self, olds: dict[str, Any], news: dict[str, Any], keys, *, replace: bool,
                normalize=lambda value: value) -> None:
        """Record each key whose (normalized) value differs: as a replacement or an in-place update."""
        into = self.replaces if replace else self.updates
        into.extend(key for key in keys if normalize(olds.get(key)) != normalize(news.get(key)))


class Controller:
    """Base of the per-resource logic. Subclasses implement the lifecycle over plain dicts."""

    # May ``check`` read the account (read-only) at preview? The provider turns it on under the
    # engine; controllers built directly (unit tests) never touch the network.
    live_reads = False

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return news, []

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diff:  # pragma: no cover
        raise NotImplementedError

    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def read(self, id_: str, props: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def delete(self, id_: str, props: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError


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


def load_check_modules() -> None:
    """Import the modules that ``check`` uses (the validator, the cost estimate): ~75 ms that a
    program's import does not pay. Called from :meth:`DynamicProvider.configure`, which Pulumi's
    provider server runs under its lock before the provider's first call, so they are loaded once,
    before the threads that use them (see ``clients.load_sdks`` for why that matters)."""
    from . import cost, data  # noqa: F401


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
