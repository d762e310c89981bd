"""Tamper-evident audit log: keyed hash chains plus seals kept outside the database.

Each entry carries an HMAC-SHA-256 over the previous entry's MAC and the entry's canonical JSON,
under a key the database never sees. Whoever can write to the database but lacks the key can
neither change an entry nor rebuild the chain after it (``chain_hash``, the public unkeyed function,
gives values that do not verify). Deleting the newest entries and moving the chain heads back is
caught by the seals: signed snapshots of the chain heads written to a file outside the database.

There are ``AUDIT_CHAINS`` chains, so that concurrent transactions append without queueing on one
row: a transaction takes whichever chain is free. Order is verifiable twice over: within a chain,
``chain_seq`` runs 1, 2, 3… without a gap and each MAC covers the previous one; across chains, the
global ``seq`` (MACed inside every entry) grows along every chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
AUDIT_CHAINS = 16


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same data always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class AuditRecord:
    """What happened, by whom, to what. The numbers and the MAC are assigned when it is appended."""

    at: str
    action: str
    client_id: str
    customer_id: str
    resource_type: str
    resource_id: str
    correlation_id: str
    outcome: str
    details: dict[str, Any]

    def body(self, seq: int, chain: int = 0, chain_seq: int | None = None) -> dict[str, Any]:
        return {
            "seq": seq,
            "chain": chain,
            "chain_seq": seq if chain_seq is None else chain_seq,
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
    """The unkeyed link (SHA-256), as the sandbox used before keyed MACs: anyone can compute it."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


def chain_mac(key: bytes, prev_mac: str, body: dict[str, Any]) -> str:
    """The keyed link: HMAC-SHA-256 (RFC 2104) over the previous MAC and the entry."""
    return hmac.new(key, prev_mac.encode("ascii") + canonical_json(body), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StoredEntry:
    seq: int
    chain: int
    chain_seq: int
    body: dict[str, Any]
    prev_mac: str
    mac: str


Heads = Mapping[int, tuple[int, str]]  # chain -> (chain_seq of its last entry, that entry's MAC)


@dataclass(frozen=True)
class Seal:
    """A snapshot of chain heads, MACed with the audit key and kept outside the database."""

    at: str
    heads: dict[int, tuple[int, str]]
    mac: str

    @staticmethod
    def payload(at: str, heads: Heads) -> dict[str, Any]:
        return {"at": at, "heads": {str(c): [s, m] for c, (s, m) in sorted(heads.items())}}

    @classmethod
    def make(cls, key: bytes, at: str, heads: Heads) -> Seal:
        mac = hmac.new(key, canonical_json(cls.payload(at, heads)), hashlib.sha256).hexdigest()
        return cls(at, dict(heads), mac)

    def valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, Seal.make(key, self.at, self.heads).mac)

    def to_json(self) -> dict[str, Any]:
        return {**Seal.payload(self.at, self.heads), "mac": self.mac}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Seal:
        heads = {int(c): (int(v[0]), str(v[1])) for c, v in dict(data["heads"]).items()}
        return cls(str(data["at"]), heads, str(data["mac"]))


def verify_log(
    key: bytes, entries: Iterable[StoredEntry], heads: Heads, seals: Iterable[Seal] = ()
) -> list[str]:
    """Return every sign of tampering (empty when intact). ``entries`` come in global ``seq`` order.

    * an entry changed, or written or re-chained without the key: its MAC does not match;
    * an entry deleted inside a chain: a gap in ``chain_seq`` and a broken previous-MAC link;
    * entries reordered: ``chain_seq`` does not grow with ``seq``;
    * the newest entries of a chain deleted: the chain ends before its head row, or before what a
      seal recorded (the head rows sit in the database and may have been moved back too);
    * a seal edited or made up: its MAC does not match.
    """
    problems: list[str] = []
    last: dict[int, tuple[int, str]] = {}
    macs: dict[tuple[int, int], str] = {}
    for entry in entries:
        expected_seq, prev = last.get(entry.chain, (0, GENESIS))
        expected_seq += 1
        where = f"entry {entry.seq} (chain {entry.chain} #{entry.chain_seq})"
        if (entry.body.get("seq"), entry.body.get("chain"), entry.body.get("chain_seq")) != (
            entry.seq,
            entry.chain,
            entry.chain_seq,
        ):
            problems.append(f"{where}: its numbers were changed")
        if entry.chain_seq < expected_seq:
            problems.append(f"{where}: out of order (chain {entry.chain} was already at #{expected_seq - 1})")
        elif entry.chain_seq > expected_seq:
            problems.append(
                f"chain {entry.chain}: entries #{expected_seq}..#{entry.chain_seq - 1} missing "
                f"(next present is entry {entry.seq})"
            )
        if entry.prev_mac != prev:
            problems.append(f"{where}: previous-MAC link broken")
        if not hmac.compare_digest(chain_mac(key, entry.prev_mac, entry.body), entry.mac):
            problems.append(f"{where}: content does not match its MAC (changed, or written without the key)")
        last[entry.chain] = (max(entry.chain_seq, expected_seq - 1), entry.mac)
        macs[(entry.chain, entry.chain_seq)] = entry.mac
    for chain in sorted(set(heads) | set(last)):
        end_seq, end_mac = last.get(chain, (0, GENESIS))
        head_seq, head_mac = heads.get(chain, (0, GENESIS))
        if (end_seq, end_mac) != (head_seq, head_mac):
            problems.append(
                f"chain {chain} ends at #{end_seq} but its head records #{head_seq}: entries deleted"
            )
    for n, seal in enumerate(seals, start=1):
        if not seal.valid(key):
            problems.append(f"seal {n} ({seal.at}): its MAC does not match (forged or edited)")
            continue
        for chain, (seq, mac) in sorted(seal.heads.items()):
            if seq == 0:
                continue
            found = macs.get((chain, seq))
            if found is None:
                end = last.get(chain, (0, GENESIS))[0]
                problems.append(
                    f"chain {chain} ends at #{end} but seal {n} ({seal.at}) recorded #{seq}: "
                    "entries deleted (truncated)"
                )
            elif not hmac.compare_digest(found, mac):
                problems.append(f"chain {chain} #{seq} differs from seal {n} ({seal.at}): chain rewritten")
    return problems
