"""The README's sandbox walkthrough and its assistant example work exactly as written against
`python -m futurebank.serve`.

The blocks between the markers are run with bash as written; the test server (the ``served``
fixture of ``tests/integration/conftest.py``) takes a free port instead of 8000 and the script is told so
through ``BASE``, as the README tells a reader to do.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(
    r"<!-- walkthrough:start -->\n```sh\n(?P<script>.*?)```\n<!-- walkthrough:end -->",
    re.DOTALL,
)
ASSISTANT_BLOCK = re.compile(
    r"<!-- assistant-example:start -->\n```sh\n(?P<script>.*?)```\n<!-- assistant-example:end -->",
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


def test_assistant_example_runs_as_written(served: int) -> None:
    match = ASSISTANT_BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no assistant example block"
    script = match["script"]
    assert "BASE=${BASE:-http://127.0.0.1:8000/api/v1}" in script
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
    assert len(lines) == 1, result.stdout  # the reply; the token and conversation id went to variables
    reply = json.loads(lines[0])
    assert reply["role"] == "assistant" and reply["ai_generated"] is True
    assert reply["intent"] == "balance_inquiry"
    available = {
        "kind": "balance",
        "source_operation": "getAccountBalances",
        "account_id": "20000000-0000-4000-8000-000000000001",
        "money": {"amount": "24650.00", "currency": "RUB"},
        "balance_type": "ITAV",
    }
    assert available in reply["facts"], reply["facts"]
    assert "24,650.00" in reply["text"], reply["text"]  # the figure the fact names, in en-US form
