"""KPI events from the transactional outbox: recorded with the action or not at all, relayed at least
once, and valid against the event contract."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml
from fastapi.testclient import TestClient
from sandbox_helpers import bearer, token_for

from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

REPO = Path(__file__).resolve().parents[3]
API = "/api/v1"
ANNA_CURRENT = "20000000-0000-4000-8000-000000000001"
ANNA_SAVINGS = "20000000-0000-4000-8000-000000000002"
CARD_ANNA = "40000000-0000-4000-8000-000000000001"


def contract_validator() -> jsonschema.Draft202012Validator:
    """The AsyncAPI payload of kpiEvent: the envelope and the KpiEvent entity."""
    asyncapi = yaml.safe_load((REPO / "docs" / "api" / "asyncapi.yaml").read_text(encoding="utf-8"))
    envelope = asyncapi["components"]["schemas"]["EventEnvelope"]
    entity = yaml.safe_load((REPO / "docs" / "entities" / "KpiEvent.schema.yaml").read_text(encoding="utf-8"))
    schema = {
        **envelope,
        "properties": {**envelope["properties"], "event_type": {"const": "kpi.recorded"}, "data": entity},
    }
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def outbox(container: Container) -> list[tuple[int, str]]:
    with UnitOfWork(container.db) as uow:
        return uow.kpi_outbox.unpublished()


def pay(client: TestClient, token: str, amount: str) -> int:
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": amount, "currency": "RUB"},
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    return client.post(f"{API}/payments", json=body, headers=bearer(token, **key)).status_code


def test_an_action_records_one_event_a_refusal_none_and_the_relay_publishes_each_once(
    make_container: Callable[..., Container],
) -> None:
    container = make_container()
    assert container.kpi_relay is not None
    container.kpi_relay.stop()  # publish by hand below, not from the background thread
    sink = container.settings.data_dir / "kpi-events.jsonl"
    sink.unlink(missing_ok=True)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        token = token_for(client)
        assert pay(client, token, "10.00") == 201
        assert pay(client, token, "99999999.00") == 422  # refused: insufficient funds
        assert (
            client.patch(
                f"{API}/cards/{CARD_ANNA}/controls", json={"locked": True}, headers=bearer(token)
            ).status_code
            == 200
        )
        client.get(f"{API}/accounts", headers=bearer(token))  # a read is no action
    pending = outbox(container)
    assert [json.loads(p)["data"]["event"] for _, p in pending] == ["paymentCompleted", "cardControlsChanged"]
    assert container.kpi_relay.publish_pending() == 2
    assert container.kpi_relay.publish_pending() == 0  # published once
    published = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    validator = contract_validator()
    for event in published:
        validator.validate(event)
    assert {e["data"]["customer_age_band"] for e in published} == {"18-24"}  # Anna, born 2005-06-15
    assert len({e["data"]["customer_key"] for e in published}) == 1


def test_the_contract_example_is_what_the_sandbox_publishes() -> None:
    asyncapi = yaml.safe_load((REPO / "docs" / "api" / "asyncapi.yaml").read_text(encoding="utf-8"))
    example = asyncapi["components"]["messages"]["kpiEvent"]["examples"][0]["payload"]
    contract_validator().validate(example)
    with pytest.raises(jsonschema.ValidationError):
        contract_validator().validate({**example, "data": {**example["data"], "birth_date": "2005-06-15"}})
