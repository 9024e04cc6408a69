"""Duplicates and train/validation overlap in memory bounded by a limit, whatever the file's size:
:class:`Seen` remembers the first ``limit`` distinct lines by a key of a sample of their bytes and
settles a repeated key by reading the remembered line again."""

from __future__ import annotations

from itertools import accumulate, compress
from operator import itemgetter, ne, or_, xor
from typing import Any

#: Lines are keyed by the hash of their last _SAMPLE bytes and their length; for a longer line
#: that is a sample, and a key shared with an earlier line is settled by reading it again.
_SAMPLE = 128
_LOW32 = (1 << 32) - 1
_MAX_LINE_NUMBER = (1 << 31) - 1  # a remembered line is (line number << 32) | offset
_MAX_OFFSET = _LOW32
_VERIFIED = 1 << 16  # whole-line hashes of repeated lines kept, to not read them again
_tail = itemgetter(slice(-_SAMPLE, None))


class Seen:
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
