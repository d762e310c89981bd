"""The assistant: startConversation, sendAssistantMessage, requestHandoff, getConversationTranscript
(customers, scope assistant) and the support agents' listHandoffs, getHandoff, acceptHandoff,
closeHandoff (staff clients, scope agent) (US-0015..US-0018).

Thin: the token gives the customer or the agent and the scopes; the conversation use cases
(service_layer.assistant_conversations) and the handler-backed reads do the rest. Conversations are kept
in the database (migration 0003), so a restart or another process loses none.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.adapters.assistant_kb import default_knowledge_base
from futurebank.sandbox.adapters.assistant_llm import understander_from_env
from futurebank.sandbox.adapters.assistant_replies import default_templates
from futurebank.sandbox.domain.assistant import Conversation, Handoff, Message
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.problems import ProblemError
from futurebank.sandbox.entrypoints.toolkit import ApiCall, Call, PageCall, json_body, path_id
from futurebank.sandbox.entrypoints.validation import NO_BIDI_CONTROLS, UuidStr, _Strict
from futurebank.sandbox.service_layer.assistant import AssistantService
from futurebank.sandbox.service_layer.assistant_conversations import (
    Access,
    Conversations,
    DatabaseConversations,
    QueueItem,
)
from futurebank.sandbox.service_layer.assistant_reads import BusReads

router = APIRouter()


class ConversationStartIn(_Strict):
    channel: Literal["mobile", "web"]
    locale: Literal["ru-RU", "en-US"]


class AssistantMessageIn(_Strict):
    # Any text the contract allows: it is data (masked, never echoed into a reply), not an instruction.
    text: Annotated[str, Field(min_length=1, max_length=2000), NO_BIDI_CONTROLS]
    confirmation_for: UuidStr | None = None


class HandoffRequestIn(_Strict):
    reason: Literal[
        "customer_request",
        "assistant_cannot_help",
        "complaint",
        "dispute",
        "suspected_fraud",
        "vulnerable_customer",
    ]
    comment: Annotated[str, Field(max_length=500), NO_BIDI_CONTROLS] | None = None


ConversationId = Annotated[str, path_id("conversation_id")]
HandoffId = Annotated[str, path_id("handoff_id")]


def _conversations(c: Container, request: Request) -> Conversations:
    state = request.app.state
    if not hasattr(state, "assistant_conversations"):
        assistant = AssistantService(
            understander_from_env(os.environ), default_knowledge_base(), default_templates(), c.bus.new_id
        )
        state.assistant_conversations = Conversations(assistant, DatabaseConversations(c.db))
    conversations: Conversations = state.assistant_conversations
    return conversations


def conversation_json(c: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": c.conversation_id,
        "status": c.status.value,
        "channel": c.channel,
        "locale": c.locale,
        "ai_disclosure": c.messages[0].text[:500],
        "started_at": c.started_at.isoformat(),
    }


def message_json(conversation_id: str, m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "message_id": m.message_id,
        "conversation_id": conversation_id,
        "role": m.role,
        "ai_generated": m.ai_generated,
        "text": m.text[:2000],
        "created_at": m.created_at.isoformat(),
    }
    if m.intent is not None:
        out["intent"] = m.intent.value
    if m.role == "assistant":
        out["facts"] = [f.as_json() for f in (m.facts or ())][:50]
    if m.proposed_action is not None:
        out["proposed_action"] = {"action": m.proposed_action.action, "card_id": m.proposed_action.card_id}
    if m.confirmation_for is not None:
        out["confirmation_for"] = m.confirmation_for
    return out


def handoff_json(h: Handoff) -> dict[str, Any]:
    out: dict[str, Any] = {
        "handoff_id": h.handoff_id,
        "conversation_id": h.conversation_id,
        "status": h.status,
        "reason": h.reason,
        "transcript_message_count": h.transcript_message_count,
        "requested_at": h.requested_at.isoformat(),
    }
    if h.comment:
        out["comment"] = h.comment
    if h.accepted_at is not None:
        out["accepted_at"] = h.accepted_at.isoformat()
    return out


def case_json(item: QueueItem, now: datetime, transcript: bool) -> dict[str, Any]:
    """The agent's view of a handoff: the handoff, its waiting time and, when asked, the transcript."""
    out: dict[str, Any] = {
        "handoff": handoff_json(item.handoff),
        "locale": item.locale,
        "waiting_seconds": item.waiting_seconds(now),
    }
    if item.handoff.agent_id is not None:
        out["agent_id"] = item.handoff.agent_id
    if transcript:
        conversation_id = item.handoff.conversation_id
        out["transcript"] = [message_json(conversation_id, m) for m in item.transcript]
    return out


def _access(call: Call[Any], operation: str, agent_id: str | None = None) -> Access:
    return Access(operation, call.actor.client_id, call.actor.correlation_id, agent_id)


def _agent_id(call: Call[Any]) -> str:
    """The staff id of the agent the staff client signs in (only staff clients hold the scope agent)."""
    agent = call.c.settings.staff_clients.get(call.actor.client_id)
    if agent is None:  # pragma: no cover - the authorisation server gives agent to staff clients only
        raise ProblemError("INSUFFICIENT_SCOPE", "This operation needs the scope agent.")
    return agent


