"""Analyse pages (one per registered workflow), results (report, downloads, save) and jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from kinresist.core.registry import Workflow, workflows
from kinresist.web import services
from kinresist.web.api.deps import context, csrf_form, page_user, render, require
from kinresist.web.execute import WorkflowFailed, execute, save
from kinresist.web.forms import SAMPLE_TYPES, form_fields, is_store_workflow, save_fields
from kinresist.web.results import DOWNLOAD_FORMATS
from kinresist.web.services import NotFound

__all__ = ["router", "split_form", "workflow_by_slug"]

router = APIRouter(include_in_schema=False)


def slug(wf: Workflow) -> str:
    return wf.name


def workflow_by_slug(name: str) -> Workflow:
    found = workflows().get(name)
    if found is None:
        msg = f"workflow {name}"
        raise NotFound(msg)
    return found


def split_form(
    items: Iterable[tuple[str, Any]],
) -> tuple[dict[str, list[str]], dict[str, list[Any]]]:
    """Form items -> (text values, uploads) by field name (the CSRF token dropped)."""
    values: dict[str, list[str]] = {}
    uploads: dict[str, list[Any]] = {}
    for key, value in items:
        if key == "csrf_token":
            continue
        if isinstance(value, UploadFile):
            uploads.setdefault(key, []).append(value)
        else:
            values.setdefault(key, []).append(str(value))
    return values, uploads


@router.get("/analyse")
def analyse_index(request: Request) -> Response:
    from kinresist.core.registry import group_help

    page_user(request)
    by_group: dict[str, list[Workflow]] = {}
    for wf in workflows().values():
        by_group.setdefault(wf.group, []).append(wf)
    return render(
        request, "analyse_index.html.j2", title="Analyse", by_group=by_group, helps=group_help()
    )


def _form_page(
    request: Request,
    wf: Workflow,
    *,
    values: dict[str, list[str]] | None = None,
    error: Any = None,
    status: int = 200,
) -> Response:
    ctx = context(request)
    user = page_user(request)
    return render(
        request,
        "analyse.html.j2",
        status=status,
        title=f"Analyse: {wf.name}",
        wf=wf,
        fields=form_fields(wf),
        values=values or {},
        error=error,
        store_workflow=is_store_workflow(wf),
        studies=services.study_names(ctx.store, user),
        data_dir=ctx.settings.data_dir is not None,
        max_upload_mb=ctx.settings.max_upload_mb,
    )


@router.get("/analyse/{name}")
def analyse_form(request: Request, name: str) -> Response:
    return _form_page(request, workflow_by_slug(name))


@router.post("/analyse/{name}")
async def analyse_run(request: Request, name: str) -> Response:
    ctx = context(request)
    user = page_user(request)
    wf = workflow_by_slug(name)
    form = await csrf_form(request)
    values, uploads = split_form(form.multi_items())
    try:
        outcome = await run_in_threadpool(execute, ctx, user, wf, values, uploads)
    except WorkflowFailed as exc:
        return _form_page(request, wf, values=values, error=exc.info, status=exc.info.status)
    finally:
        await form.close()
    if outcome.job_id is not None:
        return RedirectResponse(f"/jobs/{outcome.job_id}", status_code=303)
    return RedirectResponse(f"/results/{outcome.result_id}", status_code=303)


def _visible_study_ids(ctx: Any, user: Any) -> set[int]:
    return {s["id"] for s in services.studies(ctx.store, user)}


def _result_meta(request: Request, rid: str) -> tuple[Any, Any, dict[str, Any], Workflow]:
    ctx = context(request)
    user = page_user(request)
    meta = ctx.results.check_access(rid, user, _visible_study_ids(ctx, user))
    return ctx, user, meta, workflow_by_slug(meta["workflow"])


def _result_page(
    request: Request, rid: str, *, error: Any = None, status: int = 200, saved: Any = None
) -> Response:
    ctx, user, meta, wf = _result_meta(request, rid)
    can_save = bool(save_fields(wf)) and user.at_least("analyst")
    return render(
        request,
        "result.html.j2",
        status=status,
        title=f"Result: {wf.name}",
        wf=wf,
        meta=meta,
        rid=rid,
        formats=[*DOWNLOAD_FORMATS, *wf.writers],
        tables=meta.get("tables", []) + (["measurements"] if meta.get("measurements") else []),
        can_save=can_save,
        save_fields=save_fields(wf),
        studies=services.study_names(ctx.store, user) if can_save else [],
        sample_types=SAMPLE_TYPES,
        error=error,
        saved=saved,
    )


@router.get("/results/{rid}")
def result_page(request: Request, rid: str, saved: int | None = None) -> Response:
    return _result_page(request, rid, saved=saved)


_ZOOM = b'<script src="/static/figzoom.js" defer></script>'


@router.get("/results/{rid}/report")
def result_report(request: Request, rid: str) -> Response:
    """The workflow's HTML report (the same page ``--format html`` writes), for the result page's
    frame; SVG figures get pan and zoom."""
    ctx, _, _, wf = _result_meta(request, rid)
    html = ctx.results.report(rid, wf).encode()
    at = html.rfind(b"</body>")
    html = html[:at] + _ZOOM + html[at:] if at >= 0 else html + _ZOOM
    return HTMLResponse(html)


@router.get("/results/{rid}/download/{fmt}")
def result_download(request: Request, rid: str, fmt: str, table: str | None = None) -> Response:
    ctx, _, _, wf = _result_meta(request, rid)
    dl = ctx.results.download(rid, wf, fmt, table=table)
    return Response(
        dl.content,
        media_type=dl.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(dl.filename)}"},
    )


@router.post("/results/{rid}/save")
async def result_save(request: Request, rid: str) -> Response:
    ctx, user, _, wf = _result_meta(request, rid)
    form = await csrf_form(request)
    require(user, "analyst", "save results to a study")

    def text(name: str) -> str | None:
        value = str(form.get(name) or "").strip()
        return value or None

    study = text("study")
    if study is None:
        from kinresist.web.runner import ErrorInfo

        info = ErrorInfo(422, "InputError", "InputError: choose the study to save the result to")
        return _result_page(request, rid, error=info, status=422)
    try:
        summary = await run_in_threadpool(
            save,
            ctx,
            user,
            wf,
            ctx.results.load(rid),
            study=study,
            subject=text("subject"),
            sample=text("sample"),
            sample_type=text("sample_type"),
            collected=text("collected"),
            result_id=rid,
        )
    except (services.AccessDenied, NotFound):
        raise
    except Exception as exc:  # noqa: BLE001 - shown on the page, as the CLI would print it
        from kinresist.web.runner import error_info

        info = error_info(exc, roots=(str(ctx.settings.work_dir),))
        return _result_page(request, rid, error=info, status=info.status)
    return RedirectResponse(f"/runs/{summary.run_id}", status_code=303)


@router.get("/jobs")
def jobs_page(request: Request) -> Response:
    ctx = context(request)
    user = page_user(request)
    return render(request, "jobs.html.j2", title="Jobs", jobs=services.jobs(ctx.store, user))


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str) -> Response:
    ctx = context(request)
    user = page_user(request)
    job = services.job(ctx.store, user, job_id)
    return render(request, "job.html.j2", title=f"Job: {job['workflow']}", job=job)
