"""``make eval-assistant``: the assistant's evaluation before release (NFR-0028).

Runs every held-out utterance of docs/assistant/evaluation.yaml as the first message of a fresh
conversation of the demo customer anna (docs/stories/seed.yaml, the same data the acceptance scenarios
use), and reports per language: per-intent precision, recall and F1, the confusion matrix, the wrong-fact
rate (every fact re-read from the seed, and every figure in the text matched to a fact), the false-action
rate, lock recall, handoff rate and latency. Writes build/eval/assistant.json; exits 1 below a target.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from futurebank.sandbox.adapters.assistant_kb import default_knowledge_base
from futurebank.sandbox.adapters.assistant_nlu import ASSISTANT_DATA, default_understander, load_utterances
from futurebank.sandbox.adapters.assistant_replies import Templates, default_templates
from futurebank.sandbox.domain.assistant import ACTION_INTENTS, SPENDING_CATEGORIES, Fact, Intent, Message
from futurebank.sandbox.service_layer.assistant import (
    BANK_TZ,
    AccountView,
    AssistantService,
    CardView,
    TransactionView,
)

SEED = ASSISTANT_DATA.parent / "stories" / "seed.yaml"
TARGETS = {
    "macro_f1_min": 0.90,
    "wrong_fact_rate_max": 0.0,
    "false_action_rate_max": 0.005,
    "lock_recall_min": 0.95,
    "latency_p95_ms_max": 20.0,
}
LOCALE = {"ru": "ru-RU", "en": "en-US"}
_DIGIT = re.compile(r"\d")


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class SeedReads:
    """One customer's data from the seed file, read like the app reads it (for the evaluation)."""

    seed: dict[str, Any]
    customer: str = "anna"
    calls: list[str] = field(default_factory=list)

    def _accounts(self) -> list[dict[str, Any]]:
        return [a for a in self.seed["accounts"] if a["customer"] == self.customer]

    def accounts(self) -> Sequence[AccountView]:
        self.calls.append("listAccounts")
        return [self._view(a) for a in self._accounts()]

    @staticmethod
    def _view(a: dict[str, Any]) -> AccountView:
        b = a["balances"]
        return AccountView(a["account_id"], a["kind"], a["currency"], b["booked"], b["available"])

    def balances(self, account_id: str) -> AccountView:
        self.calls.append("getAccountBalances")
        return next(self._view(a) for a in self._accounts() if a["account_id"] == account_id)

    def transactions(
        self, account_id: str, booked_from: datetime | None, booked_to: datetime | None
    ) -> Sequence[TransactionView]:
        self.calls.append("listTransactions")
        alias = next(a["alias"] for a in self._accounts() if a["account_id"] == account_id)
        cards = {c["alias"]: c["card_id"] for c in self.seed["cards"]}
        out = []
        for t in self.seed["transactions"]:
            at = _ts(t["occurred_at"])
            if t["account"] != alias or (booked_from and at < booked_from) or (booked_to and at >= booked_to):
                continue
            merchant = t.get("merchant") or {}
            out.append(
                TransactionView(
                    t["transaction_id"],
                    account_id,
                    t["amount"],
                    t["currency"],
                    t["credit_debit_indicator"],
                    t["status"],
                    at,
                    merchant.get("name"),
                    merchant.get("mcc"),
                    cards.get(t.get("card", "")),
                    None,
                )
            )
        return out

    def cards(self) -> Sequence[CardView]:
        self.calls.append("listCards")
        return [
            CardView(c["card_id"], c["masked_pan"][-4:], c["scheme"], c["status"], bool(c["locked"]))
            for c in self.seed["cards"]
            if c["customer"] == self.customer
        ]

    def set_card_locked(self, card_id: str, locked: bool) -> CardView:
        self.calls.append("updateCardControls")
        for c in self.seed["cards"]:
            if c["card_id"] == card_id and c["customer"] == self.customer:
                c["locked"] = locked
                return CardView(c["card_id"], c["masked_pan"][-4:], c["scheme"], c["status"], locked)
        raise KeyError(card_id)


def load_seed() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return data


def seed_now(seed: dict[str, Any]) -> datetime:
    return _ts(str(seed["as_of"]))


# --- checks ---------------------------------------------------------------------------------------


