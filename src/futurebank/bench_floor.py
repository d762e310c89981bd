"""The HTTP floor of ``make bench`` (ADR-0024): a FastAPI app whose one route reads the JSON body of
``POST /api/v1/payments`` and answers 201 with a small JSON object, with no middleware, no
authentication and no database. Served like the sandbox (``http_server.serve``) and driven like it,
its rate is what the decided HTTP stack (uvicorn, FastAPI) gives on this machine before the sandbox
does anything.

No ``from __future__ import annotations`` here: FastAPI reads the route's parameter types at run time.
"""

import json
import uuid

from fastapi import FastAPI, Request
from starlette.responses import Response


def floor_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/api/v1/payments")
    async def create(request: Request) -> Response:
        body = json.loads(await request.body())
        out = {"payment_id": str(uuid.uuid4()), "status": "ACSC", "amount": body["amount"]}
        return Response(json.dumps(out), status_code=201, media_type="application/json")

    return app
