"""Reinforcement fine-tuning (RFT) data: one prompt per line, ``{"messages": [...developer/system
and user messages...], "<field>": ...}``, where the other top-level fields are the reference data
the grader reads as ``{{item.<field>}}``; the model writes the answer, so no assistant reply ends
the prompt. Tokens are the prompt's (RFT is billed by training time)."""

from __future__ import annotations

from typing import Any

from .chat import TOP_KEYS, check_messages
from .common import Checker, Example, messages_example
from .tools import check_tools

_HINT = (
    'a reinforcement fine-tuning line is {"messages": [...developer/system and user messages...], '
    '"<field>": ...}, with the fields the grader reads as {{item.<field>}}'
)


def check(chk: Checker, obj: dict[str, Any], ln: int) -> Example | None:
    """One reinforcement fine-tuning line: a prompt (``messages``, no answer at its end) and
    the reference fields its grader reads; tokens are the prompt's."""
    if "messages" not in obj:
        if "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
            chk.add("format.mismatch", ln, "line is in the DPO format; " + _HINT)
        elif "prompt" in obj or "completion" in obj:
            chk.add(
                "format.mismatch", ln, "line is in the prompt/completion format; " + _HINT
            )
        else:
            chk.add("rft.messages.missing", ln, 'no "messages" (the prompt); ' + _HINT)
        return None
    texts: list[str] = []
    tool_names = None
    has_tools = "tools" in obj
    if has_tools:
        tool_names, t_text = check_tools(chk, obj["tools"], ln, "tools")
        texts.extend(t_text)
    info = check_messages(
        chk, obj["messages"], ln, "messages", tool_names, allow_weight=False, developer=True
    )
    if info is None:
        return None
    if info.last_role == "assistant":
        chk.add(
            "rft.messages.last_role",
            ln,
            "messages ends with an assistant message; reinforcement data holds the prompt "
            "only (the model writes the answer and the grader scores it): end with the user "
            "turn and move a reference answer to a top-level field the grader reads",
        )
    fields = [k for k in obj if k not in TOP_KEYS]
    if fields:
        chk.rft_items += 1
    for name in chk.grader_fields or ():
        if name not in obj:
            have = ", ".join(fields) if fields else "none"
            chk.add(
                "rft.item.missing",
                ln,
                f'no "{name}", which the grader reads as {{{{item.{name}}}}} (fields of this '
                f"line: {have}); add it to every line",
            )
    return messages_example(chk, texts, info, has_tools, trained=1)




def finish(chk: Checker, stats: Any, *, training: bool) -> None:
    """The file-level rules of reinforcement data, once the file is read (``stats``: its
    :class:`..stats.DatasetStats`)."""
    if training:
        stats.notes.append(
            "reinforcement fine-tuning is billed by training time (and grader model tokens), not "
            "by trained tokens; the token figures count the prompts only"
        )
    if stats.examples and not chk.rft_items and not chk.grader_fields:
        chk.add(
            "rft.item.none",
            None,
            "no line has fields beside messages; graders usually compare the answer with a "
            "reference the data gives, read as {{item.<field>}} (e.g. \"reference_answer\")",
        )
