"""Operations endpoints, outside /api/v1 because they are not part of the contract:
``/health`` (the process is up), ``/ready`` (the database answers and is migrated), ``/metrics``
(Prometheus text format). Health answers use the IETF health-check draft's shape
(``application/health+json``, status ``pass`` / ``fail``)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from futurebank.sandbox.entrypoints.deps import container
from futurebank.sandbox.entrypoints.observability import CONTENT_TYPE_LATEST

router = APIRouter()


HEALTH_MEDIA_TYPE = "application/health+json"


@router.get("/health", name="health", include_in_schema=False)
async def health() -> Response:
    return JSONResponse({"status": "pass"}, media_type=HEALTH_MEDIA_TYPE)


@router.get("/ready", name="ready", include_in_schema=False)
async def ready(request: Request) -> Response:
    c = container(request)

    def probe() -> str | None:
        with c.db.write_lock, c.db.engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    try:
        version = await c.call_sync(probe)
    except Exception as exc:  # any database failure means "not ready", never a 500
        body = {"status": "fail", "checks": {"database": [{"status": "fail", "output": type(exc).__name__}]}}
        return JSONResponse(body, status_code=503, media_type=HEALTH_MEDIA_TYPE)
    if version is None:
        body = {"status": "fail", "checks": {"database": [{"status": "fail", "output": "not migrated"}]}}
        return JSONResponse(body, status_code=503, media_type=HEALTH_MEDIA_TYPE)
    checks = {
        "database": [{"status": "pass", "componentType": c.db.engine.dialect.name, "observedValue": version}]
    }
    return JSONResponse({"status": "pass", "checks": checks}, media_type=HEALTH_MEDIA_TYPE)


@router.get("/metrics", name="metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(container(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
