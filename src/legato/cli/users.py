"""``legato users``: who may use the web UI and API — users, their roles and their API tokens."""

from __future__ import annotations

import sys

import click

from legato.cli._console import console, err_console, when
from legato.cli._project import open_store, settings_of

ROLES = click.Choice(["viewer", "operator", "admin"])


@click.group()
def users() -> None:
    """Manage who may use the web UI and API: users, roles and API tokens."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=ROLES, required=True, help="viewer, operator or admin.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@click.pass_context
def add_user(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create user NAME. Prompts for a password on a terminal, else generates one and shows it
    once on the terminal (it is stored only as a scrypt hash and never logged)."""
    from legato.web.accounts import add_user as add
    from legato.web.passwords import generate_password

    generated = False
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = click.prompt(
            "Password (empty: generate one)",
            hide_input=True,
            confirmation_prompt=True,
            default="",
            show_default=False,
        )
        generated = not password
    else:
        generated = True
    if generated:
        password = generate_password()
    user = add(open_store(ctx), name, role, password)
    console.print(f"created user {user.name!r} with role {user.role}")
    if generated:
        click.echo(f"password (shown once, store it now): {password}")


@users.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """List users with role and state."""
    from legato.web.accounts import list_users as all_users

    for user in all_users(open_store(ctx)):
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.name}\t{user.role}\t{state}")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLES)
@click.pass_context
def set_role(ctx: click.Context, name: str, role: str) -> None:
    """Change NAME's role; its sessions and tokens stop working at once."""
    from legato.web.accounts import update_user

    update_user(open_store(ctx), name, role=role)
    console.print(f"user {name!r} is now {role}; its sessions and tokens were ended")


@users.command("deactivate")
@click.argument("name")
@click.pass_context
def deactivate(ctx: click.Context, name: str) -> None:
    """Stop NAME from logging in; its sessions and tokens stop working at once."""
    from legato.web.accounts import update_user

    update_user(open_store(ctx), name, active=False)
    console.print(f"user {name!r} is deactivated")


@users.command("activate")
@click.argument("name")
@click.pass_context
def activate(ctx: click.Context, name: str) -> None:
    """Allow a deactivated user to log in again."""
    from legato.web.accounts import update_user

    update_user(open_store(ctx), name, active=True)
    console.print(f"user {name!r} is active")


@users.command("token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@click.option(
    "--expires-in",
    metavar="DURATION",
    default=None,
    help="How long the token lasts, e.g. 30d or 12h (default: the api_token_expiry setting, "
    "90 days unless set).",
)
@click.pass_context
def token(ctx: click.Context, name: str, label: str, expires_in: str | None) -> None:
    """Create an API token for NAME (shown once; send it as 'Authorization: Bearer …')."""
    from legato.web.accounts import get_user
    from legato.web.tokens import create_token, lifetime, list_tokens

    lasts = settings_of(ctx).api_token_expiry
    if expires_in is not None:
        lasts = lifetime(expires_in, where="--expires-in")
    store = open_store(ctx)
    user = get_user(store, name)
    token_id, secret = create_token(store, user, label[:128], lifetime=lasts)
    expires = next(t.expires_at for t in list_tokens(store, user) if t.token_id == token_id)
    err_console.print(
        f"token {token_id} for {name!r}, expires {when(expires)} (shown once, store it now):"
    )
    click.echo(secret)


@users.command("tokens")
@click.argument("name")
@click.pass_context
def tokens(ctx: click.Context, name: str) -> None:
    """List NAME's API tokens: id, state, expiry, last use and label (never the secrets)."""
    from legato.web.accounts import get_user
    from legato.web.tokens import clock, list_tokens

    store = open_store(ctx)
    now = clock()
    for t in list_tokens(store, get_user(store, name)):
        state = t.state(now)
        ended = t.revoked_at if state == "revoked" else t.expires_at
        click.echo(
            f"{t.token_id}\t{state}\t{'expires' if state == 'active' else 'since'} "
            f"{when(ended)}\tlast used {when(t.last_used_at) if t.last_used_at else 'never'}"
            f"\t{t.label}"
        )


@users.command("revoke-token")
@click.argument("token_id")
@click.pass_context
def revoke_token(ctx: click.Context, token_id: str) -> None:
    """Revoke the API token TOKEN_ID (of any user; 'legato users tokens NAME' lists the ids):
    it stops working on its next request."""
    from legato.errors import NotFoundError
    from legato.web.tokens import revoke_token as revoke
    from legato.web.tokens import token_owner

    store = open_store(ctx)
    owner = token_owner(store, token_id)
    if owner is None or not revoke(store, token_id):
        raise NotFoundError(
            f"no active API token {token_id[:16]!r}",
            obj=token_id[:16],
            hint="list a user's tokens with 'legato users tokens NAME'",
        )
    console.print(f"token {token_id} of {owner!r} is revoked")
