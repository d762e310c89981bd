"""The traceability exports: the matrix covers the whole chat, every message that needs it is
resolved, and the files say exactly what the built site shows."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from openpyxl import load_workbook

from futurebank.spec.chat_data import load_chat
from futurebank.spec.exports import (
    ITEMS_HEADER,
    MATRIX_HEADER,
    ExportError,
    csv_safe,
    export_all,
    load_needs,
    matrix_rows,
    write_csv,
)

REPO = Path(__file__).resolve().parents[3]
DOCS = REPO / "docs"
EXPECTED_IDS = [f"MSG-{n:04d}" for n in range(1, 82)]
COL = {name: i for i, name in enumerate(MATRIX_HEADER)}


@pytest.fixture(scope="module")
def exported(site_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("export")
    return {p.name: p for p in export_all(site_dir / "needs.json", out, DOCS)}


def _unguard(value: str) -> str:
    """Undo the CSV formula guard (a leading apostrophe before a formula trigger)."""
    return value[1:] if re.match(r"'[=+\-@\t\r]", value) else value


@pytest.fixture(scope="module")
def csv_rows(exported: dict[str, Path]) -> list[list[str]]:
    raw = exported["traceability.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 byte order mark for Excel"
    text = raw[3:].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows[0] == MATRIX_HEADER
    return [[_unguard(cell) for cell in row] for row in rows[1:]]


def test_matrix_has_every_message_in_order(csv_rows: list[list[str]]) -> None:
    assert len(csv_rows) == 81
    assert [row[COL["id"]] for row in csv_rows] == EXPECTED_IDS


def test_every_non_courtesy_message_is_resolved(csv_rows: list[list[str]]) -> None:
    unresolved = [
        row[COL["id"]]
        for row in csv_rows
        if row[COL["disposition"]] != "courtesy" and not row[COL["resolving_items"]]
    ]
    assert not unresolved, f"messages with no resolving item: {unresolved}"
    without_disposition = [row[COL["id"]] for row in csv_rows if not row[COL["disposition"]]]
    assert not without_disposition


def test_matrix_rows_carry_the_chat_texts(csv_rows: list[list[str]]) -> None:
    chat = {m.id: m for m in load_chat(DOCS / "chat")}
    for row in csv_rows:
        msg = chat[row[COL["id"]]]
        assert row[COL["text_ru"]] == msg.text_ru
        assert row[COL["text_en"]] == msg.text_en
        assert row[COL["author"]] == msg.author
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", row[COL["sent_at"]])
    assert any(re.search("[а-яё]", row[COL["text_ru"]]) for row in csv_rows)


def test_resolving_items_match_needs_json(site_dir: Path, csv_rows: list[list[str]]) -> None:
    needs = load_needs(site_dir / "needs.json")
    for row in csv_rows:
        resolving = [i for i in row[COL["resolving_items"]].split(";") if i]
        assert resolving == sorted(needs[row[COL["id"]]]["traces_back"])
        for item in resolving:
            assert row[COL["id"]] in needs[item]["traces"], f"{item} does not trace to {row[COL['id']]}"
        types = sorted({needs[i]["type"] for i in resolving})
        assert row[COL["resolving_item_types"]] == ";".join(types)


def test_csv_is_rfc4180(exported: dict[str, Path]) -> None:
    text = exported["traceability.csv"].read_bytes()[3:].decode("utf-8")
    # records end with CRLF; a bare LF occurs only inside a quoted multi-line field
    assert text.endswith("\r\n")
    reparsed = list(csv.reader(io.StringIO(text, newline="")))
    assert len(reparsed) == 82
    assert all(len(row) == len(MATRIX_HEADER) for row in reparsed)


def test_csv_writer_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_csv(path, ["a", "b"], [["x,y", 'q"z'], ["line\nbreak", "@h"], ["Привет", ""]])
    assert path.read_bytes() == (
        b'\xef\xbb\xbfa,b\r\n"x,y","q""z"\r\n"line\nbreak",\'@h\r\n' + "Привет,\r\n".encode()
    )


def test_xlsx_matches_csv_and_lists_every_item(
    site_dir: Path, exported: dict[str, Path], csv_rows: list[list[str]]
) -> None:
    book = load_workbook(exported["traceability.xlsx"], read_only=True)
    assert book.sheetnames == ["traceability", "items"]
    matrix = [
        [c if c is not None else "" for c in r] for r in book["traceability"].iter_rows(values_only=True)
    ]
    assert matrix[0] == MATRIX_HEADER
    assert matrix[1:] == csv_rows
    items = list(book["items"].iter_rows(values_only=True))
    assert list(items[0]) == ITEMS_HEADER
    needs = load_needs(site_dir / "needs.json")
    assert [r[0] for r in items[1:]] == sorted(needs)
    by_id = {r[0]: r for r in items[1:]}
    traces_col = ITEMS_HEADER.index("traces")
    for nid, need in needs.items():
        assert (by_id[nid][traces_col] or "") == ";".join(sorted(need.get("traces") or []))


def test_needs_json_is_copied(site_dir: Path, exported: dict[str, Path]) -> None:
    assert exported["needs.json"].read_bytes() == (site_dir / "needs.json").read_bytes()


def test_story_exports_are_written_when_the_module_exists(exported: dict[str, Path]) -> None:
    if importlib.util.find_spec("futurebank.spec.jira_export") is None:
        assert "stories.csv" not in exported
    else:
        assert {"stories.csv", "stories.xlsx"} <= set(exported)


# --- the matrix agrees with the rendered chat page -------------------------------------------------


def _meta_links(need: Tag, label: str, css_class: str) -> list[tuple[str, str]]:
    """(text, href) of the links in a need's meta line ``<label>: <span class=css_class>``."""
    links: list[tuple[str, str]] = []
    for span in need.select(f"tr.meta span.{css_class}"):
        line = span.parent
        if isinstance(line, Tag) and line.get_text(" ", strip=True).startswith(f"{label}:"):
            links += [(a.get_text(strip=True), str(a.get("href", ""))) for a in span.find_all("a")]
    return links


