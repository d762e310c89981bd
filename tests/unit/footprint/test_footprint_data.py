"""The method's data files: provenance and checksum, EPA's published shape, coverage of the demo MCCs."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from futurebank.footprint.data import (
    FACTOR_TABLE,
    FootprintDataError,
    default_data_dir,
    load_method_data,
    sha256,
)
from futurebank.sandbox.service_layer.seed import MERCHANTS, default_seed_path

DATA = default_data_dir()
EPA_FIELDS = [
    "2017 NAICS Code",
    "2017 NAICS Title",
    "GHG",
    "Unit",
    "Supply Chain Emission Factors without Margins",
    "Margins of Supply Chain Emission Factors",
    "Supply Chain Emission Factors with Margins",
    "Reference USEEIO Code",
]


def provenance() -> dict[str, object]:
    loaded = yaml.safe_load((DATA / "provenance.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def epa_rows() -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / FACTOR_TABLE).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_the_committed_table_has_the_recorded_sha256() -> None:
    recorded = provenance()["factor_table"]
    assert isinstance(recorded, dict)
    assert recorded["file"] == FACTOR_TABLE
    assert sha256(DATA / FACTOR_TABLE) == recorded["sha256"]


def test_the_table_has_epas_published_shape() -> None:
    fields, rows = epa_rows()
    assert fields == EPA_FIELDS
    assert len(rows) == 1016  # "factors for 1,016 U.S. commodities" (EPA catalog record)
    codes = {r["2017 NAICS Code"] for r in rows}
    assert len(codes) == 1016 and all(len(c) == 6 and c.isdigit() for c in codes)
    assert not any(c.startswith("2211") for c in codes)  # electricity is excluded by EPA
    assert {r["GHG"] for r in rows} == {"All GHGs"}
    assert {r["Unit"] for r in rows} == {"kg CO2e/2022 USD, purchaser price"}
    for r in rows:
        without, margin, total = (Decimal(r[f]) for f in EPA_FIELDS[4:7])
        assert abs(without + margin - total) <= Decimal("0.0015"), r["2017 NAICS Code"]


def demo_mccs() -> set[str]:
    seed = yaml.safe_load(default_seed_path().read_text(encoding="utf-8"))
    from_seed = {str(t["merchant"]["mcc"]) for t in seed["transactions"] if t.get("merchant")}
    return from_seed | {m[1] for m in MERCHANTS}


def test_every_demo_mcc_is_mapped_with_a_reason() -> None:
    mapping = yaml.safe_load((DATA / "mcc-sectors.yaml").read_text(encoding="utf-8"))
    listed = {str(m["mcc"]): m for m in mapping["mccs"]}
    assert demo_mccs() <= set(listed), sorted(demo_mccs() - set(listed))
    assert all(m["why"] and m["title"] for m in listed.values())


def test_the_mapping_loads_against_the_table() -> None:
    data = load_method_data()
    assert data.factors["722511"] == Decimal("0.194")  # full-service restaurants, with margins
    assert data.generic_factor == Decimal("0.173")  # median of the 1,016 factors with margins
    assert data.generic_data_quality == 5
    assert min(m.data_quality for m in data.mccs.values()) >= 3  # US factors never score 1 or 2 here


def test_rates_and_price_index_name_their_sources() -> None:
    rates = yaml.safe_load((DATA / "rub-usd-cbr.yaml").read_text(encoding="utf-8"))
    assert all(r["reported_by"].count("http") >= 1 for r in rates["rates"])
    cpi = yaml.safe_load((DATA / "us-cpi-u.yaml").read_text(encoding="utf-8"))
    assert cpi["source"]["url"].startswith("https://data.bls.gov/")
    data = load_method_data()
    assert data.rate_on(date(2026, 11, 3)) == (date(2026, 7, 1), Decimal("78.2696"))
    assert data.cpi[2022] == Decimal("292.655")


def copy_data(tmp_path: Path) -> Path:
    for f in DATA.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    return tmp_path


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("mcc-sectors.yaml", 'naics: "722511"', 'naics: "722599"', "not in the table"),
        ("mcc-sectors.yaml", "data_quality: 3", "data_quality: 7", "not 1-5"),
        ("rub-usd-cbr.yaml", 'rate: "78.2696"', 'rate: "-1"', "non-negative"),
        ("us-cpi-u.yaml", "base_year: 2022", "base_year: 2021", "base year"),
    ],
)
def test_a_broken_data_file_is_named(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    folder = copy_data(tmp_path)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(FootprintDataError, match=message):
        load_method_data(folder)
