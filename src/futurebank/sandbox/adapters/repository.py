"""Repositories: the only code that knows SQL. Every query a customer can reach filters by the
customer's id, so another customer's row is simply not found (ownership by construction)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from futurebank.sandbox.adapters import orm
from futurebank.sandbox.domain.assistant import (
    Conversation,
    ConversationStatus,
    Fact,
    Handoff,
    Intent,
    Message,
    Proposal,
    ProposedAction,
)
from futurebank.sandbox.domain.audit import AUDIT_CHAINS, GENESIS, AuditRecord, StoredEntry, chain_mac
from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.consents import Consent, ConsentStatus
from futurebank.sandbox.domain.customers import Customer
from futurebank.sandbox.domain.errors import ConversationChanged, KeyInFlight
from futurebank.sandbox.domain.idempotency import StoredResponse
from futurebank.sandbox.domain.kpi import KpiEvent
from futurebank.sandbox.domain.ledger import Account, AccountKind, JournalEntry
from futurebank.sandbox.domain.payments import Payment

_A = orm.accounts.c
_LOCK_FOR_TRANSFER = (
    select(
        _A.id,
        _A.customer_id,
        _A.number,
        _A.name,
        _A.currency,
        _A.kind,
        _A.overdraft_limit_minor,
        _A.booked_minor,
        _A.pending_minor,
        _A.status,
        _A.opened_at,
        orm.customers.c.full_name,
    )
    .select_from(orm.accounts.outerjoin(orm.customers, orm.customers.c.id == _A.customer_id))
    .where(
        or_(
            _A.id == bindparam("debtor"),
            _A.id == bindparam("creditor"),
            _A.number == bindparam("number"),
        )
    )
    .order_by(_A.id)
    .with_for_update(of=orm.accounts)
)
_INSERT_ENTRY = orm.journal_entries.insert()
_INSERT_POSTINGS = orm.postings.insert()
_INSERT_PAYMENT = orm.payments.insert()
_H = orm.audit_chains.c
# The lowest chain no other transaction holds. SQLite drops the locking clause (one writer anyway),
# so there every entry goes to chain 0.
_AUDIT_FREE_CHAIN = select(_H.id, _H.seq, _H.mac).order_by(_H.id).limit(1).with_for_update(skip_locked=True)
_AUDIT_CHAIN = select(_H.id, _H.seq, _H.mac).where(_H.id == bindparam("chain")).with_for_update()
_AUDIT_NEXT_SEQ: dict[str, Executable] = {
    "postgresql": text("SELECT nextval('audit_log_seq')"),
    "sqlite": select(func.coalesce(func.max(orm.audit_log.c.seq), 0) + 1),
}
_AUDIT_INSERT = orm.audit_log.insert()
_AUDIT_MOVE_HEAD = (
    update(orm.audit_chains)
    .where(_H.id == bindparam("chain"))
    .values(seq=bindparam("seq"), mac=bindparam("mac"))
)
_K = orm.idempotency_keys.c
_IDEMPOTENCY_GET = select(_K.fingerprint, _K.status_code, _K.body, _K.created_at).where(
    _K.client_id == bindparam("client_id"),
    _K.customer_id == bindparam("customer_id"),
    _K.key == bindparam("key"),
)
_IDEMPOTENCY_STORE = (
    update(orm.idempotency_keys)
    .where(
        _K.client_id == bindparam("k_client"),
        _K.customer_id == bindparam("k_customer"),
        _K.key == bindparam("k_key"),
    )
    .values(status_code=bindparam("status"), body=bindparam("body"))
)
_IDEMPOTENCY_RENEW = (
    update(orm.idempotency_keys)
    .where(
        _K.client_id == bindparam("k_client"),
        _K.customer_id == bindparam("k_customer"),
        _K.key == bindparam("k_key"),
    )
    .values(fingerprint=bindparam("fp"), status_code=0, body=b"", created_at=bindparam("at"))
)
KEY_RETENTION = timedelta(hours=24)
# RETURNING tells whether this statement inserted the row (rowcount is not reliable for it on psycopg).
_IDEMPOTENCY_CLAIM = {
    "postgresql": postgresql.insert(orm.idempotency_keys).on_conflict_do_nothing().returning(_K.key),
    "sqlite": sqlite.insert(orm.idempotency_keys).on_conflict_do_nothing().returning(_K.key),
}


def _sql(session: Session) -> Connection:
    """The connection of the session's current transaction, for the hot path's Core statements:
    ``Session.execute`` puts every statement through the ORM's statement handling (about 50 µs each
    here), which a Core insert or a column select does not need. The connection is looked up once
    per transaction (``Session.connection()`` costs about 25 µs a call) and never outlives it."""
    tx = session.get_transaction()
    held = session.info.get("core_connection")
    if tx is not None and held is not None and held[0] is tx:
        return held[1]  # type: ignore[no-any-return]
    connection = session.connection()
    session.info["core_connection"] = (session.get_transaction(), connection)
    return connection


_BIRTH_DATE = select(orm.customers.c.date_of_birth).where(orm.customers.c.id == bindparam("id"))


class CustomerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, customer_id: str) -> Customer | None:
        return self.session.get(Customer, customer_id)

    def date_of_birth(self, customer_id: str) -> date | None:
        """The one fact the KPI events need of a customer, without loading the whole row."""
        return _sql(self.session).execute(_BIRTH_DATE, {"id": customer_id}).scalar_one_or_none()

    def by_username(self, username: str) -> Customer | None:
        return self.session.scalars(select(Customer).where(orm.customers.c.username == username)).first()

    def add(self, customer: Customer) -> None:
        self.session.add(customer)

    def all(self) -> Sequence[Customer]:
        return self.session.scalars(
            select(Customer).order_by(orm.customers.c.created_at, orm.customers.c.id)
        ).all()


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, account: Account) -> None:
        """Open the account with zero balances: the database adds each of its postings to them and
        refuses an account that opens with money in it (migration 0002). The object's balances are
        what the postings will make them, so they are not written here."""
        self.session.flush()  # the holder's row first (foreign key)
        row = {c.name: getattr(account, c.name) for c in orm.accounts.columns if c.name != "last_posting_seq"}
        self.session.execute(orm.accounts.insert(), {**row, "booked_minor": 0, "pending_minor": 0})

    def owned(self, customer_id: str, account_id: str) -> Account | None:
        return self.session.scalars(
            select(Account).where(orm.accounts.c.id == account_id, orm.accounts.c.customer_id == customer_id)
        ).first()

    def for_customer(self, customer_id: str) -> Sequence[Account]:
        return self.session.scalars(
            select(Account)
            .where(
                orm.accounts.c.customer_id == customer_id, orm.accounts.c.kind != AccountKind.INTERNAL.value
            )
            .order_by(orm.accounts.c.opened_at, orm.accounts.c.id)
        ).all()

    def by_number(self, number: str) -> Account | None:
        return self.session.scalars(select(Account).where(orm.accounts.c.number == number)).first()

    def lock_for_transfer(
        self, debtor_id: str, creditor_id: str | None, creditor_number: str | None
    ) -> list[tuple[Account, str | None]]:
        """Load and lock, in one statement, the rows a transfer may change: the debtor by id and the
        creditor by id or by number, each with its holder's name. Rows come in id order so two
        transfers in opposite directions lock in the same order and cannot deadlock. ``FOR UPDATE``
        is dropped by SQLAlchemy on SQLite, where BEGIN IMMEDIATE already holds the write lock.

        The transfer path is the hot path, so it uses a prepared Core statement and builds the
        domain objects itself instead of going through the ORM's identity map."""
        rows = (
            _sql(self.session)
            .execute(
                _LOCK_FOR_TRANSFER,
                {"debtor": debtor_id, "creditor": creditor_id or "", "number": creditor_number or ""},
            )
            .all()
        )
        return [(Account(*row[:11]), row[11]) for row in rows]

    def save_balances(self, accounts: Sequence[Account]) -> None:
        """Nothing to write: the database adds every posting to its account's stored balances as the
        posting is inserted (migration 0002), and refuses any other change of them. The objects
        already hold the same values (``domain.ledger.post``)."""

    def all(self) -> Sequence[Account]:
        return self.session.scalars(select(Account).order_by(orm.accounts.c.id)).all()


