"""Small helpers shared by the resource modules."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from .account import AccountRef
from .errors import ConfigurationError

HASH_CHUNK = 1 << 20


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
