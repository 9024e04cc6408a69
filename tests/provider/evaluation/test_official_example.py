"""The evaluation's run on Microsoft's own example of ChatCompletions_Create (2024-10-21 inference
spec, official/chat_completions.json, unchanged): a loopback server answers the example's 200 body
to the real openai SDK; the run parses and grades it, and sends what the example sends."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from pulumi_aoai_finetune import clients
from pulumi_aoai_finetune.account import AccountRef
from pulumi_aoai_finetune.evaluation import runner
from pulumi_aoai_finetune.evaluation.cases import Case
from pulumi_aoai_finetune.settings import ProviderSettings

EXAMPLE = json.loads((Path(__file__).parent / "official" / "chat_completions.json").read_text(encoding="utf-8"))


@pytest.fixture
def service():
    """An http server on loopback answering the example's 200 body; it records what it was sent."""
    seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            seen.append({"path": self.path, "body": body, "api-key": self.headers.get("api-key")})
            answer = json.dumps(EXAMPLE["responses"]["200"]["body"]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    server.shutdown()


def test_the_run_sends_the_examples_request_and_grades_its_answer(service):
    endpoint, seen = service
    settings = ProviderSettings(allow_insecure_loopback=True, api_key="k", max_retries=0, request_timeout=30)
    account = AccountRef.parse({"resource_id": "/subscriptions/s/resourceGroups/rg/providers/"
                                               "Microsoft.CognitiveServices/accounts/aoai", "endpoint": endpoint})
    request = EXAMPLE["parameters"]
    case = Case("parrot", 1, request["body"]["messages"],
                {"contains": ["parrot", "cage"], "not_contains": ["I don't know"], "regex": r"Yo-ho-ho"})
    target = runner.Target(clients.data_plane(settings, account), "pirate-bot", "aoai")
    outcome = runner.run([case], target, options=runner.Options(max_tokens=800)).to_dict()
    assert outcome["pass_rate"] == 1.0 and outcome["errors"] == 0
    usage = EXAMPLE["responses"]["200"]["body"]["usage"]
    assert (outcome["usage"]["prompt_tokens"], outcome["usage"]["completion_tokens"]) == \
        (usage["prompt_tokens"], usage["completion_tokens"])
    (sent,) = seen
    assert sent["path"] == f"/openai/deployments/pirate-bot/chat/completions?api-version={request['api-version']}"
    assert sent["body"]["messages"] == request["body"]["messages"]
    # only fields of createChatCompletionRequest, plus the deployment the SDK repeats as `model`
    assert set(sent["body"]) <= {"messages", "temperature", "max_tokens", "model"}
    assert sent["body"]["temperature"] == 0 and sent["body"]["max_tokens"] == 800 and sent["api-key"] == "k"
    # and what the run sends is a request the inference spec (with the SDK's `model` overlay) defines
    from pulumi_aoai_finetune_emulator import contract

    spec = contract.contract("inference", "2024-10-21")
    assert spec.check_request("POST", "/deployments/pirate-bot/chat/completions",
                              f"api-version={request['api-version']}", sent["body"], "application/json") == []


def test_the_example_against_its_own_spec():
    """The example's request is a valid ChatCompletions_Create body; its 200 answer is not: it lacks four
    fields its own spec requires (``model``, ``object``, a choice's ``logprobs``, a message's ``refusal``).
    The run parses it all the same (above), so the provider does not depend on them; the emulator answers
    with all of them (its answers are checked against the spec in strict mode)."""
    from pulumi_aoai_finetune_emulator import contract

    spec = contract.contract("inference", "2024-10-21")
    path = "/deployments/pirate-bot/chat/completions"
    query = f"api-version={EXAMPLE['parameters']['api-version']}"
    assert spec.check_request("POST", path, query, EXAMPLE["parameters"]["body"], "application/json") == []
    problems = contract.schema_problems("createChatCompletionResponse", EXAMPLE["responses"]["200"]["body"],
                                        "azureopenai-inference-2024-10-21.json")
    assert sorted(str(p) for p in problems) == [
        "createChatCompletionResponse.choices[0].message: 'refusal' is a required property",
        "createChatCompletionResponse.choices[0]: 'logprobs' is a required property",
        "createChatCompletionResponse: 'model' is a required property",
        "createChatCompletionResponse: 'object' is a required property",
    ]
