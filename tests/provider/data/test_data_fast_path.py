"""The batch fast path (with and without its C token keys) gives the same report as the
line-by-line slow path: token numbers for both heuristic encodings and the exact tokenizer,
non-ASCII text written as itself or escaped, several system messages in one batch, examples over
the limit, duplicates across batches."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_aoai_finetune.data import exact_available, validate_bytes
from pulumi_aoai_finetune.data import fastpath, reader
from slow_path import slow_only

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = ["hello", "order", "refund", "Größe", "café", "こんにちは", "数据集", "😀", "a\nb", 'say "hi"',
         "back\\slash", "tab\tstop", "x" * 300]
SYSTEMS = ["You are helpful.", "You are terse.", "Vous êtes aimable."]

text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)


@st.composite
def conversation(draw) -> dict:
    msgs: list[dict] = []
    kind = draw(st.integers(0, 3))
    if kind < 2:
        msgs.append({"role": "system", "content": SYSTEMS[kind]})
    elif kind == 2:
        msgs.append({"role": "system", "content": draw(st.sampled_from(SYSTEMS))})
    for t in range(draw(st.integers(1, 3))):
        msgs.append({"role": "user", "content": draw(text)})
        reply: dict = {"role": "assistant", "content": draw(text)}
        weight = draw(st.sampled_from([None, None, 0, 1]))
        if weight is not None:
            reply["weight"] = weight
        msgs.append(reply)
    return {"messages": msgs}



def both(raw: bytes, **kw) -> tuple[dict, dict]:
    """The fast path's report and the slow path's; the fast path's is the same with the C token
    keys (when built) and with the pure-Python ones."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reader, "_BATCH", 7)  # several batches, and runs cut by slow lines
        fast = validate_bytes(raw, max_findings=1000, **kw).to_dict()
        mp.setattr(fastpath, "_c_token_keys", None)
        assert validate_bytes(raw, max_findings=1000, **kw).to_dict() == fast
        slow_only(mp)
        slow = validate_bytes(raw, max_findings=1000, **kw).to_dict()
    return fast, slow


def lines_of(examples: list[dict], escaped: list[bool]) -> bytes:
    return b"".join(
        json.dumps(e, ensure_ascii=a).encode() + b"\n" for e, a in zip(examples, escaped)
    )


@SETTINGS
@given(st.lists(st.tuples(conversation(), st.booleans()), min_size=1, max_size=40), st.data())
@pytest.mark.parametrize("model", ["gpt-4o-mini-2024-07-18", "gpt-4-0613", "gpt-35-turbo-0613"])
def test_fast_and_slow_paths_agree_for_every_encoding(model, pairs, data) -> None:
    examples = [e for e, _ in pairs]
    escaped = [a for _, a in pairs]
    repeats = data.draw(st.lists(st.integers(0, len(examples) - 1), max_size=5))
    examples += [examples[i] for i in repeats]
    escaped += [escaped[i] for i in repeats]
    fast, slow = both(lines_of(examples, escaped), model=model)
    assert fast == slow


@pytest.mark.skipif(not exact_available(), reason="bpe-openai not installed")
def test_fast_and_slow_paths_agree_with_the_exact_tokenizer() -> None:
    examples = [
        {"messages": [{"role": "system", "content": SYSTEMS[i % 3]},
                      {"role": "user", "content": " ".join(WORDS[: i % 13 + 1])},
                      {"role": "assistant", "content": WORDS[i % 13] * (i % 4 + 1)}]}
        for i in range(60)
    ]
    fast, slow = both(lines_of(examples, [i % 2 == 0 for i in range(60)]), tokenizer="exact")
    assert fast == slow


def test_examples_over_the_limit_agree() -> None:
    big = "word " * 5000  # ~6,250 tokens: over gpt-35-turbo-0613's 4,096
    examples = [
        {"messages": [{"role": "user", "content": big if i % 5 == 0 else "hi"},
                      {"role": "assistant", "content": "ok"}]}
        for i in range(30)
    ]
    fast, slow = both(lines_of(examples, [True] * 30), model="gpt-35-turbo-0613")
    assert fast == slow
    assert fast["counts"]["example.too_long"] == 6


def test_system_message_variants_agree() -> None:
    # one variant per batch, several in a batch, none, a user message first that reads like
    # the system message of other lines
    examples = []
    for i in range(50):
        first = (
            {"role": "system", "content": SYSTEMS[0]}
            if i < 20 or i % 3 == 0
            else {"role": "user", "content": SYSTEMS[0]}
            if i % 3 == 1
            else {"role": "system", "content": SYSTEMS[i % 3]}
        )
        examples.append({"messages": [first, {"role": "user", "content": f"q{i}"},
                                      {"role": "assistant", "content": f"a{i}"}]})
    fast, slow = both(lines_of(examples, [False] * 50))
    assert fast == slow
    assert fast["stats"]["training"]["system_message_variants"] == 3  # two texts, and none
