"""Reply text from docs/assistant/templates.yaml, with money, dates and plural forms formatted for the
conversation's locale by Babel ("18 430,50 ₽" in ru-RU, "RUB 18,430.50" in en-US). No free text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

from futurebank.sandbox.adapters.assistant_nlu import ASSISTANT_DATA

LOCALES = ("ru-RU", "en-US")


def _babel(locale: str) -> str:
    return locale.replace("-", "_")


@dataclass(frozen=True)
class Templates:
    by_locale: Mapping[str, Mapping[str, Any]]

    def text(self, locale: str, key: str, **values: str) -> str:
        template = self.by_locale[locale][key]
        if not isinstance(template, str):
            raise KeyError(f"{key} is not a reply template")
        return template.format(**values)

    def label(self, locale: str, group: str, key: str) -> str:
        return str(self.by_locale[locale][group][key])

    def keys(self, locale: str) -> list[str]:
        return [k for k, v in self.by_locale[locale].items() if isinstance(v, str)]

    # --- formatting --------------------------------------------------------------------------

    @staticmethod
    def money(locale: str, amount: str, currency: str) -> str:
        return str(format_currency(Decimal(amount), currency, locale=_babel(locale)))

    @staticmethod
    def day(locale: str, value: date) -> str:
        return str(format_date(value, format="long", locale=_babel(locale)))

    def count(self, locale: str, noun: str, n: int) -> str:
        forms: Mapping[str, str] = self.by_locale[locale]["plurals"][noun]
        form = Locale.parse(_babel(locale)).plural_form(n)
        return f"{n} {forms.get(form, forms['other'])}"

    @classmethod
    def load(cls, path: Path) -> Templates:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_templates() -> Templates:
    return Templates.load(ASSISTANT_DATA / "templates.yaml")
