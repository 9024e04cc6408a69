"""The validator's fast path: plain, valid lines, a batch at a time, with no rule of its own.

msgspec decodes each line into typed Structs of the plain chat shape (role-tagged
system/user/assistant messages, non-empty string content, ``weight`` 0|1 only on assistant
messages, no unknown keys, a non-empty messages list) or of the prompt/completion shape. msgspec
checks UTF-8, JSON syntax, roles, types and unknown keys in C; Python then checks what types cannot
say (an assistant message with weight 1 exists) and gathers statistics for a whole batch at once
with C-level ``map`` calls (:meth:`FastPath._chat_stats`): token numbers from the length of each
example's texts (an O(1) ASCII flag; the UTF-8 size only for non-ASCII text), one system-message
comparison per batch, duplicate keys from a sample of each line. The token numbers come from the C
extension ``_speedups`` (one call per batch, no per-message Python) when it was built at install;
otherwise from the same arithmetic in Python (each example's texts joined), about 1.3x slower
overall and with the same results.

A line that passes the fast path is valid. Every other line goes to the slow path
(:meth:`.filecheck.FileCheck.slow`), the only source of findings; the fast path computes the same
statistics (tests/provider/data/test_data_properties.py and test_data_fast_path.py check that both
agree on random data).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, itemgetter, mul, not_
from typing import Annotated, Any, ClassVar, Literal, Protocol, Union

import msgspec

from .rules.common import Example
from .stats import DatasetStats
from .tokens import ASCII_CHARS_PER_TOKEN, TOKENS_PER_MESSAGE, TOKENS_PER_REPLY

try:  # built at install when a C compiler is there (pyproject.toml: optional)
    from ._speedups import token_keys as _c_token_keys
except ImportError:  # pragma: no cover - depends on the install
    _c_token_keys = None

_get_messages = attrgetter("messages")
_get_content = attrgetter("content")
_get_weight = attrgetter("weight")
_first = itemgetter(0)
_last = itemgetter(-1)
SEP = " " * (ASCII_CHARS_PER_TOKEN * TOKENS_PER_MESSAGE)  # see FastPath.__init__
_join_sep = SEP.join
_BACKSLASH = b"\\"

# Only the plain, valid shapes. Anything else fails to decode -> slow path.
_NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
_STRUCT = {"forbid_unknown_fields": True, "gc": False}


class FSystem(msgspec.Struct, tag_field="role", tag="system", **_STRUCT):  # type: ignore[call-arg]
    content: _NonEmpty
    weight: ClassVar[int] = 0


class FUser(msgspec.Struct, tag_field="role", tag="user", **_STRUCT):  # type: ignore[call-arg]
    content: _NonEmpty
    weight: ClassVar[int] = 0


class FAssistant(msgspec.Struct, tag_field="role", tag="assistant", **_STRUCT):  # type: ignore[call-arg]
    content: _NonEmpty
    weight: Literal[0, 1] = 1


class FChat(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    messages: Annotated[
        list[Union[FSystem, FUser, FAssistant]], msgspec.Meta(min_length=1)
    ]


class FCompletion(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    prompt: str
    completion: _NonEmpty


class Owner(Protocol):
    """What the fast path reports to: the file check (:class:`.filecheck.FileCheck`)."""

    ctx: Any  # .filecheck.Context: format, token counter, model spec
    stats: DatasetStats

    def slow(self, raw: bytes, ln: int) -> None:
        """Check line ``ln`` rule by rule (it is not a plain valid line)."""

    def record(self, ln: int, raw: bytes, ex: Example) -> None:
        """Statistics and data-set checks of one valid example."""

    def too_long(self, ln: int, tokens: int) -> None:
        """Line ``ln`` is over the model's tokens per example."""

    def system_n(self, system: str | None, count: int, ln: int) -> None:
        """``count`` examples from line ``ln`` on start with this system message."""

    def seen_batch(self, lines: list[bytes], ln0: int) -> None:
        """Duplicate and overlap checks of lines ``ln0 + 1`` on."""


