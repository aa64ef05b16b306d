"""Routes of the web app (see guotu.web.app); the endpoints of this module are being built."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
