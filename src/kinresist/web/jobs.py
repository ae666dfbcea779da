"""Long-running workflows (``Workflow.long_running``) as background jobs.

A job is a row of the store's ``job`` table (status queued -> running -> done | failed, a
progress fraction, a message, the parameters as the user gave them, the result's id or the
error's one-line message), so its page survives a reload and a second browser sees the same
state. The work runs in a :class:`concurrent.futures.ProcessPoolExecutor` (``spawn`` start:
a crash in a compiled kernel cannot take the server down) or, with ``job_executor="thread"``, a
thread pool; nothing else schedules anything.

The workflows do not report fine-grained progress through the registry, so a job reports its
stages: queued (0), reading inputs and computing (0.1), drawing figures (0.8), keeping the result
(0.9), done (1). A server that stops while jobs wait or run marks them failed at the next start
(:func:`kinresist.web.services.fail_orphaned_jobs`): they never show "running" forever.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import uuid
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.web import services

if TYPE_CHECKING:
    from kinresist.core.registry import Workflow
    from kinresist.store.api import Store
    from kinresist.web.auth import Principal
    from kinresist.web.config import Settings
    from kinresist.web.uploads import UploadArea

__all__ = ["JobManager", "JobSpec", "execute_job"]

log = logging.getLogger("kinresist.web")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """Everything a worker needs (picklable: names, paths, plain values)."""

    job_id: str
    workflow: str
    call: dict[str, Any]
    store_url: str
    results_root: str
    ttl_hours: float
    upload_root: str
    owner: str
    parameters: dict[str, Any]


def execute_job(spec: JobSpec) -> None:
    """Run one job to its end, writing its state to the store (runs in the worker)."""
    from kinresist.cli.generated import ensure_figures
    from kinresist.core.registry import get_workflow
    from kinresist.store import open_store
    from kinresist.web.results import ResultStore
    from kinresist.web.runner import RUN_LOCK, error_info

    os.environ["KINRESIST_QUIET"] = "1"
    store = open_store(spec.store_url, migrate_schema=False)
    try:
        services.update_job(
            store, spec.job_id, status="running", progress=0.1, message="reading inputs, computing"
        )
        try:
            wf = get_workflow(spec.workflow)
            with RUN_LOCK:  # matters in the thread pool only (a process has its own)
                result = wf(**spec.call)
                services.update_job(store, spec.job_id, progress=0.8, message="drawing figures")
                ensure_figures(wf, result)
            services.update_job(store, spec.job_id, progress=0.9, message="keeping the result")
            results = ResultStore(Path(spec.results_root), ttl_hours=spec.ttl_hours)
            rid = results.put(result, owner=spec.owner, parameters=spec.parameters)
        except Exception as exc:  # noqa: BLE001 - every failure ends the job with its one-line message
            info = error_info(exc, roots=(spec.upload_root,))
            services.update_job(
                store, spec.job_id, status="failed", message="failed", error=info.message
            )
            return
        services.update_job(
            store,
            spec.job_id,
            status="done",
            progress=1.0,
            message="done",
            result={"result_id": rid, "warnings": list(result.warnings)},
        )
    finally:
        shutil.rmtree(spec.upload_root, ignore_errors=True)
        store.close()


class JobManager:
    """Submits jobs to the pool and records them (see the module docstring)."""

    def __init__(self, settings: Settings, store: Store, results_root: Path) -> None:
        self.settings = settings
        self.store = store
        self.results_root = results_root
        self._executor: Executor | None = None

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.settings.job_executor == "process":
                self._executor = ProcessPoolExecutor(
                    max_workers=self.settings.job_workers,
                    mp_context=multiprocessing.get_context("spawn"),
                )
            else:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.settings.job_workers, thread_name_prefix="kinresist-job"
                )
        return self._executor

    def submit(
        self,
        principal: Principal,
        wf: Workflow,
        call: dict[str, Any],
        area: UploadArea,
        parameters: dict[str, Any],
    ) -> str:
        """Record a queued job and hand it to the pool; the job owns ``area`` from now on."""
        job_id = str(uuid.uuid4())
        services.create_job(self.store, job_id, wf.name, principal, parameters)
        spec = JobSpec(
            job_id=job_id,
            workflow=wf.name,
            call=call,
            store_url=self.store.engine.url.render_as_string(hide_password=False),
            results_root=str(self.results_root),
            ttl_hours=self.settings.result_ttl_hours,
            upload_root=str(area.root),
            owner=principal.name,
            parameters=parameters,
        )
        future = self._pool().submit(execute_job, spec)
        future.add_done_callback(lambda f: self._finished(job_id, f, area))
        return job_id

    def _finished(self, job_id: str, future: Future[None], area: UploadArea) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is None:
            return
        log.error("job %s: worker failed: %r", job_id, exc)
        area.cleanup()
        try:
            services.update_job(
                self.store,
                job_id,
                status="failed",
                message="failed",
                error=f"InternalError: the job's worker stopped unexpectedly ({type(exc).__name__}: "
                f"{exc}); the server log has details",
            )
        except Exception:  # the store may be closing with the server
            log.exception("job %s: could not record the failure", job_id)

    def shutdown(self) -> None:
        """Stop taking jobs; jobs still waiting or running are recorded as interrupted."""
        if self._executor is None:
            return
        executor, self._executor = self._executor, None
        if isinstance(executor, ProcessPoolExecutor):
            processes = dict(getattr(executor, "_processes", None) or {})
            executor.shutdown(wait=False, cancel_futures=True)
            for proc in processes.values():
                proc.terminate()
            for proc in processes.values():
                proc.join(timeout=5)
        else:
            executor.shutdown(wait=True, cancel_futures=True)
        services.fail_orphaned_jobs(self.store)
