"""Registry declarations of the monitoring workflows: study import, timeline, lineage.

These read or write the project store themselves (a manifest import is many results in one
transaction; a timeline is a view of the store), so they are declared ``records=False`` and take
the store as an option (``db``; not offered by the web layer, which brings its own store). The CLI
commands are thin hand-written adapters (``kinresist study import``, ``kinresist timeline``,
``kinresist lineage add|show``) over these same run functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kinresist.core.registry import InputSpec, Param, Workflow

if TYPE_CHECKING:
    from kinresist.core.result import Result
    from kinresist.store.api import Store

__all__ = [
    "GROUP_HELP",
    "WORKFLOWS",
    "run_import",
    "run_lineage_add",
    "run_lineage_show",
    "run_timeline",
]

GROUP_HELP = {
    "study": "Studies: import a manifest of samples, assay files and therapy lines in one step.",
    "lineage": "Resistant-line lineage: dose-escalation history, characterisations, clones.",
}

_DB = Param(
    "db",
    str,
    help="Project store (SQLite path or SQLAlchemy URL; default $KINRESIST_DB, else the user "
    "data directory).",
    web=False,
)
_STUDY = Param("study", str, help="Study name (needed only when a label is in several studies).")


def _open(db: str | None) -> Store:
    from kinresist.store import open_store

    return open_store(db)


def run_import(
    manifest: Path,
    *,
    therapy: Path | None = None,
    db: str | None = None,
    study: str = "default",
    edta_max_hours: float = 4.0,
    streck_max_hours: float = 168.0,
) -> Result:
    """Validate, analyse, then record the whole manifest in one transaction (``study.import``)."""
    from kinresist.monitoring.importer import analyse_manifest, import_study
    from kinresist.monitoring.manifest import read_manifest
    from kinresist.monitoring.therapy import read_therapy

    m = read_manifest(manifest, edta_max_hours=edta_max_hours, streck_max_hours=streck_max_hours)
    t = None if therapy is None else read_therapy(therapy)
    analyses = analyse_manifest(m)  # before the store opens: the transaction stays short
    with _open(db) as store:
        return import_study(store, m, therapy=t, study=study, analyses=analyses)


def run_timeline(
    *, subject: str, db: str | None = None, study: str | None = None, alpha: float = 0.05
) -> Result:
    """A subject's alteration fractions, therapy, interpretations and alerts (``timeline``)."""
    from kinresist.monitoring.timeline import build_timeline

    with _open(db) as store:
        return build_timeline(store, subject, study=study, alpha=alpha)


def run_lineage_add(
    *,
    line: str,
    parent: str | None = None,
    event: str | None = None,
    drug: str | None = None,
    dose: str | None = None,
    passage: int | None = None,
    date: str | None = None,
    note: str = "",
    db: str | None = None,
    study: str | None = None,
) -> Result:
    """Record one lineage event of a line (``lineage.add``)."""
    import datetime as dt

    import pandas as pd

    from kinresist.core.result import Provenance, Result
    from kinresist.errors import InputError
    from kinresist.monitoring.lineage import SCHEMA_VERSION, record_lineage_event

    try:
        day = None if date is None else dt.date.fromisoformat(date)
    except ValueError:
        msg = f"--date {date!r} is not an ISO date (YYYY-MM-DD)"
        raise InputError(msg) from None
    with _open(db) as store, store.transaction() as tx:
        event_row = record_lineage_event(
            tx,
            study=study or "default",
            line=line,
            parent=parent,
            event=event,
            drug=drug,
            dose=dose,
            passage=passage,
            date=day,
            note=note,
        )
    return Result(
        workflow="lineage.add",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(parameters={"line": line, "study": study or "default"}),
        body={"event": event_row},
        tables={"event": pd.DataFrame([event_row])},
    )


def run_lineage_show(*, line: str, db: str | None = None, study: str | None = None) -> Result:
    """A line's history, IC50s, clones and sequenced alterations (``lineage.show``)."""
    from kinresist.monitoring.lineage import lineage_result

    with _open(db) as store:
        return lineage_result(store, line, study=study)


_REPORTS = "kinresist.reports.timeline"

WORKFLOWS = [
    Workflow(
        group="study",
        command="import",
        help="Import a study manifest (subject, sample, collected, assay, file; optional plasma "
        "QC) and a therapy CSV: every file analysed, everything recorded in one transaction; a "
        "bad row stores nothing and is named.",
        run=run_import,
        inputs=[
            InputSpec("manifest", help="Manifest CSV/TSV (paths relative to it)."),
            InputSpec(
                "therapy",
                help="Therapy lines CSV: subject, drug, start, end (end empty = ongoing).",
                option=True,
                required=False,
            ),
        ],
        params=[
            _DB,
            Param("study", str, default="default", help="Study name."),
            Param(
                "edta_max_hours",
                float,
                default=4.0,
                help="EDTA tubes: flag processing later than this (h).",
            ),
            Param(
                "streck_max_hours",
                float,
                default=168.0,
                help="Streck cfDNA BCT: flag processing later than this (h; 7 days).",
            ),
        ],
        records=False,
        text=f"{_REPORTS}:import_text",
        report=f"{_REPORTS}:render_import",
        default_format="text",
    ),
    Workflow(
        group="timeline",
        command="timeline",
        toplevel=True,
        help="A subject's ctDNA timeline from the store: every draw's value per alteration and "
        "assay (below LoD, never 0), therapy bands, KB interpretation per draw, alerts (new "
        "detection, rising trend, molecular progression) and the lab's IC50 fold shift.",
        run=run_timeline,
        params=[
            Param("subject", str, required=True, help="Subject (patient) label."),
            _DB,
            _STUDY,
            Param(
                "alpha", float, default=0.05, help="Significance level of the rising-trend test."
            ),
        ],
        records=False,
        report=f"{_REPORTS}:render",
        text=f"{_REPORTS}:text",
        figures="kinresist.monitoring.plots:add_timeline_figure",
        default_format="json",
    ),
    Workflow(
        group="lineage",
        command="add",
        help="Record a lineage event of a cell line: derived from a parent, a dose step, a "
        "characterisation, a clone, a freeze or a note.",
        run=run_lineage_add,
        params=[
            Param("line", str, required=True, help="The line, e.g. H3122-CR."),
            Param("parent", str, help="The line it was derived from, e.g. H3122."),
            Param(
                "event",
                ("derived", "dose_step", "characterised", "clone", "frozen", "note"),
                help="Event kind (default: dose_step with --dose, derived with --parent, else note).",
            ),
            Param("drug", str, help="Drug of the dose step."),
            Param("dose", str, help="Dose with unit, e.g. 0.5uM or 500nM."),
            Param("passage", int, help="Passage number."),
            Param("date", str, help="Date (YYYY-MM-DD)."),
            Param("note", str, default="", help="Free text."),
            _DB,
            _STUDY,
        ],
        records=False,
        default_format="text",
    ),
    Workflow(
        group="lineage",
        command="show",
        help="A line's history: doses over time, passages, IC50 at each characterisation, "
        "clones derived, alterations found by sequencing.",
        run=run_lineage_show,
        params=[Param("line", str, required=True, help="The line, e.g. H3122-CR."), _DB, _STUDY],
        records=False,
        text=f"{_REPORTS}:lineage_text",
        figures="kinresist.monitoring.plots:add_lineage_figures",
        default_format="text",
    ),
]
