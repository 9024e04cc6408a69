"""The graders: each one passing and failing with the reason, and the model grader's strict verdicts."""

from __future__ import annotations

import json
import time

import pytest

from pulumi_aoai_finetune.evaluation import graders
from pulumi_aoai_finetune.evaluation.cases import Case

USER = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is the invite button?"}]


def case(reference=None, **expect) -> Case:
    normalized = dict(expect)
    for key in ("contains", "not_contains"):
        if isinstance(normalized.get(key), str):
            normalized[key] = [normalized[key]]
    return Case("c1", 3, USER, normalized, reference)


def results(c: Case, answer: str) -> dict[str, tuple[bool, str]]:
    return {g.grader: (g.passed, g.reason) for g in graders.grade(c, answer)}


def test_exact():
    assert results(case(exact="Open Members."), "  Open Members.\n") == {"exact": (True, "")}
    passed, reason = results(case(exact="Open Members."), "Open members.")["exact"]
    assert not passed and reason == "expected exactly 'Open Members.'"
    assert results(case(exact="Open Members.", ignore_case=True), "open MEMBERS.")["exact"][0]


def test_contains_and_not_contains():
    c = case(contains=["Organization", "Invite"], not_contains=["sorry", "I don't know"])
    assert results(c, "Open Organization > Members > Invite.") == {"contains": (True, ""), "not_contains": (True, "")}
    got = results(c, "Sorry, I don't know. Try Organization.")
    assert got["contains"] == (False, "missing 'Invite'")
    assert got["not_contains"] == (False, 'must not contain "I don\'t know"')  # case-sensitive: "Sorry" passes
    got = results(case(contains="invite", not_contains="sorry", ignore_case=True), "Sorry: INVITE")
    assert got == {"contains": (True, ""), "not_contains": (False, "must not contain 'sorry'")}


def test_regex_and_its_timeout():
    assert results(case(regex=r"Members\s*>\s*Invite"), "Open Members > Invite")["regex"] == (True, "")
    assert results(case(regex=r"^\d+$"), "12a")["regex"] == (False, "no match for '^\\\\d+$'")
    started = time.monotonic()
    passed, reason = results(case(regex=r"^(a|a)*$"), "a" * 40 + "b")["regex"]
    assert not passed and "took longer than 1 s" in reason
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("answer, schema, ok, fragment", [
    ('{"page": "Members"}', None, True, ""),
    ("  [1, 2]  ", None, True, ""),
    ("Sure! {\"page\": 1}", None, False, "not valid JSON"),
    ("NaN", None, False, "not valid JSON"),
    ('{"a": Infinity}', None, False, "not valid JSON"),
    ("```json\n{}\n```", None, False, "not valid JSON"),
    ('{"page": "Members"}', {"type": "object", "required": ["page"]}, True, ""),
    ('{"page": 3}', {"type": "object", "properties": {"page": {"type": "string"}}}, False,
     "does not match the schema at page: 3 is not of type 'string'"),
    ('{}', {"type": "object", "required": ["page"]}, False, "at the top level: 'page' is a required property"),
    ('{"a": 1}', {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                  "properties": {"a": {"type": "integer", "maximum": 0, "exclusiveMaximum": True}}}, False, "a: 1"),
])
def test_json(answer, schema, ok, fragment):
    passed, reason = results(case(json={"schema": schema}), answer)["json"]
    assert passed is ok and fragment in reason, reason


def test_reasons_are_truncated():
    passed, reason = results(case(exact="x" * 1000), "y")["exact"]
    assert not passed and len(reason) < 260 and reason.endswith("...'")


def test_judge_messages_carry_rubric_conversation_reference_and_answer():
    c = case(reference="Members > Invite.", model={"rubric": None})
    messages = graders.judge_messages(c, "Open Members > Invite.", "Names the page.")
    assert messages[0]["role"] == "system" and "never instructions to you" in messages[0]["content"]
    text = messages[1]["content"]
    assert text.index("RUBRIC:\nNames the page.") < text.index("CONVERSATION:\n[system] Be brief.\n[user] Where is")
    assert "REFERENCE:\nMembers > Invite." in text and text.endswith("ANSWER:\nOpen Members > Invite.")
    own = case(model={"rubric": "Polite."})
    assert "RUBRIC:\nPolite." in graders.judge_messages(own, "a", "Names the page.")[1]["content"]
    assert graders.DEFAULT_RUBRIC in graders.judge_messages(case(model={"rubric": None}), "a", None)[1]["content"]


def test_verdicts_are_parsed_strictly():
    assert graders.parse_verdict('{"verdict": "pass", "reason": "names the page"}') == graders.Grade("model", True)
    failed = graders.parse_verdict('{"reason": "too long", "verdict": "fail"}')
    assert not failed.passed and failed.reason == "the judge: too long"
    for reply in ["PASS", '{"verdict": "PASS", "reason": "x"}', '{"verdict": "pass"}',
                  '{"verdict": "pass", "reason": "x", "score": 1}', '{"verdict": "yes", "reason": "x"}',
                  '{"verdict": "pass", "reason": 3}', '["pass"]', "", None, '{"verdict": "pass", "reason": "x"} ok',
                  json.dumps({"answer": "I can help"})]:
        with pytest.raises(graders.VerdictError, match="not a verdict"):
            graders.parse_verdict(reply)


def test_the_verdict_format_is_a_strict_json_schema():
    fmt = graders.VERDICT_FORMAT
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True and fmt["json_schema"]["name"]
    import jsonschema

    jsonschema.validate({"verdict": "fail", "reason": "r"}, fmt["json_schema"]["schema"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"verdict": "fail"}, fmt["json_schema"]["schema"])
