"""Run a Sphinx build of a fixture project in a subprocess, the way `make site` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def sphinx_build(
    srcdir: Path, outdir: Path, *, strict: bool = True, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """A fresh (-E) HTML build; strict means warnings are errors, as in `make site`."""
    flags = ["-W", "--keep-going"] if strict else []
    return subprocess.run(
        [sys.executable, "-m", "sphinx", *flags, "-q", "-E", "-b", "html", str(srcdir), str(outdir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
