"""The case file: valid files, and every hostile input reported with file, line and field."""

from __future__ import annotations

import json

import pytest

from pulumi_aoai_finetune.evaluation import cases as cases_mod
from pulumi_aoai_finetune.evaluation.cases import read_cases

USER = [{"role": "user", "content": "How do I reset my password?"}]


def case(**overrides) -> dict:
    out = {"id": "c", "messages": USER, "expect": {"contains": "Settings"}}
    out.update(overrides)
    return {k: v for k, v in out.items() if v is not None}


def write(tmp_path, lines, name="cases.jsonl"):
    path = tmp_path / name
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text("".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines), encoding="utf-8")
    return str(path)


def test_a_valid_file_is_read_hashed_and_counted(tmp_path):
    lines = [case(id=f"c{i}", reference="Open Settings.", expect={
        "exact": "Open Settings.", "contains": ["Open", "Settings"], "not_contains": "sorry", "regex": r"^Open\b",
        "json": {"schema": {"type": "string"}}, "ignore_case": True}) for i in range(3)]
    lines.append({"messages": [{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": [{"type": "text", "text": "Hi"},
                                                            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
                               {"role": "assistant", "content": "Hello."},
                               {"role": "user", "content": "Where are settings?"}],
                  "expect": {"json": True}})
    path = write(tmp_path, lines)
    report = read_cases(path)
    assert report.ok, report.summary()
    assert report.count == 4 and [c.id for c in report.cases] == ["c0", "c1", "c2", "line-4"]
    assert report.cases[0].expect["contains"] == ["Open", "Settings"]
    assert report.cases[0].expect["not_contains"] == ["sorry"]
    assert report.cases[3].expect["json"] == {"schema": None}
    assert report.graders == {"exact": 3, "contains": 3, "not_contains": 3, "regex": 3, "json": 4}
    import hashlib

    assert report.sha256 == hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert report.prompt_tokens > 0
    assert read_cases(path, keep=False).cases == []


def test_bom_crlf_and_blank_lines_are_accepted(tmp_path):
    data = b"\xef\xbb\xbf" + json.dumps(case()).encode() + b"\r\n\r\n" + json.dumps(case(id="d")).encode()
    report = read_cases(write(tmp_path, data))
    assert report.ok and report.count == 2


@pytest.mark.parametrize("line, where, fragment", [
    ("not json", "", "not valid JSON"),
    ('{"messages": [], "expect": {"contains": "x"}, "x": NaN}', "", "not valid JSON"),
    ("[1, 2]", "", "a JSON list, not an object"),
    (case(expcet={"contains": "x"}), "expcet", "unknown key"),
    (case(id=""), "id", "printable characters"),
    (case(id="a\nb"), "id", "printable characters"),
    (case(id="x" * 200), "id", "printable characters"),
    (case(messages=None), "messages", "is required"),
    (case(messages=[]), "messages", "non-empty list"),
    (case(messages="hello"), "messages", "non-empty list"),
    (case(messages=[{"role": "robot", "content": "x"}]), "messages[0].role", "use one of system, user, assistant"),
    (case(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]),
     "messages[1].role", "must end with a user message"),
    (case(messages=[{"role": "user", "content": "  "}]), "messages[0].content", "is empty"),
    (case(messages=[{"role": "user", "content": 42}]), "messages[0].content", "a string or a non-empty list"),
    (case(messages=[{"role": "user", "content": [{"type": "audio"}]}]), "messages[0].content[0].type", "takes"),
    (case(messages=[{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]},
                    {"role": "user", "content": "q"}]), "messages[0].content[0].type", "system message takes text"),
    (case(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]),
     "messages[0].content[0].image_url.url", "https URL"),
    (case(messages=[{"role": "user", "content": "q", "tool_calls": []}]), "messages[0].tool_calls", "not supported"),
    (case(messages=[{"role": "tool", "content": "q"}]), "messages[0].role", "use one of"),
    (case(messages=[{"role": "developer", "content": "be brief"}, {"role": "user", "content": "q"}]),
     "messages[0].role", "no developer role"),
    (case(expect=None), "expect", "is required"),
    (case(expect="contains"), "expect", "must be an object"),
    (case(expect={}), "expect", "has no grader"),
    (case(expect={"ignore_case": True}), "expect", "has no grader"),
    (case(expect={"contain": "x"}), "expect.contain", "unknown grader"),
    (case(expect={"exact": 3}), "expect.exact", "must be a string"),
    (case(expect={"contains": []}), "expect.contains", "non-empty string"),
    (case(expect={"contains": ["a", ""]}), "expect.contains", "non-empty string"),
    (case(expect={"not_contains": [1]}), "expect.not_contains", "non-empty string"),
    (case(expect={"contains": ["x"] * 101}), "expect.contains", "1 to 100"),
    (case(expect={"regex": "(unclosed"}), "expect.regex", "not a valid regular expression"),
    (case(expect={"regex": ""}), "expect.regex", "non-empty string"),
    (case(expect={"regex": "a" * 1001}), "expect.regex", "at most 1000"),
    (case(expect={"json": "yes"}), "expect.json", "must be true"),
    (case(expect={"json": {"schema": {"type": "nonsense"}}}), "expect.json.schema", "not a valid JSON Schema"),
    (case(expect={"json": {"schema": {"$ref": "https://example.com/s.json"}}}), "expect.json.schema",
     "nothing is fetched"),
    (case(expect={"model": True}), "expect.model", "none is configured"),
    (case(expect={"model": {"rubric": ""}}), "expect.model", "non-empty rubric"),
    (case(expect={"contains": "x", "ignore_case": "yes"}), "expect.ignore_case", "true or false"),
    (case(reference=["a"]), "reference", "must be a string"),
])
def test_each_problem_names_file_line_and_field(tmp_path, line, where, fragment):
    path = write(tmp_path, [case(id="first"), line])
    report = read_cases(path)
    assert not report.ok
    finding = report.findings[0]
    assert (finding.file, finding.line, finding.field) == (path, 2, where), str(finding)
    assert fragment in finding.message, str(finding)
    assert str(finding).startswith(f"{path}:2: ")
    assert report.count == 1  # the bad case is not counted, the good one is


