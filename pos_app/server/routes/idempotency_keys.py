"""Routes of `/v1` for idempotency keys (``shared/API.md``)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["idempotency-keys"])
