"""The audit hash chain (pure): changes and deletions anywhere are detected."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from futurebank.sandbox.domain.audit import (
    GENESIS,
    AuditRecord,
    StoredEntry,
    canonical_json,
    chain_hash,
    verify_chain,
)


def build(n: int) -> list[StoredEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        record = AuditRecord(
            "2026-11-24T00:00:00+00:00",
            "getAccount",
            "demo-app",
            "anna",
            "account",
            str(seq),
            "cid",
            "ok",
            {"n": seq},
        )
        body = record.body(seq)
        digest = chain_hash(prev, body)
        entries.append(StoredEntry(seq, body, prev, digest))
        prev = digest
    return entries


def test_canonical_json_is_order_independent() -> None:
    assert (
        canonical_json({"b": 1, "a": "й"}) == canonical_json({"a": "й", "b": 1}) == '{"a":"й","b":1}'.encode()
    )


def test_intact_chain() -> None:
    entries = build(5)
    assert verify_chain(entries, 5, entries[-1].hash) == []
    assert verify_chain([], 0, GENESIS) == []


@given(st.integers(min_value=2, max_value=12), st.data())
def test_any_change_or_deletion_is_detected(n: int, data: st.DataObject) -> None:
    entries = build(n)
    head = (n, entries[-1].hash)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    changed = list(entries)
    body = dict(changed[i].body, customer_id="mallory")
    changed[i] = StoredEntry(changed[i].seq, body, changed[i].prev_hash, changed[i].hash)
    assert verify_chain(changed, *head)
    deleted = entries[:i] + entries[i + 1 :]
    assert verify_chain(deleted, *head)
