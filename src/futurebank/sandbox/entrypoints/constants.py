"""Constants of the HTTP edge, in one place: the API prefix, identifier patterns, page sizes."""

from __future__ import annotations

import re

API_PREFIX = "/api/v1"
# Identifiers are UUIDs (any case on input; answered in lower case).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
UUID_RE = re.compile(UUID_PATTERN)
# The draft's Structured Field string form ("…") and the bare form denote the same key.
IDEMPOTENCY_KEY_RE = re.compile(r'^("[A-Za-z0-9._:-]{1,64}"|[A-Za-z0-9._:-]{1,64})$')
# Page sizes of every list operation (the contract's Limit parameter).
PAGE_LIMIT_DEFAULT = 50
PAGE_LIMIT_MAX = 100
# A page cursor: URL-safe base64 without padding, bounded in length.
CURSOR_RE = re.compile(r"[A-Za-z0-9_-]{1,512}")
# Integer query parameters: ASCII digits only (Python's \d would also take "٣"), no sign.
ASCII_INTEGER_RE = re.compile(r"[0-9]{1,6}")
