"""Green labels survive a greenwashing review: a label only with a Decree 1587 criterion and verification."""

from __future__ import annotations

from typing import Any

import yaml

from futurebank.footprint.data import default_data_dir

DECREE_SECTIONS = {
    # taxonomy_area (the contract's enum) -> the section title of Decree 1587's criteria it must name
    "waste": "Отходы",
    "energy": "Энергетика",
    "construction": "Строительство",
    "industry": "Промышленность",
    "transport": "Транспорт",
    "water": "Водоснабжение",
    "agriculture": "Сельское хозяйство",
    "biodiversity": "биоразнообразие",
}


def products() -> list[dict[str, Any]]:
    loaded = yaml.safe_load((default_data_dir() / "green-products.yaml").read_text(encoding="utf-8"))
    items = loaded["products"]
    assert isinstance(items, list)
    return items


def label_problems(product: dict[str, Any]) -> list[str]:
    label = product.get("green_label")
    if label is None:
        return []
    problems = []
    if label.get("taxonomy") != "ru_decree_1587":
        problems.append("taxonomy is not Decree 1587")
    section = DECREE_SECTIONS.get(str(label.get("taxonomy_area")))
    criterion = str(label.get("criterion", ""))
    if section is None or "Decree 1587" not in criterion or section not in criterion:
        problems.append("the criterion does not name Decree 1587 and the section of its area")
    if not label.get("verification") or not label.get("verified_on"):
        problems.append("no verification")
    if product["product_type"] == "card":
        problems.append("a card finances no project")
    if "ordinary" in str(product.get("description", "")).lower():
        problems.append("an ordinary product")
    return problems


def test_every_label_names_its_criterion_and_verification() -> None:
    problems = {p["name"]: label_problems(p) for p in products()}
    assert not any(problems.values()), problems


def test_at_least_one_product_stays_unlabelled() -> None:
    unlabelled = [p for p in products() if p.get("green_label") is None]
    assert {p["product_type"] for p in unlabelled} >= {"card", "deposit"}


def test_the_checker_rejects_a_greenwashed_card() -> None:
    card = {
        "name": "Eco card",
        "product_type": "card",
        "description": "An ordinary debit card made of recycled plastic.",
        "green_label": {"taxonomy": "ru_decree_1587", "taxonomy_area": "waste", "criterion": "recycled"},
    }
    assert label_problems(card) == [
        "the criterion does not name Decree 1587 and the section of its area",
        "no verification",
        "a card finances no project",
        "an ordinary product",
    ]
