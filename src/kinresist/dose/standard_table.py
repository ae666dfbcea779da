"""Standard-curve mode on a table: standards (with a concentration) and unknowns (without)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinresist.dose.standard import fit_standard, interpolate
from kinresist.dose.tables import finite_column, read_frame, require_columns
from kinresist.errors import InputError

__all__ = ["standard_from_table"]


def standard_from_table(
    path: str | Path,
    *,
    conc_col: str,
    signal_col: str,
    name_col: str = "name",
    model: str = "LL.4",
    se: str = "jtj",
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit the standards, interpolate the unknowns; return the body and the unknowns table.

    Rows with an empty (or NA) concentration are unknowns; a concentration that is text,
    negative or not finite, and a signal that is missing, text or not finite, are refused
    with the line named, as is a table with fewer than two distinct positive standards.
    """
    frame = read_frame(path)
    require_columns(frame, [conc_col, signal_col], path=path)
    values = finite_column(frame[conc_col], path=path, name=conc_col, minimum=0.0)
    signal = finite_column(frame[signal_col], path=path, name=signal_col, allow_na=False)
    frame[signal_col] = signal
    conc = pd.Series(values, index=frame.index)
    positive = np.unique(values[np.isfinite(values) & (values > 0)])
    if positive.size < 2:
        msg = (
            f"{positive.size} distinct positive standard concentration(s) in {conc_col!r}; a "
            "standard curve needs at least two (rows with an empty concentration are unknowns)"
        )
        raise InputError(msg, path=path, column=conc_col)
    std = frame[conc.notna()]
    unk = frame[conc.isna()]
    curve = fit_standard(
        conc[conc.notna()].to_numpy(float), std[signal_col].to_numpy(float), model=model, se=se
    )
    names = unk[name_col].astype(str).tolist() if name_col in unk.columns else None
    res = interpolate(curve, unk[signal_col].to_numpy(float), names=names)
    f = curve.fit
    lo, hi = f.ci()
    body = {
        "standard": {
            "model": f.model,
            "se_method": se,
            "rss": float(f.rss[0]),
            "df": int(f.df[0]),
            "converged": bool(f.converged[0]),
            "flags": list(f.flags[0]),
            "parameters": {
                n: {
                    "estimate": float(f.params[0, j]),
                    "se": float(f.se[0, j]),
                    "ci_low": float(lo[0, j]),
                    "ci_high": float(hi[0, j]),
                }
                for j, n in enumerate(f.param_names)
            },
            "range": list(curve.range),
        },
        "unknowns": res.replace({np.nan: None}).to_dict(orient="records"),
    }
    return body, res
