"""Generators for the footprint methodology page (``docs/sustainability/index.md``).

Everything shown is computed at build time from ``docs/sustainability/data`` with the same code the
sandbox uses (``futurebank.footprint``): the data files with their SHA-256, the MCC mapping with its
factors, a worked example from the seed contract's demo customer, and a chart (hand-built SVG, no
script, no external request) of a generated demo customer's monthly footprint by category.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import yaml
from sphinx.application import Sphinx

from futurebank.footprint.data import FACTOR_TABLE, load_method_data, read_factor_table, sha256
from futurebank.footprint.method import (
    CONFIDENCE_LEVEL,
    RANGE_FACTOR,
    CardSpend,
    Footprint,
    MethodData,
    footprint,
    monthly,
)
from futurebank.spec.pages import Generator, md_escape, md_table, repo_root

DATA = Path("docs") / "sustainability" / "data"
SEED = Path("docs") / "stories" / "seed.yaml"
DEMO_HISTORY = "demo-card-history.csv"
CHART_CUSTOMER = "vera"
WORKED_CUSTOMER = "anna"
# Colour per category (colour-blind-safe palette, Okabe-Ito order).
COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"]


def _data_dir(app: Sphinx) -> Path:
    folder = repo_root(app) / DATA
    for f in folder.iterdir():
        app.env.note_dependency(str(f))
    return folder


def _kg(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.001")))


def _range(fp: Footprint) -> str:
    t = fp.total.rounded()
    return f"{t.co2e_kg} ({t.low_kg} – {t.high_kg})"


def render_sources(folder: Path) -> str:
    prov = yaml.safe_load((folder / "provenance.yaml").read_text(encoding="utf-8"))["factor_table"]
    copy = prov["copy_used"]
    rows = [
        (
            f"`{FACTOR_TABLE}`",
            md_escape(prov["version"]) + " ({need}`SRC-0568`)",
            f"`{sha256(folder / FACTOR_TABLE)}`",
        )
    ]
    for name, what in (
        ("mcc-sectors.yaml", "MCC → category → NAICS sector, with a data-quality score and a reason per row"),
        (
            "rub-usd-cbr.yaml",
            "Bank of Russia official RUB/USD rates ({need}`SRC-0571`), each with its report",
        ),
        ("us-cpi-u.yaml", "US CPI-U annual averages ({need}`SRC-0570`)"),
        ("green-products.yaml", "Products and their Decree 1587 labels ({need}`SRC-0050`)"),
        (DEMO_HISTORY, "The generated demo customers' booked card purchases (from the sandbox's seed)"),
    ):
        rows.append((f"`{name}`", what, f"`{sha256(folder / name)}`"))
    checks = "\n".join(f"- {md_escape(' '.join(str(c).split()))}" for c in prov["verified"])
    spots = [(s["naics"], md_escape(s["title"]), *s["values"]) for s in prov["spot_values"]]
    return (
        md_table(["File", "What", "SHA-256"], rows)
        + f"\nThe factor table is the copy in `{copy['repository']}` at commit `{copy['commit']}`, path "
        f"`{copy['path']}`, committed unchanged; original: <{prov['original']['url']}>. "
        "Checked on every test run:\n\n"
        + checks
        + "\n\nRows to compare first with EPA's own download (kg CO2e per 2022 USD, as in the copy):\n\n"
        + md_table(["NAICS", "Title", "Without margins", "Margins", "With margins"], spots)
        + "\n**Bytes.** "
        + md_escape(" ".join(prov["serialisation"].split()))
        + "\n\n**Not checked:** "
        + md_escape(prov["not_verified"])
        + "\n"
    )


def render_mapping(folder: Path, data: MethodData) -> str:
    titles = {code: title for code, (title, _) in read_factor_table(folder / FACTOR_TABLE).items()}
    mapping = yaml.safe_load((folder / "mcc-sectors.yaml").read_text(encoding="utf-8"))
    rows = []
    for m in mapping["mccs"]:
        naics = m.get("naics")
        factor = data.factors[str(naics)] if naics else data.generic_factor
        sector = f"{naics} {md_escape(titles[str(naics)])}" if naics else "generic (median of the table)"
        k = RANGE_FACTOR[int(m["data_quality"])]
        rows.append(
            (
                str(m["mcc"]),
                md_escape(m["title"]),
                m["category"],
                sector,
                str(factor),
                f"{m['data_quality']} (×/÷ {k})",
                md_escape(m["why"]),
            )
        )
    rows.append(
        (
            "any other",
            "an MCC not listed",
            data.default_category,
            "generic (median of the table)",
            str(data.generic_factor),
            f"{data.generic_data_quality} (×/÷ {RANGE_FACTOR[data.generic_data_quality]})",
            md_escape(mapping["generic"]["why"]),
        )
    )
    header = ["MCC", "Merchant category", "Category", "NAICS sector", "kg CO2e / 2022 USD", "Score", "Why"]
    return md_table(header, rows)


def seed_card_spend(seed: dict[str, Any], customer: str) -> tuple[list[CardSpend], list[str]]:
    """A seed customer's booked card purchases, and the transactions left out with the reason."""
    accounts = {a["alias"] for a in seed["accounts"] if a["customer"] == customer}
    spend, skipped = [], []
    for t in seed["transactions"]:
        if t["account"] not in accounts:
            continue
        booked = str(t["occurred_at"])[:10]
        if not t.get("card") or t["credit_debit_indicator"] != "DBIT":
            skipped.append(f"{t['alias']} ({t['amount']} {t['currency']}): not a card purchase")
        elif t["status"] != "BOOK":
            skipped.append(f"{t['alias']} ({t['amount']} {t['currency']}): pending, not booked")
        else:
            spend.append(
                CardSpend(
                    t["alias"], date.fromisoformat(booked), str(t["merchant"]["mcc"]), Decimal(t["amount"])
                )
            )
    return spend, skipped


