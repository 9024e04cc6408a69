"""A TrainingFile's local data at preview (local_data): hashed and validated in one read, not read at
all while unchanged (the check cache, keyed by path, inode, size and times, outside the state)."""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from pulumi_aoai_finetune import local_data

LINE = json.dumps({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q%d"},
                                {"role": "assistant", "content": "a"}]})


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("AOAI_FT_CACHE_DIR", str(directory))
    # settle() sets a file's times back, which moves its change time to now: no waiting for it here
    monkeypatch.setattr(local_data, "RACY_SECONDS", 0.0)
    return directory


@pytest.fixture
def opens(monkeypatch):
    """Paths opened for reading, by any means (os.open, open)."""
    seen: list[str] = []
    real_os_open, real_open = os.open, builtins.open

    def os_open(path, flags, *args, **kwargs):
        seen.append(os.fspath(path))
        return real_os_open(path, flags, *args, **kwargs)

    def py_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)):
            seen.append(os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", py_open)
    return seen


def write(path: Path, n: int = 12, salt: str = "", age: float = 10.0) -> str:
    path.write_text("".join(LINE.replace("q%d", f"q{i}{salt}") + "\n" for i in range(n)), encoding="utf-8")
    settle(path, age)
    return str(path)


def settle(path: Path, age: float = 10.0) -> None:
    """Written ``age`` seconds ago (the cache keeps no file written in the last seconds)."""
    then = time.time() - age
    os.utime(path, (then, then))


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_one_read_then_none(cache, tmp_path, opens):
    path = write(tmp_path / "train.jsonl")
    first = local_data.check(path, {})
    assert (first.sha256, first.bytes, first.failures, first.cached) == (sha(path), os.path.getsize(path), [], False)
    assert first.stats["examples"] == 12 and first.stats["tokens"] > 0
    assert opens.count(path) == 1  # hashed and validated in the same read
    opens.clear()
    again = local_data.check(path, {})
    assert again.cached and (again.sha256, again.bytes, again.failures, again.stats) == \
        (first.sha256, first.bytes, first.failures, first.stats)
    assert path not in opens  # unchanged: not read at all


def test_findings_are_cached_too_and_are_the_same(cache, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(LINE.replace("q%d", "q") + "\n" + '{"messages": [{"role": "bot", "content": "x"}]}\n')
    settle(path)
    first = local_data.check(str(path), {})
    again = local_data.check(str(path), {})
    assert again.cached and again.failures == first.failures and first.failures[0][0] == "path"
    assert f"{path}:2: messages[0].role is \"bot\"" in first.failures[0][1]


def test_any_change_of_the_file_is_seen(cache, tmp_path):
    path = write(tmp_path / "train.jsonl")
    local_data.check(path, {})
    # same size, modification time set back: the change time still moves
    st = os.stat(path)
    with open(path, "r+b") as fh:
        fh.write(b'{"messages": [{"role": "system", "content": "S"}')
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.path.getsize(path) == st.st_size and os.stat(path).st_mtime_ns == st.st_mtime_ns
    time.sleep(0.01)
    changed = local_data.check(path, {})
    assert not changed.cached and changed.sha256 == sha(path)
    # another file moved over the path (a new inode)
    other = write(tmp_path / "other.jsonl", salt="x")
    os.replace(other, path)
    settle(Path(path))
    moved = local_data.check(path, {})
    assert not moved.cached and moved.sha256 == sha(path)


def test_the_check_inputs_are_part_of_the_key(cache, tmp_path):
    path = write(tmp_path / "train.jsonl")
    local_data.check(path, {})
    assert not local_data.check(path, {"model": "babbage-002"}).cached  # another format: checked again
    assert local_data.check(path, {"model": "babbage-002"}).failures  # ... and refused (chat data)
    assert not local_data.check(path, {"validate": False}).cached
    assert local_data.check(path, {}).cached


def test_a_file_written_just_now_is_not_cached(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(local_data, "RACY_SECONDS", 2.0)
    path = write(tmp_path / "train.jsonl", age=0)
    local_data.check(path, {})
    assert not local_data.check(path, {}).cached  # a write within the same time stamp would go unseen
    monkeypatch.setattr(local_data, "RACY_SECONDS", 0.0)  # as if 2 s had passed
    local_data.check(path, {})
    assert local_data.check(path, {}).cached


def test_the_cache_is_safe_to_delete_or_spoil_and_can_be_off(cache, tmp_path, monkeypatch):
    path = write(tmp_path / "train.jsonl")
    local_data.check(path, {})
    for entry in cache.iterdir():
        entry.write_text("{not json")
    spoiled = local_data.check(path, {})
    assert not spoiled.cached and spoiled.sha256 == sha(path)
    assert local_data.check(path, {}).cached  # written again
    for entry in cache.iterdir():
        entry.unlink()
    cache.rmdir()
    assert not local_data.check(path, {}).cached and local_data.check(path, {}).cached
    monkeypatch.setenv("AOAI_FT_CACHE_DIR", "off")
    assert not local_data.check(path, {}).cached and not local_data.check(path, {}).cached


def test_an_entry_of_another_check_is_never_used(cache, tmp_path):
    a, b = write(tmp_path / "a.jsonl"), write(tmp_path / "b.jsonl", salt="b")
    local_data.check(a, {})
    local_data.check(b, {})
    by_file = {json.loads(e.read_text())["key"]["given"]: e for e in cache.iterdir()}
    assert sorted(by_file) == sorted([a, b])
    by_file[a].write_text(by_file[b].read_text())  # a's entry now holds b's check (key and result)
    assert local_data.check(a, {}).sha256 == sha(a) != sha(b)
    assert local_data.check(b, {}).sha256 == sha(b)


def test_entries_are_bounded(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(local_data, "MAX_ENTRIES", 5)
    for i in range(12):
        local_data.check(write(tmp_path / f"f{i}.jsonl", salt=str(i)), {})
    assert len(list(cache.glob("*.json"))) <= 5


def test_a_huge_line_stops_the_read_and_the_hash_is_still_the_whole_files(cache, tmp_path):
    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as fh:
        fh.write((LINE.replace("q%d", "q") + "\n").encode())
        fh.write(b'{"messages": [{"role": "user", "content": "' + b"a" * (70 * local_data.MIB) + b'"}]}\n')
        fh.write((LINE.replace("q%d", "z") + "\n").encode())
    settle(path)
    result = local_data.check(str(path), {})
    assert result.sha256 == sha(str(path)) and result.bytes == path.stat().st_size
    (failure,) = result.failures
    assert failure[0] == "path" and f"{path}:2: a line of 70.0 MiB, longer than the 64 MiB" in failure[1]
