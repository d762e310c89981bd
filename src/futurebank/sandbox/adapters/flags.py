"""Rollout flags through OpenFeature: the flagd provider evaluates a flagd flag-definition file in
process (file mode: no flagd server, no network), so a bank moves to a flagd server or another
OpenFeature provider by changing the provider built here, not the code that asks (ADR-0019).

The flags, the operations each gates and the bucketing come from ``docs/delivery/feature-flags.yaml``;
the flag definitions of each rollout stage are the generated ``docs/delivery/flagd/<stage>.flagd.json``.
The running sandbox watches one *state file* (a copy of the current stage's definitions);
``python -m futurebank.sandbox flags promote RS-0003`` replaces it, and the provider's file watcher
reloads it without a restart.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext

REPO_ROOT = Path(__file__).resolve().parents[4]
FLAGS_DATA = REPO_ROOT / "docs" / "delivery" / "feature-flags.yaml"
STAGES_DIR = REPO_ROOT / "docs" / "delivery" / "flagd"
DEFAULT_STAGE = "RS-0006"  # 100 %: every customer inside
_domains = itertools.count(1)


@dataclass(frozen=True)
class FlagsConfig:
    """What the HTTP edge needs from the flags data: which flag gates which operation, and how a
    customer's bucket and staff attribute go into the evaluation context."""

    gates: dict[str, str]  # operationId -> flag key
    salt: str
    buckets: int
    bucket_attribute: str
    staff_attribute: str


def load_config(path: Path = FLAGS_DATA) -> FlagsConfig:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    bucketing = data["bucketing"]
    gates = {str(op): str(flag["key"]) for flag in data["flags"] for op in flag["operations"]}
    return FlagsConfig(
        gates,
        str(bucketing["salt"]),
        int(bucketing["buckets"]),
        str(bucketing["context_attribute"]),
        str(data["staff_attribute"]),
    )


def salted_bucket(salt: str, unit: str, buckets: int) -> int:
    """A stable bucket 0 .. buckets-1: SHA-256 of "<salt>:<unit>", first 8 bytes big-endian, modulo
    ``buckets`` (the bias of a 64-bit value modulo 10,000 is below 10⁻¹⁵)."""
    digest = hashlib.sha256(f"{salt}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def stage_file(stage: str, stages_dir: Path = STAGES_DIR) -> Path:
    """The generated flag definitions of a rollout stage; ValueError for an unknown stage."""
    path = stages_dir / f"{stage}.flagd.json"
    if not path.is_file():
        known = sorted(p.name.removesuffix(".flagd.json") for p in stages_dir.glob("*.flagd.json"))
        raise ValueError(f"unknown rollout stage {stage!r}; the stages are {', '.join(known)}")
    return path


def install_stage(stage: str, state_file: Path, stages_dir: Path = STAGES_DIR) -> Path:
    """Make ``stage`` current: replace the state file atomically (a watcher never reads half a file)."""
    text = stage_file(stage, stages_dir).read_text(encoding="utf-8")
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_name(f".{state_file.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, state_file)
    return state_file


class RolloutFlags:
    """Per-request evaluation of an operation's flag for the acting customer."""

    def __init__(
        self,
        config: FlagsConfig,
        state_file: Path,
        staff: frozenset[str] = frozenset(),
        poll_ms: int = 500,
    ) -> None:
        self.config = config
        self.staff = staff
        self.state_file = state_file
        # File mode: the provider's watcher re-reads the file every poll_ms when its mtime changed.
        self.provider = FlagdProvider(
            resolver_type=ResolverType.FILE,
            offline_flag_source_path=str(state_file),
            deadline_ms=poll_ms,
        )
        self.domain = f"futurebank-sandbox-{next(_domains)}"
        api.set_provider_and_wait(self.provider, self.domain)
        self.client = api.get_client(self.domain)

    def context(self, customer_id: str | None) -> EvaluationContext:
        """The evaluation context of one request. A call for no customer (a client app's own token)
        gets the last bucket: such a call is inside only when the stage includes every customer."""
        if customer_id is None:
            bucket, staff, key = self.config.buckets - 1, False, ""
        else:
            bucket = salted_bucket(self.config.salt, customer_id, self.config.buckets)
            staff, key = customer_id in self.staff, customer_id
        return EvaluationContext(
            targeting_key=key,
            attributes={self.config.bucket_attribute: bucket, self.config.staff_attribute: staff},
        )

    def enabled(self, flag: str, customer_id: str | None) -> bool:
        """Off when the definitions cannot be read (the provider answers the default): a broken state
        file closes the new features rather than opening them to everybody."""
        return self.client.get_boolean_value(flag, False, self.context(customer_id))

    def stage(self) -> str | None:
        """The stage of the definitions the provider holds now (the flag set's metadata)."""
        flag = next(iter(self.config.gates.values()), None)
        if flag is None:
            return None
        details = self.client.get_boolean_details(flag, False, EvaluationContext())
        value = details.flag_metadata.get("stage")
        return value if isinstance(value, str) else None

    def gate(self, operation: str) -> str | None:
        return self.config.gates.get(operation)

    def close(self) -> None:
        self.provider.shutdown()
