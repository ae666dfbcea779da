"""Dose-response results on the core contract (:class:`kinresist.core.Result`).

Workflows and bodies (schema 2.0, documented in docs/formats.md):

* ``dose.fit``      — ``se_method``, ``dose_unit``, ``fits[]``; table ``fits``
* ``dose.compare``  — ``groups``, ``ed``, ``ratios``, ``f_test``, ``summary``; table ``ratios``
* ``dose.plate``    — ``qc[]``, ``fits[]``, ``comparisons[]``, ``summary``; tables ``fits``, ``wells``
* ``dose.gr``       — ``experiments[]``; table ``experiments``
* ``dose.select``   — ``models[]``; table ``models``
* ``dose.standard`` — ``standard``, ``unknowns[]``; table ``unknowns``

Every fitted IC50 of a group that names a cell line (``"<line> | <drug>"``) is also a
:class:`~kinresist.core.Measurement` (subject = the line, quantity ``ic50``) carrying the line's
genotype as canonical alteration keys, so that the lab's IC50 on a G1202R line meets a patient's
G1202R in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kinresist.core import Measurement, Result, alteration_key
from kinresist.errors import InputError

__all__ = [
    "SCHEMA_VERSION",
    "fits_frame",
    "ic50_measurements",
    "parse_genotypes",
    "resistance_sentence",
]

SCHEMA_VERSION = "2.0"


def fits_frame(fits: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One tidy row per fitted group (parameters with SE and CI, IC50, fit statistics, flags)."""
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


def parse_genotypes(items: Sequence[str] | None) -> dict[str, tuple[str, ...]]:
    """``["H3122-LR=ALK G1202R", "H3122-LR=ALK L1196M"]`` -> ``{"H3122-LR": ("ALK G1202R", ...)}``.

    Every alteration must have a canonical key (unknown names are refused, never guessed).
    """
    out: dict[str, list[str]] = {}
    for item in items or []:
        line, sep, alteration = item.partition("=")
        if not sep or not line.strip() or not alteration.strip():
            msg = f"--genotype {item!r}; expected LINE=ALTERATION, e.g. 'H3122-LR=ALK G1202R'"
            raise InputError(msg)
        for part in alteration.split(";"):
            key = alteration_key(None, part.strip())
            if key is None:
                msg = (
                    f"--genotype {item!r}: {part.strip()!r} is not an alteration kinresist can "
                    "name; write gene and change, e.g. 'ALK G1202R', 'EML4-ALK v3', 'MET amplification'"
                )
                raise InputError(msg)
            out.setdefault(line.strip(), []).append(str(key))
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def ic50_measurements(
    fits: Sequence[Mapping[str, Any]],
    *,
    unit: str,
    genotypes: Mapping[str, Sequence[str]] | None = None,
) -> list[Measurement]:
    """IC50 measurements of the groups that name a cell line (``"<line> | <drug>"``)."""
    out = []
    for f in fits:
        line, sep, drug = str(f["group"]).partition(" | ")
        if not sep:
            continue
        ed50 = f["ed50"]
        keys: Sequence[str | None] = tuple((genotypes or {}).get(line, ())) or (None,)
        for key in keys:
            out.append(
                Measurement(
                    assay="dose_response",
                    target=drug,
                    quantity="ic50",
                    value=ed50["estimate"],
                    unit=unit,
                    subject=line,
                    sample=line,
                    alteration=key,
                    ci_low=ed50["ci_low"],
                    ci_high=ed50["ci_high"],
                    flags=tuple(f["flags"]) + (() if f["status"] == "ok" else (str(f["status"]),)),
                    attributes={"model": f["model"], "se_method": f["se_method"]},
                )
            )
    return out


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    v = float(v)
    return f"{v:.{digits}g}" if np.isfinite(v) else "n/a"


def resistance_sentence(compare: Mapping[str, Any], *, unit: str = "nM") -> list[str]:
    """``"resistant: IC50 X nM (95% CI a–b), Y-fold the parental IC50 (95% CI c–d), p = …"``."""
    from kinresist.dose.compare import p_value_text

    eds = {e["group"]: e for e in compare["ed"]}
    out = []
    for r in compare["ratios"]:
        e = eds[r["numerator"]]
        fl = r["fieller"]
        ci = (
            f"95% CI {_fmt(fl['ci_low'])}–{_fmt(fl['ci_high'])}, Fieller"
            if fl.get("bounded")
            else f"95% CI {_fmt(r['delta']['ci_low'])}–{_fmt(r['delta']['ci_high'])}, delta; "
            "Fieller unbounded"
        )
        out.append(
            f"{r['numerator']}: IC50 {_fmt(e['estimate'])} {unit} (95% CI {_fmt(e['ci_low'])}–"
            f"{_fmt(e['ci_high'])}), {_fmt(r['estimate'])}-fold the {r['denominator']} IC50 ({ci}), "
            f"{p_value_text(compare['f_test']['p'])}"
        )
    return out


def make_result(
    workflow: str,
    *,
    body: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    inputs: Mapping[str, Any],
    parameters: Mapping[str, Any],
    measurements: Sequence[Measurement] = (),
    figures: Sequence[Any] = (),
    warnings: Sequence[str] = (),
) -> Result:
    """A dose result with provenance built from the inputs (paths) and parameters."""
    from kinresist.core import Provenance

    return Result(
        workflow=workflow,
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs=inputs, parameters=parameters),
        body=body,
        tables=tables,
        measurements=list(measurements),
        figures=list(figures),
        warnings=list(warnings),
    )
