"""The assistant's domain: intents, slots, the understanding interface and the rules that never depend on a
model (handoff signals, confirmations, proposal expiry, masking). Standard library only.

The spec: docs/stories/ep-0007-ai-assistant.md (US-0015..US-0019), docs/nfr/ai.md, ADR-0006.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol


class Intent(StrEnum):
    """The contract's intents (AssistantMessage.intent)."""

    BALANCE_INQUIRY = "balance_inquiry"
    TRANSACTION_SEARCH = "transaction_search"
    SPENDING_BY_CATEGORY = "spending_by_category"
    FAQ = "faq"
    CARD_LOCK = "card_lock"
    CARD_UNLOCK = "card_unlock"
    HANDOFF = "handoff"
    OUT_OF_SCOPE = "out_of_scope"


ACTION_INTENTS = frozenset({Intent.CARD_LOCK, Intent.CARD_UNLOCK})


class Signal(StrEnum):
    """What a message shows besides its intent; each one sends the conversation to a person."""

    HUMAN_REQUEST = "customer_request"
    COMPLAINT = "complaint"
    DISPUTE = "dispute"
    FRAUD = "fraud"
    VULNERABLE = "vulnerable_customer"
    MONEY_MOVEMENT = "money_movement"  # declined with directions to the app, never handed off
    THIRD_PARTY = "third_party"  # somebody else's money: declined without any figure
    INJECTION = "injection"  # an attempt to change the assistant's rules: declined, nothing changes
    CARD_LOST = "card_lost"  # a lost or stolen card: the lock is proposed first, never an unlock


@dataclass(frozen=True)
class Period:
    """A half-open interval of calendar days [start, end) in the bank's time zone."""

    start: date
    end: date


@dataclass(frozen=True)
class Slots:
    account_kind: str | None = None  # "current" or "savings"
    period: Period | None = None
    category: str | None = None  # a key of SPENDING_CATEGORIES
    card_last4: str | None = None
    merchant: str | None = None  # normalised words to match against the customer's merchants


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    confidence: float
    slots: Slots
    model_version: str
    signals: frozenset[Signal] = frozenset()


class Understander(Protocol):
    """Turns one customer message into an intent and slots. It never writes reply text."""

    @property
    def model_version(self) -> str: ...

    def understand(self, text: str, locale: str, today: date) -> Understanding: ...


# MCC groups (ISO 18245 codes) the assistant totals. Taxi is its own group and also part of transport.
SPENDING_CATEGORIES: dict[str, frozenset[str]] = {
    "groceries": frozenset({"5411", "5422", "5441", "5451", "5462", "5499"}),
    "restaurants": frozenset({"5812", "5813", "5814"}),
    "taxi": frozenset({"4121"}),
    "transport": frozenset({"4111", "4112", "4121", "4131", "4784", "4789", "5541", "5542"}),
    "entertainment": frozenset({"7832", "7841", "7922", "7991", "7996"}),
    "pharmacy": frozenset({"5912", "8011", "8021", "8062"}),
    "clothing": frozenset({"5611", "5621", "5631", "5651", "5661", "5691", "5699"}),
    "utilities": frozenset({"4814", "4899", "4900"}),
}

# A proposal (card lock or unlock) can be confirmed for this long (US-0018).
PROPOSAL_TTL = timedelta(minutes=5)
# Two misunderstood messages in a row send the conversation to a person (rule H-3 in the story).
MISUNDERSTANDINGS_BEFORE_HANDOFF = 2


@dataclass
class Proposal:
    message_id: str
    action: str  # lock_card | unlock_card
    card_id: str
    expires_at: datetime

    def accepts(self, confirmation_for: str | None, now: datetime) -> bool:
        return confirmation_for == self.message_id and now < self.expires_at


# --- rules on words -------------------------------------------------------------------------------
# Stems matched at word starts after normalise(); Russian stems cover the inflected forms.

