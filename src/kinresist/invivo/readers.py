"""Tumour-growth files -> :class:`~kinresist.invivo.data.GrowthData`.

One reader per layout; :func:`read_growth` picks one from the file's header.

* ``long``: one row per animal and day. Columns (case and punctuation ignored): subject
  (``subject``, ``mouse``, ``animal``, ``id``, ``SampleID``), arm (``arm``, ``treatment``,
  ``group``, ``drug``), day (``day``, ``time``), and either ``volume`` (``TV``,
  ``TumorVolume``) or caliper ``length`` + ``width`` (``L``, ``W``, turned into a volume by a
  named formula). Optional: ``line`` (PDX line / tumour model), ``dose``, ``schedule``,
  ``weight``.
* ``invivosyn``: wide, as invivoSyn's ``read_tv``: ``Treatment``, ``Mouse``, one column per day;
  the last day ≤ 0 column is the baseline.
* ``tumgrowth``: TumGrowth's tab-separated 2-row header (row 1: ``Grp``, ``Id``/``Mid``,
  ``Use``, ``Surv`` and the days; row 2: the variable measured under each day, e.g. ``V``, or
  ``L``/``W``). Decimal commas are read as TumGrowth does; an animal whose ``Use`` cell is empty
  is excluded (TumGrowth's loader keeps only animals with a non-empty ``Use``); ``Surv``
  non-empty = alive at the last record; repeated measurements of one variable on one day are
  replaced by their median (as TumGrowth). Ids that restart in every group become
  ``"<group> <id>"``; ids repeated within a group are numbered ``id.1``, ``id.2`` (TumGrowth).
* ``xeva``: Xeva/PDXE model tables (``model.id``, ``drug``, ``time``, ``volume``; optional
  ``body.weight``); an optional model table (``model.id``, ``patient.id``) gives the PDX line.
* ``imaging``: µCT/MRI (``volume`` or ``voxels`` × ``voxel_volume``) or bioluminescence
  (``flux``/``total_flux``/``radiance``: photons/s, analysed on the log scale).

Every error names the file, the line and the column, what was found and what was expected.
"""

from __future__ import annotations

import csv
import errno
import math
import re
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.invivo.data import FORMULAS, Formula, GrowthData, Quantity, caliper_volume

__all__ = [
    "READERS",
    "ReaderName",
    "read_growth",
    "read_imaging",
    "read_invivosyn",
    "read_long",
    "read_tumgrowth",
    "read_xeva",
]

ReaderName = Literal["auto", "long", "invivosyn", "tumgrowth", "xeva", "imaging"]
READERS = ("auto", "long", "invivosyn", "tumgrowth", "xeva", "imaging")

_MISSING = frozenset({"", "na", "nan", "n/a", "nd", "-", ".", "null", "none"})

_ALIASES: Mapping[str, tuple[str, ...]] = {
    "subject": (
        "subject",
        "mouse",
        "mouseid",
        "animal",
        "animalid",
        "id",
        "sampleid",
        "mid",
        "subjectid",
        "modelid",
        "tumour",
        "tumor",
        "tumourid",
        "tumorid",
    ),
    "arm": ("arm", "treatment", "group", "grp", "drug", "trt", "treatmentgroup", "cohort"),
    "day": ("day", "days", "time", "tp", "studyday", "dayspostimplant", "daysposttreatment"),
    "value": ("volume", "tv", "tumorvolume", "tumourvolume", "vol", "tumorvol", "tumourvol"),
    "length": ("length", "l", "long", "longaxis", "lengthmm"),
    "width": ("width", "w", "short", "shortaxis", "widthmm"),
    "line": (
        "line",
        "model",
        "pdx",
        "pdxline",
        "patient",
        "patientid",
        "tumorline",
        "tumourline",
        "cellline",
    ),
    "dose": ("dose", "dosing", "doselevel"),
    "schedule": ("schedule", "regimen", "route"),
    "weight": ("weight", "bodyweight", "bw"),
    "flux": (
        "flux",
        "totalflux",
        "totalfluxps",
        "bli",
        "bioluminescence",
        "radiance",
        "avgradiance",
        "photons",
    ),
    "voxels": ("voxels", "voxelcount", "nvoxels"),
}


