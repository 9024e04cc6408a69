"""The chat format: ``{"messages": [...], "tools": [...], "parallel_tool_calls": ...}``, and the
rules of a list of messages that DPO and reinforcement data share (roles, keys per role, names,
weights, content, tool calls and their answers). Images and content parts are :mod:`.vision`'s,
tool definitions and calls :mod:`.tools`'s."""

from __future__ import annotations

from typing import Any

from ..formats import MAX_IMAGES_PER_EXAMPLE
from ..tokens import TOKENS_PER_NAME, TOKENS_PER_TOOL_CALL
from .common import Checker, Example, MsgInfo, jtype, messages_example, show
from .tools import check_functions, check_tool_calls, check_tools
from .vision import check_parts

_ROLE_HINT = "use one of system, user, assistant, tool"
_KEYS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "system": ("role", "content", "name"),
    "user": ("role", "content", "name"),
    "assistant": ("role", "content", "name", "weight", "tool_calls", "function_call", "refusal"),
    "tool": ("role", "content", "tool_call_id", "name"),
    "function": ("role", "content", "name"),
    "developer": ("role", "content", "name"),  # reinforcement (o-series) data only
}
_ALL_MESSAGE_KEYS = frozenset(k for keys in _KEYS_BY_ROLE.values() for k in keys)
TOP_KEYS = ("messages", "tools", "parallel_tool_calls", "functions")


def check(chk: Checker, obj: dict[str, Any], ln: int) -> Example | None:
    """One chat line: its top-level keys, tools and messages; an assistant message to learn from."""
    if "messages" not in obj:
        if not _mismatch(chk, obj, ln):
            chk.add(
                "chat.messages.missing",
                ln,
                'no "messages" key; each line must be {"messages": [{"role": ..., '
                '"content": ...}, ...]}',
            )
        return None
    for key in obj:
        if key not in TOP_KEYS:
            chk.add(
                "chat.key.unknown",
                ln,
                f'unknown top-level key "{key}"; a chat example has only messages, tools, '
                "parallel_tool_calls — remove it",
            )
    extra = 0
    texts: list[str] = []
    tool_names = None
    has_tools = False
    if "tools" in obj:
        has_tools = True
        tool_names, t_text = check_tools(chk, obj["tools"], ln, "tools")
        texts.extend(t_text)
    if "functions" in obj:
        has_tools = True
        names, t_text = check_functions(chk, obj["functions"], ln)
        tool_names = (tool_names or set()) | names
        texts.extend(t_text)
    if "parallel_tool_calls" in obj and not isinstance(obj["parallel_tool_calls"], bool):
        chk.add(
            "chat.tools.type",
            ln,
            f"parallel_tool_calls is {jtype(obj['parallel_tool_calls'])}; use true or false",
        )
    info = check_messages(chk, obj["messages"], ln, "messages", tool_names)
    if info is None:
        return None
    if info.assistants == 0:
        chk.add(
            "chat.assistant.missing",
            ln,
            'no assistant message; add at least one {"role": "assistant", "content": ...} '
            "for the model to learn from",
        )
    elif info.trained == 0:
        chk.add(
            "chat.assistant.no_trainable",
            ln,
            'every assistant message has "weight": 0, so there is nothing to learn; set '
            '"weight": 1 (or remove "weight") on at least one',
        )
    return messages_example(chk, texts, info, has_tools, trained=info.trained, extra=extra)


def _mismatch(chk: Checker, obj: dict[str, Any], ln: int) -> bool:
    want = f'{chk.spec.base} needs {{"messages": [{{"role": ..., "content": ...}}, ...]}}'
    if "prompt" in obj or "completion" in obj:
        chk.add(
            "format.mismatch",
            ln,
            "line is in the prompt/completion format of babbage-002 and davinci-002; " + want,
        )
        return True
    if "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
        chk.add(
            "format.mismatch",
            ln,
            "line is in the DPO format; validate it with method dpo, or " + want,
        )
        return True
    return False


