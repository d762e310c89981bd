"""The footprint calculation, on small inputs whose results were worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from futurebank.footprint.method import (
    CardSpend,
    FootprintError,
    MethodData,
    SectorMapping,
    estimate_transaction,
    footprint,
    monthly,
)


def hand_data() -> MethodData:
    # Round numbers so every step below can be checked on paper.
    return MethodData(
        factor_set="test-set-1",
        factors={"722511": Decimal("0.200"), "311999": Decimal("0.400")},
        mccs={
            "5812": SectorMapping("5812", "restaurants", "722511", 3),
            "5411": SectorMapping("5411", "groceries", "311999", 4),
            "4900": SectorMapping("4900", "utilities", None, 5),
        },
        generic_factor=Decimal("0.150"),
        generic_data_quality=5,
        rates=((date(2026, 7, 1), Decimal("80.00")), (date(2026, 11, 10), Decimal("100.00"))),
        cpi={2022: Decimal("300"), 2024: Decimal("330")},
    )


def test_one_purchase_worked_by_hand() -> None:
    # 1200 RUB / 80 = 15 USD; 2026 is after the index's last year, so 2024's: 15 * 300/330 = 13.6364
    # 2022 USD; * 0.200 = 2.727 kg; score 3 -> range /2 .. *2 = 1.364 .. 5.455.
    t = estimate_transaction(CardSpend("a", date(2026, 11, 3), "5812", Decimal("1200.00")), hand_data())
    assert (t.rate_date, t.rate, t.usd, t.cpi_year) == (date(2026, 7, 1), Decimal("80.00"), Decimal(15), 2024)
    assert t.estimate.as_strings() == {"co2e_kg": "2.727", "low_kg": "1.364", "high_kg": "5.455"}
    assert (t.category, t.naics, t.data_quality) == ("restaurants", "722511", 3)


def test_the_rate_in_force_changes_on_its_date() -> None:
    # On 2026-11-10 the rate is 100: 1000 RUB = 10 USD * 300/330 * 0.400 = 3.636 kg; score 4 -> /2.5, *2.5.
    t = estimate_transaction(CardSpend("b", date(2026, 11, 10), "5411", Decimal("1000.00")), hand_data())
    assert t.rate == Decimal("100.00")
    assert t.estimate.as_strings() == {"co2e_kg": "3.636", "low_kg": "1.455", "high_kg": "9.091"}


def test_an_unmapped_mcc_gets_the_generic_factor_and_the_lowest_score() -> None:
    # 800 RUB / 80 = 10 USD; 2022 prices: the index's 2022 itself -> 10 * 1 * 0.150 = 1.500 kg; /3, *3.
    data = replace(hand_data(), rates=((date(2022, 1, 1), Decimal("80.00")),))
    t = estimate_transaction(CardSpend("c", date(2022, 5, 5), "7999", Decimal("800.00")), data)
    assert (t.category, t.naics, t.factor, t.data_quality) == ("other_goods", None, Decimal("0.150"), 5)
    assert t.estimate.as_strings() == {"co2e_kg": "1.500", "low_kg": "0.500", "high_kg": "4.500"}


def test_a_mapped_mcc_without_a_sector_uses_the_generic_factor_with_its_own_category() -> None:
    t = estimate_transaction(CardSpend("d", date(2026, 8, 12), "4900", Decimal("2400.00")), hand_data())
    assert (t.category, t.naics, t.factor, t.data_quality) == ("utilities", None, Decimal("0.150"), 5)


def test_categories_and_total_add_central_low_and_high_separately() -> None:
    # restaurants: 2.727 (1.364 .. 5.455) as above; groceries on 2026-11-10: 3.636 (1.455 .. 9.091).
    # total: 6.364 (2.818 .. 14.545): the lows and the highs are added, not combined in quadrature.
    spending = [
        CardSpend("a", date(2026, 11, 3), "5812", Decimal("1200.00")),
        CardSpend("b", date(2026, 11, 10), "5411", Decimal("1000.00")),
        CardSpend("x", date(2026, 11, 11), None, Decimal("99.00")),
    ]
    f = footprint(spending, hand_data())
    assert [c.category for c in f.categories] == ["groceries", "restaurants"]
    assert [c.data_quality for c in f.categories] == [4, 3]
    assert f.total.as_strings() == {"co2e_kg": "6.364", "low_kg": "2.818", "high_kg": "14.545"}
    assert f.unclassified_spend == Decimal("99.00")
    assert f.rate_dates == (date(2026, 7, 1), date(2026, 11, 10))
    assert f.factor_set == "test-set-1"


def test_monthly_splits_by_calendar_month() -> None:
    spending = [
        CardSpend("a", date(2026, 10, 31), "5812", Decimal("1200.00")),
        CardSpend("b", date(2026, 11, 1), "5812", Decimal("1200.00")),
    ]
    months = monthly(spending, hand_data())
    assert list(months) == ["2026-10", "2026-11"]
    assert months["2026-10"].total.as_strings()["co2e_kg"] == "2.727"


def test_a_usd_purchase_needs_no_rate() -> None:
    # 15 USD in 2026 -> 13.6364 2022 USD * 0.200 = 2.727 kg, as the rouble example.
    t = estimate_transaction(
        CardSpend("u", date(2026, 1, 2), "5812", Decimal("15.00"), currency="USD"), hand_data()
    )
    assert (t.rate_date, t.estimate.as_strings()["co2e_kg"]) == (None, "2.727")


@pytest.mark.parametrize(
    ("spend", "message"),
    [
        (CardSpend("e", date(2026, 6, 30), "5812", Decimal("10.00")), "no official RUB/USD rate"),
        (
            CardSpend("f", date(2026, 7, 2), "5812", Decimal("10.00"), currency="EUR"),
            "no official rate for EUR",
        ),
        (CardSpend("g", date(2026, 7, 2), "5812", Decimal("0.00")), "must be positive"),
        (CardSpend("h", date(2021, 7, 2), "5812", Decimal("10.00")), "no official RUB/USD rate"),
    ],
)
def test_inputs_the_data_cannot_answer_are_refused(spend: CardSpend, message: str) -> None:
    with pytest.raises(FootprintError, match=message):
        estimate_transaction(spend, hand_data())


def test_a_year_before_the_price_index_is_refused() -> None:
    data = replace(hand_data(), rates=((date(2020, 1, 1), Decimal("70.00")),))
    with pytest.raises(FootprintError, match="no price index for 2021"):
        estimate_transaction(CardSpend("i", date(2021, 3, 1), "5812", Decimal("10.00")), data)
