"""Running a workflow for the web, and the errors it may end with.

:func:`run_workflow` calls the workflow exactly as the CLI does (``wf(**call)``), draws its
on-demand figures while the uploads still exist, and keeps the result (:class:`ResultStore`).

:func:`error_info` turns an exception into what the user sees: the CLI's one-line message
(``InputError: plate.csv, line 3: ...``) with the server's private upload folders removed, and the
HTTP status (422 bad input, 413 too large, 503 store busy, 500 a server-side problem). Only
kinresist's own errors and the operating system's file errors are "expected"; anything else is
reported as an internal error, like the CLI's exit code 1.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kinresist.errors import (
    ExternalToolError,
    FitError,
    InputError,
    KinresistError,
    KnowledgeBaseError,
    StoreError,
)
from kinresist.web.uploads import UploadTooLarge

if TYPE_CHECKING:
    from kinresist.core.registry import Workflow
    from kinresist.core.result import Result
    from kinresist.web.results import ResultStore

__all__ = ["RUN_LOCK", "ErrorInfo", "error_info", "run_workflow", "strip_private"]

log = logging.getLogger("kinresist.web")

#: Workflows draw with matplotlib, whose pyplot state is not thread-safe: one workflow at a time
#: runs in a server process (long-running ones run in the job pool's own processes).
RUN_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An error as the web shows it."""

    status: int
    error: str
    message: str
    path: str | None = None
    line: int | None = None
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
        }


def strip_private(text: str, roots: tuple[str, ...]) -> str:
    """``text`` without the server's private folders (upload areas, the work folder)."""
    for root in roots:
        text = re.sub(re.escape(root.rstrip("/")) + r"/(f\d+/)?", "", text)
    return text


def error_info(exc: BaseException, *, roots: tuple[str, ...] = ()) -> ErrorInfo:
    """What to show for ``exc`` (see the module docstring)."""
    if isinstance(exc, UploadTooLarge):
        return ErrorInfo(413, "UploadTooLarge", f"UploadTooLarge: {strip_private(str(exc), roots)}")
    if isinstance(exc, KinresistError):
        line = strip_private(exc.one_line(), roots)
        if isinstance(exc, InputError | FitError):
            status = 422
        elif type(exc).__name__ == "StoreBusyError":
            status = 503
        elif isinstance(exc, StoreError | KnowledgeBaseError | ExternalToolError):
            status = 500
        else:
            status = 422
        path = getattr(exc, "path", None)
        column = getattr(exc, "column", None)
        return ErrorInfo(
            status,
            type(exc).__name__,
            line,
            path=None if path is None else strip_private(str(path), roots),
            line=getattr(exc, "line", None),
            column=None if column is None else str(column),
        )
    if isinstance(
        exc, FileNotFoundError | IsADirectoryError | NotADirectoryError | PermissionError
    ):
        name = strip_private(str(exc.filename or ""), roots)
        return ErrorInfo(422, "InputError", f"InputError: {exc.strerror or exc}: {name}", path=name)
    if isinstance(exc, UnicodeDecodeError):
        text = (
            f"InputError: input is not valid UTF-8 text (byte {exc.start}: "
            f"{exc.object[exc.start : exc.start + 1]!r}); save the file as UTF-8"
        )
        return ErrorInfo(422, "InputError", text)
    log.exception("internal error", exc_info=exc)
    detail = strip_private(" ".join(str(exc).split()), roots)
    return ErrorInfo(
        500,
        "InternalError",
        f"InternalError: {type(exc).__name__}: {detail} (a bug in kinresist; the server log has "
        "the traceback)",
    )


def run_workflow(
    wf: Workflow,
    call: dict[str, Any],
    *,
    results: ResultStore,
    owner: str,
    parameters: dict[str, Any],
) -> tuple[str, Result]:
    """Run ``wf`` with ``call``, draw its figures, keep the result; return (id, result)."""
    from kinresist.cli.generated import ensure_figures

    os.environ["KINRESIST_QUIET"] = "1"  # no terminal progress bars in a server
    with RUN_LOCK:
        result = wf(**call)
        ensure_figures(wf, result)
    rid = results.put(result, owner=owner, parameters=parameters)
    return rid, result
