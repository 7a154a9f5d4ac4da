"""Administration: users (role, active) and the audit log. Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from legato.web import accounts
from legato.web.api.params import BeforeId, Limit, State
from legato.web.audit import audit, list_audit
from legato.web.auth import principal_of
from legato.web.errors import ApiError
from legato.web.policy import V1
from legato.web.schemas import AuditEntryOut, AuditPage, UserOut, UserPatch, UsersOut

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
