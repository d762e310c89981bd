"""Customers of the bank (the sandbox's demo people)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(eq=False)
class Customer:
    id: str
    username: str
    full_name: str
    date_of_birth: date | None
    email: str | None
    phone: str | None
    preferred_language: str
    customer_since: date
    created_at: datetime
