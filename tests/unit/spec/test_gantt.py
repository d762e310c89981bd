"""The roadmap Gantt chart and phase table come from docs/delivery/roadmap.yaml."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from futurebank.spec.pages.gantt import DATA, PAGE, deadline_drift, parse_roadmap, render_phases, render_svg
from futurebank.spec.rules import SpecFileError
from futurebank.spec.yaml_lines import load_with_lines

ROOT = Path(__file__).resolve().parents[3]


def data() -> Any:
    return load_with_lines(ROOT / DATA)


def test_the_critical_path_runs_through_the_rollout_stages_to_100_percent() -> None:
    roadmap = parse_roadmap(data(), DATA)
    critical = {bar.id for bar in roadmap.bars if bar.critical}
    assert {"PH-0001", "PH-0002", "PH-0003", "PH-0004", "RS-0001", "RS-0006"} <= critical
    assert "PH-0005" not in critical and "PH-0006" not in critical


def test_svg_is_self_contained_and_dated() -> None:
    svg = render_svg(parse_roadmap(data(), DATA))
    assert svg.startswith("<svg") and "http://www.w3.org/2000/svg" in svg
    assert "href" not in svg  # nothing fetched from anywhere
    assert ">2027-02</text>" in svg and "→ M108" in svg


def test_phase_dates_follow_m0() -> None:
    moved = data()
    moved["m0"] = dt.date(2028, 1, 1)
    table = render_phases(parse_roadmap(moved, DATA))
    assert "| M15–M20 |" in table and "2029-04-01 to 2029-09-01" in table


def test_the_page_deadlines_agree_with_the_data() -> None:
    roadmap = parse_roadmap(data(), DATA)
    assert deadline_drift(roadmap, (ROOT / PAGE).read_text(encoding="utf-8")) == []
    page = ":id: PH-0003\n:traces: MSG-0008\n:deadline: M0 + 14 months\n"
    assert deadline_drift(roadmap, page) == [
        f"PH-0003 has deadline M0 + 14 months on the page but ends at M15 in {DATA}"
    ]


def test_stages_that_overrun_the_rollout_phase_are_refused() -> None:
    broken = copy.deepcopy(data())
    broken["stages"][0]["weeks"] = 30
    with pytest.raises(SpecFileError, match="do not fit in PH-0004") as refused:
        parse_roadmap(broken, DATA)
    assert refused.value.rule == "R-57-roadmap-data-valid"


def test_a_phase_ending_before_its_gate_is_refused() -> None:
    broken = data()
    broken["phases"][2]["months"] = 1
    with pytest.raises(SpecFileError, match="PH-0003 ends before PH-0002"):
        parse_roadmap(broken, DATA)


def test_a_drifted_deadline_is_reported_with_its_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from futurebank.spec.pages import gantt

    (tmp_path / "docs" / "delivery").mkdir(parents=True)
    (tmp_path / DATA).write_text((ROOT / DATA).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / PAGE).write_text(":id: PH-0003\n:deadline: M0 + 14 months\n", encoding="utf-8")
    reported: list[Any] = []
    monkeypatch.setattr(gantt, "report", lambda findings, root=None: reported.extend(findings))
    app = SimpleNamespace(
        srcdir=str(tmp_path / "docs"), env=SimpleNamespace(note_dependency=lambda path: None)
    )
    assert gantt._load(app) is not None  # type: ignore[arg-type]
    assert [f.rule for f in reported] == ["R-58-roadmap-deadline-agrees"]
    assert "PH-0003" in reported[0].detail
