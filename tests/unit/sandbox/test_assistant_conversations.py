"""Conversation use cases for the HTTP edge: ownership, handoff, transcript and the agents' queue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from futurebank.assistant_eval import SeedReads, load_seed, seed_now, service
from futurebank.sandbox.domain.errors import NotFound
from futurebank.sandbox.service_layer.assistant_conversations import Conversations

ANNA = "10000000-0000-4000-8000-000000000001"
BORIS = "10000000-0000-4000-8000-000000000002"


@pytest.fixture
def conversations() -> Conversations:
    return Conversations(service())


def test_the_agent_gets_the_whole_masked_transcript_in_order(conversations: Conversations) -> None:
    now = seed_now(load_seed())
    reads = SeedReads(json.loads(json.dumps(load_seed(), default=str)))
    c = conversations.start(ANNA, "ru-RU", "mobile", now)
    conversations.send(ANNA, c.conversation_id, "Сколько денег на текущем счёте?", None, reads, now)
    conversations.send(ANNA, c.conversation_id, "моя карта 2200 1234 5678 9012", None, reads, now)
    handoff = conversations.handoff(ANNA, c.conversation_id, "customer_request", "тел +7 999 123-45-67", now)
    assert handoff.status == "requested" and handoff.transcript_message_count == 5
    assert handoff.comment is not None and "123-45-67" not in handoff.comment
    (item,) = conversations.queue()
    assert [m.role for m in item.transcript] == [
        "assistant",
        "customer",
        "assistant",
        "customer",
        "assistant",
    ]
    assert "ИИ-ассистент" in item.transcript[0].text
    assert all("2200 1234 5678" not in m.text for m in item.transcript)
    assert item.transcript[2].model_version and item.transcript[2].api_calls
    accepted = conversations.accept("SA104233", handoff.handoff_id, now + timedelta(seconds=30))
    assert accepted.handoff.status == "accepted" and not conversations.queue()


def test_another_customers_conversation_is_not_found(conversations: Conversations) -> None:
    now = seed_now(load_seed())
    c = conversations.start(ANNA, "ru-RU", "mobile", now)
    with pytest.raises(NotFound):
        conversations.handoff(BORIS, c.conversation_id, "customer_request", None, now)
    with pytest.raises(NotFound):
        conversations.transcript(BORIS, c.conversation_id)
    with pytest.raises(ValueError, match="reason"):
        conversations.handoff(ANNA, c.conversation_id, "bored", None, now)
    assert len(conversations.transcript(ANNA, c.conversation_id)) == 1


def test_a_handoff_before_any_question_carries_the_disclosure(conversations: Conversations) -> None:
    now = seed_now(load_seed())
    c = conversations.start(ANNA, "en-US", "web", now)
    assert (
        conversations.handoff(ANNA, c.conversation_id, "customer_request", None, now).transcript_message_count
        == 1
    )
