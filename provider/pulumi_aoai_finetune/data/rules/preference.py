"""Preference (DPO) data: ``{"input": {"messages": [...], "tools": ...}, "preferred_output":
[...], "non_preferred_output": [...]}``. The input is chat messages ending with the user turn
(:mod:`.chat`'s message rules, without ``weight``); each output a non-empty list of assistant (and
tool) messages; the two outputs must differ. Tokens: the input and both outputs."""

from __future__ import annotations

from typing import Any

from ..tokens import TOKENS_PER_MESSAGE, TOKENS_PER_REPLY
from .chat import check_messages
from .common import Checker, Example, jtype, show
from .tools import check_tools

_TOP_KEYS = ("input", "preferred_output", "non_preferred_output")
_INPUT_KEYS = ("messages", "tools", "parallel_tool_calls")


def check(chk: Checker, obj: dict[str, Any], ln: int) -> Example | None:
    """One DPO line: its keys, the input, both outputs and their difference."""
    if not any(k in obj for k in _TOP_KEYS):
        if "messages" in obj:
            chk.add(
                "format.mismatch",
                ln,
                'line is in the supervised chat format; DPO needs {"input": {"messages": '
                '[...]}, "preferred_output": [...], "non_preferred_output": [...]} '
                "(or validate with method supervised)",
            )
            return None
    for k in _TOP_KEYS:
        if k not in obj:
            chk.add(
                "dpo.key.missing",
                ln,
                f'no "{k}"; a DPO line is {{"input": {{"messages": [...]}}, '
                '"preferred_output": [...], "non_preferred_output": [...]}',
            )
    for key in obj:
        if key not in _TOP_KEYS:
            chk.add(
                "dpo.key.unknown",
                ln,
                f'unknown top-level key "{key}"; a DPO line has only input, '
                "preferred_output, non_preferred_output",
            )
    texts: list[str] = []
    extra = 0
    n_msgs = 0
    system = None
    images = 0
    has_tools = False
    inp = obj.get("input")
    if "input" in obj:
        if not isinstance(inp, dict) or "messages" not in inp:
            chk.add(
                "dpo.input.type",
                ln,
                f'input is {jtype(inp)}{" without messages" if isinstance(inp, dict) else ""}'
                '; use {"messages": [...system and user messages...]}',
            )
        else:
            for key in inp:
                if key not in _INPUT_KEYS:
                    chk.add(
                        "dpo.key.unknown",
                        ln,
                        f'unknown key "input.{key}"; input has only messages, tools, '
                        "parallel_tool_calls",
                    )
            tool_names = None
            if "tools" in inp:
                has_tools = True
                tool_names, t_text = check_tools(chk, inp["tools"], ln, "input.tools")
                texts.extend(t_text)
            info = check_messages(
                chk, inp["messages"], ln, "input.messages", tool_names, allow_weight=False
            )
            if info is not None:
                texts.extend(info.texts)
                extra += info.extra_tokens
                n_msgs += info.messages
                system = info.system
                images += info.images
                if info.last_role is not None and info.last_role != "user":
                    chk.add(
                        "dpo.input.last_role",
                        ln,
                        f"input.messages ends with a {info.last_role} message; end it with "
                        "the user turn that the outputs answer",
                    )
    outputs: list[Any] = []
    for key in ("preferred_output", "non_preferred_output"):
        if key not in obj:
            continue
        out = obj[key]
        outputs.append(out)
        if not isinstance(out, list) or not out:
            what = "an empty list" if isinstance(out, list) else jtype(out)
            chk.add(
                "dpo.output.type",
                ln,
                f'{key} is {what}; use a list with one {{"role": "assistant", '
                '"content": ...}',
            )
            continue
        for i, m in enumerate(out):
            if isinstance(m, dict) and m.get("role") not in ("assistant", "tool"):
                chk.add(
                    "dpo.output.role",
                    ln,
                    f"{key}[{i}].role is {show(m.get('role'))}; outputs hold only assistant "
                    "(and tool) messages",
                )
        info = check_messages(chk, out, ln, key, None, allow_weight=False)
        if info is not None:
            if info.assistants == 0:
                chk.add(
                    "dpo.output.type",
                    ln,
                    f"{key} has no assistant message; add the assistant response",
                )
            texts.extend(info.texts)
            extra += info.extra_tokens
            n_msgs += info.messages
    if (
        len(outputs) == 2
        and isinstance(outputs[0], list)
        and outputs[0]
        and outputs[0] == outputs[1]
    ):
        chk.add(
            "dpo.output.identical",
            ln,
            "preferred_output and non_preferred_output are the same, so there is no "
            "preference to learn; make them differ",
        )
    if n_msgs == 0:
        return None
    tokens = chk.counter.count(texts) + extra + TOKENS_PER_MESSAGE * n_msgs + TOKENS_PER_REPLY
    return Example(
        tokens=tokens,
        messages=n_msgs,
        system=system,
        trained=1,
        images=images,
        tools=has_tools,
    )