def test_matrix_agrees_with_the_chat_page(site_dir: Path, csv_rows: list[list[str]]) -> None:
    soup = BeautifulSoup((site_dir / "chat" / "index.html").read_text(encoding="utf-8"), "html.parser")
    problems: list[str] = []
    for row in csv_rows:
        msg_id = row[COL["id"]]
        need = soup.find("table", id=msg_id)
        if not isinstance(need, Tag):
            problems.append(f"{msg_id}: not on the chat page")
            continue
        shown = need.select_one("tr.meta span.needs_disposition span.needs_data")
        if row[COL["disposition"]] != (shown.get_text(strip=True) if shown else ""):
            problems.append(f"{msg_id}: disposition {row[COL['disposition']]!r} not shown")
        expected = [i for i in row[COL["resolving_items"]].split(";") if i]
        links = _meta_links(need, "resolved by", "traces")
        if sorted(text for text, _ in links) != expected:
            problems.append(
                f"{msg_id}: page shows resolved by {[t for t, _ in links]}, matrix has {expected}"
            )
        problems += [
            f"{msg_id}: link {text} goes to {href}" for text, href in links if not href.endswith(f"#{text}")
        ]
        repeats = [text for text, _ in _meta_links(need, "repeats", "duplicates")]
        if repeats != [i for i in row[COL["duplicates"]].split(";") if i]:
            problems.append(f"{msg_id}: page shows repeats {repeats}, matrix has {row[COL['duplicates']]!r}")
    assert not problems, "\n".join(problems)


# --- small checks of the exporter's own logic (no build needed) ---------------------------------


def _needs_file(tmp_path: Path, needs: dict[str, dict[str, Any]]) -> Path:
    path = tmp_path / "needs.json"
    path.write_text(json.dumps({"current_version": "", "versions": {"": {"needs": needs}}}), encoding="utf-8")
    return path


def test_a_stale_build_is_refused(tmp_path: Path) -> None:
    chat = load_chat(DOCS / "chat")
    needs: dict[str, dict[str, Any]] = {
        m.id: {"id": m.id, "type": "msg", "disposition": m.disposition, "traces_back": []} for m in chat
    }
    del needs["MSG-0081"]
    with pytest.raises(ExportError, match="MSG-0081"):
        matrix_rows(load_needs(_needs_file(tmp_path, needs)), chat)
    needs["MSG-0081"] = {"id": "MSG-0081", "type": "msg", "disposition": "claim", "traces_back": []}
    if chat[-1].disposition != "claim":
        with pytest.raises(ExportError, match="disposition"):
            matrix_rows(load_needs(_needs_file(tmp_path, needs)), chat)


def test_unreadable_needs_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "needs.json"
    path.write_text('{"versions": {}}', encoding="utf-8")
    with pytest.raises(ExportError, match=r"needs\.json"):
        load_needs(path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@bank_ceo", "'@bank_ceo"),
        ("=1+1", "'=1+1"),
        ("-5", "'-5"),
        ("+7", "'+7"),
        ("MSG-0001", "MSG-0001"),
        ("", ""),
    ],
)
def test_csv_formula_guard(value: str, expected: str) -> None:
    assert csv_safe(value) == expected
