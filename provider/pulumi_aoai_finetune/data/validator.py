"""The streaming training-data validator.

How it streams
    The file is read in binary through a 1 MiB buffered reader, in pieces of at most 64 KiB
    (``readline(65536)``) gathered in batches of at most 128 pieces, so at most ~8 MiB of input
    are held at once. Lines longer than a piece are reassembled up to 64 MiB
    (:data:`MAX_LINE_BYTES`); a longer line is reported (``jsonl.line_too_long``) and skipped
    without being kept. Memory does not grow with the file beyond the bounded tables below.

Fast path and slow path
    *Fast path* (:meth:`_FileCheck._batch_chat`, :meth:`_FileCheck._line`): msgspec decodes each
    line into typed Structs of the plain chat format (role-tagged system/user/assistant messages,
    non-empty string content, ``weight`` 0|1 only on assistant messages, no unknown keys, a
    non-empty messages list) or of the prompt/completion format. msgspec checks UTF-8, JSON
    syntax, roles, types and unknown keys in C; Python then checks what types cannot say (an
    assistant message with weight 1 exists) and gathers statistics, for a whole batch at once
    with C-level ``map`` calls (:meth:`_FileCheck._chat_stats`): token numbers from the length
    of each example's texts (an O(1) ASCII flag; the UTF-8 size only for non-ASCII text), one
    system-message comparison per batch, duplicate keys from a sample of each line. The token
    numbers come from the C extension ``_speedups`` (one call per batch, no per-message Python)
    when it was built at install; otherwise from the same arithmetic in Python (each example's
    texts joined), about 1.3x slower overall and with the same results.
    A line that passes the fast path is valid.
    *Slow path* (:meth:`_FileCheck._slow`): every other line (any doubt, tools, images, names,
    DPO, every error) is decoded generically and checked rule by rule, producing every finding
    of the line with its exact JSON path. The slow path is the only source of findings about a
    line; the fast path never reports one, and computes the same statistics
    (tests/provider/data/test_data_properties.py and test_data_fast_path.py check that both
    agree on random data).

Bounded state
    - Duplicates and train/validation overlap (:class:`_Seen`): the first ``dedup_limit``
      distinct examples (default 500,000) in a dict of about 100 bytes per example (~50 MB at
      the default limit); past that, later lines are still compared with the remembered ones
      but not added, and the statistics say so. Duplicates
      are byte-identical lines: a line is keyed by a sample of its bytes, and a matching key is
      settled by reading the remembered line again and comparing whole-line 64-bit hashes, so a
      false duplicate needs a 64-bit collision (~1e-8 at 500k lines), as before. The source is
      read again only for that (``os.pread`` on the open file, or the bytes given); the hash is
      per process, never stored.
    - System-message variants (the leading system message of each error-free example): a dict
      of at most 1,000 variants with counts.
    - Token quantiles: :class:`~.stats.TokenHistogram` (exact below 131,072 tokens).
    - Findings: the first ``max_findings`` per rule are kept; counts are exact.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass
from functools import partial
from collections import Counter
from collections.abc import Mapping
from itertools import accumulate, chain, compress, islice, repeat
from operator import attrgetter, itemgetter, mul, ne, not_, or_, xor
from typing import Annotated, Any, BinaryIO, ClassVar, Iterator, Literal, Union

import msgspec

from .findings import RULES, FindingCollector, Report
from .formats import (
    DEFAULT_MODEL,
    IMAGE_MEDIA_TYPES,
    MAX_FILE_BYTES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_EXAMPLES,
    MAX_IMAGES_PER_EXAMPLE,
    MAX_TRAINED_TOKENS,
    METHODS,
    MIN_EXAMPLES,
    RECOMMENDED_EXAMPLES,
    ModelSpec,
    default_n_epochs,
    grader_fields,
    known_models,
    model_spec,
)
from .stats import DatasetStats
from .tokens import (
    ASCII_CHARS_PER_TOKEN,
    IMAGE_TOKENS_HIGH,
    IMAGE_TOKENS_LOW,
    TOKENS_PER_MESSAGE,
    TOKENS_PER_NAME,
    TOKENS_PER_REPLY,
    TOKENS_PER_TOOL_CALL,
    HeuristicCounter,
    make_counter,
)

try:  # built at install when a C compiler is there (pyproject.toml: optional)
    from ._speedups import token_keys as _c_token_keys
except ImportError:  # pragma: no cover - depends on the install
    _c_token_keys = None

__all__ = ["validate_file", "validate_bytes", "DEFAULT_DEDUP_LIMIT", "MAX_LINE_BYTES"]

#: A line longer than this is reported and skipped, not read into memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: Maximum number of distinct example digests kept for duplicate/overlap detection.
DEFAULT_DEDUP_LIMIT = 500_000
_MAX_SYSTEM_VARIANTS = 1_000
_READ_BUFFER = 1 << 20
_PIECE = 64 * 1024
_BATCH = 128


def _pread(fd: int, offset: int, size: int) -> bytes:
    return os.pread(fd, size, offset)


def _slice(data: bytes, offset: int, size: int) -> bytes:
    return data[offset : offset + size]


class _Fallback(Exception):
    """A batch needs the line-by-line path."""


_get_messages = attrgetter("messages")
_get_content = attrgetter("content")
_get_weight = attrgetter("weight")
_first = itemgetter(0)
_last = itemgetter(-1)
_SEP = " " * (ASCII_CHARS_PER_TOKEN * TOKENS_PER_MESSAGE)  # see _FileCheck.__init__
_join_sep = _SEP.join
_BOM = b"\xef\xbb\xbf"
_BACKSLASH = b"\\"
_UNSET: Any = object()

# ----------------------------------------------------------------------------------------------
# Fast-path types: only the plain, valid shapes. Anything else fails to decode -> slow path.


_NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
_STRUCT = {"forbid_unknown_fields": True, "gc": False}


class _FSystem(msgspec.Struct, tag_field="role", tag="system", **_STRUCT):  # type: ignore[call-arg]
    content: _NonEmpty
    weight: ClassVar[int] = 0


class _FUser(msgspec.Struct, tag_field="role", tag="user", **_STRUCT):  # type: ignore[call-arg]
    content: _NonEmpty
    weight: ClassVar[int] = 0


class _FAssistant(msgspec.Struct, tag_field="role", tag="assistant", **_STRUCT):  # type: ignore[call-arg]
    content: _NonEmpty
    weight: Literal[0, 1] = 1


class _FChat(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    messages: Annotated[
        list[Union[_FSystem, _FUser, _FAssistant]], msgspec.Meta(min_length=1)
    ]


class _FCompletion(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    prompt: str
    completion: _NonEmpty


# ----------------------------------------------------------------------------------------------

ROLES = ("system", "user", "assistant", "tool")
_LEGACY_ROLES = ("function",)
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
_CHAT_TOP_KEYS = ("messages", "tools", "parallel_tool_calls", "functions")
_DPO_TOP_KEYS = ("input", "preferred_output", "non_preferred_output")
_DPO_INPUT_KEYS = ("messages", "tools", "parallel_tool_calls")
_RFT_HINT = (
    'a reinforcement fine-tuning line is {"messages": [...developer/system and user messages...], '
    '"<field>": ...}, with the fields the grader reads as {{item.<field>}}'
)
_COMPLETION_KEYS = ("prompt", "completion")
_DATA_URL = re.compile(r"^data:(image/[a-zA-Z0-9.+-]+);base64,", re.ASCII)
_BYTE_POS = re.compile(r"\(byte (\d+)\)")

_generic_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.encode


def _show(value: Any, limit: int = 40) -> str:
    """A short JSON rendering of a value for messages."""
    try:
        text = _encode(value).decode("utf-8", "replace")
    except (TypeError, msgspec.EncodeError):  # pragma: no cover - generic decode output
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jtype(value: Any) -> str:
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


@dataclass(slots=True)
class _Example:
    """What the statistics need from one example."""

    tokens: int
    messages: int
    system: str | None
    trained: int
    images: int = 0
    tools: bool = False


@dataclass(slots=True)
class _MsgInfo:
    texts: list[str]
    extra_tokens: int = 0
    messages: int = 0
    system: str | None = None
    assistants: int = 0
    trained: int = 0
    images: int = 0
    tool_calls: int = 0
    last_role: str | None = None


#: Lines are keyed by the hash of their last _SAMPLE bytes and their length; for a longer line
#: that is a sample, and a key shared with an earlier line is settled by reading it again.
_SAMPLE = 128
_LOW32 = (1 << 32) - 1
_MAX_LINE_NUMBER = (1 << 31) - 1  # a remembered line is (line number << 32) | offset
_MAX_OFFSET = _LOW32
_VERIFIED = 1 << 16  # whole-line hashes of repeated lines kept, to not read them again
_tail = itemgetter(slice(-_SAMPLE, None))


class _Seen:
    """The lines seen so far, for duplicates and train/validation overlap: the first ``limit``
    distinct lines, in memory bounded by ``limit`` whatever the size of the file.

    Key
        The 64-bit ``hash()`` of a line's last :data:`_SAMPLE` bytes, xor its length: for a
        short line its whole bytes, for a longer one a sample (hashing every byte of ~2 KB lines
        took a fifth of the validator's time).
    First
        A dict from key to ``(line number << 32) | offset`` of the first line with that key,
        filled a batch at a time with C-level ``setdefault`` (no Python work per line): about
        100 bytes per remembered line, so ~50 MB at the default limit of 500,000.
    Duplicates
        Byte-identical lines. A line whose key is already known is only "maybe" a repeat: the
        remembered line is read again (``reread``; its whole-line hash is then cached in
        ``verified``, at most :data:`_VERIFIED` of them) and compared by the 64-bit ``hash()`` of
        the whole bytes. So a false duplicate still needs a 64-bit hash collision. When two
        different lines share a key (equal last bytes and length), the lines with that key are
        looked up by whole-line hash in ``full`` from then on. A source that cannot be read
        again (``reread`` None) uses ``full`` alone: one entry per remembered line.
    Hashes are per process and never stored.
    """

    __slots__ = ("first", "limit", "room", "full", "ambiguous", "verified", "reread", "dropped")

    def __init__(self, limit: int, size: int | None, reread: Any) -> None:
        self.first: dict[int, int] = {}  # key -> (line number << 32) | offset
        self.limit = limit
        self.room = limit  # distinct lines that may still be remembered
        self.full: dict[int, int] = {}  # hash of the whole line -> line number
        self.ambiguous: set[int] = set()  # keys whose lines are looked up in ``full``
        self.verified: dict[int, int] = {}  # key -> hash of its remembered line (a cache)
        self.reread = reread  # (offset, size) -> bytes
        self.dropped = False  # a distinct line was not remembered: no room left

    def keys_of(self, lines: list[bytes], sizes: list[int]) -> list[int]:
        """The keys of whole lines of these sizes (C-level maps)."""
        if self.reread is None:
            return list(map(hash, lines))
        return list(map(xor, map(hash, map(_tail, lines)), sizes))

    def add(
        self,
        keys: list[int],
        lines: list[bytes],
        sizes: list[int],
        ln0: int,
        pos: int,
        duplicate: Any,
    ) -> None:
        """Check lines ``ln0 + 1`` on (with these keys and sizes, the first at offset
        ``pos``) against the remembered ones and remember the new ones; calls
        ``duplicate(line, earlier_line)`` for each repeat, in line order."""
        n = len(keys)
        if self.reread is None:
            self._add_full(keys, ln0, duplicate)
            return
        if ln0 + n > _MAX_LINE_NUMBER or pos + sum(sizes) > _MAX_OFFSET:
            self.room = 0  # beyond what an entry holds: nothing more is remembered
        start = (ln0 + 1) << 32
        values = list(map(or_, range(start, start + (n << 32), 1 << 32), accumulate(sizes, initial=pos)))
        if self.room < n:
            self._add_slowly(keys, values, lines, ln0, duplicate)
            return
        prevs = list(map(self.first.setdefault, keys, values))
        if prevs == values:  # all new: the common case
            self.room -= n
            return
        maybe = 0
        for j in compress(range(n), map(ne, prevs, values)):
            maybe += 1
            p = prevs[j]
            prev = self._settle(keys[j], p >> 32, p & _LOW32, lines[j], ln0 + 1 + j)
            if prev:
                duplicate(ln0 + 1 + j, prev)
        self.room -= n - maybe

    def _add_slowly(
        self, keys: list[int], values: list[int], lines: list[bytes], ln0: int, duplicate: Any
    ) -> None:
        """:meth:`add` when the room may run out within these lines."""
        first = self.first
        for j, (k, v) in enumerate(zip(keys, values)):
            ln = ln0 + 1 + j
            p = first.get(k)
            if p is not None:
                prev = self._settle(k, p >> 32, p & _LOW32, lines[j], ln)
                if prev:
                    duplicate(ln, prev)
            elif self.room:
                first[k] = v
                self.room -= 1
            else:
                self.dropped = True

    def _add_full(self, hashes: list[int], ln0: int, duplicate: Any) -> None:
        """:meth:`add` for a source that cannot be read again."""
        full = self.full
        lines = range(ln0 + 1, ln0 + 1 + len(hashes))
        if len(hashes) <= self.room:
            prevs = list(map(full.setdefault, hashes, lines))
            if prevs != list(lines):
                for prev, ln in zip(prevs, lines):
                    if prev != ln:
                        duplicate(ln, prev)
            self.room = self.limit - len(full)
            return
        for h, ln in zip(hashes, lines):
            prev = full.get(h)
            if prev is not None:
                duplicate(ln, prev)
            elif self.room:
                full[h] = ln
                self.room -= 1
            else:
                self.dropped = True

    def find(self, key: int, line: bytes) -> int | None:
        """The remembered line equal to ``line`` (whose key is ``key``), if any."""
        if self.reread is None:
            return self.full.get(key)
        p = self.first.get(key)
        if p is None:
            return None
        return self._settle(key, p >> 32, p & _LOW32, line, 0) or None

    def _settle(self, key: int, first: int, offset: int, line: bytes, ln: int) -> int:
        """``line`` (key ``key``) has the key of remembered line ``first`` (at ``offset``): the
        remembered line it repeats, or 0 (then, if ``ln``, it is remembered as line ``ln``,
        room permitting)."""
        h = hash(line)
        if key not in self.ambiguous:
            earlier = self.verified.get(key)
            if earlier is None:  # read the remembered line again
                earlier = hash(self._line_at(offset, len(line)))
                if len(self.verified) >= _VERIFIED:
                    self.verified.clear()
                self.verified[key] = earlier
            if h == earlier:
                return first
            # Two different lines with one key: from now on the lines with this key are looked
            # up by whole-line hash. (Rare: equal last bytes and length.)
            self.ambiguous.add(key)
            self.full.setdefault(earlier, first)
        prev = self.full.get(h, 0)
        if not prev and ln:
            if self.room:
                self.full[h] = ln
                self.room -= 1
            else:
                self.dropped = True
        return prev

    def _line_at(self, offset: int, guess: int) -> bytes:
        """The line at ``offset`` of the source, with its ``b"\\n"`` (added at the end of the
        source, as the reader does); ``guess``: its likely size."""
        parts = []
        size = guess + 1
        while True:
            chunk = self.reread(offset, size)
            end = chunk.find(b"\n")
            if end >= 0:
                parts.append(chunk[: end + 1])
                break
            parts.append(chunk)
            if len(chunk) < size:  # the end of the source
                parts.append(b"\n")
                break
            offset += size
            size = max(size * 2, 1 << 16)
        return b"".join(parts)


class _Context:
    """What both files share: the model, method, counters and the findings."""

    def __init__(
        self,
        spec: ModelSpec,
        method: str,
        collector: FindingCollector,
        tokenizer: str,
        dedup_limit: int,
        grader_fields: tuple[str, ...] | None = None,
    ) -> None:
        self.spec = spec
        self.method = method
        # reinforcement data: the fields the grader reads (None: no grader given)
        self.grader_fields = grader_fields
        self.fmt = spec.format_for(method)
        self.collector = collector
        self.counter = make_counter(tokenizer, spec.encoding)
        self.heuristic = isinstance(self.counter, HeuristicCounter)
        self.dedup_limit = dedup_limit


class _FileCheck:
    """Validates one file and gathers its statistics."""

    def __init__(
        self,
        ctx: _Context,
        name: str,
        role: str,
        train: _FileCheck | None = None,
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.role = role
        self.spec = ctx.spec
        self.fmt = ctx.fmt
        self.counter = ctx.counter
        self.stats = DatasetStats(
            file=name,
            role=role,
            data_format=ctx.fmt,
            max_example_tokens=ctx.spec.max_example_tokens,
            token_counting=ctx.counter.describe(),
            token_counting_exact=ctx.counter.exact,
        )
        self.train = train
        self.seen: _Seen | None = None  # made by run(), once the source's size is known
        self._reread: Any = None  # (offset, size) -> bytes, when the source can be read again
        self._size: int | None = None  # bytes of the source, when known
        self.systems: dict[int, list[Any]] = {}  # hash -> [count, first line, preview]
        self.systems_other = 0
        self.no_system = [0, 0]  # count, first line
        self._line_error = False
        self.rft_items = 0  # reinforcement lines with reference fields beside the prompt
        self.tcounts: Counter[int] = Counter()  # fast path: token keys -> examples
        self.ncounts: Counter[int] = Counter()  # fast path: messages -> examples
        self._dec_chat = msgspec.json.Decoder(_FChat).decode
        self._dec_completion = msgspec.json.Decoder(_FCompletion).decode
        # Fast-path token numbers (heuristic counter) are kept as keys k, with tokens
        # (k + _tconst) // _tdiv: one floor division for ceil(units / div) +
        # TOKENS_PER_MESSAGE * n + TOKENS_PER_REPLY. Units are R per ASCII character and 4 per
        # UTF-8 byte of other text (R: bytes per token of non-ASCII text), divided by 4 when
        # R = 4 (then units are UTF-8 bytes). A key is r x the length of an example's texts
        # joined by _SEP (r = R, or 1 when R = 4): units + r * len(_SEP) * (n - 1), where
        # r * len(_SEP) = div * TOKENS_PER_MESSAGE; _tconst adds back one message's worth.
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
        self._lines_read = 0
        self._long_size = 0
        self._bln = -1  # the batch being checked: its first line - 1, offset, lines' sizes
        self._bpos = 0
        self._bsizes: list[int] = []
        self._close: Any = None

    # -- findings ------------------------------------------------------------------------------

    def add(self, rule: str, line: int | None, message: str) -> None:
        if RULES[rule][0] == "error":
            self._line_error = True
        self.ctx.collector.add(rule, self.name, line, message)

    # -- driver --------------------------------------------------------------------------------

    def run_path(self, path: str | os.PathLike[str]) -> None:
        try:
            fp = open(path, "rb", buffering=_READ_BUFFER)
        except OSError as exc:
            self.add("file.unreadable", None, f"cannot open the file: {exc.strerror or exc}")
            return
        with fp:
            try:
                st = os.fstat(fp.fileno())
                # a regular file can be read again for duplicates (else, or without pread on
                # Windows, duplicates use a dict of whole-line hashes: see _Seen)
                if stat.S_ISREG(st.st_mode) and hasattr(os, "pread"):
                    self._size = st.st_size
                    fd = os.dup(fp.fileno())  # pread() leaves the stream's position alone
                    self._close = partial(os.close, fd)
                    self._reread = partial(_pread, fd)
                self.run(fp)
            except OSError as exc:
                self.add("file.unreadable", None, f"reading failed: {exc.strerror or exc}")

    def run_bytes(self, data: bytes) -> None:
        self._size = len(data)
        self._reread = partial(_slice, data)
        self.run(io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]

    def close(self) -> None:
        """Release what re-reading needed (after the validation file used the training one)."""
        if self._close is not None:
            self._close()
            self._close = None

    def run(self, fp: BinaryIO) -> None:
        """Stream ``fp`` (binary) through the checks.

        :meth:`_batches` cuts it into batches of whole lines; a batch goes to the typed fast path
        (:meth:`_batch_chat`, chat format), which sends the lines it cannot vouch for to
        :meth:`_line` one by one, or line by line to :meth:`_scalar`.
        """
        stats = self.stats
        self.seen = _Seen(self.ctx.dedup_limit, self._size, self._reread)
        first = fp.peek(4)[:4] if hasattr(fp, "peek") else b""
        if first[:2] in (b"\xff\xfe", b"\xfe\xff"):
            enc = "UTF-32" if first[:4] == b"\xff\xfe\x00\x00" else "UTF-16"
            self.add(
                "file.encoding",
                None,
                f"the file is {enc} (it starts with a {enc} byte order mark); save it as UTF-8",
            )
            stats.bytes = sum(len(chunk) for chunk in iter(partial(fp.read, 1 << 20), b""))
            self._finish()
            return
        pos = 0
        if first[:3] == _BOM:
            fp.read(3)
            pos = 3

        batch_fast = self._batch_chat if self.fmt == "chat" else None
        for batch, ln, pos, sizes in self._batches(fp, pos):
            self._bln, self._bpos, self._bsizes = ln, pos, sizes
            if batch_fast is None:
                self._scalar(batch, ln)
                continue
            try:
                batch_fast(batch, ln)
            except _Fallback:
                self._scalar(batch, ln)
        # merge the fast path's histograms
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
        stats.lines = self._lines_read
        stats.bytes = fp.tell() if hasattr(fp, "tell") else 0
        self._finish()

    def _batches(
        self, fp: BinaryIO, pos: int
    ) -> Iterator[tuple[list[bytes], int, int, list[int]]]:
        """The lines of ``fp``, each ending with ``b"\\n"`` (one is added to a last line without
        it, so that it hashes like the others), in batches of at most ``_BATCH``, each with the
        number of the line before it, the offset of its first line in the source (``pos``:
        where ``fp`` is) and the lines' sizes.

        Lines are read as pieces of at most ``_PIECE`` bytes (``readline(_PIECE)``), so a long
        line is never read at once: its pieces are kept until its end, and dropped as soon as it
        is longer than :data:`MAX_LINE_BYTES`; such a line is reported here and not yielded.
        """
        pieces = iter(partial(fp.readline, _PIECE), b"")
        ln = 0
        while True:
            batch = list(islice(pieces, _BATCH))
            if not batch:
                break
            # the common case: whole lines only (a piece shorter than _PIECE ends with b"\n",
            # unless it is the last of the file)
            sizes = list(map(len, batch))
            if batch[-1][-1] == 10 and max(sizes) < _PIECE:
                yield batch, ln, pos, sizes
                ln += len(batch)
                pos += sum(sizes)
                continue
            lines: list[bytes] = []
            start = pos
            it = iter(batch)
            for raw in it:
                size = len(raw)
                if raw[-1] != 10:  # a long line's first piece, or the file's last line
                    if size >= _PIECE:
                        whole = self._long_line(raw, chain(it, pieces))
                        size = self._long_size
                        if whole is None:
                            if lines:
                                yield lines, ln, start, list(map(len, lines))
                                ln += len(lines)
                                lines = []
                            ln += 1
                            self._line_too_long(ln, size)
                            pos += size
                            start = pos
                            continue
                        raw = whole
                    if raw[-1] != 10:
                        raw += b"\n"
                lines.append(raw)
                pos += size
            if lines:
                yield lines, ln, start, list(map(len, lines))
                ln += len(lines)
        self._lines_read = ln

    def _long_line(self, first: bytes, rest: Iterator[bytes]) -> bytes | None:
        """The rest of a line longer than a piece (its size in the file in ``_long_size``); ``None``
        when it is longer than :data:`MAX_LINE_BYTES`, whose pieces are then not kept."""
        parts = [first]
        size = len(first)
        for piece in rest:
            size += len(piece)
            if size <= MAX_LINE_BYTES:
                parts.append(piece)
            elif parts:
                parts = []  # too long: stop keeping it, read to its end
            if piece[-1] == 10:
                break
        self._long_size = size
        if size > MAX_LINE_BYTES:
            return None
        return b"".join(parts)

    def _line_too_long(self, ln: int, size: int) -> None:
        self.add(
            "jsonl.line_too_long",
            ln,
            f"line is {size / (1024 * 1024):,.1f} MiB, more than the "
            f"{MAX_LINE_BYTES // (1024 * 1024)} MiB this validator reads at once, so it was "
            "not checked; give large images as https URLs, and check that the lines end "
            "with a newline",
        )

    def _batch_chat(self, batch: list[bytes], ln0: int) -> None:
        """The fast path for a batch of whole lines (chat format).

        The longest run of lines that decode into the plain typed shapes and have a trained
        assistant message is checked by :meth:`_chat_stats` with C-level ``map`` calls; the line
        that ends the run goes to :meth:`_line` (and so to the slow path), then the next run."""
        dec = self._dec_chat
        n = len(batch)
        start = 0
        while start < n:
            part = batch[start:] if start else batch
            try:
                msgss = list(map(_get_messages, map(dec, part)))
            except (msgspec.DecodeError, UnicodeDecodeError):
                exs: list[_FChat] = []
                try:
                    exs.extend(map(dec, part))  # keeps the lines decoded before the failure
                except (msgspec.DecodeError, UnicodeDecodeError):
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
                self._line(part[k], ln0 + start + k + 1)
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
            hist = self.stats.tokens
            keep = []
            for i, k in enumerate(keys):
                if k >= self._tkey_limit:
                    t = (k + const) // div
                    hist.add(t)
                    self._too_long(ln0 + 1 + i, t)
                else:
                    keep.append(k)
            keys = keep
        self.tcounts.update(keys)
        # system messages: one variant for the whole batch is the common case (typed messages
        # compare equal when they have the same type and content)
        firsts = list(map(_first, msgss))
        first = firsts[0]
        if firsts.count(first) == n:
            self._system_n(first.content if first.__class__ is _FSystem else None, n, ln0 + 1)
        elif _FSystem not in map(type, firsts):
            self._system_n(None, n, ln0 + 1)
        else:
            for i, m in enumerate(firsts):
                self._system_n(m.content if m.__class__ is _FSystem else None, 1, ln0 + 1 + i)
        # duplicates (and overlap with the training file)
        self._seen_batch(lines, ln0)

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
                return _c_token_keys(msgss, 1, 1, len(_SEP))
            return _c_token_keys(msgss, r, ASCII_CHARS_PER_TOKEN, r * len(_SEP))
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

    def _seen_batch(self, lines: list[bytes], ln0: int) -> None:
        """Duplicate and overlap checks of lines ``ln0 + 1`` on."""
        seen = self.seen
        assert seen is not None
        if ln0 == self._bln and len(lines) == len(self._bsizes):
            sizes, pos = self._bsizes, self._bpos  # the whole batch
        else:  # part of the batch
            sizes = list(map(len, lines))
            pos = self._bpos + sum(self._bsizes[: ln0 - self._bln])
        keys = seen.keys_of(lines, sizes)
        seen.add(keys, lines, sizes, ln0, pos, self._duplicate)
        if self.train is not None:
            find = self.train.seen.find  # type: ignore[union-attr]
            for i, (k, raw) in enumerate(zip(keys, lines)):
                t = find(k, raw)
                if t is not None:
                    self._overlap(ln0 + 1 + i, t)

    def _scalar(self, batch: list[bytes], ln: int) -> None:
        """Line by line: each line to the typed fast check or the slow path."""
        for raw in batch:
            ln += 1
            self._line(raw, ln)

    def _line(self, raw: bytes, ln: int) -> None:
        """One whole line: the typed fast check, else the slow path."""
        ex = None
        if self.fmt == "chat":
            try:
                msgs = self._dec_chat(raw).messages
            except (msgspec.DecodeError, UnicodeDecodeError):
                msgs = None
            if msgs is not None and any(map(_get_weight, msgs)):
                m = msgs[0]
                n = len(msgs)
                ex = _Example(
                    tokens=self._fast_tokens(msgs) + TOKENS_PER_MESSAGE * n + TOKENS_PER_REPLY,
                    messages=n,
                    system=m.content if m.__class__ is _FSystem else None,
                    trained=1,
                )
        elif self.fmt == "completion":
            try:
                c = self._dec_completion(raw)
            except (msgspec.DecodeError, UnicodeDecodeError):
                pass
            else:
                ex = _Example(
                    tokens=self.counter.count((c.prompt, c.completion)),
                    messages=0,
                    system=None,
                    trained=1,
                )
        if ex is None:
            self._slow(raw, ln)
        else:
            self._record(ln, raw, ex)

    def _fast_tokens(self, msgs: list[Any]) -> int:
        """Text tokens of typed messages (the same numbers the slow path computes)."""
        return self.counter.count(list(map(_get_content, msgs)))

    # -- per-example bookkeeping (shared by both paths) ----------------------------------------

    def _record(self, ln: int, raw: bytes, ex: _Example, clean: bool = True) -> None:
        """Statistics and data-set checks of one example; ``clean``: it had no error (only
        clean examples count as system-message variants)."""
        stats = self.stats
        stats.examples += 1
        stats.tokens.add(ex.tokens)
        stats.add_example_messages(ex.messages)
        if ex.images:
            stats.examples_with_images += 1
        if ex.tools:
            stats.examples_with_tools += 1
        if ex.tokens > self.spec.max_example_tokens:
            self._too_long(ln, ex.tokens)
        self._seen_batch([raw], ln - 1)
        if clean and self.fmt != "completion":
            self._system_n(ex.system, 1, ln)

    def _too_long(self, ln: int, tokens: int) -> None:
        self.stats.examples_over_limit += 1
        how = "" if self.counter.exact else "about "
        self.add(
            "example.too_long",
            ln,
            f"example has {how}{tokens:,} tokens, over the {self.spec.max_example_tokens:,} "
            f"tokens per example of {self.spec.base}; the service truncates it — shorten or "
            "split the conversation",
        )

    def _duplicate(self, ln: int, prev: int) -> None:
        self.stats.duplicates += 1
        self.add(
            "dataset.duplicate",
            ln,
            f"example repeats line {prev} exactly; remove duplicates (they over-weight one "
            "example)",
        )

    def _overlap(self, ln: int, train_line: int) -> None:
        self.add(
            "dataset.overlap",
            ln,
            f"validation example is also line {train_line} of the training file; remove it from "
            "one of them so validation measures unseen data",
        )

    def _system_n(self, system: str | None, count: int, ln: int) -> None:
        """Count ``count`` examples with this system message (``ln``: line of the first)."""
        if system is None:
            if not self.no_system[0]:
                self.no_system[1] = ln
            self.no_system[0] += count
            return
        h = hash(system)
        entry = self.systems.get(h)
        if entry is not None:
            entry[0] += count
        elif len(self.systems) < _MAX_SYSTEM_VARIANTS:
            preview = system if len(system) <= 40 else system[:37] + "..."
            self.systems[h] = [count, ln, preview]
        else:
            self.systems_other += count

    # -- end of file ---------------------------------------------------------------------------

    def _finish(self) -> None:
        stats = self.stats
        if stats.bytes >= MAX_FILE_BYTES:
            self.add(
                "file.size",
                None,
                f"the file is {stats.bytes / (1024 * 1024):,.1f} MiB; files must be smaller than "
                "512 MB — split it, or import it from Azure Blob storage",
            )
        if self.role == "training":
            if stats.examples == 0:
                if not self.ctx.collector.counts.get("file.encoding"):
                    self.add("file.empty", None, "the file has no examples; add at least 10")
            elif stats.examples < MIN_EXAMPLES:
                self.add(
                    "dataset.too_few",
                    None,
                    f"only {stats.examples} example(s); a fine-tuning job needs at least "
                    f"{MIN_EXAMPLES} (hundreds to thousands are recommended)",
                )
            elif stats.examples < RECOMMENDED_EXAMPLES:
                self.add(
                    "dataset.few",
                    None,
                    f"only {stats.examples} examples; fewer than {RECOMMENDED_EXAMPLES} rarely "
                    "improve a model — hundreds to thousands are recommended",
                )
        elif stats.examples == 0 and not self.ctx.collector.counts.get("file.encoding"):
            self.add("file.empty", None, "the validation file has no examples")
        if self.fmt == "rft" and self.role == "training":
            stats.notes.append(
                "reinforcement fine-tuning is billed by training time (and grader model tokens), not "
                "by trained tokens; the token figures count the prompts only"
            )
        if self.fmt == "rft" and stats.examples and not self.rft_items and not self.ctx.grader_fields:
            self.add(
                "rft.item.none",
                None,
                "no line has fields beside messages; graders usually compare the answer with a "
                "reference the data gives, read as {{item.<field>}} (e.g. \"reference_answer\")",
            )
        # system message variants
        variants = sorted(self.systems.values(), key=lambda e: e[1])
        n_variants = len(variants) + (1 if self.no_system[0] else 0)
        if self.systems_other:
            n_variants += 1
        stats.system_message_variants = n_variants
        if len(variants) + (1 if self.no_system[0] and variants else 0) > 1:
            parts = [f'"{v[2]}" in {v[0]:,} from line {v[1]}' for v in variants[:3]]
            if self.no_system[0]:
                parts.append(f"none in {self.no_system[0]:,} from line {self.no_system[1]}")
            more = n_variants - len(parts)
            if more > 0:
                parts.append(f"{more:,} more")
            firsts = sorted([v[1] for v in variants] + ([self.no_system[1]] if self.no_system[0]
                            else []))
            self.add(
                "dataset.system_varies",
                firsts[1],
                f"the system message differs between examples ({n_variants:,} variants: "
                + "; ".join(parts)
                + "); use one system message, the same you will use at inference",
            )
        if self.seen is not None and self.seen.dropped:
            stats.notes.append(
                f"duplicate/overlap detection remembered the first {self.ctx.dedup_limit:,} "
                "distinct examples; later ones were compared with those only"
            )
        if stats.examples_with_images > MAX_IMAGE_EXAMPLES:
            stats.notes.append(
                f"{stats.examples_with_images:,} examples with images; the service uses at most "
                f"{MAX_IMAGE_EXAMPLES:,} of them"
            )

    # -- slow path -----------------------------------------------------------------------------

    def _slow(self, line: bytes, ln: int, h: int | None = None) -> None:
        """Every check of one line, with every finding. (``h``: unused, kept for callers.)"""
        if line.isspace():
            self.stats.blank_lines += 1
            self.add(
                "jsonl.blank_line",
                ln,
                "blank line; remove it (every line must be one JSON object)",
            )
            return
        self._line_error = False
        try:
            obj = _generic_decode(line)
        except UnicodeDecodeError:
            self._bad_utf8(line, ln)
            self.stats.lines_with_errors += 1
            return
        except msgspec.DecodeError as exc:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                self._bad_utf8(line, ln)
            else:
                self._bad_json(str(exc), ln, line)
            self.stats.lines_with_errors += 1
            return
        if not isinstance(obj, dict):
            hint = ""
            if isinstance(obj, list) and obj and isinstance(obj[0], dict):
                hint = " (it looks like a JSON array: write one object per line instead)"
            self.add(
                "jsonl.not_object",
                ln,
                f"line is {_jtype(obj)}, not a JSON object{hint}; every line must be one "
                "example object",
            )
            self.stats.lines_with_errors += 1
            return
        if self.fmt == "chat":
            ex = self._check_chat(obj, ln)
        elif self.fmt == "completion":
            ex = self._check_completion(obj, ln)
        elif self.fmt == "rft":
            ex = self._check_rft(obj, ln)
        else:
            ex = self._check_dpo(obj, ln)
        if ex is None:
            self.stats.examples += 1
            self.stats.lines_with_errors += 1
            return
        if self._line_error:
            self.stats.lines_with_errors += 1
        self._record(ln, line, ex, clean=not self._line_error)

    def _bad_utf8(self, line: bytes, ln: int) -> None:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = f"byte 0x{line[exc.start]:02x} at byte {exc.start + 1} of the line"
        else:  # pragma: no cover - msgspec said so
            where = "a string"
        self.add(
            "file.encoding",
            ln,
            f"{where} is not valid UTF-8; save the file as UTF-8",
        )

    def _bad_json(self, detail: str, ln: int, line: bytes) -> None:
        detail = detail.removeprefix("JSON is malformed: ")
        if detail == "Input data was truncated":
            detail = "the line ends inside a JSON value (truncated, or the object spans lines)"
        else:
            m = _BYTE_POS.search(detail)
            if m:
                detail = _BYTE_POS.sub(f"(at byte {int(m.group(1)) + 1} of the line)", detail)
        self.add(
            "jsonl.invalid_json",
            ln,
            f"line is not valid JSON: {detail}; each line must be one complete JSON object",
        )

    # chat ---------------------------------------------------------------------------------

    def _mismatch_for_chat(self, obj: dict[str, Any], ln: int) -> bool:
        want = f'{self.spec.base} needs {{"messages": [{{"role": ..., "content": ...}}, ...]}}'
        if "prompt" in obj or "completion" in obj:
            self.add(
                "format.mismatch",
                ln,
                "line is in the prompt/completion format of babbage-002 and davinci-002; " + want,
            )
            return True
        if "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
            self.add(
                "format.mismatch",
                ln,
                "line is in the DPO format; validate it with method dpo, or " + want,
            )
            return True
        return False

    def _check_chat(self, obj: dict[str, Any], ln: int) -> _Example | None:
        if "messages" not in obj:
            if not self._mismatch_for_chat(obj, ln):
                self.add(
                    "chat.messages.missing",
                    ln,
                    'no "messages" key; each line must be {"messages": [{"role": ..., '
                    '"content": ...}, ...]}',
                )
            return None
        for key in obj:
            if key not in _CHAT_TOP_KEYS:
                self.add(
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
            tool_names, t_text = self._check_tools(obj["tools"], ln, "tools")
            texts.extend(t_text)
        if "functions" in obj:
            has_tools = True
            names, t_text = self._check_functions(obj["functions"], ln)
            tool_names = (tool_names or set()) | names
            texts.extend(t_text)
        if "parallel_tool_calls" in obj and not isinstance(obj["parallel_tool_calls"], bool):
            self.add(
                "chat.tools.type",
                ln,
                f"parallel_tool_calls is {_jtype(obj['parallel_tool_calls'])}; use true or false",
            )
        info = self._check_messages(obj["messages"], ln, "messages", tool_names)
        if info is None:
            return None
        if info.assistants == 0:
            self.add(
                "chat.assistant.missing",
                ln,
                'no assistant message; add at least one {"role": "assistant", "content": ...} '
                "for the model to learn from",
            )
        elif info.trained == 0:
            self.add(
                "chat.assistant.no_trainable",
                ln,
                'every assistant message has "weight": 0, so there is nothing to learn; set '
                '"weight": 1 (or remove "weight") on at least one',
            )
        return self._messages_example(texts, info, has_tools, trained=info.trained, extra=extra)

    def _messages_example(
        self, texts: list[str], info: _MsgInfo, has_tools: bool, *, trained: int, extra: int = 0
    ) -> _Example:
        """The example of checked messages (``info``) plus other texts (tools): its tokens."""
        texts.extend(info.texts)
        tokens = (
            self.counter.count(texts)
            + info.extra_tokens
            + extra
            + TOKENS_PER_MESSAGE * info.messages
            + TOKENS_PER_REPLY
        )
        return _Example(
            tokens=tokens,
            messages=info.messages,
            system=info.system,
            trained=trained,
            images=info.images,
            tools=has_tools or info.tool_calls > 0,
        )

    def _check_tools(
        self, tools: Any, ln: int, path: str
    ) -> tuple[set[str] | None, list[str]]:
        texts: list[str] = []
        if not isinstance(tools, list):
            self.add(
                "chat.tools.type",
                ln,
                f'{path} is {_jtype(tools)}; use a list of {{"type": "function", "function": '
                '{"name": ..., "parameters": {...}}}',
            )
            return None, texts
        names: set[str] = set()
        for k, tool in enumerate(tools):
            p = f"{path}[{k}]"
            if not isinstance(tool, dict):
                self.add("chat.tools.type", ln, f"{p} is {_jtype(tool)}; each tool is an object")
                continue
            if tool.get("type") != "function":
                self.add(
                    "chat.tools.type",
                    ln,
                    f'{p}.type is {_show(tool.get("type"))}; use "function"',
                )
            fn = tool.get("function")
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
                self.add(
                    "chat.tools.type",
                    ln,
                    f'{p}.function needs a "name" string (and usually "description" and '
                    '"parameters")',
                )
                continue
            names.add(fn["name"])
            params = fn.get("parameters")
            if params is not None and not isinstance(params, dict):
                self.add(
                    "chat.tools.type",
                    ln,
                    f"{p}.function.parameters is {_jtype(params)}; use a JSON Schema object",
                )
            texts.append(_encode(tool).decode("utf-8"))
        return names, texts

    def _check_functions(self, functions: Any, ln: int) -> tuple[set[str], list[str]]:
        names: set[str] = set()
        texts: list[str] = []
        if not isinstance(functions, list):
            self.add(
                "chat.tools.type",
                ln,
                f"functions is {_jtype(functions)}; use a list of function definitions "
                '(or the newer "tools")',
            )
            return names, texts
        for k, fn in enumerate(functions):
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                self.add(
                    "chat.tools.type", ln, f'functions[{k}] needs a "name" string'
                )
                continue
            names.add(fn["name"])
            texts.append(_encode(fn).decode("utf-8"))
        return names, texts

    def _check_messages(  # noqa: C901 - one rule after the other
        self,
        msgs: Any,
        ln: int,
        path: str,
        tool_names: set[str] | None,
        *,
        allow_weight: bool = True,
        developer: bool = False,
    ) -> _MsgInfo | None:
        if not isinstance(msgs, list) or not msgs:
            what = "an empty list" if isinstance(msgs, list) else _jtype(msgs)
            self.add(
                "chat.messages.type",
                ln,
                f'{path} is {what}; use a non-empty list of {{"role": ..., "content": ...}} '
                "messages",
            )
            return None
        info = _MsgInfo(texts=[])
        texts = info.texts
        call_ids: set[str] = set()
        vision = self.spec.vision
        for i, m in enumerate(msgs):
            p = f"{path}[{i}]"
            if not isinstance(m, dict):
                self.add(
                    "chat.message.type",
                    ln,
                    f'{p} is {_jtype(m)}; each message must be an object like '
                    '{"role": "user", "content": "..."}',
                )
                continue
            info.messages += 1
            role = m.get("role")
            if "role" not in m:
                self.add("chat.role.missing", ln, f'{p} has no "role"; {_ROLE_HINT}')
                role = None
            elif (
                not isinstance(role, str)
                or role not in _KEYS_BY_ROLE
                or (role == "developer" and not developer)
            ):
                hint = _ROLE_HINT.replace("system,", "developer, system,") if developer else _ROLE_HINT
                self.add("chat.role.unknown", ln, f"{p}.role is {_show(role)}; {hint}")
                role = None
            else:
                info.last_role = role
            allowed = _KEYS_BY_ROLE[role] if role else _ALL_MESSAGE_KEYS
            for key in m:
                if key in allowed:
                    continue
                if key == "weight":
                    self.add(
                        "chat.weight.role",
                        ln,
                        f'{p} ({role}) has "weight"; weight is only allowed on assistant '
                        "messages — remove it",
                    )
                elif key in _ALL_MESSAGE_KEYS:
                    self.add(
                        "chat.message.key_unknown",
                        ln,
                        f'{p} ({role}) has "{key}", which only '
                        + ("assistant" if key in ("tool_calls", "function_call", "refusal")
                           else "tool")
                        + " messages may have; remove it",
                    )
                else:
                    self.add(
                        "chat.message.key_unknown",
                        ln,
                        f'{p} has unknown key "{key}"; a {role or "chat"} message may only have '
                        + ", ".join(allowed),
                    )
            name = m.get("name")
            if name is not None:
                if not isinstance(name, str):
                    self.add("chat.name.type", ln, f"{p}.name is {_jtype(name)}; use a string")
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
                        self.add(
                            "chat.message.key_unknown",
                            ln,
                            f'{p} has "weight", which '
                            + ("reinforcement" if self.fmt == "rft" else "DPO")
                            + " data does not use; remove it",
                        )
                        trainable = True
                    elif isinstance(w, bool) or w not in (0, 1) or isinstance(w, float):
                        self.add(
                            "chat.weight.value",
                            ln,
                            f"{p}.weight is {_show(w)}; use 0 (do not train on this message) "
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
                    has_calls = self._check_tool_calls(
                        m["tool_calls"], ln, p, tool_names, call_ids, info
                    )
                    has_calls = True
                if "function_call" in m and m["function_call"] is not None:
                    has_calls = True
                    fc = m["function_call"]
                    if (
                        not isinstance(fc, dict)
                        or not isinstance(fc.get("name"), str)
                        or not isinstance(fc.get("arguments"), str)
                    ):
                        self.add(
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
                    self.add(
                        "chat.tool.call_id",
                        ln,
                        f'{p} (tool) has no "tool_call_id" string; set it to the id of the '
                        "assistant tool call it answers",
                    )
                elif tcid not in call_ids:
                    self.add(
                        "chat.tool.call_id",
                        ln,
                        f'{p}.tool_call_id "{tcid}" matches no earlier assistant tool_calls id; '
                        "answer a tool call made earlier in the conversation",
                    )
            # content
            if "content" not in m or m["content"] is None:
                if not has_calls:
                    self.add(
                        "chat.content.missing",
                        ln,
                        f'{p} ({role or "message"}) has no "content"; add the message text',
                    )
            else:
                c = m["content"]
                if isinstance(c, str):
                    if not c and not has_calls:
                        self.add(
                            "chat.content.empty",
                            ln,
                            f"{p} ({role or 'message'}) has empty content; write the text or "
                            "remove the message",
                        )
                    texts.append(c)
                    if role in ("system", "developer") and i == 0:
                        info.system = c
                elif isinstance(c, list):
                    text = self._check_parts(c, ln, p, role, vision, info)
                    if role in ("system", "developer") and i == 0:
                        info.system = text
                else:
                    self.add(
                        "chat.content.type",
                        ln,
                        f"{p}.content is {_jtype(c)}; content must be a string"
                        + (" or a list of text/image_url parts" if role == "user" else ""),
                    )
            if trainable:
                info.trained += 1
        if info.images > MAX_IMAGES_PER_EXAMPLE:
            self.add(
                "chat.image.count",
                ln,
                f"example has {info.images} images; at most {MAX_IMAGES_PER_EXAMPLE} are "
                "allowed — split it",
            )
        return info

    def _check_tool_calls(
        self,
        calls: Any,
        ln: int,
        p: str,
        tool_names: set[str] | None,
        call_ids: set[str],
        info: _MsgInfo,
    ) -> bool:
        if not isinstance(calls, list) or not calls:
            self.add(
                "chat.tool_calls.type",
                ln,
                f'{p}.tool_calls is {_jtype(calls) if calls != [] else "an empty list"}; use a '
                'list of {"id": ..., "type": "function", "function": {"name": ..., '
                '"arguments": "..."}}',
            )
            return False
        for k, call in enumerate(calls):
            q = f"{p}.tool_calls[{k}]"
            if not isinstance(call, dict):
                self.add("chat.tool_calls.type", ln, f"{q} is {_jtype(call)}; use an object")
                continue
            cid = call.get("id")
            if not isinstance(cid, str) or not cid:
                self.add(
                    "chat.tool_calls.type",
                    ln,
                    f'{q} has no "id" string; give each call an id that the tool message '
                    "repeats in tool_call_id",
                )
            else:
                call_ids.add(cid)
            if call.get("type", "function") != "function":
                self.add("chat.tool_calls.type", ln, f'{q}.type is {_show(call.get("type"))}; '
                         'use "function"')
            fn = call.get("function")
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                self.add(
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
                self.add(
                    "chat.tool_calls.undefined",
                    ln,
                    f'{q} calls "{fn["name"]}", which is not in this example\'s tools; add its '
                    "definition to tools",
                )
            args = fn.get("arguments")
            if not isinstance(args, str):
                self.add(
                    "chat.tool_calls.arguments",
                    ln,
                    f"{q}.function.arguments is {_jtype(args)}; arguments must be a string "
                    "holding JSON (serialize the object)",
                )
                continue
            info.texts.append(args)
            try:
                _generic_decode(args)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                detail = str(exc).removeprefix("JSON is malformed: ")
                self.add(
                    "chat.tool_calls.arguments",
                    ln,
                    f"{q}.function.arguments is not valid JSON ({detail}); it must be a string "
                    "holding a JSON object",
                )
        return True

    def _check_parts(
        self,
        parts: list[Any],
        ln: int,
        p: str,
        role: str | None,
        vision: bool,
        info: _MsgInfo,
    ) -> str:
        text_parts: list[str] = []
        if not parts:
            self.add(
                "chat.content.empty",
                ln,
                f"{p}.content is an empty list; write the text or remove the message",
            )
        for j, part in enumerate(parts):
            q = f"{p}.content[{j}]"
            if not isinstance(part, dict):
                self.add(
                    "chat.content.part",
                    ln,
                    f'{q} is {_jtype(part)}; use {{"type": "text", "text": ...}}'
                    + (' or {"type": "image_url", ...}' if role == "user" else ""),
                )
                continue
            ptype = part.get("type")
            if ptype == "text":
                t = part.get("text")
                if not isinstance(t, str):
                    self.add("chat.content.part", ln, f'{q} needs a "text" string')
                    continue
                for key in part:
                    if key not in ("type", "text"):
                        self.add("chat.content.part", ln, f'{q} has unknown key "{key}"')
                text_parts.append(t)
                info.texts.append(t)
            elif ptype == "image_url":
                self._check_image(part, ln, q, role, vision, info)
            else:
                self.add(
                    "chat.content.part",
                    ln,
                    f"{q}.type is {_show(ptype)}; use \"text\""
                    + (' or "image_url"' if role == "user" else ""),
                )
        return "\n".join(text_parts)

    def _check_image(
        self,
        part: dict[str, Any],
        ln: int,
        q: str,
        role: str | None,
        vision: bool,
        info: _MsgInfo,
    ) -> None:
        info.images += 1
        if role != "user":
            self.add(
                "chat.image.role",
                ln,
                f"{q} is an image in a {role or 'message'} message; images are only allowed in "
                "user messages",
            )
        if not vision:
            self.add(
                "chat.image.unsupported_model",
                ln,
                f"{q} is an image, but {self.spec.base} has no vision fine-tuning; use "
                "gpt-4o-2024-08-06 or gpt-4.1, or remove the image",
            )
        iu = part.get("image_url")
        if not isinstance(iu, dict) or not isinstance(iu.get("url"), str):
            self.add(
                "chat.content.part",
                ln,
                f'{q} needs "image_url": {{"url": "https://..." or "data:image/png;base64,..."}}',
            )
            return
        detail = iu.get("detail", "auto")
        if detail not in ("low", "high", "auto"):
            self.add(
                "chat.image.detail",
                ln,
                f"{q}.image_url.detail is {_show(detail)}; use low, high or auto",
            )
        info.extra_tokens += IMAGE_TOKENS_LOW if detail == "low" else IMAGE_TOKENS_HIGH
        url: str = iu["url"]
        if url.startswith("data:"):
            m = _DATA_URL.match(url)
            if not m or m.group(1).lower().replace("image/jpg", "image/jpeg") not in (
                IMAGE_MEDIA_TYPES
            ):
                kind = m.group(1) if m else url[5:30].split(",")[0]
                self.add(
                    "chat.image.url",
                    ln,
                    f"{q}.image_url.url is a data URL of {_show(kind)}; use "
                    "data:image/jpeg|png|webp;base64,...",
                )
                return
            b64 = len(url) - m.end()
            size = b64 * 3 // 4
            if size > MAX_IMAGE_BYTES:
                self.add(
                    "chat.image.size",
                    ln,
                    f"{q} is an image of about {size / (1024 * 1024):.1f} MB; images must be at "
                    "most 10 MB — scale or compress it",
                )
        elif not url.startswith("https://"):
            self.add(
                "chat.image.url",
                ln,
                f"{q}.image_url.url is {_show(url)}; use a public https:// URL or a base64 "
                "data URL (data:image/png;base64,...)",
            )

    # completion -------------------------------------------------------------------------------

    def _check_completion(self, obj: dict[str, Any], ln: int) -> _Example | None:
        if "messages" in obj or "input" in obj:
            fmt = "chat" if "messages" in obj else "DPO"
            self.add(
                "format.mismatch",
                ln,
                f"line is in the {fmt} format; {self.spec.base} needs "
                '{"prompt": "...", "completion": "..."}',
            )
            return None
        missing = [k for k in _COMPLETION_KEYS if k not in obj]
        for k in missing:
            self.add(
                "completion.key.missing",
                ln,
                f'no "{k}"; each line must be {{"prompt": "...", "completion": "..."}}',
            )
        for key in obj:
            if key not in _COMPLETION_KEYS:
                self.add(
                    "completion.key.unknown",
                    ln,
                    f'unknown key "{key}"; a line has only "prompt" and "completion"',
                )
        texts = []
        for k in _COMPLETION_KEYS:
            if k in obj:
                v = obj[k]
                if not isinstance(v, str):
                    self.add("completion.type", ln, f"{k} is {_jtype(v)}; use a string")
                else:
                    texts.append(v)
        if isinstance(obj.get("completion"), str) and not obj["completion"]:
            self.add(
                "completion.empty",
                ln,
                "completion is empty, so there is nothing to learn; write the expected output",
            )
        if missing:
            return None
        return _Example(
            tokens=self.counter.count(texts), messages=0, system=None, trained=1
        )

    # dpo ----------------------------------------------------------------------------------------

    def _check_dpo(self, obj: dict[str, Any], ln: int) -> _Example | None:
        if not any(k in obj for k in _DPO_TOP_KEYS):
            if "messages" in obj:
                self.add(
                    "format.mismatch",
                    ln,
                    'line is in the supervised chat format; DPO needs {"input": {"messages": '
                    '[...]}, "preferred_output": [...], "non_preferred_output": [...]} '
                    "(or validate with method supervised)",
                )
                return None
        for k in _DPO_TOP_KEYS:
            if k not in obj:
                self.add(
                    "dpo.key.missing",
                    ln,
                    f'no "{k}"; a DPO line is {{"input": {{"messages": [...]}}, '
                    '"preferred_output": [...], "non_preferred_output": [...]}',
                )
        for key in obj:
            if key not in _DPO_TOP_KEYS:
                self.add(
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
                self.add(
                    "dpo.input.type",
                    ln,
                    f'input is {_jtype(inp)}{" without messages" if isinstance(inp, dict) else ""}'
                    '; use {"messages": [...system and user messages...]}',
                )
            else:
                for key in inp:
                    if key not in _DPO_INPUT_KEYS:
                        self.add(
                            "dpo.key.unknown",
                            ln,
                            f'unknown key "input.{key}"; input has only messages, tools, '
                            "parallel_tool_calls",
                        )
                tool_names = None
                if "tools" in inp:
                    has_tools = True
                    tool_names, t_text = self._check_tools(inp["tools"], ln, "input.tools")
                    texts.extend(t_text)
                info = self._check_messages(
                    inp["messages"], ln, "input.messages", tool_names, allow_weight=False
                )
                if info is not None:
                    texts.extend(info.texts)
                    extra += info.extra_tokens
                    n_msgs += info.messages
                    system = info.system
                    images += info.images
                    if info.last_role is not None and info.last_role != "user":
                        self.add(
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
                what = "an empty list" if isinstance(out, list) else _jtype(out)
                self.add(
                    "dpo.output.type",
                    ln,
                    f'{key} is {what}; use a list with one {{"role": "assistant", '
                    '"content": ...}',
                )
                continue
            for i, m in enumerate(out):
                if isinstance(m, dict) and m.get("role") not in ("assistant", "tool"):
                    self.add(
                        "dpo.output.role",
                        ln,
                        f"{key}[{i}].role is {_show(m.get('role'))}; outputs hold only assistant "
                        "(and tool) messages",
                    )
            info = self._check_messages(out, ln, key, None, allow_weight=False)
            if info is not None:
                if info.assistants == 0:
                    self.add(
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
            self.add(
                "dpo.output.identical",
                ln,
                "preferred_output and non_preferred_output are the same, so there is no "
                "preference to learn; make them differ",
            )
        if n_msgs == 0:
            return None
        tokens = self.counter.count(texts) + extra + TOKENS_PER_MESSAGE * n_msgs + TOKENS_PER_REPLY
        return _Example(
            tokens=tokens,
            messages=n_msgs,
            system=system,
            trained=1,
            images=images,
            tools=has_tools,
        )

    # reinforcement ------------------------------------------------------------------------------

    def _check_rft(self, obj: dict[str, Any], ln: int) -> _Example | None:
        """One reinforcement fine-tuning line: a prompt (``messages``, no answer at its end) and
        the reference fields its grader reads; tokens are the prompt's."""
        if "messages" not in obj:
            if "input" in obj and ("preferred_output" in obj or "non_preferred_output" in obj):
                self.add("format.mismatch", ln, "line is in the DPO format; " + _RFT_HINT)
            elif "prompt" in obj or "completion" in obj:
                self.add(
                    "format.mismatch", ln, "line is in the prompt/completion format; " + _RFT_HINT
                )
            else:
                self.add("rft.messages.missing", ln, 'no "messages" (the prompt); ' + _RFT_HINT)
            return None
        texts: list[str] = []
        tool_names = None
        has_tools = "tools" in obj
        if has_tools:
            tool_names, t_text = self._check_tools(obj["tools"], ln, "tools")
            texts.extend(t_text)
        info = self._check_messages(
            obj["messages"], ln, "messages", tool_names, allow_weight=False, developer=True
        )
        if info is None:
            return None
        if info.last_role == "assistant":
            self.add(
                "rft.messages.last_role",
                ln,
                "messages ends with an assistant message; reinforcement data holds the prompt "
                "only (the model writes the answer and the grader scores it): end with the user "
                "turn and move a reference answer to a top-level field the grader reads",
            )
        fields = [k for k in obj if k not in _CHAT_TOP_KEYS]
        if fields:
            self.rft_items += 1
        for name in self.ctx.grader_fields or ():
            if name not in obj:
                have = ", ".join(fields) if fields else "none"
                self.add(
                    "rft.item.missing",
                    ln,
                    f'no "{name}", which the grader reads as {{{{item.{name}}}}} (fields of this '
                    f"line: {have}); add it to every line",
                )
        return self._messages_example(texts, info, has_tools, trained=1)


# ----------------------------------------------------------------------------------------------


def _model_findings(ctx: _Context, name: str) -> None:
    spec, method, col = ctx.spec, ctx.method, ctx.collector
    if not spec.known:
        col.add(
            "model.unknown",
            name,
            None,
            f'model "{spec.name}" is not in this validator\'s table (known: '
            f"{', '.join(known_models())}); checked as a chat model with "
            f"{spec.max_example_tokens:,} tokens per example",
        )
    if spec.reinforcement_only and method != "reinforcement":
        col.add(
            "model.method",
            name,
            None,
            f"{spec.base} is fine-tuned with reinforcement learning (graders), not {method}; "
            "use method reinforcement",
        )
    elif method == "reinforcement" and spec.known and not spec.reinforcement_only:
        col.add(
            "model.method",
            name,
            None,
            f"{spec.base} cannot be trained with reinforcement fine-tuning; Azure offers it "
            "for o4-mini (2025-04-16)",
        )
    elif method == "dpo" and spec.data_format == "completion":
        col.add(
            "model.method",
            name,
            None,
            f"{spec.base} cannot be trained with DPO; use a chat model such as "
            "gpt-4o-2024-08-06 or gpt-4.1-mini",
        )
    elif method == "dpo" and not spec.dpo and spec.known:
        col.add(
            "model.method_undocumented",
            name,
            None,
            f"Azure does not document DPO for {spec.base} (documented: gpt-4o, gpt-4o-mini, "
            "gpt-4.1 family); the job may be rejected",
        )


def _validate(
    train: tuple[str, bytes | BinaryIO | str | os.PathLike[str]],
    validation: tuple[str, bytes | BinaryIO | str | os.PathLike[str]] | None,
    *,
    model: str,
    method: str,
    n_epochs: int | None,
    max_findings: int,
    tokenizer: str,
    dedup_limit: int,
    grader: Mapping[str, Any] | None = None,
) -> Report:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if grader is not None and method != "reinforcement":
        raise ValueError("grader is for method reinforcement only")
    if grader is not None and not isinstance(grader, Mapping):
        raise ValueError("grader must be the grader object (a mapping)")
    if max_findings < 1:
        raise ValueError("max_findings must be at least 1")
    spec = model_spec(model)
    collector = FindingCollector(max_findings)
    fields = grader_fields(grader) if grader is not None else None
    ctx = _Context(spec, method, collector, tokenizer, dedup_limit, fields)
    _model_findings(ctx, train[0])

    def run(check: _FileCheck, source: bytes | BinaryIO | str | os.PathLike[str]) -> None:
        if isinstance(source, (str, os.PathLike)):
            check.run_path(source)
        elif isinstance(source, bytes):
            check.run_bytes(source)
        else:
            check.run(source)

    tcheck = _FileCheck(ctx, train[0], "training")
    try:
        run(tcheck, train[1])
        return _report(ctx, tcheck, validation, run, n_epochs)
    finally:
        tcheck.close()


def _report(
    ctx: _Context,
    tcheck: _FileCheck,
    validation: tuple[str, bytes | BinaryIO | str | os.PathLike[str]] | None,
    run: Any,
    n_epochs: int | None,
) -> Report:
    collector, spec, train_name = ctx.collector, ctx.spec, tcheck.name
    ts = tcheck.stats
    if n_epochs is None or n_epochs == -1:
        ts.n_epochs = default_n_epochs(ts.examples)
        ts.n_epochs_note = (
            f"n_epochs not set: the service decides; assumed {ts.n_epochs} by OpenAI's rule "
            "(3; more below 34 examples, fewer above 8,333)"
        )
    else:
        if n_epochs < 1:
            raise ValueError("n_epochs must be a positive integer (or -1/None for auto)")
        ts.n_epochs = n_epochs
        ts.n_epochs_note = "n_epochs as given"
    if ts.trained_tokens and ts.trained_tokens > MAX_TRAINED_TOKENS:
        collector.add(
            "dataset.token_budget",
            train_name,
            None,
            f"about {ts.trained_tokens:,} tokens x epochs, over the {MAX_TRAINED_TOKENS:,} a job "
            "may train; use fewer epochs or fewer examples",
        )
    stats = {"training": ts}
    files = [train_name]
    if validation is not None:
        vcheck = _FileCheck(
            ctx, validation[0], "validation", train=tcheck if tcheck.seen is not None else None
        )
        try:
            run(vcheck, validation[1])
        finally:
            vcheck.close()
        stats["validation"] = vcheck.stats
        files.append(validation[0])
    return Report.from_collector(
        collector,
        model=spec.name,
        base_model=spec.base,
        method=ctx.method,
        data_format=ctx.fmt,
        stats=stats,
        file_order=files,
    )


def validate_file(
    path: str | os.PathLike[str],
    *,
    model: str = DEFAULT_MODEL,
    method: str = "supervised",
    validation_path: str | os.PathLike[str] | None = None,
    n_epochs: int | None = None,
    max_findings: int = 50,
    tokenizer: str = "heuristic",
    dedup_limit: int = DEFAULT_DEDUP_LIMIT,
    grader: Mapping[str, Any] | None = None,
) -> Report:
    """Validate a training file (and optionally a validation file) for ``model`` and ``method``.

    Streams the files (constant memory), never raises for bad data: every problem becomes a
    :class:`~.findings.Finding` in the returned :class:`~.findings.Report`. Raises ``ValueError``
    for bad arguments and :class:`~.tokens.TokenizerUnavailable` for ``tokenizer="exact"``
    without ``bpe-openai``.

    ``n_epochs``: for the trained-tokens estimate; ``None`` or -1 = the service's automatic
    choice (estimated). ``max_findings``: findings kept per rule (counts stay exact).
    ``tokenizer``: ``"heuristic"`` (default, fast) or ``"exact"``. File names in findings are
    ``str(path)`` as given. ``grader`` (method reinforcement): the job's grader object; every
    line must then have the fields it reads as ``{{item.<field>}}``.
    """
    return _validate(
        (os.fspath(path), path),
        (os.fspath(validation_path), validation_path) if validation_path is not None else None,
        model=model,
        method=method,
        n_epochs=n_epochs,
        max_findings=max_findings,
        tokenizer=tokenizer,
        dedup_limit=dedup_limit,
        grader=grader,
    )


def validate_bytes(
    data: bytes,
    *,
    name: str = "train.jsonl",
    model: str = DEFAULT_MODEL,
    method: str = "supervised",
    validation: bytes | None = None,
    validation_name: str = "validation.jsonl",
    n_epochs: int | None = None,
    max_findings: int = 50,
    tokenizer: str = "heuristic",
    dedup_limit: int = DEFAULT_DEDUP_LIMIT,
    grader: Mapping[str, Any] | None = None,
) -> Report:
    """Like :func:`validate_file` for data already in memory (tests, inline stack data)."""
    return _validate(
        (name, bytes(data)),
        (validation_name, bytes(validation)) if validation is not None else None,
        model=model,
        method=method,
        n_epochs=n_epochs,
        max_findings=max_findings,
        tokenizer=tokenizer,
        dedup_limit=dedup_limit,
        grader=grader,
    )


def validate_stream(
    fp: BinaryIO,
    *,
    name: str,
    model: str = DEFAULT_MODEL,
    method: str = "supervised",
    n_epochs: int | None = None,
    max_findings: int = 50,
    tokenizer: str = "heuristic",
    dedup_limit: int = DEFAULT_DEDUP_LIMIT,
    grader: Mapping[str, Any] | None = None,
) -> Report:
    """Like :func:`validate_file` for a binary stream read once, front to back (a download):
    ``name`` is what findings call it. Duplicates are found by whole-line hashes (the stream cannot
    be read again). Errors of the stream itself (``OSError``, a network error) propagate."""
    return _validate(
        (name, fp),
        None,
        model=model,
        method=method,
        n_epochs=n_epochs,
        max_findings=max_findings,
        tokenizer=tokenizer,
        dedup_limit=dedup_limit,
        grader=grader,
    )
