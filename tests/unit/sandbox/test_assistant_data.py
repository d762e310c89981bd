"""The assistant's data in docs/assistant: training and evaluation held apart, enough of each, a knowledge
base and templates that agree across locales and state no figures of their own."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from futurebank.sandbox.adapters.assistant_nlu import ASSISTANT_DATA, load_utterances
from futurebank.sandbox.domain.assistant import Intent, normalise


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ASSISTANT_DATA / name).read_text(encoding="utf-8"))


def test_training_and_evaluation_do_not_overlap() -> None:
    training = {normalise(t) for _, t, _ in load_utterances(ASSISTANT_DATA / "training.yaml")}
    evaluation = [normalise(t) for _, t, _ in load_utterances(ASSISTANT_DATA / "evaluation.yaml")]
    shared = sorted(set(evaluation) & training)
    assert not shared, f"utterances in both training and evaluation: {shared}"


@pytest.mark.parametrize("name", ["training.yaml", "evaluation.yaml"])
def test_utterances_are_strings_without_duplicates(name: str) -> None:
    rows = load_utterances(ASSISTANT_DATA / name)
    assert all(isinstance(t, str) and t.strip() for _, t, _ in rows)
    dupes = [t for t, n in Counter(normalise(t) for _, t, _ in rows).items() if n > 1]
    assert not dupes, f"{name}: duplicated utterances {dupes}"


def test_evaluation_covers_every_intent_with_300_per_language() -> None:
    rows = load_utterances(ASSISTANT_DATA / "evaluation.yaml")
    for language in ("ru", "en"):
        mine = [r for r in rows if r[0] == language]
        assert len(mine) >= 300, f"{language}: {len(mine)} evaluation utterances"
        assert {intent for _, _, intent in mine} == set(Intent)


def test_knowledge_base_has_30_bilingual_entries_without_figures() -> None:
    entries = _load("knowledge_base.yaml")["entries"]
    assert len(entries) >= 30
    assert len({e["id"] for e in entries}) == len(entries)
    for entry in entries:
        assert set(entry["questions"]) == {"ru", "en"} == set(entry["answer"]), entry["id"]
        for answer in entry["answer"].values():
            # Fees, rates and limits are not in the spec: an answer states none (it offers a person).
            assert not re.search(r"\d", answer), f"{entry['id']} states a figure: {answer}"
        if entry.get("escalate"):
            assert "оператор" in entry["answer"]["ru"] and "operator" in entry["answer"]["en"], entry["id"]


def test_templates_agree_across_locales_and_contain_no_digits() -> None:
    templates = _load("templates.yaml")
    ru, en = templates["ru-RU"], templates["en-US"]
    assert set(ru) == set(en)
    for group in ("categories", "accounts"):
        assert set(ru[group]) == set(en[group])
    for locale in (ru, en):
        for key, text in locale.items():
            if isinstance(text, str):
                assert not re.search(r"\d", text), f"template {key} states a figure itself"
