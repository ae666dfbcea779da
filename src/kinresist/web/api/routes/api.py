"""The JSON API under ``/api/v1`` (besides the generated per-workflow endpoints): health,
workflows, studies, the subject timeline, jobs, kept results (download, save), runs, KB search.

Every endpoint but ``health`` needs a Bearer token (``kinresist users token NAME``) or a session;
state-changing calls from a browser session also need the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from kinresist._version import __version__
from kinresist.web import services
from kinresist.web.api.deps import api_user, check_api_csrf, context
from kinresist.web.schemas import (
    ErrorPublic,
    HealthPublic,
    JobPublic,
    RecordPublic,
    SaveRequest,
    StudyPublic,
    WorkflowPublic,
)

__all__ = ["result_payload", "router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "No or unknown token/session"},
    403: {"model": ErrorPublic, "description": "Role too low, or no CSRF token"},
    404: {"model": ErrorPublic, "description": "Absent or not in one of your studies"},
    422: {"model": ErrorPublic, "description": "Bad input: the CLI's one-line message"},
}

router = APIRouter(prefix="/api/v1", tags=["kinresist"], responses=_ERRORS)


@router.get("/health", response_model=HealthPublic, responses={})
def health(request: Request) -> HealthPublic:
    """Service status, package and knowledge-base versions (no authentication)."""
    from kinresist.provenance import _kb_version

    ctx = context(request)
    try:
        revision = ctx.store.revision()
        store = "ok"
    except Exception:  # noqa: BLE001 - an unreachable store is reported, not raised
        revision, store = None, "unreachable"
    return HealthPublic(
        status="ok",
        version=__version__,
        kb_version=_kb_version(),
        store=store,  # type: ignore[arg-type]
        schema_revision=revision,
    )


@router.get("/workflows", response_model=list[WorkflowPublic])
def list_workflows(request: Request) -> list[WorkflowPublic]:
    """Every registered workflow with its endpoint, inputs and options."""
    from pathlib import Path

    from kinresist.core.registry import workflows
    from kinresist.web.api.routes.workflows import endpoint_path
    from kinresist.web.forms import web_params

    api_user(request)
    out = []
    for wf in workflows().values():
        params = []
        for p in web_params(wf):
            kind = (
                "choice"
                if p.choices
                else ("path" if p.type is Path else getattr(p.type, "__name__", "str"))
            )
            params.append(
                {
                    "name": p.name,
                    "type": kind,
                    "required": p.required,
                    "multiple": p.multiple,
                    "default": p.default if not isinstance(p.default, tuple) else list(p.default),
                    "choices": list(p.choices) if p.choices else None,
                    "help": p.help,
                }
            )
        out.append(
            WorkflowPublic.model_validate(
                {
                    "name": wf.name,
                    "help": wf.help,
                    "endpoint": endpoint_path(wf),
                    "long_running": wf.long_running,
                    "records": wf.records,
                    "inputs": [
                        {
                            "name": i.name,
                            "kind": i.kind,
                            "required": i.required,
                            "multiple": i.multiple,
                            "help": i.help,
                        }
                        for i in wf.inputs
                    ],
                    "params": params,
                }
            )
        )
    return out


@router.get("/studies", response_model=list[StudyPublic])
def list_studies(request: Request) -> list[dict[str, Any]]:
    """Your studies (administrators: every study)."""
    return services.studies(context(request).store, api_user(request))


@router.get("/studies/{study_id}")
def get_study(request: Request, study_id: int) -> dict[str, Any]:
    """A study's subjects, runs and members."""
    return services.study(context(request).store, api_user(request), study_id)


@router.get("/subjects/{subject}/timeline")
def subject_timeline(request: Request, subject: str, study: str | None = None) -> Response:
    """A subject's timeline (the ``kinresist timeline`` JSON): every draw per alteration and
    assay, therapy lines, the KB interpretation of each draw and the alerts."""
    from kinresist.web.api.routes.pages import visible_timeline

    ctx = context(request)
    user = api_user(request)
    found = services.subject_by_label(ctx.store, user, subject, study)
    result = visible_timeline(ctx, user, found["label"], found["study"])
    return Response(result.to_json(), media_type="application/json")


