"""Duplicates and train/validation overlap are byte-identical lines, whatever the table does
inside: long lines are keyed by a sample and settled by reading the earlier line again, and the
findings must be the ones a plain ``{line bytes: first line}`` dict gives."""

from __future__ import annotations

import io
import json
import random

import pytest

from pulumi_aoai_finetune.data import validate_bytes, validate_file
from pulumi_aoai_finetune.data import reader, seen as seen_mod
from pulumi_aoai_finetune.data import validator as vmod

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi".split()


def example(rng: random.Random, words: int, tail: str) -> dict:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return {
        "messages": [
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": text},
            {"role": "assistant", "content": tail},
        ]
    }


def corpus(seed: int) -> list[bytes]:
    """Lines with exact repeats, near-repeats that share their last 200+ bytes and their length
    (same sampled key, different bytes), short lines, and non-ASCII text."""
    rng = random.Random(seed)
    tail = "The same closing paragraph for every answer, long enough to fill the sample. " * 4
    lines: list[bytes] = []
    for _ in range(300):
        kind = rng.random()
        if kind < 0.15 and lines:
            lines.append(rng.choice(lines))  # an exact repeat
            continue
        if kind < 0.45:
            # same length and tail as another line, one letter changed early on
            ex = example(rng, 8, tail)
            line = json.dumps(ex)
            i = line.index('"role": "user", "content": "') + 28  # the user text's first letter
            twin = line[:i] + ("X" if line[i] != "X" else "Y") + line[i + 1 :]
            lines += [line.encode() + b"\n", twin.encode() + b"\n"]
            continue
        if kind < 0.6:
            ex = {"messages": [{"role": "user", "content": rng.choice(WORDS)},
                               {"role": "assistant", "content": "ok"}]}
            lines.append(json.dumps(ex).encode() + b"\n")  # short: keyed by its full hash
            continue
        ex = example(rng, rng.randint(1, 60), rng.choice(["Größe prüfen.", "数据集", tail]))
        lines.append(json.dumps(ex, ensure_ascii=rng.random() < 0.5).encode() + b"\n")
    return lines


def expected(lines: list[bytes], limit: int = 10**9) -> list[tuple[int, int]]:
    """(line, first line) of each repeat: the plain dict the validator's table stands for."""
    first: dict[bytes, int] = {}
    out = []
    for n, raw in enumerate(lines, 1):
        key = raw if raw.endswith(b"\n") else raw + b"\n"
        if key in first:
            out.append((n, first[key]))
        elif len(first) < limit:
            first[key] = n
    return out


def found(report, file: str = "train.jsonl", rule: str = "dataset.duplicate"):
    out = []
    for f in report.findings:
        if f.rule == rule and f.file == file:
            out.append((f.line, int(f.message.split("line ")[1].split()[0])))
    return out


@pytest.mark.parametrize("verified", [2, seen_mod._VERIFIED])
@pytest.mark.parametrize("seed", range(6))
def test_duplicates_are_exactly_the_repeated_lines(monkeypatch, seed: int, verified: int) -> None:
    monkeypatch.setattr(seen_mod, "_VERIFIED", verified)  # the cache of re-read lines, cleared
    lines = corpus(seed)
    report = validate_bytes(b"".join(lines), max_findings=10_000)
    assert report.ok
    assert found(report) == expected(lines)
    assert report.stats["training"].duplicates == len(expected(lines))


def test_file_and_bytes_agree_also_with_a_bom_and_no_final_newline(tmp_path) -> None:
    lines = corpus(11)
    data = b"\xef\xbb\xbf" + b"".join(lines)[:-1]  # BOM, and the last line has no b"\n"
    lines = list(lines)
    path = tmp_path / "train.jsonl"
    path.write_bytes(data)
    by_file = validate_file(path, max_findings=10_000)
    by_bytes = validate_bytes(data, max_findings=10_000)
    assert found(by_file, str(path)) == found(by_bytes) == expected(lines)


def test_a_repeat_of_the_last_line_without_newline_is_found(tmp_path) -> None:
    rng = random.Random(3)
    tail = "Closing words that make this line longer than the sample of a key. " * 3
    lines = [json.dumps(example(rng, 20, tail)).encode() + b"\n" for _ in range(12)]
    train = b"".join(lines) + lines[5][:-1]  # line 13 repeats line 6, without b"\n"
    validation = lines[5] + lines[2]
    report = validate_bytes(train, validation=validation)
    assert found(report) == [(13, 6)]
    assert found(report, "validation.jsonl", "dataset.overlap") == [(1, 6), (2, 3)]


