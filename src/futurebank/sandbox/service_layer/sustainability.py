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
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from futurebank.footprint.data import default_data_dir
from futurebank.footprint.method import CardSpend
from futurebank.sandbox.domain.ledger import EntryStatus, JournalEntry
from futurebank.sandbox.service_layer.seed import (
    MSK,
    Ledger,
    _internal_accounts,
    default_seed_path,
    generate_history,
    load_seed_file,
)

DEMO_HISTORY = "demo-card-history.csv"
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
