"""A TrainingFile's local data at preview: hashed and validated in one read, and not read at all
while it is unchanged since the last check.

One read
    The validator reads the file (:func:`.data.validate_file`), and every chunk it reads also goes
    to :class:`Scan`: the SHA-256 and the size that make the file's content identity, and the
    length of its lines. A line longer than :data:`MAX_LINE_BYTES` stops the read at once, before
    the validator has gathered it: :class:`Scan` looks ahead with ``pread`` (reading, not keeping)
    as soon as a line passes :data:`PEEK_AT`, so refusing a 500 MB line takes constant memory.

Then none: the check cache
    What a check found (hash, size, findings, statistics) is kept in a small JSON file per check,
    in ``$AOAI_FT_CACHE_DIR`` (default ``$XDG_CACHE_HOME/pulumi-aoai-finetune/checks``, else
    ``~/.cache/pulumi-aoai-finetune/checks``; ``off`` turns it off). It is outside the Pulumi state
    and safe to delete at any time: a missing, unreadable or foreign entry is a miss, and the file
    is read again. An entry is used only when all of these are as they were: the file's real path,
    device, inode, size, modification and change times (``st_ctime`` moves on any write, also
    when the modification time is set back), the check's inputs (validate, model, method,
    grader) and the code of the checks (a digest of the validator's and this module's source). A
    file written in the last :data:`RACY_SECONDS` is not cached (a write within the same time stamp
    would go unseen), nor one that changed while it was read. At most :data:`MAX_ENTRIES` entries
    are kept; the oldest go first.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

MIB = 1024 * 1024
#: The longest line a training example can take (the validator's own limit, data.reader.MAX_LINE_BYTES).
MAX_LINE_BYTES = 64 * MIB
#: A line longer than this is measured ahead (pread) before the validator gathers more of it.
PEEK_AT = 4 * MIB
HASH_CHUNK = 1 << 20
CACHE_ENV = "AOAI_FT_CACHE_DIR"
RACY_SECONDS = 2.0
MAX_ENTRIES = 2000
_FORMAT = 1  # of a cache entry


class LineTooLong(Exception):
    """A line longer than a training example can take: ``line`` (1-based) is ``length`` bytes."""

    def __init__(self, line: int, length: int) -> None:
        super().__init__(f"line {line} is {length} bytes")
        self.line, self.length = line, length


class Scan:
    """SHA-256, size and the first line longer than ``max_line`` bytes (line number, length) of bytes
    fed in order (:meth:`update`). With ``path`` (the file being read), a line that passes
    :data:`PEEK_AT` is measured ahead with ``pread``, and one longer than ``max_line`` raises
    :class:`LineTooLong` from :meth:`update`: the reader stops before it gathers that line."""

    def __init__(self, max_line: int = MAX_LINE_BYTES, path: Optional[str] = None) -> None:
        assert max_line >= HASH_CHUNK  # so only a line spanning chunks can be too long
        self.digest = hashlib.sha256()
        self.size = 0
        self.long_line: Optional[tuple[int, int]] = None
        self._max, self._path = max_line, path
        self._line, self._run = 1, 0  # the current line and its length so far
        self._measuring = False  # inside the long line, still counting its length
        self._peeked = 0  # the line measured ahead last

    def update(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        first = chunk.find(b"\n")
        if first < 0:
            self._run += len(chunk)
        else:
            if self.long_line is None and self._run + first > self._max:
                self.long_line = (self._line, self._run + first)
            elif self._measuring and self.long_line is not None:
                self.long_line = (self.long_line[0], self._run + first)
            self._measuring = False
            self._line += chunk.count(b"\n")
            self._run = len(chunk) - chunk.rfind(b"\n") - 1
        if self.long_line is None and self._run > self._max:
            self.long_line, self._measuring = (self._line, self._run), True
        if self._path is not None and self._run > PEEK_AT and self._peeked != self._line:
            self._peeked = self._line
            length = self._run + _line_rest(self._path, self.size)
            if length > self._max:
                raise LineTooLong(self._line, length)

    def finish(self) -> None:
        if self._measuring and self.long_line is not None:
            self.long_line = (self.long_line[0], self._run)  # the file's last line


def _line_rest(path: str, offset: int) -> int:
    """Bytes from ``offset`` to the end of the line (or of the file), read ahead in chunks and not kept."""
    fd = os.open(path, os.O_RDONLY)
    try:
        n = 0
        while True:
            chunk = os.pread(fd, HASH_CHUNK, offset + n)
            end = chunk.find(b"\n")
            if end >= 0:
                return n + end
            n += len(chunk)
            if len(chunk) < HASH_CHUNK:
                return n
    finally:
        os.close(fd)


def scan_file(path: str, max_line: int = MAX_LINE_BYTES) -> tuple[str, int, Optional[tuple[int, int]]]:
    """SHA-256, size and the first line longer than ``max_line`` bytes as (line number, length), in
    one streamed pass of constant memory (a huge line is measured, never held)."""
    scan = Scan(max_line)
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            scan.update(chunk)
    scan.finish()
    return scan.digest.hexdigest(), scan.size, scan.long_line


# -- the check ---------------------------------------------------------------------------------
@dataclass
class LocalCheck:
    """What the check of a local file found."""

    sha256: str
    bytes: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(field, message) of each problem: the preview fails with them."""
    stats: Optional[dict[str, Any]] = None
    """The training data's statistics (:func:`summary`), when it was validated without errors."""
    cached: bool = False


