"""Generators ``roadmap-gantt`` and ``roadmap-phases``: the schedule in ``docs/delivery/roadmap.yaml``.

The chart is an inline SVG written here (no JavaScript, no external host), so the site stays offline.
The critical path is the chain of phases whose exit gates the next phase's exit (``after``) up to the
100 % rollout stage, plus the rollout stages themselves, which run one after the other. The build warns
when a phase need's ``:deadline:`` on the roadmap page disagrees with the data file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from futurebank.spec.pages import Generator, load_data, md_table, repo_root
from futurebank.spec.report import report
from futurebank.spec.rules import Finding, SpecFileError

DATA = Path("docs") / "delivery" / "roadmap.yaml"
PAGE = Path("docs") / "delivery" / "roadmap.md"
WEEKS_PER_MONTH = 52 / 12
HORIZON_MONTHS = 40  # the chart shows the MVP years; longer bars are clipped with their end month
MVP_PHASE = "PH-0004"


@dataclass(frozen=True)
class Bar:
    id: str
    title: str
    start: float  # months after M0
    end: float
    kind: str  # "phase" or "stage"
    critical: bool = False
    output: str = ""


@dataclass(frozen=True)
class Roadmap:
    m0: dt.date
    bars: list[Bar]

    def date(self, months: float) -> dt.date:
        whole = int(months)
        year, month = divmod(self.m0.month - 1 + whole, 12)
        first = dt.date(self.m0.year + year, month + 1, 1)
        return first + dt.timedelta(days=round((months - whole) * 30.44))


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + year, month=month + 1)


def parse_roadmap(data: Any, path: Path) -> Roadmap:
    if not isinstance(data, dict) or "m0" not in data or "phases" not in data:
        raise SpecFileError(path, 1, "R-57-roadmap-data-valid", "the file needs m0, phases and stages")
    m0 = data["m0"]
    if not isinstance(m0, dt.date):
        raise SpecFileError(path, 1, "R-57-roadmap-data-valid", f"m0 must be a date (YYYY-MM-DD), not {m0!r}")
    phases = {p["id"]: p for p in data["phases"]}
    for phase in data["phases"]:
        for before in phase.get("after", []):
            if before not in phases:
                raise SpecFileError(
                    path, phase.line, "R-57-roadmap-data-valid", f"{phase['id']} is after unknown {before}"
                )
            if phase["start"] + phase["months"] < phases[before]["start"] + phases[before]["months"]:
                raise SpecFileError(
                    path,
                    phase.line,
                    "R-57-roadmap-data-valid",
                    f"{phase['id']} ends before {before}, which gates its exit",
                )
    # the critical path: walk the exit gates back from the phase that reaches 100 %
    critical: set[str] = set()
    todo = [MVP_PHASE] if MVP_PHASE in phases else []
    while todo:
        current = todo.pop()
        critical.add(current)
        todo += phases[current].get("after", [])
    bars: list[Bar] = []
    rollout = phases.get(MVP_PHASE)
    cursor = float(rollout["start"]) if rollout else 0.0
    stage_bars: list[Bar] = []
    for stage in data.get("stages", []):
        end = cursor + float(stage["weeks"]) / WEEKS_PER_MONTH
        stage_bars.append(Bar(stage["id"], stage["title"], cursor, end, "stage", critical=True))
        cursor = end
    if rollout and cursor > rollout["start"] + rollout["months"]:
        raise SpecFileError(
            path, rollout.line, "R-57-roadmap-data-valid", f"the rollout stages do not fit in {MVP_PHASE}"
        )
    for phase in data["phases"]:
        start = float(phase["start"])
        bars.append(
            Bar(
                phase["id"],
                phase["title"],
                start,
                start + phase["months"],
                "phase",
                phase["id"] in critical,
                str(phase.get("output", "")),
            )
        )
        if phase["id"] == MVP_PHASE:
            bars += stage_bars
    return Roadmap(m0, bars)


def render_svg(roadmap: Roadmap) -> str:
    label_w, chart_w, row_h, top = 330, 640, 24, 34
    scale = chart_w / HORIZON_MONTHS
    height = top + row_h * len(roadmap.bars) + 30
    width = label_w + chart_w + 60
    out = [
        f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="gantt-title" font-family="sans-serif" font-size="12">',
        '<title id="gantt-title">Roadmap: phases and rollout stages from M0, critical path in red</title>',
    ]
    for month in range(0, HORIZON_MONTHS + 1, 6):
        x = label_w + month * scale
        day = add_months(roadmap.m0, month)
        out.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 26}" stroke="#ccc"/>')
        out.append(f'<text x="{x:.1f}" y="14" text-anchor="middle">M{month}</text>')
        out.append(f'<text x="{x:.1f}" y="27" text-anchor="middle" fill="#555">{day:%Y-%m}</text>')
    for row, bar in enumerate(roadmap.bars):
        y = top + row * row_h
        indent = 16 if bar.kind == "stage" else 0
        weight = "bold" if bar.kind == "phase" else "normal"
        out.append(
            f'<text x="{4 + indent}" y="{y + 16}" font-weight="{weight}">'
            f"{escape(bar.id)} {escape(bar.title)}</text>"
        )
        x0 = label_w + bar.start * scale
        x1 = label_w + min(bar.end, HORIZON_MONTHS) * scale
        colour = "#c0392b" if bar.critical else "#7f8c8d"
        fill = colour if bar.kind == "phase" else "#f5b7b1" if bar.critical else "#d5dbdb"
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 2):.1f}" height="{row_h - 8}" '
            f'fill="{fill}" stroke="{colour}"><title>{escape(bar.id)}: M{bar.start:g} to '
            f"M{bar.end:.1f} ({roadmap.date(bar.start):%Y-%m-%d} to {roadmap.date(bar.end):%Y-%m-%d})"
            "</title></rect>"
        )
        if bar.end > HORIZON_MONTHS:
            out.append(f'<text x="{x1 + 4:.1f}" y="{y + 16}">→ M{bar.end:g}</text>')
    legend_y = height - 8
    out.append(f'<rect x="4" y="{legend_y - 10}" width="14" height="10" fill="#c0392b"/>')
    out.append(f'<text x="22" y="{legend_y}">critical path to the 100 % stage</text>')
    out.append(f'<rect x="240" y="{legend_y - 10}" width="14" height="10" fill="#7f8c8d"/>')
    out.append(f'<text x="258" y="{legend_y}">after the MVP</text>')
    out.append("</svg>")
    return "\n".join(out)


def render_phases(roadmap: Roadmap) -> str:
    rows = []
    for bar in roadmap.bars:
        if bar.kind != "phase":
            continue
        rows.append(
            (
                f"{{need}}`{bar.id}`",
                f"M{bar.start:g}–M{bar.end:g}",
                bar.output,
                f"{roadmap.date(bar.start):%Y-%m-%d} to {roadmap.date(bar.end):%Y-%m-%d}",
                "yes" if bar.critical else "no",
            )
        )
    return md_table(
        ["Phase", "Months", "Main output", f"Dates at M0 = {roadmap.m0:%Y-%m-%d}", "On the critical path"],
        rows,
    )


def deadline_drift(roadmap: Roadmap, page_text: str) -> list[str]:
    """Phase needs whose ``:deadline: M0 + N months`` disagrees with the data file."""
    found = dict(re.findall(r":id: (PH-\d{4})\n(?:.*\n)*?:deadline: M0 \+ (\d+) months", page_text))
    return [
        f"{bar.id} has deadline M0 + {found[bar.id]} months on the page but ends at M{bar.end:g} in {DATA}"
        for bar in roadmap.bars
        if bar.kind == "phase" and bar.id in found and float(found[bar.id]) != bar.end
    ]


def _load(app: Sphinx) -> Roadmap | None:
    roadmap = load_data(app, DATA, parse_roadmap)
    if roadmap is None:
        return None
    root = repo_root(app)
    drift = deadline_drift(roadmap, (root / PAGE).read_text(encoding="utf-8"))
    report(
        [Finding("R-58-roadmap-deadline-agrees", "roadmap", problem, root / PAGE, 1) for problem in drift],
        root,
    )
    return roadmap


def roadmap_gantt(app: Sphinx) -> str:
    roadmap = _load(app)
    if roadmap is None:
        return ""
    return '```{raw} html\n<div class="gantt-wrap">\n' + render_svg(roadmap) + "\n</div>\n```\n"


def roadmap_phases(app: Sphinx) -> str:
    roadmap = _load(app)
    return "" if roadmap is None else render_phases(roadmap)


def render_mvp_duration(roadmap: Roadmap) -> str:
    last = [bar for bar in roadmap.bars if bar.kind == "stage"][-1]
    return (
        f"M0 + {last.end:.0f} months to the end of the 100 % stage ({roadmap.date(last.end):%Y-%m-%d} at the "
        f"planning M0 of {roadmap.m0:%Y-%m-%d})\n\n"
    )


def roadmap_mvp_duration(app: Sphinx) -> str:
    roadmap = _load(app)
    return "" if roadmap is None else render_mvp_duration(roadmap)


GENERATORS: dict[str, Generator] = {
    "roadmap-gantt": roadmap_gantt,
    "roadmap-phases": roadmap_phases,
    "roadmap-mvp-duration": roadmap_mvp_duration,
}
