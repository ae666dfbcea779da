"""The blot design file: which sample, treatment and antibody each lane of each image holds.

One row per image x lane x target (CSV, TSV or XLSX; header names are case-insensitive)::

    image,blot,membrane,lane,sample,cell_line,treatment,dose,dose_unit,target,role,window
    b1_pALK.tif,B1,B1-p,1,H3122_DMSO,H3122,DMSO,0,nM,p-ALK,target,70-150
    b1_pALK.tif,B1,B1-p,1,H3122_DMSO,H3122,DMSO,0,nM,GAPDH,loading_control,205-275
    b1_ALK.tif,B1,B1-t,1,H3122_DMSO,H3122,DMSO,0,nM,ALK,target,70-150
    ...

Columns
-------
``lane``, ``sample``, ``target`` (required); ``image`` (required when several images are
analysed); ``blot`` (replicate blot, default ``1``); ``membrane`` (default: the image; two
images of one membrane, e.g. two fluorescence channels, share it); ``cell_line`` (alias
``subject``: the store's subject); ``treatment``, ``dose``, ``dose_unit``; ``role``
(``target``, ``loading_control``, ``total_protein``; default ``loading_control`` for the usual
housekeeping proteins, else ``target``); ``control`` (yes/no: the lanes fold changes refer to;
default: dose 0 or a treatment named DMSO/vehicle/control/untreated); ``window`` (band rows
``120-160`` or ``100-140 kDa``; default: detected); ``load`` (protein loaded, for the linear-range
table).

Empty rows are refused (line number in the message): a blank line in the middle of a design
file usually means a lane was forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from kinresist.errors import InputError

__all__ = [
    "CONTROL_TREATMENTS",
    "LOADING_CONTROLS",
    "ROLES",
    "BlotDesign",
    "check_one_control",
    "design_from_frame",
    "read_design",
]

ROLES = ("target", "loading_control", "total_protein")
_ROLE_ALIASES = {
    "target": "target",
    "protein": "target",
    "loading_control": "loading_control",
    "loading": "loading_control",
    "lc": "loading_control",
    "housekeeping": "loading_control",
    "total_protein": "total_protein",
    "total_protein_stain": "total_protein",
    "tps": "total_protein",
    "stain": "total_protein",
}
#: Target names taken as loading controls when the design has no ``role`` column.
LOADING_CONTROLS = frozenset(
    {
        "gapdh",
        "actin",
        "b-actin",
        "beta-actin",
        "β-actin",
        "tubulin",
        "a-tubulin",
        "alpha-tubulin",
        "α-tubulin",
        "vinculin",
        "hsp90",
        "lamin b1",
        "histone h3",
        "cofilin",
    }
)
_TOTAL_PROTEIN = frozenset({"total protein", "total_protein", "revert", "ponceau", "stain-free"})
#: Treatment names that mark a control lane when the design has no ``control`` column.
CONTROL_TREATMENTS = frozenset({"dmso", "vehicle", "control", "ctrl", "untreated", "none", "mock"})

_ALIASES = {
    "image": "image",
    "file": "image",
    "image_file": "image",
    "blot": "blot",
    "replicate": "blot",
    "membrane": "membrane",
    "lane": "lane",
    "sample": "sample",
    "cell_line": "cell_line",
    "cellline": "cell_line",
    "subject": "cell_line",
    "line": "cell_line",
    "treatment": "treatment",
    "drug": "treatment",
    "dose": "dose",
    "concentration": "dose",
    "dose_unit": "dose_unit",
    "unit": "dose_unit",
    "target": "target",
    "antibody": "target",
    "role": "role",
    "control": "control",
    "is_control": "control",
    "window": "window",
    "mw_window": "window",
    "load": "load",
    "load_ug": "load",
    "protein_ug": "load",
}
_TRUE = frozenset({"yes", "y", "true", "1", "x", "control", "ctrl"})
_FALSE = frozenset({"no", "n", "false", "0", ""})
COLUMNS = (
    "line",
    "image",
    "blot",
    "membrane",
    "lane",
    "sample",
    "cell_line",
    "treatment",
    "dose",
    "dose_unit",
    "target",
    "role",
    "control",
    "window",
    "load",
)


@dataclass(frozen=True, slots=True, eq=False)
class BlotDesign:
    """A validated design table (columns :data:`COLUMNS`; ``line`` = line in the file).

    ``notes`` records every default that was applied (role or control inferred), for the
    result body.
    """

    frame: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()

    def for_image(self, image: str) -> pd.DataFrame:
        return self.frame[self.frame["image"] == image]

    @property
    def images(self) -> list[str]:
        return list(dict.fromkeys(self.frame["image"]))


def _norm_header(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def read_design(path: str | PathLike[str]) -> BlotDesign:
    """Read and validate a design file (CSV, TSV or XLSX)."""
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = pd.read_excel(p, dtype=str, keep_default_na=False)
            first_line = 2
        else:
            sep = "\t" if suffix in (".tsv", ".txt") else ","
            raw = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False)
            first_line = 2
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError, OSError) as exc:
        msg = (
            f"cannot read the design table ({' '.join(str(exc).split())}); expected CSV, TSV "
            "or XLSX with a header row (lane, sample, target, ...)"
        )
        raise InputError(msg, path=p) from exc
    # Blank lines after the last row are an editor's trailing newline, not an empty row.
    filled = raw.apply(lambda r: any(str(v).strip() for v in r), axis=1)
    if filled.any():
        last = int(filled.to_numpy().nonzero()[0][-1])
        raw = raw.iloc[: last + 1]
    return design_from_frame(raw, source=str(p), first_line=first_line, path=p)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def design_from_frame(
    raw: pd.DataFrame,
    *,
    source: str = "design",
    first_line: int = 2,
    path: str | PathLike[str] | None = None,
    default_image: str | None = None,
) -> BlotDesign:
    """Validate a design table given as a DataFrame (see the module docstring)."""
    cols: dict[str, str] = {}
    for c in raw.columns:
        key = _ALIASES.get(_norm_header(c))
        if key is not None and key not in cols.values():
            cols[str(c)] = key
    missing = [c for c in ("lane", "sample", "target") if c not in cols.values()]
    if missing:
        msg = (
            f"the design table lacks column(s) {', '.join(missing)}; found "
            f"{', '.join(map(str, raw.columns))}; expected at least lane, sample, target "
            "(and image when several images are analysed)"
        )
        raise InputError(msg, path=path)
    if raw.empty:
        msg = "the design table has no rows; expected one row per image x lane x target"
        raise InputError(msg, path=path)
    frame = raw.rename(columns=cols)[list(dict.fromkeys(cols.values()))]
    notes: list[str] = []
    rows: list[dict[str, object]] = []
    has_role = "role" in frame.columns
    has_control = "control" in frame.columns
    inferred_roles: set[str] = set()
    for i, rec in enumerate(frame.to_dict("records")):
        line = first_line + i
        vals = {k: _text(v) for k, v in rec.items()}
        if not any(vals.values()):
            msg = (
                "empty design row (no lane, sample or target); delete the row or fill it in "
                "(a blank line in a design usually means a lane was forgotten)"
            )
            raise InputError(msg, line=line, path=path)
        for req in ("lane", "sample", "target"):
            if not vals.get(req):
                msg = f"row has no {req}; every row needs lane, sample and target"
                raise InputError(msg, line=line, column=req, path=path)
        try:
            lane_f = float(vals["lane"])
        except ValueError:
            lane_f = float("nan")
        if not (lane_f.is_integer() and lane_f >= 1):
            msg = f"lane {vals['lane']!r} is not a lane number (1, 2, ... from the left)"
            raise InputError(msg, line=line, column="lane", path=path)
        dose = float("nan")
        if vals.get("dose"):
            try:
                dose = float(vals["dose"])
            except ValueError:
                msg = f"dose {vals['dose']!r} is not a number"
                raise InputError(msg, line=line, column="dose", path=path) from None
            if dose < 0:
                msg = f"dose {dose:g} is negative"
                raise InputError(msg, line=line, column="dose", path=path)
        load = float("nan")
        if vals.get("load"):
            try:
                load = float(vals["load"])
            except ValueError:
                msg = f"load {vals['load']!r} is not a number (protein loaded, e.g. µg)"
                raise InputError(msg, line=line, column="load", path=path) from None
        target = vals["target"]
        if has_role and vals.get("role"):
            role = _ROLE_ALIASES.get(vals["role"].lower().replace(" ", "_"))
            if role is None:
                msg = f"role {vals['role']!r} unknown; expected one of {', '.join(ROLES)}"
                raise InputError(msg, line=line, column="role", path=path)
        else:
            low = target.lower()
            role = (
                "total_protein"
                if low in _TOTAL_PROTEIN
                else "loading_control"
                if low in LOADING_CONTROLS
                else "target"
            )
            if role != "target":
                inferred_roles.add(f"{target} -> {role}")
        treatment = vals.get("treatment", "")
        if has_control:
            c = vals.get("control", "").lower()
            if c in _TRUE:
                control = True
            elif c in _FALSE:
                control = False
            else:
                msg = f"control {vals['control']!r}; expected yes/no"
                raise InputError(msg, line=line, column="control", path=path)
        else:
            control = (dose == 0.0) or treatment.lower() in CONTROL_TREATMENTS
        image = vals.get("image") or default_image or ""
        rows.append(
            {
                "line": line,
                "image": image,
                "blot": vals.get("blot") or "1",
                "membrane": vals.get("membrane") or image,
                "lane": int(lane_f),
                "sample": vals["sample"],
                "cell_line": vals.get("cell_line") or None,
                "treatment": treatment,
                "dose": dose,
                "dose_unit": vals.get("dose_unit", ""),
                "target": target,
                "role": role,
                "control": control,
                "window": vals.get("window", ""),
                "load": load,
            }
        )
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    if inferred_roles:
        notes.append("roles inferred from target names: " + ", ".join(sorted(inferred_roles)))
    if not has_control:
        notes.append(
            "control lanes inferred: dose 0 or treatment in " + "/".join(sorted(CONTROL_TREATMENTS))
        )
    dup_key = ["image", "lane", "target"]
    dup = out[out.duplicated(dup_key, keep=False)]
    if len(dup):
        first = dup.iloc[0]
        lines = dup[
            (dup["image"] == first["image"])
            & (dup["lane"] == first["lane"])
            & (dup["target"] == first["target"])
        ]["line"].tolist()
        msg = (
            f"lane {first['lane']} of image {first['image'] or '(unnamed)'} has target "
            f"{first['target']!r} twice (lines {', '.join(map(str, lines))}); one row per "
            "image x lane x target"
        )
        raise InputError(msg, path=path)
    per_membrane = out.groupby(["blot", "membrane", "target"])["sample"]
    for (blot, membrane, target), samples in per_membrane:
        repeated = samples[samples.duplicated()]
        if len(repeated):
            msg = (
                f"sample {repeated.iloc[0]!r} appears in two lanes of membrane {membrane!r} "
                f"(blot {blot}) for {target!r}; give duplicate lanes distinct sample names "
                "(e.g. X_a, X_b) so ratios pair lanes unambiguously"
            )
            raise InputError(msg, path=path)
    check_one_control(out, path=path)
    return BlotDesign(frame=out, source=source, notes=tuple(notes))


def check_one_control(frame: pd.DataFrame, *, path: Any = None) -> None:
    """At most one loading control (any role but ``target``) per membrane of a blot, in a
    design or a band table (``blot``, ``membrane``, ``role``, ``target`` columns)."""
    controls = frame[frame["role"] != "target"].groupby(["blot", "membrane"])["target"].unique()
    for (blot, membrane), names in controls.items():
        if len(names) > 1:
            msg = (
                f"membrane {membrane!r} of blot {blot} has {len(names)} loading controls "
                f"({', '.join(map(str, names))}); keep one per membrane in the design "
                "(give the others role=target)"
            )
            raise InputError(msg, path=path, column="role" if path is not None else None)
