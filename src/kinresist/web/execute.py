"""One workflow request, from form values and uploads to a kept result, a job, or an error.

Shared by the analyse pages and the generated ``/api/v1/<group>/<command>`` endpoints, so that a
browser and a script get the same checks, the same result and the same one-line error:

1. uploads saved under derived names in a private folder; values converted as the CLI does;
2. access: workflows that open the store themselves (study import, timeline, lineage) need the
   analyst role and one of the user's studies; saving needs the analyst role and membership;
3. long-running workflows go to the job pool (unless the API asks to wait); others run now;
4. with ``study`` given (API) the result is recorded at once by the one store writer.

Any failure is raised as :class:`WorkflowFailed` carrying the :class:`ErrorInfo` to show; nothing
is recorded then (the store is written only by step 4, in one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kinresist.errors import InputError
from kinresist.web import services
from kinresist.web.forms import build_call, display_parameters, is_store_workflow, save_fields
from kinresist.web.runner import ErrorInfo, error_info, run_workflow
from kinresist.web.services import AccessDenied, NotFound
from kinresist.web.uploads import UploadArea, UploadLike

if TYPE_CHECKING:
    from kinresist.core.record import RecordSummary
    from kinresist.core.registry import Workflow
    from kinresist.core.result import Result
    from kinresist.web.api.deps import AppContext
    from kinresist.web.auth import Principal

__all__ = ["Outcome", "WorkflowFailed", "execute", "parse_collected", "save"]


class WorkflowFailed(Exception):
    """A request that ended in an error; ``info`` is what to show."""

    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


@dataclass(frozen=True, slots=True)
class Outcome:
    result_id: str | None = None
    job_id: str | None = None
    result: Result | None = None
    record: RecordSummary | None = None


def parse_collected(text: str | None) -> dt.date | dt.datetime | None:
    if not text:
        return None
    try:
        return (
            dt.datetime.fromisoformat(text)
            if "T" in text or " " in text
            else dt.date.fromisoformat(text)
        )
    except ValueError:
        msg = (
            f"--collected {text!r} is not an ISO date (2026-03-01) or date-time (2026-03-01T09:30)"
        )
        raise InputError(msg) from None


def _first(values: Mapping[str, Sequence[str]], name: str) -> str | None:
    items = [v.strip() for v in values.get(name, ()) if v.strip()]
    return items[-1] if items else None


def _authorise_store_workflow(
    ctx: AppContext, user: Principal, wf: Workflow, call: dict[str, Any]
) -> str | None:
    """Store workflows act only inside one of the user's studies; returns that study."""
    from kinresist.web.api.deps import require

    require(user, "analyst", f"run {wf.name} (it reads or writes the store)")
    names = {p.name for p in wf.params}
    if "study" not in names:
        return None
    study = call.get("study")
    if not study:
        mine = services.study_names(ctx.store, user)
        msg = (
            f"option --study: {wf.name} needs one of your studies "
            f"({', '.join(mine[:20]) or 'none yet: ask an administrator'})"
        )
        raise InputError(msg)
    services.check_study_access(
        ctx.store, user, str(study), write=True, create=user.is_admin and wf.name == "study.import"
    )
    return str(study)


def save(
    ctx: AppContext,
    user: Principal,
    wf: Workflow,
    result: Result,
    *,
    study: str,
    subject: str | None,
    sample: str | None,
    sample_type: str | None,
    collected: str | None,
    result_id: str | None,
) -> RecordSummary:
    """Record ``result`` in ``study`` (analyst role and membership needed)."""
    from kinresist.core.record import SampleInfo
    from kinresist.web.forms import SAMPLE_TYPES

    if not wf.records or is_store_workflow(wf):
        msg = f"{wf.name} results are not recorded in a study (the workflow records nothing)"
        raise InputError(msg)
    if sample_type is not None and sample_type not in SAMPLE_TYPES:
        msg = f"--sample-type {sample_type!r}: expected one of {', '.join(SAMPLE_TYPES)}"
        raise InputError(msg)
    if subject is None and wf.extra.get("subject_from_sample"):
        labels = {f.sample for f in result.findings if f.sample} | {
            m.sample for m in result.measurements if m.sample
        }
        if len(labels) == 1:
            subject = labels.pop()
    info = SampleInfo(
        sample_type=sample_type or wf.sample_type, collected=parse_collected(collected)
    )
    summary = services.save_result(
        ctx.store,
        user,
        result,
        study=study,
        subject=subject,
        sample=sample,
        subject_kind=wf.subject_kind,
        info=info,
        result_id=result_id,
    )
    if result_id is not None:
        st = services.study_by_name(ctx.store, user, study)
        ctx.results.mark_saved(result_id, run_id=summary.run_id, study_id=st["id"], study=study)
    return summary


def execute(
    ctx: AppContext,
    user: Principal,
    wf: Workflow,
    values: Mapping[str, Sequence[str]],
    uploads: Mapping[str, Sequence[UploadLike]],
    *,
    wait: bool = False,
) -> Outcome:
    """Run (or queue) ``wf`` for ``user`` (see the module docstring)."""
    area = UploadArea(ctx.uploads_root, max_unzipped_bytes=ctx.settings.max_unzipped_bytes)
    handed_over = False
    roots = (str(area.root), str(ctx.settings.work_dir))
    try:
        store_wf = is_store_workflow(wf)
        call = build_call(
            wf,
            values,
            uploads,
            area=area,
            data_dir=ctx.settings.data_dir,
            store_url=ctx.store.engine.url.render_as_string(hide_password=False)
            if store_wf
            else None,
        )
        study_for_store = _authorise_store_workflow(ctx, user, wf, call) if store_wf else None
        save_to = _first(values, "study") if "study" in save_fields(wf) else None
        if save_to is not None:
            services.check_study_access(ctx.store, user, save_to, write=True, create=user.is_admin)
        parameters = display_parameters(wf, call, area)
        if wf.long_running and not wait:
            job_id = ctx.jobs.submit(user, wf, call, area, parameters)
            handed_over = True
            return Outcome(job_id=job_id)
        rid, result = run_workflow(
            wf, call, results=ctx.results, owner=user.name, parameters=parameters
        )
        if store_wf:
            services.audit(
                ctx.store,
                user.name,
                "workflow",
                kind="workflow",
                object_id=wf.name,
                detail={"study": study_for_store, "parameters": parameters, "result_id": rid},
            )
        record = None
        if save_to is not None:
            record = save(
                ctx,
                user,
                wf,
                result,
                study=save_to,
                subject=_first(values, "subject") if "subject" in save_fields(wf) else None,
                sample=_first(values, "sample") if "sample" in save_fields(wf) else None,
                sample_type=_first(values, "sample_type"),
                collected=_first(values, "collected"),
                result_id=rid,
            )
        return Outcome(result_id=rid, result=result, record=record)
    except (AccessDenied, NotFound):
        raise
    except Exception as exc:  # every other failure is shown as the CLI shows it
        info = error_info(exc, roots=roots)
        if is_store_workflow(wf) and "; known subjects:" in info.message:
            # the store's own message lists subjects of every study; show only the user's part
            info = ErrorInfo(info.status, info.error, info.message.split("; known subjects:", 1)[0])
        raise WorkflowFailed(info) from exc
    finally:
        if not handed_over:
            area.cleanup()
