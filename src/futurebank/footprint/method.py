"""Spend-based carbon-footprint estimate of card spending: the calculation, and nothing else.

Standard library only, exact decimals, no input or output: the data arrive as ``MethodData`` (see
``futurebank.footprint.data`` for the loader) and the transactions as ``CardSpend``. Both the sandbox
and the spec build use this module, so the API's figures and the methodology page's worked example
are computed by the same code.

Per transaction:

    usd       = amount_rub / rub_per_usd(rate in force on the booking date)
    usd_2022  = usd * CPI(2022) / CPI(year of the booking)
    central   = usd_2022 * factor(sector of the MCC), kg CO2e
    low, high = central / k(score), central * k(score)

``k`` widens with the data-quality score (1 best .. 5 worst). Sums over transactions add the lows and
the highs separately, i.e. treat the factors' errors as fully correlated, so a total's range is never
narrower than its parts imply.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

KG = Decimal("0.001")
CONFIDENCE_LEVEL = "0.90"
# Multiplicative half-width of the 90 % range per data-quality score (our assumption, documented on
# the methodology page): the central value times or divided by k.
RANGE_FACTOR: Mapping[int, Decimal] = {
    1: Decimal("1.5"),
    2: Decimal("1.75"),
    3: Decimal("2.0"),
    4: Decimal("2.5"),
    5: Decimal("3.0"),
}
METHOD_DESCRIPTION = (
    "An estimate, not a measurement: each booked card purchase is assigned a sector from its merchant "
    "category code (MCC), converted from roubles to US dollars at the Bank of Russia's official rate in "
    "force on the booking date, expressed in 2022 dollars with the US consumer price index, and "
    "multiplied by the sector's kg CO2e per dollar from the US EPA Supply Chain GHG Emission Factors "
    "v1.3 (with margins). Transfers, cash, salary and pending holds are excluded."
)
UNCERTAINTY_METHOD = (
    "Each factor gets a data-quality score from 3 to 5 (US factors applied to Russian spending never "
    "score better than 3); the estimate's range is the central value divided and multiplied by 2.0, 2.5 "
    "or 3.0 for scores 3, 4 and 5, read as a 90 % interval; lows and highs are added across "
    "transactions and categories, which treats their errors as fully correlated."
)


class FootprintError(ValueError):
    """The data cannot produce an estimate for this input (no rate, no price index, bad currency)."""


@dataclass(frozen=True, slots=True)
class SectorMapping:
    mcc: str
    category: str
    naics: str | None  # None: the generic factor
    data_quality: int


@dataclass(frozen=True, slots=True)
class MethodData:
    """Everything the estimate depends on, as loaded from the data files."""

    factor_set: str
    factors: Mapping[str, Decimal]  # NAICS-6 -> kg CO2e per 2022 USD, with margins
    mccs: Mapping[str, SectorMapping]
    generic_factor: Decimal
    generic_data_quality: int
    rates: Sequence[tuple[date, Decimal]]  # (date in force from, RUB per USD), sorted by date
    cpi: Mapping[int, Decimal]  # year -> annual average
    cpi_base_year: int = 2022
    default_category: str = "other_goods"
    _rate_dates: list[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rate_dates", [d for d, _ in self.rates])

    def rate_on(self, day: date) -> tuple[date, Decimal]:
        """The official rate in force on ``day``: the latest one dated on or before it."""
        i = bisect.bisect_right(self._rate_dates, day)
        if i == 0:
            raise FootprintError(f"no official RUB/USD rate on or before {day.isoformat()}")
        return self.rates[i - 1]

    def deflator(self, year: int) -> tuple[int, Decimal]:
        """CPI(base) / CPI(year), using the latest year in the index when ``year`` is later."""
        used = min(year, max(self.cpi))
        if used not in self.cpi:
            raise FootprintError(f"no price index for {year}")
        return used, self.cpi[self.cpi_base_year] / self.cpi[used]

    def sector(self, mcc: str | None) -> tuple[str, str | None, Decimal, int]:
        """(category, NAICS or None, factor, data-quality score) for an MCC; unknown MCCs get the generic."""
        mapping = self.mccs.get(mcc or "")
        if mapping is None:
            return self.default_category, None, self.generic_factor, self.generic_data_quality
        if mapping.naics is None:
            return mapping.category, None, self.generic_factor, mapping.data_quality
        return mapping.category, mapping.naics, self.factors[mapping.naics], mapping.data_quality


@dataclass(frozen=True, slots=True)
class CardSpend:
    """A booked card purchase, as the estimate sees it."""

    transaction_id: str
    booked_on: date  # the booking date in Moscow time
    mcc: str | None
    amount: Decimal  # positive, in ``currency``
    currency: str = "RUB"


@dataclass(frozen=True, slots=True)
class Estimate:
    co2e_kg: Decimal
    low_kg: Decimal
    high_kg: Decimal

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(
            self.co2e_kg + other.co2e_kg, self.low_kg + other.low_kg, self.high_kg + other.high_kg
        )

    def rounded(self) -> Estimate:
        return Estimate(*(v.quantize(KG, rounding=ROUND_HALF_UP) for v in self.as_tuple()))

    def as_tuple(self) -> tuple[Decimal, Decimal, Decimal]:
        return self.co2e_kg, self.low_kg, self.high_kg

    def as_strings(self) -> dict[str, str]:
        r = self.rounded()
        return {"co2e_kg": str(r.co2e_kg), "low_kg": str(r.low_kg), "high_kg": str(r.high_kg)}


ZERO = Estimate(Decimal(0), Decimal(0), Decimal(0))


@dataclass(frozen=True, slots=True)
class TransactionEstimate:
    spend: CardSpend
    category: str
    naics: str | None
    factor: Decimal
    data_quality: int
    rate_date: date | None  # None for a USD amount
    rate: Decimal
    usd: Decimal
    cpi_year: int
    usd_2022: Decimal
    estimate: Estimate


@dataclass(frozen=True, slots=True)
class CategoryFootprint:
    category: str
    mcc_codes: tuple[str, ...]
    spend: Decimal
    transaction_count: int
    data_quality: int  # the worst score among its transactions
    estimate: Estimate


@dataclass(frozen=True, slots=True)
class Footprint:
    factor_set: str
    total: Estimate
    categories: tuple[CategoryFootprint, ...]
    unclassified_spend: Decimal
    transactions: tuple[TransactionEstimate, ...]
    rate_dates: tuple[date, ...]  # the official-rate dates actually used


def _kg_per_unit(spend: CardSpend, data: MethodData) -> tuple[Decimal, date | None, Decimal, int, Decimal]:
    """kg CO2e per unit of the purchase's currency: factor * CPI ratio / rate, with its inputs."""
    _, _, factor, _ = data.sector(spend.mcc)
    if spend.currency == "USD":
        rate_date, rate = None, Decimal(1)
    elif spend.currency == "RUB":
        rate_date, rate = data.rate_on(spend.booked_on)
    else:
        raise FootprintError(f"{spend.transaction_id}: no official rate for {spend.currency}")
    cpi_year, deflator = data.deflator(spend.booked_on.year)
    return factor * deflator / rate, rate_date, rate, cpi_year, deflator


