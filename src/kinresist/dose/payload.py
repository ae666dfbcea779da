"""Versioned outputs of the dose-response commands: JSON payloads, tidy tables, HTML.

Schema versions (documented in docs/formats.md):

* ``kinresist.dose.fit`` 1.0 — ``fits[]``
* ``kinresist.dose.compare`` 1.0 — ``groups``, ``ratio``, ``f_test``
* ``kinresist.dose.plate`` 1.0 — ``qc[]``, ``fits[]``, ``comparisons[]``
* ``kinresist.dose.gr`` 1.0 — ``experiments[]``
* ``kinresist.dose.standard`` 1.0 — ``standard`` fit, ``unknowns[]``
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kinresist.provenance import stamp, tsv_header

__all__ = [
    "SCHEMA_VERSION",
    "fits_frame",
    "payload",
    "write_plate_report",
    "write_table",
]

SCHEMA_VERSION = "1.0"


def payload(
    kind: str, body: Mapping[str, Any], *, inputs: Any, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """Stamped JSON payload: provenance header + body."""
    return {
        **stamp(f"kinresist.dose.{kind}", SCHEMA_VERSION, inputs=inputs, parameters=parameters),
        **body,
    }


def fits_frame(fits: list[dict[str, Any]]) -> pd.DataFrame:
    """Flatten contract fit records to one tidy row per group."""
    rows = []
    for f in fits:
        row: dict[str, Any] = {
            "group": f["group"],
            "model": f["model"],
            "se_method": f["se_method"],
        }
        for name, p in f["parameters"].items():
            for key in ("estimate", "se", "ci_low", "ci_high"):
                row[f"{name}_{key}"] = p[key]
        for key in ("estimate", "se", "ci_low", "ci_high", "note"):
            row[f"ed50_{key}"] = f["ed50"][key]
        for key in (
            "rss",
            "df",
            "n",
            "converged",
            "status",
            "r2",
            "aic",
            "auc",
            "activity_area",
            "emax",
            "lack_of_fit_p",
            "flat_test_p",
        ):
            row[key] = f.get(key)
        row["flags"] = ";".join(f["flags"])
        rows.append(row)
    return pd.DataFrame(rows)


def write_table(frame: pd.DataFrame, path: str | Path, header: Mapping[str, Any]) -> Path:
    """Write a tidy table: ``.parquet`` (stamp in the file metadata) or CSV/TSV with
    ``## key: value`` comment lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"kinresist"] = json.dumps(dict(header), default=str).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
        return path
    sep = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
    text = tsv_header(header) + frame.to_csv(sep=sep, index=False)
    path.write_text(text, encoding="utf-8")
    return path


def write_plate_report(
    analysis: Any,
    body: Mapping[str, Any],
    path: str | Path,
    *,
    title: str | None = None,
    figures_dir: str | Path | None = None,
) -> Path:
    """Self-contained HTML report of a plate analysis (inline SVG figures).

    ``figures_dir`` also writes each panel as PNG and SVG.
    """
    import numpy as np

    from kinresist.reports.dose import (
        figure_svg,
        plot_curves,
        render_html,
        resistance_sentence,
        save_figure,
    )

    fits = analysis.fits
    figures = []
    drugs = list(dict.fromkeys(analysis.table["drug"]))
    for drug in drugs:
        rows = [i for i, g in enumerate(fits.groups) if g.split(" | ")[-1] == drug]
        if not rows:
            continue
        fig = plot_curves(
            fits.fit,
            fits.dose,
            fits.response,
            fits.groups,
            rows=rows,
            ed50=fits.ed50.estimate[:, 0],
            title=str(drug),
        )
        figures.append(
            {
                "svg": figure_svg(fig),
                "caption": f"{drug}: mean ± SD, fitted {analysis.model}, 95% CI band, IC50 marker",
            }
        )
        if figures_dir is not None:
            safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(drug))
            save_figure(fig, Path(figures_dir) / f"{safe}.png")
            save_figure(fig, Path(figures_dir) / f"{safe}.svg")
    sentences = []
    for comp in body.get("comparisons", []):
        sentences += [f"{comp['panel']} — {s}" for s in resistance_sentence(comp, unit="nM")]
    html = render_html(
        {
            "title": title or "Dose-response report",
            "stamp": body,
            "model": analysis.model,
            "se_method": analysis.se_method,
            "ci_pct": round(100 * fits.ci_level),
            "unit": "nM",
            "sentences": sentences,
            "qc": body.get("qc", []),
            "fits": body.get("fits", []),
            "comparisons": body.get("comparisons", []),
            "figures": figures,
            "shared": list(analysis.shared),
            "kill_as_zero": analysis.kill_as_zero,
        }
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    del np
    return path
