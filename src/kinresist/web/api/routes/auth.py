"""Login and logout (session cookie; rate-limited failed logins)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kinresist.web import services
from kinresist.web.api.deps import context, csrf_form, principal, render
from kinresist.web.auth import new_csrf_token

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme) is followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    ctx = context(request)
    if ctx.settings.single_user or principal(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(
        request,
        "login.html.j2",
        next=_safe_next(next),
        no_accounts=services.user_count(ctx.store) == 0,
        error=None,
    )


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = context(request)
    form = await csrf_form(request)
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or "/"))
    client = request.client.host if request.client else "unknown"
    keys = (f"ip:{client}", f"user:{name.lower()}")
    wait = ctx.limiter.retry_after(*keys)
    if wait > 0:
        seconds = math.ceil(wait)
        page = render(
            request,
            "login.html.j2",
            status=429,
            next=target,
            no_accounts=False,
            error=f"Too many failed logins; try again in {seconds} s.",
        )
        page.headers["Retry-After"] = str(seconds)
        return page
    found = services.authenticate(ctx.store, name, password)
    if found is None or found.id is None:
        ctx.limiter.failed(*keys)
        return render(
            request,
            "login.html.j2",
            status=401,
            next=target,
            no_accounts=False,
            error="Wrong name or password.",
        )
    ctx.limiter.succeeded(keys[1])
    request.state.session = {
        "uid": found.id,
        "pw": services.session_fingerprint(ctx.store, found.id),
        "csrf": new_csrf_token(),  # a new token at login (no session fixation)
    }
    request.state.session_dirty = True
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await csrf_form(request)
    request.state.session = {"csrf": new_csrf_token()}
    request.state.session_dirty = True
    return RedirectResponse("/login", status_code=303)
