"""Small fine-tuning data sets (JSONL bytes) for the emulator's data-plane tests."""

from __future__ import annotations

import json
from typing import Any, Iterable

SYSTEM = "You are Xiaoyu, a concise assistant for a bicycle shop."


def jsonl(records: Iterable[Any], *, bom: bool = False, newline: str = "\n") -> bytes:
    """Serialize records one per line (UTF-8, optional BOM)."""
    text = "".join(json.dumps(r, ensure_ascii=False) + newline for r in records)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def chat_example(i: int, *, marker: str = "") -> dict[str, Any]:
    return {"messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"How much air goes in tyre number {i}? {marker}".strip()},
        {"role": "assistant", "content": f"Tyre {i} takes {30 + i % 40} psi. Check the sidewall."},
    ]}


def chat_jsonl(n: int = 12, *, marker: str = "", marker_line: int = 3, bom: bool = False) -> bytes:
    """``n`` chat examples; ``marker`` (e.g. ``RAI-TRIGGER:violence``) goes into example ``marker_line``."""
    return jsonl((chat_example(i, marker=marker if i == marker_line else "") for i in range(n)), bom=bom)


def multi_turn_jsonl(n: int = 12) -> bytes:
    """Chat examples with two turns, a weight-0 assistant turn and a content-parts user message."""
    return jsonl({"messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": [{"type": "text", "text": f"Question {i}"}]},
        {"role": "assistant", "content": "First answer.", "weight": 0},
        {"role": "user", "content": "And again?"},
        {"role": "assistant", "content": f"Answer {i}.", "weight": 1},
    ]} for i in range(n))


def completion_jsonl(n: int = 12) -> bytes:
    """``n`` prompt/completion examples (babbage-002, davinci-002)."""
    return jsonl({"prompt": f"Tyre {i} pressure ->", "completion": f" {30 + i} psi"} for i in range(n))


def preference_jsonl(n: int = 12) -> bytes:
    """``n`` DPO examples."""
    return jsonl({
        "input": {"messages": [{"role": "system", "content": SYSTEM},
                               {"role": "user", "content": f"Recommend a bell for bike {i}."}]},
        "preferred_output": [{"role": "assistant", "content": "A brass bell: loud and lasting."}],
        "non_preferred_output": [{"role": "assistant", "content": "Any bell."}],
    } for i in range(n))


def prompt_only_jsonl(n: int = 12) -> bytes:
    """``n`` examples without an assistant reply (reinforcement fine-tuning data)."""
    return jsonl({"messages": [{"role": "user", "content": f"What is {i} + {i}?"}], "answer": str(2 * i)}
                 for i in range(n))


def sized_chat_jsonl(min_bytes: int) -> bytes:
    """Chat examples until the file has at least ``min_bytes`` bytes (multi-chunk uploads)."""
    filler = "spokes " * 200
    records, size, i = [], 0, 0
    while size < min_bytes or len(records) < 10:
        record = chat_example(i, marker=filler)
        records.append(record)
        size += len(json.dumps(record)) + 1
        i += 1
    return jsonl(records)
