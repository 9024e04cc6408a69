"""Reading a source in batches of whole lines, in bounded memory.

The file is read in binary through a 1 MiB buffered reader, in pieces of at most 64 KiB
(``readline(65536)``) gathered in batches of at most 128 pieces, so at most ~8 MiB of input are
held at once. Lines longer than a piece are reassembled up to 64 MiB (:data:`MAX_LINE_BYTES`); a
longer line is handed to ``too_long`` and skipped without being kept.
"""

from __future__ import annotations

import io
import os
import stat
from functools import partial
from itertools import chain, islice
from typing import Any, BinaryIO, Callable, Iterator

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

#: A line longer than this is reported and skipped, not read into memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
READ_BUFFER = 1 << 20
BOM = b"\xef\xbb\xbf"
_PIECE = 64 * 1024
_BATCH = 128


class NotRegularFile(OSError):
    """A path that is no regular file: a device, a FIFO, a socket or a directory."""


def open_regular(
    path: str | os.PathLike[str], on_read: Callable[[bytes], Any] | None = None
) -> tuple[BinaryIO, os.stat_result]:
    """``path`` opened for buffered binary reading, with its ``fstat``, when it is a regular file;
    ``on_read`` (optional) is given every chunk read from the file, in order.

    Anything else raises :class:`NotRegularFile` at once: a device may never end (``/dev/zero``,
    ``/dev/urandom``), and opening a FIFO blocks until a writer comes, which may be never. The open
    itself does not block (``O_NONBLOCK``, switched off again for a regular file)."""
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a pipe (FIFO)" if stat.S_ISFIFO(st.st_mode)
                    else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a socket"
                    if stat.S_ISSOCK(st.st_mode) else "not a file")
            raise NotRegularFile(f"not a regular file ({kind}); save the data to a file and validate that")
        if _NONBLOCK:
            os.set_blocking(fd, True)
        if on_read is None:
            return open(fd, "rb", buffering=READ_BUFFER), st
        return io.BufferedReader(_Tap(io.FileIO(fd, "rb"), on_read), READ_BUFFER), st  # type: ignore[return-value]
    except BaseException:
        os.close(fd)
        raise


class _Tap(io.RawIOBase):
    """A raw file whose every chunk read also goes to ``on_read`` (a hash, say)."""

    def __init__(self, raw: io.FileIO, on_read: Callable[[bytes], Any]) -> None:
        self._raw, self._on_read, self._pos = raw, on_read, 0

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._pos += n
            self._on_read(bytes(memoryview(buffer)[:n]))
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class Lines:
    """The lines of ``fp`` from offset ``pos`` (where ``fp`` is), in batches: iterate for
    ``(lines, number of the line before them, offset of the first, their sizes)``. Each line ends
    with ``b"\\n"`` (one is added to a last line without it, so that it hashes like the others).
    ``too_long(line number, size)`` is called for each line longer than :data:`MAX_LINE_BYTES`,
    which is not yielded; ``count`` is the number of lines once iterated."""

    def __init__(self, fp: BinaryIO, pos: int, too_long: Callable[[int, int], Any]) -> None:
        self.fp = fp
        self.pos = pos
        self.too_long = too_long
        self.count = 0

    def __iter__(self) -> Iterator[tuple[list[bytes], int, int, list[int]]]:
        """Lines are read as pieces of at most ``_PIECE`` bytes (``readline(_PIECE)``), so a long
        line is never read at once: its pieces are kept until its end, and dropped as soon as it
        is longer than :data:`MAX_LINE_BYTES`."""
        pieces = iter(partial(self.fp.readline, _PIECE), b"")
        pos = self.pos
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
                        whole, size = _long_line(raw, chain(it, pieces))
                        if whole is None:
                            if lines:
                                yield lines, ln, start, list(map(len, lines))
                                ln += len(lines)
                                lines = []
                            ln += 1
                            self.too_long(ln, size)
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
        self.count = ln


def _long_line(first: bytes, rest: Iterator[bytes]) -> tuple[bytes | None, int]:
    """The rest of a line longer than a piece, and its size in the file; ``None`` when it is
    longer than :data:`MAX_LINE_BYTES`, whose pieces are then not kept."""
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
    if size > MAX_LINE_BYTES:
        return None, size
    return b"".join(parts), size
