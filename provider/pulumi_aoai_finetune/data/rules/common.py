"""What the format rules share: the example they return, the messages' summary, the checker they
report to, and how values are shown in messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from ..formats import ModelSpec
from ..tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, TokenCounter

generic_decode = msgspec.json.Decoder().decode
encode = msgspec.json.encode


class Checker(Protocol):
    """What a format's rules see of the file being checked (:class:`..filecheck.FileCheck`)."""

    spec: ModelSpec
    fmt: str
    counter: TokenCounter
    grader_fields: tuple[str, ...] | None
    rft_items: int

    def add(self, rule: str, line: int | None, message: str) -> None:
        """Report a finding (``rule`` of :data:`..findings.RULES`) at ``line``."""


@dataclass(slots=True)
class Example:
    """What the statistics need from one example."""

    tokens: int
    messages: int
    system: str | None
    trained: int
    images: int = 0
    tools: bool = False


@dataclass(slots=True)
class MsgInfo:
    """What the rules of a list of messages found: the texts to count, and facts for the format."""

    texts: list[str]
    extra_tokens: int = 0
    messages: int = 0
    system: str | None = None
    assistants: int = 0
    trained: int = 0
    images: int = 0
    tool_calls: int = 0
    last_role: str | None = None


def messages_example(
    chk: Checker, texts: list[str], info: MsgInfo, has_tools: bool, *, trained: int, extra: int = 0
) -> Example:
    """The example of checked messages (``info``) plus other texts (tools): its tokens."""
    texts.extend(info.texts)
    tokens = (
        chk.counter.count(texts)
        + info.extra_tokens
        + extra
        + TOKENS_PER_MESSAGE * info.messages
        + TOKENS_PER_REPLY
    )
    return Example(
        tokens=tokens,
        messages=info.messages,
        system=info.system,
        trained=trained,
        images=info.images,
        tools=has_tools or info.tool_calls > 0,
    )


def show(value: Any, limit: int = 40) -> str:
    """A short JSON rendering of a value for messages."""
    try:
        text = encode(value).decode("utf-8", "replace")
    except (TypeError, msgspec.EncodeError):  # pragma: no cover - generic decode output
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def jtype(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__  # pragma: no cover
