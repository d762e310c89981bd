"""Database tables (SQLAlchemy Core) and the classical mapping of the domain classes onto them.

Money columns hold integer minor units: exact on SQLite and PostgreSQL alike. The ledger's
invariants live in the database too (the django-hordak habit), whatever code path writes:

* the CHECK on ``accounts`` refuses a balance beyond the overdraft limit;
* the composite foreign key ``postings (account_id, currency) -> accounts (id, currency)`` refuses a
  leg in another currency than its account's;
* the triggers of migration 0002 (``migrations/versions/0002_ledger_invariants.py``, which lists
  them) refuse an unbalanced journal entry, any UPDATE or DELETE of postings, journal entries and
  audit entries, and any change of a stored balance that is not one posting being added.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.consents import Consent
from futurebank.sandbox.domain.customers import Customer
from futurebank.sandbox.domain.ledger import Account
from futurebank.sandbox.domain.payments import Payment

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on both databases.

    SQLite has no time-zone type and would hand back naive values; storing UTC and re-attaching
    the zone keeps comparisons and RFC 3339 output correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: the sandbox stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UtcDateTime()

customers = Table(
    "customers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", String(200), nullable=False),
    Column("date_of_birth", Date, nullable=True),
    Column("email", String(200), nullable=True),
    Column("phone", String(16), nullable=True),
    Column("preferred_language", String(2), nullable=False),
    Column("customer_since", Date, nullable=False),
    Column("created_at", TS, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=True, index=True),
    Column("number", String(34), nullable=False, unique=True),
    Column("name", String(70), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("overdraft_limit_minor", BigInteger, nullable=False),
    Column("booked_minor", BigInteger, nullable=False),
    Column("pending_minor", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_at", TS, nullable=False),
    # The last posting added to the balances (maintained by the database, not mapped onto
    # ``Account``): a balance may only change by exactly the amount of a newer posting.
    Column("last_posting_seq", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("overdraft_limit_minor >= 0", name="limit_not_negative"),
    CheckConstraint(
        "kind = 'internal' OR booked_minor + pending_minor >= -overdraft_limit_minor",
        name="within_limit",
    ),
    # The parent key of the postings' composite foreign key (account, currency).
    Index("uq_accounts_id_currency", "id", "currency", unique=True),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(4), nullable=False),
    Column("booked_at", TS, nullable=False),
    Column("description", String(140), nullable=False),
    Column("merchant_name", String(100), nullable=True),
    Column("mcc", String(4), nullable=True),
    Column("merchant_city", String(60), nullable=True),
    Column("merchant_country", String(2), nullable=True),
    Column("card_id", String(64), nullable=True),
    Column("payment_id", String(64), nullable=True),
)

# One row per leg. ``id`` is the public transaction id of that leg as its account sees it.
# The entry's foreign key is checked at commit: on SQLite the legs are written before their entry's
# row, which closes the entry (see migration 0002).
postings = Table(
    "postings",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column(
        "entry_id",
        String(64),
        ForeignKey("journal_entries.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
        index=True,
    ),
    Column("account_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(4), nullable=False),
    Column("booked_at", TS, nullable=False),
    Column("counterparty_name", String(200), nullable=True),
    Column("counterparty_account", String(34), nullable=True),
    CheckConstraint("amount_minor <> 0", name="not_zero"),
    CheckConstraint("status IN ('BOOK', 'PDNG')", name="status"),
    ForeignKeyConstraint(["account_id", "currency"], ["accounts.id", "accounts.currency"]),
    Index("ix_postings_account_booked", "account_id", "booked_at", "seq"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("debtor_account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("creditor_account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("creditor_account_number", String(34), nullable=False),
    Column("creditor_name", String(70), nullable=True),
    Column("to_own_account", Boolean, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(4), nullable=False),
    Column("remittance_information", String(140), nullable=True),
    Column("end_to_end_id", String(35), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("status_updated_at", TS, nullable=False),
    Column("journal_id", String(64), ForeignKey("journal_entries.id"), nullable=True),
    Column("status_reason", String(4), nullable=True),
    CheckConstraint("amount_minor > 0", name="positive"),
    Index("ix_payments_customer_created", "customer_id", "created_at", "id"),
)

cards = Table(
    "cards",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=False, index=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("masked_pan", String(16), nullable=False),
    Column("payment_system", String(16), nullable=False),
    Column("card_type", String(16), nullable=False),
    Column("expiry", String(7), nullable=False),
    Column("status", String(16), nullable=False),
    Column("locked", Boolean, nullable=False),
    Column("controls_updated_at", TS, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=True),
    Column("client_id", String(64), nullable=False),
    Column("permissions", JSON, nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("status_updated_at", TS, nullable=False),
    Column("expires_at", TS, nullable=True),
    Column("transactions_from", TS, nullable=True),
    Column("transactions_to", TS, nullable=True),
    Index("ix_consents_customer_client", "customer_id", "client_id"),
    Index("ix_consents_client", "client_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("client_id", "customer_id", "key"),
)

# The transactional outbox of KPI events (ADR-0004, change C-23): written in the transaction of the
# action it reports, relayed afterwards; ``published_at`` stays NULL until the relay has delivered it.
kpi_outbox = Table(
    "kpi_outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("occurred_at", TS, nullable=False),
    Column("payload", Text, nullable=False),
    Column("published_at", TS, nullable=True),
)

# The audit log: ``AUDIT_CHAINS`` keyed hash chains, so concurrent transactions append without
# queueing on one row (``domain/audit.py``). ``seq`` orders entries across chains (gaps allowed: a
# rolled-back transaction's number is never reused); ``chain_seq`` numbers each chain without gaps.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("chain", Integer, nullable=False),
    Column("chain_seq", BigInteger, nullable=False),
    Column("at", String(40), nullable=False),
    Column("action", String(64), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_id", String(128), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON text, MACed as stored
    Column("prev_mac", String(64), nullable=False),
    Column("mac", String(64), nullable=False),  # HMAC-SHA-256 with the key kept outside the database
    UniqueConstraint("chain", "chain_seq", name="uq_audit_log_chain_seq"),
)

# One row per chain: its last entry. A transaction locks one free row (``SKIP LOCKED``), so up to
# ``AUDIT_CHAINS`` transactions append at once; the rows are checked against the seals written
# outside the database (``adapters/audit_seal.py``).
audit_chains = Table(
    "audit_chains",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("mac", String(64), nullable=False),
)

# Entries written before migration 0002 (one unkeyed SHA-256 chain), kept read-only as history.
audit_log_v1 = Table(
    "audit_log_v1",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("action", String(64), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_id", String(128), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The assistant's conversations (migration 0003). Message text is stored masked (card, phone and
# passport numbers, ``domain.assistant.mask_pii``) before it reaches these tables; ``seq`` keeps the
# transcript in the order sent. A conversation has at most one pending proposal and one handoff.
assistant_conversations = Table(
    "assistant_conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=False, index=True),
    Column("locale", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("ended_at", TS, nullable=True),
    Column("misunderstood_in_a_row", Integer, nullable=False),
    Column("awaiting_card_for", String(32), nullable=True),
    CheckConstraint("status IN ('open', 'handed_off', 'closed')", name="status"),
)

assistant_messages = Table(
    "assistant_messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(64), ForeignKey("assistant_conversations.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("ai_generated", Boolean, nullable=False),
    Column("intent", String(32), nullable=True),
    Column("facts", JSON, nullable=True),  # the reply's facts as the contract shows them
    Column("proposed_action", String(16), nullable=True),
    Column("proposed_card_id", String(64), nullable=True),
    Column("confirmation_for", String(64), nullable=True),
    Column("model_version", String(200), nullable=True),
    Column("api_calls", JSON, nullable=False),  # operationIds called for the reply, in order
    Column("handoff_reason", String(32), nullable=True),
    CheckConstraint("role IN ('customer', 'assistant', 'agent')", name="role"),
    UniqueConstraint("conversation_id", "seq", name="uq_assistant_messages_conversation_seq"),
)

assistant_proposals = Table(
    "assistant_proposals",
    metadata,
    Column("conversation_id", String(64), ForeignKey("assistant_conversations.id"), primary_key=True),
    Column("message_id", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("card_id", String(64), nullable=False),
    Column("expires_at", TS, nullable=False),
    CheckConstraint("action IN ('lock_card', 'unlock_card')", name="action"),
)

assistant_handoffs = Table(
    "assistant_handoffs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "conversation_id", String(64), ForeignKey("assistant_conversations.id"), nullable=False, unique=True
    ),
    Column("reason", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_at", TS, nullable=False),
    Column("transcript_message_count", Integer, nullable=False),
    Column("comment", String(500), nullable=True),
    Column("agent_id", String(64), nullable=True),
    Column("accepted_at", TS, nullable=True),
    Column("closed_at", TS, nullable=True),
    CheckConstraint("status IN ('requested', 'accepted', 'closed')", name="status"),
    Index("ix_assistant_handoffs_status_requested", "status", "requested_at", "id"),
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables once per process (cosmicpython's classical mapping)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Customer, customers)
    mapper_registry.map_imperatively(Account, accounts, exclude_properties=["last_posting_seq"])
    mapper_registry.map_imperatively(Payment, payments)
    mapper_registry.map_imperatively(Card, cards)
    mapper_registry.map_imperatively(Consent, consents)
    _mapped = True
