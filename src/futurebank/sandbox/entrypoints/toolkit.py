"""The request toolkit every API route uses: FastAPI dependencies for the caller, the query, the
path ids, the body and the Idempotency-Key, and the response helpers.

A route declares what it needs in its signature and does nothing else but translate HTTP into a
command or query and the result back::

    @router.get("/cards/{card_id}", operation_id="getCard")
    async def get_card(call: ApiCall, card_id: CardId) -> Response:
        return call.json(rep.card(await call.handle(q.GetCard(card_id))))

``ApiCall`` authenticates the bearer token against the scopes the contract's ``security`` entry
for the route's operationId requires, refuses query parameters the operation does not define, and
carries the acting client and customer (``call.actor``). The consent check belongs to the message:
a query naming a ``permission`` is checked by the message bus in the same transaction as the read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Depends
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.adapters.experiments import log_exposure
from futurebank.sandbox.domain.commands import Message
from futurebank.sandbox.domain.errors import InvalidCursor
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.constants import (
    API_PREFIX,
    ASCII_INTEGER_RE,
    CURSOR_RE,
    IDEMPOTENCY_KEY_RE,
    PAGE_LIMIT_DEFAULT,
    PAGE_LIMIT_MAX,
    UUID_RE,
)
from futurebank.sandbox.entrypoints.contract import SECURITY
from futurebank.sandbox.entrypoints.deps import Container, container, correlation_id
from futurebank.sandbox.entrypoints.problems import FieldError, ProblemError, uri_reference
from futurebank.sandbox.entrypoints.validation import datetime_error, parse_datetime, read_json
from futurebank.sandbox.service_layer.handlers import Actor

T = TypeVar("T")
Q = TypeVar("Q", bound="QueryModel")
B = TypeVar("B", bound=BaseModel)

# --- query parameters ----------------------------------------------------------------------------


def _limit(value: Any) -> int:
    if not isinstance(value, str) or not ASCII_INTEGER_RE.fullmatch(value):
        raise PydanticCustomError(
            "TYPE", "Must be a whole number written with the digits 0-9, without a sign."
        )
    number = int(value)
    if number < 1:
        raise PydanticCustomError("MINIMUM", "Must be at least 1.")
    if number > PAGE_LIMIT_MAX:
        raise PydanticCustomError("MAXIMUM", f"Must be at most {PAGE_LIMIT_MAX}.")
    return number


def _cursor(value: Any) -> str:
    if not isinstance(value, str) or not CURSOR_RE.fullmatch(value):
        raise PydanticCustomError("INVALID_CURSOR", "The cursor is not valid for this collection.")
    return value


def _datetime(value: Any) -> datetime:
    try:
        return parse_datetime(str(value))
    except ValueError as exc:
        raise datetime_error(exc) from None


def _one_of(*allowed: str) -> Any:
    def check(value: Any) -> str:
        if value not in allowed:
            raise PydanticCustomError("ENUM", f"Must be one of {', '.join(allowed)}.")
        return str(value)

    return BeforeValidator(check)


Limit = Annotated[int, BeforeValidator(_limit)]
Cursor = Annotated[str, BeforeValidator(_cursor)]
QueryDateTime = Annotated[datetime, BeforeValidator(_datetime)]


class QueryModel(BaseModel):
    """An operation's query parameters. Unknown ones are refused (guideline API-016): a misspelt
    filter must not silently return unfiltered data."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoQuery(QueryModel):
    pass


class PageQuery(QueryModel):
    limit: Limit = PAGE_LIMIT_DEFAULT
    cursor: Cursor | None = None


class TransactionsQuery(PageQuery):
    booked_from: QueryDateTime | None = None
    booked_to: QueryDateTime | None = None
    credit_debit_indicator: Annotated[str, _one_of("CRDT", "DBIT")] | None = None


def parse_query(request: Request, model: type[Q]) -> Q:
    values: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in values and name in model.model_fields:
            raise _query_error(name, "REPEATED", "Give the parameter once.")
        values[name] = value
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
        if unknown:
            raise ProblemError(
                "VALIDATION_FAILED",
                f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
                [
                    FieldError(
                        f"#/query/{name}",
                        "UNKNOWN_PARAMETER",
                        "The parameter is not defined for this operation.",
                    )
                    for name in unknown
                ],
            ) from None
        first = errors[0]
        name, kind = str(first["loc"][0]), str(first["type"])
        if kind == "INVALID_CURSOR":
            raise InvalidCursor(
                "The cursor is not valid for this collection. Start again without a cursor."
            ) from None
        code = kind if kind.isupper() else "INVALID"  # our validators raise the contract's codes
        raise _query_error(name, code, str(first["msg"])) from None


def _query_error(name: str, code: str, detail: str) -> ProblemError:
    return ProblemError(
        "VALIDATION_FAILED",
        f"The query parameter {name} is invalid: {detail}",
        [FieldError(f"#/query/{name}", code, detail)],
    )


# --- the call: who asks, with which query ----------------------------------------------------------


