"""Every corpus file gives exactly the findings written in corpus_cases.py."""

from __future__ import annotations

import pytest

from corpus_cases import CASES, CORPUS, Case
from pulumi_aoai_finetune.data import RULES, validate_file

IGNORED = {"dataset.few"}  # every small corpus file has it


def _found(report, file: str) -> list[tuple[str, int | None, str]]:
    return [
        (f.rule, f.line, f.message)
        for f in report.findings
        if f.file == file and f.rule not in IGNORED
    ]


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file_matches_cases(name: str) -> None:
    """The files on disk are the ones corpus_cases.py describes (regenerate with it)."""
    assert (CORPUS / name).read_bytes() == CASES[name].data()


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_findings(name: str) -> None:
    case: Case = CASES[name]
    path = CORPUS / name
    vpath = None
    if case.validation is not None:
        vpath = CORPUS / name.replace("-train.jsonl", "-validation.jsonl")
    report = validate_file(
        path, model=case.model, method=case.method, validation_path=vpath, n_epochs=case.n_epochs,
        grader=case.grader,
    )
    assert _found(report, str(path)) == case.expected
    if vpath is not None:
        assert _found(report, str(vpath)) == case.expected_validation
    expected_ok = all(RULES[r][0] == "warning" for r, _, _ in case.expected + case.expected_validation)
    assert report.ok is expected_ok
    # the exact counts agree with the kept findings (nothing is capped in the corpus)
    for rule, _, _ in case.expected:
        assert report.counts[rule] == sum(1 for r, _, _ in case.expected if r == rule)


def test_every_rule_is_exercised() -> None:
    """Each rule has a corpus file or a dedicated test (listed here)."""
    elsewhere = {
        "file.unreadable",  # test_data_validator.py
        "file.size",  # test_data_validator.py (limit lowered)
        "jsonl.line_too_long",  # test_data_validator.py (limit lowered)
        "chat.image.size",  # test_data_validator.py (an 11 MB data URL is built in memory)
        "dataset.few",  # test_data_validator.py
        "dataset.token_budget",  # test_data_validator.py
        "model.unknown",  # test_data_validator.py
        "model.method",  # test_data_validator.py
        "model.method_undocumented",  # test_data_validator.py
    }
    covered = {r for c in CASES.values() for r, _, _ in c.expected + c.expected_validation}
    assert set(RULES) - covered - elsewhere == set()


def test_message_format_names_file_and_line() -> None:
    case = CASES["chat-role-unknown.jsonl"]
    report = validate_file(CORPUS / "chat-role-unknown.jsonl", model=case.model)
    (finding,) = [f for f in report.findings if f.rule == "chat.role.unknown"]
    assert str(finding) == (
        f'{CORPUS / "chat-role-unknown.jsonl"}:17: messages[2].role is "bot"; use one of system, '
        "user, assistant, tool"
    )
