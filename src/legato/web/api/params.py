"""Path and query parameters shared by the routers, each bounded (B-07, S-12)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import AfterValidator

from legato.web.catalog import Definitions
from legato.web.schemas import clean_text
from legato.web.state import WebState, web_state

RunId = Annotated[
    str,
    Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$", description="a run id"),
]
NodeKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="an asset, task or check key, e.g. sales.clean_orders",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
AfterId = Annotated[int, Query(ge=0, le=2**62, description="return ids greater than this")]
BeforeId = Annotated[int | None, Query(ge=1, le=2**62, description="return ids less than this")]
Timestamp = Annotated[
    float | None, Query(ge=0, le=1e11, description="seconds since the epoch (UTC)")
]
KeyQuery = Annotated[
    str | None, Query(max_length=255), AfterValidator(lambda v: v and clean_text(v))
]
PartitionQuery = Annotated[
    str | None, Query(max_length=1024), AfterValidator(lambda v: v and clean_text(v))
]


def _tag(value: str) -> str:
    if "=" not in value:
        raise ValueError(f"a tag filter is key=value (e.g. team=finance), not {value!r}")
    return clean_text(value)


TagQuery = Annotated[
    list[Annotated[str, AfterValidator(_tag)]],
    Query(max_length=10, description="key=value; repeat for several (all must match)"),
]
State = Annotated[WebState, Depends(web_state)]


def current_definitions(state: State) -> Definitions:
    return state.catalog.current()


Defs = Annotated[Definitions, Depends(current_definitions)]
