"""Fixtures shared by every test tier.

``site_dir``: the spec site, built once per session with the same strict command as ``make site``
(warnings are errors). ``make test`` builds ``build/site`` first and sets ``FUTUREBANK_SITE_DIR`` to it,
so the suite reuses that build instead of building again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SITE_DIR_ENV = "FUTUREBANK_SITE_DIR"


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A strict build of ``docs/`` (HTML and needs.json)."""
    given = os.environ.get(SITE_DIR_ENV)
    if given:
        site = Path(given)
        if not (site / "index.html").is_file() or not (site / "needs.json").is_file():
            pytest.fail(
                f"{SITE_DIR_ENV}={given} is not a built site (no index.html or needs.json); run `make site`"
            )
        return site
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "docs", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"the strict site build failed:\n{result.stderr[-6000:]}", pytrace=False)
    return site
