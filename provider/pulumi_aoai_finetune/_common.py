"""Small helpers shared by the resource modules."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone
from typing import Any

from .account import AccountRef
from .errors import ConfigurationError

HASH_CHUNK = 1 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def rfc3339(ts: Any) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(float(ts), tz=timezone.utc).isoformat().replace("+00:00", "Z")


def sha256_file(path: str) -> tuple[str, int]:
    """Content hash and size, streamed (constant memory)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def same_account(a: Any, b: Any) -> bool:
    try:
        return AccountRef.parse(a).key == AccountRef.parse(b).key
    except ConfigurationError:
        return a == b


def check_account(inputs: dict[str, Any], failures: list[tuple[str, str]], field: str = "account") -> AccountRef | None:
    from .controller import is_unknown

    value = inputs.get(field)
    if value is None:
        failures.append((field, f"{field} is required: AccountArgs(resource_id=...) of an Azure OpenAI account"))
        return None
    if is_unknown(value):
        return None
    try:
        return AccountRef.parse(value, field)
    except ConfigurationError as exc:
        failures.append((field, str(exc)))
        return None


def project_file(path: Any, inputs: dict[str, Any], failures: list[tuple[str, str]], field: str, *,
                 what: str) -> str | None:
    """A local file input (``field``) checked at preview: a string without control characters,
    inside ``inputs["project_dir"]`` when that is known (a relative path is taken from there and
    written back; symlinks are followed, so none can lead outside), an existing regular file. Returns
    the path to read, or None after adding the failure. ``what`` names the files in messages."""
    from .controller import is_unknown

    if not isinstance(path, str) or not path or _CONTROL.search(path):
        failures.append((field, f"{field} must be a non-empty string without control characters, got {path!r}"))
        return None
    root = inputs.get("project_dir")
    if root is not None and not is_unknown(root):
        if not isinstance(root, str) or not os.path.isabs(root) or not os.path.isdir(root):
            failures.append(("project_dir", f"project_dir {root!r} must be an existing directory (absolute path)"))
            return None
        if not os.path.isabs(path):
            path = inputs[field] = os.path.join(root, path)
        real, real_root = os.path.realpath(path), os.path.realpath(root)
        if os.path.commonpath([real, real_root]) != real_root:
            how = "leads" if real == os.path.abspath(path) else f"is a symlink (or under one) that leads to {real},"
            failures.append((field, f"{path} {how} outside the project directory {root}: {what} must be "
                                    "inside the project (set project_dir to allow another directory)"))
            return None
    if not os.path.exists(path):
        failures.append((field, f"{path}: no such file (paths are relative to the Pulumi project directory)"))
        return None
    if not os.path.isfile(path):
        failures.append((field, f"{path}: not a regular file (a directory, device or pipe cannot be read)"))
        return None
    return path
