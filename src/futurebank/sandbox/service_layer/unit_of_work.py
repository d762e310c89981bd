"""Unit of work: one database transaction and the repositories bound to it.

Nothing is written unless ``commit()`` is called; leaving the block without it rolls back. On
SQLite the block also holds this process's writer lock (see ``adapters.db``).
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session

from futurebank.sandbox.adapters import repository as repo
from futurebank.sandbox.adapters.db import Database, is_lock_timeout
from futurebank.sandbox.domain.errors import DatabaseBusy


class UnitOfWork:
    customers: repo.CustomerRepository
    accounts: repo.AccountRepository
    ledger: repo.LedgerRepository
    payments: repo.PaymentRepository
    cards: repo.CardRepository
    consents: repo.ConsentRepository
    idempotency: repo.IdempotencyRepository
    audit: repo.AuditRepository
    kpi_outbox: repo.KpiOutboxRepository
    conversations: repo.ConversationRepository
    session: Session

    def __init__(self, db: Database) -> None:
        self.db = db
        self._locked = False

    def __enter__(self) -> UnitOfWork:
        # Writers are short (milliseconds), so waiting without a timeout is safe here.
        self.db.write_lock.acquire()
        self._locked = True
        try:
            self.session = self.db.sessions()
        except BaseException:
            self._release()
            raise
        s = self.session
        self.customers = repo.CustomerRepository(s)
        self.accounts = repo.AccountRepository(s)
        self.ledger = repo.LedgerRepository(s)
        self.payments = repo.PaymentRepository(s)
        self.cards = repo.CardRepository(s)
        self.consents = repo.ConsentRepository(s)
        self.idempotency = repo.IdempotencyRepository(s)
        self.audit = repo.AuditRepository(s)
        self.kpi_outbox = repo.KpiOutboxRepository(s)
        self.conversations = repo.ConversationRepository(s)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()  # no-op after commit; undoes everything otherwise
            self.session.close()
        finally:
            self._release()
        # Another process held SQLite's write lock past the busy timeout: a temporary condition the
        # client may retry (503 DATABASE_BUSY), not a crash. Here, so that every transaction gets it:
        # the bus's and the authorisation server's own lookups alike.
        if exc is not None and is_lock_timeout(exc):
            raise DatabaseBusy("The database is busy. Retry in a moment.") from exc

    def _release(self) -> None:
        if self._locked:
            self._locked = False
            self.db.write_lock.release()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def flush(self) -> None:
        self.session.flush()