def check_messages(  # noqa: C901 - one rule after the other
    chk: Checker,
    msgs: Any,
    ln: int,
    path: str,
    tool_names: set[str] | None,
    *,
    allow_weight: bool = True,
    developer: bool = False,
) -> MsgInfo | None:
    """The rules of a list of messages at ``path`` (``messages``, ``input.messages``, an output):
    what they hold, or None when it is no list of messages at all. ``tool_names``: the functions
    the example defines (None: no tools given); ``allow_weight``: supervised data only;
    ``developer``: a developer role is allowed (reinforcement data)."""
    if not isinstance(msgs, list) or not msgs:
        what = "an empty list" if isinstance(msgs, list) else jtype(msgs)
        chk.add(
            "chat.messages.type",
            ln,
            f'{path} is {what}; use a non-empty list of {{"role": ..., "content": ...}} '
            "messages",
        )
        return None
    info = MsgInfo(texts=[])
    texts = info.texts
    call_ids: set[str] = set()
    vision = chk.spec.vision
    for i, m in enumerate(msgs):
        p = f"{path}[{i}]"
        if not isinstance(m, dict):
            chk.add(
                "chat.message.type",
                ln,
                f'{p} is {jtype(m)}; each message must be an object like '
                '{"role": "user", "content": "..."}',
            )
            continue
        info.messages += 1
        role = m.get("role")
        if "role" not in m:
            chk.add("chat.role.missing", ln, f'{p} has no "role"; {_ROLE_HINT}')
            role = None
        elif (
            not isinstance(role, str)
            or role not in _KEYS_BY_ROLE
            or (role == "developer" and not developer)
        ):
            hint = _ROLE_HINT.replace("system,", "developer, system,") if developer else _ROLE_HINT
            chk.add("chat.role.unknown", ln, f"{p}.role is {show(role)}; {hint}")
            role = None
        else:
            info.last_role = role
        allowed = _KEYS_BY_ROLE[role] if role else _ALL_MESSAGE_KEYS
        for key in m:
            if key in allowed:
                continue
            if key == "weight":
                chk.add(
                    "chat.weight.role",
                    ln,
                    f'{p} ({role}) has "weight"; weight is only allowed on assistant '
                    "messages — remove it",
                )
            elif key in _ALL_MESSAGE_KEYS:
                chk.add(
                    "chat.message.key_unknown",
                    ln,
                    f'{p} ({role}) has "{key}", which only '
                    + ("assistant" if key in ("tool_calls", "function_call", "refusal")
                       else "tool")
                    + " messages may have; remove it",
                )
            else:
                chk.add(
                    "chat.message.key_unknown",
                    ln,
                    f'{p} has unknown key "{key}"; a {role or "chat"} message may only have '
                    + ", ".join(allowed),
                )
        name = m.get("name")
        if name is not None:
            if not isinstance(name, str):
                chk.add("chat.name.type", ln, f"{p}.name is {jtype(name)}; use a string")
            else:
                texts.append(name)
                info.extra_tokens += TOKENS_PER_NAME
        # weight
        trainable = False
        if role == "assistant":
            info.assistants += 1
            if "weight" in m:
                w = m["weight"]
                if not allow_weight:
                    chk.add(
                        "chat.message.key_unknown",
                        ln,
                        f'{p} has "weight", which '
                        + ("reinforcement" if chk.fmt == "rft" else "DPO")
                        + " data does not use; remove it",
                    )
                    trainable = True
                elif isinstance(w, bool) or w not in (0, 1) or isinstance(w, float):
                    chk.add(
                        "chat.weight.value",
                        ln,
                        f"{p}.weight is {show(w)}; use 0 (do not train on this message) "
                        "or 1 (train on it)",
                    )
                    trainable = True  # reported already; no second finding
                else:
                    trainable = w == 1
            else:
                trainable = True
        # tool calls (assistant)
        has_calls = False
        if role == "assistant":
            if "tool_calls" in m and m["tool_calls"] is not None:
                check_tool_calls(chk, m["tool_calls"], ln, p, tool_names, call_ids, info)
                has_calls = True
            if "function_call" in m and m["function_call"] is not None:
                has_calls = True
                fc = m["function_call"]
                if (
                    not isinstance(fc, dict)
                    or not isinstance(fc.get("name"), str)
                    or not isinstance(fc.get("arguments"), str)
                ):
                    chk.add(
                        "chat.tool_calls.type",
                        ln,
                        f'{p}.function_call needs "name" and "arguments" strings',
                    )
                else:
                    texts.append(fc["name"])
                    texts.append(fc["arguments"])
                    info.extra_tokens += TOKENS_PER_TOOL_CALL
        if role == "tool":
            tcid = m.get("tool_call_id")
            if not isinstance(tcid, str) or not tcid:
                chk.add(
                    "chat.tool.call_id",
                    ln,
                    f'{p} (tool) has no "tool_call_id" string; set it to the id of the '
                    "assistant tool call it answers",
                )
            elif tcid not in call_ids:
                chk.add(
                    "chat.tool.call_id",
                    ln,
                    f'{p}.tool_call_id "{tcid}" matches no earlier assistant tool_calls id; '
                    "answer a tool call made earlier in the conversation",
                )
        # content
        if "content" not in m or m["content"] is None:
            if not has_calls:
                chk.add(
                    "chat.content.missing",
                    ln,
                    f'{p} ({role or "message"}) has no "content"; add the message text',
                )
        else:
            c = m["content"]
            if isinstance(c, str):
                if not c and not has_calls:
                    chk.add(
                        "chat.content.empty",
                        ln,
                        f"{p} ({role or 'message'}) has empty content; write the text or "
                        "remove the message",
                    )
                texts.append(c)
                if role in ("system", "developer") and i == 0:
                    info.system = c
            elif isinstance(c, list):
                text = check_parts(chk, c, ln, p, role, vision, info)
                if role in ("system", "developer") and i == 0:
                    info.system = text
            else:
                chk.add(
                    "chat.content.type",
                    ln,
                    f"{p}.content is {jtype(c)}; content must be a string"
                    + (" or a list of text/image_url parts" if role == "user" else ""),
                )
        if trainable:
            info.trained += 1
    if info.images > MAX_IMAGES_PER_EXAMPLE:
        chk.add(
            "chat.image.count",
            ln,
            f"example has {info.images} images; at most {MAX_IMAGES_PER_EXAMPLE} are "
            "allowed — split it",
        )
    return info