_SIGNAL_STEMS: dict[Signal, tuple[str, ...]] = {
    Signal.COMPLAINT: ("жалоб", "пожалова", "претензи", "complain", "complaint"),
    Signal.DISPUTE: (
        "оспор",
        "опротест",
        "чарджбэк",
        "chargeback",
        "dispute",
        "не соверша",
        "не делала",
        "не делал",
        "didn't make",
        "did not make",
        "не моя операц",
        "not my transaction",
        "списали дважды",
        "charged twice",
    ),
    Signal.FRAUD: (
        "мошен",
        "украл",
        "укра",
        "взлом",
        "fraud",
        "scam",
        "stolen",
        "hacked",
        "звонили из банка",
        "служба безопасности банка",
        "просят код",
        "назвал код",
        "сказал код",
        "told them the code",
        "asked for the code",
    ),
    Signal.VULNERABLE: (
        "не хочу жить",
        "покончить",
        "суицид",
        "угрожа",
        "заставля",
        "принуждают",
        "меня бьют",
        "опекун",
        "деменц",
        "не понимаю ничего",
        "помогите пожалуйста срочно",
        "умер",
        "умерла",
        "похорон",
        "потерял работу",
        "потеряла работу",
        "долги душат",
        "коллектор",
        "want to die",
        "kill myself",
        "suicid",
        "threaten",
        "forcing me",
        "being forced",
        "coerc",
        "dementia",
        "carer",
        "passed away",
        "bereave",
        "funeral",
        "lost my job",
        "debt collector",
        "can't cope",
        "cannot cope",
    ),
    Signal.MONEY_MOVEMENT: (
        "переведи",
        "перевести",
        "переведите",
        "перекинь",
        "скинь",
        "отправь деньги",
        "отправь ему",
        "отправь ей",
        "оплати",
        "заплати",
        "пополни",
        "transfer",
        "send money",
        "send him",
        "send her",
        "pay my",
        "pay the",
        "pay bill",
        "top up",
        "wire ",
        "move 1000",
        "move 5000",
        "forward 100",
        "перешли",
    ),
    Signal.CARD_LOST: (
        "потерял карт",
        "потеряла карт",
        "карту потерял",
        "карта потерял",
        "карточку потерял",
        "потерял карточк",
        "потеряла карточк",
        "украли карт",
        "карту украли",
        "карта пропала",
        "пропала карта",
        "вытащили карт",
        "lost my card",
        "lost the card",
        "lost card",
        "card lost",
        "card is lost",
        "card was stolen",
        "card stolen",
        "stolen card",
        "card is missing",
        "card's gone",
        "card is gone",
        "pickpocket",
    ),
    Signal.THIRD_PARTY: (
        "у жены",
        "у мужа",
        "у мамы",
        "у папы",
        "у брата",
        "у сестры",
        "у соседа",
        "у друга",
        "у подруги",
        "жены на",
        "соседа",
        "my wife's",
        "my husband's",
        "my mum's",
        "my mom's",
        "my dad's",
        "my brother's",
        "my sister's",
        "neighbour's",
        "neighbor's",
        "friend's",
    ),
    Signal.INJECTION: (
        "забудь",
        "игнорируй",
        "проигнорируй",
        "представься",
        "притворись",
        "выдай себя",
        "веди себя как",
        "системный промпт",
        "системное сообщение",
        "свой промпт",
        "режим разработчика",
        "без цензуры",
        "без ограничений",
        "без правил",
        "ignore",
        "disregard",
        "forget your",
        "forget all",
        "pretend",
        "act as",
        "behave like",
        "introduce yourself",
        "system prompt",
        "system message",
        "your prompt",
        "developer mode",
        "uncensored",
        "no restrictions",
        "without rules",
        "you are dan",
        "ты dan",
    ),
}

