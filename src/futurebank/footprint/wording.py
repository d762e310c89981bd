"""Wording rules for customer-facing footprint text (US-0021, US-0022), in English and Russian.

1. An estimate, never presented as the customer's measured emissions ("your emissions", "ваши выбросы").
2. A figure in kilograms is always shown with its low–high range in the same line or sentence.
3. A comparison with an average only where that average cites a source (``{need}`SRC-nnnn```).
4. No offsets, neutrality or net-zero claims (a sentence may name them to rule them out), and no false
   precision ("exact", "точный") unless negated ("not an exact figure").

``wording_problems`` returns one line per breach, so a test can show what it found. Standard library only:
the unit tests run it over every response template and the page sources, an integration test over the
built site's pages.
"""

from __future__ import annotations

import re

_MEASURED = re.compile(
    r"\byour\s+(?:own\s+)?(?:carbon\s+|co2e?\s+|greenhouse[- ]gas\s+)?emissions\b"
    r"|\byour\s+(?:carbon\s+)?footprint\s+(?:is|was|equals)\b"
    r"|\byou\s+(?:emitted|emit|produced)\b"
    r"|\bваш[иа]?\s+(?:собственн\w+\s+)?выброс\w*"
    r"|\bвы\s+(?:выбросили|произвели)\b",
    re.IGNORECASE,
)
_OFFSETS = re.compile(
    r"\boffset(?:s|ting)?\b|\bcompensat\w*|\bкомпенсац\w*|\bоффсет\w*|углеродн\w+\s+единиц\w*",
    re.IGNORECASE,
)
_NEUTRAL = re.compile(
    r"\b(?:carbon|climate)[- ]neutral\w*|\bnet[- ]zero\b"
    r"|углеродн\w*[- ]нейтральн\w*|климатически\s+нейтральн\w*",
    re.IGNORECASE,
)
_PRECISE = re.compile(r"\b(?:not\s+(?:an?\s+)?|не\s+)?(exact(?:ly)?|precise(?:ly)?|точн\w*)", re.IGNORECASE)
# A figure in kilograms: "20.122 kg", "20.122) kg", "20,1 кг". A range: "8.866 – 46.218", "8,9 до 46,2".
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\)?\s*(?:kg|кг)\b", re.IGNORECASE)
_RANGE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:–|—|\bto\b|\bдо\b)\s*\d+(?:[.,]\d+)?")
_COMPARISON = re.compile(
    r"\b(?:than|compared\s+(?:with|to)|versus|vs\.?)\b[^.]*\baverage\b|\baverage\b[^.]*\bthan\b"
    r"|\bчем\b[^.]*\bсредн\w*|\bсредн\w*[^.]*\bчем\b|по\s+сравнению\s+со?\s+средн\w*",
    re.IGNORECASE,
)
_CITATION = re.compile(r"\{need\}`SRC-\d{4}`|\bSRC-\d{4}\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")
# A sentence may name a thing after ruling it out ("no offsets are sold"), not before ("offset it, no fee").
_NEGATION = re.compile(r"\b(?:no|not|nothing|never|without|нет|не|ни|без)\b", re.IGNORECASE)


def wording_problems(text: str) -> list[str]:
    """Every breach of the wording rules in ``text`` (empty when it follows them)."""
    problems = [f"presented as measured emissions: {m.group(0)!r}" for m in _MEASURED.finditer(text)]
    problems += [
        f"false precision: {m.group(0)!r}"
        for m in _PRECISE.finditer(text)
        if not m.group(0).lower().startswith(("not", "не"))
    ]
    for sentence in _SENTENCE.split(text):
        for rule, why in ((_OFFSETS, "offsets or compensation"), (_NEUTRAL, "a neutrality claim")):
            problems += [
                f"{why}: {m.group(0)!r}"
                for m in rule.finditer(sentence)
                if not _NEGATION.search(sentence, 0, m.start())
            ]
        if _FIGURE.search(sentence) and not _RANGE.search(sentence):
            problems.append(f"a figure without its range: {sentence.strip()[:100]!r}")
        if _COMPARISON.search(sentence) and not _CITATION.search(sentence):
            problems.append(f"comparison without a cited average: {sentence.strip()[:100]!r}")
    return problems
