"""The MVP cost model multiplies and sums its ranges in the build and refuses lines without a source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from futurebank.spec.pages.cost_model import DATA, parse_cost_model, render_cost, render_summary
from futurebank.spec.pages.search_en_ru import SearchEnglishRussian
from futurebank.spec.rules import SpecFileError
from futurebank.spec.yaml_lines import load_with_lines

ROOT = Path(__file__).resolve().parents[3]


def data() -> Any:
    return load_with_lines(ROOT / DATA)


def test_every_line_group_is_present_and_the_total_is_the_sum() -> None:
    model = parse_cost_model(data(), DATA)
    assert {line.group for line in model.lines} == {"people", "hardware", "licences", "security", "run"}
    assert model.low == sum(line.quantity[0] * line.unit_cost[0] for line in model.lines)
    text = render_cost(model)
    assert "| **Total** |" in text and "AI banking budget (MSG\\-0009)" in text


def test_summary_compares_with_the_first_chat_budget() -> None:
    raw = {
        "months": 10,
        "chat_budgets": [{"what": "X budget", "rub_m": 1000}],
        "lines": [
            {
                "item": g,
                "group": g,
                "quantity": [1, 2],
                "unit": "u",
                "unit_cost": [50, 100],
                "source": "assumption",
            }
            for g in ("people", "hardware", "licences", "security", "run")
        ],
    }
    assert render_summary(parse_cost_model(raw, DATA)).startswith(
        "**250 m to 1.00 bn RUB** over 10 months, 25% to 100% of the chat's X budget, 1.00 bn RUB"
    )


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("source", "a blog", "SRC- item or 'assumption'"),
        ("quantity", [5, 1], "low ≤ high"),
        ("group", "x", "group"),
    ],
)
def test_a_bad_line_is_refused(field: str, value: Any, needle: str) -> None:
    broken = data()
    broken["lines"][0][field] = value
    with pytest.raises(SpecFileError, match=needle) as refused:
        parse_cost_model(broken, DATA)
    assert refused.value.rule == "R-59-cost-model-valid"


def test_search_stems_russian_and_english_words() -> None:
    lang = SearchEnglishRussian({})
    assert lang.stem("бюджета") == lang.stem("бюджетом") == lang.stem("бюджет")
    assert lang.stem("budgets") == lang.stem("budget")
    assert "EnglishRussianStemmer" in lang.js_stemmer_code and "RussianStemmer" in lang.js_stemmer_code
