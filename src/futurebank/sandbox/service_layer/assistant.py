"""The assistant's use cases: start a conversation, answer a message, hand off to a person.

Every figure in a reply is read through ``AssistantReads`` (the same reads the app uses, under the
customer's own token) and listed in the reply's facts; the text comes from templates. The understanding
(``Understander``) only picks an intent and slots; the rules here decide what happens (handoff rules
H-1..H-4, confirmation of card actions, refusals) so that no message text can change them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol

from futurebank.sandbox.adapters.assistant_kb import KnowledgeBase
from futurebank.sandbox.adapters.assistant_replies import Templates
from futurebank.sandbox.domain.assistant import (
    MISUNDERSTANDINGS_BEFORE_HANDOFF,
    PROPOSAL_TTL,
    SPENDING_CATEGORIES,
    Conversation,
    ConversationStatus,
    Fact,
    Handoff,
    Intent,
    Message,
    Period,
    Proposal,
    ProposedAction,
    Signal,
    Understander,
    Understanding,
    is_negative,
    mask_pii,
    mentions_merchant,
)

log = logging.getLogger("futurebank.assistant")

# The bank's time zone for calendar periods ("in November"): Moscow, UTC+3 all year.
BANK_TZ = timezone(timedelta(hours=3))
# Below this probability the assistant asks again (and never acts): tuned on the evaluation set.
CONFIDENCE_THRESHOLD = 0.45
MAX_LISTED_TRANSACTIONS = 5
MAX_MERCHANT_CHARS = 60


class NoAccess(Exception):
    """The token's scopes or the customer's consent do not cover the read."""


@dataclass(frozen=True)
class AccountView:
    account_id: str
    kind: str
    currency: str
    booked: str
    available: str


@dataclass(frozen=True)
class TransactionView:
    transaction_id: str
    account_id: str
    amount: str  # positive, as the API returns it
    currency: str
    indicator: str  # CRDT | DBIT
    status: str  # BOOK | PDNG
    booked_at: datetime
    merchant_name: str | None
    mcc: str | None
    card_id: str | None
    counterparty_name: str | None


@dataclass(frozen=True)
class CardView:
    card_id: str
    last4: str
    scheme: str
    status: str
    locked: bool


class AssistantReads(Protocol):
    """The app's read operations (and the one card write), called with the customer's own token.
    ``calls`` records the operationIds called, for the transcript."""

    calls: list[str]

    def accounts(self) -> Sequence[AccountView]: ...

    def balances(self, account_id: str) -> AccountView: ...

    def transactions(
        self, account_id: str, booked_from: datetime | None, booked_to: datetime | None
    ) -> Sequence[TransactionView]: ...

    def cards(self) -> Sequence[CardView]: ...

    def set_card_locked(self, card_id: str, locked: bool) -> CardView: ...


# Handoff reasons of the contract (Handoff.reason) for each signal.
_REASON = {
    Signal.HUMAN_REQUEST: "customer_request",
    Signal.COMPLAINT: "complaint",
    Signal.DISPUTE: "dispute",
    Signal.FRAUD: "suspected_fraud",
    Signal.VULNERABLE: "vulnerable_customer",
}
_HANDOFF_TEMPLATE = {
    Signal.HUMAN_REQUEST: "handoff_customer_request",
    Signal.COMPLAINT: "handoff_complaint",
    Signal.DISPUTE: "handoff_complaint",
    Signal.FRAUD: "handoff_fraud",
    Signal.VULNERABLE: "handoff_vulnerable",
}


@dataclass
class Reply:
    intent: Intent
    parts: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    proposed: ProposedAction | None = None
    handoff_reason: str | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BANK_TZ)


def _clean(text: str) -> str:
    """Merchant and counterparty names are data from outside: printable characters only, cut short."""
    return "".join(ch for ch in text if ch.isprintable())[:MAX_MERCHANT_CHARS].strip()


class AssistantService:
    def __init__(
        self,
        understander: Understander,
        knowledge: KnowledgeBase,
        templates: Templates,
        new_id: Callable[[], str],
        threshold: float = CONFIDENCE_THRESHOLD,
    ) -> None:
        self.understander = understander
        self.knowledge = knowledge
        self.templates = templates
        self.new_id = new_id
        self.threshold = threshold

    # --- conversation -------------------------------------------------------------------------

    def start(self, customer_id: str, locale: str, channel: str, now: datetime) -> Conversation:
        conversation = Conversation(self.new_id(), customer_id, locale, channel, now)
        conversation.messages.append(
            Message(
                message_id=self.new_id(),
                role="assistant",
                text=self.templates.text(locale, "disclosure"),
                created_at=now,
                ai_generated=True,
                facts=(),
                model_version=self.understander.model_version,
            )
        )
        return conversation

    def disclosure(self, conversation: Conversation) -> str:
        return conversation.messages[0].text

    def handoff(self, conversation: Conversation, reason: str, comment: str | None, now: datetime) -> Handoff:
        """Queue the conversation for a person (US-0017). A second request returns the first."""
        if conversation.handoff is not None:
            return conversation.handoff
        conversation.status = ConversationStatus.HANDED_OFF
        conversation.pending = None
        conversation.handoff = Handoff(
            handoff_id=self.new_id(),
            conversation_id=conversation.conversation_id,
            reason=reason,
            requested_at=now,
            transcript_message_count=len(conversation.messages),
            comment=mask_pii(comment) if comment else None,
        )
        log.info(
            "assistant handoff", extra={"conversation_id": conversation.conversation_id, "reason": reason}
        )
        return conversation.handoff

    def send(
        self,
        conversation: Conversation,
        text: str,
        confirmation_for: str | None,
        reads: AssistantReads,
        now: datetime,
    ) -> Message:
        masked = mask_pii(text)
        conversation.messages.append(
            Message(
                message_id=self.new_id(),
                role="customer",
                text=masked,
                created_at=now,
                ai_generated=False,
                confirmation_for=confirmation_for,
            )
        )
        log.info("assistant message", extra={"conversation_id": conversation.conversation_id, "text": masked})
        before = len(reads.calls)
        try:
            reply, understanding = self._answer(conversation, text, confirmation_for, reads, now)
        except NoAccess:
            reply, understanding = Reply(Intent.OUT_OF_SCOPE, [self._t(conversation, "no_access")]), None
            reply.facts.clear()
        message = Message(
            message_id=self.new_id(),
            role="assistant",
            text=" ".join(reply.parts),
            created_at=now,
            ai_generated=True,
            intent=reply.intent,
            facts=tuple(reply.facts),
            proposed_action=reply.proposed,
            model_version=(understanding.model_version if understanding else self.understander.model_version),
            api_calls=tuple(reads.calls[before:]),
            handoff_reason=reply.handoff_reason,
        )
        conversation.messages.append(message)
        if reply.proposed is not None:
            conversation.pending = Proposal(
                message.message_id, reply.proposed.action, reply.proposed.card_id, now + PROPOSAL_TTL
            )
        if reply.handoff_reason is not None:
            self.handoff(conversation, reply.handoff_reason, None, now)
        return message

    # --- the rules --------------------------------------------------------------------------

    def _t(self, conversation: Conversation, key: str, **values: str) -> str:
        return self.templates.text(conversation.locale, key, **values)

    def _answer(
        self,
        conv: Conversation,
        text: str,
        confirmation_for: str | None,
        reads: AssistantReads,
        now: datetime,
    ) -> tuple[Reply, Understanding | None]:
        if conv.status is ConversationStatus.HANDED_OFF:
            return Reply(Intent.HANDOFF, [self._t(conv, "handed_off_wait")]), None
        pending, conv.pending = conv.pending, None  # a proposal lives for the next message only
        if confirmation_for is not None:
            return self._confirm(conv, pending, confirmation_for, text, reads, now), None
        if pending is not None and is_negative(text):
            intent = Intent.CARD_LOCK if pending.action == "lock_card" else Intent.CARD_UNLOCK
            return Reply(intent, [self._t(conv, "action_cancelled")]), None

        understanding = self.understander.understand(text, conv.locale, now.astimezone(BANK_TZ).date())
        awaiting, conv.awaiting_card_for = conv.awaiting_card_for, None
        if awaiting is not None and understanding.slots.card_last4:
            conv.misunderstood_in_a_row = 0
            return self._card_action(conv, awaiting, understanding, reads), understanding
        return self._route(conv, text, understanding, reads, now), understanding

    def _route(
        self, conv: Conversation, text: str, u: Understanding, reads: AssistantReads, now: datetime
    ) -> Reply:
        signals = u.signals
        confident = u.confidence >= self.threshold
        # H-4: signs of a vulnerable customer go to a person before anything else.
        if Signal.VULNERABLE in signals:
            return self._handoff_reply(conv, Signal.VULNERABLE)
        # A lost or stolen card is locked first (it stops the loss); a person can follow. A message saying
        # the card is lost never leads to an unlock proposal.
        lost = Signal.CARD_LOST in signals
        if (lost or (confident and u.intent is Intent.CARD_LOCK)) and Signal.INJECTION not in signals:
            conv.misunderstood_in_a_row = 0
            return self._card_action(conv, Intent.CARD_LOCK, u, reads)
        # H-2: complaints, disputes and suspected fraud.
        for signal in (Signal.FRAUD, Signal.DISPUTE, Signal.COMPLAINT):
            if signal in signals:
                return self._handoff_reply(conv, signal)
        if Signal.INJECTION in signals:
            conv.misunderstood_in_a_row = 0
            return Reply(Intent.OUT_OF_SCOPE, [self._t(conv, "injection_declined")])
        # H-1: asked for a person, in any phrasing the classifier knows.
        if u.intent is Intent.HANDOFF and confident:
            return self._handoff_reply(conv, Signal.HUMAN_REQUEST)
        if Signal.MONEY_MOVEMENT in signals:
            conv.misunderstood_in_a_row = 0
            return Reply(Intent.OUT_OF_SCOPE, [self._t(conv, "transfer_declined")])
        if Signal.THIRD_PARTY in signals:
            conv.misunderstood_in_a_row = 0
            return Reply(Intent.OUT_OF_SCOPE, [self._t(conv, "third_party_declined")])
        if not confident or u.intent is Intent.OUT_OF_SCOPE:
            # H-3: a message the assistant cannot place (unsure, or nothing it does) is a
            # misunderstanding; the second in a row goes to a person.
            conv.misunderstood_in_a_row += 1
            if conv.misunderstood_in_a_row >= MISUNDERSTANDINGS_BEFORE_HANDOFF:
                return Reply(
                    Intent.HANDOFF,
                    [self._t(conv, "handoff_assistant_cannot_help")],
                    handoff_reason="assistant_cannot_help",
                )
            return Reply(Intent.OUT_OF_SCOPE, [self._t(conv, "clarify" if not confident else "out_of_scope")])
        conv.misunderstood_in_a_row = 0
        if u.intent is Intent.BALANCE_INQUIRY:
            return self._balances(conv, u, reads)
        if u.intent is Intent.TRANSACTION_SEARCH:
            return self._transactions(conv, text, u, reads)
        if u.intent is Intent.SPENDING_BY_CATEGORY:
            return self._spending(conv, u, reads, now)
        if u.intent is Intent.FAQ:
            return self._faq(conv, text)
        if u.intent is Intent.CARD_UNLOCK:
            return self._card_action(conv, Intent.CARD_UNLOCK, u, reads)
        return Reply(Intent.OUT_OF_SCOPE, [self._t(conv, "out_of_scope")])

    def _handoff_reply(self, conv: Conversation, signal: Signal) -> Reply:
        conv.misunderstood_in_a_row = 0
        return Reply(
            Intent.HANDOFF, [self._t(conv, _HANDOFF_TEMPLATE[signal])], handoff_reason=_REASON[signal]
        )

    # --- intents ----------------------------------------------------------------------------

    def _accounts(self, u: Understanding, reads: AssistantReads) -> list[AccountView]:
        accounts = list(reads.accounts())
        chosen = [a for a in accounts if u.slots.account_kind and a.kind == u.slots.account_kind]
        return chosen or accounts

    def _money(self, conv: Conversation, amount: str, currency: str) -> str:
        return self.templates.money(conv.locale, amount, currency)

    def _balances(self, conv: Conversation, u: Understanding, reads: AssistantReads) -> Reply:
        reply = Reply(Intent.BALANCE_INQUIRY)
        accounts = self._accounts(u, reads)
        if not accounts:
            reply.parts.append(self._t(conv, "no_accounts"))
            return reply
        reply.parts.append(self._t(conv, "balance_intro"))
        held = False
        for account in accounts:
            b = reads.balances(account.account_id)
            for balance_type, amount in (("ITAV", b.available), ("ITBD", b.booked)):
                reply.facts.append(
                    Fact("balance", "getAccountBalances", b.account_id, amount, b.currency, balance_type)
                )
            held = held or b.available != b.booked
            reply.parts.append(
                self._t(
                    conv,
                    "balance_line",
                    account=self.templates.label(conv.locale, "accounts", b.kind),
                    available=self._money(conv, b.available, b.currency),
                    booked=self._money(conv, b.booked, b.currency),
                )
            )
        if held:
            reply.parts.append(self._t(conv, "balance_hint"))
        return reply

    def _transaction_fact(self, t: TransactionView) -> Fact:
        return Fact(
            "transaction",
            "listTransactions",
            t.account_id,
            t.amount,
            t.currency,
            transaction_id=t.transaction_id,
            booking_date_time=t.booked_at,
        )

    def _transactions(self, conv: Conversation, text: str, u: Understanding, reads: AssistantReads) -> Reply:
        reply = Reply(Intent.TRANSACTION_SEARCH)
        period = u.slots.period
        rows: list[TransactionView] = []
        for account in self._accounts(u, reads):
            rows.extend(
                reads.transactions(
                    account.account_id,
                    _start_of(period.start) if period else None,
                    _start_of(period.end) if period else None,
                )
            )
        merchants = {
            r.merchant_name for r in rows if r.merchant_name and mentions_merchant(text, r.merchant_name)
        }
        if merchants:
            rows = [r for r in rows if r.merchant_name in merchants]
        if u.slots.card_last4:
            cards = {c.card_id for c in reads.cards() if c.last4 == u.slots.card_last4}
            rows = [r for r in rows if r.card_id in cards]
        rows.sort(key=lambda r: (r.booked_at, r.transaction_id), reverse=True)
        shown = rows[:MAX_LISTED_TRANSACTIONS]
        if not shown:
            reply.parts.append(self._t(conv, "transactions_none"))
            return reply
        reply.parts.append(
            self._t(
                conv,
                "transactions_intro",
                operations=self.templates.count(conv.locale, "operation", len(shown)),
            )
        )
        for row in shown:
            reply.facts.append(self._transaction_fact(row))
            sign = "+" if row.indicator == "CRDT" else "−"
            name = _clean(row.merchant_name or row.counterparty_name or "") or "—"
            reply.parts.append(
                self._t(
                    conv,
                    "transaction_line",
                    date=self.templates.day(conv.locale, row.booked_at.astimezone(BANK_TZ).date()),
                    merchant=name,
                    amount=sign + self._money(conv, row.amount, row.currency),
                )
            )
        return reply

    def _spending(self, conv: Conversation, u: Understanding, reads: AssistantReads, now: datetime) -> Reply:
        reply = Reply(Intent.SPENDING_BY_CATEGORY)
        category = u.slots.category
        if category is None:
            reply.parts.append(self._t(conv, "spending_need_category"))
            return reply
        today = now.astimezone(BANK_TZ).date()
        period = u.slots.period or Period(today.replace(day=1), today + timedelta(days=1))
        start, end = _start_of(period.start), _start_of(period.end)
        codes = SPENDING_CATEGORIES[category]
        label = self.templates.label(conv.locale, "categories", category)
        shown_from = self.templates.day(conv.locale, period.start)
        shown_to = self.templates.day(conv.locale, period.end - timedelta(days=1))
        for account in self._accounts(u, reads):
            rows = [
                r
                for r in reads.transactions(account.account_id, start, end)
                if r.indicator == "DBIT" and r.status == "BOOK" and r.mcc in codes
            ]
            if not rows:
                # The period stated is a fact too: a zero total for it.
                reply.facts.append(
                    Fact(
                        "spending_total",
                        "listTransactions",
                        account.account_id,
                        "0.00",
                        account.currency,
                        booked_from=start,
                        booked_to=end,
                    )
                )
                continue
            total = sum((_cents(r.amount) for r in rows), 0)
            amount = f"{total // 100}.{total % 100:02d}"
            reply.facts.append(
                Fact(
                    "spending_total",
                    "listTransactions",
                    account.account_id,
                    amount,
                    account.currency,
                    booked_from=start,
                    booked_to=end,
                )
            )
            reply.facts.extend(self._transaction_fact(r) for r in rows[:40])
            reply.parts.append(
                self._t(
                    conv,
                    "spending_line",
                    account=self.templates.label(conv.locale, "accounts", account.kind),
                    **{"from": shown_from, "to": shown_to},
                    category=label,
                    amount=self._money(conv, amount, account.currency),
                    operations=self.templates.count(conv.locale, "operation", len(rows)),
                )
            )
        if not reply.parts:
            reply.parts.append(
                self._t(conv, "spending_none", **{"from": shown_from, "to": shown_to}, category=label)
            )
        return reply

    def _faq(self, conv: Conversation, text: str) -> Reply:
        hit = self.knowledge.lookup(text, conv.locale)
        if hit is None:
            return Reply(Intent.FAQ, [self._t(conv, "faq_unknown")])
        answer = hit.entry.answers[conv.locale.split("-")[0]]
        return Reply(Intent.FAQ, [self._t(conv, "faq_answer", answer=answer)])

    def _card_label(self, conv: Conversation, card: CardView) -> str:
        scheme = {"MIR": "Мир" if conv.locale == "ru-RU" else "Mir"}.get(card.scheme.upper(), card.scheme)
        return f"{scheme} •• {card.last4}"

    def _card_action(
        self, conv: Conversation, intent: Intent, u: Understanding, reads: AssistantReads
    ) -> Reply:
        lock = intent is Intent.CARD_LOCK
        cards = [c for c in reads.cards() if c.status == "active"]
        if u.slots.card_last4:
            named = [c for c in cards if c.last4 == u.slots.card_last4]
            cards = named or cards
        if not cards:
            return Reply(intent, [self._t(conv, "card_none")])
        if len(cards) > 1:
            # Prefer the cards the action would change; still several: ask which one.
            changeable = [c for c in cards if c.locked != lock]
            cards = changeable or cards
        if len(cards) > 1:
            conv.awaiting_card_for = intent
            labels = ", ".join(self._card_label(conv, c) for c in cards)
            return Reply(intent, [self._t(conv, "card_which", cards=labels)])
        card = cards[0]
        if card.locked == lock:
            key = "card_already_locked" if lock else "card_already_unlocked"
            return Reply(intent, [self._t(conv, key, card=self._card_label(conv, card))])
        key = "card_lock_propose" if lock else "card_unlock_propose"
        return Reply(
            intent,
            [self._t(conv, key, card=self._card_label(conv, card))],
            proposed=ProposedAction("lock_card" if lock else "unlock_card", card.card_id),
        )

    def _confirm(
        self,
        conv: Conversation,
        pending: Proposal | None,
        confirmation_for: str,
        text: str,
        reads: AssistantReads,
        now: datetime,
    ) -> Reply:
        if pending is None or pending.message_id != confirmation_for:
            return Reply(Intent.OUT_OF_SCOPE, [self._t(conv, "nothing_to_confirm")])
        intent = Intent.CARD_LOCK if pending.action == "lock_card" else Intent.CARD_UNLOCK
        if not pending.accepts(confirmation_for, now):
            return Reply(intent, [self._t(conv, "proposal_expired")])
        if is_negative(text):
            return Reply(intent, [self._t(conv, "action_cancelled")])
        card = reads.set_card_locked(pending.card_id, pending.action == "lock_card")
        key = "card_locked" if card.locked else "card_unlocked"
        return Reply(intent, [self._t(conv, key, card=self._card_label(conv, card))])


def _cents(amount: str) -> int:
    units, _, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])
