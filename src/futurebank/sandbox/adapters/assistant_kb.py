"""The knowledge base (docs/assistant/knowledge_base.yaml) retrieved by similarity with a threshold.

Character n-grams in Latin script compare the message with every approved question of the locale's
language; below the threshold there is no answer, and the assistant offers a person instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sklearn.feature_extraction.text import TfidfVectorizer

from futurebank.sandbox.adapters.assistant_nlu import ASSISTANT_DATA, TfidfBlock
from futurebank.sandbox.domain.assistant import latin

# Cosine similarity below which a question has no approved answer (tuned on evaluation.yaml's faq rows).
KB_THRESHOLD = 0.35


@dataclass(frozen=True)
class KbEntry:
    entry_id: str
    source: str
    escalate: bool
    questions: dict[str, tuple[str, ...]]
    answers: dict[str, str]


@dataclass(frozen=True)
class KbHit:
    entry: KbEntry
    score: float


def language(locale: str) -> str:
    return locale.split("-")[0].lower()


class KnowledgeBase:
    def __init__(self, entries: list[KbEntry], threshold: float = KB_THRESHOLD) -> None:
        self.entries = entries
        self.threshold = threshold
        self._index: dict[str, tuple[TfidfBlock, Any, list[KbEntry]]] = {}
        for lang in ("ru", "en"):
            owners = [e for e in entries for _ in e.questions.get(lang, ())]
            texts = [latin(q) for e in entries for q in e.questions.get(lang, ())]
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
            matrix = vectorizer.fit_transform(texts).toarray()  # a few hundred rows: dense is fastest
            self._index[lang] = (TfidfBlock.of(vectorizer, 0), matrix, owners)

    def lookup(self, text: str, locale: str) -> KbHit | None:
        block, matrix, owners = self._index[language(locale)]
        idx, values = block.vector(latin(text))
        if not idx:
            return None
        scores = matrix[:, idx] @ values
        best = int(scores.argmax())
        score = float(scores[best])
        return KbHit(owners[best], score) if score >= self.threshold else None

    @classmethod
    def load(cls, path: Path) -> KnowledgeBase:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = [
            KbEntry(
                entry_id=str(raw["id"]),
                source=str(raw["source"]),
                escalate=bool(raw.get("escalate", False)),
                questions={lang: tuple(map(str, qs)) for lang, qs in raw["questions"].items()},
                answers={lang: str(a) for lang, a in raw["answer"].items()},
            )
            for raw in data["entries"]
        ]
        return cls(entries)


@lru_cache(maxsize=1)
def default_knowledge_base() -> KnowledgeBase:
    return KnowledgeBase.load(ASSISTANT_DATA / "knowledge_base.yaml")
