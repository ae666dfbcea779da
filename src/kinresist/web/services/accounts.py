"""Accounts: users (argon2), API tokens (SHA-256 stored), sessions, study membership."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kinresist.errors import InputError
from kinresist.store.models import ApiToken, Study, StudyMember, User
from kinresist.web.auth import (
    ROLES,
    Principal,
    fingerprint,
    hash_password,
    new_api_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)
from kinresist.web.services._common import NotFound, _aware, _iso, _now, audit_in

if TYPE_CHECKING:
    from kinresist.store.api import Store, Transaction

__all__ = [
    "add_user",
    "authenticate",
    "create_token",
    "grant",
    "principal_for_session",
    "principal_for_token",
    "revoke",
    "revoke_token",
    "session_fingerprint",
    "set_password",
    "set_role",
    "tokens",
    "user_count",
    "users",
]


def _check_role(role: str) -> str:
    if role not in ROLES:
        msg = f"unknown role {role!r}; expected one of {list(ROLES)}"
        raise InputError(msg)
    return role


def _check_name(name: str) -> str:
    text = name.strip()
    if not text or len(text) > 100 or any(ch.isspace() or not ch.isprintable() for ch in text):
        msg = f"user name {name!r}: expected 1-100 printable characters without spaces"
        raise InputError(msg)
    return text


def _check_password(password: str) -> str:
    if len(password) < 8:
        msg = "the password is shorter than 8 characters; choose a longer one"
        raise InputError(msg)
    return password


def add_user(
    store: Store, name: str, password: str, *, role: str, by: str | None = None
) -> dict[str, Any]:
    """Create an account (argon2 hash); refuses a taken name."""
    name = _check_name(name)
    _check_role(role)
    digest = hash_password(_check_password(password))

    def work(tx: Transaction) -> dict[str, Any]:
        if tx.session.scalar(select(User).where(User.name == name)) is not None:
            msg = f"user {name!r} already exists"
            raise InputError(msg)
        user = User(name=name, password_hash=digest, role=role, active=True)
        tx.session.add(user)
        tx.session.flush()
        audit_in(tx, by, "user_add", kind="user", object_id=name, detail={"role": role})
        return {"id": user.id, "name": name, "role": role}

    return store.write(work)


def set_password(store: Store, name: str, password: str, *, by: str | None = None) -> None:
    digest = hash_password(_check_password(password))

    def work(tx: Transaction) -> None:
        user = tx.session.scalar(select(User).where(User.name == name))
        if user is None:
            msg = f"no user {name!r}"
            raise InputError(msg)
        user.password_hash = digest
        audit_in(tx, by, "user_password", kind="user", object_id=name)

    store.write(work)


def set_role(store: Store, name: str, role: str, *, active: bool, by: str | None) -> None:
    _check_role(role)

    def work(tx: Transaction) -> None:
        user = tx.session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(name)
        user.role = role
        user.active = active
        audit_in(
            tx,
            by,
            "user_update",
            kind="user",
            object_id=name,
            detail={"role": role, "active": active},
        )

    store.write(work)


def user_count(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def users(store: Store) -> list[dict[str, Any]]:
    with store.session() as s:
        out = []
        for u in s.scalars(select(User).order_by(User.name)):
            studies = list(
                s.scalars(
                    select(Study.name)
                    .join(StudyMember, StudyMember.study_id == Study.id)
                    .where(StudyMember.user_id == u.id)
                    .order_by(Study.name)
                )
            )
            out.append(
                {
                    "id": u.id,
                    "name": u.name,
                    "role": u.role,
                    "active": u.active,
                    "created": _iso(u.created),
                    "studies": studies,
                }
            )
        return out


def authenticate(store: Store, name: str, password: str) -> Principal | None:
    """The principal for a correct name and password of an active account, else None."""
    with store.session() as s:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            verify_password(_DUMMY_HASH, password)  # same work whether or not the name exists
            return None
        ok = user.active and verify_password(user.password_hash, password)
        stored = user.password_hash
        principal = Principal(name=user.name, role=user.role, id=user.id)
    if not ok:
        return None
    if password_needs_rehash(stored):
        new_hash = hash_password(password)

        def work(tx: Transaction) -> None:
            row = tx.session.get(User, principal.id)
            if row is not None:
                row.password_hash = new_hash

        store.write(work)
    return principal


_DUMMY_HASH = hash_password("kinresist: no such account")


def principal_for_session(store: Store, user_id: Any, pw: Any) -> Principal | None:
    """The session's user when still active and with the same password."""
    if not isinstance(user_id, int):
        return None
    with store.session() as s:
        user = s.get(User, user_id)
        if user is None or not user.active or fingerprint(user.password_hash) != pw:
            return None
        return Principal(name=user.name, role=user.role, id=user.id)


