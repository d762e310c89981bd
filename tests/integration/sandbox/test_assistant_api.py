"""The assistant's HTTP operations on the sandbox: answers with facts, the lock after confirmation, the
handoff, ownership, and bad input as problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_helpers import bearer, token_for

DEBIT = "40000000-0000-4000-8000-000000000001"


def _start(client: Any, token: str, locale: str = "ru-RU") -> dict[str, Any]:
    r = client.post(
        "/api/v1/assistant/conversations", json={"channel": "mobile", "locale": locale}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_balance_answer_with_facts(client: Any) -> None:
    token = token_for(client, scopes="assistant accounts:read")
    conversation = _start(client, token)
    assert "ИИ" in conversation["ai_disclosure"]
    r = client.post(
        f"/api/v1/assistant/conversations/{conversation['conversation_id']}/messages",
        json={"text": "Сколько денег на текущем счёте?"},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text
    reply = r.json()
    assert reply["intent"] == "balance_inquiry" and reply["ai_generated"] is True
    assert {"amount": "24650.00", "currency": "RUB"} in [f["money"] for f in reply["facts"]]


def test_lock_after_confirmation_and_handoff(client: Any) -> None:
    token = token_for(client, scopes="assistant cards:read cards:write")
    cid = _start(client, token)["conversation_id"]
    url = f"/api/v1/assistant/conversations/{cid}"
    proposal = client.post(
        f"{url}/messages", json={"text": "Заблокируй мою карту"}, headers=bearer(token)
    ).json()
    assert proposal["proposed_action"] == {"action": "lock_card", "card_id": DEBIT}
    assert client.get(f"/api/v1/cards/{DEBIT}", headers=bearer(token)).json()["controls"]["locked"] is False
    done = client.post(
        f"{url}/messages",
        json={"text": "Да", "confirmation_for": proposal["message_id"]},
        headers=bearer(token),
    )
    assert done.status_code == 201 and done.json()["intent"] == "card_lock"
    assert client.get(f"/api/v1/cards/{DEBIT}", headers=bearer(token)).json()["controls"]["locked"] is True
    first = client.post(f"{url}/handoff", json={"reason": "customer_request"}, headers=bearer(token))
    assert first.status_code == 201 and first.json()["transcript_message_count"] == 5
    again = client.post(f"{url}/handoff", json={"reason": "customer_request"}, headers=bearer(token))
    assert again.status_code == 200 and again.json()["handoff_id"] == first.json()["handoff_id"]


def test_another_customers_conversation_is_not_found(client: Any) -> None:
    cid = _start(client, token_for(client, scopes="assistant"))["conversation_id"]
    boris = token_for(client, customer="boris", scopes="assistant")
    r = client.post(
        f"/api/v1/assistant/conversations/{cid}/handoff",
        json={"reason": "customer_request"},
        headers=bearer(boris),
    )
    assert r.status_code == 404 and r.json()["code"] == "RESOURCE_NOT_FOUND"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("", {"channel": "fax", "locale": "ru-RU"}),
        ("", {"channel": "mobile"}),
        ("/{cid}/messages", {"text": ""}),
        ("/{cid}/messages", {"text": "x" * 2001}),
        ("/{cid}/messages", {"text": "hi", "confirmation_for": "not-a-uuid"}),
        ("/{cid}/messages", {"text": "hi", "extra": 1}),
        ("/{cid}/handoff", {"reason": "bored"}),
    ],
)
def test_bad_input_is_a_problem(client: Any, path: str, body: dict[str, Any]) -> None:
    token = token_for(client, scopes="assistant")
    cid = _start(client, token)["conversation_id"]
    r = client.post(
        "/api/v1/assistant/conversations" + path.format(cid=cid), json=body, headers=bearer(token)
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_control_characters_are_data(client: Any) -> None:
    # Found by Schemathesis: the contract allows any text, so none is refused for its characters.
    token = token_for(client, scopes="assistant")
    cid = _start(client, token)["conversation_id"]
    r = client.post(
        f"/api/v1/assistant/conversations/{cid}/messages",
        json={"text": "\u0083\u009bN\u007f"},
        headers=bearer(token),
    )
    assert r.status_code == 201 and r.json()["ai_generated"] is True


def test_without_the_assistant_scope(client: Any) -> None:
    r = client.post(
        "/api/v1/assistant/conversations",
        json={"channel": "mobile", "locale": "ru-RU"},
        headers=bearer(token_for(client, scopes="accounts:read")),
    )
    assert r.status_code == 403 and r.json()["code"] == "INSUFFICIENT_SCOPE"
