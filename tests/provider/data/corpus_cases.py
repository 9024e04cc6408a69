"""The bad-file corpus: one case per rule, plus mixed and good files.

Each case says which lines the file has and exactly which findings (rule, line, message) the
validator must report — written by hand from the rules, not derived from the validator.
``python tests/provider/data/corpus_cases.py`` (re)writes tests/provider/data/corpus/ from here;
test_corpus.py checks that the files on disk match and that the findings are exactly these.
``dataset.few`` (fewer than 100 examples) is expected everywhere and left out of the lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus")
SYS = "You are Marv, a factual chatbot that is also sarcastic."
QUESTIONS = [
    ("What's the capital of France?", "Paris, as if everyone doesn't know that already."),
    ("Who wrote 'Romeo and Juliet'?", "Oh, just some guy named William Shakespeare."),
    ("How far is the Moon from Earth?", "Around 384,400 kilometers. Give or take."),
    ("What is the boiling point of water?", "100 °C at sea level. Shocking, I know."),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci, obviously."),
    ("What is 2 + 2?", "Four. Did you need a calculator for that?"),
    ("What's the largest ocean?", "The Pacific. It's kind of hard to miss."),
    ("How many legs does a spider have?", "Eight. Count them if you dare."),
    ("What language is spoken in Brazil?", "Portuguese. Not Spanish, surprisingly."),
    ("What is H2O?", "Water. You drink it every day."),
    ("Who was the first man on the Moon?", "Neil Armstrong, in 1969. Old news."),
    ("東京はどこの国の首都ですか？", "日本です。言うまでもなく。"),
]


def chat(i: int, **extra: object) -> dict:
    q, a = QUESTIONS[i % len(QUESTIONS)]
    if i >= len(QUESTIONS):
        q = f"{q} (variant {i})"
    return {
        "messages": [
            {"role": "system", "content": SYS},
            {"role": "user", "content": q},
            {"role": "assistant", "content": a},
        ],
        **extra,
    }


def line(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def good_lines(n: int = 12) -> list[str]:
    return [line(chat(i)) for i in range(n)]


def with_bad(bad: str | list[str], at: int = 5, n: int = 12) -> list[str]:
    """n good lines with ``bad`` inserted so that it is line ``at`` (1-based)."""
    lines = good_lines(n)
    bads = [bad] if isinstance(bad, str) else bad
    return lines[: at - 1] + bads + lines[at - 1 :]


def msgs(*m: dict, **extra: object) -> str:
    return line({"messages": list(m), **extra})


def S(content: object = SYS, **kw: object) -> dict:
    return {"role": "system", "content": content, **kw}


def U(content: object = "Hi", **kw: object) -> dict:
    return {"role": "user", "content": content, **kw}


def A(content: object = "Hello.", **kw: object) -> dict:
    return {"role": "assistant", "content": content, **kw}


def completion(i: int) -> str:
    q, a = QUESTIONS[i % len(QUESTIONS)]
    return line({"prompt": q + " ->", "completion": " " + a})


def dpo(i: int, **over: object) -> dict:
    q, a = QUESTIONS[i % len(QUESTIONS)]
    obj: dict = {
        "input": {"messages": [S(), U(q)]},
        "preferred_output": [A(a)],
        "non_preferred_output": [A("I don't know.")],
    }
    obj.update(over)
    return obj


def rft(i: int, **over: object) -> dict:
    """A reinforcement fine-tuning line: the prompt, and the reference the grader reads."""
    q, a = QUESTIONS[i % len(QUESTIONS)]
    obj: dict = {
        "messages": [{"role": "developer", "content": "Answer in one short sentence."}, U(q)],
        "reference_answer": a,
    }
    obj.update(over)
    return obj


RFT_MODEL = "o4-mini-2025-04-16"
GRADER = {
    "type": "score_model",
    "name": "matches the reference",
    "model": "o3-mini",
    "input": [{"role": "user", "content": "Answer: {{sample.output_text}}\nReference: {{ item.reference_answer }}"}],
}
RFT_HINT = (
    'a reinforcement fine-tuning line is {"messages": [...developer/system and user messages...], '
    '"<field>": ...}, with the fields the grader reads as {{item.<field>}}'
)

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def tool_example(i: int, *, call_id: str = "call_1", answer_id: str = "call_1",
                 name: str = "get_weather", arguments: object = '{"city": "Paris"}') -> str:
    return line(
        {
            "messages": [
                S("You are a weather bot."),
                U(f"Weather in city {i}?"),
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": arguments},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": answer_id, "content": '{"temp": 21}'},
                A(f"It is 21 degrees in city {i}."),
            ],
            "tools": TOOLS,
        }
    )


def vision_example(i: int, *, url: str = "https://example.com/cat.png", detail: str | None = None,
                   role: str = "user") -> str:
    image: dict = {"url": url}
    if detail is not None:
        image["detail"] = detail
    return line(
        {
            "messages": [
                S("You describe images."),
                {
                    "role": role,
                    "content": [
                        {"type": "text", "text": f"What is in picture {i}?"},
                        {"type": "image_url", "image_url": image},
                    ],
                },
                A(f"A cat, picture {i}."),
            ]
        }
    )


@dataclass
class Case:
    lines: list[str] | bytes
    expected: list[tuple[str, int | None, str]]
    model: str = "gpt-4o-mini-2024-07-18"
    method: str = "supervised"
    validation: list[str] | None = None
    expected_validation: list[tuple[str, int | None, str]] = field(default_factory=list)
    n_epochs: int | None = 3
    grader: dict | None = None

    def data(self) -> bytes:
        if isinstance(self.lines, bytes):
            return self.lines
        return ("\n".join(self.lines) + "\n").encode("utf-8") if self.lines else b""


ROLE_HINT = "use one of system, user, assistant, tool"
CHAT_NEEDS = 'gpt-4o-mini-2024-07-18 needs {"messages": [{"role": ..., "content": ...}, ...]}'
TOO_FEW = "only {n} example(s); a fine-tuning job needs at least 10 (hundreds to thousands are recommended)"

CASES: dict[str, Case] = {
    # ---------------------------------------------------------------- file / JSONL framing
    "file-empty.jsonl": Case([], [("file.empty", None, "the file has no examples; add at least 10")]),
    "file-utf16.jsonl": Case(
        "\n".join(good_lines()).encode("utf-16"),
        [("file.encoding", None, "the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8")],
    ),
    "file-bad-utf8.jsonl": Case(
        b"\n".join(
            [l.encode() for l in good_lines()[:3]]
            + [b'{"messages": [{"role": "user", "content": "caf\xe9"}, {"role": "assistant", "content": "ok"}]}']
            + [l.encode() for l in good_lines()[3:]]
        )
        + b"\n",
        [("file.encoding", 4, "byte 0xe9 at byte 47 of the line is not valid UTF-8; save the file as UTF-8")],
    ),
    "jsonl-blank-line.jsonl": Case(
        with_bad("", at=6),
        [("jsonl.blank_line", 6, "blank line; remove it (every line must be one JSON object)")],
    ),
    "jsonl-invalid-json.jsonl": Case(
        with_bad('{"messages": [{"role": "user", "content": "Hi"},]}', at=3),
        [("jsonl.invalid_json", 3, "line is not valid JSON: trailing comma in array (at byte 49 of the line); each line must be one complete JSON object")],
    ),
    "jsonl-not-object.jsonl": Case(
        with_bad(line([chat(0), chat(1)]), at=2),
        [("jsonl.not_object", 2, "line is a list, not a JSON object (it looks like a JSON array: write one object per line instead); every line must be one example object")],
    ),
    "jsonl-pretty-printed.jsonl": Case(
        with_bad(json.dumps(chat(40), indent=1).splitlines()[:2], at=12),
        [
            ("jsonl.invalid_json", 12, "line is not valid JSON: the line ends inside a JSON value (truncated, or the object spans lines); each line must be one complete JSON object"),
            ("jsonl.invalid_json", 13, "line is not valid JSON: trailing characters (at byte 13 of the line); each line must be one complete JSON object"),
        ],
    ),
    # ---------------------------------------------------------------- format
    "format-completion-for-chat.jsonl": Case(
        with_bad(completion(0), at=8),
        [("format.mismatch", 8, "line is in the prompt/completion format of babbage-002 and davinci-002; " + CHAT_NEEDS)],
    ),
    "format-dpo-for-chat.jsonl": Case(
        with_bad(line(dpo(0)), at=1),
        [("format.mismatch", 1, "line is in the DPO format; validate it with method dpo, or " + CHAT_NEEDS)],
    ),
    "format-chat-for-babbage.jsonl": Case(
        [completion(i) for i in range(11)] + [line(chat(0))],
        [("format.mismatch", 12, 'line is in the chat format; babbage-002 needs {"prompt": "...", "completion": "..."}')],
        model="babbage-002",
    ),
    # ---------------------------------------------------------------- chat structure
    "chat-messages-missing.jsonl": Case(
        with_bad(line({"conversation": [U(), A()]}), at=4),
        [("chat.messages.missing", 4, 'no "messages" key; each line must be {"messages": [{"role": ..., "content": ...}, ...]}')],
    ),
    "chat-messages-type.jsonl": Case(
        with_bad([line({"messages": {"role": "user"}}), line({"messages": []})], at=4),
        [
            ("chat.messages.type", 4, 'messages is an object; use a non-empty list of {"role": ..., "content": ...} messages'),
            ("chat.messages.type", 5, 'messages is an empty list; use a non-empty list of {"role": ..., "content": ...} messages'),
        ],
    ),
    "chat-message-type.jsonl": Case(
        with_bad(msgs(S(), U(), "Hello.", A()), at=4),
        [("chat.message.type", 4, 'messages[2] is a string; each message must be an object like {"role": "user", "content": "..."}')],
    ),
    "chat-message-key-unknown.jsonl": Case(
        with_bad([msgs(S(), U(), A(timestamp=3)), msgs(S(), U(tool_calls=[]), A())], at=9),
        [
            ("chat.message.key_unknown", 9, 'messages[2] has unknown key "timestamp"; a assistant message may only have role, content, name, weight, tool_calls, function_call, refusal'),
            ("chat.message.key_unknown", 10, 'messages[1] (user) has "tool_calls", which only assistant messages may have; remove it'),
        ],
    ),
    "chat-key-unknown.jsonl": Case(
        with_bad(line(chat(30, id="ex-30")), at=2),
        [("chat.key.unknown", 2, 'unknown top-level key "id"; a chat example has only messages, tools, parallel_tool_calls — remove it')],
    ),
    "chat-role-missing.jsonl": Case(
        with_bad(msgs(S(), {"content": "Hi"}, A()), at=7),
        [("chat.role.missing", 7, 'messages[1] has no "role"; ' + ROLE_HINT)],
    ),
    "chat-role-unknown.jsonl": Case(
        with_bad(msgs(S(), U(), {"role": "bot", "content": "Hello."}, A()), at=17, n=20),
        [("chat.role.unknown", 17, 'messages[2].role is "bot"; ' + ROLE_HINT)],
    ),
    "chat-content-missing.jsonl": Case(
        with_bad(msgs(S(), {"role": "user"}, A()), at=3),
        [("chat.content.missing", 3, 'messages[1] (user) has no "content"; add the message text')],
    ),
    "chat-content-type.jsonl": Case(
        with_bad(msgs(S(), U(42), A()), at=3),
        [("chat.content.type", 3, "messages[1].content is a number; content must be a string or a list of text/image_url parts")],
    ),
    "chat-content-empty.jsonl": Case(
        with_bad(msgs(S(), U(""), A()), at=3),
        [("chat.content.empty", 3, "messages[1] (user) has empty content; write the text or remove the message")],
    ),
    "chat-content-part.jsonl": Case(
        with_bad(msgs(S(), U([{"type": "audio", "data": "..."}]), A()), at=3),
        [("chat.content.part", 3, 'messages[1].content[0].type is "audio"; use "text" or "image_url"')],
        model="gpt-4o-2024-08-06",
    ),
    "chat-name-type.jsonl": Case(
        with_bad(msgs(S(), U(name=7), A()), at=3),
        [("chat.name.type", 3, "messages[1].name is a number; use a string")],
    ),
    "chat-weight-value.jsonl": Case(
        with_bad(msgs(S(), U(), A(weight=2), U("More?"), A("No.")), at=5),
        [("chat.weight.value", 5, "messages[2].weight is 2; use 0 (do not train on this message) or 1 (train on it)")],
    ),
    "chat-weight-role.jsonl": Case(
        with_bad(msgs(S(), U(weight=0), A()), at=5),
        [("chat.weight.role", 5, 'messages[1] (user) has "weight"; weight is only allowed on assistant messages — remove it')],
    ),
    "chat-assistant-missing.jsonl": Case(
        with_bad(msgs(S(), U()), at=11),
        [("chat.assistant.missing", 11, 'no assistant message; add at least one {"role": "assistant", "content": ...} for the model to learn from')],
    ),
    "chat-assistant-no-trainable.jsonl": Case(
        with_bad(msgs(S(), U(), A(weight=0), U("And?"), A("Nothing.", weight=0)), at=11),
        [("chat.assistant.no_trainable", 11, 'every assistant message has "weight": 0, so there is nothing to learn; set "weight": 1 (or remove "weight") on at least one')],
    ),
    # ---------------------------------------------------------------- vision
    "chat-image-unsupported-model.jsonl": Case(
        [vision_example(i) for i in range(12)],
        [
            ("chat.image.unsupported_model", i, "messages[1].content[1] is an image, but gpt-4o-mini-2024-07-18 has no vision fine-tuning; use gpt-4o-2024-08-06 or gpt-4.1, or remove the image")
            for i in range(1, 13)
        ],
        model="gpt-4o-mini-2024-07-18",
    ),
    "chat-image-role.jsonl": Case(
        [vision_example(i) for i in range(11)] + [vision_example(11, role="system")],
        [("chat.image.role", 12, "messages[1].content[1] is an image in a system message; images are only allowed in user messages")],
        model="gpt-4o-2024-08-06",
    ),
    "chat-image-url.jsonl": Case(
        [vision_example(i) for i in range(10)]
        + [vision_example(10, url="http://example.com/cat.png"), vision_example(11, url="data:image/gif;base64,R0lGOD")],
        [
            ("chat.image.url", 11, 'messages[1].content[1].image_url.url is "http://example.com/cat.png"; use a public https:// URL or a base64 data URL (data:image/png;base64,...)'),
            ("chat.image.url", 12, 'messages[1].content[1].image_url.url is a data URL of "image/gif"; use data:image/jpeg|png|webp;base64,...'),
        ],
        model="gpt-4.1-2025-04-14",
    ),
    "chat-image-detail.jsonl": Case(
        [vision_example(i, detail="low") for i in range(11)] + [vision_example(11, detail="ultra")],
        [("chat.image.detail", 12, 'messages[1].content[1].image_url.detail is "ultra"; use low, high or auto')],
        model="gpt-4o-2024-08-06",
    ),
    "chat-image-count.jsonl": Case(
        good_lines(11)
        + [msgs(S(), U([{"type": "image_url", "image_url": {"url": f"https://example.com/{k}.png"}} for k in range(65)]), A())],
        [("chat.image.count", 12, "example has 65 images; at most 64 are allowed — split it")],
        model="gpt-4o-2024-08-06",
    ),
    # ---------------------------------------------------------------- tools
    "chat-tools-type.jsonl": Case(
        [tool_example(i) for i in range(11)]
        + [line({"messages": [S("You are a weather bot."), U(), A()], "tools": [{"type": "function", "function": {"description": "x"}}]})],
        [("chat.tools.type", 12, 'tools[0].function needs a "name" string (and usually "description" and "parameters")')],
    ),
    "chat-tool-calls-type.jsonl": Case(
        [tool_example(i) for i in range(11)]
        + [msgs(S("You are a weather bot."), U(), {"role": "assistant", "tool_calls": {"id": "x"}}, A(), tools=TOOLS)],
        [("chat.tool_calls.type", 12, 'messages[2].tool_calls is an object; use a list of {"id": ..., "type": "function", "function": {"name": ..., "arguments": "..."}}')],
    ),
    "chat-tool-calls-arguments.jsonl": Case(
        [tool_example(i) for i in range(10)]
        + [tool_example(10, arguments={"city": "Paris"}), tool_example(11, arguments='{"city": Paris}')],
        [
            ("chat.tool_calls.arguments", 11, "messages[2].tool_calls[0].function.arguments is an object; arguments must be a string holding JSON (serialize the object)"),
            ("chat.tool_calls.arguments", 12, "messages[2].tool_calls[0].function.arguments is not valid JSON (invalid character (byte 9)); it must be a string holding a JSON object"),
        ],
    ),
    "chat-tool-calls-undefined.jsonl": Case(
        [tool_example(i) for i in range(11)] + [tool_example(11, name="get_time")],
        [("chat.tool_calls.undefined", 12, 'messages[2].tool_calls[0] calls "get_time", which is not in this example\'s tools; add its definition to tools')],
    ),
    "chat-tool-call-id.jsonl": Case(
        [tool_example(i) for i in range(10)]
        + [tool_example(10, answer_id="call_9"),
           line({"messages": [S("You are a weather bot."), U(), {"role": "tool", "content": "{}"}, A()], "tools": TOOLS})],
        [
            ("chat.tool.call_id", 11, 'messages[3].tool_call_id "call_9" matches no earlier assistant tool_calls id; answer a tool call made earlier in the conversation'),
            ("chat.tool.call_id", 12, 'messages[2] (tool) has no "tool_call_id" string; set it to the id of the assistant tool call it answers'),
        ],
    ),
    # ---------------------------------------------------------------- completion (babbage-002 / davinci-002)
    "completion-key-missing.jsonl": Case(
        [completion(i) for i in range(11)] + [line({"prompt": "Hi ->"})],
        [("completion.key.missing", 12, 'no "completion"; each line must be {"prompt": "...", "completion": "..."}')],
        model="davinci-002",
    ),
    "completion-key-unknown.jsonl": Case(
        [completion(i) for i in range(11)] + [line({"prompt": "Hi ->", "completion": " Hello", "label": 1})],
        [("completion.key.unknown", 12, 'unknown key "label"; a line has only "prompt" and "completion"')],
        model="babbage-002",
    ),
    "completion-type.jsonl": Case(
        [completion(i) for i in range(11)] + [line({"prompt": ["Hi"], "completion": " Hello"})],
        [("completion.type", 12, "prompt is a list; use a string")],
        model="babbage-002",
    ),
    "completion-empty.jsonl": Case(
        [completion(i) for i in range(11)] + [line({"prompt": "Hi ->", "completion": ""})],
        [("completion.empty", 12, "completion is empty, so there is nothing to learn; write the expected output")],
        model="babbage-002",
    ),
    # ---------------------------------------------------------------- DPO
    "dpo-key-missing.jsonl": Case(
        [line(dpo(i)) for i in range(11)] + [line({"input": {"messages": [U()]}, "preferred_output": [A()]})],
        [("dpo.key.missing", 12, 'no "non_preferred_output"; a DPO line is {"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}')],
        model="gpt-4o-2024-08-06", method="dpo",
    ),
    "dpo-key-unknown.jsonl": Case(
        [line(dpo(i)) for i in range(11)] + [line(dpo(11, score=0.9))],
        [("dpo.key.unknown", 12, 'unknown top-level key "score"; a DPO line has only input, preferred_output, non_preferred_output')],
        model="gpt-4o-2024-08-06", method="dpo",
    ),
    "dpo-input-type.jsonl": Case(
        [line(dpo(i)) for i in range(11)] + [line(dpo(11, input=[U()]))],
        [("dpo.input.type", 12, 'input is a list; use {"messages": [...system and user messages...]}')],
        model="gpt-4o-2024-08-06", method="dpo",
    ),
    "dpo-input-last-role.jsonl": Case(
        [line(dpo(i)) for i in range(11)] + [line(dpo(11, input={"messages": [S(), U(), A("Sure.")]}))],
        [("dpo.input.last_role", 12, "input.messages ends with a assistant message; end it with the user turn that the outputs answer")],
        model="gpt-4o-2024-08-06", method="dpo",
    ),
    "dpo-output-type.jsonl": Case(
        [line(dpo(i)) for i in range(11)] + [line(dpo(11, preferred_output=A("x")))],
        [("dpo.output.type", 12, 'preferred_output is an object; use a list with one {"role": "assistant", "content": ...}')],
        model="gpt-4o-2024-08-06", method="dpo",
    ),
    "dpo-output-role.jsonl": Case(
        [line(dpo(i)) for i in range(11)] + [line(dpo(11, non_preferred_output=[U("x")]))],
        [
            ("dpo.output.role", 12, 'non_preferred_output[0].role is "user"; outputs hold only assistant (and tool) messages'),
            ("dpo.output.type", 12, "non_preferred_output has no assistant message; add the assistant response"),
        ],
        model="gpt-4o-2024-08-06", method="dpo",
    ),
    "dpo-output-identical.jsonl": Case(
        [line(dpo(i)) for i in range(11)] + [line(dpo(11, non_preferred_output=[A("Japan.")], preferred_output=[A("Japan.")]))],
        [("dpo.output.identical", 12, "preferred_output and non_preferred_output are the same, so there is no preference to learn; make them differ")],
        model="gpt-4o-2024-08-06", method="dpo",
    ),
    # ---------------------------------------------------------------- reinforcement (RFT)
    "rft-messages-missing.jsonl": Case(
        [line(rft(i)) for i in range(11)] + [line({"question": "2 + 2?", "reference_answer": "4"})],
        [("rft.messages.missing", 12, 'no "messages" (the prompt); ' + RFT_HINT)],
        model=RFT_MODEL, method="reinforcement",
    ),
    "rft-messages-last-role.jsonl": Case(
        [line(rft(i)) for i in range(11)] + [line(rft(11, messages=[U("2 + 2?"), A("4")]))],
        [("rft.messages.last_role", 12, "messages ends with an assistant message; reinforcement data holds the prompt only (the model writes the answer and the grader scores it): end with the user turn and move a reference answer to a top-level field the grader reads")],
        model=RFT_MODEL, method="reinforcement",
    ),
    "rft-item-missing.jsonl": Case(
        [line(rft(i)) for i in range(11)] + [line({"messages": [U("2 + 2?")], "answer": "4"})],
        [("rft.item.missing", 12, 'no "reference_answer", which the grader reads as {{item.reference_answer}} (fields of this line: answer); add it to every line')],
        model=RFT_MODEL, method="reinforcement", grader=GRADER,
    ),
    "rft-item-none.jsonl": Case(
        [line({"messages": rft(i)["messages"]}) for i in range(12)],
        [("rft.item.none", None, 'no line has fields beside messages; graders usually compare the answer with a reference the data gives, read as {{item.<field>}} (e.g. "reference_answer")')],
        model=RFT_MODEL, method="reinforcement",
    ),
    "rft-weight.jsonl": Case(
        [line(rft(i)) for i in range(11)] + [line(rft(11, messages=[U("Hi"), A("Hello.", weight=1), U("2 + 2?")]))],
        [("chat.message.key_unknown", 12, 'messages[1] has "weight", which reinforcement data does not use; remove it')],
        model=RFT_MODEL, method="reinforcement",
    ),
    "rft-role-unknown.jsonl": Case(
        [line(rft(i)) for i in range(11)] + [line(rft(11, messages=[{"role": "grader", "content": "x"}, U("2 + 2?")]))],
        [("chat.role.unknown", 12, 'messages[0].role is "grader"; use one of developer, system, user, assistant, tool')],
        model=RFT_MODEL, method="reinforcement",
    ),
    "format-dpo-for-rft.jsonl": Case(
        [line(rft(i)) for i in range(11)] + [line(dpo(11))],
        [("format.mismatch", 12, "line is in the DPO format; " + RFT_HINT)],
        model=RFT_MODEL, method="reinforcement",
    ),
    "chat-role-developer.jsonl": Case(
        with_bad(msgs({"role": "developer", "content": SYS}, U(), A()), at=3),
        [("chat.role.unknown", 3, 'messages[0].role is "developer"; ' + ROLE_HINT)],
    ),
    # ---------------------------------------------------------------- data set level
    "dataset-too-few.jsonl": Case(good_lines(5), [("dataset.too_few", None, TOO_FEW.format(n=5))]),
    "dataset-duplicate.jsonl": Case(
        good_lines(12) + [line(chat(3))],
        [("dataset.duplicate", 13, "example repeats line 4 exactly; remove duplicates (they over-weight one example)")],
    ),
    "dataset-system-varies.jsonl": Case(
        good_lines(9) + [msgs(S("You are a helpful assistant."), U(), A()), msgs(U("Yo"), A("Yo."))] + good_lines(12)[9:],
        [("dataset.system_varies", 10, 'the system message differs between examples (3 variants: "You are Marv, a factual chatbot that ..." in 12 from line 1; "You are a helpful assistant." in 1 from line 10; none in 1 from line 11); use one system message, the same you will use at inference')],
    ),
    "dataset-overlap-train.jsonl": Case(
        good_lines(12),
        [],
        validation=[line(chat(20)), line(chat(2)), line(chat(21))],
        expected_validation=[("dataset.overlap", 2, "validation example is also line 3 of the training file; remove it from one of them so validation measures unseen data")],
    ),
    "example-too-long.jsonl": Case(
        with_bad(msgs(S(), U("lorem ipsum " * 1500), A()), at=7),
        [("example.too_long", 7, "example has about 4,531 tokens, over the 4,096 tokens per example of gpt-35-turbo-0613; the service truncates it — shorten or split the conversation")],
        model="gpt-35-turbo-0613",
    ),
    # ---------------------------------------------------------------- mixed files
    "mixed-chat.jsonl": Case(
        good_lines(3)
        + [
            msgs(S(), {"role": "bot", "content": "x"}, A(weight=2)),
            "",
            '{"messages": [',
            msgs(U(weight=1), {"role": "assistant"}),
            line(chat(0)),
        ]
        + good_lines(12)[3:],
        [
            ("chat.role.unknown", 4, 'messages[1].role is "bot"; ' + ROLE_HINT),
            ("chat.weight.value", 4, "messages[2].weight is 2; use 0 (do not train on this message) or 1 (train on it)"),
            ("jsonl.blank_line", 5, "blank line; remove it (every line must be one JSON object)"),
            ("jsonl.invalid_json", 6, "line is not valid JSON: the line ends inside a JSON value (truncated, or the object spans lines); each line must be one complete JSON object"),
            ("chat.content.missing", 7, 'messages[1] (assistant) has no "content"; add the message text'),
            ("chat.weight.role", 7, 'messages[0] (user) has "weight"; weight is only allowed on assistant messages — remove it'),
            ("dataset.duplicate", 8, "example repeats line 1 exactly; remove duplicates (they over-weight one example)"),
        ],
    ),
    "mixed-dpo.jsonl": Case(
        [line(dpo(i)) for i in range(10)]
        + [line(chat(0)), line(dpo(10, preferred_output=[]) ), "[]"],
        [
            ("format.mismatch", 11, 'line is in the supervised chat format; DPO needs {"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]} (or validate with method supervised)'),
            ("dpo.output.type", 12, 'preferred_output is an empty list; use a list with one {"role": "assistant", "content": ...}'),
            ("jsonl.not_object", 13, "line is a list, not a JSON object; every line must be one example object"),
        ],
        model="gpt-4.1-mini-2025-04-14", method="dpo",
    ),
    # ---------------------------------------------------------------- good files
    "good-chat.jsonl": Case(good_lines(12), []),
    "good-bom-crlf.jsonl": Case(
        b"\xef\xbb\xbf" + "\r\n".join(good_lines(12)).encode("utf-8"),  # no final newline either
        [],
    ),
    "good-multiturn-weights.jsonl": Case(
        [msgs(S(), U(q), A("Hmm.", weight=0), U("Be more sarcastic."), A(a, weight=1)) for q, a in QUESTIONS],
        [],
        model="gpt-35-turbo-0125",
    ),
    "good-completion.jsonl": Case([completion(i) for i in range(12)], [], model="davinci-002"),
    "good-dpo.jsonl": Case([line(dpo(i)) for i in range(12)], [], model="gpt-4o-2024-08-06", method="dpo"),
    "good-tools.jsonl": Case([tool_example(i) for i in range(12)], []),
    "good-rft.jsonl": Case([line(rft(i)) for i in range(12)], [], model=RFT_MODEL, method="reinforcement",
                           grader=GRADER),
    "good-vision.jsonl": Case(
        [vision_example(i, detail="high" if i % 2 else None) for i in range(11)]
        + [vision_example(11, url="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")],
        [],
        model="gpt-4o-2024-08-06",
    ),
}


def write_corpus() -> None:
    CORPUS.mkdir(exist_ok=True)
    for name, case in CASES.items():
        (CORPUS / name).write_bytes(case.data())
        if case.validation is not None:
            vname = name.replace("-train.jsonl", "-validation.jsonl")
            (CORPUS / vname).write_bytes(("\n".join(case.validation) + "\n").encode("utf-8"))


if __name__ == "__main__":
    write_corpus()
