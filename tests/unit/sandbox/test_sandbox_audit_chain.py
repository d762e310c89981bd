"""The keyed audit chains (pure): changes, deletions, re-chaining without the key, truncation
behind a seal and forged seals are all detected."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from futurebank.sandbox.domain.audit import (
    GENESIS,
    AuditRecord,
    Seal,
    StoredEntry,
    canonical_json,
    chain_hash,
    chain_mac,
    verify_log,
)

KEY = b"k" * 32


def record(n: int) -> AuditRecord:
    return AuditRecord(
        "2026-11-24T00:00:00+00:00",
        "getAccount",
        "demo-app",
        "anna",
        "account",
        str(n),
        "cid",
        "ok",
        {"n": n},
    )


def build(n: int, chains: int = 1, key: bytes = KEY) -> list[StoredEntry]:
    """``n`` entries dealt round-robin over ``chains`` chains, in global order."""
    entries: list[StoredEntry] = []
    last: dict[int, tuple[int, str]] = {}
    for seq in range(1, n + 1):
        chain = (seq - 1) % chains
        chain_seq, prev = last.get(chain, (0, GENESIS))
        body = record(seq).body(seq, chain, chain_seq + 1)
        mac = chain_mac(key, prev, body)
        entries.append(StoredEntry(seq, chain, chain_seq + 1, body, prev, mac))
        last[chain] = (chain_seq + 1, mac)
    return entries


def heads_of(entries: list[StoredEntry]) -> dict[int, tuple[int, str]]:
    heads: dict[int, tuple[int, str]] = {}
    for e in entries:
        heads[e.chain] = (e.chain_seq, e.mac)
    return heads


def test_canonical_json_is_order_independent() -> None:
    assert (
        canonical_json({"b": 1, "a": "й"}) == canonical_json({"a": "й", "b": 1}) == '{"a":"й","b":1}'.encode()
    )


def test_intact_log() -> None:
    entries = build(9, chains=3)
    assert verify_log(KEY, entries, heads_of(entries), [Seal.make(KEY, "t", heads_of(entries))]) == []
    assert verify_log(KEY, [], {0: (0, GENESIS)}) == []


def test_rechaining_with_the_public_function_is_detected() -> None:
    entries = build(4)
    forged: list[StoredEntry] = []
    prev = GENESIS
    for e in entries:
        body = dict(e.body, customer_id="mallory") if e.seq == 2 else e.body
        digest = chain_hash(prev, body)  # all an attacker without the key can compute
        forged.append(StoredEntry(e.seq, e.chain, e.chain_seq, body, prev, digest))
        prev = digest
    problems = verify_log(KEY, forged, heads_of(forged))
    assert sum("does not match its MAC" in p for p in problems) == 4, problems


def test_the_wrong_key_verifies_nothing() -> None:
    entries = build(3, key=b"x" * 32)
    assert len(verify_log(KEY, entries, heads_of(entries))) == 3


def test_truncation_behind_a_seal_is_detected_even_with_the_heads_moved_back() -> None:
    entries = build(6, chains=2)
    seal = Seal.make(KEY, "t", heads_of(entries))
    cut = entries[:-2]  # the newest entry of each chain deleted, and the head rows moved back
    assert verify_log(KEY, cut, heads_of(cut)) == [], "without a seal a clean cut is invisible"
    problems = verify_log(KEY, cut, heads_of(cut), [seal])
    assert sum("truncated" in p for p in problems) == 2, problems


def test_a_forged_seal_is_detected() -> None:
    entries = build(2)
    seal = Seal.make(KEY, "t", heads_of(entries))
    forged = Seal(seal.at, {0: (1, entries[0].mac)}, seal.mac)
    assert any("forged" in p for p in verify_log(KEY, entries, heads_of(entries), [forged]))
    assert Seal.from_json(seal.to_json()) == seal


def test_reordering_across_the_global_sequence_is_detected() -> None:
    entries = build(3)
    swapped = [entries[1], entries[0], entries[2]]
    assert any("out of order" in p for p in verify_log(KEY, swapped, heads_of(entries)))


@given(st.integers(min_value=2, max_value=12), st.integers(min_value=1, max_value=3), st.data())
def test_any_change_or_deletion_is_detected(n: int, chains: int, data: st.DataObject) -> None:
    entries = build(n, chains)
    heads = heads_of(entries)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    changed = list(entries)
    e = changed[i]
    changed[i] = StoredEntry(
        e.seq, e.chain, e.chain_seq, dict(e.body, customer_id="mallory"), e.prev_mac, e.mac
    )
    assert verify_log(KEY, changed, heads)
    deleted = entries[:i] + entries[i + 1 :]
    assert verify_log(KEY, deleted, heads)
