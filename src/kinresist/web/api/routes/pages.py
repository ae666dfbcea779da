"""Browsing pages: home, studies -> subjects -> samples -> runs, the subject page (the patient
timeline, a cell line's lineage and IC50 history), and the API reference at ``/docs``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kinresist.errors import InputError
from kinresist.web import services
from kinresist.web.api.deps import context, csrf_form, page_user, render, require

__all__ = ["router", "subject_view", "visible_timeline"]

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    from kinresist.core.registry import workflows

    ctx = context(request)
    user = page_user(request)
    return render(
        request,
        "home.html.j2",
        title="Workbench",
        studies=services.studies(ctx.store, user),
        jobs=services.jobs(ctx.store, user, limit=8),
        workflows=list(workflows().values()),
    )


@router.get("/studies")
def studies(request: Request) -> Response:
    ctx = context(request)
    user = page_user(request)
    return render(
        request, "studies.html.j2", title="Studies", studies=services.studies(ctx.store, user)
    )


@router.post("/studies")
async def create_study(request: Request) -> Response:
    ctx = context(request)
    user = page_user(request)
    form = await csrf_form(request)
    require(user, "admin", "create studies")
    made = services.create_study(
        ctx.store,
        user,
        str(form.get("name") or ""),
        description=str(form.get("description") or ""),
    )
    return RedirectResponse(f"/studies/{made['id']}", status_code=303)


@router.get("/studies/{study_id}")
def study(request: Request, study_id: int) -> Response:
    ctx = context(request)
    user = page_user(request)
    data = services.study(ctx.store, user, study_id)
    everyone = [u["name"] for u in services.users(ctx.store)] if user.is_admin else []
    return render(request, "study.html.j2", title=data["name"], study=data, everyone=everyone)


@router.post("/studies/{study_id}/members")
async def add_member(request: Request, study_id: int) -> Response:
    ctx = context(request)
    user = page_user(request)
    form = await csrf_form(request)
    require(user, "admin", "manage study members")
    data = services.study(ctx.store, user, study_id)
    name = str(form.get("user") or "")
    if form.get("remove"):
        services.revoke(ctx.store, name, study_id, by=user.name)
    else:
        services.grant(ctx.store, name, data["name"], by=user.name)
    return RedirectResponse(f"/studies/{study_id}", status_code=303)


def _lineage(ctx: Any, subject: dict[str, Any]) -> dict[str, Any]:
    from kinresist.monitoring.lineage import lineage_result
    from kinresist.monitoring.plots import add_lineage_figures
    from kinresist.web.templating import figure_html

    result = lineage_result(ctx.store, subject["label"], study=subject["study"]["name"])
    add_lineage_figures(result)
    return {
        "body": result.body,
        "figures": [(f.caption, figure_html(f)) for f in result.figures],
    }


def visible_timeline(ctx: Any, user: Any, label: str, study: str) -> Any:
    """The subject's timeline, its lab IC50 rows limited to the user's studies (the timeline
    joins IC50s of the same alteration from every study of the store)."""
    from kinresist.monitoring.timeline import build_timeline

    result = build_timeline(ctx.store, label, study=study)
    mine = set(services.study_names(ctx.store, user))
    for alt in result.body.get("alterations", []):
        alt["lab"] = [row for row in alt.get("lab", []) if row.get("study") in mine]
    return result


def subject_view(ctx: Any, user: Any, subject: dict[str, Any]) -> dict[str, Any]:
    """What the subject page shows: the timeline (patients), lineage and IC50s (cell lines),
    and the store's measurements per alteration (everyone)."""
    view: dict[str, Any] = {"timeline": None, "lineage": None, "note": None}
    if subject["kind"] == "patient":
        from kinresist.monitoring.plots import timeline_figure
        from kinresist.web.templating import plotly_div

        try:
            result = visible_timeline(ctx, user, subject["label"], subject["study"]["name"])
        except InputError as exc:
            view["note"] = exc.one_line()
        else:
            view["timeline"] = {
                "body": result.body,
                "figure": plotly_div(timeline_figure(result.body), name="timeline"),
            }
    elif subject["kind"] == "cell_line":
        try:
            view["lineage"] = _lineage(ctx, subject)
        except InputError as exc:
            view["note"] = exc.one_line()
    view["by_alteration"] = services.measurements_by_alteration(ctx.store, subject["id"])
    return view


@router.get("/subjects/{subject_id}")
def subject(request: Request, subject_id: int) -> Response:
    ctx = context(request)
    user = page_user(request)
    data = services.subject(ctx.store, user, subject_id)
    return render(
        request,
        "subject.html.j2",
        title=f"{data['label']} ({data['kind'].replace('_', ' ')})",
        subject=data,
        **subject_view(ctx, user, data),
    )


@router.get("/samples/{sample_id}")
def sample(request: Request, sample_id: int) -> Response:
    ctx = context(request)
    user = page_user(request)
    data = services.sample(ctx.store, user, sample_id)
    return render(request, "sample.html.j2", title=f"Sample {data['label']}", sample=data)


@router.get("/runs/{run_id}")
def run(request: Request, run_id: int) -> Response:
    ctx = context(request)
    user = page_user(request)
    data = services.run(ctx.store, user, run_id)
    has_report = False
    if data.get("result_id"):
        try:
            ctx.results.meta(data["result_id"])
            has_report = True
        except services.NotFound:
            has_report = False
    return render(
        request,
        "run.html.j2",
        title=f"Run {run_id}: {data['workflow']}",
        run=data,
        has_report=has_report,
    )


@router.post("/runs/{run_id}/delete")
async def delete_run(request: Request, run_id: int) -> Response:
    ctx = context(request)
    user = page_user(request)
    await csrf_form(request)
    done = services.delete_run(ctx.store, user, run_id)
    return RedirectResponse(f"/studies/{done['study_id']}", status_code=303)


@router.get("/vendor/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js as bundled in the installed plotly package (no CDN; lab machines are offline)."""
    from importlib.resources import files

    from fastapi.responses import FileResponse

    path = files("plotly") / "package_data" / "plotly.min.js"
    return FileResponse(
        str(path),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/docs")
def api_docs(request: Request) -> Response:
    """The API reference, rendered on the server from the OpenAPI schema (works offline)."""
    page_user(request)
    schema = request.app.openapi()
    endpoints = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            fields: list[dict[str, Any]] = []
            for media, content in body.items():
                props = _resolve(schema, content.get("schema", {})).get("properties", {})
                required = set(_resolve(schema, content.get("schema", {})).get("required", []))
                for name, prop in props.items():
                    prop = _resolve(schema, prop)
                    fields.append(
                        {
                            "media": media,
                            "name": name,
                            "type": prop.get("type") or (prop.get("anyOf") and "any") or "",
                            "format": prop.get("format", ""),
                            "enum": prop.get("enum"),
                            "required": name in required,
                            "description": prop.get("description", ""),
                        }
                    )
            endpoints.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tags": op.get("tags", []),
                    "parameters": op.get("parameters", []),
                    "fields": fields,
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return render(
        request, "docs.html.j2", title="API reference", endpoints=endpoints, schema=schema
    )


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = schema
    for part in ref.lstrip("#/").split("/"):
        target = target.get(part, {})
    return target if isinstance(target, dict) else {}
