"""Demo data.

1. The seed contract, ``docs/stories/seed.yaml``: exactly its customers, accounts, transactions,
   cards, consents and payments, with their ids, so every acceptance scenario finds what it expects.
   Loading checks that each account's balances come out as the file states.
2. Generated history (``history=True``): two more demo customers, ``vera`` and ``gleb``, with six
   months of realistic ruble card spending (merchants and ISO 18245 MCCs), twice-monthly salaries and
   transfers between them, from a fixed random seed so every reset gives the same data. Each holds
   an authorised consent for ``demo-app`` (accounts, balances, transactions; as the sandbox README
   says), so their data can be read at once. They leave the seed contract's customers untouched.

Every amount that leaves or enters a customer account has its other leg on one of the bank's
internal accounts (card settlement, payroll clearing, cash), so the ledger balances from the start.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from futurebank.sandbox.adapters.repository import LegInfo
from futurebank.sandbox.domain.audit import AuditRecord
from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.consents import Consent, ConsentStatus, Permission
from futurebank.sandbox.domain.customers import Customer
from futurebank.sandbox.domain.ledger import (
    Account,
    AccountKind,
    EntryStatus,
    JournalEntry,
    Merchant,
    Posting,
    post,
)
from futurebank.sandbox.domain.money import Money
from futurebank.sandbox.domain.payments import Payment
from futurebank.sandbox.service_layer.handlers import masked_name
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

MSK = timezone(timedelta(hours=3))
# Ids of records the seed file does not name (internal accounts, the other legs) are derived from
# this namespace, so a reset always produces the same ids.
NAMESPACE = uuid.UUID("7a1d3f9e-2c4b-5e6f-8a9b-0c1d2e3f4a5b")
HISTORY_SEED = 20261124


class SeedError(Exception):
    """The seed file is inconsistent (a balance it states does not follow from its transactions)."""


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def default_seed_path() -> Path:
    # src/futurebank/sandbox/service_layer/seed.py -> repository root
    return Path(__file__).resolve().parents[4] / "docs" / "stories" / "seed.yaml"


def _dt(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise SeedError(f"time without offset in the seed file: {value!r}")
    return parsed.astimezone(UTC)


def _minor(amount: Any, currency: str) -> int:
    return Money.parse(str(amount), currency).minor


@dataclass
class Ledger:
    """Accounts being built up in memory, and the entries to write."""

    accounts: dict[str, Account]
    entries: list[tuple[JournalEntry, list[str], list[LegInfo]]]

    def book(self, entry: JournalEntry, leg_ids: list[str], info: list[LegInfo]) -> None:
        post(entry, {leg.account_id: self.accounts[leg.account_id] for leg in entry.legs})
        self.entries.append((entry, leg_ids, info))


def _internal_accounts(opened: datetime) -> dict[str, Account]:
    """The bank's own accounts per currency: card settlement, payroll clearing, cash."""
    accounts: dict[str, Account] = {}
    for code, currency in (("810", "RUB"), ("840", "USD")):
        for n, (role, prefix, name) in enumerate(
            (
                ("card", "30233", "Card settlement"),
                ("payroll", "30232", "Payroll clearing"),
                ("cash", "20202", "Cash"),
            )
        ):
            acc = Account(
                id=stable_id("internal", role, currency),
                customer_id=None,
                number=f"{prefix}{code}{n + 1:012d}",
                name=f"{name} ({currency})",
                currency=currency,
                kind=AccountKind.INTERNAL.value,
                overdraft_limit_minor=0,
                booked_minor=0,
                pending_minor=0,
                status="enabled",
                opened_at=opened,
            )
            accounts[f"{role}:{currency}"] = acc
    return accounts