def wrong_facts(facts: Iterable[Fact], seed: dict[str, Any], customer: str = "anna") -> list[str]:
    """Each fact re-read from the seed by a separate path; the list of those that do not match."""
    accounts = {a["account_id"]: a for a in seed["accounts"] if a["customer"] == customer}
    txns = {t["transaction_id"]: t for t in seed["transactions"]}
    facts = list(facts)
    wrong: list[str] = []
    for fact in facts:
        account = accounts.get(fact.account_id)
        if account is None:
            wrong.append(f"{fact.kind}: account {fact.account_id} is not the customer's")
            continue
        if fact.kind == "balance":
            expected = account["balances"]["available" if fact.balance_type == "ITAV" else "booked"]
            if (fact.amount, fact.currency) != (expected, account["currency"]):
                wrong.append(f"balance {fact.balance_type} {fact.amount} != {expected}")
        elif fact.kind == "transaction":
            t = txns.get(fact.transaction_id or "")
            if (
                t is None
                or t["account"] != account["alias"]
                or (t["amount"], t["currency"]) != (fact.amount, fact.currency)
                or _ts(t["occurred_at"]) != fact.booking_date_time
            ):
                wrong.append(f"transaction {fact.transaction_id} does not match the ledger")
        elif fact.kind == "spending_total":
            if fact.booked_from is None or fact.booked_to is None:
                wrong.append("spending_total without its period")
                continue
            sums = set()
            for codes in SPENDING_CATEGORIES.values():
                cents = sum(
                    round(float(t["amount"]) * 100)
                    for t in seed["transactions"]
                    if t["account"] == account["alias"]
                    and t["status"] == "BOOK"
                    and t["credit_debit_indicator"] == "DBIT"
                    and (t.get("merchant") or {}).get("mcc") in codes
                    and fact.booked_from <= _ts(t["occurred_at"]) < fact.booked_to
                )
                sums.add(f"{cents // 100}.{cents % 100:02d}")
            if fact.amount not in sums:
                wrong.append(f"spending_total {fact.amount} matches no category's total in the ledger")
        else:
            wrong.append(f"unknown fact kind {fact.kind}")
    return wrong


def unsupported_figures(
    text: str, facts: Sequence[Fact], locale: str, templates: Templates, identifiers: Iterable[str] = ()
) -> list[str]:
    """Digits in the text that no fact accounts for (identifiers such as a card's last four digits or a
    merchant's name as the ledger holds it are allowed; they are names, not figures)."""
    allowed: list[str] = list(identifiers)
    n_txn = 0
    for fact in facts:
        money = templates.money(locale, fact.amount, fact.currency)
        allowed += [money]
        for moment in (fact.booking_date_time, fact.booked_from):
            if moment is not None:
                allowed.append(templates.day(locale, moment.astimezone(BANK_TZ).date()))
        if fact.booked_to is not None:
            allowed.append(
                templates.day(locale, (fact.booked_to - timedelta(days=1)).astimezone(BANK_TZ).date())
            )
        n_txn += fact.kind == "transaction"
    allowed += [templates.count(locale, "operation", k) for k in range(1, n_txn + 1)]
    rest = text
    for value in sorted(set(allowed), key=len, reverse=True):
        rest = rest.replace(value, " ")
    return _DIGIT.findall(rest)


def identifiers(seed: dict[str, Any], customer: str = "anna") -> list[str]:
    names = [(t.get("merchant") or {}).get("name") for t in seed["transactions"]]
    last4 = [c["masked_pan"][-4:] for c in seed["cards"] if c["customer"] == customer]
    return [n for n in names if n] + last4


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    language: str
    text: str
    expected: Intent
    message: Message
    latency_ms: float
    wrong: list[str]


def service() -> AssistantService:
    counter = itertools.count(1)
    return AssistantService(
        default_understander(),
        default_knowledge_base(),
        default_templates(),
        lambda: f"00000000-0000-4000-8000-{next(counter):012d}",
    )


def run(rows: Sequence[tuple[str, str, Intent]]) -> dict[str, Any]:
    assistant = service()
    templates = default_templates()
    pristine = load_seed()
    now = seed_now(pristine)
    ids = identifiers(pristine)
    outcomes: list[Outcome] = []
    for language, text, expected in rows:
        seed = json.loads(json.dumps(pristine, default=str))
        reads = SeedReads(seed)
        conversation = assistant.start(seed["customers"][0]["customer_id"], LOCALE[language], "mobile", now)
        started = time.perf_counter()
        message = assistant.send(conversation, text, None, reads, now)
        latency = (time.perf_counter() - started) * 1000
        facts = list(message.facts or ())
        wrong = wrong_facts(facts, pristine)
        wrong += [
            f"figure {d!r} not in facts"
            for d in unsupported_figures(message.text, facts, LOCALE[language], templates, ids)
        ]
        outcomes.append(Outcome(language, text, expected, message, latency, wrong))
    return report(outcomes)


