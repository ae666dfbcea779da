"""The ``tme associate`` entry point: study view + biomarker association as a
:class:`kinresist.core.Result`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.tme.association import DEFAULT_RESPONDERS, associate, responder_mask
from kinresist.tme.study import BIOMARKERS, study_from_store, study_view

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

    from kinresist.core.result import Result

__all__ = ["SCHEMA_VERSION", "associate_file", "associate_study"]

SCHEMA_VERSION = "1.0"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return _clean(v.item())
    return v


def _roc_figure(rocs: pd.DataFrame, table: pd.DataFrame) -> MplFigure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    for name, g in rocs.groupby("biomarker", sort=False):
        row = table.set_index("biomarker").loc[name]
        ax.step(1 - g["specificity"], g["sensitivity"], where="post", lw=1.5,
                label=f"{name}: AUC {row['auc']:.2f} ({row['auc_ci_low']:.2f}-"
                      f"{row['auc_ci_high']:.2f})")  # fmt: skip
    ax.plot([0, 1], [0, 1], color="#8c959f", ls=":", lw=1)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title("Baseline biomarkers vs response (ROC)", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    fig.tight_layout()
    return fig


def _strip_figure(view: pd.DataFrame, markers: list[str], resp: pd.Series) -> MplFigure:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(markers)
    fig, axes = plt.subplots(1, n, figsize=(2.2 * n + 0.6, 3.2), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, m in zip(axes[0], markers, strict=True):
        for x, code in enumerate((0.0, 1.0)):
            v = view.loc[resp == code, m].dropna().to_numpy(float)
            ax.scatter(x + rng.uniform(-0.12, 0.12, v.size), v, s=14, color="#1d2430", alpha=0.8)
            if v.size:
                ax.hlines(np.median(v), x - 0.25, x + 0.25, color="#cf222e", lw=2)
        ax.set_xticks([0, 1], ["non-resp.", "responder"], fontsize=7)
        ax.set_title(m, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
    fig.tight_layout()
    return fig


def _km(
    view: pd.DataFrame, marker: str, time_col: str, event_col: str, cutoff: float | None
) -> tuple[dict[str, Any], Any]:
    from kinresist.clinical.plots import km_figure
    from kinresist.clinical.survival import kaplan_meier, logrank_test, nice_times

    d = view[[marker, time_col, event_col]].dropna()
    cut = float(np.median(d[marker])) if cutoff is None else float(cutoff)
    group = np.where(d[marker] > cut, "high", "low")
    if len(set(group)) < 2:
        msg = f"KM by {marker}: every tumour falls on one side of the cut-off {cut:g}"
        raise InputError(msg)
    km = kaplan_meier(d[time_col], d[event_col], group=group, levels=["low", "high"])
    lr = logrank_test(d[time_col], d[event_col], group, levels=["low", "high"])
    summary = {
        "biomarker": marker,
        "cutoff": cut,
        "cutoff_rule": "median" if cutoff is None else "given",
        "high_means": f"{marker} > cutoff",
        "groups": [
            {"group": c.label, "n": c.n, "events": c.events, **c.median().to_dict()}
            for c in km.curves
        ],
        "logrank": lr.to_dict(),
        "engine": "kinresist.clinical.survival (R survfit/survdiff replicated)",
    }
    fig = km_figure(
        km,
        risk_times=nice_times(max(c.max_time for c in km.curves)),
        ylabel="Progression-free",
        title=f"Time to progression by baseline {marker} (split at {cut:.3g})",
    )
    return summary, fig


def associate_study(
    view: pd.DataFrame,
    /,
    *,
    response_col: str = "response",
    responders: Sequence[str] = DEFAULT_RESPONDERS,
    biomarkers: Sequence[str] | None = None,
    time_col: str | None = None,
    event_col: str | None = None,
    km_biomarker: str = "neutrophil_pct_cd45",
    km_cutoff: float | None = None,
    n_boot: int = 0,
    seed: int = 0,
    notes: Sequence[str] = (),
    inputs: dict[str, Any] | None = None,
) -> Result:
    """Associate each biomarker of the study view with response; KM by high/low ``km_biomarker``."""
    from kinresist.core.result import Figure, Provenance, Result

    if response_col not in view.columns:
        msg = f"no response column {response_col!r}; columns: {list(view.columns)}"
        raise InputError(msg)
    resp = responder_mask(view[response_col], responders)
    if resp.isna().all():
        msg = f"column {response_col!r} has no response values"
        raise InputError(msg)
    markers = list(biomarkers) if biomarkers else [b for b in BIOMARKERS if b in view.columns]
    missing = [m for m in markers if m not in view.columns]
    if missing:
        msg = f"biomarker column(s) {missing} not in the study view ({list(view.columns)})"
        raise InputError(msg)
    rng = np.random.default_rng(seed)
    results, rocs, skipped = [], [], []
    for m in markers:
        col = pd.to_numeric(view[m], errors="coerce")
        try:
            a = associate(col, resp, name=m, n_boot=n_boot, rng=rng)
        except InputError as exc:
            skipped.append(str(exc))
            continue
        results.append(a.row())
        rocs.append(a.roc)
    if not results:
        msg = "no biomarker has enough responders and non-responders: " + "; ".join(skipped)
        raise InputError(msg)
    table = pd.DataFrame(results)
    roc = pd.concat(rocs, ignore_index=True)
    figures = [
        Figure.from_matplotlib(_roc_figure(roc, table), "roc", "ROC curves (DeLong CIs)."),
        Figure.from_matplotlib(
            _strip_figure(view, list(table["biomarker"]), resp),
            "by_response",
            "Baseline values by response (red: median).",
        ),
    ]
    km: dict[str, Any] | None = None
    warnings = [f"skipped: {s}" for s in skipped]
    if time_col and event_col:
        for c in (time_col, event_col):
            if c not in view.columns:
                msg = f"no column {c!r} for the KM analysis; columns: {list(view.columns)}"
                raise InputError(msg)
        if km_biomarker not in view.columns:
            warnings.append(f"KM skipped: no {km_biomarker!r} column")
        else:
            km, fig = _km(view, km_biomarker, time_col, event_col, km_cutoff)
            figures.append(Figure.from_matplotlib(fig, "km", "KM by high/low baseline marker."))
    view_out = view.assign(responder=resp)
    body = {
        "n_tumours": len(view),
        "responders_definition": {"column": response_col, "responders": list(responders)},
        "n_responders": int((resp == 1).sum()),
        "n_non_responders": int((resp == 0).sum()),
        "associations": [{k: _clean(v) for k, v in r.items()} for r in results],
        "km": km,
        "notes": [
            "Youden cut-offs are optimistic: chosen and evaluated on the same tumours; the "
            "leave-one-out cross-validated sensitivity/specificity is the honest estimate.",
            "AUC > 0.5: higher values in responders; < 0.5: lower values in responders.",
            *notes,
        ],
    }
    return Result(
        workflow="tme.associate",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs=dict(inputs or {}),
            parameters={
                "response_col": response_col,
                "responders": list(responders),
                "biomarkers": markers,
                "time_col": time_col,
                "event_col": event_col,
                "km_biomarker": km_biomarker,
                "km_cutoff": km_cutoff,
                "n_boot": n_boot,
                "seed": seed,
            },
        ),
        body=body,
        tables={"study": view_out, "associations": table, "roc": roc},
        figures=figures,
        warnings=warnings,
    )


def associate_file(
    table: str | PathLike[str] | None = None,
    *,
    db: str | None = None,
    study: str | None = None,
    subject_col: str = "subject",
    **options: Any,
) -> Result:
    """Read a per-tumour table and/or a store study, then :func:`associate_study`."""
    from kinresist.tme.io import read_table

    frame = read_table(table) if table is not None else None
    store_values = None
    notes: list[str] = []
    inputs: dict[str, Any] = {}
    if table is not None:
        inputs["table"] = Path(table)
    if study is not None:
        from kinresist.store.api import open_store

        with open_store(db) as store:
            store_values, notes = study_from_store(store, study)
        inputs["store_study"] = _study_digest(store_values)
    view = study_view(frame, store_values, subject_col=subject_col, path=table)
    return associate_study(view, notes=notes, inputs=inputs, **options)


def _study_digest(frame: pd.DataFrame | None) -> str:
    from kinresist.provenance import text_sha256

    data = b"" if frame is None else frame.to_csv(index=False).encode()
    return text_sha256(data)
