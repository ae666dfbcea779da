"""``POST /api/v1/<group>/<command>`` for every registered workflow, generated from the registry.

``/api/v1/interpret``, ``/api/v1/dose/fit``, ``/api/v1/synergy/score``, ``/api/v1/ddpcr/analyze``
and every other workflow's endpoint take either

* ``multipart/form-data``: the input files as uploads (or ``<input>__path`` inside the server
  data folder) and the options as fields, named as in the workflow's declaration; or
* ``application/json``: the options by name (a multiple option as a list; ``findings`` for
  ``finding``), inputs as data-folder paths.

The answer is the CLI's JSON (``--format json``) plus ``web`` (the kept result's id and links,
and what was recorded when ``study`` was given). Long-running workflows answer ``202`` with a job
(poll ``GET /api/v1/jobs/{id}``) unless ``?wait=true``. Bad input answers 4xx with the CLI's
one-line message, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from kinresist.core.registry import Workflow, workflows
from kinresist.errors import InputError
from kinresist.web.api.deps import MAX_FIELDS, MAX_FILES, api_user, check_api_csrf, context
from kinresist.web.api.routes.analyse import split_form
from kinresist.web.api.routes.api import result_payload
from kinresist.web.execute import WorkflowFailed, execute
from kinresist.web.forms import json_values, openapi_request
from kinresist.web.schemas import ErrorPublic, JobAccepted

__all__ = ["build_router", "endpoint_path"]

#: First path segments of the fixed API routes (a workflow group may not take them).
RESERVED = frozenset(
    {"health", "workflows", "studies", "subjects", "jobs", "results", "runs", "kb", "openapi.json"}
)


def endpoint_path(wf: Workflow) -> str:
    return "/api/v1/" + (wf.group if wf.toplevel else f"{wf.group}/{wf.command}")


def _endpoint(wf: Workflow) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, wait: bool = False) -> Response:
        ctx = context(request)
        user = api_user(request)
        check_api_csrf(request)
        form = None
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body: Any = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                msg = "the request body is not a JSON object of option names and values"
                raise InputError(msg)
            values = json_values(wf, body)
            uploads: dict[str, list[Any]] = {}
        else:
            form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
            values, uploads = split_form(form.multi_items())
        try:
            outcome = await run_in_threadpool(execute, ctx, user, wf, values, uploads, wait=wait)
        except WorkflowFailed as exc:
            return JSONResponse(exc.info.to_dict(), status_code=exc.info.status)
        finally:
            if form is not None:
                await form.close()
        if outcome.job_id is not None:
            accepted = JobAccepted(
                job_id=outcome.job_id,
                status="queued",
                links={"job": f"/api/v1/jobs/{outcome.job_id}", "page": f"/jobs/{outcome.job_id}"},
            )
            return JSONResponse(accepted.model_dump(), status_code=202)
        assert outcome.result is not None
        assert outcome.result_id is not None
        return JSONResponse(
            result_payload(outcome.result, outcome.result_id, record=outcome.record)
        )

    endpoint.__name__ = "run_" + wf.name.replace(".", "_").replace("-", "_")
    endpoint.__doc__ = wf.help
    return endpoint


def build_router() -> APIRouter:
    """One POST route per registered workflow (see the module docstring)."""
    router = APIRouter(tags=["workflows"])
    for wf in workflows().values():
        if wf.group in RESERVED:
            continue
        responses: dict[int | str, dict[str, Any]] = {
            200: {"description": "The result: the CLI's JSON plus `web` (id, links, recorded)."},
            401: {"model": ErrorPublic, "description": "No or unknown token"},
            403: {"model": ErrorPublic, "description": "Role too low / not your study"},
            413: {"model": ErrorPublic, "description": "Upload over the server's limit"},
            422: {"model": ErrorPublic, "description": "Bad input: the CLI's one-line message"},
        }
        if wf.long_running:
            responses[202] = {"model": JobAccepted, "description": "Queued as a job"}
        router.add_api_route(
            endpoint_path(wf),
            _endpoint(wf),
            methods=["POST"],
            summary=wf.help.split(". ")[0][:120],
            description=wf.help
            + (
                "\n\nLong-running: answers 202 with a job unless `?wait=true`."
                if wf.long_running
                else ""
            ),
            openapi_extra={"requestBody": openapi_request(wf)},
            responses=responses,
            name=wf.name,
        )
    return router
