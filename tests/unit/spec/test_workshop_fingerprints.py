"""Fingerprints and suspects on plain needs: what an item depends on, and what makes it suspect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from futurebank.spec.workshop.fingerprints import (
    StaleState,
    State,
    compute_state,
    dump_stored,
    load_stored,
    review,
    sources_digest,
    upstream_of,
)

NEEDS: dict[str, dict[str, Any]] = {
    "MSG-0001": {"type": "msg", "content": "We start with AI banking.", "disposition": "decision"},
    "SCOPE-0001": {"type": "scope", "decision": "mvp", "traces": ["MSG-0001"], "traces_back": ["US-0001"]},
    "US-0001": {"type": "story", "scoped_by": ["SCOPE-0001"], "traces": ["MSG-0001"], "lineno": 4},
    "ENT-Account": {"type": "entity", "title": "Account"},
    "OP-getAccount": {"type": "op", "exposes": ["ENT-Account"], "serves": ["US-0001"]},
    "Q-0001": {"type": "question", "blocks": ["US-0001"], "answer": ""},
}


def stamped(docs: Path, needs: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    state = compute_state(needs, {}, docs)
    review(docs, state, None)
    return load_stored(docs)[0]


def test_upstream_links_and_blocking_questions() -> None:
    upstream = upstream_of(NEEDS)
    assert upstream["US-0001"] == ["MSG-0001", "Q-0001", "SCOPE-0001"]
    assert upstream["OP-getAccount"] == ["ENT-Account", "US-0001"]
    assert "MSG-0001" not in upstream  # a message depends on nothing


def test_unreviewed_items_are_suspect_and_review_clears_them(tmp_path: Path) -> None:
    assert set(compute_state(NEEDS, {}, tmp_path).suspects) == {"SCOPE-0001", "US-0001", "OP-getAccount"}
    stored = stamped(tmp_path, NEEDS)
    assert compute_state(NEEDS, stored, tmp_path).suspects == {}


def test_a_changed_annotation_answer_or_entity_schema_makes_downstream_items_suspect(tmp_path: Path) -> None:
    schema = tmp_path / "entities" / "Account.schema.yaml"
    schema.parent.mkdir()
    schema.write_text("type: object\n", encoding="utf-8")
    stored = stamped(tmp_path, NEEDS)

    translated = {**NEEDS, "MSG-0001": {**NEEDS["MSG-0001"], "content": "We begin with AI banking."}}
    assert compute_state(translated, stored, tmp_path).suspects == {
        "SCOPE-0001": ["MSG-0001"],
        "US-0001": ["MSG-0001"],
    }
    answered = {**NEEDS, "Q-0001": {**NEEDS["Q-0001"], "answer": "yes"}}
    assert compute_state(answered, stored, tmp_path).suspects == {"US-0001": ["Q-0001"]}
    schema.write_text("type: object\nrequired: [id]\n", encoding="utf-8")
    assert compute_state(NEEDS, stored, tmp_path).suspects == {"OP-getAccount": ["ENT-Account"]}


def test_derived_fields_and_the_suspect_marker_do_not_change_a_fingerprint(tmp_path: Path) -> None:
    stored = stamped(tmp_path, NEEDS)
    moved = {
        **NEEDS,
        "SCOPE-0001": {**NEEDS["SCOPE-0001"], "lineno": 99, "traces_back": [], "suspect": "MSG-0001 changed"},
    }
    assert compute_state(moved, stored, tmp_path).suspects == {}


def test_review_of_one_item_keeps_the_others_and_the_file_round_trips(tmp_path: Path) -> None:
    stored = stamped(tmp_path, NEEDS)
    changed = {**NEEDS, "SCOPE-0001": {**NEEDS["SCOPE-0001"], "decision": "later"}}
    state: State = compute_state(changed, stored, tmp_path)
    assert state.suspects == {"US-0001": ["SCOPE-0001"]}
    review(tmp_path, state, ["US-0001"])
    after, findings = load_stored(tmp_path)
    assert findings == []
    assert after["OP-getAccount"] == stored["OP-getAccount"]
    assert compute_state(changed, after, tmp_path).suspects == {}
    assert dump_stored(after) == (tmp_path / "workshop" / "fingerprints.yaml").read_text(encoding="utf-8")


def test_a_review_counts_at_once_and_a_changed_docs_tree_refuses_the_old_state(tmp_path: Path) -> None:
    docs, site = tmp_path / "docs", tmp_path / "site"
    page = docs / "index.md"
    page.parent.mkdir()
    page.write_text("# Spec\n", encoding="utf-8")
    state_file = site / "state.json"
    state_file.parent.mkdir()
    state_file.write_text(compute_state(NEEDS, {}, docs).to_json(), encoding="utf-8")

    state = State.read(state_file, docs)
    assert set(state.current_suspects(docs)) == {"SCOPE-0001", "US-0001", "OP-getAccount"}
    review(docs, state, ["US-0001"])  # writes docs/workshop/fingerprints.yaml: not a stale build
    assert set(State.read(state_file, docs).current_suspects(docs)) == {"SCOPE-0001", "OP-getAccount"}

    page.write_text("# Spec, edited after the build\n", encoding="utf-8")
    with pytest.raises(ValueError, match="changed after the build"):
        State.read(state_file, docs)


def test_the_sources_digest_ignores_hidden_files_reviews_and_baselines(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "workshop" / "baselines").mkdir(parents=True)
    (docs / "index.md").write_text("# Spec\n", encoding="utf-8")
    before = sources_digest(docs)
    (docs / ".index.md.swp").write_bytes(b"editor")
    (docs / "workshop" / "fingerprints.yaml").write_text("items: {}\n", encoding="utf-8")
    (docs / "workshop" / "baselines" / "board.json").write_text("{}", encoding="utf-8")
    assert sources_digest(docs) == before
    (docs / "index.md").write_text("# Spec, edited\n", encoding="utf-8")
    assert sources_digest(docs) != before


def test_a_state_of_older_tooling_is_stale_and_a_broken_one_is_an_error(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text('{"fingerprints": {}, "upstream": {}, "suspects": {}}', encoding="utf-8")
    with pytest.raises(StaleState):
        State.read(state_file, tmp_path)
    state_file.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError) as raised:
        State.read(state_file, tmp_path)
    assert not isinstance(raised.value, StaleState)  # `make check` fails on it rather than skipping
