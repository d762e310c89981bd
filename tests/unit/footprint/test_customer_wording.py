"""Wording rules for customer-facing footprint text, over every response template and the site page.

An estimate, never presented as the customer's measured emissions; the range always with the figure;
comparisons only with a cited average; no offsets or neutrality claims.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from futurebank.footprint import method
from futurebank.footprint.data import default_data_dir, load_method_data
from futurebank.footprint.method import monthly
from futurebank.sandbox.service_layer.seed import default_seed_path
from futurebank.spec.pages import sustainability as page

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = [
    (
        re.compile(r"\byour\s+(carbon\s+|co2\s+)?(emissions|footprint is)\b", re.I),
        "a measurement of 'your emissions'",
    ),
    (re.compile(r"\boffset(s|ting)?\b", re.I), "offsets"),
    (re.compile(r"\b(carbon|climate)[- ]neutral", re.I), "a neutrality claim"),
    (re.compile(r"\bnet[- ]zero\b", re.I), "a net-zero claim"),
    (re.compile(r"\bexact(ly)?\b|\bprecise(ly)?\b", re.I), "false precision"),
]
COMPARISON = re.compile(
    r"\b(than|compared (with|to)|versus|vs\.?)\b[^.]*\baverage\b|\baverage\b[^.]*\bthan\b", re.I
)
CITATION = re.compile(r"\{need\}`SRC-\d{4}`")


def wording_problems(text: str) -> list[str]:
    problems = [f"{why}: {m.group(0)!r}" for rx, why in FORBIDDEN for m in rx.finditer(text)]
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if COMPARISON.search(sentence) and not CITATION.search(sentence):
            problems.append(f"comparison without a cited average: {sentence.strip()[:80]!r}")
    return problems


def templates() -> dict[str, str]:
    found = {
        "method.METHOD_DESCRIPTION": method.METHOD_DESCRIPTION,
        "method.UNCERTAINTY_METHOD": method.UNCERTAINTY_METHOD,
    }
    products = yaml.safe_load((default_data_dir() / "green-products.yaml").read_text(encoding="utf-8"))
    for p in products["products"]:
        found[f"green-products {p['name']}"] = yaml.safe_dump(p, allow_unicode=True)
    contract = yaml.safe_load((ROOT / "docs" / "api" / "openapi.yaml").read_text(encoding="utf-8"))
    for path in ("/accounts/{account_id}/carbon-footprint", "/green-products"):
        found[f"openapi {path}"] = yaml.safe_dump(contract["paths"][path], allow_unicode=True)
    for schema in ("CarbonFootprint", "EmissionEstimate", "GreenProduct"):
        found[f"openapi schema {schema}"] = yaml.safe_dump(contract["components"]["schemas"][schema])
    return found


def generated_pages() -> dict[str, str]:
    # The page's generated parts, as the build renders them.
    data_dir = default_data_dir()
    data = load_method_data()
    seed = yaml.safe_load(default_seed_path().read_text(encoding="utf-8"))
    products = yaml.safe_load((data_dir / "green-products.yaml").read_text(encoding="utf-8"))["products"]
    return {
        "generated footprint-mapping": page.render_mapping(data_dir, data),
        "generated footprint-worked-example": page.render_worked_example(seed, data),
        "generated footprint-demo-chart": page.render_monthly(
            monthly(page.load_demo_history(data_dir, page.CHART_CUSTOMER), data)
        ),
        "generated green-products": page.render_green_products(products),
    }


def pages() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in (ROOT / "docs" / "sustainability").glob("*.md")
    }


@pytest.mark.parametrize(
    ("name", "text"), [*templates().items(), *pages().items(), *generated_pages().items()]
)
def test_customer_text_follows_the_wording_rules(name: str, text: str) -> None:
    assert not wording_problems(text), name


def test_the_method_text_calls_it_an_estimate() -> None:
    assert "estimate" in method.METHOD_DESCRIPTION.lower()
    assert "90 %" in method.UNCERTAINTY_METHOD


def test_every_estimate_in_the_contract_carries_its_range() -> None:
    contract = yaml.safe_load((ROOT / "docs" / "api" / "openapi.yaml").read_text(encoding="utf-8"))
    estimate = contract["components"]["schemas"]["EmissionEstimate"]
    assert set(estimate["required"]) >= {"co2e_kg", "low_kg", "high_kg"}


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("These are your emissions for May.", "your emissions"),
        ("Offset your footprint with one tap.", "offsets"),
        ("Your card is now carbon-neutral.", "neutrality"),
        ("You emit 20% more than the average customer.", "comparison without a cited average"),
        ("Your exact footprint is 20.1 kg.", "false precision"),
    ],
)
def test_the_checker_catches_greenwashing_phrases(bad: str, rule: str) -> None:
    assert any(rule in p for p in wording_problems(bad))


def test_a_cited_comparison_passes() -> None:
    assert not wording_problems("That is less than the average of the survey {need}`SRC-0568`.")
