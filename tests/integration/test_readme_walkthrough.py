"""The README's sandbox walkthrough works exactly as written against `python -m futurebank.serve`.

The block between the walkthrough markers is run with bash as written; the test server (the ``served``
fixture of ``tests/integration/conftest.py``) takes a free port instead of 8000 and the script is told so
through ``BASE``, as the README tells a reader to do.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(
    r"<!-- walkthrough:start -->\n```sh\n(?P<script>.*?)```\n<!-- walkthrough:end -->",
    re.DOTALL,
)


def test_walkthrough_runs_as_written(served: int) -> None:
    match = BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no walkthrough block"
    script = match["script"]
    assert "BASE=${BASE:-http://127.0.0.1:8000/api/v1}" in script  # port 8000 unless BASE says otherwise
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={"PATH": "/usr/bin:/bin", "BASE": f"http://127.0.0.1:{served}/api/v1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert '"account_number":"40817810000000000001"' in lines[0]
    assert '"amount":"25000.00"' in lines[1]
    payment, status, problem = lines[2], lines[3], lines[4]
    assert '"status":"ACSC"' in payment and '"amount":"500.00"' in payment
    assert '"status":"ACSC"' in status
    assert '"code":"IDEMPOTENCY_KEY_REUSED"' in problem and '"status":422' in problem
