"""The footprint methodology page's generators: figures from the data, an offline chart, no drift."""

from __future__ import annotations

import re
from decimal import Decimal

import yaml

from futurebank.footprint.data import default_data_dir, load_method_data
from futurebank.footprint.method import footprint, monthly
from futurebank.sandbox.service_layer.seed import default_seed_path
from futurebank.sandbox.service_layer.sustainability import DEMO_HISTORY, demo_history_csv
from futurebank.spec.pages.sustainability import (
    load_demo_history,
    render_chart,
    render_green_products,
    render_worked_example,
    seed_card_spend,
)

DATA = default_data_dir()


def seed() -> dict[str, object]:
    loaded = yaml.safe_load(default_seed_path().read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_worked_example_counts_only_booked_card_purchases() -> None:
    spend, skipped = seed_card_spend(seed(), "anna")
    assert sorted(s.transaction_id for s in spend) == ["tx-anna-cafe", "tx-anna-grocery", "tx-anna-taxi"]
    assert any("tx-anna-cinema" in s and "pending" in s for s in skipped)
    assert any("tx-anna-salary" in s for s in skipped)


def test_worked_example_total_matches_the_hand_calculation() -> None:
    # cafe 1200/78.2696*292.655/313.689*0.194 = 2.775; taxi 800/...*0.566 = 5.397; grocery 2500/...*0.401
    # = 11.949; total 20.122. Ranges: /2,*2 for score 3 and /2.5,*2.5 for score 4, added: 8.866 - 46.218.
    text = render_worked_example(seed(), load_method_data())
    assert "**Total estimate: 20.122 (8.866 – 46.218) kg CO2e**" in text
    assert "2.775" in text and "5.397" in text and "11.949" in text


def test_the_chart_is_self_contained_svg() -> None:
    months = monthly(load_demo_history(DATA, "vera"), load_method_data())
    assert next(iter(months)) == "2026-05" and list(months)[-1] == "2026-11"
    svg = render_chart(months)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert not re.search(r"(href|src)=|https?://(?!www\.w3\.org/2000/svg)", svg)
    assert svg.count("<rect") >= len(months)


def test_the_demo_history_file_matches_the_seed_generator() -> None:
    committed = (DATA / DEMO_HISTORY).read_text(encoding="utf-8")
    assert committed == demo_history_csv(), (
        "regenerate with: python -m futurebank.sandbox.service_layer.sustainability"
    )


def test_ordinary_products_are_shown_without_a_label() -> None:
    products = yaml.safe_load((DATA / "green-products.yaml").read_text(encoding="utf-8"))["products"]
    text = render_green_products(products)
    assert "MIR debit card | card | no label" in text


def test_the_api_fast_path_gives_the_same_sums_as_the_detailed_one() -> None:
    spending = load_demo_history(DATA, "vera")
    data = load_method_data()
    detailed, fast = footprint(spending, data), footprint(spending, data, detail=False)
    assert (detailed.categories, detailed.total, detailed.rate_dates) == (
        fast.categories,
        fast.total,
        fast.rate_dates,
    )
    per_tx = sum((t.estimate.co2e_kg for t in detailed.transactions), Decimal(0))
    assert per_tx.quantize(Decimal("0.001")) == fast.total.rounded().co2e_kg
