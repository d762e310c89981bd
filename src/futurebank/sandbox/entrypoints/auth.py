"""Bearer token checks for the API routes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from futurebank.sandbox.adapters.tokens import InvalidToken, TokenService
from futurebank.sandbox.entrypoints.contract import OperationSecurity
from futurebank.sandbox.entrypoints.problems import ProblemError
from futurebank.sandbox.service_layer.handlers import Actor

_CHALLENGE = 'Bearer realm="futurebank"'


@dataclass(frozen=True)
class Principal:
    client_id: str
    customer_id: str | None
    scopes: frozenset[str]

    def actor(self, correlation_id: str) -> Actor:
        return Actor(self.client_id, self.customer_id, correlation_id)


def authenticate(request: Request, tokens: TokenService, security: OperationSecurity) -> Principal:
    """401 without a valid token; 403 INSUFFICIENT_SCOPE without the operation's scopes.

    ``security.customer_only``: operations that only make sense for a customer (profile, payments,
    cards) refuse a client credentials token with 403 as well; such tokens can never carry their
    scopes.
    """
    lines = request.headers.getlist("authorization")
    header = lines[0] if len(lines) == 1 else None  # two credentials: which one acts is not for us to pick
    if not header or header[:7].lower() != "bearer " or not header[7:].strip():
        raise ProblemError(
            "UNAUTHENTICATED",
            "The access token is missing, invalid or expired.",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    try:
        claims = tokens.verify(header[7:].strip())
    except InvalidToken as exc:
        raise ProblemError(
            "UNAUTHENTICATED",
            "The access token is missing, invalid or expired.",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        ) from exc
    customer_only = security.customer_only
    missing = [s for s in security.scopes if s not in claims.scopes]
    if missing or (customer_only and claims.customer_id is None):
        scope = " ".join(security.scopes)
        raise ProblemError(
            "INSUFFICIENT_SCOPE",
            f"This operation needs the scope {scope}"
            + (" in a token issued for a customer." if customer_only else "."),
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="insufficient_scope", scope="{scope}"'},
        )
    return Principal(claims.client_id, claims.customer_id, claims.scopes)
