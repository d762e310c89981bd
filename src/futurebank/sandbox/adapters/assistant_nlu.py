"""The assistant's first understanding: a scikit-learn intent classifier and rule-based slots.

Features: character n-grams of the message in Latin script (so "сколько", "skolko" and typos land close
together) plus word n-grams of Russian lemmas (pymorphy3). A linear SVM with sigmoid calibration gives the
probabilities behind the confidence threshold. Training data is docs/assistant/training.yaml; training is
deterministic (fixed seed, fixed order) and takes about a second. Periods: explicit dates ("с 5 мая",
"since 5 May", "с 1 по 10 ноября", "3 days ago") are parsed by dateparser relative to the day given, never
the machine's clock; calendar words ("в прошлом месяце", "last week", "за март") by the rules here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import dateparser
import numpy as np
import pymorphy3
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from futurebank.sandbox.domain.assistant import (
    Intent,
    Period,
    Signal,
    Slots,
    Understanding,
    detect_signals,
    latin,
    normalise,
)

ASSISTANT_DATA = Path(__file__).resolve().parents[4] / "docs" / "assistant"
MODEL_VERSION = "futurebank-assistant-nlu sklearn-tfidf-linearsvc-sigmoid 2026.12"

_TOKEN = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-я]")


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    if not _CYRILLIC.search(word):
        return word
    return str(_morph().parse(word)[0].normal_form)


def lemmas(text: str) -> list[str]:
    return [lemma(t) for t in _TOKEN.findall(normalise(text))]


def _latin_texts(texts: Iterable[str]) -> list[str]:
    return [latin(t) for t in texts]


def _lemma_texts(texts: Iterable[str]) -> list[str]:
    return [" ".join(lemmas(t)) for t in texts]


def load_utterances(path: Path) -> list[tuple[str, str, Intent]]:
    """(language, text, intent) rows of a training or evaluation file, in file order."""
    data: Mapping[str, Mapping[str, list[str]]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows: list[tuple[str, str, Intent]] = []
    for language, intents in data.items():
        for intent, texts in intents.items():
            rows.extend((language, text, Intent(intent)) for text in texts)
    return rows


def build_pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            (
                "chars",
                Pipeline(
                    [
                        ("latin", FunctionTransformer(_latin_texts)),
                        ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
                    ]
                ),
            ),
            (
                "lemmas",
                Pipeline(
                    [
                        ("lemma", FunctionTransformer(_lemma_texts)),
                        (
                            "tfidf",
                            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"\S+"),
                        ),
                    ]
                ),
            ),
        ]
    )
    # A linear SVM trains in a fraction of a second; sigmoid calibration on 3 folds (unshuffled, so the
    # result is the same every run) turns its margins into probabilities for the confidence threshold.
    classifier = CalibratedClassifierCV(
        LinearSVC(C=0.5, random_state=0), cv=3, method="sigmoid", ensemble=False
    )
    return Pipeline([("features", features), ("clf", classifier)])


# --- slots --------------------------------------------------------------------------------------

# Word starts (after normalise(), in either script) naming a spending category; taxi before transport.
CATEGORY_STEMS: dict[str, tuple[str, ...]] = {
    "taxi": ("такси", "таксу", "такс", "taksi", "taxi", "cab", "uber", "yandex go"),
    "groceries": ("продукт", "прдукт", "продутк", "супермаркет", "grocer", "grocr", "supermarket", "food"),
    "restaurants": (
        "ресторан",
        "рестаран",
        "ресторн",
        "рестик",
        "кафе",
        "кафешк",
        "столов",
        "restaurant",
        "restaraunt",
        "restuarant",
        "dining",
        "eating out",
        "cafe",
        "canteen",
    ),
    "transport": ("транспорт", "метро", "автобус", "бензин", "заправк", "transport", "metro", "bus", "fuel",
                  "petrol", "travel"),
    "entertainment": ("развлеч", "развлекух", "кино", "entertainment", "cinema", "movie", "fun "),
    "pharmacy": ("аптек", "лекарств", "pharmacy", "medicine"),
    "clothing": ("одежд", "шмотк", "clothes", "clothing"),
    "utilities": ("коммунал", "связь", "интернет", "мобильн", "utilit", "phone", "internet", "mobile"),
}  # fmt: skip
_FOOD_WORDS = frozenset({"еда", "еду", "еды", "еде", "едой"})

_SAVINGS = ("сберегат", "накопит", "вклад", "сбережен", "savings", "deposit", "pot")
_CURRENT = ("текущ", "current")

_MONTHS_RU = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
]
_MONTHS_EN = [m.lower() for m in calendar.month_name[1:]]
# Runs of digits with spaces or dashes inside ("2200 1234 5678 9012" is one run, not four).
_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")


def _starts(norm: str, stems: Iterable[str]) -> bool:
    padded = " " + norm
    return any((" " + s) in padded for s in stems)


def category_of(text: str) -> str | None:
    norm = normalise(text)
    for key, stems in CATEGORY_STEMS.items():
        if _starts(norm, stems):
            return key
    if set(_TOKEN.findall(norm)) & _FOOD_WORDS:
        return "groceries"
    return None


def account_kind_of(text: str) -> str | None:
    norm = normalise(text)
    if _starts(norm, _SAVINGS):
        return "savings"
    if _starts(norm, _CURRENT):
        return "current"
    return None


def card_last4_of(text: str) -> str | None:
    fours = [run for run in _DIGIT_RUN.findall(text) if len(run) == 4 and run.isdigit()]
    return fours[-1] if fours else None


def _month(today: date, month: int) -> Period:
    year = today.year if month <= today.month else today.year - 1
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(start, end)


# Explicit dates after a word that opens or bounds a period, parsed by dateparser: "с 5 мая", "since 5 May",
# "с 1 по 10 ноября", "from 3 March to 5 April", "после 10.11.2026", "3 дня назад". A date is a day number
# with an optional month word or number and year, or a month word with an optional year.
_DATE = r"(?:\d{1,2}(?:[./]\d{1,2}(?:[./]\d{2,4})?)?(?:\s+[a-zа-я]+)?(?:\s+\d{4})?|[a-zа-я]+(?:\s+\d{4})?)"
_RANGE = re.compile(
    rf"(?:^|\s)(?:с|со|from|between)\s+(?P<a>{_DATE})\s+(?:по|до|to|until|till|and)\s+(?P<b>{_DATE})(?=$|[\s,.!?])"
)
_SINCE = re.compile(
    rf"(?:^|\s)(?:начиная с|начиная со|с|со|since|after|после)\s+(?P<a>{_DATE})(?=$|[\s,.!?])"
)
_AGO = re.compile(r"(?:^|\s)(?P<a>\d{1,3}\s+[a-zа-я]+\s+(?:назад|ago))(?=$|[\s,.!?])")
_MONTH_WORDS_RU = (
    "январ",
    "феврал",
    "март",
    "апрел",
    "ма",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
)


def _explicit_day(phrase: str, today: date) -> date | None:
    """One date in RU or EN, relative to ``today`` (dates without a year lie in the past)."""
    parsed = dateparser.parse(
        phrase,
        languages=["ru", "en"],
        settings={
            "RELATIVE_BASE": datetime.combine(today, time(12)),
            "PREFER_DATES_FROM": "past",
            "PREFER_DAY_OF_MONTH": "first",
            "DATE_ORDER": "DMY",
        },
    )
    return parsed.date() if parsed is not None else None


def _is_month_only(phrase: str) -> bool:
    words = phrase.split()
    return not words[0][0].isdigit()


def explicit_period_of(text: str, today: date) -> Period | None:
    """A period given by explicit dates (dateparser), or None: a range "с 1 по 10 ноября", an open start
    "since 5 May" (up to today), or a day "3 days ago". A month alone ("since March") starts on its first
    day; a range ending in a month alone ends with that month."""
    norm = normalise(text)
    day = timedelta(days=1)
    for match in _RANGE.finditer(norm):
        a, b = match.group("a"), match.group("b")
        end = _explicit_day(b, today)
        if end is None:
            continue
        if a.isdigit():  # "с 1 по 10 ноября": the first bound borrows the second's month and year
            try:
                start: date | None = end.replace(day=int(a))
            except ValueError:
                return None
        else:
            start = _explicit_day(a, today)
        if start is None:
            continue
        if _is_month_only(b):
            end = (end.replace(day=28) + timedelta(days=4)).replace(day=1) - day
        if start > end and not a.isdigit() and start.year == end.year:
            start = start.replace(year=start.year - 1)  # "from December to February"
        if start <= end:
            return Period(start, end + day)
    for match in _AGO.finditer(norm):
        when = _explicit_day(match.group("a"), today)
        if when is not None and when <= today:
            return Period(when, when + day)
    for match in _SINCE.finditer(norm):
        phrase = match.group("a")
        if (
            _is_month_only(phrase)
            and not phrase.startswith(_MONTH_WORDS_RU)
            and not any(phrase.startswith(m[:3]) for m in _MONTHS_EN)
        ):
            continue  # "с карты", "after lunch": a word that is no month
        start = _explicit_day(phrase, today)
        if start is not None and start <= today:
            return Period(start, today + day)
    return None


def period_of(text: str, today: date) -> Period | None:
    """The period a message names, as days [start, end); None when it names none. Explicit dates
    (``explicit_period_of``) first, then the calendar words ("в прошлом месяце", "last week", "за март")."""
    explicit = explicit_period_of(text, today)
    if explicit is not None:
        return explicit
    words = lemmas(text)
    norm = " ".join(words)
    day = timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    # a day of a month: "10 ноября", "3 November", "on 10 november"
    for i, w in enumerate(words[:-1]):
        nxt = words[i + 1]
        if w.isdigit() and 1 <= int(w) <= 31 and (nxt in _MONTHS_RU or nxt in _MONTHS_EN):
            month = (_MONTHS_RU.index(nxt) if nxt in _MONTHS_RU else _MONTHS_EN.index(nxt)) + 1
            span = _month(today, month)
            try:
                start = span.start.replace(day=int(w))
            except ValueError:
                return None
            return Period(start, start + day)
    if "вчера" in words or "yesterday" in words:
        return Period(today - day, today)
    if "сегодня" in words or "today" in words:
        return Period(today, today + day)
    last = "прошлый" in words or "last" in words or "previous" in words or "прошедший" in words
    this = "этот" in words or "this" in words or "текущий" in words
    if "месяц" in words or "month" in words:
        first = today.replace(day=1)
        if last:
            prev = first - day
            return Period(prev.replace(day=1), first)
        return Period(first, today + day)
    if "неделя" in words or "week" in words:
        if last and "last 7" not in norm:
            return Period(monday - timedelta(days=7), monday)
        if this:
            return Period(monday, today + day)
        return Period(today - timedelta(days=6), today + day)
    if "выходные" in words or "выходной" in words or "weekend" in words:
        saturday = monday - timedelta(days=2)
        return Period(saturday, monday)
    if "год" in words or "year" in words:
        if last:
            return Period(date(today.year - 1, 1, 1), date(today.year, 1, 1))
        return Period(date(today.year, 1, 1), today + day)
    for w in words:
        if w in _MONTHS_RU:
            return _month(today, _MONTHS_RU.index(w) + 1)
        if w in _MONTHS_EN:
            return _month(today, _MONTHS_EN.index(w) + 1)
    return None


@lru_cache(maxsize=65536)
def _person_genitive(word: str) -> bool:
    parse = _morph().parse(word)[0]
    tag = parse.tag
    return parse.score >= 0.3 and bool({"Name", "Surn"} & set(tag.grammemes)) and tag.case == "gent"


def names_a_person(text: str) -> bool:
    """A Russian first name or surname in the genitive ("у Бориса", "операции Бориса"), by pymorphy3's
    Name/Surn tags: the message asks about somebody else's money. "от Бориса" (a transfer received) is
    the customer's own."""
    words = _TOKEN.findall(normalise(text))
    return any(
        _person_genitive(w) and (i == 0 or words[i - 1] not in ("от", "из"))
        for i, w in enumerate(words)
        if _CYRILLIC.search(w)
    )


