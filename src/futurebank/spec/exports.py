"""Exports for people who work in spreadsheets: the traceability matrix and the item list.

``export_all`` writes into the output directory:

* ``needs.json`` - a copy of the build's sphinx-needs export (the lossless, machine-readable form);
* ``traceability.csv`` - one row per chat message: its metadata, the spec items that resolve it
  and the Russian original beside our English translation;
* ``traceability.xlsx`` - the same rows on sheet ``traceability``, and every spec item on sheet ``items``;
* ``stories.csv`` / ``stories.xlsx`` from ``futurebank.spec.jira_export`` when that module is present;
* ``spec.reqif`` - every item as a ReqIF 1.2 spec object with its links as relations, from
  ``futurebank.spec.reqif_export`` (for DOORS Next, Polarion, Jama and other requirements tools).

Sources, one per kind of fact: the chat itself (ids, order, time, author, role, disposition, repeated
message, both texts) comes from ``docs/chat`` through ``load_chat``, because ``needs.json`` only holds
the texts as escaped MyST markup. Everything the build computes (which items trace to a message, their
types, every item's fields) comes from ``needs.json``. If the two disagree on the messages or their
dispositions, the build is stale and the export refuses to write a matrix that mixes them.

CSV: RFC 4180 (comma separated, CRLF line ends, fields quoted when they hold a comma, quote or line
break), UTF-8 with a byte order mark so that Excel detects the encoding of the Cyrillic text. Only a
field that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading apostrophe
(``futurebank.spec.csv_guard``, the OWASP guard against CSV formula injection): Excel would otherwise
evaluate a chat handle such as ``@bank_ceo`` as a formula. The XLSX stores every text as a string cell,
so it needs no guard and shows every handle as written.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from futurebank.spec.chat_data import AnnotatedMessage, load_chat
from futurebank.spec.csv_guard import csv_safe
from futurebank.spec.needs_json import ExportError, load_needs
from futurebank.spec.reqif_export import write_reqif

MATRIX_HEADER = [
    "id",
    "sent_at",
    "author",
    "role",
    "disposition",
    "duplicates",
    "resolving_items",
    "resolving_item_types",
    "text_ru",
    "text_en",
]
ITEMS_HEADER = [
    "id",
    "type",
    "title",
    "page",
    "status",
    "disposition",
    "decision",
    "adr_status",
    "priority",
    "release",
    "severity",
    "likelihood",
    "impact",
    "traces",
    "derived",
]
LIST_SEPARATOR = ";"
DOCS_DIR = Path("docs")
_XLSX_CELL_LIMIT = 32_767
_WIDTHS = {"role": 28, "resolving_items": 36, "text_ru": 70, "text_en": 70, "title": 60, "traces": 36}


def id_list(value: Any) -> list[str]:
    """A link field (list, comma separated string or empty) as a list of ids."""
    if not value:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _joined(ids: Sequence[str]) -> str:
    return LIST_SEPARATOR.join(ids)


def matrix_rows(
    needs: Mapping[str, Mapping[str, Any]], messages: Sequence[AnnotatedMessage]
) -> list[list[str]]:
    """One row per chat message, in chat order, with the items whose ``traces`` point to it."""
    built = {nid: need for nid, need in needs.items() if need.get("type") == "msg"}
    chat_ids = [m.id for m in messages]
    if sorted(built) != sorted(chat_ids):
        missing = sorted(set(chat_ids) - set(built))
        extra = sorted(set(built) - set(chat_ids))
        raise ExportError(
            "needs.json and docs/chat disagree on the messages"
            f" (not built: {missing}, not in the chat: {extra}); rebuild the site"
        )
    rows: list[list[str]] = []
    for msg in messages:
        need = built[msg.id]
        if (need.get("disposition") or None) != msg.disposition:
            raise ExportError(
                f"{msg.id}: needs.json has disposition {need.get('disposition')!r}, docs/chat has"
                f" {msg.disposition!r}; rebuild the site"
            )
        resolving = sorted(id_list(need.get("traces_back")))
        types = sorted({str(needs[i].get("type", "")) for i in resolving if i in needs})
        rows.append(
            [
                msg.id,
                msg.sent_at,
                msg.author,
                msg.role,
                msg.disposition or "",
                _joined(id_list(msg.duplicates)),
                _joined(resolving),
                _joined(types),
                msg.text_ru,
                msg.text_en,
            ]
        )
    return rows


def item_rows(needs: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Every need, sorted by id: its type, title, page, status fields and the messages it traces to."""
    rows: list[list[str]] = []
    for nid in sorted(needs):
        need = needs[nid]
        row = [nid, str(need.get("type") or ""), str(need.get("title") or ""), str(need.get("docname") or "")]
        row += [str(need.get(field) or "") for field in ITEMS_HEADER[4:13]]
        row += [_joined(sorted(id_list(need.get("traces")))), str(need.get("derived") or "")]
        rows.append(row)
    return rows


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, dialect="excel", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([csv_safe(cell) for cell in row] for row in rows)