def _key(name: object) -> str:
    """Column name -> comparison key: lower case, units in brackets dropped, letters+digits."""
    text = re.sub(r"[\(\[].*?[\)\]]", "", str(name)).lower()
    text = re.sub(r"[^a-z0-9³²]", "", text)
    for unit in ("mm3", "mm³", "cm3", "mm2", "mm²"):
        if text.endswith(unit) and text != unit:
            text = text[: -len(unit)]
    return re.sub(r"[^a-z0-9]", "", text)


def _unit_of(name: str) -> str | None:
    low = name.lower()
    if "mm3" in low or "mm³" in low or "mm^3" in low:
        return "mm3"
    if "cm3" in low or "cm³" in low:
        return "cm3"
    if "mm2" in low or "mm²" in low:
        return "mm2"
    if "ml" in re.findall(r"[a-z]+", low):
        return "mL"
    if "photon" in low or "p/s" in low:
        return "photons/s"
    return None


def _check_path(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "no such file (check the path)", str(path))


def _read_rows(path: Path) -> list[list[str]]:
    """Every row of a CSV/TSV/XLSX file as text cells (row i = file line i + 1)."""
    _check_path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        try:
            frame = pd.read_excel(path, header=None, dtype=str, keep_default_na=False)
        except (ValueError, OSError) as exc:
            msg = f"cannot read the spreadsheet: {exc}"
            raise InputError(msg, path=path) from exc
        return [["" if v is None else str(v) for v in row] for row in frame.to_numpy().tolist()]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = "the file is not UTF-8 text; expected a CSV/TSV table or an .xlsx workbook"
        raise InputError(msg, path=path) from exc
    first = text.split("\n", 1)[0]
    if suffix in (".tsv", ".tab") or (suffix == ".txt" and "\t" in first) or "\t" in first:
        delim = "\t"
    elif suffix == ".csv" or "," in first:
        delim = ","
    else:
        delim = ";" if ";" in first else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delim))
    return [[c.strip() for c in r] for r in rows]


def _to_float(cell: str, *, decimal_comma: bool = False) -> float | None:
    """Parse a numeric cell; None when not a number, NaN when a missing-value token."""
    text = cell.strip()
    if text.lower() in _MISSING:
        return float("nan")
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


#: Largest magnitude read as a number: any day, length, volume or signal above it is an
#: overflow or a unit error (and would overflow the statistics instead of answering).
MAX_ABS = 1e15


def _plausible(v: float, cell: str, what: str, *, path: Path, line: int, column: str) -> None:
    """Refuse ±inf and magnitudes above :data:`MAX_ABS` (NaN = not measured passes)."""
    if abs(v) > MAX_ABS:
        msg = (
            f"{what} {cell!r} is implausibly large (above {MAX_ABS:g}); an overflow or a "
            "unit error in the export: check the column's unit"
            if math.isfinite(v)
            else f"{what} {cell!r} is not a finite number; expected a measurement (or an "
            "empty cell when the animal was not measured)"
        )
        raise InputError(msg, path=path, line=line, column=column)


def _numbers(
    cells: Sequence[str], lines: Sequence[int], *, column: str, path: Path, what: str
) -> np.ndarray:
    out = np.empty(len(cells))
    for i, (cell, line) in enumerate(zip(cells, lines, strict=True)):
        v = _to_float(cell)
        if v is None:
            msg = (
                f"{what} {cell!r} is not a number; expected a number (or an empty cell when "
                "the animal was not measured)"
            )
            raise InputError(msg, path=path, line=line, column=column)
        _plausible(v, cell, what, path=path, line=line, column=column)
        out[i] = v
    return out


