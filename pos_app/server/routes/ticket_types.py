"""Routes of `/v1` for ticket types (``shared/API.md``)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["ticket-types"])
