"""R-28: the seed contract is consistent (unique ids, known references, balances that add up)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from futurebank.spec.rules import Finding
from futurebank.spec.stories.model import MONEY_AMOUNT, PLACEHOLDER, SEED_ID_FIELDS, Seed


def _amount(value: Any) -> Decimal | None:
    if not isinstance(value, str) or not MONEY_AMOUNT.match(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def check_seed(seed: Seed) -> list[Finding]:
    """Unique aliases and ids, references that resolve, money as decimal strings, balances that add up."""
    out: list[Finding] = []

    def bad(alias: str, detail: str) -> None:
        out.append(Finding("R-28-seed-consistent", alias, detail, seed.path, seed.line_of(alias)))

    by_alias: dict[str, tuple[str, Mapping[str, Any]]] = {}
    ids: set[str] = set()
    for collection, id_field in SEED_ID_FIELDS.items():
        for record in seed.records(collection):
            alias = str(record.get("alias") or "")
            if not PLACEHOLDER.fullmatch("{" + alias + "}"):
                bad(alias or f"({collection})", "alias must be lowercase words joined by hyphens")
            if alias in by_alias:
                bad(alias, "alias used twice")
            by_alias[alias] = (collection, record)
            value = record.get(id_field)
            if not value:
                bad(alias, f"missing {id_field}")
            elif str(value) in ids:
                bad(alias, f"{id_field} {value} used twice")
            ids.add(str(value))

    def ref(alias: str, record: Mapping[str, Any], key: str, collection: str) -> Mapping[str, Any] | None:
        target = record.get(key)
        found = by_alias.get(str(target)) if target else None
        if found is None or found[0] != collection:
            bad(alias, f"{key} {target!r} is not a seeded {collection[:-1]}")
            return None
        return found[1]

    for account in seed.records("accounts"):
        ref(str(account.get("alias")), account, "customer", "customers")
    for card in seed.records("cards"):
        alias = str(card.get("alias"))
        ref(alias, card, "customer", "customers")
        ref(alias, card, "account", "accounts")
    for consent in seed.records("consents"):
        alias = str(consent.get("alias"))
        ref(alias, consent, "customer", "customers")
        ref(alias, consent, "client", "clients")
    for payment in seed.records("payments"):
        alias = str(payment.get("alias"))
        ref(alias, payment, "customer", "customers")
        ref(alias, payment, "debtor_account", "accounts")
        if _amount(payment.get("amount")) is None:
            bad(alias, f"amount {payment.get('amount')!r} is not a decimal string")

    booked: dict[str, Decimal] = {}
    pending: dict[str, Decimal] = {}
    for tx in seed.records("transactions"):
        alias = str(tx.get("alias"))
        tx_account = ref(alias, tx, "account", "accounts")
        amount = _amount(tx.get("amount"))
        if amount is None or amount <= 0:
            bad(alias, f"amount {tx.get('amount')!r} is not a positive decimal string")
            continue
        if tx_account is None:
            continue
        if tx.get("currency") != tx_account.get("currency"):
            bad(
                alias,
                f"currency {tx.get('currency')!r} differs from the account's {tx_account.get('currency')!r}",
            )
        sign = {"CRDT": 1, "DBIT": -1}.get(str(tx.get("credit_debit_indicator")))
        if sign is None:
            bad(alias, "credit_debit_indicator must be CRDT or DBIT")
            continue
        bucket = {"BOOK": booked, "PDNG": pending}.get(str(tx.get("status")))
        if bucket is None:
            bad(alias, "status must be BOOK or PDNG")
            continue
        key = str(tx_account.get("alias"))
        bucket[key] = bucket.get(key, Decimal(0)) + sign * amount

    for account in seed.records("accounts"):
        alias = str(account.get("alias"))
        balances = account.get("balances") or {}
        overdraft = _amount(account.get("overdraft_limit"))
        want_booked = _amount(balances.get("booked")) if isinstance(balances, Mapping) else None
        want_available = _amount(balances.get("available")) if isinstance(balances, Mapping) else None
        if overdraft is None or want_booked is None or want_available is None:
            bad(alias, "overdraft_limit and balances.booked/available must be decimal strings")
            continue
        got_booked = booked.get(alias, Decimal(0))
        got_available = got_booked + pending.get(alias, Decimal(0)) + overdraft
        if got_booked != want_booked:
            bad(alias, f"booked balance {want_booked} but its BOOK transactions sum to {got_booked}")
        if got_available != want_available:
            bad(
                alias,
                f"available balance {want_available} but booked + pending + overdraft is {got_available}",
            )
    return out
