"""Tool calling: the ``tools`` (and legacy ``functions``) definitions of an example, and the
assistant's ``tool_calls``, whose ids the tool messages answer and whose ``arguments`` are JSON
text. Definitions and calls count as their JSON text (see :mod:`..tokens`)."""

from __future__ import annotations

from typing import Any

import msgspec

from ..tokens import TOKENS_PER_TOOL_CALL
from .common import Checker, MsgInfo, encode, generic_decode, jtype, show


def check_tools(
    chk: Checker, tools: Any, ln: int, path: str
) -> tuple[set[str] | None, list[str]]:
    """The tool definitions at ``path``: the names they define (None when ``tools`` is no list)
    and their JSON texts, counted as tokens."""
    texts: list[str] = []
    if not isinstance(tools, list):
        chk.add(
            "chat.tools.type",
            ln,
            f'{path} is {jtype(tools)}; use a list of {{"type": "function", "function": '
            '{"name": ..., "parameters": {...}}}',
        )
        return None, texts
    names: set[str] = set()
    for k, tool in enumerate(tools):
        p = f"{path}[{k}]"
        if not isinstance(tool, dict):
            chk.add("chat.tools.type", ln, f"{p} is {jtype(tool)}; each tool is an object")
            continue
        if tool.get("type") != "function":
            chk.add(
                "chat.tools.type",
                ln,
                f'{p}.type is {show(tool.get("type"))}; use "function"',
            )
        fn = tool.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            chk.add(
                "chat.tools.type",
                ln,
                f'{p}.function needs a "name" string (and usually "description" and '
                '"parameters")',
            )
            continue
        names.add(fn["name"])
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            chk.add(
                "chat.tools.type",
                ln,
                f"{p}.function.parameters is {jtype(params)}; use a JSON Schema object",
            )
        texts.append(encode(tool).decode("utf-8"))
    return names, texts


def check_functions(chk: Checker, functions: Any, ln: int) -> tuple[set[str], list[str]]:
    """The legacy ``functions`` definitions: their names and JSON texts."""
    names: set[str] = set()
    texts: list[str] = []
    if not isinstance(functions, list):
        chk.add(
            "chat.tools.type",
            ln,
            f"functions is {jtype(functions)}; use a list of function definitions "
            '(or the newer "tools")',
        )
        return names, texts
    for k, fn in enumerate(functions):
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            chk.add(
                "chat.tools.type", ln, f'functions[{k}] needs a "name" string'
            )
            continue
        names.add(fn["name"])
        texts.append(encode(fn).decode("utf-8"))
    return names, texts


def check_tool_calls(
    chk: Checker,
    calls: Any,
    ln: int,
    p: str,
    tool_names: set[str] | None,
    call_ids: set[str],
    info: MsgInfo,
) -> bool:
    """The assistant's ``tool_calls`` at ``p``: their ids go to ``call_ids`` (for the tool messages
    that answer them), their names and arguments to ``info``. False when it is no list of calls."""
    if not isinstance(calls, list) or not calls:
        chk.add(
            "chat.tool_calls.type",
            ln,
            f'{p}.tool_calls is {jtype(calls) if calls != [] else "an empty list"}; use a '
            'list of {"id": ..., "type": "function", "function": {"name": ..., '
            '"arguments": "..."}}',
        )
        return False
    for k, call in enumerate(calls):
        q = f"{p}.tool_calls[{k}]"
        if not isinstance(call, dict):
            chk.add("chat.tool_calls.type", ln, f"{q} is {jtype(call)}; use an object")
            continue
        cid = call.get("id")
        if not isinstance(cid, str) or not cid:
            chk.add(
                "chat.tool_calls.type",
                ln,
                f'{q} has no "id" string; give each call an id that the tool message '
                "repeats in tool_call_id",
            )
        else:
            call_ids.add(cid)
        if call.get("type", "function") != "function":
            chk.add("chat.tool_calls.type", ln, f'{q}.type is {show(call.get("type"))}; '
                     'use "function"')
        fn = call.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            chk.add(
                "chat.tool_calls.type",
                ln,
                f'{q}.function needs a "name" string and an "arguments" JSON string',
            )
            continue
        info.tool_calls += 1
        info.extra_tokens += TOKENS_PER_TOOL_CALL
        info.texts.append(fn["name"])
        if tool_names is None:
            pass
        elif fn["name"] not in tool_names:
            chk.add(
                "chat.tool_calls.undefined",
                ln,
                f'{q} calls "{fn["name"]}", which is not in this example\'s tools; add its '
                "definition to tools",
            )
        args = fn.get("arguments")
        if not isinstance(args, str):
            chk.add(
                "chat.tool_calls.arguments",
                ln,
                f"{q}.function.arguments is {jtype(args)}; arguments must be a string "
                "holding JSON (serialize the object)",
            )
            continue
        info.texts.append(args)
        try:
            value = generic_decode(args)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            detail = str(exc).removeprefix("JSON is malformed: ")
            chk.add(
                "chat.tool_calls.arguments",
                ln,
                f"{q}.function.arguments is not valid JSON ({detail}); it must be a string "
                "holding a JSON object",
            )
            continue
        if not isinstance(value, dict):
            chk.add(
                "chat.tool_calls.arguments",
                ln,
                f"{q}.function.arguments holds {jtype(value)}, not a JSON object; it must be a "
                'string holding the object of the arguments by name, e.g. "{\\"city\\": \\"Paris\\"}"'
                + (" (it looks serialized twice)" if isinstance(value, str) else ""),
            )
    return True