@pytest.mark.parametrize("piece", [64, 200, 1000])
def test_reassembled_and_skipped_lines_keep_their_places(monkeypatch, piece: int) -> None:
    monkeypatch.setattr(reader, "_PIECE", piece)
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 3000)
    lines = corpus(5)[:120]
    too_long = json.dumps(example(random.Random(1), 600, "x")).encode() + b"\n"
    assert len(too_long) > 3000
    data = lines[:40] + [too_long] + lines[40:] + [too_long, lines[7]]
    report = validate_bytes(b"".join(data), max_findings=10_000)
    want = [(n, p) for n, p in expected([b"" if l is too_long else l for l in data]) if p]
    # the over-long lines are not checked (and so not compared)
    want = [(n, p) for n, p in want if data[n - 1] is not too_long]
    assert found(report) == want
    assert [f.line for f in report.findings if f.rule == "jsonl.line_too_long"] == [41, 122]


@pytest.mark.parametrize("batch", [1, 3, 8, 128])
def test_a_repeat_of_the_line_after_a_skipped_one(monkeypatch, batch: int) -> None:
    """The line after an over-long one starts a batch; reading it again must find it."""
    monkeypatch.setattr(reader, "_BATCH", batch)
    monkeypatch.setattr(reader, "_PIECE", 256)
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 2000)
    rng = random.Random(9)
    tail = "A closing sentence long enough to make the line longer than the key's sample. " * 2
    lines = [json.dumps(example(rng, 15, tail)).encode() + b"\n" for _ in range(14)]
    too_long = json.dumps(example(rng, 400, "x")).encode() + b"\n"
    data = lines[:5] + [too_long] + lines[5:] + [lines[5], lines[0], lines[13]]
    report = validate_bytes(b"".join(data), max_findings=10_000)
    assert found(report) == [(16, 7), (17, 1), (18, 15)]
    assert [f.line for f in report.findings if f.rule == "jsonl.line_too_long"] == [6]


def test_train_validation_overlap(tmp_path) -> None:
    lines = corpus(7)
    train, val = lines[:200], lines[150:] + lines[:10]
    report = validate_bytes(b"".join(train), validation=b"".join(val), max_findings=10_000)
    first: dict[bytes, int] = {}
    for n, raw in enumerate(train, 1):
        first.setdefault(raw, n)
    want = [(n, first[raw]) for n, raw in enumerate(val, 1) if raw in first]
    assert found(report, "validation.jsonl", "dataset.overlap") == want
    p1, p2 = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    p1.write_bytes(b"".join(train))
    p2.write_bytes(b"".join(val))
    by_file = validate_file(p1, validation_path=p2, max_findings=10_000)
    assert found(by_file, str(p2), "dataset.overlap") == want


@pytest.mark.parametrize("limit", [1, 17, 100])
def test_dedup_limit_remembers_the_first_distinct_lines(limit: int) -> None:
    lines = corpus(2)
    report = validate_bytes(b"".join(lines), dedup_limit=limit, max_findings=10_000)
    assert found(report) == expected(lines, limit)
    assert any("distinct examples" in n for n in report.stats["training"].notes) == (
        len(set(lines)) > limit
    )


def test_a_stream_that_cannot_be_read_again_uses_full_hashes() -> None:
    lines = corpus(4)
    check_report = vmod._validate(
        ("train.jsonl", io.BufferedReader(io.BytesIO(b"".join(lines)))),  # type: ignore[arg-type]
        None,
        model=vmod.DEFAULT_MODEL,
        method="supervised",
        n_epochs=None,
        max_findings=10_000,
        tokenizer="heuristic",
        dedup_limit=vmod.DEFAULT_DEDUP_LIMIT,
    )
    assert found(check_report) == expected(lines)


def test_memory_for_duplicates_is_bounded_by_the_limit() -> None:
    """One entry per remembered line at most, whatever the number of lines."""
    lines = [b"line %d\n" % i for i in range(5000)] * 3
    data = b"".join(lines)
    seen = seen_mod.Seen(limit=1000, size=len(data), reread=lambda off, n: data[off : off + n])
    sizes = [len(x) for x in lines]
    repeats = []
    seen.add(seen.keys_of(lines, sizes), lines, sizes, 0, 0, lambda ln, prev: repeats.append(ln))
    assert seen.room == 0 and seen.dropped
    assert len(seen.first) <= 1000
    assert len(seen.full) <= 1000
    assert repeats == [n for n in range(5001, 15001) if (n - 1) % 5000 < 1000]
