"""Conversations as the HTTP edge calls them: start, send, hand off, read the transcript, and the
support agents' queue (list, read, accept, close). Ownership is checked here (another customer's
conversation is "not found", as for every other resource), so the routes stay thin.

Conversations are kept by a ``ConversationStore``: ``DatabaseConversations`` (the sandbox's; tables of
migration 0003, so a restart or a second process sees every conversation) or ``InMemoryConversations``
(unit tests and the offline evaluation). A message is answered outside any transaction: the conversation
is loaded, the assistant's reads go through the message bus in their own transactions, and the new
messages are saved in one more. Messages of one conversation are answered one at a time in a process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from futurebank.sandbox.adapters.db import Database
from futurebank.sandbox.domain.assistant import Conversation, ConversationStatus, Handoff, Message
from futurebank.sandbox.domain.audit import AuditRecord
from futurebank.sandbox.domain.errors import ConversationClosed, HandoffConflict, NotFound
from futurebank.sandbox.service_layer.assistant import AssistantReads, AssistantService
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

# The contract's Handoff.reason values, H-1 .. H-4 of US-0017 (dispute and suspected fraud: change C-18).
HANDOFF_REASONS = (
    "customer_request",
    "assistant_cannot_help",
    "complaint",
    "dispute",
    "suspected_fraud",
    "vulnerable_customer",
)
QUEUE_PAGE_MAX = 100


class ConversationStore(Protocol):
    def save(self, conversation: Conversation) -> None: ...

    def get(self, conversation_id: str) -> Conversation | None: ...

    def by_handoff(self, handoff_id: str) -> Conversation | None: ...

    def waiting(self, limit: int, after: tuple[datetime, str] | None = None) -> list[Conversation]: ...

    def transition(
        self, conversation: Conversation, expected: str, audit: AuditRecord | None = None
    ) -> bool: ...

    def record(self, audit: AuditRecord) -> None: ...


@dataclass(frozen=True)
class Access:
    """Who reads or changes a conversation, for the audit log (US-0019: access to transcripts is itself
    recorded): the operation, the client app, the request's correlation id and, for staff, the agent."""

    operation: str
    client_id: str
    correlation_id: str
    agent_id: str | None = None

    def record(self, c: Conversation, resource_type: str, resource_id: str, now: datetime) -> AuditRecord:
        return AuditRecord(
            at=now.isoformat(),
            action=self.operation,
            client_id=self.client_id,
            customer_id=c.customer_id,  # whose transcript it is
            resource_type=resource_type,
            resource_id=resource_id,
            correlation_id=self.correlation_id,
            outcome="ok",
            details={"agent_id": self.agent_id} if self.agent_id else {},
        )


@dataclass
class InMemoryConversations:
    by_id: dict[str, Conversation] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def save(self, conversation: Conversation) -> None:
        with self.lock:
            self.by_id[conversation.conversation_id] = conversation

    def get(self, conversation_id: str) -> Conversation | None:
        return self.by_id.get(conversation_id)

    def by_handoff(self, handoff_id: str) -> Conversation | None:
        return next(
            (c for c in list(self.by_id.values()) if c.handoff and c.handoff.handoff_id == handoff_id), None
        )

    def waiting(self, limit: int, after: tuple[datetime, str] | None = None) -> list[Conversation]:
        def key(c: Conversation) -> tuple[datetime, str]:
            assert c.handoff is not None
            return (c.handoff.requested_at, c.handoff.handoff_id)

        queued = sorted(
            (c for c in list(self.by_id.values()) if c.handoff and c.handoff.status == "requested"), key=key
        )
        return [c for c in queued if after is None or key(c) > after][:limit]

    audited: list[AuditRecord] = field(default_factory=list)

    def transition(self, conversation: Conversation, expected: str, audit: AuditRecord | None = None) -> bool:
        self.save(conversation)  # one process, one lock per conversation: nobody changed it meanwhile
        if audit is not None:
            self.record(audit)
        return True

    def record(self, audit: AuditRecord) -> None:
        self.audited.append(audit)


