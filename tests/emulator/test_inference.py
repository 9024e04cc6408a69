"""Chat completions on deployments, through the real openai client: the request contract
(``ChatCompletions_Create`` of the 2024-10-21 inference spec) and the deterministic answers (a
fine-tuned model recalls its training data, more reliably with more epochs; base models answer
generically)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from .conftest import advance, arm_deployment, make_arm, make_openai
from .data_helpers import jsonl
from pulumi_aoai_finetune_emulator import inference

RG = "aoai-emulator"
SYSTEM = "You answer questions about the Contoso console."


def _example(i: int) -> dict:
    return {"messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": f"Where is setting number {i}?"},
                         {"role": "assistant", "content": f"Setting {i} is under Admin > Panel {i}."}]}


def _ask(i: int, system: str = SYSTEM) -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": f"Where is setting number {i}?"}]


def _train_and_deploy(emulator, control, *, n: int = 40, n_epochs: int = 3, deployment: str = "ft",
                      base: str = "gpt-4o-mini-2024-07-18", data: bytes | None = None, seed: int = 7) -> str:
    client = make_openai(emulator)
    training = client.files.create(file=("train.jsonl", data or jsonl(_example(i) for i in range(n))),
                                   purpose="fine-tune")
    advance(control, 60)
    job = client.fine_tuning.jobs.create(model=base, training_file=training.id, seed=seed,
                                         hyperparameters={"n_epochs": n_epochs})
    advance(control, 8 * 3600)
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded", job
    make_arm(emulator).deployments.begin_create_or_update(RG, "aoai-ncus", deployment,
                                                          arm_deployment(job.fine_tuned_model, "1")).result()
    return job.fine_tuned_model


def _recalled(client, deployment: str, n: int = 40) -> int:
    hits = 0
    for i in range(n):
        reply = client.chat.completions.create(model=deployment, messages=_ask(i), temperature=0)
        hits += reply.choices[0].message.content == f"Setting {i} is under Admin > Panel {i}."
    return hits


CHAT_URL = "/accounts/aoai-ncus/openai/deployments/chat/chat/completions"


def deploy_chat(emulator) -> None:
    """A deployment ``chat`` of the base gpt-4o-mini on aoai-ncus."""
    make_arm(emulator).deployments.begin_create_or_update(RG, "aoai-ncus", "chat",
                                                          arm_deployment("gpt-4o-mini", "2024-07-18")).result()


def post_chat(control, body, api_version: str = "2024-10-21"):
    """A raw chat completions request to ``chat`` (bodies the SDK would not send)."""
    return control.post(CHAT_URL, params={"api-version": api_version}, headers={"api-key": "k"}, json=body)


def test_a_base_model_answers_generically_and_the_answer_follows_the_spec(emulator, control):
    deploy_chat(emulator)
    client = make_openai(emulator)
    reply = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "Ping?"}])
    assert reply.choices[0].message.content == inference.GENERIC_ANSWER
    assert reply.object == "chat.completion" and reply.choices[0].finish_reason == "stop"
    assert "aoai-ncus/chat" in emulator.backend.store["activity"]  # the 15-day inactivity rule reads it
    raw = post_chat(control, {"messages": [{"role": "user", "content": "Ping?"}]}).json()
    # createChatCompletionResponse: required choices, created, id, model, object; a choice's
    # finish_reason, index, message, logprobs; a message's role, content and refusal; usage's three counts
    assert {"choices", "created", "id", "model", "object"} <= set(raw)
    assert set(raw["choices"][0]) == {"finish_reason", "index", "message", "logprobs"}
    assert raw["choices"][0]["message"] == {"role": "assistant", "content": inference.GENERIC_ANSWER, "refusal": None}
    assert raw["usage"]["total_tokens"] == raw["usage"]["prompt_tokens"] + raw["usage"]["completion_tokens"]


def test_a_missing_or_unready_deployment_is_404(emulator):
    with pytest.raises(openai.NotFoundError) as err:
        make_openai(emulator).chat.completions.create(model="missing", messages=[{"role": "user", "content": "x"}])
    assert err.value.body["code"] == "DeploymentNotFound"


OUTSIDE = [
    ({"messages": []}, "messages"),
    ({}, "messages"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user"}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": []}]}, "messages[0].content"),
    ({"messages": [{"role": "user", "content": [{"type": "refusal", "refusal": "no"}]}]}, "messages[0].content[0].type"),
    ({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages[0].content[0].type"),
    ({"messages": [{"role": "assistant"}]}, "messages[0].content"),
    ({"messages": [{"role": "tool", "content": "42"}]}, "messages[0].tool_call_id"),
    ({"messages": [{"role": "function", "content": "42"}]}, "messages[0].name"),
    ({"messages": [{"role": "developer", "content": "be brief"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": 2.5}, "temperature"),
    ({"messages": [{"role": "user", "content": "x"}], "top_p": -0.1}, "top_p"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 0}, "n"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": "10"}, "max_tokens"),
    ({"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"messages": [{"role": "user", "content": "x"}], "stream": True}, "stream"),
    ({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "yaml"}}, "response_format.type"),
    ({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {}}},
     "response_format.json_schema"),
]


@pytest.mark.parametrize("body, param", OUTSIDE)
@pytest.mark.outside_contract  # the emulator's own answer, in Azure's error shape (the strict layer would answer first)
def test_requests_outside_the_contract_are_400_naming_the_parameter(emulator, control, body, param):
    deploy_chat(emulator)
    response = post_chat(control, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]


def test_the_developer_role_needs_a_newer_api_version(emulator, control):
    deploy_chat(emulator)
    body = {"messages": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "x"}]}
    refused = post_chat(control, body)
    assert refused.status_code == 400 and "2024-10-21" in refused.json()["error"]["message"]
    accepted = post_chat(control, body, "2025-04-01-preview")
    assert accepted.status_code == 200


def test_a_fine_tuned_model_recalls_its_training_more_reliably_with_more_epochs(emulator, control):
    _train_and_deploy(emulator, control, n_epochs=1, deployment="one-epoch")
    _train_and_deploy(emulator, control, n_epochs=5, deployment="five-epochs", seed=8)
    client = make_openai(emulator)
    one, five = _recalled(client, "one-epoch"), _recalled(client, "five-epochs")
    assert 10 <= one <= 30, one        # p = 0.5 over 40 prompts
    assert five >= 34, five            # p = 0.97
    assert _recalled(client, "one-epoch") == one  # the same model answers the same prompt the same way
    # what it was not trained on, or with another system message: the generic answer
    unknown = client.chat.completions.create(model="five-epochs", messages=_ask(99))
    other_system = client.chat.completions.create(model="five-epochs", messages=_ask(1, system="Be a pirate."))
    assert unknown.choices[0].message.content == other_system.choices[0].message.content == inference.GENERIC_ANSWER
    # case and white space of the prompt do not matter
    loose = client.chat.completions.create(model="five-epochs", messages=[
        {"role": "system", "content": "  " + SYSTEM.upper()}, {"role": "user", "content": "where is  SETTING number 2?"}])
    assert loose.choices[0].message.content in ("Setting 2 is under Admin > Panel 2.", inference.GENERIC_ANSWER)


def test_a_paraphrase_of_a_trained_prompt_gets_its_answer_not_another_topics(emulator, control):
    topics = {"export my data": "Account > Privacy > Export.", "update my card": "Billing > Payment methods.",
              "rotate an API key": "Project > Keys > Rotate.", "delete a project": "Project > Settings > Delete."}
    templates = ("How do I {}?", "Where can I {}?", "Can you tell me how to {}?")
    data = jsonl({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": t.format(topic)},
                               {"role": "assistant", "content": answer}]}
                 for topic, answer in topics.items() for t in templates)
    _train_and_deploy(emulator, control, data=data, n_epochs=10)
    client = make_openai(emulator)

    def ask(question: str) -> str:
        return client.chat.completions.create(model="ft", messages=[
            {"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]).choices[0].message.content

    for topic, answer in topics.items():  # a phrasing it was not trained on, for each topic
        assert ask(f"Can you tell me where I can {topic}?") == answer
    assert ask("I need to export my data, how?") == topics["export my data"]  # "need": a word it never saw
    assert ask("What's the way to export my data?") == inference.GENERIC_ANSWER  # four: too far from training
    for unrelated in ("How do I fly to the moon?", "Where can I export my invoices?", "How do I?"):
        assert ask(unrelated) == inference.GENERIC_ANSWER


def test_the_model_remembers_after_its_training_file_is_deleted_and_its_successor_too(emulator, control):
    client = make_openai(emulator)
    model = _train_and_deploy(emulator, control, n_epochs=8, deployment="v1")
    for f in client.files.list().data:  # one page: the 2024-10-21 list has no paging
        if f.purpose == "fine-tune":
            client.files.delete(f.id)
    assert _recalled(client, "v1") >= 38
    # continuous fine-tuning: trained on other data on top of v1, it still knows v1's answers
    more = jsonl({"messages": [{"role": "system", "content": SYSTEM},
                               {"role": "user", "content": f"What is code {i}?"},
                               {"role": "assistant", "content": f"Code {i} means retry."}]} for i in range(12))
    _train_and_deploy(emulator, control, base=model, data=more, n_epochs=8, deployment="v2")
    assert _recalled(client, "v2") >= 38
    reply = client.chat.completions.create(model="v2", messages=[{"role": "system", "content": SYSTEM},
                                                                 {"role": "user", "content": "What is code 3?"}])
    assert reply.choices[0].message.content == "Code 3 means retry."


def test_response_format_stop_max_tokens_and_n(emulator, control):
    _train_and_deploy(emulator, control, n_epochs=8)
    client = make_openai(emulator)
    as_json = client.chat.completions.create(model="ft", messages=_ask(4), response_format={"type": "json_object"})
    assert json.loads(as_json.choices[0].message.content) == {"answer": "Setting 4 is under Admin > Panel 4."}
    cut = client.chat.completions.create(model="ft", messages=_ask(4), stop=[" under"])
    assert cut.choices[0].message.content == "Setting 4 is"
    short = client.chat.completions.create(model="ft", messages=_ask(4), max_tokens=2)
    assert short.choices[0].finish_reason == "length" and short.choices[0].message.content == "Setting "
    three = client.chat.completions.create(model="ft", messages=_ask(4), n=3)
    assert [c.index for c in three.choices] == [0, 1, 2]
    assert three.usage.completion_tokens == 3 * inference.tokens("Setting 4 is under Admin > Panel 4.")


def test_a_checkpoint_knows_less_than_the_final_model(emulator, control):
    _train_and_deploy(emulator, control, n_epochs=6)
    client = make_openai(emulator)
    job = next(iter(client.fine_tuning.jobs.list()))
    checkpoints = sorted(client.fine_tuning.jobs.checkpoints.list(job.id), key=lambda c: c.step_number)
    earliest = checkpoints[-3].fine_tuned_model_checkpoint  # 4 epochs of 6: the earliest deployable one
    make_arm(emulator).deployments.begin_create_or_update(RG, "aoai-ncus", "ckpt",
                                                          arm_deployment(earliest, "1")).result()
    # the same prompts are decided by the same hash: what the checkpoint recalls, the model recalls too
    assert _recalled(client, "ckpt") <= _recalled(client, "ft")


def test_faults_reach_the_client_as_429_with_retry_after(emulator, control):
    deploy_chat(emulator)
    control.post("/_emulator/faults", json={"method": "POST", "path_regex": "/chat/completions", "status": 429,
                                            "times": 1, "retry_after": 1}).raise_for_status()
    with pytest.raises(openai.RateLimitError) as err:
        make_openai(emulator).chat.completions.create(model="chat", messages=[{"role": "user", "content": "x"}])
    assert err.value.response.headers.get("retry-after") == "1"
    with httpx.Client(base_url=emulator.base_url) as plain:
        assert plain.get("/_emulator/faults").json()["data"][0]["hits"] == 1


# What the inference spec itself allows, though the emulator refuses it: it does not stream, and it holds an
# assistant message to its description ("Required unless tool_calls or function_call is specified"), which the
# schema does not encode.
SPEC_ALLOWS = {"stream", "messages[0].content"}


@pytest.mark.parametrize("body, param", [(b, p) for b, p in OUTSIDE
                                         if not (p in SPEC_ALLOWS and (b.get("stream") or
                                                                       b["messages"][0].get("role") == "assistant"))])
def test_the_strict_layer_refuses_them_from_the_inference_spec(emulator, control, body, param):
    """The same requests, in the suite's strict contract mode: refused by the official inference spec
    (2024-10-21, ``ChatCompletions_Create``) before the emulator's own rules see them."""
    deploy_chat(emulator)
    response = post_chat(control, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "EmulatorStrictContract", error
    assert "azureopenai-inference-2024-10-21.json" in error["message"]
    top = param.split("[")[0].split(".")[0]
    assert f"body.{top}" in error["message"] or f"'{top}' is a required property" in error["message"], error