_AFFIRM = frozenset(
    [
        "да",
        "ага",
        "угу",
        "конечно",
        "подтверждаю",
        "давай",
        "блокируй",
        "разблокируй",
        "верно",
        "точно",
        "yes",
        "yep",
        "yeah",
        "sure",
        "confirm",
        "confirmed",
        "ok",
        "okay",
        "go",
        "lock",
        "unlock",
    ]
)
_NEGATE = frozenset(
    ["нет", "неа", "не", "отмена", "стоп", "no", "nope", "cancel", "stop", "don't", "dont", "not"]
)
_WORD = re.compile(r"[\w']+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, ё as е, whitespace collapsed: the form every rule and the classifier see."""
    return " ".join(text.lower().replace("ё", "е").split())


# A capitalised name with a possessive ("Boris's balance") or "does Boris have": somebody else's money.
_OTHER_PERSON = re.compile(r"\b[A-Z][a-z]+'s\b|\bdoes [A-Z][a-z]+ have\b")
# A money verb followed by an amount ("send 500 to mum", "скинь 300").
_MONEY_VERB = re.compile(
    r"\b(send|transfer|move|forward|wire|pay|скинь|кинь|отправь|перечисли)\s+\d", re.IGNORECASE
)


def detect_signals(text: str) -> frozenset[Signal]:
    norm = " " + normalise(text)
    found = {signal for signal, stems in _SIGNAL_STEMS.items() if any((" " + stem) in norm for stem in stems)}
    if _OTHER_PERSON.search(text):
        found.add(Signal.THIRD_PARTY)
    if _MONEY_VERB.search(text):
        found.add(Signal.MONEY_MOVEMENT)
    return frozenset(found)


def is_negative(text: str) -> bool:
    words = set(_WORD.findall(normalise(text)))
    return bool(words & _NEGATE)


def is_affirmative(text: str) -> bool:
    words = set(_WORD.findall(normalise(text)))
    return bool(words & _AFFIRM) and not is_negative(text)


# --- masking (NFR-0021 via NFR-0029): card, phone and passport numbers ---------------------------

# Invisible format characters (zero-width space and joiners, word joiner, soft hyphen, BOM): they
# change nothing a reader sees, so they are dropped before masking, or they could hide a number.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
# Between the digits of a number: spaces on one line (``\s`` is Unicode-aware: no-break, thin, narrow
# no-break spaces; line breaks excluded, so amounts listed one per line stay readable), up to three in a
# row, or one hyphen or dash with a space either side or none.
_SPACE = r"[^\S\n\r\v\f\x1c-\x1e\x85\u2028\u2029]"
_GAP = rf"(?:{_SPACE}{{1,3}}|{_SPACE}?[-\u2010-\u2015]{_SPACE}?)"
_CARD = re.compile(rf"(?<!\d)(?:\d{_GAP}?){{12,18}}\d(?!\d)")
# Written in groups of four with dots, slashes or underscores (2200.0000.0000.0001); dates written
# with dots (03.12.2026) do not have that shape, so they stay readable.
_GROUP = rf"{_SPACE}?[./_]{_SPACE}?"
_CARD_GROUPED = re.compile(
    rf"(?<!\d)\d{{4}}(?:{_GROUP}\d{{4}}){{2}}{_GROUP}\d{{1,4}}(?:{_GROUP}\d{{1,3}})?(?!\d)"
)
_PHONE_GAP = rf"(?:{_SPACE}|[\-.()])*"
_PHONE = re.compile(
    rf"(?<!\d)(?:\+7|8){_PHONE_GAP}\d{{3}}{_PHONE_GAP}\d{{3}}{_PHONE_GAP}\d{{2}}{_PHONE_GAP}\d{{2}}(?!\d)"
)
_PASSPORT = re.compile(rf"(?<!\d)\d{{2}}{_SPACE}?\d{{2}}(?:{_SPACE}|[№N]){{0,3}}\d{{6}}(?!\d)")


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_pii(text: str) -> str:
    """Mask card numbers (last four kept), phone numbers and passport numbers in free text."""
    text = _INVISIBLE.sub("", text)
    text = _PHONE.sub("[phone]", text)
    text = _CARD_GROUPED.sub(_mask_card, text)
    text = _CARD.sub(_mask_card, text)
    return _PASSPORT.sub("[passport]", text)


# --- conversation state -------------------------------------------------------------------------


class ConversationStatus(StrEnum):
    OPEN = "open"
    HANDED_OFF = "handed_off"
    CLOSED = "closed"


@dataclass(frozen=True)
class Fact:
    """One figure a reply states and where it came from (AssistantMessage.facts)."""

    kind: str  # balance | transaction | spending_total
    source_operation: str
    account_id: str
    amount: str
    currency: str
    balance_type: str | None = None
    transaction_id: str | None = None
    booking_date_time: datetime | None = None
    booked_from: datetime | None = None
    booked_to: datetime | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "source_operation": self.source_operation,
            "account_id": self.account_id,
            "money": {"amount": self.amount, "currency": self.currency},
        }
        if self.balance_type:
            out["balance_type"] = self.balance_type
        if self.transaction_id:
            out["transaction_id"] = self.transaction_id
        if self.booking_date_time:
            out["booking_date_time"] = self.booking_date_time.isoformat()
        if self.booked_from:
            out["booked_from"] = self.booked_from.isoformat()
        if self.booked_to:
            out["booked_to"] = self.booked_to.isoformat()
        return out


