"""Bodies the API answers with besides the specs themselves (lists, logs, outputs, uploads)."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from batchpoint.errors import SpecError

T = TypeVar("T")


class ValueList(BaseModel, Generic[T]):
    """Azure's list shape: ``{"value": [...]}``."""

    value: list[T]


class Health(BaseModel):
    """``GET /v1/health``."""

    status: Literal["ok"] = "ok"


class AliasRequest(BaseModel):
    """``PUT /v1/models/{name}/aliases/{alias}``: the version the alias points to."""

    version: str = Field(pattern=r"^\d+$")


class LogChunk(BaseModel):
    """A job's log text from ``offset``; call again with ``next_offset`` until ``done``."""

    text: str
    next_offset: int
    done: bool


class OutputFile(BaseModel):
    """One file of a job's output, relative to its output folder."""

    path: str
    size: int


class Upload(BaseModel):
    """Where an uploaded file was stored."""

    uri: str


def same_key(field: str, in_body: str | None, in_path: str) -> None:
    """Refuse a body whose ``field`` differs from the path's (None in the body means "take the path's")."""
    if in_body is not None and in_body != in_path:
        raise SpecError(field, f"is {in_body!r} in the body but {in_path!r} in the URL", "the same value in both")
