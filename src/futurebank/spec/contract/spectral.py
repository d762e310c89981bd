"""R-43: Spectral lints the contracts (a separate check: it needs Node.js)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from futurebank.spec.rules import Finding
from futurebank.spec.yaml_lines import pointer_join

SPECTRAL_INSTALL_HINT = (
    "Spectral is not installed: run `scripts/bootstrap.sh spectral` (needs Node.js and npm; it runs "
    "`cd tools && npm ci` from tools/package-lock.json)"
)


def spectral_binary(repo: Path) -> Path | None:
    local = repo / "tools" / "node_modules" / ".bin" / "spectral"
    if local.exists():
        return local
    found = shutil.which("spectral")
    return Path(found) if found else None


def run_spectral(
    repo: Path, documents: list[Path] | None = None, ruleset: Path | None = None
) -> list[Finding]:
    """Lint the contracts with Spectral; every result of severity error becomes an R-43 finding.

    Raises FileNotFoundError naming what to install when Spectral is missing.
    """
    binary = spectral_binary(repo)
    if binary is None:
        raise FileNotFoundError(SPECTRAL_INSTALL_HINT)
    ruleset = ruleset or repo / "docs" / "api" / ".spectral.yaml"
    documents = documents or [repo / "docs" / "api" / "openapi.yaml", repo / "docs" / "api" / "asyncapi.yaml"]
    result = subprocess.run(
        [
            str(binary),
            "lint",
            "--format",
            "json",
            "--quiet",
            "--fail-severity",
            "error",
            "--ruleset",
            str(ruleset),
            *map(str, documents),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    try:
        results = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return [
            Finding(
                "R-43-spectral-clean", "spectral", f"spectral failed: {result.stderr.strip()}", ruleset, 1
            )
        ]
    findings = []
    for entry in results:
        if entry.get("severity") != 0:  # 0 = error
            continue
        path = Path(entry.get("source") or documents[0])
        line = int(entry.get("range", {}).get("start", {}).get("line", 0)) + 1
        pointer = pointer_join("", *entry.get("path", []))
        findings.append(
            Finding(
                "R-43-spectral-clean", str(entry.get("code")), str(entry.get("message")), path, line, pointer
            )
        )
    return findings
