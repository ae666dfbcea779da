"""Dependencies shared by every route: the app's context, who is asking, roles, CSRF, pages.

* :func:`principal` - the single-user mode's local admin, a Bearer token's user, or the session
  cookie's user (None when none of them).
* :func:`page_user` / :func:`api_user` - the same, but a page redirects to the login form and
  the API answers 401 (``WWW-Authenticate: Bearer``).
* :func:`csrf_form` - a page's POSTed form after its CSRF token matched the session's (403
  otherwise). API calls authenticated by a session cookie send the token as ``X-CSRF-Token``;
  Bearer-token calls need none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from kinresist.web import services
from kinresist.web.auth import Principal, same_token
from kinresist.web.services import AccessDenied

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from kinresist.store.api import Store
    from kinresist.web.auth import LoginLimiter, SessionCodec
    from kinresist.web.config import Settings
    from kinresist.web.jobs import JobManager
    from kinresist.web.results import ResultStore

__all__ = [
    "AppContext",
    "CsrfError",
    "LoginRequired",
    "api_user",
    "context",
    "csrf_form",
    "page_user",
    "principal",
    "render",
    "require",
]

#: Form limits (files and fields per request); sizes are limited by the upload middleware.
MAX_FILES = 2000
MAX_FIELDS = 2000
LOCAL_USER = Principal(name="local", role="admin", single_user=True)


@dataclass
class AppContext:
    """What the app holds for its lifetime (``app.state.kinresist``)."""

    settings: Settings
    store: Store
    results: ResultStore
    jobs: JobManager
    codec: SessionCodec
    limiter: LoginLimiter
    uploads_root: Path


class LoginRequired(Exception):
    """A page needs a signed-in user (redirect to the login form)."""


class CsrfError(AccessDenied):
    """A form or cookie-authenticated API call without the session's CSRF token."""


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.kinresist
    return ctx


def session(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = request.state.session
    return data


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal(request: Request) -> Principal | None:
    """Who is asking (see the module docstring); cached on the request."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    ctx = context(request)
    found: Principal | None = None
    token = _bearer(request)
    request.state.via_token = token is not None
    if ctx.settings.single_user:
        found = LOCAL_USER
    elif token is not None:
        found = services.principal_for_token(ctx.store, token)
    else:
        data = session(request)
        if "uid" in data:
            found = services.principal_for_session(ctx.store, data.get("uid"), data.get("pw"))
    request.state.principal = found
    return found


def page_user(request: Request) -> Principal:
    found = principal(request)
    if found is None:
        raise LoginRequired
    return found


def api_user(request: Request) -> Principal:
    found = principal(request)
    if found is None:
        raise HTTPException(
            status_code=401,
            detail="authentication required: send 'Authorization: Bearer <token>' (kinresist users token NAME)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


def require(user: Principal, role: str, what: str) -> None:
    """403 unless ``user`` has at least ``role``."""
    if not user.at_least(role):
        msg = f"your role ({user.role}) cannot {what}; ask an administrator for the {role} role"
        raise AccessDenied(msg)


async def csrf_form(request: Request) -> FormData:
    """The POSTed form, after its ``csrf_token`` matched the session's."""
    form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    token = form.get("csrf_token")
    if not same_token(token if isinstance(token, str) else None, session(request).get("csrf")):
        msg = (
            "the form's security token is missing or out of date; reload the page and submit again"
        )
        raise CsrfError(msg)
    return form


def check_api_csrf(request: Request) -> None:
    """A state-changing API call: Bearer tokens pass; a session cookie needs ``X-CSRF-Token``."""
    if getattr(request.state, "via_token", False) and not context(request).settings.single_user:
        return
    if not same_token(request.headers.get("x-csrf-token"), session(request).get("csrf")):
        if context(request).settings.single_user and request.headers.get("x-requested-with"):
            return  # a script on this machine; browsers cannot send it cross-site without CORS
        msg = (
            "state-changing API calls from a browser session need the X-CSRF-Token header "
            "(or authenticate with a Bearer token)"
        )
        raise CsrfError(msg)


def render(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    """Render a page with the common context (user, CSRF token, workflow groups)."""
    from kinresist.core.registry import group_help
    from kinresist.web.templating import environment

    user = getattr(request.state, "principal", None)
    page = (
        environment()
        .get_template(template)
        .render(
            request=request,
            user=user,
            csrf_token=session(request).get("csrf", ""),
            single_user=context(request).settings.single_user,
            groups=group_help(),
            **values,
        )
    )
    return HTMLResponse(page, status_code=status)