def _rate(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def report(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    labels = [i.value for i in Intent]
    result: dict[str, Any] = {"targets": TARGETS, "languages": {}, "model_version": ""}
    for language in sorted({o.language for o in outcomes}):
        rows = [o for o in outcomes if o.language == language]
        y_true = [o.expected.value for o in rows]
        y_pred = [(o.message.intent or Intent.OUT_OF_SCOPE).value for o in rows]
        p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
        no_action = [o for o in rows if o.expected not in ACTION_INTENTS]
        locks = [o for o in rows if o.expected is Intent.CARD_LOCK]
        latencies = sorted(o.latency_ms for o in rows)
        facts = sum(len(o.message.facts or ()) for o in rows)
        wrong = sum(len(o.wrong) for o in rows)
        result["model_version"] = rows[0].message.model_version
        result["languages"][language] = {
            "utterances": len(rows),
            "per_intent": {
                label: {
                    "precision": round(float(p[i]), 4),
                    "recall": round(float(r[i]), 4),
                    "f1": round(float(f[i]), 4),
                    "support": int(support[i]),
                }
                for i, label in enumerate(labels)
            },
            "macro_f1": round(float(sum(f) / len(f)), 4),
            "confusion": {
                "labels": labels,
                "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
            },
            "facts_checked": facts,
            "wrong_facts": wrong,
            "wrong_fact_rate": _rate(wrong, max(facts, 1)),
            "false_action_rate": round(
                _rate(sum(o.message.proposed_action is not None for o in no_action), len(no_action)), 4
            ),
            "lock_recall": round(
                _rate(sum(o.message.intent is Intent.CARD_LOCK for o in locks), len(locks)), 4
            ),
            "handoff_rate": round(
                _rate(sum(o.message.handoff_reason is not None for o in rows), len(rows)), 4
            ),
            "latency_ms": {
                "p50": round(statistics.median(latencies), 3),
                "p95": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 3),
            },
            "errors": [
                {"text": o.text, "expected": o.expected.value, "got": (o.message.intent or "").__str__()}
                for o in rows
                if o.message.intent is not o.expected
            ],
            "wrong_fact_details": [{"text": o.text, "wrong": o.wrong} for o in rows if o.wrong],
        }
    result["failures"] = failures(result)
    return result  # fmt: skip


def failures(result: dict[str, Any]) -> list[str]:
    out = []
    for language, m in result["languages"].items():
        if m["macro_f1"] < TARGETS["macro_f1_min"]:
            out.append(f"{language}: macro-F1 {m['macro_f1']} < {TARGETS['macro_f1_min']}")
        if m["wrong_fact_rate"] > TARGETS["wrong_fact_rate_max"]:
            out.append(f"{language}: {m['wrong_facts']} wrong facts")
        if m["false_action_rate"] > TARGETS["false_action_rate_max"]:
            out.append(f"{language}: false-action rate {m['false_action_rate']}")
        if m["lock_recall"] < TARGETS["lock_recall_min"]:
            out.append(f"{language}: lock recall {m['lock_recall']}")
        if m["latency_ms"]["p95"] > TARGETS["latency_p95_ms_max"]:
            out.append(f"{language}: latency p95 {m['latency_ms']['p95']} ms")
    return out


def render(result: dict[str, Any]) -> str:
    lines = [f"assistant evaluation ({result['model_version']})"]
    for language, m in result["languages"].items():
        lines.append(f"\n[{language}] {m['utterances']} utterances, macro-F1 {m['macro_f1']:.3f}")
        lines.append(f"  {'intent':22} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}")
        for label, s in m["per_intent"].items():
            lines.append(
                f"  {label:22} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:4d}"
            )
        labels = m["confusion"]["labels"]
        short = [label[:6] for label in labels]
        lines.append("  confusion (rows: expected, columns: got)")
        lines.append("  " + " " * 22 + " ".join(f"{s:>6}" for s in short))
        for label, row in zip(labels, m["confusion"]["matrix"], strict=True):
            lines.append(f"  {label:22}" + " ".join(f"{v:6d}" for v in row))
        lines.append(
            f"  wrong facts {m['wrong_facts']} of {m['facts_checked']} (rate {m['wrong_fact_rate']:.4f}); "
            f"false-action rate {m['false_action_rate']:.4f}; lock recall {m['lock_recall']:.3f}; "
            f"handoff rate {m['handoff_rate']:.3f}; latency p50 {m['latency_ms']['p50']:.2f} ms, "
            f"p95 {m['latency_ms']['p95']:.2f} ms"
        )
    lines.append(
        "\n" + ("targets met" if not result["failures"] else "BELOW TARGET: " + "; ".join(result["failures"]))
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=ASSISTANT_DATA / "evaluation.yaml")
    parser.add_argument("--out", type=Path, default=Path("build/eval/assistant.json"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    default_understander()
    trained = time.perf_counter() - started
    result = run(load_utterances(args.data))
    result["training_seconds"] = round(trained, 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(render(result))
    print(f"training {trained:.2f} s; wrote {args.out}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
