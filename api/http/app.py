"""The FastAPI application: `create_app(url)` for one store; `app_from_env()` is what
`fundledger serve` gives uvicorn (each worker process builds its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.config import Settings
from api.http import docs, problems
from api.http.routes import (
    attachments,
    audit,
    counties,
    health,
    history,
    programmes,
    projects,
    public,
    writes,
)
from api.http.schemas import PROBLEM_RESPONSES
from api.http.services import Services

TITLE = "fundledger — 专项资金防篡改台账 API"


def create_app(settings: Settings, background: bool = False) -> FastAPI:
    """The app; `background` (as `fundledger serve` runs it): a follower for the read models
    and a place in the election of the store's sealer (api.http.sealing)."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services(settings, background)
        try:
            yield
        finally:
            app.state.services.close()

    app = FastAPI(title=TITLE, version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Bearer tokens from `fundledger tokens issue`; every POST takes "
                              "an Idempotency-Key; errors are RFC 9457 problem+json with the "
                              "rule, the field and the message in Chinese and English.")
    problems.install(app)
    docs.install(app)
    for module in (health, programmes, writes, counties, projects, history, audit,
                   attachments, public):
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    return app


def app_from_env() -> FastAPI:
    """The app on the settings of the environment (uvicorn's factory in each worker)."""
    return create_app(Settings.from_env(), background=True)