def _fill_sheet(sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    sheet.append(list(header))
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell)[:_XLSX_CELL_LIMIT] for cell in row])
    for row_cells in sheet.iter_rows():
        for cell in row_cells:
            # openpyxl turns a string starting with "=" into a formula; chat text is always text
            if cell.data_type == "f":
                cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, name in enumerate(header, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = _WIDTHS.get(name, 14)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions


def write_xlsx(path: Path, sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]]) -> None:
    book = Workbook()
    default = book.active
    if default is not None:  # a new workbook starts with one empty sheet; ours are added by name
        book.remove(default)
    for title, header, rows in sheets:
        _fill_sheet(book.create_sheet(title), header, rows)
    book.save(path)


def _story_exports(needs_json: Path, features_dir: Path, out_dir: Path) -> list[Path]:
    """The Jira story files, when the spec-body helper's module is installed."""
    try:
        from futurebank.spec import jira_export
    except ModuleNotFoundError as exc:
        if exc.name != "futurebank.spec.jira_export":
            raise  # the module exists but one of its imports is broken: that is a real error
        return []
    return list(jira_export.write_story_exports(needs_json, features_dir, out_dir))


# The site's download page: every file the build publishes next to it, in page order (file, format, what
# it is). ``publish_downloads`` writes exactly these and the page lists exactly these (one list).
DOWNLOADS: list[tuple[str, str, str]] = [
    ("needs.json", "JSON (sphinx-needs 9)", "every spec item with its fields and links, for scripts"),
    ("traceability.csv", "CSV (RFC 4180, UTF-8)", "one row per chat message with the items that resolve it"),
    ("traceability.xlsx", "Excel", "the traceability matrix, and every item on a second sheet"),
    ("stories.csv", "CSV for Jira's importer", "epics and stories with acceptance criteria, for Jira"),
    ("stories.xlsx", "Excel", "the same epics and stories as a workbook"),
    ("spec.reqif", "ReqIF 1.2 (XML)", "every item and link, for DOORS Next, Polarion, Jama and other tools"),
    ("openapi.yaml", "OpenAPI 3.1", "the retail API contract, input to code generators"),
    ("asyncapi.yaml", "AsyncAPI 3.0", "the domain events other systems consume"),
]
CONTRACT_FILES = ("openapi.yaml", "asyncapi.yaml")


def publish_downloads(needs_json: Path, out_dir: Path, docs_dir: Path = DOCS_DIR) -> list[Path]:
    """Write every export and a copy of the API contracts into ``out_dir`` (the site's download folder).

    Refuses to publish a set of files that differs from :data:`DOWNLOADS`, so the page never links to a
    file the build did not write, nor leaves one out.
    """
    paths = export_all(needs_json, out_dir, docs_dir)
    for name in CONTRACT_FILES:
        target = out_dir / name
        shutil.copyfile(docs_dir / "api" / name, target)
        paths.append(target)
    written, listed = sorted(p.name for p in paths), sorted(name for name, _, _ in DOWNLOADS)
    if written != listed:
        raise ExportError(f"the download page lists {listed} but the build wrote {written}")
    return paths


def export_all(needs_json: Path, out_dir: Path, docs_dir: Path = DOCS_DIR) -> list[Path]:
    """Write every export into ``out_dir`` and return the paths written.

    ``docs_dir`` is the spec's source tree (the chat data and the Gherkin features live there);
    the default suits the ``futurebank`` command run from the repository root, as ``make`` does.
    """
    needs = load_needs(needs_json)
    matrix = matrix_rows(needs, load_chat(docs_dir / "chat"))
    items = item_rows(needs)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = out_dir / "needs.json"
    if not (copy.exists() and copy.samefile(needs_json)):
        shutil.copyfile(needs_json, copy)
    csv_path = out_dir / "traceability.csv"
    write_csv(csv_path, MATRIX_HEADER, matrix)
    xlsx_path = out_dir / "traceability.xlsx"
    write_xlsx(xlsx_path, [("traceability", MATRIX_HEADER, matrix), ("items", ITEMS_HEADER, items)])
    return [
        copy,
        csv_path,
        xlsx_path,
        *_story_exports(needs_json, docs_dir / "stories" / "features", out_dir),
        write_reqif(needs_json, out_dir),
    ]
