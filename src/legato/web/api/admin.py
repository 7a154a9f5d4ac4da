"""Administration: users (role, active), their API tokens, and the audit log. Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from legato.web import accounts, tokens
from legato.web.api.params import BeforeId, Limit, State
from legato.web.api.session import TokenId, token_out
from legato.web.audit import audit, list_audit
from legato.web.auth import principal_of
from legato.web.errors import ApiError
from legato.web.policy import V1
from legato.web.schemas_auth import (
    AuditEntryOut,
    AuditPage,
    TokensOut,
    UserOut,
    UserPatch,
    UsersOut,
)

router = APIRouter(prefix=V1, tags=["admin"])

UserName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")]


def _user_out(user: accounts.User) -> UserOut:
    return UserOut(
        name=user.name, role=user.role.value, active=user.active, created_at=user.created_at
    )


@router.get("/users", response_model=UsersOut)
def list_users(state: State) -> UsersOut:
    """Every user with role and state (never a password hash)."""
    return UsersOut(users=[_user_out(u) for u in accounts.list_users(state.store)])


@router.patch("/users/{name}", response_model=UserOut)
def change_user(name: UserName, body: UserPatch, request: Request, state: State) -> UserOut:
    """Change a user's role or deactivate it; its sessions and tokens end at once."""
    if body.role is None and body.active is None:
        raise ApiError(400, "nothing to change", field="body", hint="send role and/or active")
    principal = principal_of(request)
    if (
        principal.user is not None
        and principal.user.name == name
        and (body.active is False or (body.role is not None and body.role.value != "admin"))
    ):
        raise ApiError(
            409,
            "an admin cannot demote or deactivate itself",
            field="name",
            hint="ask another admin, or use 'legato users' on the server",
        )
    user = accounts.update_user(
        state.store, name, role=body.role.value if body.role else None, active=body.active
    )
    audit(
        state.store,
        principal.actor,
        "user.update",
        name,
        {k: v for k, v in body.model_dump(mode="json").items() if v is not None},
    )
    return _user_out(user)


@router.get("/users/{name}/tokens", response_model=TokensOut)
def list_user_tokens(name: UserName, state: State) -> TokensOut:
    """A user's API tokens, active, expired and revoked (never their secrets)."""
    user = accounts.get_user(state.store, name)
    now = tokens.clock()
    return TokensOut(tokens=[token_out(t, now) for t in tokens.list_tokens(state.store, user)])


@router.delete("/users/{name}/tokens/{token_id}", status_code=204)
def revoke_user_token(
    name: UserName, token_id: TokenId, request: Request, state: State
) -> Response:
    """Revoke one of a user's tokens: it stops working on its next request."""
    user = accounts.get_user(state.store, name)
    if not tokens.revoke_token(state.store, token_id, user):
        raise ApiError(404, f"{name!r} has no active token {token_id!r}", field="token_id")
    audit(state.store, principal_of(request).actor, "token.revoke", name, {"token_id": token_id})
    return Response(status_code=204)


@router.get("/audit", response_model=AuditPage)
def read_audit(state: State, before_id: BeforeId = None, limit: Limit = 100) -> AuditPage:
    """Operator and admin actions, newest first."""
    entries = list_audit(state.store, before_id=before_id, limit=limit)
    next_id = entries[-1].id if len(entries) == limit else None
    return AuditPage(
        entries=[
            AuditEntryOut(
                id=e.id, ts=e.ts, actor=e.actor, action=e.action, target=e.target, detail=e.detail
            )
            for e in entries
        ],
        next_before_id=next_id,
    )
