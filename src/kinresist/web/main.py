"""The app factory: :func:`create_app` (``kinresist serve`` runs it with uvicorn).

Start-up opens (and migrates) the store, marks jobs a previous server left unfinished as failed,
and creates the work folders (``results/``, ``uploads/``). Middleware, outermost first:

* request-size limit: a body over ``max_upload_mb`` is refused with 413 before it is read
  (``Content-Length``) or as soon as it passes the limit (chunked uploads);
* single-user mode only: ``Host`` must be a loopback name (no DNS rebinding from a web page);
* session: the signed cookie is read into ``request.state.session`` (a CSRF token is created
  for every visitor) and re-issued when it changed; security headers on every answer, a strict
  Content-Security-Policy on the app's pages (scripts only from ``/static``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kinresist._version import __version__
from kinresist.errors import KinresistError
from kinresist.web.api.deps import AppContext, LoginRequired, render
from kinresist.web.auth import LoginLimiter, SessionCodec, new_csrf_token
from kinresist.web.config import Settings
from kinresist.web.runner import ErrorInfo, error_info
from kinresist.web.services import AccessDenied, NotFound
from kinresist.web.uploads import UploadTooLarge

__all__ = ["create_app"]

log = logging.getLogger("kinresist.web")
SESSION_COOKIE = "kinresist_session"
_STATIC = Path(__file__).with_name("static")
_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
#: Reports are self-contained pages with inline plotly (as the CLI writes them).
_REPORT_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-ancestors 'self'; "
    "form-action 'none'; base-uri 'none'; object-src 'none'"
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(UploadTooLarge):
    """Raised inside the app when a chunked body passes the limit (answered with 413)."""


class BodySizeLimit:
    """Pure ASGI middleware: 413 for a request body over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _message(self) -> str:
        mib = self.limit / 2**20
        return (
            f"the upload is larger than this server's limit of {mib:,.0f} MiB; split it, or ask "
            "the administrator to raise --max-upload-mb"
        )

    def _reply(self, scope: Scope) -> Response:
        info = ErrorInfo(413, "UploadTooLarge", f"UploadTooLarge: {self._message()}")
        if not str(scope.get("path", "")).startswith("/api/"):
            from html import escape

            page = (
                "<!doctype html><meta charset=utf-8><title>Upload too large · kinresist</title>"
                f"<h1>Upload too large</h1><p class=error>{escape(info.message)}</p>"
                "<p>Go back and choose a smaller upload.</p>"
            )
            return HTMLResponse(page, status_code=413, headers={"Connection": "close"})
        return JSONResponse(info.to_dict(), status_code=413, headers={"Connection": "close"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._reply(scope)(scope, receive, send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self._message())
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reply(scope)(scope, receive, send)


class LoopbackHostOnly:
    """Single-user mode: only requests addressed to a loopback host name are served."""

    _ALLOWED = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = ""
            for key, value in scope.get("headers", []):
                if key == b"host":
                    host = value.decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
            if name not in self._ALLOWED:
                response = JSONResponse(
                    {
                        "error": "BadHost",
                        "message": "BadHost: single-user mode answers only to 127.0.0.1/localhost",
                    },
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SessionCookie:
    """Pure ASGI middleware: the signed session cookie in ``request.state.session`` (with a CSRF
    token for every visitor), re-issued when a route changed it; security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import MutableHeaders
        from starlette.requests import Request as StarletteRequest

        ctx: AppContext = scope["app"].state.kinresist
        request = StarletteRequest(scope)
        data = ctx.codec.loads(request.cookies.get(SESSION_COOKIE)) or {}
        dirty = False
        if not data.get("csrf"):
            data = {"csrf": new_csrf_token()}
            dirty = True
        state = scope.setdefault("state", {})
        state["session"] = data
        state["session_dirty"] = dirty
        path = str(scope.get("path", ""))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if state.get("session_dirty"):
                    cookie = Response()
                    cookie.set_cookie(
                        SESSION_COOKIE,
                        ctx.codec.dumps(state["session"]),
                        max_age=int(ctx.settings.session_hours * 3600),
                        httponly=True,
                        samesite="lax",
                        secure=ctx.settings.secure_cookies,
                        path="/",
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                if path.endswith("/report"):
                    headers.setdefault("Content-Security-Policy", _REPORT_CSP)
                elif not path.startswith("/api/"):
                    headers.setdefault("Content-Security-Policy", _PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(
    request: Request, info: ErrorInfo, headers: dict[str, str] | None = None
) -> Response:
    if _wants_json(request):
        return JSONResponse(info.to_dict(), status_code=info.status, headers=headers)
    return render(request, "error.html.j2", status=info.status, error=info)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error_response(
            request, ErrorInfo(404, "NotFound", "NotFound: no such page, or not one of yours")
        )

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> Response:
        return _error_response(request, ErrorInfo(403, "Forbidden", f"Forbidden: {exc}"))

    @app.exception_handler(UploadTooLarge)
    async def _too_large(request: Request, exc: UploadTooLarge) -> Response:
        return _error_response(request, error_info(exc))

    @app.exception_handler(KinresistError)
    async def _kinresist(request: Request, exc: KinresistError) -> Response:
        return _error_response(request, error_info(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            parts.append(f"{where}: {err.get('msg', '')}")
        text = "InputError: " + "; ".join(parts)
        return _error_response(request, ErrorInfo(422, "InputError", text))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        names = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed"}
        name = names.get(exc.status_code, "HTTPError")
        detail = exc.detail if exc.status_code != 404 else "no such page, or not one of yours"
        info = ErrorInfo(exc.status_code, name, f"{name}: {detail}")
        return _error_response(request, info, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        return _error_response(request, error_info(exc))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The kinresist web app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from kinresist.store import open_store
        from kinresist.web import services
        from kinresist.web.jobs import JobManager
        from kinresist.web.results import ResultStore

        store = open_store(settings.db)
        work = settings.work_dir
        work.mkdir(parents=True, exist_ok=True)
        results = ResultStore(work / "results", ttl_hours=settings.result_ttl_hours)
        ctx = AppContext(
            settings=settings,
            store=store,
            results=results,
            jobs=JobManager(settings, store, work / "results"),
            codec=SessionCodec(settings.session_secret(), max_age_s=settings.session_hours * 3600),
            limiter=LoginLimiter(
                attempts=settings.login_attempts, window_s=settings.login_window_s
            ),
            uploads_root=work / "uploads",
        )
        ctx.uploads_root.mkdir(parents=True, exist_ok=True)
        interrupted = services.fail_orphaned_jobs(store)
        if interrupted:
            log.warning("%d job(s) of a previous server marked failed", interrupted)
        app.state.kinresist = ctx
        try:
            yield
        finally:
            ctx.jobs.shutdown()
            store.close()

    app = FastAPI(
        title="kinresist",
        version=__version__,
        summary="Resistance to targeted kinase inhibitors: every workflow over one project store. "
        "Research use only.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )

    _install_handlers(app)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")

    from kinresist.web.api.routes import admin, analyse, api, auth, kb, pages, workflows

    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(analyse.router)
    app.include_router(kb.router)
    app.include_router(admin.router)
    app.include_router(api.router)
    app.include_router(workflows.build_router())

    app.add_middleware(SessionCookie)  # type: ignore[arg-type]
    if settings.single_user:
        app.add_middleware(LoopbackHostOnly)  # type: ignore[arg-type]
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes)  # type: ignore[arg-type]
    return app
