"""Sustainability: getCarbonFootprint and listGreenProducts (US-0021, US-0022)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from futurebank.footprint.method import (
    CONFIDENCE_LEVEL,
    METHOD_DESCRIPTION,
    UNCERTAINTY_METHOD,
    Footprint,
    FootprintError,
)
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container, correlation_id
from futurebank.sandbox.entrypoints.problems import FieldError, ProblemError
from futurebank.sandbox.entrypoints.routers.common import self_link
from futurebank.sandbox.entrypoints.validation import only_query, path_uuid
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


def _query_date(request: Request, name: str) -> date:
    values = request.query_params.getlist(name)
    if not values:
        raise _period_error(name, "REQUIRED", "The parameter is required.")
    if len(values) > 1:
        raise _period_error(name, "REPEATED", "Give the parameter once.")
    try:
        if not _DATE.match(values[0]):
            raise ValueError(values[0])
        return date.fromisoformat(values[0])
    except ValueError:
        raise _period_error(name, "FORMAT", "Must be an ISO 8601 date (YYYY-MM-DD).") from None


def query_period(request: Request, now: datetime) -> s.Period:
    first = _query_date(request, "period_from")
    last = _query_date(request, "period_to")
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
async def get_carbon_footprint(request: Request, account_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "sustainability:read").actor(correlation_id(request))
    only_query(request, "period_from", "period_to")
    aid = path_uuid("account_id", account_id)
    now = c.clock()
    period = query_period(request, now)
    try:
        fp = await c.call(lambda uow: s.get_carbon_footprint(uow, actor, aid, period, now))
    except FootprintError as exc:  # e.g. a purchase before the first official rate in the data
        raise _period_error("period_from", "OUT_OF_DATA_RANGE", str(exc)) from None
    return rep.json_response(carbon_footprint(aid, period, fp, now))


@router.get("/green-products", operation_id="listGreenProducts")
async def list_green_products(request: Request) -> Response:
    c = container(request)
    authenticate(request, c.tokens, "sustainability:read")
    only_query(request)
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
        for p in s.list_green_products()
    ]
    return rep.json_response(rep.page(products, self_link(request)))
