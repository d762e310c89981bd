"""Sphinx extension: one search language for English and Russian text (``html_search_language = "en-ru"``).

Sphinx stems the whole index, and the query in the browser, with one language's Snowball stemmer. The
spec is English with the chat's Russian beside it, so an English-only index finds "бюджет" but not
"бюджета" or "бюджетом". This language stems a word with Cyrillic letters by the Russian Snowball
algorithm and any other word by the English one, on both sides: in Python for the index
(snowballstemmer) and in JavaScript for the query (the minified Snowball stemmers Sphinx ships).
Both sides must agree, so both choose by the same test (any letter in U+0400..U+04FF).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import snowballstemmer
import sphinx.search
from sphinx.application import Sphinx
from sphinx.search import SearchLanguage
from sphinx.search._stopwords.en import ENGLISH_STOPWORDS
from sphinx.search._stopwords.ru import RUSSIAN_STOPWORDS

CYRILLIC = re.compile("[\u0400-\u04ff]")
_JS_DIR = Path(sphinx.search.__file__).parent / "minified-js"


def _js_stemmer() -> str:
    parts = [
        (_JS_DIR / name).read_text(encoding="utf-8") for name in ("base-stemmer.js", "english-stemmer.js")
    ]
    parts.append((_JS_DIR / "russian-stemmer.js").read_text(encoding="utf-8"))
    parts.append(
        "var EnglishRussianStemmer = function () {\n"
        "  var en = new EnglishStemmer(), ru = new RussianStemmer();\n"
        "  this.stemWord = function (word) {\n"
        "    return /[\\u0400-\\u04ff]/.test(word) ? ru.stemWord(word) : en.stemWord(word);\n"
        "  };\n"
        "};\n"
        "window.Stemmer = EnglishRussianStemmer;"
    )
    return "\n".join(parts)


class SearchEnglishRussian(SearchLanguage):
    lang = "en-ru"
    language_name = "EnglishRussian"
    js_stemmer_rawcode = ""  # empty: Sphinx then inlines js_stemmer_code into language_data.js
    js_stemmer_code = _js_stemmer()
    stopwords = ENGLISH_STOPWORDS | RUSSIAN_STOPWORDS

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.english = snowballstemmer.stemmer("english")
        self.russian = snowballstemmer.stemmer("russian")

    def stem(self, word: str) -> str:
        word = word.lower()
        stemmer = self.russian if CYRILLIC.search(word) else self.english
        return str(stemmer.stemWord(word))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_search_language(SearchEnglishRussian)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