def estimate_transaction(spend: CardSpend, data: MethodData) -> TransactionEstimate:
    if spend.amount <= 0:
        raise FootprintError(f"{spend.transaction_id}: a purchase amount must be positive")
    category, naics, factor, score = data.sector(spend.mcc)
    per_unit, rate_date, rate, cpi_year, deflator = _kg_per_unit(spend, data)
    usd = spend.amount / rate
    # The kilograms use the combined multiplier, exactly as ``footprint`` does, so the two agree to
    # the last digit; usd and usd_2022 are the intermediate steps shown on the methodology page.
    central = spend.amount * per_unit
    k = RANGE_FACTOR[score]
    return TransactionEstimate(
        spend=spend,
        category=category,
        naics=naics,
        factor=factor,
        data_quality=score,
        rate_date=rate_date,
        rate=rate,
        usd=usd,
        cpi_year=cpi_year,
        usd_2022=usd * deflator,
        estimate=Estimate(central, central / k, central * k),
    )


@dataclass
class _Sums:
    mccs: set[str] = field(default_factory=set)
    spend: Decimal = Decimal(0)
    count: int = 0
    central_by_score: dict[int, Decimal] = field(default_factory=dict)


def _ranged(central_by_score: dict[int, Decimal]) -> Estimate:
    items = sorted(central_by_score.items())
    return Estimate(
        sum((c for _, c in items), Decimal(0)),
        sum((c / RANGE_FACTOR[score] for score, c in items), Decimal(0)),
        sum((c * RANGE_FACTOR[score] for score, c in items), Decimal(0)),
    )


