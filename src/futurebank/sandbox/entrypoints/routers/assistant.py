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
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container, correlation_id
from futurebank.sandbox.entrypoints.validation import (
    UuidStr,
    _Strict,
    only_query,
    path_uuid,
    read_json,
)
from futurebank.sandbox.service_layer.assistant import AssistantService
from futurebank.sandbox.service_layer.assistant_conversations import Conversations
from futurebank.sandbox.service_layer.assistant_reads import HandlerReads

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


def _conversations(request: Request) -> Conversations:
    state = request.app.state
    if not hasattr(state, "assistant_conversations"):
        c = container(request)
        assistant = AssistantService(
            understander_from_env(os.environ), default_knowledge_base(), default_templates(), c.new_id
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
async def start_conversation(request: Request) -> Response:
    c = container(request)
    principal = authenticate(request, c.tokens, "assistant", customer_only=True)
    only_query(request)
    body = await read_json(request, ConversationStartIn)
    conversation = _conversations(request).start(
        principal.customer_id or "", body.locale, body.channel, c.clock()
    )
    location = f"{request.url.path}/{conversation.conversation_id}"
    return rep.json_response(conversation_json(conversation), 201, {"Location": location})


@router.post("/assistant/conversations/{conversation_id}/messages", operation_id="sendAssistantMessage")
async def send_assistant_message(request: Request, conversation_id: str) -> Response:
    c = container(request)
    principal = authenticate(request, c.tokens, "assistant", customer_only=True)
    only_query(request)
    cid = path_uuid("conversation_id", conversation_id)
    body = await read_json(request, AssistantMessageIn)
    actor = principal.actor(correlation_id(request))
    now = c.clock()
    conversations = _conversations(request)

    def run(uow: Any) -> Message:
        reads = HandlerReads(uow, actor, principal.scopes, now)
        reply = conversations.send(
            principal.customer_id or "", cid, body.text, body.confirmation_for, reads, now
        )
        uow.commit()  # a confirmed card lock is written with its audit record
        return reply

    reply = await c.call(run)
    return rep.json_response(message_json(cid, reply), 201)


@router.post("/assistant/conversations/{conversation_id}/handoff", operation_id="requestHandoff")
async def request_handoff(request: Request, conversation_id: str) -> Response:
    c = container(request)
    principal = authenticate(request, c.tokens, "assistant", customer_only=True)
    only_query(request)
    cid = path_uuid("conversation_id", conversation_id)
    body = await read_json(request, HandoffRequestIn)
    conversations = _conversations(request)
    existing = conversations.store.get(cid)
    again = (
        existing is not None
        and existing.handoff is not None
        and existing.customer_id == principal.customer_id
    )
    handoff = conversations.handoff(principal.customer_id or "", cid, body.reason, body.comment, c.clock())
    return rep.json_response(handoff_json(handoff), 200 if again else 201)