def extract_slots(text: str, today: date) -> Slots:
    return Slots(
        account_kind=account_kind_of(text),
        period=period_of(text, today),
        category=category_of(text),
        card_last4=card_last4_of(text),
        merchant=latin(text),
    )


# --- fast scoring -------------------------------------------------------------------------------
# sklearn's per-call checks cost more than the arithmetic for one short message (about 15 ms against
# 1 ms), so after training the fitted numbers are copied into plain arrays and scored directly. A test
# checks that the result equals the pipeline's own predict_proba.


@dataclass(frozen=True)
class TfidfBlock:
    analyzer: Callable[[str], list[str]]
    vocabulary: Mapping[str, int]
    idf: np.ndarray[Any, Any]
    sublinear: bool
    offset: int

    @classmethod
    def of(cls, vectorizer: TfidfVectorizer, offset: int) -> TfidfBlock:
        return cls(
            vectorizer.build_analyzer(),
            vectorizer.vocabulary_,
            np.asarray(vectorizer.idf_),
            bool(vectorizer.sublinear_tf),
            offset,
        )

    def vector(self, text: str) -> tuple[list[int], np.ndarray[Any, Any]]:
        counts: dict[int, int] = {}
        for gram in self.analyzer(text):
            j = self.vocabulary.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return [], np.zeros(0)
        idx = list(counts)
        tf = np.array([counts[j] for j in idx], dtype=float)
        if self.sublinear:
            tf = 1.0 + np.log(tf)
        values = tf * self.idf[idx]
        values /= np.sqrt((values * values).sum())
        return [self.offset + j for j in idx], values


