"""Which objects in a shared Azure account belong to which resource of which stack.

Several stacks (and teams) share one Azure OpenAI account. A resource may only reuse, attach to,
take over or delete an object it can prove is its own -- or one the user named (``adopt_*``). The
proof is a **marker** that Azure itself keeps on the object, derived from the stack and the
resource:

    aoaift-<stack key>-<resource key>
    stack key     10 hex digits of SHA-256("<organization>/<project>/<stack>")
    resource key   8 hex digits of SHA-256("<kind>/<resource name>")

Where Azure keeps it (see ARCHITECTURE.md, "Ownership", for the sources and what is uncertain):

- **Files**: in the ``filename`` the service records (the only free text a file carries in the data
  plane, 2024-10-21 and 2025-04-01-preview: no metadata), before the extension:
  ``train.jsonl`` is uploaded as ``train.aoaift-3f9c1a2b4d-7e21c0aa.jsonl``.
- **Deployments**: in ARM tags (``Deployment.tags``, mutable on create and update in ARM
  2025-06-01): ``aoai-finetune-owner: <marker>`` and, for people, ``aoai-finetune-stack``.
- **Jobs**: a fine-tuning job carries no free text of ours (no ``metadata`` in either data-plane
  spec; ``suffix`` is the user's and part of the model name). A job is this stack's when its
  training file carries this stack's marker: the stack key of the file's marker is the proof.

The program computes the owner (organization, project and stack are known only there: the dynamic
provider process does not get them) and passes it as the ``owner`` input of each resource. The
provider records the marker it used in the ``owner_marker`` output, so a later rename of the stack
does not make a resource disown what it created.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

PREFIX = "aoaift-"
TAG = "aoai-finetune-owner"
STACK_TAG = "aoai-finetune-stack"
_MARKER = re.compile(r"aoaift-([0-9a-f]{10})-([0-9a-f]{8})")
_IN_NAME = re.compile(r"\.(aoaift-[0-9a-f]{10}-[0-9a-f]{8})(?=\.[^.]*$|$)")
MAX_TAG_VALUE = 256  # ARM tag values


def _key(text: str, digits: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:digits]


@dataclass(frozen=True)
class Owner:
    """A resource of a stack: ``stack`` is ``organization/project/stack``, ``resource`` ``Kind/name``."""

    stack: str
    resource: str

    @property
    def stack_key(self) -> str:
        return _key(self.stack, 10)

    @property
    def marker(self) -> str:
        return f"{PREFIX}{self.stack_key}-{_key(self.resource, 8)}"

    def tags(self, marker: Optional[str] = None) -> dict[str, str]:
        """The ARM tags of a deployment this resource owns (``marker``: the one it was created with)."""
        return {TAG: marker or self.marker, STACK_TAG: self.stack[:MAX_TAG_VALUE]}


def owner_inputs(kind: str, resource_name: str) -> dict[str, str]:
    """The ``owner`` input of a resource, computed in the Pulumi program (organization, project and
    stack are known there, not in the dynamic provider's process)."""
    import pulumi

    try:
        organization = pulumi.get_organization()
    except Exception:  # noqa: BLE001 - older engines: the default organization
        organization = "organization"
    return {"stack": f"{organization}/{pulumi.get_project()}/{pulumi.get_stack()}",
            "resource": f"{kind}/{resource_name}"}


def owner_from_urn(urn: str, kind: str, organization: str = "organization") -> Optional[dict[str, str]]:
    """The ``owner`` input of a resource from its URN (``urn:pulumi:<stack>::<project>::<type>::<name>``),
    for front ends that get the URN rather than run the program (the provider plugin). The URN does not
    name the organization: the default one is assumed, as for a self-managed backend."""
    parts = urn.split("::") if isinstance(urn, str) and urn.startswith("urn:pulumi:") else []
    if len(parts) < 4 or not parts[-1]:
        return None
    stack, project, name = parts[0][len("urn:pulumi:"):], parts[1], parts[-1]
    return {"stack": f"{organization}/{project}/{stack}", "resource": f"{kind}/{name}"}


def parse_owner(value: Any) -> Optional[Owner]:
    """The owner of a resource from its inputs (``None`` when absent, unknown or malformed)."""
    if not isinstance(value, Mapping):
        return None
    stack, resource = value.get("stack"), value.get("resource")
    if not isinstance(stack, str) or not isinstance(resource, str) or not stack or not resource:
        return None
    return Owner(stack, resource)


def is_marker(value: Any) -> bool:
    return isinstance(value, str) and _MARKER.fullmatch(value) is not None


def stack_key_of(marker: Optional[str]) -> Optional[str]:
    m = _MARKER.fullmatch(marker) if isinstance(marker, str) else None
    return m.group(1) if m else None


def marker_in_filename(filename: Any) -> Optional[str]:
    """The marker a file's name carries (``train.aoaift-...-....jsonl``), if any."""
    if not isinstance(filename, str):
        return None
    m = _IN_NAME.search(filename)
    return m.group(1) if m else None


def marked_filename(filename: str, marker: Optional[str]) -> str:
    """``filename`` with ``marker`` before its extension (once); unchanged without a marker."""
    if not marker:
        return filename
    base = unmarked_filename(filename)
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        return f"{base}.{marker}"
    return f"{stem}.{marker}.{ext}"


def unmarked_filename(filename: Any) -> Any:
    """The name a user gave: ``filename`` without a marker."""
    if not isinstance(filename, str):
        return filename
    return _IN_NAME.sub("", filename, count=1)


def marker_in_tags(tags: Any) -> Optional[str]:
    value = tags.get(TAG) if isinstance(tags, Mapping) else None
    return value if is_marker(value) else None
