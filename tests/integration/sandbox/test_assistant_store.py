"""Assistant conversations in the database (migration 0003) and the operations on them: the customer's
transcript and the support agents' queue. A conversation survives a restart and is seen by a second
process; transcripts in the database and in the logs are masked; staff and customer tokens stay apart."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sandbox_helpers import ANNA_CURRENT, bearer, token_for
from sqlalchemy import select

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from futurebank.assistant_eval import service
from futurebank.sandbox.adapters import orm
from futurebank.sandbox.config import DEMO_CLIENTS
from futurebank.sandbox.domain.assistant import ConversationStatus
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.service_layer.assistant_conversations import Conversations, DatabaseConversations

API = "/api/v1"
CARD = "2200 1234 5678 9012"
PHONE = "+7 999 123-45-67"
PASSPORT = "45 06 123456"
SECRETS = (CARD, "2200123456789012", "1234 5678", PHONE, "123-45-67", PASSPORT, "123456")


def _start(client: TestClient, token: str, locale: str = "ru-RU") -> str:
    r = client.post(
        f"{API}/assistant/conversations", json={"channel": "mobile", "locale": locale}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    return str(r.json()["conversation_id"])


def _say(client: TestClient, token: str, cid: str, text: str) -> dict[str, Any]:
    r = client.post(
        f"{API}/assistant/conversations/{cid}/messages", json={"text": text}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _transcript(client: TestClient, token: str, cid: str, limit: int = 50) -> list[dict[str, Any]]:
    """Every page of the transcript, following links.next."""
    url: str | None = f"{API}/assistant/conversations/{cid}/messages?limit={limit}"
    out: list[dict[str, Any]] = []
    while url:
        r = client.get(url, headers=bearer(token))
        assert r.status_code == 200, r.text
        out.extend(r.json()["data"])
        url = r.json()["links"].get("next")
    return out


def _agent(client: TestClient, client_id: str = "support-desk") -> str:
    return token_for(client, customer=None, client_id=client_id)


@pytest.fixture
def anna(client: TestClient) -> str:
    return token_for(client, scopes="assistant accounts:read transactions:read cards:read")


def test_a_conversation_survives_a_restart_and_is_seen_by_a_second_process(
    make_container: Callable[..., Container],
) -> None:
    first = TestClient(create_app(make_container()), raise_server_exceptions=False)
    with first:
        token = token_for(first, scopes="assistant accounts:read")
        cid = _start(first, token)
        _say(first, token, cid, "Сколько денег на текущем счёте?")
    # A new app on the same database, as after a restart: the conversation and its transcript are there.
    with TestClient(create_app(make_container()), raise_server_exceptions=False) as second:
        token = token_for(second, scopes="assistant accounts:read")
        before = _transcript(second, token, cid)
        assert [m["role"] for m in before] == ["assistant", "customer", "assistant"]
        assert before[2]["intent"] == "balance_inquiry" and before[2]["facts"]
        _say(second, token, cid, "позови оператора")
        handoff = second.post(
            f"{API}/assistant/conversations/{cid}/handoff",
            json={"reason": "customer_request"},
            headers=bearer(token),
        )
        assert handoff.status_code == 200, handoff.text  # the assistant had handed off already (H-1)
    with TestClient(create_app(make_container()), raise_server_exceptions=False) as third:
        token = token_for(third, scopes="assistant")
        assert len(_transcript(third, token, cid)) == 5


def test_transcripts_are_masked_in_the_database_and_in_the_logs(
    client: TestClient, container: Container, anna: str, caplog: pytest.LogCaptureFixture
) -> None:
    cid = _start(client, anna)
    with caplog.at_level(logging.INFO, logger="futurebank.assistant"):
        _say(client, anna, cid, f"моя карта {CARD}, телефон {PHONE}, паспорт {PASSPORT}")
        r = client.post(
            f"{API}/assistant/conversations/{cid}/handoff",
            json={"reason": "complaint", "comment": f"перезвоните на {PHONE}"},
            headers=bearer(anna),
        )
        assert r.status_code == 201, r.text
    logged = " ".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records)
    assert "assistant message" in logged  # the message was logged, masked
    with container.db.engine.connect() as conn:
        texts = [row.text for row in conn.execute(select(orm.assistant_messages.c.text))]
        comments = [row.comment for row in conn.execute(select(orm.assistant_handoffs.c.comment))]
    stored = " ".join(texts + [c or "" for c in comments])
    assert "9012" in stored and "[phone]" in stored and "[passport]" in stored
    for secret in SECRETS:
        assert secret not in stored, secret
        assert secret not in logged, secret
        assert all(secret not in m["text"] for m in _transcript(client, anna, cid)), secret


def test_the_transcript_pages_in_order_and_only_for_its_owner(client: TestClient, anna: str) -> None:
    cid = _start(client, anna, "en-US")
    for text in ("what is my balance", "show my transactions", "how much on groceries this month"):
        _say(client, anna, cid, text)
    whole = _transcript(client, anna, cid)
    assert len(whole) == 7 and whole[0]["role"] == "assistant" and "AI" in whole[0]["text"]
    assert _transcript(client, anna, cid, limit=2) == whole
    assert [m["created_at"] for m in whole] == sorted(m["created_at"] for m in whole)
    boris = token_for(client, customer="boris", scopes="assistant")
    r = client.get(f"{API}/assistant/conversations/{cid}/messages", headers=bearer(boris))
    assert (r.status_code, r.json()["code"]) == (404, "RESOURCE_NOT_FOUND")
    bad = client.get(f"{API}/assistant/conversations/{cid}/messages?cursor=abc", headers=bearer(anna))
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CURSOR")


def test_the_agent_works_the_queue(client: TestClient, anna: str) -> None:
    cid = _start(client, anna, "en-US")
    _say(client, anna, cid, f"I want to dispute a transaction on card {CARD}")
    agent = _agent(client)
    queue = client.get(f"{API}/assistant/handoffs", headers=bearer(agent))
    assert queue.status_code == 200, queue.text
    (entry,) = [e for e in queue.json()["data"] if e["handoff"]["conversation_id"] == cid]
    assert entry["handoff"]["reason"] == "dispute" and entry["handoff"]["status"] == "requested"
    assert entry["handoff"]["transcript_message_count"] == 3
    assert entry["waiting_seconds"] >= 0 and entry["locale"] == "en-US" and "transcript" not in entry
    hid = entry["handoff"]["handoff_id"]
    case = client.get(f"{API}/assistant/handoffs/{hid}", headers=bearer(agent)).json()
    assert [m["role"] for m in case["transcript"]] == ["assistant", "customer", "assistant"]
    assert "************9012" in case["transcript"][1]["text"] and CARD not in str(case)
    early = client.post(f"{API}/assistant/handoffs/{hid}/close", headers=bearer(agent))
    assert (early.status_code, early.json()["code"]) == (409, "HANDOFF_CONFLICT")
    accepted = client.post(f"{API}/assistant/handoffs/{hid}/accept", headers=bearer(agent))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["handoff"]["status"] == "accepted" and accepted.json()["agent_id"] == "SA104233"
    assert "accepted_at" in accepted.json()["handoff"] and len(accepted.json()["transcript"]) == 3
    again = client.post(f"{API}/assistant/handoffs/{hid}/accept", headers=bearer(agent))
    assert again.status_code == 200 and again.json()["handoff"] == accepted.json()["handoff"]
    remaining = client.get(f"{API}/assistant/handoffs", headers=bearer(agent)).json()["data"]
    assert hid not in [e["handoff"]["handoff_id"] for e in remaining]
    closed = client.post(f"{API}/assistant/handoffs/{hid}/close", headers=bearer(agent))
    assert closed.status_code == 200 and closed.json()["handoff"]["status"] == "closed"
    assert client.post(f"{API}/assistant/handoffs/{hid}/close", headers=bearer(agent)).status_code == 200
    missing = client.get(f"{API}/assistant/handoffs/{cid}", headers=bearer(agent))
    assert (missing.status_code, missing.json()["code"]) == (404, "RESOURCE_NOT_FOUND")


def test_a_closed_conversation_takes_no_more_messages(client: TestClient) -> None:
    """Change C-26: after the agent closes the case, neither a new question nor the confirmation of a
    card-lock proposal made before the handoff is answered, and the transcript keeps what it had."""
    anna = token_for(client, scopes="assistant cards:read cards:write")
    cid = _start(client, anna)
    proposal = _say(client, anna, cid, "Заблокируй мою карту")
    card = proposal["proposed_action"]["card_id"]
    handoff = client.post(
        f"{API}/assistant/conversations/{cid}/handoff",
        json={"reason": "customer_request"},
        headers=bearer(anna),
    )
    hid = handoff.json()["handoff_id"]
    agent = bearer(_agent(client))
    assert client.post(f"{API}/assistant/handoffs/{hid}/accept", headers=agent).status_code == 200
    assert client.post(f"{API}/assistant/handoffs/{hid}/close", headers=agent).status_code == 200
    before = _transcript(client, anna, cid)
    for body in (
        {"text": "Сколько денег на счёте?"},
        {"text": "Да", "confirmation_for": proposal["message_id"]},
    ):
        r = client.post(f"{API}/assistant/conversations/{cid}/messages", json=body, headers=bearer(anna))
        assert (r.status_code, r.json()["code"]) == (409, "CONVERSATION_CLOSED"), r.text
        assert "new conversation" in r.json()["detail"]
    assert _transcript(client, anna, cid) == before
    assert client.get(f"{API}/cards/{card}", headers=bearer(anna)).json()["controls"]["locked"] is False
    again = client.post(
        f"{API}/assistant/conversations/{cid}/handoff",
        json={"reason": "customer_request"},
        headers=bearer(anna),
    )
    assert again.status_code == 200 and again.json()["status"] == "closed"
    _say(client, anna, _start(client, anna), "Сколько денег на счёте?")  # a new conversation is answered


def test_another_agent_cannot_take_an_accepted_handoff(make_container: Callable[..., Container]) -> None:
    clients = {**DEMO_CLIENTS, "support-desk-2": "support-desk-2-secret"}
    staff = {"support-desk": "SA104233", "support-desk-2": "SA104234"}
    with TestClient(create_app(make_container(clients=clients, staff_clients=staff))) as client:
        anna = token_for(client, scopes="assistant")
        cid = _start(client, anna)
        r = client.post(
            f"{API}/assistant/conversations/{cid}/handoff",
            json={"reason": "suspected_fraud"},
            headers=bearer(anna),
        )
        hid = r.json()["handoff_id"]
        assert (
            client.post(f"{API}/assistant/handoffs/{hid}/accept", headers=bearer(_agent(client))).status_code
            == 200
        )
        other = bearer(_agent(client, "support-desk-2"))
        for step in ("accept", "close"):
            r = client.post(f"{API}/assistant/handoffs/{hid}/{step}", headers=other)
            assert (r.status_code, r.json()["code"]) == (409, "HANDOFF_CONFLICT"), step


def test_customer_and_staff_tokens_stay_apart(client: TestClient, anna: str) -> None:
    hid = "aa11bb22-cc33-4d44-8e55-ff6677889900"
    full = token_for(client)  # a customer's token with every scope a customer can hold
    for method, path in (
        ("GET", "/assistant/handoffs"),
        ("GET", f"/assistant/handoffs/{hid}"),
        ("POST", f"/assistant/handoffs/{hid}/accept"),
        ("POST", f"/assistant/handoffs/{hid}/close"),
    ):
        r = client.request(method, API + path, headers=bearer(full))
        assert (r.status_code, r.json()["code"]) == (403, "INSUFFICIENT_SCOPE"), path
    agent = _agent(client)
    for path in ("/accounts", f"/accounts/{ANNA_CURRENT}/balances", "/cards", "/customers/me"):
        r = client.get(API + path, headers=bearer(agent))
        assert (r.status_code, r.json()["code"]) == (403, "INSUFFICIENT_SCOPE"), path
    # The staff client gets the agent scope and only it; no customer grant; no other client gets agent.
    form = {"grant_type": "client_credentials", "scope": "accounts:read"}
    r = client.post(f"{API}/oauth/token", data=form, auth=("support-desk", "support-desk-secret"))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_scope")
    form = {"grant_type": "urn:futurebank:params:oauth:grant-type:demo-customer", "customer": "anna"}
    r = client.post(f"{API}/oauth/token", data=form, auth=("support-desk", "support-desk-secret"))
    assert (r.status_code, r.json()["error"]) == (400, "unauthorized_client")
    form = {"grant_type": "client_credentials", "scope": "agent"}
    r = client.post(f"{API}/oauth/token", data=form, auth=("demo-app", "demo-app-secret"))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_scope")
    cid = _start(client, anna)
    r = client.get(f"{API}/assistant/conversations/{cid}/messages", headers=bearer(agent))
    assert (r.status_code, r.json()["code"]) == (403, "INSUFFICIENT_SCOPE")


def test_a_stale_copy_never_undoes_an_agents_step(container: Container) -> None:
    """Two processes on one database: what one loaded before the other's accept or close cannot put the
    old handoff state back (compare and set), and a reply saved late leaves a closed conversation closed."""
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    store = DatabaseConversations(container.db)
    one, two = Conversations(service(), store), Conversations(service(), DatabaseConversations(container.db))
    c = one.start("10000000-0000-4000-8000-000000000001", "en-US", "web", now)
    handoff = one.handoff(c.customer_id, c.conversation_id, "complaint", None, now)
    stale = store.get(c.conversation_id)  # as a reply in flight loaded it: handoff still requested
    assert stale is not None and stale.handoff is not None and stale.handoff.status == "requested"
    one.accept("SA104233", handoff.handoff_id, now + timedelta(seconds=5))
    # The other process judged on its stale copy: the stored state is no longer the one it expected.
    stale.handoff.status, stale.handoff.agent_id = "accepted", "SA104234"
    assert store.transition(stale, "requested") is False
    assert two.case(handoff.handoff_id).handoff.agent_id == "SA104233"
    one.close("SA104233", handoff.handoff_id, now + timedelta(seconds=60))
    late = store.get(c.conversation_id)
    assert late is not None
    late.status, late.ended_at = ConversationStatus.HANDED_OFF, None
    late.handoff = None
    store.save(late)  # a reply's save after the close
    after = store.get(c.conversation_id)
    assert after is not None and after.status is ConversationStatus.CLOSED and after.ended_at is not None
    assert after.handoff is not None and after.handoff.status == "closed"


def test_a_save_raced_by_another_process_is_refused_and_loses_nothing(container: Container) -> None:
    """Two processes answer a message of the same conversation at once: the second save finds the
    first's messages and is refused (409 CONVERSATION_CHANGED, change C-25) instead of dropping its own
    messages or breaking the message order; a send on a fresh copy then goes through."""
    from futurebank.sandbox.domain.assistant import Message
    from futurebank.sandbox.domain.errors import ConversationChanged

    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    store = DatabaseConversations(container.db)
    c = Conversations(service(), store).start("10000000-0000-4000-8000-000000000001", "en-US", "web", now)
    first, second = store.get(c.conversation_id), store.get(c.conversation_id)
    assert first is not None and second is not None
    first.messages.append(Message("m-first", "customer", "What is my balance?", now, ai_generated=False))
    second.messages.append(Message("m-second", "customer", "Lock my card", now, ai_generated=False))
    store.save(first)
    with pytest.raises(ConversationChanged):
        store.save(second)
    stored = store.get(c.conversation_id)
    assert stored is not None
    assert [m.message_id for m in stored.messages][-1] == "m-first"
    assert "m-second" not in [m.message_id for m in stored.messages]
    stored.messages.append(Message("m-second", "customer", "Lock my card", now, ai_generated=False))
    store.save(stored)  # sent again on the conversation as it now stands
    again = store.get(c.conversation_id)
    assert again is not None and [m.message_id for m in again.messages][-2:] == ["m-first", "m-second"]


def test_reading_and_working_a_transcript_is_audited(
    client: TestClient, container: Container, anna: str
) -> None:
    def actions() -> list[tuple[str, str, str, str]]:
        with container.db.engine.connect() as conn:
            rows = conn.execute(select(orm.audit_log).order_by(orm.audit_log.c.seq)).mappings().all()
        return [(r["action"], r["client_id"], r["customer_id"], r["details"]) for r in rows]

    cid = _start(client, anna)
    hid = client.post(
        f"{API}/assistant/conversations/{cid}/handoff",
        json={"reason": "customer_request"},
        headers=bearer(anna),
    ).json()["handoff_id"]
    before = len(actions())
    _transcript(client, anna, cid)
    boris = token_for(client, customer="boris", scopes="assistant")
    client.get(
        f"{API}/assistant/conversations/{cid}/messages", headers=bearer(boris)
    )  # refused: not recorded
    agent = bearer(_agent(client))
    client.get(f"{API}/assistant/handoffs/{hid}", headers=agent)
    client.post(f"{API}/assistant/handoffs/{hid}/accept", headers=agent)
    client.post(f"{API}/assistant/handoffs/{hid}/close", headers=agent)
    anna_id = "10000000-0000-4000-8000-000000000001"
    agent_details = '{"agent_id":"SA104233"}'
    assert actions()[before:] == [
        ("getConversationTranscript", "demo-app", anna_id, "{}"),
        ("getHandoff", "support-desk", anna_id, agent_details),
        ("acceptHandoff", "support-desk", anna_id, agent_details),
        ("closeHandoff", "support-desk", anna_id, agent_details),
    ]
