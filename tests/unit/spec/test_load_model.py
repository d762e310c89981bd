"""The load model computes the NFR targets, cohorts and A/B feasibility from one data file."""

from __future__ import annotations

from pathlib import Path

import pytest

from futurebank.spec.pages.load_model import (
    DATA,
    nice_ceil,
    parse_load_model,
    render_ab,
    render_nfr,
    sample_size_per_group,
)
from futurebank.spec.rules import SpecFileError
from futurebank.spec.yaml_lines import load_with_lines

ROOT = Path(__file__).resolve().parents[3]


def model_data() -> dict:  # type: ignore[type-arg]
    return load_with_lines(ROOT / DATA)  # type: ignore[no-any-return]


def test_sample_size_matches_the_protocols_worked_example() -> None:
    assert sample_size_per_group(0.10, 0.01, 0.05, 0.8) == 14751
    assert sample_size_per_group(0.05, 0.01, 0.05, 0.8) == 8158
    assert sample_size_per_group(0.10, 0.005, 0.05, 0.8) == 57763


def test_targets_are_one_headroom_factor_over_the_top_of_the_range() -> None:
    model = parse_load_model(model_data(), DATA)
    for cls in model.classes:
        peak = model.peak(cls, model.base_high)
        assert peak * model.headroom <= model.target(cls) < peak * model.headroom * 1.1


def test_nfr_target_follows_the_customer_base() -> None:
    data = model_data()
    data["customer_base"]["high"] = 1000000
    data["customer_base"]["low"] = 1000000
    text = render_nfr(parse_load_model(data, DATA))
    # 1,000,000 × 0.4 × 30 × 0.1 / 3600 × 3 = 1,000 reads/s at peak; × 2 headroom
    assert ":target: reads 2,000/s;" in text


def test_a_stage_too_small_for_the_sample_is_refused() -> None:
    data = model_data()
    data["customer_base"]["low"] = 100000
    text = render_ab(parse_load_model(data, DATA))
    assert "RS-0002` | 700 to" in text
    assert "no: must not be run here" in text or "only at the top" in text


def test_rounding_up_keeps_two_significant_figures() -> None:
    assert nice_ceil(266.7) == 270
    assert nice_ceil(16000.0) == 16000
    assert nice_ceil(10.6) == 11
    assert nice_ceil(0.4) == 1


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda d: d["customer_base"].__setitem__("low", 9e9), "low is above"),
        (lambda d: d["inputs"]["peak_to_mean"].__setitem__("value", "three"), "non-negative number"),
        (lambda d: d["operation_classes"][0].__setitem__("per_active_day", "nope × x"), "unknown input"),
        (lambda d: d.pop("headroom"), "missing top-level key"),
    ],
)
def test_a_broken_data_file_names_the_problem(edit, needle) -> None:  # type: ignore[no-untyped-def]
    data = model_data()
    edit(data)
    with pytest.raises(SpecFileError, match=needle) as refused:
        parse_load_model(data, DATA)
    assert refused.value.rule == "R-60-load-model-valid"
