"""The golden cases: one small, deterministic run per workflow, its JSON frozen in
``tests/golden/data/<case>.json``.

Inputs are generated here with fixed seeds or read from ../shared (never copied). Regenerate
deliberately, and say why in the commit::

    python tests/golden/regenerate.py            # all cases
    python tests/golden/regenerate.py dose_plate # one case

Tolerance policy (see README.md beside this file): identifiers, strings, booleans, integers,
calls and flags must match exactly; floats to rtol 1e-6 (atol 1e-9); volatile envelope fields
(``created``, ``kinresist_version``) and paths are not compared.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KINRESIST_SHARED", REPO.parent / "shared"))
DATA = Path(__file__).resolve().parent / "data"

#: Envelope keys that change between runs or machines and are not compared.
VOLATILE = frozenset({"created", "kinresist_version"})
RTOL = 1e-6
ATOL = 1e-9


def _dose_plate(tmp: Path) -> dict[str, Any]:
    import numpy as np

    from kinresist.core import get_workflow
    from kinresist.dose.examples import write_example_plate

    plate, pmap = write_example_plate(tmp, rng=np.random.default_rng(7))
    res = get_workflow("dose.plate")(plate=plate, plate_map=pmap, genotype=["H3122-LR=ALK G1202R"])
    return res.to_dict()


def _synergy_block1(tmp: Path) -> dict[str, Any]:
    import pandas as pd

    from kinresist.core import get_workflow

    src = SHARED / "reference_data" / "dose_response" / "synergyfinder_mathews_screening_data.csv"
    frame = pd.read_csv(src)
    first = frame[frame["block_id"] == frame["block_id"].iloc[0]]
    path = tmp / "block1.csv"
    first.to_csv(path, index=False)
    res = get_workflow("synergy.score")(input=path, mode="synergyfinder", figures=False)
    return res.to_dict()


def _interpret(tmp: Path) -> dict[str, Any]:
    from kinresist.core import get_workflow

    res = get_workflow("interpret")(
        finding=["ALK G1202R", "EML4-ALK v3"], prior_therapy="alectinib", sample_name="P1-plasma"
    )
    return res.to_dict()


CASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "dose_plate": _dose_plate,
    "synergy_block1": _synergy_block1,
    "interpret_g1202r": _interpret,
}


def strip(doc: Any) -> Any:
    """The comparable part of a document (volatile envelope fields removed, paths' names only)."""
    if isinstance(doc, dict):
        out = {}
        for k, v in doc.items():
            if k in VOLATILE:
                continue
            if k == "inputs" and isinstance(v, dict):
                out[k] = {Path(str(name)).name: digest for name, digest in v.items()}
                continue
            out[k] = strip(v)
        return out
    if isinstance(doc, list):
        return [strip(v) for v in doc]
    return doc


def compare(got: Any, want: Any, where: str = "$") -> list[str]:
    """Differences between two documents under the tolerance policy."""
    import math

    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: expected an object, got {type(got).__name__}"]
        diffs = [f"{where}.{k}: missing" for k in want if k not in got]
        diffs += [f"{where}.{k}: unexpected" for k in got if k not in want]
        for k in want:
            if k in got:
                diffs += compare(got[k], want[k], f"{where}.{k}")
        return diffs
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: expected a list of {len(want)}, got {got!r:.80}"]
        return [d for i, (g, w) in enumerate(zip(got, want, strict=True)) for d in compare(g, w, f"{where}[{i}]")]
    if isinstance(want, float) and not isinstance(want, bool):
        if not isinstance(got, int | float) or isinstance(got, bool):
            return [f"{where}: expected {want}, got {got!r}"]
        if not math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL):
            return [f"{where}: {got!r} != {want!r} (rtol {RTOL})"]
        return []
    if isinstance(want, int) and isinstance(got, float) and not isinstance(want, bool):
        return [] if math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL) else [f"{where}: {got} != {want}"]
    return [] if got == want else [f"{where}: {got!r:.80} != {want!r:.80}"]
