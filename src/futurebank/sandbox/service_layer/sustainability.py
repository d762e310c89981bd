"""Sustainability reads: the card spending a footprint estimate is made from, and the green products.

The calculation itself is ``futurebank.footprint.method`` (shared with the spec build). This module
turns the sandbox's booked card entries into ``CardSpend`` and exports the generated demo history's
card spending to ``docs/sustainability/data/demo-card-history.csv``, which the methodology page charts
(the spec build may not import the sandbox). A test fails when that file drifts from the generator:
regenerate with ``python -m futurebank.sandbox.service_layer.sustainability``.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from futurebank.footprint.data import default_data_dir, load_method_data
from futurebank.footprint.method import CardSpend, Footprint, footprint
from futurebank.sandbox.adapters import orm
from futurebank.sandbox.adapters.repository import TransactionRow
from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.domain.errors import NotFound
from futurebank.sandbox.domain.ledger import AccountKind, EntryStatus, JournalEntry
from futurebank.sandbox.service_layer.handlers import Context, Handler
from futurebank.sandbox.service_layer.seed import (
    MSK,
    Ledger,
    _internal_accounts,
    default_seed_path,
    generate_history,
    load_seed_file,
)
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

DEMO_HISTORY = "demo-card-history.csv"
# A period holds at most this many card legs; far above six months of any demo customer.
MAX_ROWS = 100_000
DEMO_FIELDS = ["customer", "booked_on", "mcc", "amount", "currency"]


def card_spend(entry: JournalEntry, account_id: str) -> CardSpend | None:
    """The account's side of a booked card purchase, or None for anything else (the rules of US-0021)."""
    if entry.kind != "card" or entry.status is not EntryStatus.BOOKED or entry.merchant is None:
        return None
    leg = next((p for p in entry.legs if p.account_id == account_id), None)
    if leg is None or leg.amount_minor >= 0:
        return None  # a refund or the bank's own leg
    return CardSpend(
        transaction_id=entry.id,
        booked_on=entry.booked_at.astimezone(MSK).date(),
        mcc=entry.merchant.mcc or None,
        amount=Decimal(-leg.amount_minor) / 100,
        currency=leg.currency,
    )


@dataclass(frozen=True)
class Period:
    """Inclusive calendar dates in Moscow time, already validated by the entrypoint."""

    first: date
    last: date


def row_spend(row: TransactionRow) -> CardSpend | None:
    """A booked card purchase as seen from the account's leg (the rules of US-0021)."""
    if row.kind != "card" or row.status != EntryStatus.BOOKED.value or row.amount_minor >= 0:
        return None
    return CardSpend(
        transaction_id=row.id,
        booked_on=row.booked_at.astimezone(MSK).date(),
        mcc=row.mcc or None,
        amount=Decimal(-row.amount_minor) / 100,
        currency=row.currency,
    )


def booked_card_spend(
    uow: UnitOfWork, account_id: str, start: datetime, end: datetime, until: datetime | None
) -> list[CardSpend]:
    """The account's booked card purchases in [start, end) (and up to ``until``), read with only the
    columns the estimate needs: the general transaction query builds full rows and costs several
    times more for six months of history (see ``make bench``)."""
    p, e = orm.postings.c, orm.journal_entries.c
    query = (
        select(p.id, p.amount_minor, p.currency, p.booked_at, e.mcc)
        .join(orm.journal_entries, e.id == p.entry_id)
        .where(
            p.account_id == account_id,
            p.booked_at >= start,
            p.booked_at < end,
            p.amount_minor < 0,
            p.status == EntryStatus.BOOKED.value,
            e.kind == "card",
        )
        .limit(MAX_ROWS)
    )
    if until is not None:
        query = query.where(p.booked_at <= until)
    return [
        CardSpend(leg_id, booked_at.astimezone(MSK).date(), mcc or None, Decimal(-minor) / 100, currency)
        for leg_id, minor, currency, booked_at, mcc in uow.session.execute(query)
    ]


def _msk_midnight_in_utc(day: date, days_later: int = 0) -> datetime:
    """The start of ``day`` (plus ``days_later``) in Moscow, in UTC. At the ends of the calendar it
    is the earliest or latest instant Python holds: no booking lies beyond either, so the sums agree."""
    try:
        return datetime.combine(day + timedelta(days=days_later), datetime.min.time(), MSK).astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if days_later == 0 else datetime.max.replace(tzinfo=UTC)


def get_carbon_footprint(m: q.GetCarbonFootprint, cx: Context) -> Footprint:
    """The bus has checked the customer and the consent (``cx.window``) before this runs."""
    account = cx.uow.accounts.owned(cx.customer_id, m.account_id)
    if account is None or account.kind == AccountKind.INTERNAL:
        raise NotFound("No such account.")
    start = _msk_midnight_in_utc(m.period_first)
    end = _msk_midnight_in_utc(m.period_last, days_later=1)
    if cx.window.start is not None and cx.window.start > start:
        start = cx.window.start
    spending = booked_card_spend(cx.uow, account.id, start, end, cx.window.end)
    result = footprint(spending, load_method_data(), detail=False)
    cx.audit(
        m.operation, "account", account.id, {"purchases": len(spending), "factor_set": result.factor_set}
    )
    return result


@lru_cache(maxsize=1)
def _products() -> tuple[dict[str, Any], ...]:
    loaded = yaml.safe_load((default_data_dir() / "green-products.yaml").read_text(encoding="utf-8"))
    return tuple(loaded["products"])


def list_green_products(
    m: q.ListGreenProducts | None = None, cx: Context | None = None
) -> list[dict[str, Any]]:
    """Only labelled products: an ordinary product is not listed as green (US-0022)."""
    return [p for p in _products() if p.get("green_label")]


# The bus adds these to its dispatch table (this module imports the handlers, not the other way).
HANDLERS: dict[type[Any], Handler] = {
    q.GetCarbonFootprint: get_carbon_footprint,
    q.ListGreenProducts: list_green_products,
}


def demo_history_rows() -> list[dict[str, str]]:
    """The generated demo customers' booked card purchases, from the same generator the seed uses."""
    as_of = datetime.fromisoformat(str(load_seed_file(default_seed_path())["as_of"])).astimezone(UTC)
    internal = _internal_accounts(datetime(2000, 1, 1, tzinfo=UTC))
    ledger = Ledger({a.id: a for a in internal.values()}, [])
    customers, accounts, _, _ = generate_history(ledger, internal, as_of)
    names = {c.id: c.username for c in customers}
    rows: list[dict[str, str]] = []
    for entry, _, _ in ledger.entries:
        for account in accounts:
            spend = card_spend(entry, account.id)
            if spend is not None:
                rows.append(
                    {
                        "customer": names[account.customer_id or ""],
                        "booked_on": spend.booked_on.isoformat(),
                        "mcc": spend.mcc or "",
                        "amount": f"{spend.amount:.2f}",
                        "currency": spend.currency,
                    }
                )
    return rows


def demo_history_csv() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DEMO_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(demo_history_rows())
    return out.getvalue()


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else default_data_dir() / DEMO_HISTORY
    target.write_text(demo_history_csv(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
