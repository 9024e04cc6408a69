"""Property tests: random valid conversations pass; single mutations are caught; the fast path
and the slow path agree on every number."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_aoai_finetune.data import validate_bytes
from slow_path import slow_only

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(min_size=1, max_size=80)


@st.composite
def conversation(draw) -> dict:
    msgs: list[dict] = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(text)})
    turns = draw(st.integers(1, 3))
    for t in range(turns):
        user: dict = {"role": "user", "content": draw(text)}
        if draw(st.integers(0, 9)) == 0:
            user["name"] = draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True))
        msgs.append(user)
        reply: dict = {"role": "assistant", "content": draw(text)}
        last = t == turns - 1
        weight = draw(st.sampled_from([None, 1] if last else [None, 0, 1]))
        if weight is not None:
            reply["weight"] = weight
        msgs.append(reply)
    return {"messages": msgs}


def encode(examples: list[dict], ascii_only: bool = False) -> bytes:
    return ("\n".join(json.dumps(e, ensure_ascii=ascii_only) for e in examples) + "\n").encode()


def errors(report) -> list[tuple[str, int | None]]:
    return [(f.rule, f.line) for f in report.findings if f.severity == "error"]


@SETTINGS
@given(st.lists(conversation(), min_size=10, max_size=30), st.booleans())
def test_random_valid_conversations_pass(examples, ascii_only) -> None:
    report = validate_bytes(encode(examples, ascii_only))
    assert errors(report) == []
    assert report.ok
    assert report.stats["training"].examples == len(examples)



@SETTINGS
@given(st.lists(conversation(), min_size=1, max_size=30), st.booleans())
def test_fast_and_slow_paths_agree(examples, ascii_only) -> None:
    raw = encode(examples + examples[:2], ascii_only)  # with duplicates
    fast = validate_bytes(raw).to_dict()
    with pytest.MonkeyPatch.context() as mp:
        slow_only(mp)
        slow = validate_bytes(raw).to_dict()
    assert fast == slow


def _mutate(ex: dict, kind: str, data) -> tuple[object, str]:
    """Apply one mutation; return (the new line object or raw str, the rule that must fire)."""
    msgs = ex["messages"]
    users = [i for i, m in enumerate(msgs) if m["role"] == "user"]
    assistants = [i for i, m in enumerate(msgs) if m["role"] == "assistant"]
    if kind == "role":
        msgs[data.draw(st.sampled_from(users))]["role"] = data.draw(
            st.sampled_from(["bot", "User", "human", "", "model"])
        )
        return ex, "chat.role.unknown"
    if kind == "no_content":
        del msgs[data.draw(st.sampled_from(users))]["content"]
        return ex, "chat.content.missing"
    if kind == "content_type":
        msgs[data.draw(st.sampled_from(users + assistants))]["content"] = data.draw(
            st.one_of(st.integers(), st.none(), st.booleans(), st.dictionaries(text, text))
        )
        i = None
        return ex, "chat.content.type|chat.content.missing"
    if kind == "weight_value":
        msgs[data.draw(st.sampled_from(assistants))]["weight"] = data.draw(
            st.sampled_from([2, -1, 0.5, "1", True, None])
        )
        return ex, "chat.weight.value"
    if kind == "weight_role":
        msgs[data.draw(st.sampled_from(users))]["weight"] = data.draw(st.sampled_from([0, 1]))
        return ex, "chat.weight.role"
    if kind == "no_assistant":
        ex["messages"] = [m for m in msgs if m["role"] != "assistant"]
        return ex, "chat.assistant.missing"
    if kind == "all_weight_zero":
        for i in assistants:
            msgs[i]["weight"] = 0
        return ex, "chat.assistant.no_trainable"
    if kind == "unknown_key":
        msgs[data.draw(st.sampled_from(users + assistants))]["extra"] = 1
        return ex, "chat.message.key_unknown"
    if kind == "messages_type":
        ex["messages"] = data.draw(st.sampled_from([{}, [], "hi", None]))
        return ex, "chat.messages.type"
    if kind == "truncate":
        s = json.dumps(ex)
        return s[: data.draw(st.integers(1, len(s) - 1))], "jsonl.invalid_json"
    if kind == "not_object":
        return json.dumps(data.draw(st.sampled_from([[ex], "text", 3, None]))), "jsonl.not_object"
    raise AssertionError(kind)


KINDS = [
    "role", "no_content", "content_type", "weight_value", "weight_role", "no_assistant",
    "all_weight_zero", "unknown_key", "messages_type", "truncate", "not_object",
]


@SETTINGS
@given(st.lists(conversation(), min_size=10, max_size=20), st.sampled_from(KINDS), st.data())
def test_single_mutation_is_caught(examples, kind, data) -> None:
    at = data.draw(st.integers(0, len(examples) - 1))
    mutated, rule = _mutate(json.loads(json.dumps(examples[at])), kind, data)
    lines = [json.dumps(e) for e in examples]
    lines[at] = mutated if isinstance(mutated, str) else json.dumps(mutated)
    report = validate_bytes(("\n".join(lines) + "\n").encode())
    assert not report.ok
    found = errors(report)
    assert any(r in rule.split("|") and ln == at + 1 for r, ln in found), (rule, found)
    assert all(ln == at + 1 for _, ln in found if ln is not None)
