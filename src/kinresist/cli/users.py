"""``kinresist users``: web-app accounts (argon2-hashed passwords), API tokens, study membership.

Passwords are read from standard input (typed twice at a terminal, or the first line of a pipe:
``printf '%s\\n' "$PW" | kinresist users add ana --role analyst``); never from the command line,
where other users of the machine could read them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kinresist.cli._common import DbOpt, emit

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

_ROLES = ("viewer", "analyst", "admin")


def _password() -> str:
    from kinresist.errors import InputError

    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            msg = "the two passwords differ; run the command again"
            raise InputError(msg)
        return first
    line = sys.stdin.readline()
    if not line:
        msg = "no password on standard input; pipe one line, e.g. printf '%s\\n' \"$PW\" | kinresist users add ..."
        raise InputError(msg)
    return line.rstrip("\r\n")


def _role(role: str) -> str:
    from kinresist.errors import InputError

    if role not in _ROLES:
        msg = f"--role {role!r}: expected one of {', '.join(_ROLES)}"
        raise InputError(msg)
    return role


@app.command("add", no_args_is_help=True)
def add(
    name: Annotated[str, typer.Argument(help="Account name (no spaces).")],
    role: Annotated[str, typer.Option("--role", help="viewer, analyst or admin.")] = "viewer",
    study: Annotated[
        list[str] | None,
        typer.Option("--study", help="Make the user a member of this study (repeat)."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Add an account; the password is read from standard input."""
    from kinresist.store import open_store
    from kinresist.web import services

    role = _role(role)
    password = _password()
    with open_store(db) as store:
        services.add_user(store, name, password, role=role, by="cli")
        for s in study or []:
            services.grant(store, name, s, by="cli")
    sys.stderr.write(f"added {name} ({role})\n")


@app.command("token", no_args_is_help=True)
def token(
    name: Annotated[str, typer.Argument(help="Account name.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    db: DbOpt = None,
) -> None:
    """Print a new API token for NAME (use as 'Authorization: Bearer TOKEN'); only its hash is kept."""
    from kinresist.store import open_store
    from kinresist.web import services

    with open_store(db) as store:
        value = services.create_token(store, name, label=label, by="cli")
    sys.stdout.write(value + "\n")


@app.command("grant", no_args_is_help=True)
def grant(
    name: Annotated[str, typer.Argument(help="Account name.")],
    study: Annotated[list[str], typer.Option("--study", help="Study (repeat; created when new).")],
    db: DbOpt = None,
) -> None:
    """Make NAME a member of one or more studies."""
    from kinresist.store import open_store
    from kinresist.web import services

    with open_store(db) as store:
        for s in study:
            services.grant(store, name, s, by="cli")


@app.command("passwd", no_args_is_help=True)
def passwd(name: Annotated[str, typer.Argument(help="Account name.")], db: DbOpt = None) -> None:
    """Set NAME's password (read from standard input); ends the user's sessions."""
    from kinresist.store import open_store
    from kinresist.web import services

    password = _password()
    with open_store(db) as store:
        services.set_password(store, name, password, by="cli")


@app.command("list")
def list_users(db: DbOpt = None) -> None:
    """The accounts as JSON: name, role, active, studies."""
    from kinresist.store import open_store
    from kinresist.web import services

    with open_store(db) as store:
        emit(services.users(store))