def session_fingerprint(store: Store, user_id: int) -> str:
    with store.session() as s:
        user = s.get(User, user_id)
        return "" if user is None else fingerprint(user.password_hash)


def create_token(store: Store, name: str, *, label: str = "", by: str | None = None) -> str:
    """A new API token for ``name`` (printed once; only its SHA-256 is stored)."""
    token = new_api_token()

    def work(tx: Transaction) -> None:
        user = tx.session.scalar(select(User).where(User.name == name))
        if user is None:
            msg = f"no user {name!r}; add one with `kinresist users add {name} --role analyst`"
            raise InputError(msg)
        tx.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), label=label))
        audit_in(
            tx, by or name, "token_create", kind="user", object_id=name, detail={"label": label}
        )

    store.write(work)
    return token


def tokens(store: Store, user_id: int) -> list[dict[str, Any]]:
    with store.session() as s:
        rows = s.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
        return [
            {
                "id": t.id,
                "label": t.label,
                "created": _iso(t.created),
                "last_used": _iso(t.last_used),
            }
            for t in rows
        ]


def revoke_token(store: Store, principal: Principal, token_id: int) -> None:
    def work(tx: Transaction) -> None:
        row = tx.session.get(ApiToken, token_id)
        if row is None or (row.user_id != principal.id and not principal.is_admin):
            raise NotFound(str(token_id))
        tx.session.delete(row)
        audit_in(tx, principal.name, "token_revoke", kind="api_token", object_id=token_id)

    store.write(work)


def principal_for_token(store: Store, token: str) -> Principal | None:
    digest = token_digest(token)
    with store.session() as s:
        row = s.execute(
            select(ApiToken, User)
            .join(User, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == digest)
        ).first()
        if row is None:
            return None
        tok, user = row
        if not user.active:
            return None
        principal = Principal(name=user.name, role=user.role, id=user.id)
        token_id = tok.id
        stale = tok.last_used is None or _now() - _aware(tok.last_used) > dt.timedelta(minutes=5)
    if stale:

        def touch(tx: Transaction) -> None:
            row2 = tx.session.get(ApiToken, token_id)
            if row2 is not None:
                row2.last_used = _now()

        store.write(touch)
    return principal


def grant(store: Store, name: str, study: str, *, by: str | None = None) -> None:
    """Make ``name`` a member of ``study`` (created when new)."""

    def work(tx: Transaction) -> None:
        user = tx.session.scalar(select(User).where(User.name == name))
        if user is None:
            msg = f"no user {name!r}"
            raise InputError(msg)
        st = tx.get_or_create_study(study)
        if tx.session.get(StudyMember, (user.id, st.id)) is None:
            tx.session.add(StudyMember(user_id=user.id, study_id=st.id))
            audit_in(tx, by, "member_add", kind="study", object_id=st.id, detail={"user": name})

    store.write(work)


def revoke(store: Store, name: str, study_id: int, *, by: str | None = None) -> None:
    def work(tx: Transaction) -> None:
        user = tx.session.scalar(select(User).where(User.name == name))
        member = None if user is None else tx.session.get(StudyMember, (user.id, study_id))
        if member is None:
            raise NotFound(name)
        tx.session.delete(member)
        audit_in(tx, by, "member_remove", kind="study", object_id=study_id, detail={"user": name})

    store.write(work)
