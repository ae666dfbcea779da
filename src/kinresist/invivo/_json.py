"""JSON-ready values from numpy/pandas (NaN -> None, numpy scalars -> Python)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["num", "records"]


def num(v: Any) -> float | None:
    """A finite float, or None (NaN, inf, None)."""
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Table rows as dicts with JSON-ready values."""
    out = []
    for rec in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for k, v in rec.items():
            if isinstance(v, float | np.floating):
                clean[str(k)] = num(v)
            elif isinstance(v, np.integer):
                clean[str(k)] = int(v)
            elif isinstance(v, np.bool_):
                clean[str(k)] = bool(v)
            else:
                clean[str(k)] = v
        out.append(clean)
    return out
