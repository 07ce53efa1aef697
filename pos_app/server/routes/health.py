"""``GET /v1/health``: liveness (and, for a signed-in caller, the version, database kind and
server time); ``GET /v1/tls/ca.pem``: the private CA certificate. No authentication needed."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

import pos_app
from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import Health
from pos_app.server.deps import DbSession, OptionalPrincipal, SettingsDep
from pos_app.server.errors import ApiError
from pos_app.server.routes.responses import errors
from pos_app.server.tls import served_ca_pem

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, response_model_exclude_none=True)
def health(session: DbSession, settings: SettingsDep, caller: OptionalPrincipal) -> Health:
    """Server status, ``{"status": "ok"}`` once the database answers. With a valid session
    or channel token also ``version``, ``database`` (``sqlite`` or ``postgresql``) and
    ``server_time`` (the server clock, UTC, which decides every expiry); anonymous callers
    are not told what runs here. A bad token is answered as anonymous, never 401."""
    session.execute(text("SELECT 1"))
    if caller is None:
        return Health(status="ok")
    return Health(status="ok", version=pos_app.__version__,
                  database=session.get_bind().dialect.name, server_time=settings.clock.now())


@router.get("/tls/ca.pem", response_class=Response, responses={
    200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}},
          "description": "The private CA certificate (PEM) that terminals pin."},
    **errors(404, s404="not_found: this server does not run on its own private CA")})
def tls_ca() -> Response:
    """The server's private CA certificate (public data, no authentication), so a terminal
    can pair with ``--ca-fingerprint``: it checks the SHA-256 of this certificate against the
    fingerprint the installer read from the server's start-up log, and only then pins it."""
    pem = served_ca_pem()
    if pem is None:
        raise ApiError(ErrorCode.NOT_FOUND, "This server does not publish a private CA "
                       "certificate; pair with --ca-file.")
    return Response(content=pem, media_type="application/x-pem-file",
                    headers={"Cache-Control": "no-cache"})
