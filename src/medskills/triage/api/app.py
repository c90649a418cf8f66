"""The app factory: routers, one exception-handler family, the size cap, and the runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from medskills.triage.api.schemas import API_DESCRIPTION, API_VERSION, SERVICE_NAME
from medskills.triage.api.settings import ServiceSettings
from medskills.triage.prediction import Predictor

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(settings: ServiceSettings | None = None, predictor: Predictor | None = None) -> FastAPI:
    """Build the triage API. ``predictor`` wins over ``settings.pack_dir``, which wins over the built-in pack.

    The predictor (or pack) is loaded once, at startup; the worker thread stops at shutdown.
    """
    from fastapi import FastAPI

    from medskills.triage.api.limits import BodySizeLimit
    from medskills.triage.api.routes_predict import predict_router
    from medskills.triage.api.routes_study import predict_study_router
    from medskills.triage.api.routes_service import service_router
    from medskills.triage.api.runtime import load_runtime
    from medskills.triage.api.status import install_exception_handlers

    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = load_runtime(settings, predictor)
        logger.info("triage service ready=%s queue_size=%d", app.state.runtime.predictor is not None,
                    settings.queue_size)
        try:
            yield
        finally:
            app.state.runtime.queue.shutdown()

    app = FastAPI(title=SERVICE_NAME, version=API_VERSION, lifespan=lifespan, description=API_DESCRIPTION)
    app.include_router(service_router())
    app.include_router(predict_router())
    study_router = predict_study_router()
    if study_router is not None:  # only with MEDSKILLS_DICOMWEB_URL set
        app.include_router(study_router)
    install_exception_handlers(app, retry_after_seconds=settings.retry_after_seconds)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    return app
