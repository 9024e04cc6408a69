"""How a stack names an Azure OpenAI account: by its ARM resource id.

The data-plane endpoint is read from ARM (``properties.endpoint``) unless given. Credentials are
not part of an account: they are resolved at run time (see :mod:`.settings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import pulumi

from .errors import ConfigurationError

_ID = re.compile(  # fullmatch: no line break (nor any whitespace) in any segment
    r"/subscriptions/(?P<sub>[^/\s]+)/resourceGroups/(?P<rg>[^/\s]+)"
    r"/providers/Microsoft\.CognitiveServices/accounts/(?P<name>[^/\s]+)/?",
    re.IGNORECASE,
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,63}")


@dataclass
class AccountArgs:
    """An Azure OpenAI (Cognitive Services) account, named by its ARM resource id.

    :param resource_id: ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}``
    :param endpoint: the data-plane endpoint; read from ARM when omitted.
    """

    resource_id: pulumi.Input[str]
    endpoint: Optional[pulumi.Input[str]] = None

    def to_inputs(self) -> dict[str, Any]:
        inputs: dict[str, Any] = {"resource_id": self.resource_id}
        if self.endpoint is not None:
            inputs["endpoint"] = self.endpoint
        return inputs

    @staticmethod
    def id_for(subscription_id: str, resource_group: str, name: str) -> str:
        return (f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
                f"/providers/Microsoft.CognitiveServices/accounts/{name}")


def account_inputs(account: "AccountArgs | Mapping[str, Any] | str") -> dict[str, Any]:
    """Accept an AccountArgs, a dict with ``resource_id``/``endpoint``, or a bare resource id."""
    if isinstance(account, AccountArgs):
        return account.to_inputs()
    if isinstance(account, str):
        return {"resource_id": account}
    if isinstance(account, Mapping):
        return dict(account)
    if isinstance(account, pulumi.Output):
        return account  # resolves to an id, a mapping, or None (the provider parses either)
    raise TypeError("account must be an AccountArgs, a mapping with resource_id, or an ARM resource id")


@dataclass(frozen=True)
class AccountRef:
    """A parsed, validated account reference (what the controllers work with)."""

    subscription_id: str
    resource_group: str
    name: str
    endpoint: str | None = None

    @property
    def resource_id(self) -> str:
        return AccountArgs.id_for(self.subscription_id, self.resource_group, self.name)

    @property
    def key(self) -> str:
        """Case-insensitive identity, as ARM compares ids."""
        return self.resource_id.lower()

    @classmethod
    def parse(cls, value: Any, field: str = "account") -> "AccountRef":
        if isinstance(value, str):
            value = {"resource_id": value}
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"{field}: expected an object with resource_id, got {type(value).__name__}")
        unknown = set(value) - {"resource_id", "endpoint"}
        if unknown:
            raise ConfigurationError(f"{field}: unknown keys {sorted(unknown)}; use resource_id and endpoint")
        rid = value.get("resource_id")
        if not isinstance(rid, str) or not rid:
            raise ConfigurationError(f"{field}.resource_id is required: the ARM id of the Azure OpenAI account")
        m = _ID.fullmatch(rid.strip())
        if not m:
            raise ConfigurationError(
                f"{field}.resource_id {rid!r} is not an account id; expected "
                "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>")
        if not _NAME.fullmatch(m["name"]):
            raise ConfigurationError(f"{field}.resource_id: {m['name']!r} is not a valid account name")
        endpoint = value.get("endpoint")
        if endpoint is not None and (not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://"))):
            raise ConfigurationError(f"{field}.endpoint {endpoint!r} is not an http(s) URL")
        return cls(m["sub"], m["rg"], m["name"], endpoint or None)
