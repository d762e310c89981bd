"""Fixtures shared by the integration tests outside the sandbox package: the sandbox served as a reader
runs it (``python -m futurebank.serve`` on a free port, with the built site)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(site_dir: Path, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = {"SANDBOX_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        [sys.executable, "-m", "futurebank.serve", "--site", str(site_dir), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"futurebank.serve did not become ready on port {port}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
