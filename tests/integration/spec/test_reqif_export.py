"""The ReqIF export: valid against the OMG ReqIF schema, and read back by the ``reqif`` library (the import
side of a requirements tool) it gives the same items, types, titles, texts, fields and links as needs.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import reqif
import xmlschema
from lxml import etree

from futurebank.spec.exports import export_all
from futurebank.spec.needs_json import ExportError, load_needs
from futurebank.spec.needs_model import NEEDS_LINKS
from futurebank.spec.reqif_export import (
    ENUM_FIELDS,
    FILE_NAME,
    ImportedItem,
    load_reqif,
    write_reqif,
    xhtml_text,
)

REPO = Path(__file__).resolve().parents[3]
DOCS = REPO / "docs"
SCHEMA_DIR = Path(reqif.__file__).parent / "reqif_schema"  # the OMG schema, shipped with the library
XHTML_NS = "http://www.w3.org/1999/xhtml"


def schema_errors(path: Path) -> list[str]:
    """Errors of ``path`` against ReqIF's reqif.xsd (with its XHTML modules, all local files)."""
    schema = xmlschema.XMLSchema(str(SCHEMA_DIR / "reqif.xsd"), base_url=str(SCHEMA_DIR))
    return [str(error).splitlines()[0] for error in schema.iter_errors(str(path))]


def plain(xhtml: str) -> str:
    """The text a reader sees in an XHTML fragment."""
    if not xhtml:
        return ""
    root = etree.fromstring(f'<r xmlns:xhtml="{XHTML_NS}">{xhtml}</r>'.encode())
    return " ".join("".join(root.itertext()).split())


@pytest.fixture(scope="module")
def exported(site_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    paths = {p.name: p for p in export_all(site_dir / "needs.json", out, DOCS)}
    assert FILE_NAME in paths, "make export must write the ReqIF file"
    return paths[FILE_NAME]


@pytest.fixture(scope="module")
def imported(exported: Path) -> dict[str, ImportedItem]:
    return load_reqif(exported)


def test_the_file_is_valid_reqif(exported: Path) -> None:
    cwd = os.getcwd()
    try:  # xmlschema resolves the XHTML modules' relative imports from the working directory
        os.chdir(SCHEMA_DIR)
        errors = schema_errors(exported)
    finally:
        os.chdir(cwd)
    assert not errors, "\n".join(errors[:10])


def test_round_trip_keeps_every_id_type_and_title(site_dir: Path, imported: dict[str, ImportedItem]) -> None:
    needs = load_needs(site_dir / "needs.json")
    assert sorted(imported) == sorted(needs)
    assert len(imported) > 500
    for nid, need in needs.items():
        assert imported[nid].type == need["type"], nid
        assert imported[nid].title == need["title"], nid


def test_round_trip_keeps_every_link(site_dir: Path, imported: dict[str, ImportedItem]) -> None:
    needs = load_needs(site_dir / "needs.json")
    count = 0
    for nid, need in needs.items():
        expected = {link: list(need.get(link) or []) for link in NEEDS_LINKS if need.get(link)}
        assert imported[nid].links == expected, nid
        count += sum(len(v) for v in expected.values())
    assert count > 1000  # traces, cites, refines, serves ... all came through


def test_round_trip_keeps_fields_and_text(site_dir: Path, imported: dict[str, ImportedItem]) -> None:
    needs = load_needs(site_dir / "needs.json")
    for nid, need in needs.items():
        for name, value in imported[nid].fields.items():
            assert value == str(need[name]), (nid, name)
        for name in ENUM_FIELDS:
            if need.get(name):
                assert imported[nid].fields[name] == need[name], (nid, name)
        assert plain(imported[nid].text) == plain(xhtml_text(need.get("content") or "")), nid
    story = imported["US-0010"]
    assert story.fields["priority"] == "must" and story.fields["release"] == "mvp"
    assert "CURRENCY_MISMATCH" in plain(story.text) and "{need}" not in story.text
    assert "<xhtml:code>CURRENCY_MISMATCH</xhtml:code>" in story.text


# --- the converter on small data (no build needed) ----------------------------------------------------------


def test_xhtml_text_escapes_and_keeps_structure() -> None:
    text = xhtml_text(
        "Pay **now** with `Idempotency-Key` <b> & see {need}`US-0001` or {ref}`the rules <rules>`.\n"
        "wrapped line\n\n- first item\n  continued\n- second"
    )
    assert text == (
        "<xhtml:div><xhtml:p>Pay <xhtml:strong>now</xhtml:strong> with "
        "<xhtml:code>Idempotency-Key</xhtml:code> &lt;b&gt; &amp; see US-0001 or the rules."
        " wrapped line</xhtml:p>"
        "<xhtml:ul><xhtml:li>first item continued</xhtml:li><xhtml:li>second</xhtml:li></xhtml:ul>"
        "</xhtml:div>"
    )
    assert xhtml_text("") == ""


def _needs_file(tmp_path: Path, needs: dict[str, dict[str, Any]]) -> Path:
    path = tmp_path / "needs.json"
    path.write_text(json.dumps({"current_version": "", "versions": {"": {"needs": needs}}}), encoding="utf-8")
    return path


def test_awkward_titles_survive_and_dangling_links_are_left_out(tmp_path: Path) -> None:
    needs = {
        "RISK-0001": {
            "id": "RISK-0001",
            "type": "risk",
            "title": 'Vendor "A&B" <exit> — риск',
            "content": "",
            "likelihood": "high",
            "status": "open",
            "traces": ["MSG-0001", "MSG-9999"],
        },
        "MSG-0001": {"id": "MSG-0001", "type": "msg", "title": "msg", "content": "Привет", "author": "@ceo"},
    }
    path = write_reqif(_needs_file(tmp_path, needs), tmp_path, created="2026-01-02T03:04:05+00:00")
    back = load_reqif(path)
    assert back["RISK-0001"].title == 'Vendor "A&B" <exit> — риск'
    assert back["RISK-0001"].links == {"traces": ["MSG-0001"]}  # MSG-9999 is not in the export
    assert back["RISK-0001"].fields == {"status": "open", "likelihood": "high"}
    assert back["MSG-0001"].fields == {"author": "@ceo"} and plain(back["MSG-0001"].text) == "Привет"
    text = path.read_text(encoding="utf-8")
    assert 'LAST-CHANGE="2026-01-02T03:04:05+00:00"' in text
    # every object type defines status, so a tool maps it before any item of the type has one
    assert text.count('LONG-NAME="status"') == 2


def test_a_value_outside_its_enumeration_is_refused(tmp_path: Path) -> None:
    needs = {"RISK-0001": {"id": "RISK-0001", "type": "risk", "title": "r", "likelihood": "certain"}}
    with pytest.raises(ExportError, match="likelihood"):
        write_reqif(_needs_file(tmp_path, needs), tmp_path)