def footprint(spending: Iterable[CardSpend], data: MethodData, *, detail: bool = True) -> Footprint:
    """The estimate for a set of card purchases, per category (in a stable order) and in total.

    ``detail=False`` skips the per-transaction records (the API needs only the sums); the sums are
    the same either way. Central values are summed per category and score, and the range applied to
    each sum: (a + b) / k equals a / k + b / k, with one division instead of one per purchase.
    """
    items_in = tuple(spending)
    per_tx = tuple(estimate_transaction(s, data) for s in items_in if s.mcc) if detail else ()
    sums: dict[str, _Sums] = {}
    # kg per rouble changes only with the sector, the rate in force and the price-index year.
    per_unit_cache: dict[tuple[str, date | None, int, str], Decimal] = {}
    rate_dates: set[date] = set()
    unclassified = Decimal(0)
    for s in items_in:
        if not s.mcc:  # a card purchase without an MCC cannot be given a sector: reported only
            unclassified += s.amount
            continue
        if s.amount <= 0:
            raise FootprintError(f"{s.transaction_id}: a purchase amount must be positive")
        rate_date = data.rate_on(s.booked_on)[0] if s.currency == "RUB" else None
        key = (s.mcc, rate_date, s.booked_on.year, s.currency)
        per_unit = per_unit_cache.get(key)
        if per_unit is None:
            per_unit = per_unit_cache[key] = _kg_per_unit(s, data)[0]
        category, _, _, score = data.sector(s.mcc)
        acc = sums.get(category)
        if acc is None:
            acc = sums[category] = _Sums()
        acc.mccs.add(s.mcc)
        acc.spend += s.amount
        acc.count += 1
        acc.central_by_score[score] = acc.central_by_score.get(score, Decimal(0)) + s.amount * per_unit
        if rate_date is not None:
            rate_dates.add(rate_date)
    categories = tuple(
        CategoryFootprint(
            category=name,
            mcc_codes=tuple(sorted(acc.mccs)),
            spend=acc.spend,
            transaction_count=acc.count,
            data_quality=max(acc.central_by_score),
            estimate=_ranged(acc.central_by_score),
        )
        for name, acc in sorted(sums.items())
    )
    return Footprint(
        factor_set=data.factor_set,
        total=sum((c.estimate for c in categories), ZERO),
        categories=categories,
        unclassified_spend=unclassified,
        transactions=per_tx,
        rate_dates=tuple(sorted(rate_dates)),
    )


def monthly(spending: Iterable[CardSpend], data: MethodData) -> dict[str, Footprint]:
    """One footprint per calendar month (``YYYY-MM``), in month order."""
    months: dict[str, list[CardSpend]] = {}
    for s in spending:
        months.setdefault(s.booked_on.strftime("%Y-%m"), []).append(s)
    return {m: footprint(items, data) for m, items in sorted(months.items())}