def load_seed_file(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SeedError(f"{path}: not a mapping")
    return data


def seed(uow: UnitOfWork, path: Path | None = None, history: bool = True) -> dict[str, int]:
    """Write the seed contract (and the generated history) into an empty database."""
    path = path or default_seed_path()
    data = load_seed_file(path)
    as_of = _dt(data["as_of"])
    customers: dict[str, Customer] = {}
    accounts_by_alias: dict[str, Account] = {}
    internal = _internal_accounts(datetime(2000, 1, 1, tzinfo=UTC))
    ledger = Ledger({a.id: a for a in internal.values()}, [])

    opened: dict[str, datetime] = {}
    for a in data.get("accounts", []):
        opened[a["customer"]] = min(opened.get(a["customer"], _dt(a["opened_at"])), _dt(a["opened_at"]))
    for c in data.get("customers", []):
        customers[c["alias"]] = Customer(
            id=c["customer_id"],
            username=c["username"],
            full_name=c["full_name"],
            date_of_birth=date.fromisoformat(str(c["birth_date"])) if c.get("birth_date") else None,
            email=c.get("email"),
            phone=c.get("phone"),
            # Not in the seed file; the contract requires them. *Our assumption:* Russian-speaking
            # customers since their first account was opened.
            preferred_language=c.get("preferred_language", "ru"),
            customer_since=opened.get(c["alias"], as_of).astimezone(MSK).date(),
            created_at=opened.get(c["alias"], as_of),
        )
    for a in data.get("accounts", []):
        acc = Account(
            id=a["account_id"],
            customer_id=customers[a["customer"]].id,
            number=str(a["number"]),
            name=a.get("name", ""),
            currency=a["currency"],
            kind=a["kind"],
            overdraft_limit_minor=_minor(a.get("overdraft_limit", "0"), a["currency"]),
            booked_minor=0,
            pending_minor=0,
            status=a.get("status", "enabled"),
            opened_at=_dt(a["opened_at"]),
        )
        accounts_by_alias[a["alias"]] = acc
        ledger.accounts[acc.id] = acc
    cards = {c["alias"]: c for c in data.get("cards", [])}
    payments = {p["alias"]: p for p in data.get("payments", [])}

    # Transactions: legs naming the same payment form one entry; each other leg is matched by an
    # internal account's leg.
    by_payment: dict[str, list[dict[str, Any]]] = {}
    for t in data.get("transactions", []):
        if t.get("payment"):
            by_payment.setdefault(t["payment"], []).append(t)
            continue
        acc = accounts_by_alias[t["account"]]
        signed = _minor(t["amount"], t["currency"]) * (1 if t["credit_debit_indicator"] == "CRDT" else -1)
        description = t.get("description", "")
        role = "card" if t.get("card") else "payroll" if description.lower().startswith("salary") else "cash"
        other = internal[f"{role}:{acc.currency}"]
        merchant = Merchant(t["merchant"]["name"], str(t["merchant"]["mcc"])) if t.get("merchant") else None
        entry = JournalEntry(
            id=stable_id("entry", t["transaction_id"]),
            kind=role,
            status=EntryStatus(t["status"]),
            booked_at=_dt(t["occurred_at"]),
            legs=[Posting(acc.id, signed, acc.currency), Posting(other.id, -signed, acc.currency)],
            description=description,
            merchant=merchant,
            card_id=cards[t["card"]]["card_id"] if t.get("card") else None,
        )
        ledger.book(
            entry, [t["transaction_id"], stable_id("leg", t["transaction_id"])], [LegInfo(), LegInfo()]
        )
    payment_rows: list[Payment] = []
    for alias, legs in by_payment.items():
        p = payments[alias]
        entry_id = stable_id("entry", p["payment_id"])
        postings = []
        infos = []
        for t in sorted(legs, key=lambda x: x["credit_debit_indicator"] != "DBIT"):
            acc = accounts_by_alias[t["account"]]
            signed = _minor(t["amount"], t["currency"]) * (1 if t["credit_debit_indicator"] == "CRDT" else -1)
            postings.append(Posting(acc.id, signed, acc.currency))
            infos.append(LegInfo())
        entry = JournalEntry(
            id=entry_id,
            kind="transfer",
            status=EntryStatus.BOOKED,
            booked_at=_dt(legs[0]["occurred_at"]),
            legs=postings,
            description=p.get("remittance_information") or "",
            payment_id=p["payment_id"],
        )
        ledger.book(
            entry,
            [t["transaction_id"] for t in sorted(legs, key=lambda x: x["credit_debit_indicator"] != "DBIT")],
            infos,
        )
        debtor = accounts_by_alias[p["debtor_account"]]
        creditor = next(
            a for a in accounts_by_alias.values() if a.number == str(p["creditor_account_number"])
        )
        payee = next(c for c in customers.values() if c.id == creditor.customer_id)
        own = creditor.customer_id == debtor.customer_id
        payment_rows.append(
            Payment(
                id=p["payment_id"],
                customer_id=customers[p["customer"]].id,
                client_id=p.get("client", "demo-app"),
                debtor_account_id=debtor.id,
                creditor_account_id=creditor.id,
                creditor_account_number=creditor.number,
                # The contract shows another customer's name masked; the seed file's full name is
                # masked the same way the API masks it for new payments.
                creditor_name=None if own else masked_name(payee.full_name),
                to_own_account=own,
                amount_minor=_minor(p["amount"], p["currency"]),
                currency=p["currency"],
                status=p["status"],
                remittance_information=p.get("remittance_information"),
                end_to_end_id=str(p.get("end_to_end_id", p["payment_id"].replace("-", "")[:35])),
                created_at=_dt(p["created_at"]),
                status_updated_at=_dt(p.get("status_updated_at", p["created_at"])),
                journal_id=entry_id,
            )
        )

    for a in data.get("accounts", []):
        acc = accounts_by_alias[a["alias"]]
        stated = a.get("balances", {})
        if "booked" in stated and acc.booked_minor != _minor(stated["booked"], acc.currency):
            raise SeedError(f"{a['alias']}: booked {acc.booked} but the seed file states {stated['booked']}")
        available = acc.booked_minor + acc.pending_minor + acc.overdraft_limit_minor
        if "available" in stated and available != _minor(stated["available"], acc.currency):
            raise SeedError(
                f"{a['alias']}: available {available} but the seed file states {stated['available']}"
            )

    card_rows = [
        Card(
            id=c["card_id"],
            customer_id=customers[c["customer"]].id,
            account_id=accounts_by_alias[c["account"]].id,
            masked_pan=str(c["masked_pan"]),
            payment_system=str(c.get("scheme", "mir")).lower(),
            card_type=c.get("card_type", "debit"),
            expiry=_expiry(str(c["expiry"])),
            status=c["status"],
            locked=bool(c.get("locked", False)),
            controls_updated_at=_dt(c.get("controls_updated_at", data["as_of"])),
        )
        for c in cards.values()
    ]
    consent_rows = [
        Consent(
            id=c["consent_id"],
            customer_id=customers[c["customer"]].id,
            client_id=c["client"],
            permissions=list(c["permissions"]),
            status=c["status"],
            created_at=_dt(c["created_at"]),
            status_updated_at=_dt(c.get("status_updated_at", c["created_at"])),
            expires_at=_dt(c["expires_at"]) if c.get("expires_at") else None,
            transactions_from=_dt(c["transactions_from"]) if c.get("transactions_from") else None,
            transactions_to=_dt(c["transactions_to"]) if c.get("transactions_to") else None,
        )
        for c in data.get("consents", [])
    ]

    if history:
        extra_customers, extra_accounts, extra_cards, extra_payments = generate_history(
            ledger, internal, as_of
        )
        customers.update({c.username: c for c in extra_customers})
        consent_rows.extend(history_consents(extra_customers, as_of))
        accounts_by_alias.update({a.id: a for a in extra_accounts})
        card_rows.extend(extra_cards)
        payment_rows.extend(extra_payments)

    for cu in customers.values():
        uow.customers.add(cu)
    for acc in ledger.accounts.values():
        uow.accounts.add(acc)
    uow.flush()
    for entry, leg_ids, infos in ledger.entries:
        uow.ledger.add(entry, leg_ids, infos)
    for row in [*card_rows, *consent_rows, *payment_rows]:
        uow.session.add(row)
    uow.flush()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    uow.audit.append(
        AuditRecord(
            at=datetime.now(UTC).isoformat(),
            action="seedDemoData",
            client_id="sandbox",
            customer_id="",
            resource_type="database",
            resource_id="demo-data",
            correlation_id=str(uuid.uuid4()),
            outcome="ok",
            details={"seed_file": path.name, "seed_sha256": digest, "history": history},
        )
    )
    return {
        "customers": len(customers),
        "accounts": len(ledger.accounts),
        "entries": len(ledger.entries),
        "cards": len(card_rows),
        "consents": len(consent_rows),
        "payments": len(payment_rows),
    }


def _expiry(value: str) -> str:
    """The seed's ``MM/YY`` as printed on the card -> the contract's ``YYYY-MM``."""
    if "/" in value:
        month, year = value.split("/")
        return f"20{year}-{month}"
    return value


# --- generated history ------------------------------------------------------------------------

# (merchant, ISO 18245 MCC, city, typical amount range in RUB, weight)
MERCHANTS: tuple[tuple[str, str, str, tuple[int, int], int], ...] = (
    ("Pyaterochka", "5411", "Moscow", (250, 2500), 14),
    ("Magnit", "5411", "Moscow", (200, 2200), 10),
    ("VkusVill", "5499", "Moscow", (300, 1800), 8),
    ("Perekrestok", "5411", "Moscow", (400, 4000), 6),
    ("Moscow Metro", "4111", "Moscow", (62, 62), 12),
    ("Yandex Go", "4121", "Moscow", (250, 900), 6),
    ("Lukoil", "5541", "Moscow", (1800, 3500), 3),
    ("Shokoladnitsa", "5814", "Moscow", (250, 700), 6),
    ("Teremok", "5814", "Moscow", (300, 650), 4),
    ("Stolovaya No. 1", "5812", "Moscow", (450, 1200), 3),
    ("Apteka Rigla", "5912", "Moscow", (200, 2400), 3),
    ("Ozon", "5399", "Moscow", (500, 6000), 4),
    ("Wildberries", "5651", "Moscow", (700, 5000), 4),
    ("MTS", "4814", "Moscow", (450, 650), 1),
    ("Kinoteatr Oktyabr", "7832", "Moscow", (350, 900), 1),
    ("Sportmaster", "5941", "Moscow", (1500, 9000), 1),
    ("Leroy Merlin", "5200", "Moscow", (600, 8000), 1),
    ("Mosenergosbyt", "4900", "Moscow", (1800, 3200), 0),  # utilities: paid monthly, below
)


@dataclass(frozen=True)
class Persona:
    username: str
    full_name: str
    birth: date
    employer: str
    salary: int  # RUB per month, paid in two parts (advance on the 20th, rest on the 5th)
    daily_purchases: float


PERSONAS = (
    Persona("vera", "Vera Sokolova", date(1996, 2, 11), "Romashka LLC", 96000, 2.6),
    Persona("gleb", "Gleb Morozov", date(1979, 10, 30), "Sever Logistics JSC", 142000, 2.0),
)


def history_consents(customers: list[Customer], as_of: datetime) -> list[Consent]:
    """The demo app's consent for each generated customer: authorised, no expiry (like the seed
    contract's authorised consents, so the demo data does not age with the calendar)."""
    granted = as_of - timedelta(days=183)
    return [
        Consent(
            id=stable_id("consent", c.username, "demo-app"),
            customer_id=c.id,
            client_id="demo-app",
            permissions=[p.value for p in Permission],
            status=ConsentStatus.AUTHORISED.value,
            created_at=granted,
            status_updated_at=granted,
        )
        for c in customers
    ]


def generate_history(
    ledger: Ledger, internal: dict[str, Account], as_of: datetime
) -> tuple[list[Customer], list[Account], list[Card], list[Payment]]:
    rng = random.Random(HISTORY_SEED)
    start = (as_of - timedelta(days=183)).astimezone(MSK).replace(hour=0, minute=0, second=0, microsecond=0)
    customers, accounts, cards, payments = [], [], [], []
    weights = [m[4] for m in MERCHANTS]
    for n, who in enumerate(PERSONAS, start=1):
        cid = stable_id("customer", who.username)
        opened = start - timedelta(days=400 + 90 * n)
        customers.append(
            Customer(
                cid,
                who.username,
                who.full_name,
                who.birth,
                f"{who.username}@example.com",
                f"+7999100000{n}",
                "ru",
                opened.date(),
                opened.astimezone(UTC),
            )
        )
        acc = Account(
            stable_id("account", who.username),
            cid,
            f"408178105{n:011d}",
            "Current account",
            "RUB",
            AccountKind.CURRENT.value,
            0,
            0,
            0,
            "enabled",
            opened.astimezone(UTC),
        )
        accounts.append(acc)
        ledger.accounts[acc.id] = acc
        cards.append(
            Card(
                stable_id("card", who.username),
                cid,
                acc.id,
                f"220000******{1000 + n:04d}",
                "mir",
                "debit",
                f"{as_of.year + 3}-{(n * 5) % 12 + 1:02d}",
                "active",
                False,
                as_of,
            )
        )
        _book_external(ledger, internal["cash:RUB"], acc, 20000 * 100, start, "Opening balance", "cash")
    card_ids = {c.customer_id: c.id for c in cards}
    day = start
    transfer_n = 0
    while day < as_of.astimezone(MSK).replace(hour=0, minute=0, second=0, microsecond=0):
        for who, acc in zip(PERSONAS, accounts, strict=True):
            if day.day in (5, 20):
                part = who.salary * (40 if day.day == 20 else 60) // 100
                label = "Advance" if day.day == 20 else "Salary"
                _book_external(
                    ledger,
                    internal["payroll:RUB"],
                    acc,
                    part * 100,
                    day.replace(hour=9),
                    f"{label} for {day.strftime('%B %Y')}, {who.employer}",
                    "payroll",
                )
            if day.day == 12:  # utilities
                amount = rng.randint(1800, 3200) * 100
                _card(
                    ledger,
                    internal["card:RUB"],
                    acc,
                    card_ids[acc.customer_id or ""],
                    amount,
                    day.replace(hour=rng.randint(8, 22), minute=rng.randint(0, 59)),
                    MERCHANTS[-1],
                )
            for _ in range(_poisson(rng, who.daily_purchases)):
                m = rng.choices(MERCHANTS, weights=weights)[0]
                low, high = m[3]
                amount = rng.randint(low * 100, high * 100) // 10 * 10 if low != high else low * 100
                at = day.replace(
                    hour=rng.randint(7, 22), minute=rng.randint(0, 59), second=rng.randint(0, 59)
                )
                _card(ledger, internal["card:RUB"], acc, card_ids[acc.customer_id or ""], amount, at, m)
        if day.weekday() == 4 and rng.random() < 0.5:  # Friday: somebody pays the other back
            payer, payee = (0, 1) if rng.random() < 0.5 else (1, 0)
            transfer_n += 1
            p = _transfer(
                ledger,
                accounts[payer],
                accounts[payee],
                customers[payer],
                customers[payee],
                rng.randint(3, 40) * 100 * 100,
                day.replace(hour=20, minute=rng.randint(0, 59)),
                transfer_n,
            )
            if p is not None:
                payments.append(p)
        day += timedelta(days=1)
    return customers, accounts, cards, payments


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _book_external(
    ledger: Ledger, other: Account, acc: Account, minor: int, at: datetime, text: str, kind: str
) -> None:
    key = f"{acc.id}/{at.isoformat()}/{text}"
    entry = JournalEntry(
        stable_id("entry", key),
        kind,
        EntryStatus.BOOKED,
        at.astimezone(UTC),
        [Posting(acc.id, minor, "RUB"), Posting(other.id, -minor, "RUB")],
        text,
    )
    ledger.book(entry, [stable_id("leg", key, "a"), stable_id("leg", key, "b")], [LegInfo(), LegInfo()])


def _card(
    ledger: Ledger,
    settlement: Account,
    acc: Account,
    card_id: str,
    minor: int,
    at: datetime,
    merchant: tuple[str, str, str, tuple[int, int], int],
) -> None:
    if acc.booked_minor + acc.pending_minor - minor < 0:
        return  # the card would be declined: no entry
    key = f"{acc.id}/{at.isoformat()}/{merchant[0]}/{minor}"
    entry = JournalEntry(
        stable_id("entry", key),
        "card",
        EntryStatus.BOOKED,
        at.astimezone(UTC),
        [Posting(acc.id, -minor, "RUB"), Posting(settlement.id, minor, "RUB")],
        "",
        Merchant(merchant[0], merchant[1], merchant[2], "RU"),
        card_id,
    )
    ledger.book(entry, [stable_id("leg", key, "a"), stable_id("leg", key, "b")], [LegInfo(), LegInfo()])


def _transfer(
    ledger: Ledger,
    debtor: Account,
    creditor: Account,
    payer: Customer,
    payee: Customer,
    minor: int,
    at: datetime,
    n: int,
) -> Payment | None:
    if debtor.booked_minor + debtor.pending_minor - minor < 0:
        return None
    pid = stable_id("payment", str(n))
    text = "Thanks for dinner" if n % 3 else "Share of the rent"
    entry = JournalEntry(
        stable_id("entry", pid),
        "transfer",
        EntryStatus.BOOKED,
        at.astimezone(UTC),
        [Posting(debtor.id, -minor, "RUB"), Posting(creditor.id, minor, "RUB")],
        text,
        payment_id=pid,
    )
    ledger.book(
        entry,
        [stable_id("leg", pid, "a"), stable_id("leg", pid, "b")],
        [
            LegInfo(masked_name(payee.full_name), creditor.number),
            LegInfo(masked_name(payer.full_name), debtor.number),
        ],
    )
    when = at.astimezone(UTC)
    return Payment(
        pid,
        payer.id,
        "demo-app",
        debtor.id,
        creditor.id,
        creditor.number,
        masked_name(payee.full_name),
        False,
        minor,
        "RUB",
        "ACSC",
        text,
        pid.replace("-", "")[:35],
        when,
        when,
        entry.id,
    )