class FastPath:
    """The fast path of one file check: batches of chat lines, single lines of any format; the
    fast path's token and message histograms, merged into the statistics at the end."""

    def __init__(self, check: Owner) -> None:
        ctx = check.ctx
        self.check = check
        self.fmt = ctx.fmt
        self.counter = ctx.counter
        self.tcounts: Counter[int] = Counter()  # token keys -> examples
        self.ncounts: Counter[int] = Counter()  # messages -> examples
        self._dec_chat = msgspec.json.Decoder(FChat).decode
        self._dec_completion = msgspec.json.Decoder(FCompletion).decode
        # Fast-path token numbers (heuristic counter) are kept as keys k, with tokens
        # (k + _tconst) // _tdiv: one floor division for ceil(units / div) +
        # TOKENS_PER_MESSAGE * n + TOKENS_PER_REPLY. Units are R per ASCII character and 4 per
        # UTF-8 byte of other text (R: bytes per token of non-ASCII text), divided by 4 when
        # R = 4 (then units are UTF-8 bytes). A key is r x the length of an example's texts
        # joined by SEP (r = R, or 1 when R = 4): units + r * len(SEP) * (n - 1), where
        # r * len(SEP) = div * TOKENS_PER_MESSAGE; _tconst adds back one message's worth.
        self._units: int | None = ctx.counter.nonascii_int if ctx.heuristic else None
        if self._units is None:  # exact counter: keys are tokens
            self._tdiv, self._tconst = 1, 0
        else:
            r = 1 if self._units == ASCII_CHARS_PER_TOKEN else self._units
            div = ASCII_CHARS_PER_TOKEN * r
            self._tdiv = div
            self._tconst = div * (TOKENS_PER_REPLY + TOKENS_PER_MESSAGE) + div - 1
        # the smallest key whose tokens are over the model's limit
        self._tkey_limit = self._tdiv * (ctx.spec.max_example_tokens + 1) - self._tconst

    def batch(self, batch: list[bytes], ln0: int) -> None:
        """Lines ``ln0 + 1`` on: a batch of chat lines at once, other formats line by line."""
        if self.fmt == "chat":
            self._batch_chat(batch, ln0)
            return
        line = self.line
        for raw in batch:
            ln0 += 1
            line(raw, ln0)

    def _batch_chat(self, batch: list[bytes], ln0: int) -> None:
        """The fast path for a batch of whole lines (chat format).

        The longest run of lines that decode into the plain typed shapes and have a trained
        assistant message is checked by :meth:`_chat_stats` with C-level ``map`` calls; the line
        that ends the run goes to :meth:`line` (and so to the slow path), then the next run."""
        dec = self._dec_chat
        n = len(batch)
        start = 0
        while start < n:
            part = batch[start:] if start else batch
            try:
                msgss = list(map(_get_messages, map(dec, part)))
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                exs: list[FChat] = []
                try:
                    exs.extend(map(dec, part))  # keeps the lines decoded before the failure
                except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                    pass
                msgss = list(map(_get_messages, exs))
                del exs
            k = len(msgss)
            if not all(map(_get_weight, map(_last, msgss))):
                # the last message is not a trained assistant message: look closer
                for i in compress(range(k), map(not_, map(_get_weight, map(_last, msgss)))):
                    if not any(map(_get_weight, msgss[i])):
                        k = i
                        del msgss[i:]
                        break
            if k:
                self._chat_stats(part[:k] if k < len(part) else part, msgss, ln0 + start)
            if k < len(part):
                self.line(part[k], ln0 + start + k + 1)
            start += k + 1

    def _chat_stats(self, lines: list[bytes], msgss: list[list[Any]], ln0: int) -> None:
        """Statistics and data-set checks of valid typed chat examples (lines ``ln0 + 1`` on):
        C-level maps over the batch; Python per line only for what is rare (non-ASCII text,
        duplicates, examples over the limit, several system messages in one batch)."""
        n = len(lines)
        ns = list(map(len, msgss))
        self.ncounts.update(ns)
        # token keys: tokens = (key + self._tconst) // self._tdiv (see _batch_token_keys)
        if self._units is not None:
            keys = self._batch_token_keys(lines, msgss)
        else:
            ft = self._fast_tokens
            keys = [ft(m) + TOKENS_PER_MESSAGE * k + TOKENS_PER_REPLY for m, k in zip(msgss, ns)]
        if max(keys) >= self._tkey_limit:
            div, const = self._tdiv, self._tconst
            hist = self.check.stats.tokens
            keep = []
            for i, k in enumerate(keys):
                if k >= self._tkey_limit:
                    t = (k + const) // div
                    hist.add(t)
                    self.check.too_long(ln0 + 1 + i, t)
                else:
                    keep.append(k)
            keys = keep
        self.tcounts.update(keys)
        # system messages: one variant for the whole batch is the common case (typed messages
        # compare equal when they have the same type and content)
        firsts = list(map(_first, msgss))
        first = firsts[0]
        if firsts.count(first) == n:
            self.check.system_n(first.content if first.__class__ is FSystem else None, n, ln0 + 1)
        elif FSystem not in map(type, firsts):
            self.check.system_n(None, n, ln0 + 1)
        else:
            for i, m in enumerate(firsts):
                self.check.system_n(m.content if m.__class__ is FSystem else None, 1, ln0 + 1 + i)
        # duplicates (and overlap with the training file)
        self.check.seen_batch(lines, ln0)

    def _batch_token_keys(self, lines: list[bytes], msgss: list[list[Any]]) -> list[int]:
        """Heuristic token numbers of typed examples, as keys ``k`` with tokens
        ``(k + self._tconst) // self._tdiv`` (see ``__init__``): the same numbers as
        ``HeuristicCounter.count`` over the message contents plus the chat overhead.

        Whether a text is ASCII is an O(1) flag of a Python string, and its length is its
        number of characters; only a non-ASCII example needs a pass over its bytes for their
        UTF-8 size. ``_speedups.token_keys`` computes the same keys in C, from each message's
        code points, when it is built (tests/provider/data/test_speedups.py checks they agree)."""
        r = self._units
        if _c_token_keys is not None:
            if r == ASCII_CHARS_PER_TOKEN:  # UTF-8 bytes throughout
                return _c_token_keys(msgss, 1, 1, len(SEP))
            return _c_token_keys(msgss, r, ASCII_CHARS_PER_TOKEN, r * len(SEP))
        texts = list(map(_join_sep, map(partial(map, _get_content), msgss)))
        keys = list(map(len, texts))
        if r != ASCII_CHARS_PER_TOKEN:
            keys = list(map(mul, keys, repeat(r)))
        ascii_texts = list(map(str.isascii, texts))
        if not all(ascii_texts):
            for i in compress(range(len(texts)), map(not_, ascii_texts)):
                if r == ASCII_CHARS_PER_TOKEN:  # keys are UTF-8 bytes
                    raw = lines[i]
                    if raw.find(_BACKSLASH) < 0:
                        # Every non-ASCII character of a line that decoded into the typed
                        # shapes is in a content string (keys and roles are fixed ASCII names),
                        # and with no escape in the line it is written as itself: the texts'
                        # extra UTF-8 bytes are the line's bytes minus its characters.
                        keys[i] += len(raw) - len(raw.decode())
                    else:
                        keys[i] = len(texts[i].encode("utf-8", "surrogatepass"))
                else:
                    for c in map(_get_content, msgss[i]):
                        if not c.isascii():
                            b = len(c.encode("utf-8", "surrogatepass"))
                            keys[i] += (
                                b - len(c) if r == ASCII_CHARS_PER_TOKEN
                                else ASCII_CHARS_PER_TOKEN * b - r * len(c)
                            )
        return keys

    def line(self, raw: bytes, ln: int) -> None:
        """One whole line: the typed fast check, else the slow path."""
        ex = None
        if self.fmt == "chat":
            try:
                msgs = self._dec_chat(raw).messages
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                msgs = None
            if msgs is not None and any(map(_get_weight, msgs)):
                m = msgs[0]
                n = len(msgs)
                ex = Example(
                    tokens=self._fast_tokens(msgs) + TOKENS_PER_MESSAGE * n + TOKENS_PER_REPLY,
                    messages=n,
                    system=m.content if m.__class__ is FSystem else None,
                    trained=1,
                )
        elif self.fmt == "completion":
            try:
                c = self._dec_completion(raw)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                pass
            else:
                ex = Example(
                    tokens=self.counter.count((c.prompt, c.completion)),
                    messages=0,
                    system=None,
                    trained=1,
                )
        if ex is None:
            self.check.slow(raw, ln)
        else:
            self.check.record(ln, raw, ex)

    def _fast_tokens(self, msgs: list[Any]) -> int:
        """Text tokens of typed messages (the same numbers the slow path computes)."""
        return self.counter.count(list(map(_get_content, msgs)))

    def merge(self, stats: Any) -> None:
        """Add the fast path's histograms to the file's :class:`~.stats.DatasetStats`."""
        nc = self.ncounts
        if nc:
            stats.examples += sum(nc.values())
            stats.messages += sum(k * v for k, v in nc.items())
            lo, hi = min(nc), max(nc)
            if stats.min_messages is None or lo < stats.min_messages:
                stats.min_messages = lo
            if stats.max_messages is None or hi > stats.max_messages:
                stats.max_messages = hi
        tcounts = self.tcounts
        if self._tdiv != 1 or self._tconst:
            div, const = self._tdiv, self._tconst
            tokens: Counter[int] = Counter()
            for k, c in tcounts.items():
                tokens[(k + const) // div] += c
            tcounts = tokens
        stats.tokens.merge_counts(tcounts)
