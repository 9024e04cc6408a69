"""The C extension ``pulumi_aoai_finetune.data._speedups`` (optional, built at install): it is
built where a C compiler is, and its token keys are the pure-Python arithmetic's on any text
(ASCII, Latin-1, BMP, astral, lone surrogates), for both heuristic encodings. That the whole
report is the same with and without it is checked in test_data_fast_path.py."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulumi_aoai_finetune.data import fastpath

SEP = len(fastpath.SEP)


def _can_build() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    header = os.path.join(sysconfig.get_paths()["include"], "Python.h")
    return shutil.which(cc) is not None and os.path.exists(header)


@pytest.fixture(scope="module")
def token_keys():
    if fastpath._c_token_keys is None:
        pytest.skip("the C extension is not built (no C compiler at install)")
    return fastpath._c_token_keys


def units(ratio: int) -> tuple[int, int, int]:
    """The arguments the validator passes for R bytes per token of non-ASCII text."""
    if ratio == 4:
        return 1, 1, SEP
    return ratio, 4, ratio * SEP


def reference(examples: list[list[str]], ratio: int) -> list[int]:
    """Each example's contents joined by the separator, in the heuristic counter's units:
    R per ASCII character and 4 per UTF-8 byte of other text, all divided by 4 when R = 4."""
    a, o, sep = units(ratio)
    return [
        sep * (len(texts) - 1) * (len(texts) > 0)
        + sum(a * len(t) if t.isascii() else o * len(t.encode("utf-8", "surrogatepass"))
              for t in texts)
        for texts in examples
    ]


def typed(examples: list[list[str]]) -> list[list[object]]:
    kinds = (fastpath.FSystem, fastpath.FUser, fastpath.FAssistant)
    return [[kinds[j % 3](content=t) for j, t in enumerate(texts)] for texts in examples]


def test_the_extension_is_built_where_a_c_compiler_is() -> None:
    if not _can_build():
        pytest.skip("no C compiler or Python headers: the pure-Python path is used")
    assert fastpath._c_token_keys is not None, (
        "a C compiler is here but pulumi_aoai_finetune.data._speedups is not importable: "
        "reinstall with `pip install -e .` (scripts/setup.sh does it when _speedups.c changes)"
    )


text = st.one_of(
    st.text(st.characters(max_codepoint=0x7F), max_size=40),             # ASCII
    st.text(st.characters(max_codepoint=0xFF), max_size=40),             # Latin-1 (1 byte/char)
    st.text(st.characters(max_codepoint=0xFFFF), max_size=40),           # BMP (2 bytes/char)
    st.text(max_size=40),                                                # astral (4 bytes/char)
    st.text(st.one_of(st.characters(max_codepoint=0x7F),
                      st.characters(categories=["Cs"])), min_size=1, max_size=10),  # surrogates
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(text, max_size=6), max_size=8), st.sampled_from([3, 4]))
def test_c_keys_are_the_python_keys(token_keys, examples, ratio) -> None:
    assert token_keys(typed(examples), *units(ratio)) == reference(examples, ratio)


def test_known_numbers(token_keys) -> None:
    examples = [["hello", "wörld"], ["日本"], ["😀", ""], []]
    # R = 4: UTF-8 bytes, 16 per separator
    assert token_keys(typed(examples), 1, 1, 16) == [5 + 16 + 6, 6, 4 + 16 + 0, 0]
    # R = 3: 3 per ASCII character, 4 per byte of other text, 48 per separator
    assert token_keys(typed(examples), 3, 4, 48) == [15 + 48 + 24, 24, 16 + 48, 0]


@pytest.mark.parametrize("low", ["", "\xe9", "\u0100"])  # each string kind: 1, 2 and 4 bytes a char
@pytest.mark.parametrize(
    "char, size",
    [("\x7f", 1), ("\x80", 2), ("\xff", 2), ("\u07ff", 2), ("\u0800", 3), ("\ud800", 3),
     ("\uffff", 3), ("\U00010000", 4), ("\U0010ffff", 4)],
)
def test_utf8_sizes_at_every_boundary(token_keys, low, char, size) -> None:
    text = low + char
    if ord(char) < 0x80 and not low:
        return  # ASCII: characters, covered above
    expected = len(low.encode()) + size
    assert token_keys(typed([[text]]), 1, 1, 16) == [expected]
    assert len(text.encode("utf-8", "surrogatepass")) == expected


def test_bad_input_raises_and_leaks_nothing(token_keys) -> None:
    class NoText:
        content = 7

    with pytest.raises(TypeError, match="item 1 is a tuple, not a list"):
        token_keys([typed([["a"]])[0], ("x",)], 1, 1, 16)
    with pytest.raises(TypeError, match="content of message 0 of item 0 is a int, not a str"):
        token_keys([[NoText()]], 1, 1, 16)
    with pytest.raises(AttributeError):
        token_keys([[object()]], 1, 1, 16)
    with pytest.raises(TypeError):
        token_keys("not a list", 1, 1, 16)
    # a failure part-way leaves no reference behind on what was read before it
    msgs = typed([["abc"] * 3])[0]
    before = [sys.getrefcount(m.content) for m in msgs]
    for _ in range(100):
        with pytest.raises(TypeError):
            token_keys([msgs, [NoText()]], 1, 1, 16)
    assert [sys.getrefcount(m.content) for m in msgs] == before