def render_worked_example(seed: dict[str, Any], data: MethodData) -> str:
    spend, skipped = seed_card_spend(seed, WORKED_CUSTOMER)
    fp = footprint(spend, data)
    rows = []
    for t in fp.transactions:
        est = t.estimate.rounded()
        rows.append(
            (
                t.spend.transaction_id,
                t.spend.booked_on.isoformat(),
                t.spend.mcc or "",
                f"{t.spend.amount} RUB",
                f"{t.rate} (in force from {t.rate_date})",
                str(t.usd.quantize(Decimal("0.0001"))),
                f"{data.cpi[data.cpi_base_year]} / {data.cpi[t.cpi_year]} ({t.cpi_year})",
                str(t.usd_2022.quantize(Decimal("0.0001"))),
                f"{t.naics or 'generic'}: {t.factor}",
                str(est.co2e_kg),
                f"{t.data_quality}: ÷/× {RANGE_FACTOR[t.data_quality]}",
                f"{est.low_kg} – {est.high_kg}",
            )
        )
    header = [
        "Transaction",
        "Booked",
        "MCC",
        "Amount",
        "RUB per USD",
        "USD",
        "CPI 2022 / CPI year",
        "2022 USD",
        "NAICS: factor",
        "kg CO2e",
        "Score: k",
        "Range, kg",
    ]
    cats = [
        (
            c.category,
            ", ".join(c.mcc_codes),
            f"{c.spend} RUB",
            str(c.transaction_count),
            _range_of(c.estimate),
        )
        for c in fp.categories
    ]
    left_out = "\n".join(f"- {md_escape(s)}" for s in skipped)
    return (
        f"The seed contract's customer `{WORKED_CUSTOMER}` (docs/stories/seed.yaml), all her card spending. "
        "Left out by the rules of US-0021:\n\n"
        + left_out
        + "\n\nEach counted purchase, step by step (amounts rounded here for reading; the calculation keeps "
        "full precision and rounds the kilograms to three decimals at the end):\n\n"
        + md_table(header, rows)
        + "\nBy category, as the API answers it:\n\n"
        + md_table(["Category", "MCCs", "Spend", "Purchases", "Estimate, kg CO2e (range)"], cats)
        + f"\n**Total estimate: {_range(fp)} kg CO2e**, a {CONFIDENCE_LEVEL} range; factor set "
        f"`{fp.factor_set}`.\n"
    )


def _range_of(estimate: Any) -> str:
    r = estimate.rounded()
    return f"{r.co2e_kg} ({r.low_kg} – {r.high_kg})"


def load_demo_history(folder: Path, customer: str) -> list[CardSpend]:
    with (folder / DEMO_HISTORY).open(encoding="utf-8", newline="") as handle:
        return [
            CardSpend(
                f"{customer}-{n}",
                date.fromisoformat(r["booked_on"]),
                r["mcc"],
                Decimal(r["amount"]),
                r["currency"],
            )
            for n, r in enumerate(csv.DictReader(handle))
            if r["customer"] == customer
        ]


