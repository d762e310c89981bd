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
from futurebank.footprint.method import FootprintError
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


def test_the_table_follows_the_rules_of_epas_generating_code() -> None:
    # CalculateEmissionFactors.Rmd at v1.3.0 (SRC-0650): round(..., 3); S*/G* and 2211 codes removed;
    # rows with a zero factor without margins dropped.
    _, rows = epa_rows()
    values = [Decimal(r[f]) for r in rows for f in EPA_FIELDS[4:7]]
    assert all(v >= 0 and v == v.quantize(Decimal("0.001")) for v in values)
    assert not [r for r in rows if r["Reference USEEIO Code"][:1] in {"S", "G"}]
    assert all(Decimal(r[EPA_FIELDS[4]]) > 0 for r in rows)


def test_the_spot_values_recorded_in_the_provenance_are_in_the_table() -> None:
    recorded = provenance()["factor_table"]
    assert isinstance(recorded, dict)
    spots = recorded["spot_values"]
    assert len(spots) >= 5
    _, rows = epa_rows()
    by_code = {r["2017 NAICS Code"]: r for r in rows}
    for spot in spots:
        row = by_code[spot["naics"]]
        assert row["2017 NAICS Title"] == spot["title"]
        assert [row[f] for f in EPA_FIELDS[4:7]] == spot["values"], spot["naics"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b",0.194,0,0.194,722110", b",0.194,0,0.195,722110"),  # full-service restaurants, with margins
        (b"111110,Soybean Farming", b""),
    ],
)
def test_a_changed_table_fails_the_checksum(tmp_path: Path, old: bytes, new: bytes) -> None:
    # The checksum check can fail: one edited value, or one dropped row, changes the SHA-256.
    original = (DATA / FACTOR_TABLE).read_bytes()
    assert old in original
    if new:
        changed_bytes = original.replace(old, new, 1)
    else:
        changed_bytes = b"".join(
            line for line in original.splitlines(keepends=True) if not line.startswith(old)
        )
        assert changed_bytes.count(b"\r\n") == 1016  # the header and 1,015 rows left
    changed = tmp_path / FACTOR_TABLE
    changed.write_bytes(changed_bytes)
    recorded = provenance()["factor_table"]
    assert isinstance(recorded, dict)
    assert sha256(DATA / FACTOR_TABLE) == recorded["sha256"] != sha256(changed)


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


@pytest.mark.parametrize(
    ("day", "in_force_from", "rate"),
    [
        (date(2025, 9, 5), date(2025, 9, 5), "81.2977"),  # the first rate, on its own date
        (date(2026, 6, 29), date(2026, 1, 23), "76.04"),  # a day without a rate in the file
        (date(2026, 6, 30), date(2026, 6, 30), "77.7539"),
        (date(2026, 11, 30), date(2026, 7, 1), "78.2696"),  # after the last rate
    ],
)
def test_the_rate_used_is_the_latest_on_or_before_the_date(day: date, in_force_from: date, rate: str) -> None:
    assert load_method_data().rate_on(day) == (in_force_from, Decimal(rate))


def test_a_date_before_the_first_rate_has_none() -> None:
    with pytest.raises(FootprintError, match="no official RUB/USD rate on or before 2025-09-04"):
        load_method_data().rate_on(date(2025, 9, 4))


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
