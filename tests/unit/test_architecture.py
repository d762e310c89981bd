"""The import rules of ARCHITECTURE.md, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "futurebank"

# module prefix -> prefixes inside futurebank it must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "futurebank.spec": ("futurebank.sandbox",),
    "futurebank.sandbox": ("futurebank.spec",),
    "futurebank.footprint": ("futurebank.spec", "futurebank.sandbox", "sqlalchemy", "fastapi"),
    "futurebank.sandbox.domain": (
        "futurebank.sandbox.adapters",
        "futurebank.sandbox.service_layer",
        "futurebank.sandbox.entrypoints",
        "sqlalchemy",
        "fastapi",
    ),
    "futurebank.sandbox.adapters": ("futurebank.sandbox.service_layer", "futurebank.sandbox.entrypoints"),
    "futurebank.sandbox.service_layer": ("futurebank.sandbox.entrypoints",),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(path: Path) -> list[str]:
    name = module_name(path)
    bad: list[str] = []
    for prefix, forbidden in FORBIDDEN.items():
        if name == prefix or name.startswith(prefix + "."):
            for line, imported in imports_of(path):
                if any(imported == f or imported.startswith(f + ".") for f in forbidden):
                    bad.append(f"{path}:{line}: {name} must not import {imported}")
    return bad


def test_source_tree_follows_import_rules() -> None:
    problems = [v for path in sorted(SRC.rglob("*.py")) for v in violations(path)]
    assert not problems, "\n".join(problems)


def test_checker_catches_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_src = tmp_path / "futurebank"
    (fake_src / "sandbox" / "domain").mkdir(parents=True)
    bad = fake_src / "sandbox" / "domain" / "ledger.py"
    bad.write_text("from futurebank.sandbox.adapters import orm\n", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "SRC", fake_src)
    assert violations(bad) == [
        f"{bad}:1: futurebank.sandbox.domain.ledger must not import futurebank.sandbox.adapters"
    ]
