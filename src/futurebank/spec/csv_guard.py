"""The CSV formula guard, shared by every CSV export.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which OWASP lists
with them) is read by Excel and LibreOffice as a formula when the file is opened: ``@bank_ceo`` would
become a formula, ``=HYPERLINK(...)`` a live link. The guard puts an apostrophe before such a cell,
the OWASP advice against CSV formula injection; every other cell is written as it is, so only the cells
that need it show the apostrophe.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet would evaluate it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