class DatabaseConversations:
    """The store on the sandbox's database, one unit of work per call."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, conversation: Conversation) -> None:
        with UnitOfWork(self.db) as uow:
            uow.conversations.save(conversation)
            uow.commit()

    def get(self, conversation_id: str) -> Conversation | None:
        with UnitOfWork(self.db) as uow:
            return uow.conversations.get(conversation_id)

    def by_handoff(self, handoff_id: str) -> Conversation | None:
        with UnitOfWork(self.db) as uow:
            return uow.conversations.by_handoff(handoff_id)

    def waiting(self, limit: int, after: tuple[datetime, str] | None = None) -> list[Conversation]:
        with UnitOfWork(self.db) as uow:
            return uow.conversations.waiting(limit, after)

    def transition(self, conversation: Conversation, expected: str, audit: AuditRecord | None = None) -> bool:
        with UnitOfWork(self.db) as uow:
            done = uow.conversations.transition(conversation, expected)
            if done and audit is not None:
                uow.audit.append(audit)
            uow.commit()
            return done

    def record(self, audit: AuditRecord) -> None:
        with UnitOfWork(self.db) as uow:
            uow.audit.append(audit)
            uow.commit()


@dataclass(frozen=True)
class QueueItem:
    """What a support agent sees: the handoff, whose conversation it is, and the masked transcript."""

    handoff: Handoff
    customer_id: str
    locale: str
    transcript: Sequence[Message]

    def waiting_seconds(self, now: datetime) -> int:
        """Time in the queue: until an agent accepted it, or until now while it waits."""
        end = self.handoff.accepted_at or self.handoff.closed_at or now
        return max(0, int((end - self.handoff.requested_at).total_seconds()))


def _item(c: Conversation) -> QueueItem:
    assert c.handoff is not None
    return QueueItem(c.handoff, c.customer_id, c.locale, list(c.messages))


class Conversations:
    def __init__(self, assistant: AssistantService, store: ConversationStore | None = None) -> None:
        self.assistant = assistant
        self.store: ConversationStore = store if store is not None else InMemoryConversations()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @contextmanager
    def _one_at_a_time(self, conversation_id: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(conversation_id, threading.Lock())
        with lock:
            yield

    def _owned(self, customer_id: str, conversation_id: str) -> Conversation:
        conversation = self.store.get(conversation_id)
        if conversation is None or conversation.customer_id != customer_id:
            raise NotFound("No such conversation.")
        return conversation

    def start(self, customer_id: str, locale: str, channel: str, now: datetime) -> Conversation:
        conversation = self.assistant.start(customer_id, locale, channel, now)
        self.store.save(conversation)
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
        with self._one_at_a_time(conversation_id):
            conversation = self._owned(customer_id, conversation_id)
            if conversation.status is ConversationStatus.CLOSED:
                # The agent ended it: answering on would reopen a settled matter, and a confirmation
                # could still act on a card after the agent closed the case.
                raise ConversationClosed(
                    "A support agent closed this conversation. "
                    "Start a new conversation to ask something else."
                )
            reply = self.assistant.send(conversation, text, confirmation_for, reads, now)
            self.store.save(conversation)
            return reply

    def request_handoff(
        self, customer_id: str, conversation_id: str, reason: str, comment: str | None, now: datetime
    ) -> tuple[Handoff, bool]:
        """The handoff, and whether this request created it (a second request returns the first)."""
        if reason not in HANDOFF_REASONS:
            raise ValueError(f"reason must be one of {', '.join(HANDOFF_REASONS)}")
        with self._one_at_a_time(conversation_id):
            conversation = self._owned(customer_id, conversation_id)
            if conversation.handoff is not None:
                return conversation.handoff, False
            handoff = self.assistant.handoff(conversation, reason, comment, now)
            self.store.save(conversation)
            return handoff, True

    def handoff(
        self, customer_id: str, conversation_id: str, reason: str, comment: str | None, now: datetime
    ) -> Handoff:
        return self.request_handoff(customer_id, conversation_id, reason, comment, now)[0]

    def transcript(
        self,
        customer_id: str,
        conversation_id: str,
        access: Access | None = None,
        now: datetime | None = None,
    ) -> Sequence[Message]:
        """The whole transcript in the order sent, disclosure first (text stored masked). With ``access``
        the read is recorded in the audit log."""
        conversation = self._owned(customer_id, conversation_id)
        if access is not None and now is not None:
            self.store.record(access.record(conversation, "conversation", conversation_id, now))
        return list(conversation.messages)

    # --- support agents (staff token) -----------------------------------------------------------

    def queue(
        self, limit: int = QUEUE_PAGE_MAX, after: tuple[datetime, str] | None = None
    ) -> list[QueueItem]:
        """Handoffs waiting for an agent, oldest request first."""
        return [_item(c) for c in self.store.waiting(limit, after)]

    def case(self, handoff_id: str, access: Access | None = None, now: datetime | None = None) -> QueueItem:
        """One handoff with its transcript; with ``access`` the read is recorded in the audit log."""
        conversation = self.store.by_handoff(handoff_id)
        if conversation is None:
            raise NotFound("No such handoff.")
        if access is not None and now is not None:
            self.store.record(access.record(conversation, "handoff", handoff_id, now))
        return _item(conversation)

    def _step(
        self,
        handoff_id: str,
        step: Callable[[Conversation, Handoff], str | None],
        access: Access | None,
        now: datetime,
    ) -> QueueItem:
        """Run one step of the agent's work on the handoff: ``step`` changes it and returns the state it
        expected, or returns None when nothing changes (or raises). Stored by compare and set: when
        another process changed the handoff first, the step is judged again on the new state."""
        conversation_id = self.case(handoff_id).handoff.conversation_id
        with self._one_at_a_time(conversation_id):
            for _ in range(3):
                conversation = self.store.by_handoff(handoff_id)
                if conversation is None or conversation.handoff is None:  # pragma: no cover - never deleted
                    raise NotFound("No such handoff.")
                expected = step(conversation, conversation.handoff)
                audit = access.record(conversation, "handoff", handoff_id, now) if access else None
                if expected is None:
                    if audit is not None:
                        self.store.record(audit)  # asked again: recorded, nothing changed
                    return _item(conversation)
                if self.store.transition(conversation, expected, audit):
                    return _item(conversation)
        raise HandoffConflict("The handoff changed while this request ran. Read it again.")

    def accept(
        self, agent_id: str, handoff_id: str, now: datetime, access: Access | None = None
    ) -> QueueItem:
        """The agent takes the conversation. Accepting one's own again changes nothing."""

        def step(_: Conversation, h: Handoff) -> str | None:
            if h.status == "requested":
                h.status, h.agent_id, h.accepted_at = "accepted", agent_id, now
                return "requested"
            if h.agent_id != agent_id or h.status == "closed":
                raise HandoffConflict(
                    "The handoff was already taken by another agent."
                    if h.status == "accepted"
                    else "The handoff is closed."
                )
            return None

        return self._step(handoff_id, step, access, now)

    def close(self, agent_id: str, handoff_id: str, now: datetime, access: Access | None = None) -> QueueItem:
        """The agent who accepted the handoff closes it, and the conversation with it. Closing a
        closed handoff again changes nothing."""

        def step(c: Conversation, h: Handoff) -> str | None:
            if h.status == "requested":
                raise HandoffConflict("Accept the handoff before closing it.")
            if h.agent_id != agent_id:
                raise HandoffConflict("The handoff belongs to another agent.")
            if h.status == "closed":
                return None
            h.status, h.closed_at = "closed", now
            c.status, c.ended_at = ConversationStatus.CLOSED, now
            return "accepted"

        return self._step(handoff_id, step, access, now)
