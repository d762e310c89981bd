"""R-84: the table of stable error codes (docs/api/problem-codes.yaml) is well formed, and the Problem
schema's code enum in the contract and in the entity lists exactly its codes."""

from __future__ import annotations

import re
from typing import Any

from futurebank.spec.contract.model import PROBLEM_CODES_FILE, Contract, finding_at
from futurebank.spec.rules import Finding
from futurebank.spec.yaml_lines import Located

RULE = "R-84-problem-codes-table"
CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
ENUM_POINTER = "/properties/code/enum"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_entries(table: Located) -> list[Finding]:
    findings: list[Finding] = []
    entries = table.data.get("codes") if isinstance(table.data, dict) else None
    if not isinstance(entries, list) or not entries:
        return [finding_at(RULE, table, "", PROBLEM_CODES_FILE, "needs a non-empty list `codes`")]
    base = table.data.get("type_base") if isinstance(table.data, dict) else None
    if not isinstance(base, str) or not re.fullmatch(r"https://[^\s]+/", base):
        findings.append(
            finding_at(
                RULE, table, "/type_base", PROBLEM_CODES_FILE, "needs `type_base`, an https URI ending in /"
            )
        )
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        pointer = f"/codes/{index}"
        if not isinstance(entry, dict):
            findings.append(
                finding_at(RULE, table, pointer, PROBLEM_CODES_FILE, "an entry must be a mapping")
            )
            continue
        code = entry.get("code")
        item = str(code) if code else f"{PROBLEM_CODES_FILE} entry {index + 1}"
        if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
            findings.append(finding_at(RULE, table, pointer, item, f"code {code!r} is not UPPER_SNAKE"))
        elif code in seen:
            findings.append(finding_at(RULE, table, pointer, item, f"code {code} is given twice"))
        else:
            seen.add(code)
        status = entry.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            findings.append(
                finding_at(RULE, table, pointer + "/status", item, f"status {status!r} is not 400 to 599")
            )
        for key in ("title", "when"):
            if not _text(entry.get(key)):
                findings.append(finding_at(RULE, table, pointer, item, f"needs a non-empty `{key}`"))
        unknown = sorted(set(entry) - {"code", "status", "title", "when"})
        if unknown:
            findings.append(finding_at(RULE, table, pointer, item, f"unknown keys {', '.join(unknown)}"))
    return findings


def _check_enum(doc: Located, schema_pointer: str, codes: list[str], item: str) -> list[Finding]:
    pointer = schema_pointer + ENUM_POINTER
    node: Any = doc.data
    for token in pointer.split("/")[1:]:
        node = node.get(token) if isinstance(node, dict) else None
    if not isinstance(node, list):
        return [finding_at(RULE, doc, schema_pointer, item, "the Problem schema has no code enum")]
    missing = [code for code in codes if code not in node]
    extra = [str(code) for code in node if code not in codes]
    findings: list[Finding] = []
    if missing:
        findings.append(
            finding_at(
                RULE, doc, pointer, item, f"code enum lacks {', '.join(missing)} of {PROBLEM_CODES_FILE}"
            )
        )
    if extra:
        findings.append(
            finding_at(
                RULE, doc, pointer, item, f"code enum has {', '.join(extra)}, not in {PROBLEM_CODES_FILE}"
            )
        )
    return findings


def check_problem_codes(contract: Contract) -> list[Finding]:
    table = contract.problem_codes
    if table is None:
        path = contract.docs / "api" / PROBLEM_CODES_FILE
        return [Finding(RULE, PROBLEM_CODES_FILE, "the table of stable error codes is missing", path, 1)]
    findings = _check_entries(table)
    codes = list(contract.error_codes)
    findings += _check_enum(contract.openapi, "/components/schemas/Problem", codes, "Problem (openapi.yaml)")
    entity = contract.entities.get("Problem")
    if entity is not None:
        findings += _check_enum(entity, "", codes, "ENT-Problem")
    return findings
