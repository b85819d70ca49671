"""What the API answers, as the OpenAPI document declares it, and one shape for every error.

Every 4xx/5xx body is ``{"error": "<one line>", "detail": ...}``: FastAPI's own 404 and 405 say
``{"detail": "..."}`` unless told otherwise, and a client (or a fuzzer reading ``/openapi.json``)
should not have to guess which shape it got. The routes return pre-serialised bodies for speed, so
the models below only document them; the fuzzing tests check the bodies against them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException


class ErrorBody(BaseModel):
    """What every error answer of the API holds."""

    error: str = Field(description="one line saying what was wrong, e.g. the rule a query parameter broke")
    detail: Any = Field(None, description="machine-readable detail (the validation errors, or the same line)")


class DataBody(BaseModel):
    """The story's payload: the same row for every key."""

    data: list[str]


class HealthBody(BaseModel):
    status: str = Field(description="ok")
    mode: str


class ReadyBody(BaseModel):
    status: str = Field(description="ready")
    mode: str


Responses = dict[int | str, dict[str, Any]]


def error_response(status: int, description: str) -> Responses:
    """An OpenAPI ``responses`` entry: ``status`` answers with the error shape."""
    return {status: {"model": ErrorBody, "description": description}}


def ok_response(model: type[BaseModel], description: str) -> Responses:
    """An OpenAPI ``responses`` entry for a 200 whose JSON body is ``model`` (for pre-serialised bodies)."""
    return {200: {"model": model, "description": description}}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    line = str(exc.detail)
    return JSONResponse({"error": line, "detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """404, 405 and any other ``HTTPException`` answer in the shape of ``ErrorBody``."""
    app.add_exception_handler(HTTPException, _http_error)