def _parse_day(header: str) -> float | None:
    text = header.strip()
    m = re.fullmatch(r"(?i)(?:day|d)?\s*([-+]?\d+(?:\.\d+)?)", text)
    return float(m.group(1)) if m else None


def _find(columns: Sequence[str], role: str, given: str | None) -> str | None:
    if given is not None:
        if given in columns:
            return given
        for c in columns:
            if c.lower() == given.lower():
                return c
        msg = f"no column {given!r} for the {role}; the file has {list(columns)}"
        raise InputError(msg, column=given)
    keys = {c: _key(c) for c in columns}
    for alias in _ALIASES[role]:
        for c, k in keys.items():
            if k == alias:
                return c
    return None


def _frame(rows: list[list[str]], path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    if not rows or not any(c for c in rows[0]):
        msg = "the file is empty; expected a header row and one row per measurement"
        raise InputError(msg, path=path, line=1)
    header = rows[0]
    body: list[list[str]] = []
    lines: list[int] = []
    for i, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        body.append((r + [""] * len(header))[: len(header)])
        lines.append(i)
    return header, body, lines


def _column(body: list[list[str]], header: list[str], name: str) -> list[str]:
    j = header.index(name)
    return [r[j] for r in body]


# -- long ---------------------------------------------------------------------------------
def read_long(
    path: str | PathLike[str],
    *,
    subject: str | None = None,
    arm: str | None = None,
    day: str | None = None,
    volume: str | None = None,
    length: str | None = None,
    width: str | None = None,
    line: str | None = None,
    formula: Formula = "ellipsoid_half",
    quantity: Quantity | None = None,
    unit: str | None = None,
) -> GrowthData:
    """A long table: one row per animal and measurement day.

    Column names are found by alias (see the module docstring) unless given. When the file
    has both a volume and caliper axes, the volume column is used; name ``length``/``width``
    explicitly to recompute the value from the calipers by ``formula`` instead.
    """
    p = Path(path)
    header, body, lines = _frame(_read_rows(p), p)
    try:
        c_subject = _find(header, "subject", subject)
        c_arm = _find(header, "arm", arm)
        c_day = _find(header, "day", day)
        c_value = _find(header, "value", volume)
        c_len = _find(header, "length", length)
        c_wid = _find(header, "width", width)
        c_line = _find(header, "line", line)
    except InputError as exc:
        raise InputError(exc.detail, path=p, line=1, column=exc.column) from exc
    flux_col = _find(header, "flux", None)
    if c_value is None and flux_col is not None:
        c_value = flux_col
        quantity = quantity or "flux"
    needed = {
        "subject (mouse/animal id)": c_subject,
        "arm (treatment/group)": c_arm,
        "day (day/time)": c_day,
    }
    lacking = [k for k, v in needed.items() if v is None]
    use_calipers = (length is not None or width is not None) or c_value is None
    if use_calipers and (c_len is None or c_wid is None):
        lacking.append("volume (volume/TV) or caliper length and width (L, W)")
    if lacking:
        msg = (
            f"cannot find the {', '.join(lacking)} column(s) among {header}; rename the "
            "columns (subject/mouse, arm/treatment, day, volume or L and W), or for a wide "
            "table use the invivoSyn layout (Treatment, Mouse, one column per day)"
        )
        raise InputError(msg, path=p, line=1)
    assert c_subject is not None
    assert c_arm is not None
    assert c_day is not None
    days = _numbers(_column(body, header, c_day), lines, column=c_day, path=p, what="day")
    bad_day = np.flatnonzero(np.isnan(days))
    if bad_day.size:
        msg = "the day is empty; expected the measurement day of every row"
        raise InputError(msg, path=p, line=lines[bad_day[0]], column=c_day)
    used_formula: Formula | None = None
    if use_calipers:
        assert c_len is not None
        assert c_wid is not None
        ln = _numbers(_column(body, header, c_len), lines, column=c_len, path=p, what="length")
        wd = _numbers(_column(body, header, c_wid), lines, column=c_wid, path=p, what="width")
        for arr, col in ((ln, c_len), (wd, c_wid)):
            neg = np.flatnonzero(arr < 0)
            if neg.size:
                msg = f"negative caliper reading {arr[neg[0]]:g}; expected a length ≥ 0"
                raise InputError(msg, path=p, line=lines[neg[0]], column=col)
        if formula not in FORMULAS:
            msg = f"unknown caliper formula {formula!r}; expected one of {sorted(FORMULAS)}"
            raise InputError(msg, path=p)
        values = caliper_volume(ln, wd, formula)
        used_formula = formula
        value_col = f"{c_len},{c_wid}"
        q: Quantity = quantity or ("area" if formula == "area" else "volume")
        u: str | None = unit or ("mm2" if formula == "area" else "mm3")
    else:
        assert c_value is not None
        values = _numbers(
            _column(body, header, c_value), lines, column=c_value, path=p, what="value"
        )
        value_col = c_value
        q = quantity or "volume"
        u = unit or _unit_of(c_value) or ("photons/s" if q == "flux" else None)
    for arr, col in ((values, value_col),):
        neg = np.flatnonzero(np.isfinite(arr) & (arr < 0))
        if neg.size:
            msg = (
                f"negative {q} {arr[neg[0]]:g}; expected values ≥ 0 (leave the cell empty when "
                "the animal was not measured)"
            )
            raise InputError(msg, path=p, line=lines[neg[0]], column=col)
    subjects = _column(body, header, c_subject)
    arms = _column(body, header, c_arm)
    for k, (s, a) in enumerate(zip(subjects, arms, strict=True)):
        if not s:
            msg = "the animal id is empty; expected an id on every row"
            raise InputError(msg, path=p, line=lines[k], column=c_subject)
        if not a:
            msg = "the arm is empty; expected the treatment arm on every row"
            raise InputError(msg, path=p, line=lines[k], column=c_arm)
    table = pd.DataFrame(
        {
            "subject": subjects,
            "arm": arms,
            "day": days,
            "value": values,
            "line": _column(body, header, c_line) if c_line else [""] * len(body),
            "source_line": lines,
            "source_column": value_col,
        }
    )
    for role in ("dose", "schedule", "weight"):
        extra = _find(header, role, None)
        if extra is not None and extra not in (c_subject, c_arm, c_day, c_value, c_line):
            table[role] = _column(body, header, extra)
    return GrowthData(
        table=table,
        quantity=q,
        unit=u,
        formula=used_formula,
        source=str(p),
        reader="long",
    )


# -- invivoSyn wide -------------------------------------------------------------------------
def read_invivosyn(path: str | PathLike[str], *, unit: str | None = "mm3") -> GrowthData:
    """invivoSyn wide format: ``Treatment``, ``Mouse``, then one column per day.

    The last day ≤ 0 column is the baseline. Mouse ids repeated across arms are made unique as
    ``"<arm> <mouse>"``; repeated within an arm they are an error.
    """
    p = Path(path)
    header, body, lines = _frame(_read_rows(p), p)
    keys = [_key(h) for h in header]
    try:
        j_arm = next(i for i, k in enumerate(keys) if k in _ALIASES["arm"])
        j_mouse = next(i for i, k in enumerate(keys) if k in _ALIASES["subject"])
    except StopIteration:
        msg = (
            f"expected invivoSyn columns Treatment and Mouse before the day columns; found "
            f"{header[:3]}"
        )
        raise InputError(msg, path=p, line=1) from None
    day_cols: list[tuple[int, float]] = []
    for j, h in enumerate(header):
        if j in (j_arm, j_mouse):
            continue
        if not h.strip() and all(not r[j].strip() for r in body):
            continue
        d = _parse_day(h)
        if d is None:
            msg = (
                f"day column header {h!r} is not a number; expected the study day of each "
                "measurement column (e.g. -1, 0, 7, 14); rename the column"
            )
            raise InputError(msg, path=p, line=1, column=h or j + 1)
        day_cols.append((j, d))
    if not day_cols:
        msg = "no day columns after Treatment and Mouse; expected one column per day"
        raise InputError(msg, path=p, line=1)
    seen_days = [d for _, d in day_cols]
    if len(set(seen_days)) != len(seen_days):
        dup = next(d for d in seen_days if seen_days.count(d) > 1)
        msg = f"day {dup:g} appears in two columns; expected one column per day"
        raise InputError(msg, path=p, line=1, column=header[day_cols[seen_days.index(dup)][0]])
    pre = [d for d in seen_days if d <= 0]
    baseline = max(pre) if pre else None
    mice = [r[j_mouse] for r in body]
    arms = [r[j_arm] for r in body]
    for k, (m, a) in enumerate(zip(mice, arms, strict=True)):
        if not m or not a:
            col = header[j_mouse] if not m else header[j_arm]
            msg = "empty Treatment or Mouse cell; expected both on every row"
            raise InputError(msg, path=p, line=lines[k], column=col)
    pairs = list(zip(arms, mice, strict=True))
    if len(set(pairs)) != len(pairs):
        k = next(i for i, pr in enumerate(pairs) if pairs.index(pr) != i)
        msg = f"mouse {mice[k]!r} appears twice in arm {arms[k]!r}; expected one row per mouse"
        raise InputError(msg, path=p, line=lines[k], column=header[j_mouse])
    unique_ids = len(set(mice)) == len(mice)
    rows = []
    for k, r in enumerate(body):
        sid = mice[k] if unique_ids else f"{arms[k]} {mice[k]}"
        for j, d in day_cols:
            v = _to_float(r[j])
            if v is None:
                msg = f"volume {r[j]!r} is not a number; expected a number or an empty cell"
                raise InputError(msg, path=p, line=lines[k], column=header[j])
            _plausible(v, r[j], "volume", path=p, line=lines[k], column=header[j])
            if np.isfinite(v) and v < 0:
                msg = (
                    f"negative volume {v:g}; expected values ≥ 0 (leave the cell empty when the "
                    "mouse was not measured)"
                )
                raise InputError(msg, path=p, line=lines[k], column=header[j])
            rows.append((sid, arms[k], d, v, lines[k], header[j]))
    table = pd.DataFrame(
        rows, columns=["subject", "arm", "day", "value", "source_line", "source_column"]
    )
    return GrowthData(
        table=table,
        quantity="volume",
        unit=unit,
        baseline_day=baseline,
        source=str(p),
        reader="invivosyn",
    )


# -- TumGrowth ---------------------------------------------------------------------------------
_TG_LEN = ("l", "length")
_TG_WID = ("w", "width")


def read_tumgrowth(
    path: str | PathLike[str],
    *,
    variable: str | None = None,
    formula: Formula | None = None,
    quantity: Quantity | None = None,
    unit: str | None = None,
) -> GrowthData:
    """A TumGrowth tab-separated file with its 2-row header.

    ``variable`` picks the measured variable (row-2 name, e.g. ``V``); by default the only
    one, else ``V``. ``formula`` recomputes the value from ``L`` and ``W`` columns instead.
    """
    p = Path(path)
    rows = _read_rows(p)
    if len(rows) < 3:
        msg = "expected TumGrowth's 2-row header (days, then variables) and one row per animal"
        raise InputError(msg, path=p)
    head1 = rows[0]
    head2 = rows[1] + [""] * (len(head1) - len(rows[1]))
    low = [h.strip().lower() for h in head1]
    j_grp = next((j for j, h in enumerate(low) if h and set(h) <= set("group")), None)
    if j_grp is None:
        msg = f"no Grp column on header line 1 ({head1[:6]}...); TumGrowth needs a Grp column"
        raise InputError(msg, path=p, line=1)
    j_id = next((j for j, h in enumerate(low) if h and set(h) <= set("mid")), None)
    j_use = next((j for j, h in enumerate(low) if len(h) == 3 and set(h) <= set("use")), None)
    j_surv = next((j for j, h in enumerate(low) if h and set(h) <= set("surv")), None)
    tps: list[tuple[int, float, str]] = []
    for j, h in enumerate(head1):
        if re.fullmatch(r"\d+", h.strip()) and head2[j].strip():
            tps.append((j, float(h), head2[j].strip()))
    if not tps:
        msg = (
            "no day columns: TumGrowth files give integer days on line 1 and the variable "
            "name (e.g. V) under each day on line 2"
        )
        raise InputError(msg, path=p, line=1)
    names = list(dict.fromkeys(v for _, _, v in tps))
    lower = {v.lower(): v for v in names}
    use_calipers = formula is not None
    if use_calipers:
        lv = next((lower[k] for k in _TG_LEN if k in lower), None)
        wv = next((lower[k] for k in _TG_WID if k in lower), None)
        if lv is None or wv is None:
            msg = f"formula {formula!r} needs L and W variables on line 2; found {names}"
            raise InputError(msg, path=p, line=2)
    else:
        if variable is None:
            variable = names[0] if len(names) == 1 else lower.get("v")
        if variable is None or variable not in names:
            msg = (
                f"choose the variable to analyse among {names} (option variable); or give a "
                "caliper formula to compute it from L and W"
            )
            raise InputError(msg, path=p, line=2)
    records: list[tuple[str, str, float, float, int, str]] = []
    excluded: list[str] = []
    survived: set[str] = set()
    animals: list[tuple[int, list[str], str, str]] = []
    auto_count: dict[str, int] = {}
    for i, r in enumerate(rows[2:], start=3):
        r = r + [""] * (len(head1) - len(r))
        grp = r[j_grp].replace(" ", "")
        if j_id is not None:
            sid = r[j_id].replace(" ", "")
        else:
            auto_count[grp] = auto_count.get(grp, 0) + 1
            sid = f"{grp}.M{auto_count[grp]}"
        if grp and sid:  # summary or blank rows are skipped (as TumGrowth does)
            animals.append((i, r, grp, sid))
    groups_of: dict[str, set[str]] = {}
    for _, _, grp, sid in animals:
        groups_of.setdefault(sid, set()).add(grp)
    if any(len(g) > 1 for g in groups_of.values()):  # ids restart in every group: "C 1", "A 1"
        animals = [(i, r, grp, f"{grp} {sid}") for i, r, grp, sid in animals]
    counts: dict[str, int] = {}
    for _, _, _, sid in animals:
        counts[sid] = counts.get(sid, 0) + 1
    nth: dict[str, int] = {}
    for i, r, grp, raw in animals:
        sid = raw
        if counts[raw] > 1:  # TumGrowth numbers every copy of a repeated id: id.1, id.2, ...
            nth[raw] = nth.get(raw, 0) + 1
            sid = f"{raw}.{nth[raw]}"
        if j_use is not None and not r[j_use].strip():
            excluded.append(sid)
            continue
        if j_surv is not None and r[j_surv].strip():
            survived.add(sid)
        per_day: dict[float, dict[str, list[float]]] = {}
        for j, d, var in tps:
            v = _to_float(r[j], decimal_comma=True)
            if v is None:
                msg = f"value {r[j]!r} is not a number; expected a number or an empty cell"
                raise InputError(msg, path=p, line=i, column=f"{head1[j]}/{var}")
            _plausible(v, r[j], "value", path=p, line=i, column=f"{head1[j]}/{var}")
            if np.isfinite(v) and v < 0:
                msg = f"negative value {v:g}; expected values ≥ 0"
                raise InputError(msg, path=p, line=i, column=f"{head1[j]}/{var}")
            if np.isfinite(v):
                per_day.setdefault(d, {}).setdefault(var, []).append(v)
        for d, vals in sorted(per_day.items()):
            med = {k: float(np.median(v)) for k, v in vals.items()}
            if use_calipers:
                assert formula is not None
                if lv in med and wv in med:
                    val = float(
                        caliper_volume(np.array([med[lv]]), np.array([med[wv]]), formula)[0]
                    )
                    records.append((sid, grp, d, val, i, f"{d:g}/{lv},{wv}"))
            elif variable in med:
                records.append((sid, grp, d, med[variable], i, f"{d:g}/{variable}"))
    table = pd.DataFrame(
        records, columns=["subject", "arm", "day", "value", "source_line", "source_column"]
    )
    if table.empty:
        msg = "no measured animals in the file (check the Use column and the values)"
        raise InputError(msg, path=p)
    if use_calipers:
        q: Quantity = quantity or ("area" if formula == "area" else "volume")
    else:
        q = quantity or "volume"
    return GrowthData(
        table=table,
        quantity=q,
        unit=unit,
        formula=formula,
        source=str(p),
        censored_at_last=frozenset(survived),
        excluded=tuple(excluded),
        reader="tumgrowth",
    )


# -- Xeva / PDXE -------------------------------------------------------------------------------
def read_xeva(
    path: str | PathLike[str], *, models: str | PathLike[str] | None = None
) -> GrowthData:
    """Xeva/PDXE model table (``model.id``, ``drug``, ``time``, ``volume``).

    Each ``model.id`` is one animal (one PDX line × one treatment); ``drug`` is its arm.
    ``models`` (``model.id``, ``patient.id``) attaches the PDX line, so that each line's
    treatments can be compared with its own untreated model.
    """
    p = Path(path)
    header, body, lines = _frame(_read_rows(p), p)
    need: dict[str, str | None] = {"model.id": None, "drug": None, "time": None, "volume": None}
    for h in header:
        if h.strip().lower() in need:
            need[h.strip().lower()] = h
    lacking = [k for k, v in need.items() if v is None]
    if lacking:
        msg = f"Xeva model table lacks columns {lacking}; expected model.id, drug, time, volume"
        raise InputError(msg, path=p, line=1)
    line_of: dict[str, str] = {}
    if models is not None:
        mp = Path(models)
        mh, mb, _ml = _frame(_read_rows(mp), mp)
        low = [h.strip().lower() for h in mh]
        if "model.id" not in low or "patient.id" not in low:
            msg = f"model table needs model.id and patient.id columns; found {mh}"
            raise InputError(msg, path=mp, line=1)
        jm, jp = low.index("model.id"), low.index("patient.id")
        line_of = {r[jm]: r[jp] for r in mb}
    mids = _column(body, header, str(need["model.id"]))
    time = _numbers(
        _column(body, header, str(need["time"])), lines, column="time", path=p, what="time"
    )
    vol = _numbers(
        _column(body, header, str(need["volume"])), lines, column="volume", path=p, what="volume"
    )
    neg = np.flatnonzero(np.isfinite(vol) & (vol < 0))
    if neg.size:
        msg = f"negative volume {vol[neg[0]]:g}; expected values ≥ 0"
        raise InputError(msg, path=p, line=lines[neg[0]], column="volume")
    if models is not None:
        missing = sorted({m for m in mids if m not in line_of})
        if missing:
            k = mids.index(missing[0])
            msg = f"model {missing[0]!r} is not in the model table {models}; add its patient.id"
            raise InputError(msg, path=p, line=lines[k], column="model.id")
    table = pd.DataFrame(
        {
            "subject": mids,
            "arm": _column(body, header, str(need["drug"])),
            "day": time,
            "value": vol,
            "line": [line_of.get(m, "") for m in mids],
            "source_line": lines,
            "source_column": "volume",
        }
    )
    wcol = next((h for h in header if h.strip().lower() == "body.weight"), None)
    if wcol is not None:
        table["weight"] = _column(body, header, wcol)
    return GrowthData(table=table, quantity="volume", unit="mm3", source=str(p), reader="xeva")


# -- imaging -----------------------------------------------------------------------------------
def read_imaging(
    path: str | PathLike[str],
    *,
    voxel_volume: float | None = None,
    unit: str | None = None,
) -> GrowthData:
    """Imaging read-outs in long form: µCT/MRI volumes or voxel counts, or bioluminescence flux.

    A ``voxels`` column is multiplied by ``voxel_volume`` (required then); a ``flux`` column
    (photons/s) gives ``quantity="flux"``, which the engine analyses on the log scale.
    """
    p = Path(path)
    header, _, _ = _frame(_read_rows(p), p)
    vox = _find(header, "voxels", None)
    flux = _find(header, "flux", None)
    if vox is not None:
        if voxel_volume is None or not voxel_volume > 0:
            msg = "voxel counts need the voxel volume (option voxel_volume, e.g. 0.001 mm3)"
            raise InputError(msg, path=p, column=vox)
        gd = read_long(p, volume=vox, quantity="volume", unit=unit or "mm3")
        t = gd.table.copy()
        t["value"] = t["value"] * voxel_volume
        return GrowthData(
            table=t, quantity="volume", unit=unit or "mm3", source=str(p), reader="imaging"
        )
    if flux is not None:
        gd = read_long(p, volume=flux, quantity="flux", unit=unit or "photons/s")
        return GrowthData(
            table=gd.table, quantity="flux", unit=gd.unit, source=str(p), reader="imaging"
        )
    gd = read_long(p, unit=unit)
    return GrowthData(
        table=gd.table,
        quantity=gd.quantity,
        unit=gd.unit,
        formula=gd.formula,
        source=str(p),
        reader="imaging",
    )


# -- auto ---------------------------------------------------------------------------------------
def _sniff(rows: list[list[str]]) -> str:
    head = rows[0] if rows else []
    low = [h.strip().lower() for h in head]
    if {"model.id", "drug", "time", "volume"} <= set(low):
        return "xeva"
    if len(rows) > 1:
        second = rows[1]
        day_cols = [j for j, h in enumerate(head) if re.fullmatch(r"\d+", h.strip())]
        if day_cols and any(
            j < len(second)
            and second[j].strip()
            and _to_float(second[j], decimal_comma=True) is None
            for j in day_cols
        ):
            return "tumgrowth"
    keys = [_key(h) for h in head]
    if any(k in _ALIASES["flux"] or k in _ALIASES["voxels"] for k in keys):
        return "imaging"
    has_day_col = any(k in _ALIASES["day"] for k in keys)
    has_value_col = any(k in _ALIASES["value"] or k in _ALIASES["length"] for k in keys)
    numeric_headers = [h for h in head if _parse_day(h) is not None]
    if not has_day_col and (len(numeric_headers) >= 2 or (numeric_headers and not has_value_col)):
        return "invivosyn"
    return "long"


def read_growth(
    path: str | PathLike[str],
    *,
    reader: ReaderName = "auto",
    formula: Formula | None = None,
    variable: str | None = None,
    models: str | PathLike[str] | None = None,
    voxel_volume: float | None = None,
) -> GrowthData:
    """Read any supported tumour-growth file (``reader="auto"`` looks at the header)."""
    p = Path(path)
    name = reader
    if name == "auto":
        name = _sniff(_read_rows(p))  # type: ignore[assignment]
    if name == "long":
        return read_long(p, formula=formula or "ellipsoid_half")
    if name == "invivosyn":
        return read_invivosyn(p)
    if name == "tumgrowth":
        return read_tumgrowth(p, variable=variable, formula=formula)
    if name == "xeva":
        return read_xeva(p, models=models)
    if name == "imaging":
        return read_imaging(p, voxel_volume=voxel_volume)
    msg = f"unknown reader {reader!r}; expected one of {list(READERS)}"
    raise InputError(msg, path=p)
