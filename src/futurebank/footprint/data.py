"""Load the footprint method's data files (``docs/sustainability/data``) into ``MethodData``.

The files are the single source: the factor table exactly as EPA published it, and our YAML files for
the MCC mapping, the official rates and the price index, each naming its sources. A malformed file
raises ``FootprintDataError`` naming the file and the problem.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from futurebank.footprint.method import RANGE_FACTOR, MethodData, SectorMapping

FACTOR_TABLE = "SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv"
FACTOR_COLUMN = "Supply Chain Emission Factors with Margins"
# Our mapping's version travels with the EPA table's version, so a figure can be reproduced.
FACTOR_SET = "us-epa-sef-v1.3.0+futurebank-mcc-2026.12"


class FootprintDataError(ValueError):
    """A data file of the method is missing or malformed."""


def default_data_dir() -> Path:
    # src/futurebank/footprint/data.py -> repository root
    return Path(__file__).resolve().parents[3] / "docs" / "sustainability" / "data"


def _yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FootprintDataError(f"{path}: {exc}") from exc
    if not isinstance(loaded, dict):
        raise FootprintDataError(f"{path}: not a mapping")
    return loaded


def _decimal(path: Path, value: object, what: str) -> Decimal:
    try:
        parsed = Decimal(str(value))
    except InvalidOperation as exc:
        raise FootprintDataError(f"{path}: {what} {value!r} is not a decimal number") from exc
    if not parsed.is_finite() or parsed < 0:
        raise FootprintDataError(f"{path}: {what} {value!r} is not a non-negative number")
    return parsed


def read_factor_table(path: Path) -> dict[str, tuple[str, Decimal]]:
    """NAICS-6 -> (title, kg CO2e per 2022 USD with margins)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise FootprintDataError(f"{path}: {exc}") from exc
    table: dict[str, tuple[str, Decimal]] = {}
    for line, row in enumerate(rows, start=2):
        code = row.get("2017 NAICS Code", "")
        if len(code) != 6 or not code.isdigit():
            raise FootprintDataError(f"{path}:{line}: NAICS code {code!r} is not 6 digits")
        table[code] = (row["2017 NAICS Title"], _decimal(path, row[FACTOR_COLUMN], f"line {line} factor"))
    return table


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generic_factor(factors: dict[str, tuple[str, Decimal]]) -> Decimal:
    """The median of all factors with margins (the mapping file says why the median)."""
    values = sorted(v for _, v in factors.values())
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


@lru_cache(maxsize=4)
def load_method_data(data_dir: Path | None = None) -> MethodData:
    folder = data_dir or default_data_dir()
    table = read_factor_table(folder / FACTOR_TABLE)
    mapping_path = folder / "mcc-sectors.yaml"
    mapping = _yaml(mapping_path)
    mccs: dict[str, SectorMapping] = {}
    for item in mapping.get("mccs", []):
        mcc = str(item["mcc"])
        naics = None if item.get("naics") is None else str(item["naics"])
        score = int(item["data_quality"])
        if naics is not None and naics not in table:
            raise FootprintDataError(f"{mapping_path}: MCC {mcc} maps to NAICS {naics}, not in the table")
        if score not in RANGE_FACTOR:
            raise FootprintDataError(f"{mapping_path}: MCC {mcc} has data-quality score {score}, not 1-5")
        if mcc in mccs:
            raise FootprintDataError(f"{mapping_path}: MCC {mcc} is listed twice")
        mccs[mcc] = SectorMapping(mcc, str(item["category"]), naics, score)
    rates_path = folder / "rub-usd-cbr.yaml"
    rates = sorted(
        (date.fromisoformat(str(r["date"])), _decimal(rates_path, r["rate"], "rate"))
        for r in _yaml(rates_path)["rates"]
    )
    if any(rate == 0 for _, rate in rates):
        raise FootprintDataError(f"{rates_path}: a rate of zero")
    cpi_path = folder / "us-cpi-u.yaml"
    cpi_file = _yaml(cpi_path)
    cpi = {int(y): _decimal(cpi_path, v, f"CPI {y}") for y, v in cpi_file["annual_average"].items()}
    base = int(cpi_file["base_year"])
    if base not in cpi:
        raise FootprintDataError(f"{cpi_path}: no index for the base year {base}")
    return MethodData(
        factor_set=FACTOR_SET,
        factors={code: value for code, (_, value) in table.items()},
        mccs=mccs,
        generic_factor=generic_factor(table),
        generic_data_quality=int(mapping["generic"]["data_quality"]),
        rates=tuple(rates),
        cpi=cpi,
        cpi_base_year=base,
    )
