"""The bank-hosted model client against a local stand-in server speaking the OpenAI-compatible chat
completions protocol on 127.0.0.1 (the form vLLM serves). The model's answer is data: validated, and
anything malformed becomes a zero-confidence out_of_scope."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from futurebank.assistant_eval import SeedReads, load_seed, seed_now
from futurebank.sandbox.adapters.assistant_kb import default_knowledge_base
from futurebank.sandbox.adapters.assistant_llm import ChatCompletionsUnderstander, understander_from_env
from futurebank.sandbox.adapters.assistant_nlu import SklearnUnderstander
from futurebank.sandbox.adapters.assistant_replies import default_templates
from futurebank.sandbox.domain.assistant import Intent
from futurebank.sandbox.service_layer.assistant import AssistantService

TODAY = date(2026, 11, 24)


class StandIn(ThreadingHTTPServer):
    reply: Any = None  # the JSON content the "model" answers, or a raw string
    status: int = 200
    requests: list[dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        content = self.server.reply if isinstance(self.server.reply, str) else json.dumps(self.server.reply)
        payload = json.dumps(
            {
                "id": "cmpl-1",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
            }
        ).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        return


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _client(server: StandIn) -> ChatCompletionsUnderstander:
    host, port = server.server_address[:2]
    return ChatCompletionsUnderstander(
        f"http://{host!s}:{port}/v1", "gigachat-lightning", httpx.Client(timeout=2, trust_env=False), "k"
    )


def test_the_model_classifies_and_its_slots_are_validated(stand_in: StandIn) -> None:
    stand_in.reply = {
        "intent": "spending_by_category",
        "confidence": 0.93,
        "slots": {
            "category": "taxi",
            "period_from": "2026-11-01",
            "period_to": "2026-12-01",
            "card_last4": "12",
        },
    }
    u = _client(stand_in).understand("Сколько я потратила на такси в ноябре?", "ru-RU", TODAY)
    assert (u.intent, u.confidence, u.slots.category) == (Intent.SPENDING_BY_CATEGORY, 0.93, "taxi")
    assert u.slots.period is not None and u.slots.period.start == date(2026, 11, 1)
    assert u.slots.card_last4 is None  # not four digits: dropped
    request = stand_in.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer k"
    assert request["body"]["model"] == "gigachat-lightning" and request["body"]["temperature"] == 0
    assert request["body"]["messages"][0]["role"] == "system"
    assert request["body"]["messages"][1] == {
        "role": "user",
        "content": "Сколько я потратила на такси в ноябре?",
    }


@pytest.mark.parametrize(
    "reply",
    [
        {"intent": "transfer_money", "confidence": 0.99},
        {"intent": "card_lock", "confidence": 7},
        "I think you want a balance",
        '["balance_inquiry"]',
        {"confidence": 0.9},
    ],
)
def test_a_malformed_answer_is_a_zero_confidence_out_of_scope(stand_in: StandIn, reply: Any) -> None:
    stand_in.reply = reply
    u = _client(stand_in).understand("какой баланс", "ru-RU", TODAY)
    assert (u.intent, u.confidence) == (Intent.OUT_OF_SCOPE, 0.0)


def test_a_server_error_or_no_server_is_out_of_scope(stand_in: StandIn) -> None:
    stand_in.status, stand_in.reply = 500, {"intent": "balance_inquiry", "confidence": 1}
    assert _client(stand_in).understand("баланс", "ru-RU", TODAY).confidence == 0.0
    dead = ChatCompletionsUnderstander(
        "http://127.0.0.1:9/v1", "m", httpx.Client(timeout=0.5, trust_env=False)
    )
    assert dead.understand("баланс", "ru-RU", TODAY).intent is Intent.OUT_OF_SCOPE


def test_invented_categories_are_dropped(stand_in: StandIn) -> None:
    stand_in.reply = {"intent": "spending_by_category", "confidence": 0.9, "slots": {"category": "casino"}}
    assert _client(stand_in).understand("сколько на продукты", "ru-RU", TODAY).slots.category == "groceries"


def test_the_reply_figures_come_from_the_reads_not_the_model(stand_in: StandIn) -> None:
    # The model may claim anything; the reply still states only the ledger's figures.
    stand_in.reply = {
        "intent": "balance_inquiry",
        "confidence": 0.95,
        "slots": {"account_kind": "current", "balance": "1000000.00"},
    }
    service = AssistantService(_client(stand_in), default_knowledge_base(), default_templates(), lambda: "id")
    seed = json.loads(json.dumps(load_seed(), default=str))
    now = seed_now(load_seed())
    conversation = service.start("anna", "ru-RU", "mobile", now)
    reply = service.send(conversation, "Сколько денег на текущем счёте?", None, SeedReads(seed), now)
    assert {f.amount for f in reply.facts} == {"24650.00", "25000.00"}
    assert "1000000" not in reply.text and reply.model_version == "chat-completions gigachat-lightning"


def test_configuration_chooses_the_understanding_and_is_off_by_default(stand_in: StandIn) -> None:
    assert isinstance(understander_from_env({}), SklearnUnderstander)
    host, port = stand_in.server_address[:2]
    chosen = understander_from_env({"FUTUREBANK_ASSISTANT_LLM_URL": f"http://{host!s}:{port}/v1"})
    assert isinstance(chosen, ChatCompletionsUnderstander)
