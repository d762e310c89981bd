"""Request parsing against the contract: media type, JSON, schema (strict types, no unknown fields),
path and query parameters. Every failure becomes a problem with a stable code and a pointer."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from starlette.requests import ClientDisconnect, Request

from futurebank.sandbox.domain.commands import CreatePayment, echoed_fields
from futurebank.sandbox.entrypoints.constants import UUID_RE
from futurebank.sandbox.entrypoints.contract import ContractMismatch, request_properties
from futurebank.sandbox.entrypoints.problems import FieldError, ProblemError

# RFC 3339 date-time: a full date, "T" (or "t"/space is not allowed here), time, and an offset.
RFC3339_RE = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?"
    r"([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
# The contract's PositiveMoney.amount: above zero, no sign, no leading zeros (a subset of Money).
POSITIVE_AMOUNT_RE = r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
M = TypeVar("M", bound=BaseModel)


DATETIME_RANGE_RULE = "Must be between 0001-01-01T00:00:00Z and 9999-12-31T20:59:59Z once taken to UTC."
# Responses show times in Moscow time (representations.MSK), so an instant must fit there as well.
_SHOWN_IN = timezone(timedelta(hours=3))


class DateTimeOutOfRange(ValueError):
    """A valid RFC 3339 date-time whose offset takes it past the years this server can hold, in UTC
    or in the Moscow time responses show (0001-01-01T00:00:00+03:00 is 0000-12-31T21:00:00Z;
    9999-12-31T23:59:59Z is 10000-01-01 in Moscow)."""


def parse_datetime(value: str) -> datetime:
    if not RFC3339_RE.match(value):
        raise ValueError("not an RFC 3339 date-time with offset")
    text = value.upper().replace("Z", "+00:00")
    if text[16:19] == ":60":  # a leap second: Python cannot hold it; count it as the 59th
        text = text[:17] + "59" + text[19:]
    parsed = datetime.fromisoformat(text)
    try:
        parsed.astimezone(UTC)  # what the database stores and every comparison uses
        parsed.astimezone(_SHOWN_IN)  # how a response shows it
    except OverflowError:
        raise DateTimeOutOfRange(DATETIME_RANGE_RULE) from None
    return parsed


def datetime_error(exc: ValueError) -> PydanticCustomError:
    """The field error of a date-time that did not parse: its form, or its range."""
    if isinstance(exc, DateTimeOutOfRange):
        return PydanticCustomError("OUT_OF_RANGE", DATETIME_RANGE_RULE)
    return PydanticCustomError("FORMAT", "Must be an RFC 3339 date-time with an offset.")


def _datetime(value: str) -> str:
    try:
        parse_datetime(value)
    except ValueError as exc:
        raise datetime_error(exc) from None
    return value


def _uuid(value: str) -> str:
    if not UUID_RE.match(value):
        raise PydanticCustomError("FORMAT", "Must be a UUID.")
    return value.lower()


# Unicode's explicit bidirectional formatting characters (embeddings, overrides, isolates: UAX #9).
# In free text they reorder what a reader sees ("Trojan Source", CVE-2021-42574): a payee's name or a
# remittance line could display differently from what it says.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
PLAIN_TEXT_RULE = (
    "Must not contain control characters (U+0000-U+001F, U+007F-U+009F) or bidirectional formatting "
    "characters (U+202A-U+202E, U+2066-U+2069)."
)


BIDI_RULE = "Must not contain bidirectional formatting characters (U+202A-U+202E, U+2066-U+2069)."


def _no_bidi_controls(value: str) -> str:
    # The contract's pattern on multi-line free text (the assistant's messages, a handoff comment):
    # line breaks are allowed there, reordering characters are not.
    if any(ch in BIDI_CONTROLS for ch in value):
        raise PydanticCustomError("PATTERN", BIDI_RULE)
    return value


def _plain_text(value: str) -> str:
    # The contract's PlainText pattern (ECMA-262: "$" is the very end, so a trailing newline is
    # refused too). NUL cannot be stored in PostgreSQL text, and control characters in a payee's
    # statement are a spoofing risk; refuse them rather than alter what the customer wrote.
    if any(ord(ch) < 32 or 127 <= ord(ch) <= 159 or ch in BIDI_CONTROLS for ch in value):
        raise PydanticCustomError("PATTERN", PLAIN_TEXT_RULE)
    return value


def _matching(regex: str, words: str) -> AfterValidator:
    """The contract's pattern for a field, with an error that says in words what to send (a
    regular expression in an error message helps nobody)."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise PydanticCustomError("PATTERN", words)
        return value

    return AfterValidator(check)


