"""The resources' logic, free of any front end: one controller per resource, over plain dicts.

A controller implements check/diff/create/read/update/delete over plain, snake_case dicts (the names
of :mod:`.schema`) and the typed settings. It knows nothing of pickling, gRPC or camelCase: the
adapters in :mod:`.adapters` translate a protocol to these calls (``dynamic``: Pulumi's dynamic
providers, the Python API; ``plugin``: the provider plugin every Pulumi language uses).

Conventions every adapter keeps:
- ``olds`` of check are the old *inputs*; ``olds`` of diff/update are the old *outputs*, and outputs
  repeat the inputs;
- a value not known yet (at preview) is :data:`UNKNOWN` (the engine's sentinel), at any depth;
- integers may come back as floats (:func:`as_int`);
- ``read`` returning ``(None, {})`` means the object is gone.

Beyond that, two things only a provider plugin can use (the dynamic protocol has no call for them):
the outputs a create or an in-place update will have, as far as they are known at preview
(:meth:`Controller.preview_create`, :meth:`Controller.preview_update`), and the state of an existing
object brought in by an import (:meth:`Controller.read_for_import`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from . import schema
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

    resource: ClassVar[schema.Resource]  # the resource's contract (inputs, outputs, state keys)

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

    # -- what only a provider plugin can use ------------------------------------------------------
    def preview_create(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The outputs of a create, as far as they are known at preview: the inputs, every output
        :data:`UNKNOWN` unless a subclass knows it (a file's content hash)."""
        outs = dict(inputs)
        outs.update({f.name: UNKNOWN for f in self.resource.outputs})
        return outs

    def preview_update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """The outputs of an in-place update, as far as they are known at preview: the new inputs, and
        the old outputs an update keeps (:attr:`schema.Field.on_update`). So a fine-tuned model that an
        update does not change stays known, and its deployments do not show as replaced."""
        outs = dict(olds)
        outs.update(news)
        ended = self.has_ended(olds)
        for f in self.resource.outputs:
            if f.on_update == "recomputed" or (f.on_update == "when_ended" and not ended):
                outs[f.name] = UNKNOWN
            else:
                outs[f.name] = olds.get(f.name)
        return outs

    def has_ended(self, outputs: dict[str, Any]) -> bool:
        """Whether the object has reached its final state (outputs ``on_update="when_ended"`` are then kept)."""
        return True

    def read_for_import(self, id_: str, props: dict[str, Any]) -> tuple[Optional[str], dict[str, Any]]:
        """The state of an object brought in by an import, from the service alone: ``props`` holds
        only what the import id names (the account). Subclasses fill in the inputs the object
        records (its model, its files...); the inputs' defaults and the :data:`IMPORTED` mark are
        added here."""
        id_, outs = self.read(id_, props)
        if id_ is None:
            return None, {}
        for name, value in schema.defaults(self.resource).items():
            outs.setdefault(name, value)
        outs[IMPORTED] = True
        return id_, outs

    def accept_imported(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """Check's first step: for an imported object (``olds``, the old inputs, carry the
        :data:`IMPORTED` mark), a computed input (:attr:`schema.Field.computed`: the service chose
        it) that the program leaves unset, or declares only in part, takes the object's value, so
        declaring what was imported previews no change. The mark is kept."""
        if not olds.get(IMPORTED):
            return news
        news = dict(news)
        for f in self.resource.inputs:
            old = olds.get(f.name)
            if f.computed and old is not None and _declared_within(self.normalize(f.name, news.get(f.name)), old):
                news[f.name] = old
        news[IMPORTED] = True
        return news

    def normalize(self, name: str, value: Any) -> Any:
        """An input's value in the form the service records it (subclasses: e.g. a method named by its type)."""
        return value




def load_check_modules() -> None:
    """Import the modules that ``check`` uses (the validator, the cost estimate): ~75 ms that a
    program's import does not pay. Called from :meth:`DynamicProvider.configure`, which Pulumi's
    provider server runs under its lock before the provider's first call, so they are loaded once,
    before the threads that use them (see ``clients.load_sdks`` for why that matters)."""
    from . import cost, data  # noqa: F401


# The state mark of an object brought in by an import (a key of :data:`schema.Resource.state`).
IMPORTED = "imported"


def _declared_within(declared: Any, recorded: Any) -> bool:
    """Whether a declared value asks for nothing the recorded one lacks: unset and "auto" ask for
    nothing, an object for its declared keys only, integers compare with floats."""
    if declared is None or declared == "auto":
        return True
    if isinstance(declared, dict) and isinstance(recorded, dict):
        return all(_declared_within(v, recorded.get(k)) for k, v in declared.items())
    return as_int(declared) == as_int(recorded)
