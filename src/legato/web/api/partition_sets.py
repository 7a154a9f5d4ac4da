"""Dynamic partition sets: list them, page through a set's keys, add keys and remove one.

A set is known when an asset of the current definitions is partitioned by it or the store holds
keys of it; adding keys to an unknown set is refused (a typo would otherwise create a set no
asset reads). Keys are checked against the partition-key grammar by the store before any write.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator

from legato.definitions.partitions import check_key
from legato.errors import PartitionError
from legato.store.partitions import add_dynamic_keys, dynamic_sets, remove_dynamic_keys
from legato.store.web_queries import dynamic_keys_page, dynamic_set_size
from legato.web.api._convert import decode_key_cursor, encode_key_cursor
from legato.web.api.params import Defs, State
from legato.web.audit import audit
from legato.web.auth import principal_of
from legato.web.catalog import Definitions
from legato.web.errors import ApiError
from legato.web.partition_view import dynamic_sets_of
from legato.web.policy import V1
from legato.web.schemas import clean_text
from legato.web.schemas_ops import (
    AddedKeysOut,
    AddKeysRequest,
    DynamicKeyOut,
    DynamicSetOut,
    DynamicSetPage,
    DynamicSetsOut,
)

router = APIRouter(prefix=V1, tags=["partitions"])

GRAMMAR = (
    "a partition key is 1 to 256 characters with no '/', '\\', ',', '=', '|', control or "
    "invisible characters, no leading or trailing space, not '.' or '..', no drive prefix "
    "like 'C:' and none of these percent-encoded"
)
SetName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$",
        description="a dynamic partition set, e.g. tenants",
    ),
]
PartitionKey = Annotated[
    str,
    Path(min_length=1, max_length=1024, description="a key of the set (URL-encoded)"),
    AfterValidator(clean_text),
]
KeysCursor = Annotated[str | None, Query(max_length=6000, description="next_cursor of a page")]
Prefix = Annotated[
    str,
    Query(max_length=256, description="only keys starting with this (literal)"),
    AfterValidator(clean_text),
]
KeysLimit = Annotated[int, Query(ge=1, le=1000, description="page size")]


def _users(defs: Definitions) -> dict[str, list[str]]:
    """Dynamic set name → the assets partitioned by it."""
    users: dict[str, list[str]] = {}
    for key, node in defs.nodes.items():
        for name in sorted(dynamic_sets_of(node.partitions)):
            users.setdefault(name, []).append(key)
    return users


def _known(state: State, defs: Definitions, name: str) -> tuple[int, list[str]]:
    """(keys in the set, assets using it), or 404 if neither the definitions nor the store know
    the set."""
    users = _users(defs)
    count = dynamic_set_size(state.store, name)
    if not count and name not in users:
        known = sorted(set(users) | set(dynamic_sets(state.store)))[:20]
        raise ApiError(
            404,
            f"no dynamic partition set {name!r}",
            field="name",
            hint=f"the sets are {known}" if known else "no asset uses dynamic partitions",
        )
    return count, users.get(name, [])


def _refuse(exc: PartitionError, field: str) -> ApiError:
    return ApiError(400, exc.message, field=field, hint=f"{exc.hint}; {GRAMMAR}")


@router.get("/partitions/sets", response_model=DynamicSetsOut)
def list_sets(state: State, defs: Defs) -> DynamicSetsOut:
    """Every dynamic partition set the definitions use or the store holds, with its number of
    keys and the assets partitioned by it."""
    users = _users(defs)
    counts = dynamic_sets(state.store)
    return DynamicSetsOut(
        sets=[
            DynamicSetOut(name=name, count=counts.get(name, 0), assets=users.get(name, []))
            for name in sorted(set(users) | set(counts))
        ]
    )


@router.get("/partitions/sets/{name}", response_model=DynamicSetPage)
def set_keys(
    name: SetName,
    state: State,
    defs: Defs,
    prefix: Prefix = "",
    cursor: KeysCursor = None,
    limit: KeysLimit = 200,
) -> DynamicSetPage:
    """The keys of one set in key order with when and by whom each was added; continue with
    ``cursor``."""
    count, assets = _known(state, defs, name)
    after = decode_key_cursor(cursor) if cursor else None
    rows = dynamic_keys_page(state.store, name, after=after, prefix=prefix, limit=limit)
    return DynamicSetPage(
        name=name,
        count=count,
        assets=assets,
        keys=[DynamicKeyOut(key=r.key, added_at=r.added_at, added_by=r.added_by) for r in rows],
        next_cursor=encode_key_cursor(rows[-1].key) if len(rows) == limit else None,
    )


@router.post("/partitions/sets/{name}", response_model=AddedKeysOut)
def add_keys(
    name: SetName, body: AddKeysRequest, request: Request, state: State, defs: Defs
) -> AddedKeysOut:
    """Add keys to a set (e.g. a new tenant); keys already in it are left as they are. A key
    outside the grammar is a 400 naming it, and then nothing is added."""
    _known(state, defs, name)
    principal = principal_of(request)
    try:
        added = add_dynamic_keys(state.store, name, body.keys, added_by=principal.actor)
    except PartitionError as exc:
        raise _refuse(exc, "keys") from None
    new = set(added)
    already = [k for k in dict.fromkeys(body.keys) if k not in new]
    if added:
        detail = {"added": added[:50], "count": len(added)}
        audit(state.store, principal.actor, "partitions.add", name, detail)
    return AddedKeysOut(
        name=name,
        added=added,
        already_present=already,
        count=dynamic_set_size(state.store, name),
    )


@router.delete("/partitions/sets/{name}/{partition_key}", status_code=204)
def remove_key(
    name: SetName, partition_key: PartitionKey, request: Request, state: State, defs: Defs
) -> Response:
    """Remove one key from a set (its materializations are kept)."""
    _known(state, defs, name)
    try:
        check_key(partition_key)
    except PartitionError as exc:
        raise _refuse(exc, "partition_key") from None
    if not remove_dynamic_keys(state.store, name, [partition_key]):
        raise ApiError(
            404,
            f"the set {name!r} has no key {partition_key!r}",
            field="partition_key",
            hint=f"GET /api/v1/partitions/sets/{name} lists its keys",
        )
    audit(
        state.store, principal_of(request).actor, "partitions.remove", name, {"key": partition_key}
    )
    return Response(status_code=204)