def render_chart(months: dict[str, Footprint]) -> str:
    """Stacked bars per month by category, with the total's low-high range as a whisker."""
    categories = sorted({c.category for fp in months.values() for c in fp.categories})
    colour = {c: COLOURS[i % len(COLOURS)] for i, c in enumerate(categories)}
    top = max(fp.total.high_kg for fp in months.values())
    width, height, left, bottom, bar = 640, 320, 56, 40, 48
    plot_h = height - bottom - 16
    scale = Decimal(plot_h) / top
    step = (width - left - 150) // max(len(months), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="fp-title">',
        f'<title id="fp-title">Estimated kg CO2e per month by category, customer {CHART_CUSTOMER}, '
        "with the range of the monthly total</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 150}" y2="{height - bottom}" stroke="#333"/>',
    ]
    for tick in range(0, 5):
        value = top * tick / 4
        tick_y = height - bottom - value * scale
        parts.append(
            f'<text x="{left - 6}" y="{tick_y + 4:.1f}" font-size="11" text-anchor="end">{value:.0f}</text>'
        )
        parts.append(
            f'<line x1="{left}" y1="{tick_y:.1f}" x2="{width - 150}" y2="{tick_y:.1f}" stroke="#ddd"/>'
        )
    for i, (month, fp) in enumerate(months.items()):
        x = left + 12 + i * step
        y = Decimal(height - bottom)
        for c in fp.categories:
            h = c.estimate.co2e_kg * scale
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{h:.1f}" fill="{colour[c.category]}">'
                f"<title>{escape(month)} {escape(c.category)}: {escape(_range_of(c.estimate))} kg"
                "</title></rect>"
            )
        low = height - bottom - float(fp.total.low_kg * scale)
        high = height - bottom - float(fp.total.high_kg * scale)
        mid = x + bar / 2
        parts.append(f'<line x1="{mid}" y1="{low:.1f}" x2="{mid}" y2="{high:.1f}" stroke="#000"/>')
        parts.append(f'<line x1="{mid - 6}" y1="{high:.1f}" x2="{mid + 6}" y2="{high:.1f}" stroke="#000"/>')
        parts.append(f'<line x1="{mid - 6}" y1="{low:.1f}" x2="{mid + 6}" y2="{low:.1f}" stroke="#000"/>')
        parts.append(
            f'<text x="{mid}" y="{height - bottom + 16}" font-size="11" text-anchor="middle">{month}</text>'
        )
    for i, name in enumerate(categories):
        ly = 20 + i * 18
        parts.append(f'<rect x="{width - 140}" y="{ly - 10}" width="12" height="12" fill="{colour[name]}"/>')
        parts.append(f'<text x="{width - 122}" y="{ly}" font-size="11">{escape(name)}</text>')
    parts.append(f'<text x="12" y="{16}" font-size="11">kg CO2e (estimate)</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_monthly(months: dict[str, Footprint]) -> str:
    categories = sorted({c.category for fp in months.values() for c in fp.categories})
    rows = []
    for month, fp in months.items():
        by_cat = {c.category: _range_of(c.estimate) for c in fp.categories}
        rows.append((month, *(by_cat.get(c, "0.000 (0.000 – 0.000)") for c in categories), _range(fp)))
    header = ["Month", *(f"{c}, kg (range)" for c in categories), "Total estimate (range), kg CO2e"]
    table = md_table(header, rows)
    return (
        f"The generated demo customer `{CHART_CUSTOMER}`: her booked card purchases from "
        f"`{DEMO_HISTORY}`, estimated month by month. The whisker on each bar is the range of the month's "
        "total.\n\n```{raw} html\n" + render_chart(months) + "\n```\n\n" + table
    )


def render_green_products(products: Sequence[dict[str, Any]]) -> str:
    rows = []
    for p in products:
        label = p.get("green_label")
        rows.append(
            (
                md_escape(p["name"]),
                p["product_type"],
                md_escape(f"{label['project_type']} ({label['taxonomy_area']}): {label['criterion']}")
                if label
                else "no label: the money is not tied to eligible projects",
            )
        )
    return md_table(["Product", "Type", "Decree 1587 label"], rows)


def footprint_sources(app: Sphinx) -> str:
    return render_sources(_data_dir(app))


def footprint_mapping(app: Sphinx) -> str:
    folder = _data_dir(app)
    return render_mapping(folder, load_method_data(folder))


def footprint_worked_example(app: Sphinx) -> str:
    folder = _data_dir(app)
    seed_path = repo_root(app) / SEED
    app.env.note_dependency(str(seed_path))
    seed = yaml.safe_load(seed_path.read_text(encoding="utf-8"))
    return render_worked_example(seed, load_method_data(folder))


def footprint_demo_chart(app: Sphinx) -> str:
    folder = _data_dir(app)
    data = load_method_data(folder)
    return render_monthly(monthly(load_demo_history(folder, CHART_CUSTOMER), data))


def green_products(app: Sphinx) -> str:
    folder = _data_dir(app)
    products = yaml.safe_load((folder / "green-products.yaml").read_text(encoding="utf-8"))["products"]
    return render_green_products(products)


GENERATORS: dict[str, Generator] = {
    "footprint-sources": footprint_sources,
    "footprint-mapping": footprint_mapping,
    "footprint-worked-example": footprint_worked_example,
    "footprint-demo-chart": footprint_demo_chart,
    "green-products": green_products,
}
