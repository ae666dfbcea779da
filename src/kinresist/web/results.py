"""Results kept by the server between "run" and "download / save to a study".

A finished run (a request's or a job's) is kept under ``<work>/results/<id>/`` with a random
32-hex id: ``result.pickle`` (the :class:`~kinresist.core.result.Result` itself, written and read
only by this server, from this folder), ``meta.json`` (owner, workflow, when, where it was saved)
and, on first request, the rendered ``report.html``. Unsaved results expire after
``result_ttl_hours``; saved ones stay as long as their run (the run's ``outputs`` keep the id).

Downloads are rendered by the same code as the CLI's ``--format``: JSON and TSV by the core
serialiser, Parquet by :func:`kinresist.core.serialise.write_parquet`, HTML by the workflow's
report (:func:`kinresist.cli.generated.render_html`), extra formats (VCF) by the workflow's writers.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.web.services import NotFound

if TYPE_CHECKING:
    from kinresist.core.registry import Workflow
    from kinresist.core.result import Result
    from kinresist.web.auth import Principal

__all__ = ["DOWNLOAD_FORMATS", "Download", "ResultStore"]

_ID = re.compile(r"^[0-9a-f]{32}$")
DOWNLOAD_FORMATS = ("json", "tsv", "parquet", "html")
_MEDIA = {
    "json": "application/json",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "html": "text/html; charset=utf-8",
}


class Download:
    """A file to send: bytes, media type and the name offered to the browser."""

    def __init__(self, content: bytes, media_type: str, filename: str) -> None:
        self.content = content
        self.media_type = media_type
        self.filename = filename


class ResultStore:
    """The server-side folder of results (see the module docstring)."""

    def __init__(self, root: Path, *, ttl_hours: float = 72.0) -> None:
        self.root = root
        self.ttl_s = ttl_hours * 3600.0
        root.mkdir(parents=True, exist_ok=True)

    def _dir(self, rid: str) -> Path:
        if not _ID.match(rid):
            msg = f"result {rid[:40]}"
            raise NotFound(msg)
        path = self.root / rid
        if not (path / "meta.json").is_file():
            msg = f"result {rid}"
            raise NotFound(msg)
        return path

    def put(self, result: Result, *, owner: str, parameters: dict[str, Any]) -> str:
        """Keep ``result``; return its id."""
        from kinresist.core.serialise import clean

        self.purge_expired()
        rid = secrets.token_hex(16)
        path = self.root / rid
        path.mkdir(mode=0o700)
        with (path / "result.pickle").open("wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        meta = {
            "id": rid,
            "owner": owner,
            "workflow": result.workflow,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "parameters": clean(json.loads(json.dumps(parameters, default=str))),
            "warnings": list(result.warnings),
            "tables": list(result.tables),
            "measurements": len(result.measurements),
            "findings": len(result.findings),
            "saved": [],
        }
        self._write_meta(path, meta)
        return rid

    @staticmethod
    def _write_meta(path: Path, meta: dict[str, Any]) -> None:
        tmp = path / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        tmp.replace(path / "meta.json")

    def meta(self, rid: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self._dir(rid) / "meta.json").read_text("utf-8"))
        return data

    def check_access(
        self, rid: str, principal: Principal, visible_studies: set[int]
    ) -> dict[str, Any]:
        """The meta of ``rid`` if ``principal`` may see it (its owner, an admin, or a member of a
        study it was saved to); otherwise NotFound."""
        meta = self.meta(rid)
        if principal.is_admin or principal.single_user or meta["owner"] == principal.name:
            return meta
        if any(s.get("study_id") in visible_studies for s in meta.get("saved", [])):
            return meta
        msg = f"result {rid}"
        raise NotFound(msg)

    def load(self, rid: str) -> Result:
        with (self._dir(rid) / "result.pickle").open("rb") as fh:
            result: Result = pickle.load(fh)
        return result

    def mark_saved(self, rid: str, *, run_id: int, study_id: int, study: str) -> None:
        path = self._dir(rid)
        meta = self.meta(rid)
        meta["saved"].append({"run_id": run_id, "study_id": study_id, "study": study})
        self._write_meta(path, meta)

    def report(self, rid: str, wf: Workflow) -> str:
        """The workflow's HTML report of the result (rendered once, then kept)."""
        path = self._dir(rid) / "report.html"
        if path.is_file():
            return path.read_text("utf-8")
        from kinresist.cli.generated import render_html

        html = render_html(wf, self.load(rid))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)
        return html

    def download(self, rid: str, wf: Workflow, fmt: str, *, table: str | None = None) -> Download:
        """The result in ``fmt`` (json, tsv, parquet, html, or one of the workflow's writers)."""
        from kinresist.errors import InputError

        base = f"{wf.name.replace('.', '-')}-{rid[:8]}"
        if fmt == "html":
            return Download(self.report(rid, wf).encode(), _MEDIA["html"], base + ".html")
        result = self.load(rid)
        if table is not None and table not in result.tables and table != "measurements":
            msg = (
                f"no table {table!r} in this result; tables: {', '.join(result.tables) or '(none)'}"
            )
            raise InputError(msg)
        name = f"{base}{'' if table is None else '-' + table}"
        if fmt == "json":
            return Download(result.to_json().encode() + b"\n", _MEDIA["json"], base + ".json")
        frame = (
            result.measurements_frame()
            if table == "measurements"
            else result.primary_table
            if table is None
            else result.tables[table]
        )
        if fmt == "tsv":
            from kinresist.core.serialise import table_to_tsv

            text = table_to_tsv(frame, result.envelope())
            return Download(text.encode(), _MEDIA["tsv"], name + ".tsv")
        if fmt == "parquet":
            from kinresist.core.serialise import write_parquet

            scratch = self._dir(rid) / f"download-{secrets.token_hex(4)}.parquet"
            try:
                shown = table or (next(iter(result.tables)) if result.tables else "measurements")
                write_parquet(frame, scratch, {**result.envelope(), "table": shown})
                data = scratch.read_bytes()
            finally:
                scratch.unlink(missing_ok=True)
            return Download(data, _MEDIA["parquet"], name + ".parquet")
        if fmt in wf.writers:
            from kinresist.core.registry import resolve

            scratch = self._dir(rid) / f"download-{secrets.token_hex(4)}.{fmt}"
            try:
                resolve(wf.writers[fmt])(result, scratch)
                data = scratch.read_bytes()
            finally:
                scratch.unlink(missing_ok=True)
            return Download(data, "application/octet-stream", f"{base}.{fmt}")
        msg = f"unknown download format {fmt!r}; expected {', '.join(DOWNLOAD_FORMATS + tuple(wf.writers))}"
        raise InputError(msg)

    def purge_expired(self) -> int:
        """Remove unsaved results older than the time to live; return how many."""
        now = time.time()
        n = 0
        for path in self.root.iterdir():
            meta_path = path / "meta.json"
            if not _ID.match(path.name) or not meta_path.is_file():
                continue
            if now - meta_path.stat().st_mtime < self.ttl_s:
                continue
            try:
                saved = json.loads(meta_path.read_text("utf-8")).get("saved")
            except (OSError, ValueError):
                saved = None
            if not saved:
                shutil.rmtree(path, ignore_errors=True)
                n += 1
        return n
