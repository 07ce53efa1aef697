"""Routes of `/v1` for holds (``shared/API.md``)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["holds"])
