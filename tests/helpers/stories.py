"""The story catalogue the contract tests check against: (id, priority, release)."""

from __future__ import annotations

STORY_CATALOGUE: list[tuple[str, str, str]] = [
    ("US-0001", "must", "mvp"),
    ("US-0002", "must", "mvp"),
    ("US-0003", "should", "mvp"),
    ("US-0004", "must", "mvp"),
    ("US-0005", "must", "mvp"),
    ("US-0006", "must", "mvp"),
    ("US-0007", "must", "mvp"),
    ("US-0008", "should", "mvp"),
    ("US-0009", "must", "mvp"),
    ("US-0010", "must", "mvp"),
    ("US-0011", "must", "mvp"),
    ("US-0012", "could", "later"),
    ("US-0013", "must", "mvp"),
    ("US-0014", "should", "mvp"),
    ("US-0015", "must", "mvp"),
    ("US-0016", "must", "mvp"),
    ("US-0017", "must", "mvp"),
    ("US-0018", "should", "mvp"),
    ("US-0019", "should", "mvp"),
    ("US-0020", "could", "later"),
    ("US-0021", "must", "mvp"),
    ("US-0022", "should", "mvp"),
    ("US-0023", "must", "mvp"),
    ("US-0024", "should", "mvp"),
    ("US-0025", "must", "mvp"),
    ("US-0026", "must", "mvp"),
]
