"""A Prometheus server from Debian's package, on loopback, scraping the sandbox.

``make run PROMETHEUS=1`` starts one beside the sandbox, and the gate test evaluates a rollout stage
against it. It listens on 127.0.0.1 only, keeps its data in its own directory, and loads the rules
generated from the SLOs (``build/ops/slo-rules.yml``) when given them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BINARY = "prometheus"


class PrometheusUnavailable(RuntimeError):
    """The binary is not installed, or the server did not become ready: the message says which."""


@dataclass
class PrometheusServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def query(self, promql: str) -> list[dict[str, object]]:
        from urllib.parse import urlencode

        with urllib.request.urlopen(
            f"{self.url}/api/v1/query?{urlencode({'query': promql})}", timeout=5
        ) as r:
            body = json.loads(r.read())
        result: list[dict[str, object]] = body["data"]["result"]
        return result


def binary() -> str | None:
    return shutil.which(BINARY)


def write_config(directory: Path, target: str, rules: Path | None, scrape_interval_s: float) -> Path:
    """The server's configuration: one job scraping ``target`` (host:port) and the given rules."""
    directory.mkdir(parents=True, exist_ok=True)
    interval = f"{int(scrape_interval_s * 1000)}ms"
    lines = [
        "# Written by futurebank.prometheus_server; regenerated on every start.",
        "global:",
        f"  scrape_interval: {interval}",
        f"  evaluation_interval: {interval}",
    ]
    if rules is not None:
        lines += ["rule_files:", f"  - {json.dumps(str(rules.resolve()))}"]
    lines += [
        "scrape_configs:",
        "  - job_name: futurebank-sandbox",
        "    metrics_path: /metrics",
        "    static_configs:",
        f"      - targets: [{json.dumps(target)}]",
    ]
    config = directory / "prometheus.yml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def start(
    directory: Path,
    target: str,
    port: int,
    rules: Path | None = None,
    scrape_interval_s: float = 5.0,
    ready_timeout_s: float = 30.0,
) -> PrometheusServer:
    found = binary()
    if found is None:
        raise PrometheusUnavailable(
            "prometheus not found: install Debian's prometheus package (`scripts/bootstrap.sh prometheus`)"
        )
    config = write_config(directory, target, rules, scrape_interval_s)
    log = directory / "prometheus.log"
    address = f"127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                found,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address={address}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = PrometheusServer(f"http://{address}", process, log)
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PrometheusUnavailable(f"prometheus exited ({process.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise PrometheusUnavailable(f"prometheus did not become ready within {ready_timeout_s:g} s; see {log}")