@dataclass(frozen=True)
class ProposedAction:
    action: str
    card_id: str


@dataclass
class Message:
    message_id: str
    role: str  # customer | assistant | agent
    text: str  # masked before it is stored
    created_at: datetime
    ai_generated: bool
    intent: Intent | None = None
    facts: tuple[Fact, ...] | None = None
    proposed_action: ProposedAction | None = None
    confirmation_for: str | None = None
    model_version: str | None = None
    api_calls: tuple[str, ...] = ()
    handoff_reason: str | None = None


@dataclass
class Handoff:
    handoff_id: str
    conversation_id: str
    reason: str
    requested_at: datetime
    transcript_message_count: int
    comment: str | None = None
    status: str = "requested"
    agent_id: str | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class Conversation:
    conversation_id: str
    customer_id: str
    locale: str
    channel: str
    started_at: datetime
    status: ConversationStatus = ConversationStatus.OPEN
    messages: list[Message] = field(default_factory=list)
    pending: Proposal | None = None
    misunderstood_in_a_row: int = 0
    # A "which card?" question waits for digits: the intent it was asked for.
    awaiting_card_for: Intent | None = None
    handoff: Handoff | None = None
    ended_at: datetime | None = None
    # How many messages the store held when this copy was loaded: a save that finds more was raced by
    # another process, and is refused rather than interleaving or dropping messages.
    stored_messages: int = 0


# --- transliteration: merchants are stored in Latin script, customers write them in either -------

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip


def latin(text: str) -> str:
    """Russian letters in Latin script (a simple passport-style table), for matching merchant names."""
    return "".join(_TRANSLIT.get(ch, ch) for ch in normalise(text))


def _loose(word: str) -> str:
    # Spellings that differ between transliteration tables: ks/x, kh/h, y/i.
    return word.replace("ks", "x").replace("kh", "h").replace("y", "i").replace("j", "i")


def mentions_merchant(text: str, merchant_name: str) -> bool:
    """True when a word of the message starts like a distinctive word of the merchant's name."""
    words = [_loose(w) for w in _WORD.findall(latin(text)) if len(w) >= 4]
    for part in _WORD.findall(latin(merchant_name)):
        part = _loose(part)
        if len(part) < 4:
            continue
        need = min(len(part) - 1, 6) if len(part) > 4 else 4
        if any(w[:need] == part[:need] for w in words):
            return True
    return False