def test_duplicate_ids_name_the_first_line(tmp_path):
    report = read_cases(write(tmp_path, [case(id="same"), case(id="other"), case(id="same")]))
    assert [str(f).split(": ", 1)[1] for f in report.findings] == [
        "id: 'same' is already the id of line 1; ids must be unique"]


def test_the_developer_role_with_an_api_version_that_has_it(tmp_path):
    line = case(messages=[{"role": "developer", "content": "be brief"}, {"role": "user", "content": "q"}])
    assert read_cases(write(tmp_path, [line]), api_version="2025-04-01-preview").ok


def test_a_model_grader_case_with_a_judge(tmp_path):
    report = read_cases(write(tmp_path, [case(expect={"model": {"rubric": "Names the page."}})]), model_grader=True)
    assert report.ok and report.cases[0].expect["model"] == {"rubric": "Names the page."}


@pytest.mark.parametrize("data, fragment", [
    (b"", "no cases"),
    (b"\n\n  \n", "no cases"),
    (b"\xff\xfe\x00binary\x00\x01\n", "not valid UTF-8"),
    (json.dumps(case()).encode("utf-16"), "not valid UTF-8"),
    (b"[" * 100_000 + b"\n", "nested too deeply"),
])
def test_hostile_files(tmp_path, data, fragment):
    report = read_cases(write(tmp_path, data))
    assert not report.ok and fragment in report.summary(), report.summary()


def test_a_huge_line_is_measured_not_held(tmp_path, monkeypatch):
    monkeypatch.setattr(cases_mod, "MAX_LINE_BYTES", 4096)
    big = json.dumps(case(id="big", reference="x" * 50_000))
    report = read_cases(write(tmp_path, [case(id="a"), big, case(id="b")]))
    assert report.count == 2 and report.problems == 1
    assert str(report.findings[0]).startswith(f"{tmp_path}/cases.jsonl:2: a line longer than 4 KiB")


def test_limits_on_cases_size_and_findings(tmp_path, monkeypatch):
    monkeypatch.setattr(cases_mod, "MAX_CASES", 5)
    report = read_cases(write(tmp_path, [case(id=f"c{i}") for i in range(8)]))
    assert report.count == 5 and "more than 5 cases" in report.summary()
    monkeypatch.setattr(cases_mod, "MAX_BYTES", 1000)
    report = read_cases(write(tmp_path, [case(id=f"c{i}") for i in range(30)]))
    assert "larger than" in report.summary()
    monkeypatch.setattr(cases_mod, "MAX_FINDINGS", 3)
    report = read_cases(write(tmp_path, ["bad"] * 10))
    assert report.problems == 10 and len(report.findings) == 3
    assert report.summary(max_lines=2).endswith("... and 8 more")


def test_an_unreadable_path(tmp_path):
    report = read_cases(str(tmp_path / "missing.jsonl"))
    assert not report.ok and "cannot be read" in report.summary()
