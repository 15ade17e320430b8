"""The caller: a bearer token, checked against the tokens table, gives the actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.http.services import services
from api.tokens import TokenRecord, TokenRefused

_bearer = HTTPBearer(auto_error=False, description="a token from `fundledger tokens issue`")


async def caller(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> TokenRecord:
    if credentials is None:
        raise TokenRefused.of("token", reason="missing", reason_zh="缺少令牌")
    s = services(request)
    return await run_in_threadpool(s.tokens.authenticate, credentials.credentials, s.today())


Caller = Annotated[TokenRecord, Depends(caller)]