def summary(report: Any) -> Optional[dict[str, Any]]:
    """What a job's cost and the preview's log need from a validated file: examples and tokens."""
    stats = (getattr(report, "stats", None) or {}).get("training")
    if stats is None:
        return None
    t = stats.tokens
    return {"examples": stats.examples, "tokens": t.total, "tokens_median": t.quantile(0.5) or 0,
            "tokens_max": t.max or 0, "token_counting_exact": bool(stats.token_counting_exact),
            "model": getattr(report, "model", None)}


def validator_args(inputs: dict) -> tuple[dict[str, Any], Optional[tuple[str, str]]]:
    """The validator's keyword arguments for a file's ``model``, ``method`` and ``grader`` inputs, or
    the failure of a method it does not know."""
    from .data.formats import METHODS

    model, method, grader = inputs.get("model"), inputs.get("method"), inputs.get("grader")
    if not isinstance(grader, dict):
        grader = None  # not known yet at preview (or refused by check): check the format only
    kwargs: dict[str, Any] = {"model": model} if model else {}
    if method not in (None, "supervised"):
        if method not in METHODS:
            return kwargs, ("method", f"method {method!r} must be one of supervised, dpo, reinforcement")
        kwargs["method"] = method
        if method == "reinforcement" and grader is not None:
            kwargs["grader"] = grader
    return kwargs, None


def report_failures(report: Any, field: str) -> list[tuple[str, str]]:
    return [] if report.ok else [(field, report.summary(max_lines=20))]


def check(path: str, inputs: dict) -> LocalCheck:
    """Hash and (with ``inputs["validate"]``, the default) validate the regular file at ``path`` for the
    file's ``model``/``method``/``grader`` inputs: from the cache when the file is unchanged, else in
    one read. ``OSError`` when it cannot be read."""
    validate = inputs.get("validate", True) is not False
    kwargs, refused = validator_args(inputs) if validate else ({}, None)
    st = os.stat(path)
    key = _key(path, st, validate, kwargs)
    hit = _cache_get(key)
    if hit is not None:
        return hit
    started = time.time_ns()
    result = _check(path, validate, kwargs, refused)
    after = os.stat(path)
    unchanged = all(getattr(st, a) == getattr(after, a) for a in ("st_ino", "st_size", "st_mtime_ns", "st_ctime_ns"))
    if unchanged and (started - max(st.st_mtime_ns, st.st_ctime_ns)) / 1e9 > RACY_SECONDS:
        _cache_put(key, result)
    return result


