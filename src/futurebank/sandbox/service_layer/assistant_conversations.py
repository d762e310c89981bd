"""Conversations as the HTTP edge will call them: start, send, hand off, read the transcript, and the
support agents' queue. Ownership is checked here (another customer's conversation is "not found", as
for every other resource), so the routes stay thin. Conversations are kept in memory in the sandbox;
a database store replaces ``InMemoryConversations`` behind the same two methods.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from futurebank.sandbox.domain.assistant import Conversation, ConversationStatus, Handoff, Message
from futurebank.sandbox.domain.errors import NotFound
from futurebank.sandbox.service_layer.assistant import AssistantReads, AssistantService

HANDOFF_REASONS = ("customer_request", "assistant_cannot_help", "complaint", "vulnerable_customer")


@dataclass
class InMemoryConversations:
    by_id: dict[str, Conversation] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, conversation: Conversation) -> None:
        with self.lock:
            self.by_id[conversation.conversation_id] = conversation

    def get(self, conversation_id: str) -> Conversation | None:
        return self.by_id.get(conversation_id)

    def all(self) -> list[Conversation]:
        return list(self.by_id.values())


@dataclass(frozen=True)
class QueueItem:
    """What a support agent sees in the queue: the handoff and the masked transcript, in order."""

    handoff: Handoff
    customer_id: str
    locale: str
    transcript: Sequence[Message]


class Conversations:
    def __init__(self, assistant: AssistantService, store: InMemoryConversations | None = None) -> None:
        self.assistant = assistant
        self.store = store or InMemoryConversations()

    def _owned(self, customer_id: str, conversation_id: str) -> Conversation:
        conversation = self.store.get(conversation_id)
        if conversation is None or conversation.customer_id != customer_id:
            raise NotFound("No such conversation.")
        return conversation

    def start(self, customer_id: str, locale: str, channel: str, now: datetime) -> Conversation:
        conversation = self.assistant.start(customer_id, locale, channel, now)
        self.store.add(conversation)
        return conversation

    def send(
        self,
        customer_id: str,
        conversation_id: str,
        text: str,
        confirmation_for: str | None,
        reads: AssistantReads,
        now: datetime,
    ) -> Message:
        conversation = self._owned(customer_id, conversation_id)
        return self.assistant.send(conversation, text, confirmation_for, reads, now)

    def handoff(
        self, customer_id: str, conversation_id: str, reason: str, comment: str | None, now: datetime
    ) -> Handoff:
        if reason not in HANDOFF_REASONS:
            raise ValueError(f"reason must be one of {', '.join(HANDOFF_REASONS)}")
        conversation = self._owned(customer_id, conversation_id)
        return self.assistant.handoff(conversation, reason, comment, now)

    def transcript(self, customer_id: str, conversation_id: str) -> Sequence[Message]:
        return list(self._owned(customer_id, conversation_id).messages)

    # --- support agents (staff token) -----------------------------------------------------------

    def queue(self) -> list[QueueItem]:
        """Handoffs waiting for an agent, oldest first."""
        waiting = [c for c in self.store.all() if c.handoff is not None and c.handoff.status == "requested"]
        waiting.sort(key=lambda c: c.handoff.requested_at if c.handoff else c.started_at)
        return [QueueItem(c.handoff, c.customer_id, c.locale, list(c.messages)) for c in waiting if c.handoff]

    def accept(self, agent_id: str, handoff_id: str, now: datetime) -> QueueItem:
        for c in self.store.all():
            if c.handoff is not None and c.handoff.handoff_id == handoff_id:
                if c.handoff.status == "requested":
                    c.handoff.status, c.handoff.agent_id, c.handoff.accepted_at = "accepted", agent_id, now
                return QueueItem(c.handoff, c.customer_id, c.locale, list(c.messages))
        raise NotFound("No such handoff.")

    def close(self, handoff_id: str, now: datetime) -> Handoff:
        for c in self.store.all():
            if c.handoff is not None and c.handoff.handoff_id == handoff_id:
                c.handoff.status = "closed"
                c.status = ConversationStatus.CLOSED
                c.ended_at = now
                return c.handoff
        raise NotFound("No such handoff.")
