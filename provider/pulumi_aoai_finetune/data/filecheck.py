"""One file's check: the driver that streams a source through the fast path
(:mod:`.fastpath`) and the slow path (:meth:`FileCheck.slow`, the format's rules in :mod:`.rules`),
the bookkeeping of each example both paths share (statistics, duplicates, overlap, system
messages), and the file's own rules once it is read (size, too few examples, system-message
variants).

Bounded state
    - Duplicates and train/validation overlap (:class:`.seen.Seen`): the first ``dedup_limit``
      distinct examples (default 500,000) in a dict of about 100 bytes per example (~50 MB at
      the default limit); past that, later lines are still compared with the remembered ones
      but not added, and the statistics say so. Duplicates are byte-identical lines: a line is
      keyed by a sample of its bytes, and a matching key is settled by reading the remembered
      line again and comparing whole-line 64-bit hashes, so a false duplicate needs a 64-bit
      collision (~1e-8 at 500k lines). The source is read again only for that (``os.pread`` on
      the open file, or the bytes given); the hash is per process, never stored.
    - System-message variants (the leading system message of each error-free example): a dict
      of at most 1,000 variants with counts.
    - Token quantiles: :class:`~.stats.TokenHistogram` (exact below 131,072 tokens).
    - Findings: the first ``max_findings`` per rule are kept; counts are exact.
"""

from __future__ import annotations

import io
import os
import re
import sys
from functools import partial
from typing import Any, BinaryIO

import msgspec

from . import reader
from .fastpath import FastPath
from .findings import RULES, FindingCollector
from .formats import MAX_FILE_BYTES, MIN_EXAMPLES, RECOMMENDED_EXAMPLES, MAX_IMAGE_EXAMPLES, ModelSpec
from .rules import CHECKS, reinforcement
from .rules.common import Example, generic_decode, jtype
from .seen import Seen
from .stats import DatasetStats
from .tokens import HeuristicCounter, make_counter

_MAX_SYSTEM_VARIANTS = 1_000
_BYTE_POS = re.compile(r"\(byte (\d+)\)")


def _pread(fd: int, offset: int, size: int) -> bytes:
    return os.pread(fd, size, offset)


def _slice(data: bytes, offset: int, size: int) -> bytes:
    return data[offset : offset + size]


class Context:
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


class FileCheck:
    """Validates one file and gathers its statistics; the checker the format rules report to
    (:class:`.rules.common.Checker`)."""

    def __init__(
        self,
        ctx: Context,
        name: str,
        role: str,
        train: FileCheck | None = None,
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.role = role
        self.spec = ctx.spec
        self.fmt = ctx.fmt
        self.counter = ctx.counter
        self.grader_fields = ctx.grader_fields
        self.stats = DatasetStats(
            file=name,
            role=role,
            data_format=ctx.fmt,
            max_example_tokens=ctx.spec.max_example_tokens,
            token_counting=ctx.counter.describe(),
            token_counting_exact=ctx.counter.exact,
        )
        self.train = train
        self.seen: Seen | None = None  # made by run(), once the source's size is known
        self._reread: Any = None  # (offset, size) -> bytes, when the source can be read again
        self._size: int | None = None  # bytes of the source, when known
        self.systems: dict[int, list[Any]] = {}  # hash -> [count, first line, preview]
        self.systems_other = 0
        self.no_system = [0, 0]  # count, first line
        self._line_error = False
        self.rft_items = 0  # reinforcement lines with reference fields beside the prompt
        self._rules = CHECKS[ctx.fmt]
        self.fast = FastPath(self)
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

    def run_path(self, path: str | os.PathLike[str], on_read: Any = None) -> None:
        """Check the regular file at ``path``; ``on_read``: see :func:`.validator.validate_file`."""
        try:
            fp, st = reader.open_regular(path, on_read)
        except reader.NotRegularFile as exc:
            self.add("file.unreadable", None, str(exc))
            return
        except OSError as exc:
            self.add("file.unreadable", None, f"cannot open the file: {exc.strerror or exc}")
            return
        with fp:
            try:
                # a regular file can be read again for duplicates (without pread, on Windows,
                # duplicates use a dict of whole-line hashes: see Seen)
                if hasattr(os, "pread"):
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
        """Stream ``fp`` (binary) through the checks: :class:`.reader.Lines` cuts it into batches
        of whole lines, which go to the fast path (:meth:`.fastpath.FastPath.batch`); it sends the
        lines it cannot vouch for to :meth:`slow`."""
        stats = self.stats
        self.seen = Seen(self.ctx.dedup_limit, self._size, self._reread)
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
        if first[:3] == reader.BOM:
            fp.read(3)
            pos = 3
        lines = reader.Lines(fp, pos, self._line_too_long)
        batch_fast = self.fast.batch
        for batch, ln, pos, sizes in lines:
            self._bln, self._bpos, self._bsizes = ln, pos, sizes
            batch_fast(batch, ln)
        self.fast.merge(stats)
        stats.lines = lines.count
        stats.bytes = fp.tell() if hasattr(fp, "tell") else 0
        self._finish()

    def _line_too_long(self, ln: int, size: int) -> None:
        self.add(
            "jsonl.line_too_long",
            ln,
            f"line is {size / (1024 * 1024):,.1f} MiB, more than the "
            f"{reader.MAX_LINE_BYTES // (1024 * 1024)} MiB this validator reads at once, so it was "
            "not checked; give large images as https URLs, and check that the lines end "
            "with a newline",
        )

    # -- per-example bookkeeping (shared by both paths) ----------------------------------------

    def seen_batch(self, lines: list[bytes], ln0: int) -> None:
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

    def record(self, ln: int, raw: bytes, ex: Example, clean: bool = True) -> None:
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
            self.too_long(ln, ex.tokens)
        self.seen_batch([raw], ln - 1)
        if clean and self.fmt != "completion":
            self.system_n(ex.system, 1, ln)

    def too_long(self, ln: int, tokens: int) -> None:
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

    def system_n(self, system: str | None, count: int, ln: int) -> None:
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
        if self.fmt == "rft":
            reinforcement.finish(self, stats, training=self.role == "training")
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

    def slow(self, line: bytes, ln: int) -> None:
        """Every check of one line, with every finding: the line's format's rules (:mod:`.rules`)."""
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
            obj = generic_decode(line)
        except RecursionError:
            self._too_deep(ln)
            self.stats.lines_with_errors += 1
            return
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
                f"line is {jtype(obj)}, not a JSON object{hint}; every line must be one "
                "example object",
            )
            self.stats.lines_with_errors += 1
            return
        try:
            ex = self._rules(self, obj, ln)
        except RecursionError:  # a value that decoded, but deeper than Python compares or encodes
            self._too_deep(ln)
            ex = None
        if ex is None:
            self.stats.examples += 1
            self.stats.lines_with_errors += 1
            return
        if self._line_error:
            self.stats.lines_with_errors += 1
        self.record(ln, line, ex, clean=not self._line_error)

    def _too_deep(self, ln: int) -> None:
        self.add(
            "jsonl.invalid_json",
            ln,
            "line nests JSON values deeper than this validator reads (Python's recursion limit, "
            f"{sys.getrecursionlimit():,} levels, and so Python's JSON parsers); a training "
            "example is a few levels deep: check how the line was written",
        )

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
