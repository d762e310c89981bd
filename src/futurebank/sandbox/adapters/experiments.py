"""A/B assignment and exposure events (docs/delivery/ab-testing.md, ADR-0019).

Assignment is a pure function of the experiment's salt and the customer id (a salted SHA-256 bucket,
the same function as the rollout bucket with a different salt), so it is sticky, needs no storage and is
independent of the rollout cohort. An exposure is one JSON log line, logger
``futurebank.sandbox.experiments``, message ``experiment_exposure``, with the experiment, the variant and
the customer id; ``futurebank ab analyse`` reads these lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from futurebank.sandbox.adapters.flags import REPO_ROOT, salted_bucket

EXPERIMENTS_DATA = REPO_ROOT / "docs" / "delivery" / "experiments.yaml"
BUCKETS = 10_000
exposure_log = logging.getLogger("futurebank.sandbox.experiments")


@dataclass(frozen=True)
class Experiment:
    key: str
    salt: str
    variants: tuple[tuple[str, int], ...]  # name, weight (in order)
    requires_flag: str | None
    exposed_by: frozenset[str]

    def assign(self, customer_id: str) -> str:
        total = sum(weight for _, weight in self.variants)
        point = salted_bucket(self.salt, customer_id, BUCKETS) * total / BUCKETS
        edge = 0
        for name, weight in self.variants:
            edge += weight
            if point < edge:
                return name
        return self.variants[-1][0]  # pragma: no cover - point < total always


def load_experiments(path: Path = EXPERIMENTS_DATA) -> tuple[Experiment, ...]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        Experiment(
            str(raw["key"]),
            str(raw["salt"]),
            tuple((str(k), int(v)) for k, v in raw["variants"].items()),
            raw.get("requires_flag"),
            frozenset(str(op) for op in raw.get("exposed_by", ())),
        )
        for raw in data.get("experiments") or []
    )


def log_exposure(experiment: Experiment, variant: str, customer_id: str, operation: str) -> None:
    exposure_log.info(
        "experiment_exposure",
        extra={
            "experiment": experiment.key,
            "variant": variant,
            "customer_id": customer_id,
            "operation": operation,
        },
    )