def _check(path: str, validate: bool, kwargs: dict[str, Any], refused: Optional[tuple[str, str]]) -> LocalCheck:
    if not validate or refused is not None:
        digest, size, long_line = scan_file(path)
        failures = [refused] if refused else []
        if validate and long_line is not None:
            failures.insert(0, _too_long(path, *long_line))
        return LocalCheck(digest, size, failures)
    from .data import validate_file

    scan = Scan(path=path)
    try:
        report = validate_file(path, on_read=scan.update, **kwargs)
    except LineTooLong as exc:
        scan._path = None  # the rest of the file, for the whole file's hash: no look-ahead any more
        with open(path, "rb") as fh:
            fh.seek(scan.size)
            while chunk := fh.read(HASH_CHUNK):
                scan.update(chunk)
        return LocalCheck(scan.digest.hexdigest(), scan.size, [_too_long(path, exc.line, exc.length)])
    scan.finish()
    if scan.long_line is not None:  # a line the validator skipped (it cannot check it): refused
        return LocalCheck(scan.digest.hexdigest(), scan.size, [_too_long(path, *scan.long_line)])
    return LocalCheck(scan.digest.hexdigest(), scan.size, report_failures(report, "path"),
                      summary(report) if report.ok else None)


def _too_long(path: str, line: int, length: int) -> tuple[str, str]:
    return ("path", f"{path}:{line}: a line of {length / MIB:,.1f} MiB, longer than the {MAX_LINE_BYTES // MIB} "
                    "MiB a training example can take: one example per line, and give large images as https URLs")


# -- the cache ---------------------------------------------------------------------------------
_code_lock = threading.Lock()
_code: Optional[str] = None


def _code_digest() -> str:
    """A digest of the source of the checks: a new version of them never uses an older entry."""
    global _code
    with _code_lock:
        if _code is None:
            here = Path(__file__).resolve().parent
            digest = hashlib.sha256()
            for p in sorted([here / "local_data.py", *(here / "data").rglob("*.py"), *(here / "data").glob("*.c")]):
                digest.update(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
            _code = digest.hexdigest()
        return _code


def cache_dir() -> Optional[Path]:
    """Where checks are cached, or None when the cache is off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None and configured.strip().lower() in ("off", "none", "0", "false"):
        return None
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pulumi-aoai-finetune" / "checks"


def _key(path: str, st: os.stat_result, validate: bool, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"format": _FORMAT, "code": _code_digest(), "path": os.path.realpath(path), "given": path,
            "dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns, "validate": validate, "args": kwargs}


def _entry_path(directory: Path, key: dict[str, Any]) -> Path:
    name = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return directory / f"{name}.json"


def _cache_get(key: dict[str, Any]) -> Optional[LocalCheck]:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        doc = json.loads(_entry_path(directory, key).read_text(encoding="utf-8"))
        if doc.get("key") != json.loads(json.dumps(key, default=str)):
            return None  # another check with the same name: never trust it
        value = doc["value"]
        return LocalCheck(str(value["sha256"]), int(value["bytes"]),
                          [(str(f), str(m)) for f, m in value["failures"]], value.get("stats"), cached=True)
    except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable or not ours: a miss
        return None


def _cache_put(key: dict[str, Any], result: LocalCheck) -> None:
    directory = cache_dir()
    if directory is None:
        return
    doc = {"key": key, "value": {"sha256": result.sha256, "bytes": result.bytes,
                                 "failures": [list(f) for f in result.failures], "stats": result.stats}}
    target = _entry_path(directory, key)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, default=str)
        os.replace(tmp, target)
        _prune(directory)
    except OSError:  # a cache that cannot be written is no cache: the check stands
        try:
            tmp.unlink()
        except OSError:
            pass


def _prune(directory: Path) -> None:
    """Keep at most MAX_ENTRIES entries: the least recently written go."""
    entries = []
    with os.scandir(directory) as it:
        for e in it:
            if e.name.endswith(".json") and e.is_file(follow_symlinks=False):
                entries.append((e.stat(follow_symlinks=False).st_mtime_ns, e.path))
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort()
    for _, p in entries[: len(entries) - MAX_ENTRIES + MAX_ENTRIES // 10]:
        try:
            os.unlink(p)
        except OSError:
            pass
