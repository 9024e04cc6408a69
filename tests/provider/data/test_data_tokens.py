"""The token heuristic's stated accuracy, checked against the real BPE encodings when the
optional bpe-openai package (bundled vocabularies, no download) is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus_cases import good_lines
from pulumi_aoai_finetune.data import exact_available, validate_bytes
from pulumi_aoai_finetune.data.tokens import HeuristicCounter, make_counter

SAMPLES = {
    "english": (
        "Fine-tuning lets you tailor a model to your data. Prepare training and validation "
        "files as JSON Lines, upload them, create a job, wait for it to finish, then deploy "
        "the resulting model and call it through its deployment name. " * 20
    ),
    "code": Path(__file__).read_text(encoding="utf-8"),
    "json": '{"role": "assistant", "content": "Paris", "weight": 0, "id": 12345} ' * 50,
    "japanese": (
        "ファインチューニングでは、プロンプトに収まらない多くの例でトレーニングすることで、"
        "モデルが改善され、多数のタスクでより良い結果が得られます。" * 20
    ),
}


def test_heuristic_arithmetic() -> None:
    h = HeuristicCounter("o200k_base")
    assert h.count(["abcd", "e"]) == 2  # ceil(5 / 4)
    assert h.count(["日本"]) == 2  # 6 UTF-8 bytes / 4
    c = HeuristicCounter("cl100k_base")
    assert c.count(["日本"]) == 2  # 6 / 3
    assert c.count(["abcd", "日本"]) == 3  # 4/4 + 6/3
    with pytest.raises(ValueError):
        make_counter("magic", "o200k_base")


@pytest.mark.skipif(not exact_available(), reason="bpe-openai not installed")
@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_heuristic_within_stated_accuracy(encoding: str, sample: str) -> None:
    exact = make_counter("exact", encoding).count([SAMPLES[sample]])
    estimate = HeuristicCounter(encoding).count([SAMPLES[sample]])
    # stated: within ±20% for prose, code and CJK text; dense JSON/numbers under-count ~30%
    tolerance = 0.35 if sample == "json" else 0.25
    assert abs(estimate - exact) / exact <= tolerance, (estimate, exact)


@pytest.mark.skipif(not exact_available(), reason="bpe-openai not installed")
def test_exact_mode_end_to_end() -> None:
    raw = ("\n".join(good_lines(12)) + "\n").encode()
    exact = validate_bytes(raw, tokenizer="exact")
    approx = validate_bytes(raw)
    st_e, st_a = exact.stats["training"], approx.stats["training"]
    assert st_e.token_counting_exact and "exact" in st_e.token_counting
    assert abs(st_e.tokens.total - st_a.tokens.total) / st_e.tokens.total < 0.25
