"""The sandbox's stand-in for the KPI topic: one JSON object per line, appended and flushed to disk
before the relay marks the events published (the bank's relay produces to Kafka instead)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path


class JsonLinesSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def __call__(self, payloads: Sequence[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write("".join(p + "\n" for p in payloads))
            out.flush()
            os.fsync(out.fileno())
