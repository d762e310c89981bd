"""Wording rules (``futurebank.footprint.wording``) over every customer-facing footprint text: the API's
method texts and contract descriptions, the green-product data, every assistant reply template and the
knowledge-base answers about footprint and green products, and the methodology page's source and
generated parts. The built site's pages are checked in tests/integration/spec. The negative cases show
that each rule can fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from futurebank.footprint import method
from futurebank.footprint.data import default_data_dir, load_method_data
from futurebank.footprint.method import monthly
from futurebank.footprint.wording import wording_problems
from futurebank.sandbox.service_layer.seed import default_seed_path
from futurebank.spec.pages import sustainability as page

ROOT = Path(__file__).resolve().parents[3]
ASSISTANT = ROOT / "docs" / "assistant"
# Words that make an assistant template or knowledge-base answer footprint text (checked whatever they say).
FOOTPRINT_WORDS = re.compile(r"footprint|co2|carbon|emission|green|углерод|выброс|зел[её]н|эколог", re.I)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def assistant_texts() -> dict[str, str]:
    """Every reply template of the assistant, and each knowledge-base answer about footprint or green
    products, per locale (the assistant's customer-facing text)."""
    found: dict[str, str] = {}
    templates = yaml.safe_load((ASSISTANT / "templates.yaml").read_text(encoding="utf-8"))
    for locale, keys in templates.items():
        for key, value in keys.items():
            found[f"assistant template {locale} {key}"] = "\n".join(_strings(value))
    kb = yaml.safe_load((ASSISTANT / "knowledge_base.yaml").read_text(encoding="utf-8"))
    for entry in kb["entries"]:
        for lang, answer in entry["answer"].items():
            if FOOTPRINT_WORDS.search(answer) or "EP-0008" in entry["source"]:
                found[f"knowledge base {entry['id']} {lang}"] = answer
    return found


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


CUSTOMER_TEXT = {**templates(), **assistant_texts(), **pages(), **generated_pages()}


def test_the_texts_checked_include_the_assistants_footprint_answers() -> None:
    # Not vacuous: the knowledge base's footprint and green-product answers, in both languages.
    expected = {"knowledge base KB-27 ru", "knowledge base KB-28 ru", "knowledge base KB-28 en"}
    assert expected <= set(CUSTOMER_TEXT)
    assert sum(1 for name in CUSTOMER_TEXT if name.startswith("assistant template")) >= 40


@pytest.mark.parametrize(("name", "text"), CUSTOMER_TEXT.items())
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
        ("These are your emissions for May.", "measured emissions"),
        ("Your carbon footprint is 20.1 (8.9 – 46.2) kg.", "measured emissions"),
        ("Ваши выбросы за май: 20 кг (9 – 46).", "measured emissions"),
        ("Offset your footprint with one tap.", "offsets"),
        ("Offset it today, no fee.", "offsets"),
        ("Компенсируйте след: компенсация за 99 ₽.", "offsets"),
        ("Your card is now carbon-neutral.", "neutrality"),
        ("Карта стала углеродно-нейтральной.", "neutrality"),
        ("You spend 20% more than the average customer.", "comparison without a cited average"),
        ("Это больше, чем у среднего клиента.", "comparison without a cited average"),
        ("The exact footprint is 20.1 (8.9 – 46.2) kg.", "false precision"),
        ("Точный расчёт: 20 (9 – 46) кг.", "false precision"),
        ("November: an estimated 20.122 kg CO2e.", "a figure without its range"),
        ("Оценка за ноябрь: 20,1 кг CO2e.", "a figure without its range"),
        ("| 2026-07 | 12.345 kg | 2026-07-01 |", "a figure without its range"),
    ],
)
def test_the_checker_catches_greenwashing_phrases(bad: str, rule: str) -> None:
    assert any(rule in p for p in wording_problems(bad)), wording_problems(bad)


@pytest.mark.parametrize(
    "good",
    [
        "That is less than the average of the survey {need}`SRC-0568`.",
        "November: an estimated 20.122 kg CO2e (8.866 – 46.218 kg).",
        "Оценка за ноябрь: 20,1 кг CO2e, от 8,9 до 46,2 кг.",
        "It is an estimate, not an exact figure.",
        "Это оценка, а не точный расчёт.",
        "No carbon-credit purchase or compensation is offered or implied.",
    ],
)
def test_the_checker_lets_honest_text_through(good: str) -> None:
    assert not wording_problems(good)
