from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
if str(ROOT / "provider") not in sys.path:  # PYTHONPATH=provider is the documented way
    sys.path.insert(0, str(ROOT / "provider"))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def corpus_dir() -> Path:
    return HERE / "corpus"


@pytest.fixture
def write_jsonl(tmp_path: Path):
    """Write lines (str or bytes) to a .jsonl file in tmp_path and return its path."""

    def write(lines, name: str = "train.jsonl") -> Path:
        p = tmp_path / name
        if isinstance(lines, bytes):
            p.write_bytes(lines)
        else:
            p.write_text("".join(l + "\n" for l in lines), encoding="utf-8")
        return p

    return write
