"""The assistant on the sandbox's message bus (the reads the app uses), on a seeded database: figures
from the ledger, scopes and consent respected, the card lock through updateCardControls."""

from __future__ import annotations

from datetime import datetime

from futurebank.assistant_eval import service
from futurebank.sandbox.domain.assistant import Intent
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.service_layer.assistant_reads import BusReads
from futurebank.sandbox.service_layer.handlers import Actor
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

ANNA = "10000000-0000-4000-8000-000000000001"
DEBIT = "40000000-0000-4000-8000-000000000001"
NOW = datetime.fromisoformat("2026-11-24T09:00:00+03:00")


def _reads(container: Container, scopes: str, client: str = "demo-app") -> BusReads:
    return BusReads(container.bus, Actor(client, ANNA, "corr-assistant"), scopes.split())


def test_answers_come_from_the_handlers(container: Container) -> None:
    assistant = service()
    conversation = assistant.start(ANNA, "ru-RU", "mobile", NOW)
    balance = assistant.send(
        conversation,
        "Сколько денег на текущем счёте?",
        None,
        _reads(container, "assistant accounts:read"),
        NOW,
    )
    spending = assistant.send(
        conversation,
        "Сколько я потратила на такси в ноябре?",
        None,
        _reads(container, "assistant transactions:read"),
        NOW,
    )
    assert ("24650.00", "RUB") in {(f.amount, f.currency) for f in balance.facts or ()}
    assert "listAccounts" in balance.api_calls and "getAccountBalances" in balance.api_calls
    assert [f.amount for f in spending.facts or () if f.kind == "spending_total" and f.amount != "0.00"] == [
        "800.00"
    ]


def test_without_the_scope_or_consent_nothing_is_read(container: Container) -> None:
    assistant = service()
    conversation = assistant.start(ANNA, "ru-RU", "mobile", NOW)
    no_scope = assistant.send(conversation, "какой у меня баланс", None, _reads(container, "assistant"), NOW)
    # budget-app's consent covers accounts and balances, not transactions.
    no_consent = assistant.send(
        conversation,
        "покажи последние операции",
        None,
        _reads(container, "assistant transactions:read", "budget-app"),
        NOW,
    )
    for reply in (no_scope, no_consent):
        assert reply.intent is Intent.OUT_OF_SCOPE and not reply.facts
        assert "разрешения" in reply.text


def test_the_lock_runs_through_update_card_controls_after_confirmation(container: Container) -> None:
    assistant = service()
    conversation = assistant.start(ANNA, "ru-RU", "mobile", NOW)
    scopes = "assistant cards:read cards:write"
    proposal = assistant.send(
        conversation, "Заблокируй мою карту, я её потеряла", None, _reads(container, scopes), NOW
    )
    with UnitOfWork(container.db) as uow:
        card = uow.cards.owned(ANNA, DEBIT)
        assert card is not None and not card.locked
    done = assistant.send(conversation, "Да", proposal.message_id, _reads(container, scopes), NOW)
    with UnitOfWork(container.db) as uow:
        card = uow.cards.owned(ANNA, DEBIT)
        assert card is not None and card.locked
    assert done.api_calls == ("updateCardControls",)