@dataclass(frozen=True)
class TransactionRow:
    """One leg as its account sees it, joined with its journal entry."""

    id: str
    seq: int
    account_id: str
    amount_minor: int
    currency: str
    status: str
    booked_at: datetime
    description: str
    merchant_name: str | None
    mcc: str | None
    merchant_city: str | None
    merchant_country: str | None
    card_id: str | None
    kind: str
    payment_id: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    entry_id: str


_TXN_COLUMNS = (
    orm.postings.c.id,
    orm.postings.c.seq,
    orm.postings.c.account_id,
    orm.postings.c.amount_minor,
    orm.postings.c.currency,
    orm.postings.c.status,
    orm.postings.c.booked_at,
    orm.journal_entries.c.description,
    orm.journal_entries.c.merchant_name,
    orm.journal_entries.c.mcc,
    orm.journal_entries.c.merchant_city,
    orm.journal_entries.c.merchant_country,
    orm.journal_entries.c.card_id,
    orm.journal_entries.c.kind,
    orm.journal_entries.c.payment_id,
    orm.postings.c.counterparty_name,
    orm.postings.c.counterparty_account,
    orm.postings.c.entry_id,
)


def _txn(row: Any) -> TransactionRow:  # a Row of _TXN_COLUMNS
    return TransactionRow(*tuple(row))