@dataclass(frozen=True)
class FastScorer:
    chars: TfidfBlock
    words: TfidfBlock
    weights: np.ndarray[Any, Any]  # (features, classes)
    intercept: np.ndarray[Any, Any]
    sigmoid_a: np.ndarray[Any, Any]
    sigmoid_b: np.ndarray[Any, Any]

    @classmethod
    def of(cls, pipeline: Pipeline) -> FastScorer:
        features = pipeline.named_steps["features"]
        char_vec = features.transformer_list[0][1].named_steps["tfidf"]
        word_vec = features.transformer_list[1][1].named_steps["tfidf"]
        calibrated = pipeline.named_steps["clf"].calibrated_classifiers_[0]
        svm = calibrated.estimator
        return cls(
            TfidfBlock.of(char_vec, 0),
            TfidfBlock.of(word_vec, len(char_vec.vocabulary_)),
            np.ascontiguousarray(svm.coef_.T),
            np.asarray(svm.intercept_),
            np.array([c.a_ for c in calibrated.calibrators]),
            np.array([c.b_ for c in calibrated.calibrators]),
        )

    def probabilities(self, text: str) -> np.ndarray[Any, Any]:
        margin = self.intercept.copy()
        for block, prepared in ((self.chars, latin(text)), (self.words, " ".join(lemmas(text)))):
            idx, values = block.vector(prepared)
            if idx:
                margin += values @ self.weights[idx]
        p = 1.0 / (1.0 + np.exp(self.sigmoid_a * margin + self.sigmoid_b))
        total = p.sum()
        return p / total if total > 0 else np.full_like(p, 1.0 / len(p))


