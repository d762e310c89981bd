"""The assistant: startConversation, sendAssistantMessage, requestHandoff (US-0015..US-0018).

Thin: the token gives the customer and scopes; the conversation use cases (service_layer
.assistant_conversations) and the handler-backed reads do the rest. Conversations live in memory for the
life of the process (one per app); the transcript store of NFR-0029 replaces it in the bank.
"""

from __future__ import annotations

import os
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
from futurebank.sandbox.entrypoints.toolkit import ApiCall, json_body, path_id
from futurebank.sandbox.entrypoints.validation import UuidStr, _Strict
from futurebank.sandbox.service_layer.assistant import AssistantService
from futurebank.sandbox.service_layer.assistant_conversations import Conversations
from futurebank.sandbox.service_layer.assistant_reads import BusReads

router = APIRouter()


class ConversationStartIn(_Strict):
    channel: Literal["mobile", "web"]
    locale: Literal["ru-RU", "en-US"]


class AssistantMessageIn(_Strict):
    # Any text the contract allows: it is data (masked, never echoed into a reply), not an instruction.
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    confirmation_for: UuidStr | None = None


class HandoffRequestIn(_Strict):
    reason: Literal["customer_request", "assistant_cannot_help", "complaint", "vulnerable_customer"]
    comment: Annotated[str, Field(max_length=500)] | None = None


ConversationId = Annotated[str, path_id("conversation_id")]


def _conversations(c: Container, request: Request) -> Conversations:
    state = request.app.state
    if not hasattr(state, "assistant_conversations"):
        assistant = AssistantService(
            understander_from_env(os.environ), default_knowledge_base(), default_templates(), c.bus.new_id
        )
        state.assistant_conversations = Conversations(assistant)
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
    return out


@router.post("/assistant/conversations", operation_id="startConversation")
async def start_conversation(
    call: ApiCall, body: Annotated[ConversationStartIn, json_body(ConversationStartIn)]
) -> Response:
    customer_id = call.actor.customer_id or ""
    conversation = _conversations(call.c, call.request).start(
        customer_id, body.locale, body.channel, call.now()
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
    conversation_id: ConversationId,
    body: Annotated[HandoffRequestIn, json_body(HandoffRequestIn)],
) -> Response:
    conversations = _conversations(call.c, call.request)
    customer_id = call.actor.customer_id or ""
    existing = conversations.store.get(conversation_id)
    again = existing is not None and existing.handoff is not None and existing.customer_id == customer_id
    handoff = conversations.handoff(customer_id, conversation_id, body.reason, body.comment, call.now())
    return call.json(handoff_json(handoff), 200 if again else 201)
