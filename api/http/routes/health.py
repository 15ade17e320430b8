"""`/healthz` (the process answers) and `/readyz` (the store answers; how far behind things are)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.http.services import Services, services

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _readiness(s: Services) -> dict[str, Any]:
    states = s.views.status()
    return {"status": "ready", "store": "reachable",
            "log_size": states[0].head if states else 0,
            "view_lag_events": max((st.lag_events for st in states), default=0),
            "last_checkpoint_age_s": s.checkpoint_age_s(),
            "unsealed_positions": s.unsealed_positions(),
            "this_worker_seals": s.sealing is not None and s.sealing.elected,
            "view_follower_errors": s.follower.errors if s.follower is not None else None}


@router.get("/readyz", summary="The store is reachable; view lag and checkpoint age",
            responses={503: {"description": "the store cannot be reached"}})
async def readyz(request: Request) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(_readiness, services(request)))