# --- the understander -------------------------------------------------------------------------


@dataclass
class SklearnUnderstander:
    pipeline: Pipeline
    classes: tuple[Intent, ...]
    scorer: FastScorer

    @property
    def model_version(self) -> str:
        return MODEL_VERSION

    def understand(self, text: str, locale: str, today: date) -> Understanding:
        probabilities = self.scorer.probabilities(text)
        best = int(probabilities.argmax())
        signals = detect_signals(text)
        if names_a_person(text):
            signals |= {Signal.THIRD_PARTY}
        return Understanding(
            intent=self.classes[best],
            confidence=float(probabilities[best]),
            slots=extract_slots(text, today),
            model_version=MODEL_VERSION,
            signals=signals,
        )


def train(rows: Iterable[tuple[str, str, Intent]]) -> SklearnUnderstander:
    data = list(rows)
    pipeline = build_pipeline()
    pipeline.fit([text for _, text, _ in data], [intent.value for _, _, intent in data])
    classes = tuple(Intent(c) for c in pipeline.named_steps["clf"].classes_)
    return SklearnUnderstander(pipeline, classes, FastScorer.of(pipeline))


@lru_cache(maxsize=1)
def default_understander() -> SklearnUnderstander:
    """Trained once per process from the spec's training file."""
    return train(load_utterances(ASSISTANT_DATA / "training.yaml"))