@dataclass(frozen=True)
class Call(Generic[Q]):
    """One authenticated API request: the container, the acting client and customer, the parsed
    query, and helpers to answer."""

    request: Request
    c: Container
    actor: Actor
    query: Q
    scopes: frozenset[str] = frozenset()  # the token's, for use cases that check more than one

    def now(self) -> datetime:
        return self.c.bus.clock()

    async def handle(self, message: Message[T]) -> T:
        return await self.c.handle(message, self.actor)

    def after(self, collection: str) -> tuple[datetime, Any] | None:
        """The position a page cursor names, checked to belong to ``collection``."""
        cursor = getattr(self.query, "cursor", None)
        if cursor is None:
            return None
        position = self.c.cursors.decode(collection, cursor)
        try:
            return datetime.fromisoformat(str(position[0])), position[1]
        except (IndexError, ValueError, TypeError) as exc:  # pragma: no cover - the MAC prevents it
            raise InvalidCursor("The cursor is not valid for this collection.") from exc

    def self_link(self) -> str:
        return uri_reference(self.request.url.path, self.request.url.query)

    def page(
        self, data: list[dict[str, Any]], collection: str = "", next_position: list[Any] | None = None
    ) -> Response:
        """A page of ``data``; ``next_position`` (the last row's sort key) adds a ``next`` link."""
        next_href = None
        if next_position is not None:
            cursor = self.c.cursors.encode(collection, next_position)
            params = [(k, v) for k, v in self.request.query_params.multi_items() if k != "cursor"]
            params.append(("cursor", cursor))
            next_href = self.request.url.path + "?" + urlencode(params)
        return rep.json_response(rep.page(data, self.self_link(), next_href))

    def json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return rep.json_response(data, status, headers)

    def created(self, data: dict[str, Any], path: str, headers: dict[str, str] | None = None) -> Response:
        return rep.json_response(data, 201, {"Location": API_PREFIX + path, **(headers or {})})


def check_rollout(c: Container, operation: str, actor: Actor) -> None:
    """403 FEATURE_NOT_AVAILABLE when the operation belongs to a feature whose rollout stage does not
    include the acting customer (the operation -> flag mapping is docs/delivery/feature-flags.yaml);
    a client app's own token (no customer) is inside only at 100 %."""
    flags = c.flags
    if flags is None:
        return
    flag = flags.gate(operation)
    if flag is None:
        return
    if not flags.enabled(flag, actor.customer_id):
        raise ProblemError(
            "FEATURE_NOT_AVAILABLE",
            "This feature is not available to this customer yet: it is being rolled out in stages.",
        )


def record_exposures(c: Container, operation: str, actor: Actor) -> None:
    """Log an exposure for every running experiment this operation shows, for a customer who takes
    part (inside the experiment's required flag). Assignment is deterministic: no state is kept."""
    customer = actor.customer_id
    if customer is None:
        return
    for experiment in c.experiments:
        if operation not in experiment.exposed_by:
            continue
        flag = experiment.requires_flag
        if flag is not None and c.flags is not None and not c.flags.enabled(flag, customer):
            continue
        log_exposure(experiment, experiment.assign(customer), customer, operation)


def call_with(model: type[Q]) -> Any:
    """The dependency that authenticates the request for its operation and parses its query."""

    async def dependency(request: Request) -> Call[Q]:
        c = container(request)
        operation = request.scope["route"].operation_id
        principal = authenticate(request, c.tokens, SECURITY[operation])
        actor = principal.actor(correlation_id(request))
        check_rollout(c, operation, actor)
        record_exposures(c, operation, actor)
        if c.faults:
            await c.faults.apply(operation)
        return Call(
            request,
            c,
            actor,
            parse_query(request, model),
            principal.scopes,
        )

    return Depends(dependency)


ApiCall = Annotated[Call[NoQuery], call_with(NoQuery)]
PageCall = Annotated[Call[PageQuery], call_with(PageQuery)]
TransactionsCall = Annotated[Call[TransactionsQuery], call_with(TransactionsQuery)]

# --- path ids, body, headers ------------------------------------------------------------------------


def path_uuid(name: str, value: str) -> str:
    if not UUID_RE.match(value):
        raise ProblemError(
            "VALIDATION_FAILED",
            "The path parameter is not a valid identifier.",
            [FieldError(f"#/path/{name}", "FORMAT", "Must be a UUID.")],
        )
    return value.lower()


def path_id(name: str) -> Any:
    # async: FastAPI runs a plain ``def`` dependency in the thread pool, a thread hop per request
    async def dependency(request: Request) -> str:
        return path_uuid(name, str(request.path_params[name]))

    return Depends(dependency)


AccountId = Annotated[str, path_id("account_id")]
TransactionId = Annotated[str, path_id("transaction_id")]
ConsentId = Annotated[str, path_id("consent_id")]
PaymentId = Annotated[str, path_id("payment_id")]
CardId = Annotated[str, path_id("card_id")]


def json_body(model: type[B]) -> Any:
    async def dependency(request: Request) -> B:
        return await read_json(request, model)

    return Depends(dependency)


async def _idempotency_key(request: Request) -> str:  # async: no thread hop (see path_id)
    # Repeated header lines are one field (RFC 9110 5.3): two keys are as invalid as "A, B" in one line,
    # never silently the first.
    lines = request.headers.getlist("idempotency-key")
    key = ", ".join(lines) if lines else None
    if key is None:
        raise ProblemError(
            "IDEMPOTENCY_KEY_MISSING", "This operation moves money and needs an Idempotency-Key header."
        )
    if not IDEMPOTENCY_KEY_RE.match(key):
        raise ProblemError(
            "VALIDATION_FAILED",
            "The Idempotency-Key header is invalid.",
            [
                FieldError(
                    "#/header/Idempotency-Key", "PATTERN", "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                )
            ],
        )
    return key.strip('"')


IdempotencyKey = Annotated[str, Depends(_idempotency_key)]
