"""ASGI application factory: routers per area, Azure-shaped errors, the fault middleware."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .backend import Backend
from .errors import ServiceError
from .faults import FaultMiddleware


def create_app(backend: Backend) -> FastAPI:
    from .routes import arm, control, dataplane

    app = FastAPI(title="Azure OpenAI emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.backend = backend

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        body = ServiceError(400, "invalidPayload", f"Invalid value for '{loc}': {first.get('msg', 'invalid')}.",
                            target=loc or None).body()
        return JSONResponse(body, status_code=400)

    app.include_router(control.router)
    app.include_router(arm.router)
    app.include_router(dataplane.router)
    if backend.config.strict_contract:  # inside the fault middleware: faults and the request log stay as they are
        from .strict import StrictContractMiddleware

        app.add_middleware(StrictContractMiddleware, backend=backend)
    app.add_middleware(FaultMiddleware, faults=backend.faults, clock=backend.clock)
    return app
