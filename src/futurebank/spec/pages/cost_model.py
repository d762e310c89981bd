"""Generators ``cost-model`` and ``cost-summary``: the MVP's cost from ``docs/delivery/cost-model.yaml``.

Each line is quantity × unit cost, both ranges, with a cited source or the label "our assumption"; the
build multiplies, sums and compares the total with the chat's budgets, so no total is typed anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from futurebank.spec.pages import Generator, load_data, md_escape, md_table
from futurebank.spec.rules import SpecFileError

DATA = Path("docs") / "delivery" / "cost-model.yaml"
GROUPS = ("people", "hardware", "licences", "security", "run")


@dataclass(frozen=True)
class CostLine:
    item: str
    group: str
    quantity: tuple[float, float]
    unit: str
    unit_cost: tuple[float, float]
    source: str
    basis: str

    @property
    def low(self) -> float:
        return self.quantity[0] * self.unit_cost[0]

    @property
    def high(self) -> float:
        return self.quantity[1] * self.unit_cost[1]


@dataclass(frozen=True)
class CostModel:
    months: int
    lines: list[CostLine]
    budgets: list[tuple[str, float]]

    @property
    def low(self) -> float:
        return sum(line.low for line in self.lines)

    @property
    def high(self) -> float:
        return sum(line.high for line in self.lines)


def _range(raw: Any, path: Path, line: int, field: str) -> tuple[float, float]:
    ok = isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, int | float) for v in raw)
    if not ok or raw[0] < 0 or raw[0] > raw[1]:
        raise SpecFileError(
            path, line, "R-59-cost-model-valid", f"{field} must be [low, high] with 0 ≤ low ≤ high"
        )
    return float(raw[0]), float(raw[1])


def parse_cost_model(data: Any, path: Path) -> CostModel:
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise SpecFileError(path, 1, "R-59-cost-model-valid", "the file needs months, chat_budgets and lines")
    lines: list[CostLine] = []
    for raw in data["lines"]:
        at = getattr(raw, "line", 1)
        if raw.get("group") not in GROUPS:
            raise SpecFileError(
                path, at, "R-59-cost-model-valid", f"group must be one of {', '.join(GROUPS)}"
            )
        source = str(raw.get("source", ""))
        if source != "assumption" and not source.startswith("SRC-"):
            raise SpecFileError(
                path, at, "R-59-cost-model-valid", "source must be a SRC- item or 'assumption'"
            )
        lines.append(
            CostLine(
                item=str(raw["item"]),
                group=raw["group"],
                quantity=_range(raw.get("quantity"), path, at, "quantity"),
                unit=str(raw.get("unit", "")),
                unit_cost=_range(raw.get("unit_cost"), path, at, "unit_cost"),
                source=source,
                basis=str(raw.get("basis", "")),
            )
        )
    missing = [g for g in GROUPS if g not in {line.group for line in lines}]
    if missing:
        raise SpecFileError(path, 1, "R-59-cost-model-valid", f"no cost line for {', '.join(missing)}")
    budgets = [(str(b["what"]), float(b["rub_m"])) for b in data.get("chat_budgets", [])]
    if not budgets:
        raise SpecFileError(
            path, 1, "R-59-cost-model-valid", "chat_budgets must name the budget the MVP is compared with"
        )
    return CostModel(int(data.get("months", 0)), lines, budgets)


def money(rub_m: float) -> str:
    """Million RUB as the spec writes them: bn above a thousand million."""
    return f"{rub_m / 1000:.2f} bn" if rub_m >= 1000 else f"{rub_m:,.0f} m"


def num(value: float) -> str:
    return f"{value:g}"


def span(low: float, high: float) -> str:
    return num(low) if low == high else f"{num(low)} to {num(high)}"


def render_cost(model: CostModel) -> str:
    rows = [
        (
            md_escape(line.item),
            f"{span(*line.quantity)} {md_escape(line.unit)}",
            f"{span(*line.unit_cost)} m",
            f"{money(line.low)} to {money(line.high)}",
            ("*our assumption*" if line.source == "assumption" else f"{{need}}`{line.source}`")
            + f": {md_escape(line.basis)}",
        )
        for line in model.lines
    ]
    rows.append(("**Total**", "", "", f"**{money(model.low)} to {money(model.high)}**", ""))
    budget_rows = [
        (md_escape(what), money(rub_m), f"{model.low / rub_m:.1%} to {model.high / rub_m:.1%}")
        for what, rub_m in model.budgets
    ]
    return (
        f"MVP cost from M0 to the end of the 100 % stage ({model.months} months), in RUB; computed by the "
        f"build from `{DATA}`:\n\n"
        + md_table(["Line", "Quantity", "Unit cost", "Cost", "Source"], rows)
        + "\n**Against the chat's budgets:**\n\n"
        + md_table(["Chat budget", "Amount", "MVP share"], budget_rows)
    )


def render_summary(model: CostModel) -> str:
    what, rub_m = model.budgets[0]
    return (
        f"**{money(model.low)} to {money(model.high)} RUB** over {model.months} months, "
        f"{model.low / rub_m:.0%} to {model.high / rub_m:.0%} of the chat's {md_escape(what)}, "
        f"{money(rub_m)} RUB\n\n"  # a paragraph of its own: the block's closing fence eats the blank line
    )


def _load(app: Sphinx) -> CostModel | None:
    return load_data(app, DATA, parse_cost_model)


def cost_model(app: Sphinx) -> str:
    model = _load(app)
    return "" if model is None else render_cost(model)


def cost_summary(app: Sphinx) -> str:
    model = _load(app)
    return "" if model is None else render_summary(model)


GENERATORS: dict[str, Generator] = {
    "cost-model": cost_model,
    "cost-summary": cost_summary,
}
