"""Sustainability: getCarbonFootprint and listGreenProducts (US-0021, US-0022)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter
from starlette.responses import Response

from futurebank.footprint.method import (
    CONFIDENCE_LEVEL,
    METHOD_DESCRIPTION,
    UNCERTAINTY_METHOD,
    Footprint,
    FootprintError,
)
from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.entrypoints.problems import FieldError, ProblemError
from futurebank.sandbox.entrypoints.toolkit import AccountId, ApiCall, Call, QueryModel, call_with
from futurebank.sandbox.service_layer import sustainability as s
from futurebank.sandbox.service_layer.seed import MSK

router = APIRouter()
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_PERIOD_DAYS = 366


def _period_error(name: str, code: str, detail: str) -> ProblemError:
    return ProblemError(
        "VALIDATION_FAILED",
        f"The query parameter {name} is invalid: {detail}",
        [FieldError(f"#/query/{name}", code, detail)],
    )


class FootprintQuery(QueryModel):
    # Plain strings: the period rules below give the contract's field codes (REQUIRED, FORMAT, …).
    period_from: str | None = None
    period_to: str | None = None


FootprintCall = Annotated[Call[FootprintQuery], call_with(FootprintQuery)]


def _query_date(name: str, value: str | None) -> date:
    if value is None:
        raise _period_error(name, "REQUIRED", "The parameter is required.")
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _period_error(name, "FORMAT", "Must be an ISO 8601 date (YYYY-MM-DD).") from None


def query_period(query: FootprintQuery, now: datetime) -> s.Period:
    first = _query_date("period_from", query.period_from)
    last = _query_date("period_to", query.period_to)
    today = now.astimezone(MSK).date()
    if first > today:
        raise _period_error("period_from", "IN_FUTURE", "The period must not start after today.")
    if last < first:
        raise _period_error("period_to", "BEFORE_PERIOD_FROM", "Must not be before period_from.")
    if last - first > timedelta(days=MAX_PERIOD_DAYS):
        raise _period_error("period_to", "OUT_OF_RANGE", f"At most {MAX_PERIOD_DAYS} days after period_from.")
    return s.Period(first, last)


def carbon_footprint(account_id: str, period: s.Period, fp: Footprint, now: datetime) -> dict[str, Any]:
    def money(amount: Any) -> dict[str, str]:
        return {"amount": f"{amount:.2f}", "currency": "RUB"}

    return {
        "account_id": account_id,
        "period_from": period.first.isoformat(),
        "period_to": period.last.isoformat(),
        "total": fp.total.as_strings(),
        "categories": [
            {
                "category": c.category,
                "mcc_codes": list(c.mcc_codes),
                "spend": money(c.spend),
                "transaction_count": c.transaction_count,
                "data_quality": c.data_quality,
                "estimate": c.estimate.as_strings(),
            }
            for c in fp.categories
        ],
        "unclassified_spend": money(fp.unclassified_spend),
        "method": {
            "approach": "spend_based",
            "factor_set": fp.factor_set,
            "description": METHOD_DESCRIPTION,
            "uncertainty_method": UNCERTAINTY_METHOD,
            "confidence_level": CONFIDENCE_LEVEL,
            "exchange_rate_dates": [d.isoformat() for d in fp.rate_dates],
        },
        "calculated_at": now.astimezone(MSK).isoformat(timespec="seconds"),
    }


@router.get("/accounts/{account_id}/carbon-footprint", operation_id="getCarbonFootprint")
async def get_carbon_footprint(call: FootprintCall, account_id: AccountId) -> Response:
    now = call.now()
    period = query_period(call.query, now)
    try:
        fp = await call.handle(q.GetCarbonFootprint(account_id, period.first, period.last))
    except FootprintError as exc:  # e.g. a purchase before the first official rate in the data
        raise _period_error("period_from", "OUT_OF_DATA_RANGE", str(exc)) from None
    return call.json(carbon_footprint(account_id, period, fp, now))


@router.get("/green-products", operation_id="listGreenProducts")
async def list_green_products(call: ApiCall) -> Response:
    products = [
        {
            "product_id": p["product_id"],
            "name": p["name"],
            "product_type": p["product_type"],
            "description": p["description"].strip(),
            "green_label": {
                "taxonomy": p["green_label"]["taxonomy"],
                "project_type": p["green_label"]["project_type"],
                "taxonomy_area": p["green_label"]["taxonomy_area"],
                "criterion": " ".join(p["green_label"]["criterion"].split()),
                "verification": p["green_label"]["verification"].strip(),
                "verified_on": str(p["green_label"]["verified_on"]),
            },
        }
        for p in await call.handle(q.ListGreenProducts())
    ]
    return call.page(products)
