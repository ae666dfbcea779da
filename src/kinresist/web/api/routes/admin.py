"""Accounts: the administrator's user list and audit log; everyone's own API tokens and password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from kinresist.errors import InputError
from kinresist.web import services
from kinresist.web.api.deps import context, csrf_form, page_user, render, require
from kinresist.web.auth import ROLES, verify_password

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _users_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    ctx = context(request)
    user = page_user(request)
    require(user, "admin", "manage accounts")
    return render(
        request,
        "users.html.j2",
        status=status,
        title="Accounts",
        users=services.users(ctx.store),
        roles=ROLES,
        studies=services.study_names(ctx.store, user),
        error=error,
    )


@router.get("/admin/users")
def users_page(request: Request) -> Response:
    return _users_page(request)


@router.post("/admin/users")
async def add_user(request: Request) -> Response:
    ctx = context(request)
    user = page_user(request)
    form = await csrf_form(request)
    require(user, "admin", "manage accounts")
    name = str(form.get("name") or "")
    try:
        await run_in_threadpool(
            services.add_user,
            ctx.store,
            name,
            str(form.get("password") or ""),
            role=str(form.get("role") or "viewer"),
            by=user.name,
        )
        for study in form.getlist("studies"):
            services.grant(ctx.store, name.strip(), str(study), by=user.name)
    except InputError as exc:
        return _users_page(request, error=exc.one_line(), status=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}")
async def update_user(request: Request, name: str) -> Response:
    ctx = context(request)
    user = page_user(request)
    form = await csrf_form(request)
    require(user, "admin", "manage accounts")
    try:
        services.set_role(
            ctx.store,
            name,
            str(form.get("role") or "viewer"),
            active=form.get("active") == "on",
            by=user.name,
        )
    except InputError as exc:
        return _users_page(request, error=exc.one_line(), status=422)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit")
def audit_page(request: Request) -> Response:
    ctx = context(request)
    user = page_user(request)
    require(user, "admin", "read the audit log")
    return render(request, "audit.html.j2", title="Audit log", rows=services.audit_rows(ctx.store))


def _account_page(
    request: Request, *, token: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    ctx = context(request)
    user = page_user(request)
    return render(
        request,
        "account.html.j2",
        status=status,
        title="Your account",
        tokens=[] if user.id is None else services.tokens(ctx.store, user.id),
        new_token=token,
        error=error,
    )


@router.get("/account")
def account(request: Request) -> Response:
    return _account_page(request)


@router.post("/account/tokens")
async def new_token(request: Request) -> Response:
    ctx = context(request)
    user = page_user(request)
    form = await csrf_form(request)
    if user.id is None:
        return _account_page(
            request, error="single-user mode has no accounts or tokens", status=422
        )
    token = services.create_token(
        ctx.store, user.name, label=str(form.get("label") or ""), by=user.name
    )
    response = _account_page(request, token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int) -> Response:
    ctx = context(request)
    user = page_user(request)
    await csrf_form(request)
    services.revoke_token(ctx.store, user, token_id)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    from sqlalchemy import select

    from kinresist.store.models import User

    ctx = context(request)
    user = page_user(request)
    form = await csrf_form(request)
    if user.id is None:
        return _account_page(request, error="single-user mode has no password", status=422)
    with ctx.store.session() as s:
        row = s.scalar(select(User).where(User.id == user.id))
        current = "" if row is None else row.password_hash
    if not verify_password(current, str(form.get("current") or "")):
        return _account_page(request, error="the current password is wrong", status=422)
    try:
        services.set_password(ctx.store, user.name, str(form.get("new") or ""), by=user.name)
    except InputError as exc:
        return _account_page(request, error=exc.one_line(), status=422)
    # keep this session: it carries the new password's fingerprint
    request.state.session["pw"] = services.session_fingerprint(ctx.store, user.id)
    request.state.session_dirty = True
    return RedirectResponse("/account", status_code=303)