def _job_public(job: dict[str, Any]) -> JobPublic:
    rid = (job.get("result") or {}).get("result_id")
    links = {"self": f"/api/v1/jobs/{job['id']}", "page": f"/jobs/{job['id']}"}
    if rid:
        links["result"] = f"/api/v1/results/{rid}"
    return JobPublic.model_validate({**job, "result_id": rid, "links": links})


@router.get("/jobs", response_model=list[JobPublic])
def list_jobs(request: Request) -> list[JobPublic]:
    """Your jobs, newest first."""
    return [_job_public(j) for j in services.jobs(context(request).store, api_user(request))]


@router.get("/jobs/{job_id}", response_model=JobPublic)
def get_job(request: Request, job_id: str) -> JobPublic:
    """A job's state (queued, running, done, failed), progress and result or error."""
    return _job_public(services.job(context(request).store, api_user(request), job_id))


def result_payload(result: Any, rid: str, *, record: Any = None) -> dict[str, Any]:
    """The CLI's JSON of a result plus ``web``: its id, links and what saving it wrote."""
    payload: dict[str, Any] = json.loads(result.to_json(indent=None))
    payload["web"] = {
        "result_id": rid,
        "links": {
            "self": f"/api/v1/results/{rid}",
            "page": f"/results/{rid}",
            "report": f"/results/{rid}/report",
            "save": f"/api/v1/results/{rid}/save",
        },
        "recorded": None if record is None else record.to_dict() | {"db": None},
    }
    return payload


def _visible(ctx: Any, user: Any) -> set[int]:
    return {s["id"] for s in services.studies(ctx.store, user)}


@router.get("/results/{rid}")
def get_result(request: Request, rid: str) -> JSONResponse:
    """A kept result as JSON (the CLI's ``--format json``)."""
    ctx = context(request)
    user = api_user(request)
    ctx.results.check_access(rid, user, _visible(ctx, user))
    return JSONResponse(result_payload(ctx.results.load(rid), rid))


@router.get("/results/{rid}/download/{fmt}")
def download_result(request: Request, rid: str, fmt: str, table: str | None = None) -> Response:
    """A kept result as json, tsv, parquet, html or a workflow's own format (vcf)."""
    from kinresist.web.api.routes.analyse import workflow_by_slug

    ctx = context(request)
    user = api_user(request)
    meta = ctx.results.check_access(rid, user, _visible(ctx, user))
    dl = ctx.results.download(rid, workflow_by_slug(meta["workflow"]), fmt, table=table)
    return Response(
        dl.content,
        media_type=dl.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(dl.filename)}"},
    )


@router.post("/results/{rid}/save", response_model=RecordPublic)
async def save_result(request: Request, rid: str, body: SaveRequest) -> dict[str, Any]:
    """Record a kept result in one of your studies (analyst role)."""
    from kinresist.web.api.routes.analyse import workflow_by_slug
    from kinresist.web.execute import save

    ctx = context(request)
    user = api_user(request)
    check_api_csrf(request)
    meta = ctx.results.check_access(rid, user, _visible(ctx, user))
    wf = workflow_by_slug(meta["workflow"])
    summary = await run_in_threadpool(
        save,
        ctx,
        user,
        wf,
        ctx.results.load(rid),
        study=body.study,
        subject=body.subject,
        sample=body.sample,
        sample_type=body.sample_type,
        collected=body.collected,
        result_id=rid,
    )
    return summary.to_dict()


@router.get("/runs/{run_id}")
def get_run(request: Request, run_id: int) -> dict[str, Any]:
    """A recorded run: parameters, input hashes, outputs, its measurements and findings."""
    return services.run(context(request).store, api_user(request), run_id)


@router.delete("/runs/{run_id}")
def delete_run(request: Request, run_id: int) -> dict[str, Any]:
    """Delete a recorded run with its measurements and findings (analyst; audited)."""
    user = api_user(request)
    check_api_csrf(request)
    return services.delete_run(context(request).store, user, run_id)


@router.get("/kb/search")
def kb_search(request: Request, q: str, prior_therapy: str | None = None) -> dict[str, Any]:
    """What the knowledge base says about a drug, a gene, or ``GENE ALTERATION`` (per-drug
    calls and evidence with PubMed/CIViC links)."""
    from kinresist.web.api.routes.kb import search

    api_user(request)
    return search(q, prior_therapy=prior_therapy)
