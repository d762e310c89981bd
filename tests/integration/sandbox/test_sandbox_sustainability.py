"""getCarbonFootprint and listGreenProducts through HTTP: figures, ownership and bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sandbox_helpers import ANNA_CURRENT, BORIS_CURRENT, bearer, token_for
from starlette.testclient import TestClient

from futurebank.footprint.data import load_method_data
from futurebank.sandbox.entrypoints.representations import MSK
from futurebank.sandbox.service_layer import sustainability

API = "/api/v1"
NOVEMBER = {"period_from": "2026-11-01", "period_to": "2026-11-30"}


def footprint(client: TestClient, account: str, params: dict[str, str], scopes: str = "") -> object:
    h = bearer(token_for(client, "anna", scopes))
    return client.get(f"{API}/accounts/{account}/carbon-footprint", params=params, headers=h)


def test_annas_november_matches_the_worked_example(client: TestClient) -> None:
    r = footprint(client, ANNA_CURRENT, NOVEMBER)
    assert r.status_code == 200, r.text
    body = r.json()
    # The methodology page's worked example: only the three booked card purchases count.
    assert body["total"] == {"co2e_kg": "20.122", "low_kg": "8.866", "high_kg": "46.218"}
    by_cat = {c["category"]: c for c in body["categories"]}
    assert set(by_cat) == {"groceries", "restaurants", "transport"}
    assert by_cat["restaurants"] == {
        "category": "restaurants",
        "mcc_codes": ["5812"],
        "spend": {"amount": "1200.00", "currency": "RUB"},
        "transaction_count": 1,
        "data_quality": 3,
        "estimate": {"co2e_kg": "2.775", "low_kg": "1.387", "high_kg": "5.550"},
    }
    assert body["unclassified_spend"] == {"amount": "0.00", "currency": "RUB"}
    method = body["method"]
    assert method["factor_set"] == "us-epa-sef-v1.3.0+futurebank-mcc-2026.12"
    assert method["confidence_level"] == "0.90" and method["exchange_rate_dates"] == ["2026-07-01"]
    assert "estimate" in method["description"].lower()


def test_a_period_without_purchases_is_zero_with_a_zero_range(client: TestClient) -> None:
    r = footprint(client, ANNA_CURRENT, {"period_from": "2026-01-01", "period_to": "2026-01-31"})
    assert r.status_code == 200
    assert r.json()["total"] == {"co2e_kg": "0.000", "low_kg": "0.000", "high_kg": "0.000"}
    assert r.json()["categories"] == []


def test_another_customers_account_is_not_found(client: TestClient) -> None:
    r = footprint(client, BORIS_CURRENT, NOVEMBER)
    assert (r.status_code, r.json()["code"]) == (404, "RESOURCE_NOT_FOUND")
    r = footprint(client, "20000000-0000-4000-8000-0000000000ff", NOVEMBER)
    assert (r.status_code, r.json()["code"]) == (404, "RESOURCE_NOT_FOUND")


def test_the_scope_is_required(client: TestClient) -> None:
    r = footprint(client, ANNA_CURRENT, NOVEMBER, scopes="transactions:read")
    assert (r.status_code, r.json()["code"]) == (403, "INSUFFICIENT_SCOPE")


TOMORROW = (datetime.now(MSK) + timedelta(days=1)).date().isoformat()


@pytest.mark.parametrize(
    ("params", "pointer", "code"),
    [
        ({"period_to": "2026-11-30"}, "#/query/period_from", "REQUIRED"),
        ({"period_from": "2026-11-01"}, "#/query/period_to", "REQUIRED"),
        ({"period_from": "2026-11", "period_to": "2026-11-30"}, "#/query/period_from", "FORMAT"),
        ({"period_from": "2026-02-30", "period_to": "2026-11-30"}, "#/query/period_from", "FORMAT"),
        ({"period_from": "01.11.2026", "period_to": "2026-11-30"}, "#/query/period_from", "FORMAT"),
        ({"period_from": TOMORROW, "period_to": TOMORROW}, "#/query/period_from", "IN_FUTURE"),
        ({"period_from": "2026-11-30", "period_to": "2026-11-01"}, "#/query/period_to", "BEFORE_PERIOD_FROM"),
        ({"period_from": "2025-01-01", "period_to": "2026-11-30"}, "#/query/period_to", "OUT_OF_RANGE"),
        ({**NOVEMBER, "currency": "USD"}, "#/query/currency", "UNKNOWN_PARAMETER"),
    ],
)
def test_bad_periods_are_problems(
    client: TestClient, params: dict[str, str], pointer: str, code: str
) -> None:
    r = footprint(client, ANNA_CURRENT, params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "VALIDATION_FAILED"
    assert problem["errors"][0]["pointer"] == pointer and problem["errors"][0]["code"] == code


def test_a_malformed_account_id_is_a_problem(client: TestClient) -> None:
    r = footprint(client, "not-a-uuid", NOVEMBER)
    assert (r.status_code, r.json()["code"]) == (400, "VALIDATION_FAILED")


def test_green_products_list_only_labelled_products(client: TestClient) -> None:
    r = client.get(f"{API}/green-products", headers=bearer(token_for(client, "anna", "sustainability:read")))
    assert r.status_code == 200, r.text
    products = r.json()["data"]
    assert [p["name"] for p in products] == ["Green deposit"]
    label = products[0]["green_label"]
    assert label["taxonomy"] == "ru_decree_1587" and "Энергетика" in label["criterion"]
    assert r.json()["links"] == {"self": f"{API}/green-products"}


def test_a_purchase_before_the_first_official_rate_is_a_problem(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rates file starts after Anna's November purchases: no rate is in force on their dates, so
    # the estimate is refused with a field error naming the date, not answered with a guess or a 500.
    data = load_method_data()
    late = replace(data, rates=((date(2026, 12, 1), Decimal("80.0000")),))
    monkeypatch.setattr(sustainability, "load_method_data", lambda: late)
    r = footprint(client, ANNA_CURRENT, NOVEMBER)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "VALIDATION_FAILED"
    error = problem["errors"][0]
    assert (error["pointer"], error["code"]) == ("#/query/period_from", "OUT_OF_DATA_RANGE")
    assert "no official RUB/USD rate on or before 2026-11-" in error["detail"]