@router.post("/assistant/conversations", operation_id="startConversation")
async def start_conversation(
    call: ApiCall, body: Annotated[ConversationStartIn, json_body(ConversationStartIn)]
) -> Response:
    customer_id = call.actor.customer_id or ""
    conversations, now = _conversations(call.c, call.request), call.now()
    conversation = await call.c.call_sync(
        lambda: conversations.start(customer_id, body.locale, body.channel, now)
    )
    return call.created(
        conversation_json(conversation), f"/assistant/conversations/{conversation.conversation_id}"
    )


@router.post("/assistant/conversations/{conversation_id}/messages", operation_id="sendAssistantMessage")
async def send_assistant_message(
    call: ApiCall,
    conversation_id: ConversationId,
    body: Annotated[AssistantMessageIn, json_body(AssistantMessageIn)],
) -> Response:
    conversations = _conversations(call.c, call.request)
    reads = BusReads(call.c.bus, call.actor, call.scopes)
    now = call.now()
    # The reads and a confirmed card lock go through the bus, each in its own transaction (and on the
    # database thread, as every database call).
    reply = await call.c.call_sync(
        lambda: conversations.send(
            call.actor.customer_id or "", conversation_id, body.text, body.confirmation_for, reads, now
        )
    )
    return call.json(message_json(conversation_id, reply), 201)


@router.post("/assistant/conversations/{conversation_id}/handoff", operation_id="requestHandoff")
async def request_handoff(
    call: ApiCall,
    body: Annotated[HandoffRequestIn, json_body(HandoffRequestIn)],
    conversation_id: ConversationId,
) -> Response:
    customer_id, now = call.actor.customer_id or "", call.now()
    conversations = _conversations(call.c, call.request)
    handoff, created = await call.c.call_sync(
        lambda: conversations.request_handoff(customer_id, conversation_id, body.reason, body.comment, now)
    )
    return call.json(handoff_json(handoff), 201 if created else 200)


@router.get("/assistant/conversations/{conversation_id}/messages", operation_id="getConversationTranscript")
async def get_conversation_transcript(call: PageCall, conversation_id: ConversationId) -> Response:
    conversations = _conversations(call.c, call.request)
    customer_id = call.actor.customer_id or ""
    collection = f"transcript:{customer_id}:{conversation_id}"
    after = call.after(collection)
    start = int(after[1]) + 1 if after else 0
    access, now = _access(call, "getConversationTranscript"), call.now()
    messages = await call.c.call_sync(
        lambda: conversations.transcript(customer_id, conversation_id, access, now)
    )
    shown = list(messages[start : start + call.query.limit])
    more = start + len(shown) < len(messages)
    last = [shown[-1].created_at.isoformat(), start + len(shown) - 1] if more and shown else None
    return call.page([message_json(conversation_id, m) for m in shown], collection, last)


@router.get("/assistant/handoffs", operation_id="listHandoffs")
async def list_handoffs(call: PageCall) -> Response:
    _agent_id(call)
    conversations = _conversations(call.c, call.request)
    collection = "handoffs:requested"
    after = call.after(collection)
    position = (after[0], str(after[1])) if after else None
    limit = call.query.limit
    items = await call.c.call_sync(lambda: conversations.queue(limit + 1, position))
    more = len(items) > limit
    items = items[:limit]
    now = call.now()
    last = [items[-1].handoff.requested_at.isoformat(), items[-1].handoff.handoff_id] if more else None
    return call.page([case_json(i, now, transcript=False) for i in items], collection, last)


@router.get("/assistant/handoffs/{handoff_id}", operation_id="getHandoff")
async def get_handoff(call: ApiCall, handoff_id: HandoffId) -> Response:
    access, now = _access(call, "getHandoff", _agent_id(call)), call.now()
    conversations = _conversations(call.c, call.request)
    item = await call.c.call_sync(lambda: conversations.case(handoff_id, access, now))
    return call.json(case_json(item, now, transcript=True))


async def _agent_step(call: ApiCall, handoff_id: str, operation: str, transcript: bool) -> Response:
    """An agent's step on a handoff (accept or close), audited with the agent's staff id."""
    agent = _agent_id(call)
    conversations = _conversations(call.c, call.request)
    now = call.now()
    access = _access(call, operation, agent)
    step = conversations.accept if operation == "acceptHandoff" else conversations.close
    item = await call.c.call_sync(lambda: step(agent, handoff_id, now, access))
    return call.json(case_json(item, now, transcript=transcript))


@router.post("/assistant/handoffs/{handoff_id}/accept", operation_id="acceptHandoff")
async def accept_handoff(call: ApiCall, handoff_id: HandoffId) -> Response:
    return await _agent_step(call, handoff_id, "acceptHandoff", transcript=True)


@router.post("/assistant/handoffs/{handoff_id}/close", operation_id="closeHandoff")
async def close_handoff(call: ApiCall, handoff_id: HandoffId) -> Response:
    return await _agent_step(call, handoff_id, "closeHandoff", transcript=False)
