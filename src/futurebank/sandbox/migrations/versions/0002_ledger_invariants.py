"""ledger invariants in the database; keyed, multi-chain audit log

The database itself refuses, whatever code path or SQL console writes (the django-hordak habit):

* ``entry-balanced``: a journal entry whose legs do not sum to zero in every currency, or that has
  fewer than two legs. PostgreSQL: a deferred constraint trigger checks each entry at commit, so
  legs may be written one by one in any order. SQLite has no deferred triggers: there the entry's
  row closes the entry. Its legs are written first (the entry foreign key is deferred to commit),
  the row's insert trigger checks the sum, and a leg for an entry that already has its row is
  refused. One multi-row INSERT would not do: SQLite fires row triggers row by row.
* ``leg-currency``: a leg whose currency is not its account's (a composite foreign key, both).
* ``append-only``: UPDATE, DELETE (and TRUNCATE on PostgreSQL) of postings, journal entries and
  audit entries. Resetting the sandbox drops and recreates the schema (``adapters.migrate.recreate``).
* ``balance-from-postings``: the database adds every posting to its account's stored balance, an
  account is opened with zero balances, and any other change of a balance is refused: a change must
  be exactly one newer posting of that account (``accounts.last_posting_seq``). On PostgreSQL the
  posting's number is drawn after its account row is locked, so it grows with the account's
  history even when concurrent transactions post to the same account.

The old unkeyed audit chain is kept, read-only, as ``audit_log_v1``; the keyed log starts empty
(its key lives outside the database, where a migration cannot reach it). A downgrade drops the keyed
log and puts ``audit_log_v1`` back as ``audit_log``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_CHAINS = 16  # frozen here: domain.audit.AUDIT_CHAINS may grow later by a migration
GENESIS = "0" * 64
APPEND_ONLY = ("postings", "journal_entries", "audit_log", "audit_log_v1")

_POSTING_COLUMNS = (
    "seq, id, entry_id, account_id, amount_minor, currency, status, booked_at, "
    "counterparty_name, counterparty_account"
)


def _postings_table(*, invariants: bool) -> list[Any]:
    """The postings table as 0002 wants it (``invariants``) or as 0001 made it."""
    entry_fk = (
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name="fk_postings_entry_id_journal_entries",
            deferrable=True,
            initially="DEFERRED",
        )
        if invariants
        else sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name="fk_postings_entry_id_journal_entries"
        )
    )
    account_fk = (
        sa.ForeignKeyConstraint(
            ["account_id", "currency"],
            ["accounts.id", "accounts.currency"],
            name="fk_postings_account_id_accounts",
        )
        if invariants
        else sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_postings_account_id_accounts")
    )
    extra = (
        [sa.CheckConstraint("status IN ('BOOK', 'PDNG')", name=op.f("ck_postings_status"))]
        if invariants
        else []
    )
    return [
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=4), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counterparty_name", sa.String(length=200), nullable=True),
        sa.Column("counterparty_account", sa.String(length=34), nullable=True),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_postings_not_zero")),
        *extra,
        account_fk,
        entry_fk,
        sa.PrimaryKeyConstraint("seq", name="pk_postings"),
        sa.UniqueConstraint("id", name="uq_postings_id"),
    ]


def _rebuild_postings_sqlite(*, invariants: bool) -> None:
    """SQLite cannot alter a constraint: copy the rows into a new table and swap it in."""
    op.create_table("_postings_new", *_postings_table(invariants=invariants))
    op.execute(f"INSERT INTO _postings_new ({_POSTING_COLUMNS}) SELECT {_POSTING_COLUMNS} FROM postings")
    op.drop_table("postings")
    op.rename_table("_postings_new", "postings")
    op.create_index("ix_postings_account_booked", "postings", ["account_id", "booked_at", "seq"])
    op.create_index("ix_postings_entry_id", "postings", ["entry_id"])


def _audit_tables() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("chain", sa.Integer(), nullable=False),
        sa.Column("chain_seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("chain", "chain_seq", name="uq_audit_log_chain_seq"),
    )
    chains = op.create_table(
        "audit_chains",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chains"),
    )
    op.bulk_insert(chains, [{"id": i, "seq": 0, "mac": GENESIS} for i in range(AUDIT_CHAINS)])


# --- SQLite triggers -------------------------------------------------------------------------------

_SQLITE_TRIGGERS = [
    *(
        f"""CREATE TRIGGER {table}_append_only_{op_name.lower()} BEFORE {op_name} ON {table}
        BEGIN SELECT RAISE(ABORT, 'append-only: {op_name} of {table} refused'); END"""
        for table in APPEND_ONLY
        for op_name in ("UPDATE", "DELETE")
    ),
    """CREATE TRIGGER postings_entry_open BEFORE INSERT ON postings
    WHEN EXISTS (SELECT 1 FROM journal_entries WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'entry-balanced: the journal entry is closed; no leg may be added'); END""",
    """CREATE TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    WHEN (SELECT count(*) FROM postings WHERE entry_id = NEW.id) < 2
      OR EXISTS (SELECT 1 FROM postings WHERE entry_id = NEW.id
                 GROUP BY currency HAVING sum(amount_minor) <> 0)
    BEGIN SELECT RAISE(ABORT, 'entry-balanced: two or more legs summing to zero per currency'); END""",
    """CREATE TRIGGER accounts_open_empty BEFORE INSERT ON accounts
    WHEN NEW.booked_minor <> 0 OR NEW.pending_minor <> 0 OR NEW.last_posting_seq <> 0
    BEGIN SELECT RAISE(ABORT, 'balance-from-postings: an account opens with zero balances'); END""",
    """CREATE TRIGGER postings_apply AFTER INSERT ON postings
    BEGIN
      UPDATE accounts SET
        booked_minor = booked_minor + CASE WHEN NEW.status = 'BOOK' THEN NEW.amount_minor ELSE 0 END,
        pending_minor = pending_minor + CASE WHEN NEW.status = 'BOOK' THEN 0 ELSE NEW.amount_minor END,
        last_posting_seq = NEW.seq
      WHERE id = NEW.account_id;
    END""",
    """CREATE TRIGGER accounts_balance_from_postings
    BEFORE UPDATE OF booked_minor, pending_minor, last_posting_seq ON accounts
    WHEN NEW.booked_minor IS NOT OLD.booked_minor OR NEW.pending_minor IS NOT OLD.pending_minor
      OR NEW.last_posting_seq IS NOT OLD.last_posting_seq
    BEGIN
      SELECT RAISE(ABORT, 'balance-from-postings: a balance changes only by adding a posting')
      WHERE NOT EXISTS (
        SELECT 1 FROM postings p
        WHERE p.seq = NEW.last_posting_seq AND p.account_id = NEW.id
          AND NEW.last_posting_seq > OLD.last_posting_seq
          AND NEW.booked_minor - OLD.booked_minor
              = CASE WHEN p.status = 'BOOK' THEN p.amount_minor ELSE 0 END
          AND NEW.pending_minor - OLD.pending_minor
              = CASE WHEN p.status = 'BOOK' THEN 0 ELSE p.amount_minor END
      );
    END""",
]
_SQLITE_TRIGGER_NAMES = [t.split()[2] for t in _SQLITE_TRIGGERS]

# --- PostgreSQL functions and triggers -------------------------------------------------------------

_PG_FUNCTIONS = {
    "fb_refuse_change": """
        BEGIN
          RAISE EXCEPTION 'append-only: % of % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
        END""",
    "fb_entry_balanced": """
        DECLARE
          entry text := to_jsonb(NEW) ->> TG_ARGV[0];
        BEGIN
          IF (SELECT count(*) FROM postings WHERE entry_id = entry) < 2
             OR EXISTS (SELECT 1 FROM postings WHERE entry_id = entry
                        GROUP BY currency HAVING sum(amount_minor) <> 0) THEN
            RAISE EXCEPTION 'entry-balanced: entry % needs two or more legs summing to zero per currency',
              entry
              USING ERRCODE = 'check_violation';
          END IF;
          RETURN NULL;
        END""",
    "fb_account_open_empty": """
        BEGIN
          IF NEW.booked_minor <> 0 OR NEW.pending_minor <> 0 OR NEW.last_posting_seq <> 0 THEN
            RAISE EXCEPTION 'balance-from-postings: account % must open with zero balances', NEW.id
              USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END""",
    "fb_posting_number": """
        BEGIN
          -- Lock the account first, then draw the number: per account, numbers follow commit order.
          PERFORM 1 FROM accounts WHERE id = NEW.account_id FOR UPDATE;
          NEW.seq := nextval(pg_get_serial_sequence('postings', 'seq'));
          RETURN NEW;
        END""",
    "fb_posting_apply": """
        BEGIN
          UPDATE accounts SET
            booked_minor = booked_minor + CASE WHEN NEW.status = 'BOOK' THEN NEW.amount_minor ELSE 0 END,
            pending_minor = pending_minor + CASE WHEN NEW.status = 'BOOK' THEN 0 ELSE NEW.amount_minor END,
            last_posting_seq = NEW.seq
          WHERE id = NEW.account_id;
          RETURN NULL;
        END""",
    "fb_account_balance_guard": """
        DECLARE
          p record;
        BEGIN
          IF NEW.booked_minor = OLD.booked_minor AND NEW.pending_minor = OLD.pending_minor
             AND NEW.last_posting_seq = OLD.last_posting_seq THEN
            RETURN NEW;
          END IF;
          SELECT amount_minor, status INTO p FROM postings
            WHERE seq = NEW.last_posting_seq AND account_id = NEW.id;
          IF NOT FOUND OR NEW.last_posting_seq <= OLD.last_posting_seq
             OR NEW.booked_minor - OLD.booked_minor
                <> (CASE WHEN p.status = 'BOOK' THEN p.amount_minor ELSE 0 END)
             OR NEW.pending_minor - OLD.pending_minor
                <> (CASE WHEN p.status = 'BOOK' THEN 0 ELSE p.amount_minor END) THEN
            RAISE EXCEPTION 'balance-from-postings: account %: a balance changes only by a posting',
              NEW.id
              USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END""",
}

_PG_TRIGGERS = [
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION fb_refuse_change()"""
        for table in APPEND_ONLY
    ),
    *(
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION fb_refuse_change()"""
        for table in APPEND_ONLY
    ),
    """CREATE CONSTRAINT TRIGGER postings_entry_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fb_entry_balanced('entry_id')""",
    """CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fb_entry_balanced('id')""",
    """CREATE TRIGGER accounts_open_empty BEFORE INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION fb_account_open_empty()""",
    """CREATE TRIGGER postings_number BEFORE INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION fb_posting_number()""",
    """CREATE TRIGGER postings_apply AFTER INSERT ON postings
    FOR EACH ROW EXECUTE FUNCTION fb_posting_apply()""",
    """CREATE TRIGGER accounts_balance_from_postings
    BEFORE UPDATE OF booked_minor, pending_minor, last_posting_seq ON accounts
    FOR EACH ROW EXECUTE FUNCTION fb_account_balance_guard()""",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # Balances: the last posting each account's stored balance includes.
    op.add_column(
        "accounts", sa.Column("last_posting_seq", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.execute(
        "UPDATE accounts SET last_posting_seq = "
        "(SELECT coalesce(max(p.seq), 0) FROM postings p WHERE p.account_id = accounts.id)"
    )
    op.create_index("uq_accounts_id_currency", "accounts", ["id", "currency"], unique=True)
    if dialect == "sqlite":
        _rebuild_postings_sqlite(invariants=True)
    else:
        op.drop_constraint("fk_postings_account_id_accounts", "postings", type_="foreignkey")
        op.drop_constraint("fk_postings_entry_id_journal_entries", "postings", type_="foreignkey")
        op.create_foreign_key(
            "fk_postings_account_id_accounts",
            "postings",
            "accounts",
            ["account_id", "currency"],
            ["id", "currency"],
        )
        op.create_foreign_key(
            "fk_postings_entry_id_journal_entries",
            "postings",
            "journal_entries",
            ["entry_id"],
            ["id"],
            deferrable=True,
            initially="DEFERRED",
        )
        op.create_check_constraint(op.f("ck_postings_status"), "postings", "status IN ('BOOK', 'PDNG')")

    # Audit: the unkeyed single chain becomes history; the keyed chains start empty.
    op.rename_table("audit_log", "audit_log_v1")
    if dialect == "postgresql":
        op.execute("ALTER TABLE audit_log_v1 RENAME CONSTRAINT pk_audit_log TO pk_audit_log_v1")
        op.execute("CREATE SEQUENCE audit_log_seq")
    op.drop_table("audit_head")
    _audit_tables()

    if dialect == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        for name, body in _PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn${body}\n$fn$")
        for statement in _PG_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for statement in _PG_TRIGGERS:
            words = statement.split()
            name = words[3] if words[1] == "CONSTRAINT" else words[2]
            table = words[words.index("ON") + 1]
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")

    op.drop_table("audit_chains")
    op.drop_table("audit_log")
    if dialect == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS audit_log_seq")
        op.execute("ALTER TABLE audit_log_v1 RENAME CONSTRAINT pk_audit_log_v1 TO pk_audit_log")
    op.rename_table("audit_log_v1", "audit_log")
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )

    if dialect == "sqlite":
        _rebuild_postings_sqlite(invariants=False)
        op.drop_index("uq_accounts_id_currency", "accounts")
        op.execute("ALTER TABLE accounts DROP COLUMN last_posting_seq")
    else:
        op.drop_constraint(op.f("ck_postings_status"), "postings", type_="check")
        op.drop_constraint("fk_postings_entry_id_journal_entries", "postings", type_="foreignkey")
        op.drop_constraint("fk_postings_account_id_accounts", "postings", type_="foreignkey")
        op.create_foreign_key(
            "fk_postings_account_id_accounts", "postings", "accounts", ["account_id"], ["id"]
        )
        op.create_foreign_key(
            "fk_postings_entry_id_journal_entries", "postings", "journal_entries", ["entry_id"], ["id"]
        )
        op.drop_index("uq_accounts_id_currency", "accounts")
        op.drop_column("accounts", "last_posting_seq")
