"""Request and response models of sessions, users, API tokens and the audit log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from legato.web.policy import Role
from legato.web.schemas import Text, _Strict


class LoginRequest(_Strict):
    username: Annotated[Text, Field(min_length=1, max_length=64)]
    password: Annotated[Text, Field(min_length=1, max_length=1024)]


class TokenRequest(_Strict):
    label: Annotated[Text, Field(max_length=128)] = ""
    expires_in: Annotated[
        Text | None,
        Field(
            max_length=32,
            description='how long the token lasts, e.g. "30d" or "12h" (1 minute to 3650 days; '
            "default: the server's api_token_expiry setting, 90 days unless set)",
        ),
    ] = None


class UserPatch(_Strict):
    role: Role | None = None
    active: bool | None = None


class PrincipalOut(BaseModel):
    name: str
    role: str
    via: str


class SessionOut(BaseModel):
    user: PrincipalOut | None
    csrf_token: str
    local_mode: bool = Field(description="true when the implicit local admin applies")
    login_hint: str | None = Field(
        default=None, description="how to get in, when not logged in (e.g. local mode's token)"
    )


class UserOut(BaseModel):
    name: str
    role: str
    active: bool
    created_at: float


class UsersOut(BaseModel):
    users: list[UserOut]


class TokenOut(BaseModel):
    token_id: str
    label: str
    created_at: float
    expires_at: float
    last_used_at: float | None = Field(description="recorded at most once a minute")
    revoked_at: float | None
    state: Literal["active", "expired", "revoked"]


class TokensOut(BaseModel):
    tokens: list[TokenOut]


class CreatedToken(TokenOut):
    token: str = Field(description="shown once; store it now")


class AuditEntryOut(BaseModel):
    id: int
    ts: float
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before_id: int | None
