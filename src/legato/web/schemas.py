"""Request and response models of the REST API: validation at the boundary, and the OpenAPI spec.

Every string a client sends is bounded in length and refused if it holds a NUL or an unpaired
surrogate (neither can be stored faithfully in every database); run config must be a JSON
object that the store can encode. This module holds the checked text types, the base of request
models and the one error shape; the models of each resource are in ``schemas_<resource>``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(clean_text)]
Key = Annotated[str, Field(max_length=255), AfterValidator(clean_text)]
Term = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(clean_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthOut(BaseModel):
    status: Literal["ok"]
    daemon: dict[str, Any]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # e.g. run_id on a duplicate launch

    code: str
    message: str
    field: str | None = None
    hint: str | None = None


class ErrorOut(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorDetail
