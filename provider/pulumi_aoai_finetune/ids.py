"""The ids a front end shows and an import takes (the same for ``pulumi import`` and ``tofu import``).

=================  ============================================  ==================================
resource           id                                            the controller's id
=================  ============================================  ==================================
TrainingFile       ``<account ARM id>/files/<file id>``          ``<file id>``
FineTuningJob      ``<account ARM id>/fine_tuning/jobs/<job id>``  ``<job id>``
ModelDeployment    ``<account ARM id>/deployments/<name>``       the same (ARM's own id)
ModelEvaluation    ``evaluation-<hex>`` (not importable)         the same
=================  ============================================  ==================================

The controllers (and the Python dynamic resources, whose states hold them) use the service's bare
ids for files and jobs; a front end that shows the long form turns one into the other here, and
accepts both (a stack moved off the dynamic resources keeps its bare ids).
"""

from __future__ import annotations

import re
from typing import Any

from . import schema
from .account import AccountRef
from .errors import ConfigurationError

_ACCOUNT = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.CognitiveServices/accounts/[^/]+"
_PATTERNS = {
    schema.TRAINING_FILE.name: re.compile(rf"^(?P<account>{_ACCOUNT})/files/(?P<id>[^/]+)$", re.IGNORECASE),
    schema.FINE_TUNING_JOB.name: re.compile(rf"^(?P<account>{_ACCOUNT})/fine_tuning/jobs/(?P<id>[^/]+)$", re.IGNORECASE),
    schema.MODEL_DEPLOYMENT.name: re.compile(rf"^(?P<account>{_ACCOUNT})/deployments/(?P<id>[^/]+)$", re.IGNORECASE),
}


def long_id(res: schema.Resource, controller_id: str, account: Any) -> str:
    """The id a front end shows for the controller's id of an object in ``account``."""
    if res.name not in _PATTERNS:  # a record of this stack only (an evaluation): its own id
        return controller_id
    if res is schema.MODEL_DEPLOYMENT or _PATTERNS[res.name].match(controller_id):
        return controller_id
    suffix = {schema.TRAINING_FILE.name: "files", schema.FINE_TUNING_JOB.name: "fine_tuning/jobs"}[res.name]
    return f"{AccountRef.parse(account).resource_id}/{suffix}/{controller_id}"


def controller_id(res: schema.Resource, any_id: str) -> str:
    """The controller's id for a long id, or for a bare one (kept as it is)."""
    if res.name not in _PATTERNS:
        return any_id
    m = _PATTERNS[res.name].match(any_id or "") if res.name in _PATTERNS else None
    if m is None or res is schema.MODEL_DEPLOYMENT:
        return any_id
    return m["id"]


def parse_import_id(res: schema.Resource, import_id: str) -> tuple[str, dict[str, Any]]:
    """An import id -> (the controller's id, the props a read needs: the account)."""
    if res.name not in _PATTERNS:
        raise ConfigurationError(f"{res.name} cannot be imported: {res.import_id}")
    m = _PATTERNS[res.name].match((import_id or "").strip())
    if m is None:
        raise ConfigurationError(f"{res.name} import id {import_id!r} is not of the form {res.import_id}")
    account = AccountRef.parse(m["account"])
    cid = import_id.strip() if res is schema.MODEL_DEPLOYMENT else m["id"]
    return cid, {"account": {"resource_id": account.resource_id}}


def file_id(value: Any) -> Any:
    """A file reference as the service takes it: a bare id, from a long one too."""
    if isinstance(value, str):
        m = _PATTERNS[schema.TRAINING_FILE.name].match(value)
        if m is not None:
            return m["id"]
    return value