DateTimeStr = Annotated[str, AfterValidator(_datetime)]
# Free text that may span lines but never holds bidirectional formatting characters; put it after the
# field's length limits (Annotated[str, Field(...), NO_BIDI_CONTROLS]) so their messages stay as worded.
NO_BIDI_CONTROLS = AfterValidator(_no_bidi_controls)
UuidStr = Annotated[str, AfterValidator(_uuid)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Optional fields may be left out, but the contract declares none of them nullable.
        if value is None:
            raise PydanticCustomError("TYPE", "Must not be null; leave the field out instead.")
        return value


class PositiveMoneyIn(_Strict):
    amount: Annotated[
        str,
        _matching(
            POSITIVE_AMOUNT_RE,
            "Must be a positive decimal with at most 2 fraction digits and no sign or leading zeros,"
            ' e.g. "1500.00".',
        ),
    ]
    currency: Annotated[
        str, _matching(r"^[A-Z]{3}$", 'Must be an ISO 4217 code of three capital letters, e.g. "RUB".')
    ]


class PaymentInitiationFields(_Strict):
    """The fields the service reads itself; the echoed ones are added from the contract below."""

    debtor_account_id: UuidStr
    creditor_account_id: UuidStr | None = None
    creditor_account_number: (
        Annotated[str, _matching(r"^[0-9]{20}$", "Must be an account number of exactly 20 digits.")] | None
    ) = None
    amount: PositiveMoneyIn

    @model_validator(mode="after")
    def _exactly_one_creditor(self) -> PaymentInitiationFields:
        given = [f for f in ("creditor_account_id", "creditor_account_number") if f in self.model_fields_set]
        if len(given) != 1:
            raise PydanticCustomError(
                "ONE_OF", "Give exactly one of creditor_account_id and creditor_account_number."
            )
        return self


# The contract's PlainText pattern, which _plain_text checks with its own message.
PLAIN_TEXT_PATTERN = "^[^\\x00-\\x1F\\x7F-\\x9F\\u202A-\\u202E\\u2066-\\u2069]*$"
PAYMENT_BODY_SCHEMAS = ("PaymentToOwnAccount", "PaymentToCustomerAccount")
_TEXT_PROPERTY_KEYWORDS = {"type", "description", "maxLength", "minLength", "pattern", "examples"}


def echoed_text_field(name: str, prop: dict[str, Any]) -> Any:
    """The type of an optional free-text request field, from its contract property: its length
    limits and pattern, every free text refused with control or bidi characters, and a pattern
    error worded by the property's own description (never the regular expression)."""
    if prop.get("type") != "string" or set(prop) - _TEXT_PROPERTY_KEYWORDS:
        raise ContractMismatch(
            f"openapi.yaml: request field {name!r} must be a plain string property (type, description,"
            " maxLength, minLength, pattern, examples) for the sandbox to derive its check"
        )
    checks: list[Any] = [Field(max_length=prop.get("maxLength"), min_length=prop.get("minLength"))]
    checks.append(AfterValidator(_plain_text))
    pattern = prop.get("pattern")
    if pattern and pattern != PLAIN_TEXT_PATTERN:
        # ECMA-262 and Python agree on the \xNN and \uNNNN escapes and anchors used in the contract.
        words = prop.get("description") or f"Must have the form the contract gives for {name}."
        checks.append(_matching(pattern, words))
    return Annotated[str, *checks] | None


def payment_initiation_model(
    echoed: tuple[str, ...], properties: dict[str, dict[str, Any]]
) -> type[PaymentInitiationFields]:
    """createPayment's body: the service's own fields plus one optional field per echoed command
    field (``domain.commands.ECHOED``), checked as the contract declares it."""
    extra: dict[str, Any] = {name: (echoed_text_field(name, properties[name]), None) for name in echoed}
    return create_model("PaymentInitiationIn", __base__=PaymentInitiationFields, __module__=__name__, **extra)


_ECHOED = echoed_fields(CreatePayment)
PaymentInitiationIn = payment_initiation_model(_ECHOED, request_properties(PAYMENT_BODY_SCHEMAS, _ECHOED))


Permission = Literal["accounts", "balances", "transactions"]


def _unique(items: list[str]) -> list[str]:
    if len(set(items)) != len(items):
        raise PydanticCustomError("UNIQUE_ITEMS", "Must not repeat a permission.")
    return items


class ConsentRequestIn(_Strict):
    permissions: Annotated[list[Permission], Field(min_length=1), AfterValidator(_unique)]
    expires_at: DateTimeStr | None = None
    transactions_from: DateTimeStr | None = None
    transactions_to: DateTimeStr | None = None


class CardControlsUpdateIn(_Strict):
    locked: bool


# pydantic error type -> the contract's field error code
_CODE = {
    "missing": "REQUIRED",
    "extra_forbidden": "UNKNOWN_FIELD",
    "string_pattern_mismatch": "PATTERN",
    "string_too_long": "MAX_LENGTH",
    "string_too_short": "MIN_LENGTH",
    "too_short": "MIN_ITEMS",
    "too_long": "MAX_ITEMS",
    "literal_error": "ENUM",
    "enum": "ENUM",
}


def _pointer(loc: tuple[int | str, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in loc)


def _field_errors(exc: ValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False, include_input=False):
        kind = str(err["type"])
        code = _CODE.get(kind) or (
            kind if kind.isupper() else "TYPE" if kind.endswith("_type") else "INVALID"
        )
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        detail = str(err["msg"])
        if kind == "extra_forbidden":
            detail = "The field is not part of the schema."
        elif kind == "string_pattern_mismatch":  # pydantic's own message quotes the regular expression
            detail = "Must have the format the contract describes for this field."
        errors.append(FieldError(_pointer(loc), code, detail))
    return errors


class _DuplicateMembers(dict[str, Any]):
    """A JSON object that repeated member names (recorded, so the pointer can name them)."""

    repeated: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    repeated: list[str] = []
    for key, value in pairs:
        if key in obj:
            repeated.append(key)
        obj[key] = value
    if not repeated:
        return obj
    marked = _DuplicateMembers(obj)
    marked.repeated = repeated
    return marked


def _duplicate_pointers(value: Any, at: tuple[int | str, ...] = ()) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        if isinstance(value, _DuplicateMembers):
            found += [_pointer((*at, key)) for key in dict.fromkeys(value.repeated)]
        for key, member in value.items():
            found += _duplicate_pointers(member, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _duplicate_pointers(item, (*at, index))
    return found


def _refuse_duplicate_members(raw: bytes) -> None:
    """RFC 8259 leaves a repeated member name to the parser (pydantic keeps the last); I-JSON
    (RFC 7493) forbids it. Two ``amount`` members must not book whichever came last."""
    try:
        pointers = _duplicate_pointers(json.loads(raw, object_pairs_hook=_object))
    except (ValueError, RecursionError):  # not JSON, or nested too deep: the model's parser words it
        return
    if pointers:
        raise ProblemError(
            "VALIDATION_FAILED",
            "The request body repeats a member name; send each member once.",
            [
                FieldError(p, "DUPLICATE_MEMBER", "The member appears more than once in its object.")
                for p in pointers
            ],
        )


async def read_json(request: Request, model: type[M]) -> M:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ProblemError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.")
    codings = [c.strip().lower() for c in ",".join(request.headers.getlist("content-encoding")).split(",")]
    if any(c and c != "identity" for c in codings):
        # RFC 9110 15.5.16: an unsupported content coding is 415, with Accept-Encoding naming what is taken.
        raise ProblemError(
            "UNSUPPORTED_MEDIA_TYPE",
            "Send the body without a Content-Encoding: this API takes uncompressed JSON.",
            headers={"Accept-Encoding": "identity"},
        )
    try:
        raw = await request.body()
    except ClientDisconnect:
        # The client left before its body arrived (or sent a broken chunked body): a client-side
        # fault, answered (if anyone listens) and counted as 400, never as a server error.
        raise ProblemError("VALIDATION_FAILED", "The request body ended before it was complete.") from None
    _refuse_duplicate_members(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "json_invalid":
            raise ProblemError(
                "MALFORMED_JSON",
                f"The request body is not valid JSON ({first['msg'].removeprefix('Invalid JSON: ')}).",
            ) from exc
        errors = _field_errors(exc)
        raise ProblemError(
            "VALIDATION_FAILED",
            f"The request body has {len(errors)} error{'s' if len(errors) != 1 else ''}.",
            errors,
        ) from exc
