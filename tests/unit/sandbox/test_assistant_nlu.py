"""The scikit-learn understanding: deterministic training, the fast scorer equal to the pipeline, and a
slice of the held-out evaluation at or above the release targets (NFR-0028; latency is measured by
``make eval-assistant``, not in a timed test)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from futurebank.assistant_eval import TARGETS, failures, run
from futurebank.sandbox.adapters.assistant_nlu import (
    ASSISTANT_DATA,
    default_understander,
    explicit_period_of,
    load_utterances,
    period_of,
    train,
)
from futurebank.sandbox.domain.assistant import Period


def test_training_is_deterministic_and_the_fast_scorer_equals_the_pipeline() -> None:
    rows = load_utterances(ASSISTANT_DATA / "training.yaml")
    first, second = default_understander(), train(rows)
    probes = [t for _, t, _ in load_utterances(ASSISTANT_DATA / "evaluation.yaml")[::16]]
    for text in probes:
        fast = first.scorer.probabilities(text)
        assert np.allclose(fast, first.pipeline.predict_proba([text])[0], atol=1e-12), text
        assert np.array_equal(fast, second.scorer.probabilities(text)), text


def test_an_evaluation_slice_meets_the_targets() -> None:
    rows = load_utterances(ASSISTANT_DATA / "evaluation.yaml")[::2]
    result = run(rows)
    quality = [f for f in failures(result) if "latency" not in f]
    assert not quality, quality
    for language in ("ru", "en"):
        assert result["languages"][language]["macro_f1"] >= TARGETS["macro_f1_min"]
        assert result["languages"][language]["wrong_facts"] == 0


# --- explicit dates through dateparser, against a fixed "today" (the seed's 24 November 2026) -------------

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        # an open start: up to and including today
        ("Сколько я потратила на такси с 5 мая?", Period(date(2026, 5, 5), date(2026, 11, 25))),
        ("spending on taxi since 5 May", Period(date(2026, 5, 5), date(2026, 11, 25))),
        ("since 5 December", Period(date(2025, 12, 5), date(2026, 11, 25))),  # no future start
        ("траты начиная с марта", Period(date(2026, 3, 1), date(2026, 11, 25))),
        ("операции после 10.11.2026", Period(date(2026, 11, 10), date(2026, 11, 25))),
        # ranges, the end day included
        ("покупки с 1 по 10 ноября", Period(date(2026, 11, 1), date(2026, 11, 11))),
        ("с 1 марта по 15 апреля", Period(date(2026, 3, 1), date(2026, 4, 16))),
        ("transactions from 1 to 10 November", Period(date(2026, 11, 1), date(2026, 11, 11))),
        ("from 3 March to 5 April", Period(date(2026, 3, 3), date(2026, 4, 6))),
        ("between 1 and 15 March", Period(date(2026, 3, 1), date(2026, 3, 16))),
        ("from December to February", Period(date(2025, 12, 1), date(2026, 3, 1))),
        # a day counted back
        ("что я купил 3 дня назад", Period(date(2026, 11, 21), date(2026, 11, 22))),
        ("what did I buy 2 weeks ago", Period(date(2026, 11, 10), date(2026, 11, 11))),
        # calendar words stay with the rules
        ("в прошлом месяце", Period(date(2026, 10, 1), date(2026, 11, 1))),
        ("last month", Period(date(2026, 10, 1), date(2026, 11, 1))),
        ("за март", Period(date(2026, 3, 1), date(2026, 4, 1))),
    ],
)
def test_periods_with_explicit_dates(text: str, period: Period) -> None:
    assert period_of(text, TODAY) == period


@pytest.mark.parametrize(
    "text",
    [
        "перевод с карты",
        "после обеда",
        "с текущего счёта",
        "since yesterday's call with 5000 rubles",
        "сколько у меня",
    ],
)
def test_words_after_since_that_are_no_date_give_no_explicit_period(text: str) -> None:
    assert explicit_period_of(text, TODAY) is None


def test_the_same_words_give_the_same_period_on_another_day() -> None:
    # Relative to the "today" given, never to the machine's clock.
    assert period_of("с 5 мая", date(2027, 2, 1)) == Period(date(2026, 5, 5), date(2027, 2, 2))
    assert period_of("since 5 May", date(2027, 6, 1)) == Period(date(2027, 5, 5), date(2027, 6, 2))
