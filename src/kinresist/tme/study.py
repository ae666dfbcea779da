"""The TME study view: one row per tumour with CD8⁺ %, neutrophil %, chemokines, IFN-γ score and
response.

Values come from a per-tumour table (columns named as :data:`STUDY_COLUMNS`, extra columns kept)
and/or from the project store: measurements recorded by ``flow gate`` (% of CD45⁺ of CD8⁺ T cells
and neutrophils, log2 CD8/neutrophil ratio), ``elisa quantify`` (CXCL9/10/1/2 concentrations) and
``gsea score`` (Ayers IFN-γ and GEP scores), joined by subject label. When a subject has several
values of one quantity (several samples), the earliest sample (collection date, then record
order) is taken as baseline and the row is flagged. An ELISA value below LLOQ stays missing (the
flag says so), never 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kinresist.errors import InputError

if TYPE_CHECKING:
    from os import PathLike

    from kinresist.store.api import Store

__all__ = ["BIOMARKERS", "STORE_MAP", "STUDY_COLUMNS", "study_from_store", "study_view"]

BIOMARKERS = (
    "cd8_pct_cd45",
    "neutrophil_pct_cd45",
    "log2_cd8_neutrophil",
    "CXCL9",
    "CXCL10",
    "CXCL1",
    "CXCL2",
    "ifng_score",
    "gep_score",
)
STUDY_COLUMNS = ("subject", *BIOMARKERS, "response", "time", "event")

#: (assay, target, quantity) -> study column
STORE_MAP: dict[tuple[str, str, str], str] = {
    ("flow", "CD8+ T cells", "pct_of_cd45"): "cd8_pct_cd45",
    ("flow", "neutrophils", "pct_of_cd45"): "neutrophil_pct_cd45",
    ("flow", "CD8+ T cells / neutrophils", "log2_ratio"): "log2_cd8_neutrophil",
    ("elisa", "CXCL9", "concentration"): "CXCL9",
    ("elisa", "CXCL10", "concentration"): "CXCL10",
    ("elisa", "CXCL1", "concentration"): "CXCL1",
    ("elisa", "CXCL2", "concentration"): "CXCL2",
    ("rnaseq", "AYERS_IFNG_6", "signature_score"): "ifng_score",
    ("rnaseq", "AYERS_TCELL_INFLAMED_GEP_18", "signature_score"): "gep_score",
}


def study_from_store(store: Store, study: str) -> tuple[pd.DataFrame, list[str]]:
    """Per-subject biomarker columns from the measurements of ``study`` (and notes)."""
    from sqlalchemy import select

    from kinresist.store.models import Measurement, Sample, Study, Subject

    with store.session() as s:
        q = (
            select(
                Subject.label,
                Sample.label,
                Sample.collected,
                Measurement.id,
                Measurement.assay,
                Measurement.target,
                Measurement.quantity,
                Measurement.value,
                Measurement.call,
            )
            .join(Sample, Measurement.sample_id == Sample.id)
            .join(Subject, Sample.subject_id == Subject.id)
            .join(Study, Subject.study_id == Study.id)
            .where(Study.name == study)
        )
        rows = list(s.execute(q))
    if not rows:
        msg = f"study {study!r} has no measurements in the store; record flow/elisa/gsea runs first"
        raise InputError(msg)
    frame = pd.DataFrame(
        rows,
        columns=["subject", "sample", "collected", "id", "assay", "target", "quantity", "value",
                 "call"],
    )  # fmt: skip
    frame["target_norm"] = frame["target"].astype(str).str.upper().str.replace(" ", "")
    keys = {(a, t.upper().replace(" ", ""), q): c for (a, t, q), c in STORE_MAP.items()}
    frame["column"] = [
        keys.get((a, t, q)) for a, t, q in zip(frame["assay"], frame["target_norm"],
                                               frame["quantity"], strict=True)
    ]  # fmt: skip
    frame = frame[frame["column"].notna()]
    notes: list[str] = []
    frame = frame.sort_values(["collected", "id"], na_position="last", kind="mergesort")
    multi = frame.groupby(["subject", "column"]).size()
    if (multi > 1).any():
        n = int((multi > 1).sum())
        notes.append(f"{n} subject x biomarker pairs have several samples; the earliest is used")
    below = frame[(frame["call"] == "not_detected") & frame["value"].isna()]
    if len(below):
        notes.append(f"{len(below)} ELISA values below LLOQ are missing (not 0) in the study view")
    first = frame.drop_duplicates(["subject", "column"], keep="first")
    wide = first.pivot(index="subject", columns="column", values="value").reset_index()
    wide.columns.name = None
    return wide, notes


def study_view(
    table: pd.DataFrame | None,
    store_values: pd.DataFrame | None = None,
    *,
    subject_col: str = "subject",
    path: str | PathLike[str] | None = None,
) -> pd.DataFrame:
    """Merge a per-tumour table and store values on subject; canonical columns first
    (``path``: the table's file, named in errors)."""
    if table is None and store_values is None:
        msg = "give a per-tumour table and/or a store study"
        raise InputError(msg)
    frames = []
    if table is not None:
        if subject_col not in table.columns:
            msg = f"the tumour table needs a {subject_col!r} column; got {list(table.columns)}"
            raise InputError(msg, path=path, column=subject_col)
        t = table.rename(columns={subject_col: "subject"}).copy()
        t["subject"] = t["subject"].astype(str)
        if t["subject"].duplicated().any():
            dup = sorted(set(t.loc[t["subject"].duplicated(), "subject"]))[:5]
            msg = (
                f"subjects must be unique in the tumour table; repeated: {dup} "
                "(one row per tumour: merge or rename the repeated rows)"
            )
            raise InputError(msg, path=path, column=subject_col)
        frames.append(t)
    if store_values is not None:
        sv = store_values.copy()
        sv["subject"] = sv["subject"].astype(str)
        frames.append(sv)
    out = frames[0]
    for extra in frames[1:]:
        clash = [c for c in extra.columns if c in out.columns and c != "subject"]
        if clash:
            msg = f"columns {clash} come both from the table and the store; drop one of them"
            raise InputError(msg)
        out = out.merge(extra, on="subject", how="outer")
    ordered = [c for c in STUDY_COLUMNS if c in out.columns]
    rest = [c for c in out.columns if c not in ordered]
    out = out[ordered + rest]
    for c in BIOMARKERS:
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return (
        out.sort_values("subject", kind="mergesort")
        .reset_index(drop=True)
        .replace({np.inf: np.nan, -np.inf: np.nan})
    )
