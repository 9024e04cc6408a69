"""The prompt/completion format of babbage-002 and davinci-002: ``{"prompt": ..., "completion":
...}`` and nothing else, a non-empty completion to learn from."""

from __future__ import annotations

from typing import Any

from .common import Checker, Example, jtype

_KEYS = ("prompt", "completion")


def check(chk: Checker, obj: dict[str, Any], ln: int) -> Example | None:
    """One prompt/completion line."""
    if "messages" in obj or "input" in obj:
        fmt = "chat" if "messages" in obj else "DPO"
        chk.add(
            "format.mismatch",
            ln,
            f"line is in the {fmt} format; {chk.spec.base} needs "
            '{"prompt": "...", "completion": "..."}',
        )
        return None
    missing = [k for k in _KEYS if k not in obj]
    for k in missing:
        chk.add(
            "completion.key.missing",
            ln,
            f'no "{k}"; each line must be {{"prompt": "...", "completion": "..."}}',
        )
    for key in obj:
        if key not in _KEYS:
            chk.add(
                "completion.key.unknown",
                ln,
                f'unknown key "{key}"; a line has only "prompt" and "completion"',
            )
    texts = []
    for k in _KEYS:
        if k in obj:
            v = obj[k]
            if not isinstance(v, str):
                chk.add("completion.type", ln, f"{k} is {jtype(v)}; use a string")
            else:
                texts.append(v)
    if isinstance(obj.get("completion"), str) and not obj["completion"]:
        chk.add(
            "completion.empty",
            ln,
            "completion is empty, so there is nothing to learn; write the expected output",
        )
    if missing:
        return None
    return Example(tokens=chk.counter.count(texts), messages=0, system=None, trained=1)


