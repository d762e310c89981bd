"""Faults injected by configuration (``SANDBOX_FAULTS``), so a test can drive a rollout stage into
rollback end to end: added latency on chosen operations, and a share of their requests answered
``503 SERVICE_UNAVAILABLE`` (change C-21) as when a system they depend on does not answer."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Mapping

from futurebank.sandbox.config import Fault
from futurebank.sandbox.entrypoints.problems import ProblemError


class FaultInjector:
    def __init__(self, faults: Mapping[str, Fault], operations: Iterable[str], seed: int = 0) -> None:
        known = set(operations)
        unknown = sorted(set(faults) - known - {"*"})
        if unknown:
            raise ValueError(f"SANDBOX_FAULTS names operations the contract lacks: {', '.join(unknown)}")
        self.faults = dict(faults)
        # Seeded, so a test run injects the same sequence of failures every time.
        self._random = random.Random(seed)

    def __bool__(self) -> bool:
        return bool(self.faults)

    async def apply(self, operation: str) -> None:
        fault = self.faults.get(operation) or self.faults.get("*")
        if fault is None:
            return
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.error_rate and self._random.random() < fault.error_rate:
            raise ProblemError(
                "SERVICE_UNAVAILABLE",
                "A system this operation depends on did not answer (a fault injected by SANDBOX_FAULTS). "
                "Nothing was changed; retry in a moment.",
                headers={"Retry-After": "1"},
            )
