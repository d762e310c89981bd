"""Hash-chained audit log: each entry's hash is SHA-256 over the previous hash and the entry's
canonical JSON, so changing or deleting any entry breaks every later link."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same data always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class AuditRecord:
    """What happened, by whom, to what. ``seq`` and the hashes are assigned when it is appended."""

    at: str
    action: str
    client_id: str
    customer_id: str
    resource_type: str
    resource_id: str
    correlation_id: str
    outcome: str
    details: dict[str, Any]

    def body(self, seq: int) -> dict[str, Any]:
        return {
            "seq": seq,
            "at": self.at,
            "action": self.action,
            "client_id": self.client_id,
            "customer_id": self.customer_id,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "correlation_id": self.correlation_id,
            "outcome": self.outcome,
            "details": self.details,
        }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class StoredEntry:
    seq: int
    body: dict[str, Any]
    prev_hash: str
    hash: str


def verify_chain(entries: Iterable[StoredEntry], head_seq: int, head_hash: str) -> list[str]:
    """Return every break in the chain (empty when intact).

    Detects an edited entry (its hash no longer matches its content), a deleted entry in the
    middle (a gap in ``seq`` and a ``prev_hash`` that points at nothing) and a deleted tail (the
    head record, updated in the same transaction as each append, is ahead of the last entry).
    """
    problems: list[str] = []
    expected_seq = 1
    prev = GENESIS
    for entry in entries:
        if entry.seq != expected_seq:
            problems.append(f"entry {expected_seq}..{entry.seq - 1} missing (next present is {entry.seq})")
        if entry.body.get("seq") != entry.seq:
            problems.append(f"entry {entry.seq}: sequence number inside the entry was changed")
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: previous-hash link broken")
        if chain_hash(entry.prev_hash, entry.body) != entry.hash:
            problems.append(f"entry {entry.seq}: content does not match its hash (changed)")
        prev = entry.hash
        expected_seq = entry.seq + 1
    last_seq = expected_seq - 1
    if last_seq != head_seq or prev != head_hash:
        problems.append(
            f"chain ends at entry {last_seq} but the head records entry {head_seq}: entries deleted"
        )
    return problems
