"""The FastAPI application: routers under /api/v1, problem handlers, and the middleware stack."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from futurebank.sandbox.domain.errors import DatabaseBusy, DomainError
from futurebank.sandbox.entrypoints.constants import API_PREFIX
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.errors import domain_problem
from futurebank.sandbox.entrypoints.middleware import (
    BodyLimit,
    Observability,
    RateLimit,
    SafetyNet,
    TokenBucket,
)
from futurebank.sandbox.entrypoints.problems import FieldError, ProblemError, problem_response, uri_reference
from futurebank.sandbox.entrypoints.routers import (
    accounts,
    assistant,
    cards,
    chat_page,
    consents,
    console,
    not_implemented,
    oauth,
    ops,
    payments,
    profile,
    sustainability,
)
from futurebank.sandbox.entrypoints.security_headers import SecurityHeaders
from futurebank.sandbox.entrypoints.tracing import with_server_spans
from futurebank.sandbox.service_layer.messagebus import Replayed


def _instance(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    return uri_reference(path, request.scope.get("query_string", b"").decode("latin-1"))


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts on this path (Starlette names only the first match's)."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def _add_routes(app: FastAPI, router: APIRouter, prefix: str) -> None:
    """Copy a router's routes onto the app as plain routes with the prefix. (FastAPI's
    ``include_router`` nests routers lazily; flat routes let the conformance test and the metrics
    see every route with its full path and operationId.)"""
    for route in router.routes:
        if not isinstance(route, APIRoute):  # pragma: no cover - the routers hold API routes only
            raise TypeError(f"unexpected route {route!r}")
        app.add_api_route(
            prefix + route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            operation_id=route.operation_id,
            name=route.name,
            include_in_schema=route.include_in_schema,
        )


def build_api(c: Container) -> FastAPI:
    """The routed application without middleware (the conformance test reads its routes)."""
    # The contract file is the API's description; FastAPI's generated one is switched off so that
    # nobody mistakes it for the source.
    app = FastAPI(
        title="futurebank reference sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.state.container = c
    for module in (
        consents,
        profile,
        accounts,
        payments,
        cards,
        assistant,
        sustainability,
        not_implemented,
        oauth,
    ):
        _add_routes(app, module.router, API_PREFIX)
    _add_routes(app, ops.router, "")
    _add_routes(app, console.router, "")
    _add_routes(app, chat_page.router, "")

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> Response:
        return problem_response(exc.code, exc.detail, _instance(request), exc.errors, exc.headers)

    @app.exception_handler(DomainError)
    async def on_domain(request: Request, exc: DomainError) -> Response:
        code, detail, errors = domain_problem(exc)
        headers: dict[str, str] = {}
        if code == "UNAUTHENTICATED":  # RFC 6750: a 401 names the scheme, also for a removed customer
            headers["WWW-Authenticate"] = 'Bearer realm="futurebank", error="invalid_token"'
        if isinstance(exc, DatabaseBusy):
            headers["Retry-After"] = str(exc.retry_after_s)
        if isinstance(exc.__cause__, Replayed):  # a refusal replayed from its Idempotency-Key
            headers["Idempotent-Replayed"] = "true"
        return problem_response(code, detail, _instance(request), errors, headers)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            allow = _allowed_methods(request)
            return problem_response(
                "METHOD_NOT_ALLOWED",
                f"{request.method} is not allowed here; allowed: {allow}.",
                _instance(request),
                headers={"Allow": allow},
            )
        if exc.status_code == 404:
            return problem_response("RESOURCE_NOT_FOUND", "No such resource.", _instance(request))
        return problem_response("INTERNAL_ERROR", "An unexpected error occurred.", _instance(request))

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            FieldError("/" + "/".join(str(p) for p in e.get("loc", ())), "INVALID", str(e.get("msg", "")))
            for e in exc.errors()
        ]
        return problem_response("VALIDATION_FAILED", "The request is invalid.", _instance(request), errors)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        # Details go to the log (SafetyNet logs the re-raised exception), never to the client.
        return problem_response(
            "INTERNAL_ERROR",
            "An unexpected error occurred. Quote the correlation id to support.",
            _instance(request),
        )

    return app


def wrap(app: ASGIApp, c: Container) -> ASGIApp:
    s = c.settings
    limited = RateLimit(
        BodyLimit(app, s.max_body_bytes), TokenBucket(s.rate_limit_rps, s.rate_limit_burst), c.tokens
    )
    observed = Observability(SafetyNet(limited), c.metrics, log_requests=s.access_log)
    # Security headers outermost: also on the 500s, 429s and 413s the inner layers answer. The server
    # span (traces on) encloses the rest, so the access log line and every inner span belong to it.
    return SecurityHeaders(with_server_spans(observed, c.tracing))


def create_app(c: Container) -> ASGIApp:
    return wrap(build_api(c), c)