@dataclass(frozen=True)
class LegInfo:
    """What the other side of a leg is called, as shown in the account's transaction list."""

    counterparty_name: str | None = None
    counterparty_account: str | None = None


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: JournalEntry, leg_ids: Sequence[str], leg_info: Sequence[LegInfo]) -> None:
        """The legs first, then the entry's row, which closes the entry: on SQLite the database
        checks the legs' sum when that row arrives (migration 0002)."""
        m = entry.merchant
        _sql(self.session).execute(
            _INSERT_POSTINGS,
            [
                {
                    "id": leg_id,
                    "entry_id": entry.id,
                    "account_id": leg.account_id,
                    "amount_minor": leg.amount_minor,
                    "currency": leg.currency,
                    "status": entry.status.value,
                    "booked_at": entry.booked_at,
                    "counterparty_name": info.counterparty_name,
                    "counterparty_account": info.counterparty_account,
                }
                for leg, leg_id, info in zip(entry.legs, leg_ids, leg_info, strict=True)
            ],
        )
        _sql(self.session).execute(
            _INSERT_ENTRY,
            {
                "id": entry.id,
                "kind": entry.kind,
                "status": entry.status.value,
                "booked_at": entry.booked_at,
                "description": entry.description,
                "merchant_name": m.name if m else None,
                "mcc": m.mcc if m else None,
                "merchant_city": m.city if m else None,
                "merchant_country": m.country if m else None,
                "card_id": entry.card_id,
                "payment_id": entry.payment_id,
            },
        )

    def transactions(
        self,
        account_id: str,
        *,
        booked_from: datetime | None,
        booked_to: datetime | None,
        booked_until: datetime | None = None,
        indicator: str | None,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> list[TransactionRow]:
        """Newest first; ``after`` is the (booked_at, seq) of the last row of the previous page."""
        p = orm.postings.c
        query = (
            select(*_TXN_COLUMNS)
            .join(orm.journal_entries, orm.journal_entries.c.id == p.entry_id)
            .where(p.account_id == account_id)
        )
        if booked_from is not None:
            query = query.where(p.booked_at >= booked_from)
        if booked_to is not None:  # the API's booked_to is exclusive
            query = query.where(p.booked_at < booked_to)
        if booked_until is not None:  # a consent's transactions_to is inclusive
            query = query.where(p.booked_at <= booked_until)
        if indicator == "CRDT":
            query = query.where(p.amount_minor > 0)
        elif indicator == "DBIT":
            query = query.where(p.amount_minor < 0)
        if after is not None:
            at, seq = after
            query = query.where(or_(p.booked_at < at, and_(p.booked_at == at, p.seq < seq)))
        query = query.order_by(p.booked_at.desc(), p.seq.desc()).limit(limit)
        return [_txn(r) for r in self.session.execute(query)]

    def transaction(self, account_id: str, transaction_id: str) -> TransactionRow | None:
        p = orm.postings.c
        row = self.session.execute(
            select(*_TXN_COLUMNS)
            .join(orm.journal_entries, orm.journal_entries.c.id == p.entry_id)
            .where(p.account_id == account_id, p.id == transaction_id)
        ).first()
        return _txn(row) if row is not None else None

    def leg_for_payment(self, payment_id: str, account_id: str) -> TransactionRow | None:
        p = orm.postings.c
        row = self.session.execute(
            select(*_TXN_COLUMNS)
            .join(orm.journal_entries, orm.journal_entries.c.id == p.entry_id)
            .where(orm.journal_entries.c.payment_id == payment_id, p.account_id == account_id)
        ).first()
        return _txn(row) if row is not None else None

    def posting_sums(self) -> dict[tuple[str, str], int]:
        """Sum of postings per (account, status): the ground truth the cached balances must equal."""
        p = orm.postings.c
        rows = self.session.execute(
            select(p.account_id, p.status, func.sum(p.amount_minor)).group_by(p.account_id, p.status)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def entry_sums(self) -> dict[str, int]:
        p = orm.postings.c
        rows = self.session.execute(select(p.entry_id, func.sum(p.amount_minor)).group_by(p.entry_id))
        return {r[0]: int(r[1]) for r in rows}

    def legs_of_entry(self, entry_id: str) -> list[tuple[str, int]]:
        p = orm.postings.c
        rows = self.session.execute(select(p.account_id, p.amount_minor).where(p.entry_id == entry_id))
        return [(r[0], int(r[1])) for r in rows]


_PAYMENT_FIELDS = tuple(c.name for c in orm.payments.columns)


class PaymentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, payment: Payment) -> None:
        """Core insert (the hot path); the ORM mapping serves the reads."""
        _sql(self.session).execute(_INSERT_PAYMENT, {f: getattr(payment, f) for f in _PAYMENT_FIELDS})

    def owned(self, customer_id: str, payment_id: str) -> Payment | None:
        return self.session.scalars(
            select(Payment).where(orm.payments.c.id == payment_id, orm.payments.c.customer_id == customer_id)
        ).first()

    def for_customer(
        self, customer_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[Payment]:
        c = orm.payments.c
        query = select(Payment).where(c.customer_id == customer_id)
        if after is not None:
            at, pid = after
            query = query.where(or_(c.created_at < at, and_(c.created_at == at, c.id < pid)))
        return self.session.scalars(query.order_by(c.created_at.desc(), c.id.desc()).limit(limit)).all()

    def all(self) -> Sequence[Payment]:
        return self.session.scalars(select(Payment)).all()


class CardRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, card: Card) -> None:
        self.session.add(card)

    def owned(self, customer_id: str, card_id: str, for_update: bool = False) -> Card | None:
        query = select(Card).where(orm.cards.c.id == card_id, orm.cards.c.customer_id == customer_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def for_customer(self, customer_id: str) -> Sequence[Card]:
        return self.session.scalars(
            select(Card).where(orm.cards.c.customer_id == customer_id).order_by(orm.cards.c.id)
        ).all()


class ConsentRepository:
    """Consents are visible to the customer who granted them, or (client credentials tokens) to the
    client app they were granted to."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, consent: Consent) -> None:
        self.session.add(consent)

    @staticmethod
    def _visible(customer_id: str | None, client_id: str, any_client: bool) -> Any:
        """A client app's own consents (of this customer, with a customer token); ``any_client``
        (the bank's own app) widens a customer token to all of that customer's consents."""
        c = orm.consents.c
        if customer_id is None:
            return c.client_id == client_id
        if any_client:
            return c.customer_id == customer_id
        return and_(c.customer_id == customer_id, c.client_id == client_id)

    def visible(
        self,
        customer_id: str | None,
        client_id: str,
        consent_id: str,
        for_update: bool = False,
        any_client: bool = False,
    ) -> Consent | None:
        query = select(Consent).where(
            orm.consents.c.id == consent_id, self._visible(customer_id, client_id, any_client)
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def get(self, consent_id: str) -> Consent | None:
        return self.session.get(Consent, consent_id)

    def page(
        self,
        customer_id: str | None,
        client_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
        any_client: bool = False,
    ) -> Sequence[Consent]:
        c = orm.consents.c
        query = select(Consent).where(self._visible(customer_id, client_id, any_client))
        if after is not None:
            at, cid = after
            query = query.where(or_(c.created_at < at, and_(c.created_at == at, c.id < cid)))
        return self.session.scalars(query.order_by(c.created_at.desc(), c.id.desc()).limit(limit)).all()

    def authorised_for(self, customer_id: str, client_id: str) -> Sequence[Consent]:
        c = orm.consents.c
        return self.session.scalars(
            select(Consent).where(
                c.customer_id == customer_id,
                c.client_id == client_id,
                c.status == ConsentStatus.AUTHORISED.value,
            )
        ).all()


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(
        self, client_id: str, customer_id: str, key: str, fingerprint: str, now: datetime, wait_ms: int
    ) -> StoredResponse | None:
        """Insert a placeholder for the key in the current transaction, or return what is stored.

        The placeholder is never visible to anyone else: it commits together with the real
        response. A concurrent request with the same key blocks on the unique index until the
        first commits (PostgreSQL) or cannot start before it (SQLite's single writer), and then
        finds the stored response to replay. On PostgreSQL the wait is bounded by ``lock_timeout``.
        """
        values = {
            "client_id": client_id,
            "customer_id": customer_id,
            "key": key,
            "fingerprint": fingerprint,
            "status_code": 0,
            "body": b"",
            "created_at": now,
        }
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            self.session.execute(text(f"SET LOCAL lock_timeout = {int(wait_ms)}"))
        try:
            inserted = _sql(self.session).execute(_IDEMPOTENCY_CLAIM[dialect], values).first() is not None
        except OperationalError as exc:  # lock_timeout expired: the first request is still running
            if dialect != "postgresql":
                raise  # SQLite: another process holds the write lock (the bus answers 503)
            raise KeyInFlight(
                "A request with this Idempotency-Key is still being processed. Retry shortly."
            ) from exc
        if dialect == "postgresql":
            self.session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
        if inserted:
            return None
        row = self.session.execute(
            _IDEMPOTENCY_GET, {"client_id": client_id, "customer_id": customer_id, "key": key}
        ).one()
        if row[3] < now - KEY_RETENTION:
            # Older than the 24 hours the contract keeps keys: forget it and start afresh.
            self.session.execute(
                _IDEMPOTENCY_RENEW,
                {
                    "k_client": client_id,
                    "k_customer": customer_id,
                    "k_key": key,
                    "fp": fingerprint,
                    "at": now,
                },
            )
            return None
        return StoredResponse(fingerprint=row[0], status=int(row[1]), body=bytes(row[2]))

    def store(self, client_id: str, customer_id: str, key: str, status: int, body: bytes) -> None:
        _sql(self.session).execute(
            _IDEMPOTENCY_STORE,
            {"k_client": client_id, "k_customer": customer_id, "k_key": key, "status": status, "body": body},
        )

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(orm.idempotency_keys)).scalar_one())


class AuditRepository:
    """Appends to one of the keyed audit chains (``domain/audit.py``); the key and the seals come
    from ``Session.info["audit"]`` (``adapters/audit_seal.py``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _key(self) -> bytes:
        sealer = self.session.info.get("audit")
        if sealer is None:
            raise RuntimeError("no audit key: open the database with bootstrap.open_database")
        key: bytes = sealer.key
        return key

    def _chain(self) -> tuple[int, int, str]:
        """The chain this transaction appends to: the one it already holds, else a free one."""
        transaction = self.session.get_transaction()
        held = self.session.info.get("audit_chain")
        if held is not None and held[0] is transaction:
            return held[1], held[2], held[3]
        row = _sql(self.session).execute(_AUDIT_FREE_CHAIN).first()
        if row is None:  # every chain is held (more writers than chains): queue on a random one
            row = self.session.execute(_AUDIT_CHAIN, {"chain": random.randrange(AUDIT_CHAINS)}).one()
        return int(row[0]), int(row[1]), str(row[2])

    def append(self, record: AuditRecord) -> str:
        """MAC the record onto a chain held by this transaction until it ends (other transactions
        use other chains meanwhile); returns the entry's MAC."""
        key = self._key()
        chain, chain_seq, prev = self._chain()
        chain_seq += 1
        dialect = self.session.get_bind().dialect.name
        seq = int(_sql(self.session).execute(_AUDIT_NEXT_SEQ[dialect]).scalar_one())
        body = record.body(seq, chain, chain_seq)
        mac = chain_mac(key, prev, body)
        _sql(self.session).execute(
            _AUDIT_INSERT,
            {
                "seq": seq,
                "chain": chain,
                "chain_seq": chain_seq,
                "at": record.at,
                "action": record.action,
                "client_id": record.client_id,
                "customer_id": record.customer_id,
                "resource_type": record.resource_type,
                "resource_id": record.resource_id,
                "correlation_id": record.correlation_id,
                "outcome": record.outcome,
                "details": json.dumps(
                    record.details, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ),
                "prev_mac": prev,
                "mac": mac,
            },
        )
        _sql(self.session).execute(_AUDIT_MOVE_HEAD, {"chain": chain, "seq": chain_seq, "mac": mac})
        self.session.info["audit_chain"] = (self.session.get_transaction(), chain, chain_seq, mac)
        self.session.info.setdefault("audit_pending", {})[chain] = (chain_seq, mac)
        return mac

    def heads(self) -> dict[int, tuple[int, str]]:
        """Each chain's last (chain_seq, MAC) as the head rows record it."""
        h = orm.audit_chains.c
        return {int(r[0]): (int(r[1]), str(r[2])) for r in self.session.execute(select(h.id, h.seq, h.mac))}

    def head(self) -> tuple[int, str]:
        """The newest entry's (seq, MAC) across all chains; (0, GENESIS) when the log is empty."""
        a = orm.audit_log.c
        row = self.session.execute(select(a.seq, a.mac).order_by(a.seq.desc()).limit(1)).first()
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def legacy_count(self) -> int:
        """Entries of the unkeyed chain written before migration 0002 (kept read-only)."""
        return int(self.session.execute(select(func.count()).select_from(orm.audit_log_v1)).scalar_one())

    def entries(self) -> Iterator[StoredEntry]:
        a = orm.audit_log.c
        result = self.session.execute(select(orm.audit_log).order_by(a.seq)).mappings()
        for r in result:
            try:
                details = json.loads(r["details"])
            except ValueError:
                details = {"unparseable": r["details"]}
            body = {
                "seq": int(r["seq"]),
                "chain": int(r["chain"]),
                "chain_seq": int(r["chain_seq"]),
                "at": r["at"],
                "action": r["action"],
                "client_id": r["client_id"],
                "customer_id": r["customer_id"],
                "resource_type": r["resource_type"],
                "resource_id": r["resource_id"],
                "correlation_id": r["correlation_id"],
                "outcome": r["outcome"],
                "details": details,
            }
            yield StoredEntry(
                seq=int(r["seq"]),
                chain=int(r["chain"]),
                chain_seq=int(r["chain_seq"]),
                body=body,
                prev_mac=r["prev_mac"],
                mac=r["mac"],
            )


# --- the assistant's conversations (migration 0003) ------------------------------------------------

_CONV = orm.assistant_conversations
_MSG = orm.assistant_messages
_PROP = orm.assistant_proposals
_HAND = orm.assistant_handoffs


def _fact_from_json(data: dict[str, Any]) -> Fact:
    def when(name: str) -> datetime | None:
        value = data.get(name)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    money = data["money"]
    return Fact(
        kind=data["kind"],
        source_operation=data["source_operation"],
        account_id=data["account_id"],
        amount=money["amount"],
        currency=money["currency"],
        balance_type=data.get("balance_type"),
        transaction_id=data.get("transaction_id"),
        booking_date_time=when("booking_date_time"),
        booked_from=when("booked_from"),
        booked_to=when("booked_to"),
    )


def _message(row: Any) -> Message:
    proposed = (
        ProposedAction(row.proposed_action, row.proposed_card_id) if row.proposed_action is not None else None
    )
    return Message(
        message_id=row.id,
        role=row.role,
        text=row.text,
        created_at=row.created_at,
        ai_generated=row.ai_generated,
        intent=Intent(row.intent) if row.intent is not None else None,
        facts=tuple(_fact_from_json(f) for f in row.facts) if row.facts is not None else None,
        proposed_action=proposed,
        confirmation_for=row.confirmation_for,
        model_version=row.model_version,
        api_calls=tuple(row.api_calls or ()),
        handoff_reason=row.handoff_reason,
    )


def _handoff(row: Any) -> Handoff:
    return Handoff(
        handoff_id=row.id,
        conversation_id=row.conversation_id,
        reason=row.reason,
        requested_at=row.requested_at,
        transcript_message_count=row.transcript_message_count,
        comment=row.comment,
        status=row.status,
        agent_id=row.agent_id,
        accepted_at=row.accepted_at,
        closed_at=row.closed_at,
    )


def _handoff_values(h: Handoff) -> dict[str, Any]:
    return {
        "reason": h.reason,
        "status": h.status,
        "requested_at": h.requested_at,
        "transcript_message_count": h.transcript_message_count,
        "comment": h.comment,
        "agent_id": h.agent_id,
        "accepted_at": h.accepted_at,
        "closed_at": h.closed_at,
    }


class ConversationRepository:
    """Assistant conversations with their transcript, pending proposal and handoff. Messages are
    only ever added (``save`` inserts the ones after the stored count); text arrives masked."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, conversation_id: str) -> Conversation | None:
        row = self.session.execute(select(_CONV).where(_CONV.c.id == conversation_id)).one_or_none()
        if row is None:
            return None
        messages = self.session.execute(
            select(_MSG).where(_MSG.c.conversation_id == conversation_id).order_by(_MSG.c.seq)
        ).all()
        proposal = self.session.execute(
            select(_PROP).where(_PROP.c.conversation_id == conversation_id)
        ).one_or_none()
        handoff = self.session.execute(
            select(_HAND).where(_HAND.c.conversation_id == conversation_id)
        ).one_or_none()
        return Conversation(
            conversation_id=row.id,
            customer_id=row.customer_id,
            locale=row.locale,
            channel=row.channel,
            started_at=row.started_at,
            status=ConversationStatus(row.status),
            messages=[_message(m) for m in messages],
            pending=(
                Proposal(proposal.message_id, proposal.action, proposal.card_id, proposal.expires_at)
                if proposal is not None
                else None
            ),
            misunderstood_in_a_row=row.misunderstood_in_a_row,
            awaiting_card_for=Intent(row.awaiting_card_for) if row.awaiting_card_for else None,
            handoff=_handoff(handoff) if handoff is not None else None,
            stored_messages=len(messages),
            ended_at=row.ended_at,
        )

    def owned(self, customer_id: str, conversation_id: str) -> Conversation | None:
        conversation = self.get(conversation_id)
        return conversation if conversation is not None and conversation.customer_id == customer_id else None

    def save(self, c: Conversation) -> None:
        """Insert or update the conversation; add the messages not stored yet."""
        values: dict[str, Any] = {
            "customer_id": c.customer_id,
            "locale": c.locale,
            "channel": c.channel,
            "status": c.status.value,
            "started_at": c.started_at,
            "ended_at": c.ended_at,
            "misunderstood_in_a_row": c.misunderstood_in_a_row,
            "awaiting_card_for": c.awaiting_card_for.value if c.awaiting_card_for else None,
        }
        # A closed conversation stays closed, whatever a reply racing with the agent's close holds.
        update_values = {
            **values,
            "status": case((_CONV.c.status == "closed", "closed"), else_=c.status.value),
            "ended_at": func.coalesce(_CONV.c.ended_at, literal(c.ended_at, orm.TS)),
        }
        changed = self.session.execute(
            update(_CONV).where(_CONV.c.id == c.conversation_id).values(**update_values)
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            self.session.execute(_CONV.insert().values(id=c.conversation_id, **values))
        stored = self.session.execute(
            select(func.count()).select_from(_MSG).where(_MSG.c.conversation_id == c.conversation_id)
        ).scalar_one()
        if stored != c.stored_messages:
            raise ConversationChanged(
                "Another message of this conversation was answered at the same time. Send yours again."
            )
        new = [
            {
                "id": m.message_id,
                "conversation_id": c.conversation_id,
                "seq": seq,
                "role": m.role,
                "text": m.text,
                "created_at": m.created_at,
                "ai_generated": m.ai_generated,
                "intent": m.intent.value if m.intent is not None else None,
                "facts": [f.as_json() for f in m.facts] if m.facts is not None else None,
                "proposed_action": m.proposed_action.action if m.proposed_action else None,
                "proposed_card_id": m.proposed_action.card_id if m.proposed_action else None,
                "confirmation_for": m.confirmation_for,
                "model_version": m.model_version,
                "api_calls": list(m.api_calls),
                "handoff_reason": m.handoff_reason,
            }
            for seq, m in enumerate(c.messages)
            if seq >= stored
        ]
        if new:
            self.session.execute(_MSG.insert(), new)
        c.stored_messages = len(c.messages)
        self.session.execute(_PROP.delete().where(_PROP.c.conversation_id == c.conversation_id))
        if c.pending is not None:
            p = c.pending
            self.session.execute(
                _PROP.insert().values(
                    conversation_id=c.conversation_id,
                    message_id=p.message_id,
                    action=p.action,
                    card_id=p.card_id,
                    expires_at=p.expires_at,
                )
            )
        # A handoff is written once here; its later steps go through ``transition`` only, so a reply
        # saved after an agent's accept cannot put the old state back.
        if c.handoff is not None:
            h = c.handoff
            stored_handoff = self.session.execute(
                select(_HAND.c.id).where(_HAND.c.conversation_id == c.conversation_id)
            ).scalar_one_or_none()
            if stored_handoff is None:
                self.session.execute(
                    _HAND.insert().values(
                        id=h.handoff_id, conversation_id=c.conversation_id, **_handoff_values(h)
                    )
                )

    def transition(self, c: Conversation, expected: str) -> bool:
        """Store the handoff's new state if its stored state is still ``expected`` (compare and set);
        a closed handoff closes its conversation. False: another request changed it first."""
        assert c.handoff is not None
        h = c.handoff
        done = self.session.execute(
            update(_HAND)
            .where(_HAND.c.id == h.handoff_id, _HAND.c.status == expected)
            .values(status=h.status, agent_id=h.agent_id, accepted_at=h.accepted_at, closed_at=h.closed_at)
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            return False
        if h.status == "closed":
            self.session.execute(
                update(_CONV)
                .where(_CONV.c.id == c.conversation_id)
                .values(status="closed", ended_at=c.ended_at)
            )
        return True

    def by_handoff(self, handoff_id: str) -> Conversation | None:
        conversation_id = self.session.execute(
            select(_HAND.c.conversation_id).where(_HAND.c.id == handoff_id)
        ).scalar_one_or_none()
        return self.get(conversation_id) if conversation_id is not None else None

    def waiting(self, limit: int, after: tuple[datetime, str] | None = None) -> list[Conversation]:
        """Conversations whose handoff waits for an agent, oldest request first, one page."""
        query = select(_HAND.c.conversation_id).where(_HAND.c.status == "requested")
        if after is not None:
            query = query.where(
                or_(
                    _HAND.c.requested_at > after[0],
                    and_(_HAND.c.requested_at == after[0], _HAND.c.id > after[1]),
                )
            )
        ids = self.session.execute(query.order_by(_HAND.c.requested_at, _HAND.c.id).limit(limit)).scalars()
        return [c for c in (self.get(i) for i in list(ids)) if c is not None]


_INSERT_KPI_EVENT = orm.kpi_outbox.insert()


class KpiOutboxRepository:
    """The KPI events' transactional outbox (``orm.kpi_outbox``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: KpiEvent) -> None:
        payload = json.dumps(event.payload(), ensure_ascii=False, separators=(",", ":"))
        _sql(self.session).execute(
            _INSERT_KPI_EVENT,
            {"event_id": event.event_id, "occurred_at": event.occurred_at, "payload": payload},
        )

    def unpublished(self, limit: int = 500) -> list[tuple[int, str]]:
        """(seq, payload) of events not yet published, oldest first."""
        rows = self.session.execute(
            select(orm.kpi_outbox.c.seq, orm.kpi_outbox.c.payload)
            .where(orm.kpi_outbox.c.published_at.is_(None))
            .order_by(orm.kpi_outbox.c.seq)
            .limit(limit)
        )
        return [(int(seq), str(payload)) for seq, payload in rows]

    def mark_published(self, seqs: Sequence[int], at: datetime) -> None:
        if seqs:
            self.session.execute(
                orm.kpi_outbox.update().where(orm.kpi_outbox.c.seq.in_(seqs)).values(published_at=at)
            )
