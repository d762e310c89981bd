"""The import rules of ARCHITECTURE.md: import-linter's contracts (pyproject.toml) hold on the source tree
and fail on a tree that breaks one; the rules import-linter cannot express are checked here."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "futurebank"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(src_root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the project's contracts on the package found under ``src_root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=src_root,
        env={"PYTHONPATH": str(src_root), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_source_tree_keeps_every_import_contract() -> None:
    result = lint_imports(SRC.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def copy_of_source(tmp_path: Path) -> Path:
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "futurebank", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        # a lower sandbox layer reaching up
        ("sandbox/domain/ledger.py", "from futurebank.sandbox.adapters import orm", "Sandbox layers"),
        ("sandbox/service_layer/handlers.py", "import futurebank.sandbox.entrypoints.app", "Sandbox layers"),
        # the domain stays free of persistence and web libraries
        ("sandbox/domain/money.py", "import sqlalchemy", "Sandbox domain uses"),
        # spec and sandbox never import each other
        ("spec/rules.py", "import futurebank.sandbox.config", "Spec and sandbox never"),
        # a page generator importing the extension would be an import cycle
        ("spec/pages/bench.py", "import futurebank.spec.sphinx_ext", "Spec layers"),
        # the scripts are entry points only
        ("cli.py", "import futurebank.sandbox.config", "cli.py imports"),
    ],
)
def test_a_broken_rule_fails_lint_imports(
    module: str, bad_import: str, contract: str, tmp_path: Path
) -> None:
    copy = copy_of_source(tmp_path)
    path = copy / "futurebank" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{bad_import}  # noqa\n", encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0, result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), result.stdout


def test_a_new_module_inside_a_layer_needs_no_new_rule(tmp_path: Path) -> None:
    copy = copy_of_source(tmp_path)
    (copy / "futurebank" / "sandbox" / "domain" / "commands_probe.py").write_text(
        "from futurebank.sandbox.domain import money  # noqa\n", encoding="utf-8"
    )
    result = lint_imports(copy)
    assert result.returncode == 0, result.stdout


def test_a_new_top_level_sandbox_package_must_be_placed_in_a_layer(tmp_path: Path) -> None:
    copy = copy_of_source(tmp_path)
    (copy / "futurebank" / "sandbox" / "stray").mkdir()
    (copy / "futurebank" / "sandbox" / "stray" / "__init__.py").write_text("", encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0, result.stdout


# --- what import-linter cannot see -------------------------------------------------------------------------

# Alembic's migrations are scripts in a directory without __init__.py, so import-linter's graph does not
# hold them: they may import the persistence adapters (the ORM metadata) and nothing else of ours.
MIGRATIONS = SRC / "sandbox" / "migrations"
MIGRATIONS_MAY_IMPORT = ("futurebank.sandbox.adapters",)


def futurebank_imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module]
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            else []
        )
        found.extend((node.lineno, name) for name in names if name.split(".")[0] == "futurebank")
    return found


def migration_violations(migrations: Path) -> list[str]:
    return [
        f"{path}:{line}: a migration must not import {name}"
        for path in sorted(migrations.rglob("*.py"))
        for line, name in futurebank_imports(path)
        if not any(name == allowed or name.startswith(allowed + ".") for allowed in MIGRATIONS_MAY_IMPORT)
    ]


def test_migrations_import_only_the_persistence_adapters() -> None:
    assert list(MIGRATIONS.rglob("*.py")), "no migration scripts found"
    problems = migration_violations(MIGRATIONS)
    assert not problems, "\n".join(problems)


def test_migration_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "versions" / "0099_bad.py"
    bad.parent.mkdir()
    bad.write_text("from futurebank.sandbox.service_layer import handlers\n", encoding="utf-8")
    assert migration_violations(tmp_path) == [
        f"{bad}:1: a migration must not import futurebank.sandbox.service_layer"
    ]


def domain_violations(domain: Path) -> list[str]:
    """The allow-list of the domain layer: the standard library and the domain itself."""
    problems = []
    for path in sorted(domain.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in sys.stdlib_module_names or name.startswith(
                    "futurebank.sandbox.domain"
                ):
                    continue
                problems.append(f"{path}:{node.lineno}: the domain must not import {name}")
    return problems


def test_domain_imports_only_the_standard_library() -> None:
    problems = domain_violations(SRC / "sandbox" / "domain")
    assert not problems, "\n".join(problems)


def test_domain_check_catches_a_third_party_import(tmp_path: Path) -> None:
    bad = tmp_path / "scoring.py"
    bad.write_text("import numpy\nfrom decimal import Decimal\n", encoding="utf-8")
    assert domain_violations(tmp_path) == [f"{bad}:1: the domain must not import numpy"]
