"""``GET /v1/health``: the one route without a token."""

from __future__ import annotations

from fastapi import APIRouter

from batchpoint.api.answers import Health

router = APIRouter(tags=["health"])


@router.get("/v1/health")
def health() -> Health:
    """The API process answers."""
    return Health()
