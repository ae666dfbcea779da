"""The web app: every registered workflow in a browser and a JSON API, over the project store.

``kinresist serve`` runs :func:`kinresist.web.main.create_app` with uvicorn. Pages and API routes
are generated from the workflow registry (:mod:`kinresist.core.registry`); results are rendered
by :mod:`kinresist.reports` exactly as the CLI's ``--format html`` does, and saved through the
one store writer (:func:`kinresist.core.record`).

Layout (after the FastAPI full-stack template)::

    main.py         create_app(settings): routes, middleware, static files, lifespan
    config.py       Settings (pydantic): refuses default secrets and non-loopback single-user mode
    auth.py         argon2 passwords, API tokens (SHA-256 stored), signed sessions, CSRF, login limiter
    services.py     the store service layer: users, memberships, studies, subjects, runs, audit, jobs
    forms.py        Param/InputSpec -> form widgets, OpenAPI schema and typed call arguments
    uploads.py      uploads saved under generated names; zip guard; server data-folder confinement
    results.py      unsaved results kept server-side by random id (downloads, report, save)
    runner.py       run a workflow for a request; kinresist errors -> the CLI's one-line message
    jobs.py         long-running workflows in a process (or thread) pool; state in the job table
    schemas.py      request/response models of the JSON API
    templating.py   Jinja2 environment (mirrors reports/templates/base.html.j2)
    api/deps.py     shared dependencies: settings, store, current user, roles, CSRF
    api/routes/     auth, pages, analyse, kb, admin, api (JSON), workflows (generated JSON API)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinresist.web.config import Settings
    from kinresist.web.main import create_app

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from kinresist.web.main import create_app

        return create_app
    if name == "Settings":
        from kinresist.web.config import Settings

        return Settings
    msg = f"module 'kinresist.web' has no attribute {name!r}"
    raise AttributeError(msg)
