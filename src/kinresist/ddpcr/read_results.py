"""Reader for QuantaSoft / QX Manager results CSVs (one row per well x channel).

Layouts: old QuantaSoft (44 columns, ``TypeAssay``/``Assay``), QuantaSoft 1.7.4 (63 columns,
``TargetType``/``Target``, ``Supermix``, 68 % columns, trailing comma on data rows) and the newer
73-column export (``Conc(copies/µL)``, ``DyeName(s)``, ``TiltCorrected``). Column names are mapped
to one canonical set (:data:`CANONICAL`); R's mangled names and ``PP/PN/NP/NN`` aliases are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.ddpcr._text import read_csv_text, rows, to_float
from kinresist.ddpcr.plate import normalise_well
from kinresist.errors import InputError

__all__ = ["CANONICAL", "ResultsTable", "read_results_csv", "validate_results"]

_TEXT = {
    "well",
    "sample",
    "target",
    "target_type",
    "status",
    "experiment",
    "supermix",
    "dye",
    "merged_wells",
    "expt_type",
}

#: canonical name -> accepted header keys (lower case, spaces/underscores/dots removed)
_ALIASES: dict[str, tuple[str, ...]] = {
    "well": ("well",),
    "expt_type": ("expttype",),
    "experiment": ("experiment",),
    "sample": ("sample", "sampledescription1"),
    "target_type": ("targettype", "typeassay"),
    "target": ("target", "assay"),
    "status": ("status",),
    "conc": ("concentration", "conc(copies/µl)", "conc(copies/ul)", "conc(copies/μl)"),
    "supermix": ("supermix",),
    "dye": ("dyename(s)", "dyename"),
    "copies_per_20ul": ("copiesper20ulwell", "copies/20µlwell", "copies/20ulwell"),
    "total_max": ("totalconfmax",),
    "total_min": ("totalconfmin",),
    "poisson_max": ("poissonconfmax",),
    "poisson_min": ("poissonconfmin",),
    "positives": ("positives",),
    "negatives": ("negatives",),
    "pp": ("ch1+ch2+", "ch1ch2", "ch1pch2p", "pp"),
    "pn": ("ch1+ch2-", "ch1ch21", "ch1pch2n", "pn"),
    "np": ("ch1-ch2+", "ch1ch22", "ch1nch2p", "np"),
    "nn": ("ch1-ch2-", "ch1ch23", "ch1nch2n", "nn"),
    "linkage": ("linkage", "copies/ullinkedmolecules"),
    "accepted": ("accepteddroplets",),
    "cnv": ("cnv",),
    "poisson_cnv_max": ("poissoncnvmax",),
    "poisson_cnv_min": ("poissoncnvmin",),
    "reference_copies": ("referencecopies",),
    "ratio": ("ratio",),
    "poisson_ratio_max": ("poissonratiomax",),
    "poisson_ratio_min": ("poissonratiomin",),
    "fa": ("fractionalabundance",),
    "poisson_fa_max": ("poissonfractionalabundancemax",),
    "poisson_fa_min": ("poissonfractionalabundancemin",),
    "threshold": ("threshold", "threshold1"),
    "merged_wells": ("mergedwells",),
    "total_max68": ("totalconfmax68", "totalconfidencemax68"),
    "total_min68": ("totalconfmin68", "totalconfidencemin68"),
    "poisson_max68": ("poissonconfmax68", "poissonconfidencemax68"),
    "poisson_min68": ("poissonconfmin68", "poissonconfidencemin68"),
    "poisson_ratio_max68": ("poissonratiomax68",),
    "poisson_ratio_min68": ("poissonratiomin68",),
    "poisson_fa_max68": ("poissonfractionalabundancemax68",),
    "poisson_fa_min68": ("poissonfractionalabundancemin68",),
    "poisson_cnv_max68": ("poissoncnvmax68",),
    "poisson_cnv_min68": ("poissoncnvmin68",),
}
CANONICAL = tuple(_ALIASES)
_LOOKUP = {alias: canon for canon, aliases in _ALIASES.items() for alias in aliases}
_REQUIRED = ("well", "positives", "accepted")


def require_counts(table: ResultsTable) -> None:
    """Raise InputError naming the first row without droplet counts (recompute needs them)."""
    f = table.frame
    for c in ("positives", "accepted"):
        bad = f[c].isna()
        if bad.any():
            ln = int(f.loc[bad, "line"].iloc[0])
            msg = (
                f"empty {c} count; recomputing needs the droplet counts of every row (this export "
                "holds sample metadata only)"
            )
            raise InputError(
                msg,
                path=table.source,
                line=ln,
            )


def _key(name: str) -> str:
    n = name.strip().strip('"').lower()
    if re.fullmatch(r"ch1[+\-]ch2[+\-]", n):
        return n
    if re.fullmatch(r"ch1\.ch2\.(\.\d)?", n):  # R's read.csv mangling
        return re.sub(r"[.]", "", n)
    return re.sub(r"[\s_.\"]", "", n)


@dataclass(frozen=True)
class ResultsTable:
    """Canonical results rows.

    Attributes
    ----------
    frame
        One row per results-file row with the canonical columns that the file has (numbers as
        float, 'No Call' as NaN), plus ``channel`` (1/2), ``merged`` (bool) and ``line`` (file line).
    layout
        ``qs_legacy`` (44-column), ``qs17`` (63-column) or ``qx73`` (73-column export).
    """

    frame: pd.DataFrame
    layout: str
    source: str
    printed: pd.DataFrame

    def printed_unit(self, column: str) -> np.ndarray:
        """Rounding unit of each printed value of ``column`` (NaN where empty).

        ``'8.0'`` -> 0.1, ``'53.'`` -> 1, ``'190.0'`` -> 1 (values with fewer than 6 significant
        digits are taken as rounded to at most 3 significant figures), ``'3250'`` -> 10 (trailing
        integer zeros are taken as rounding), ``'898.375854492188'`` -> 1e-12.
        """
        units = []
        for text in self.printed[column].fillna("").astype(str):
            t = text.strip().replace(",", ".")
            if not t or not re.fullmatch(r"-?\d*\.?\d*(e[-+]?\d+)?", t.lower()):
                units.append(np.nan)
            elif "." in t:
                whole, frac = t.lstrip("-").split(".", 1)
                sig = len((whole + frac).lstrip("0"))
                unit = 10.0 ** -len(frac)
                value = abs(float(t)) if t.strip("-.") else 0.0
                if sig < 6 and value > 0:  # 2-3 significant figures printed (QuantaSoft 1.7.4)
                    unit = max(unit, 10.0 ** (np.floor(np.log10(value)) - 2))
                units.append(unit)
            else:
                digits = t.lstrip("-")
                zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
                units.append(10.0**zeros)
        return np.asarray(units, dtype=np.float64)


def _channel(target_type: str, dye: str, order: int) -> int:
    tt = target_type.strip().lower()
    m = re.match(r"ch(\d)", tt)
    if m:
        return int(m.group(1))
    d = dye.strip().lower()
    if d in {"fam"}:
        return 1
    if d in {"hex", "vic"}:
        return 2
    return order


def read_results_csv(path: str | Path, *, name: str | None = None) -> ResultsTable:
    """Read a QuantaSoft / QX Manager results CSV into canonical columns.

    Raises
    ------
    InputError
        Missing required columns (Well, Positives, AcceptedDroplets), non-numeric counts or a
        well name that is not a well.
    """
    label = name or str(path)
    csv = read_csv_text(path, name=label)
    table = [r for r in rows(csv) if any(c.strip() for c in r)]
    if not table:
        msg = "the results file has no rows"
        raise InputError(msg, path=label)
    header = table[0]
    while header and not header[-1].strip():
        header = header[:-1]
    canon: dict[int, str] = {}
    for i, h in enumerate(header):
        c = _LOOKUP.get(_key(h))
        if c is not None and c not in canon.values():
            canon[i] = c
    missing = [c for c in _REQUIRED if c not in canon.values()]
    if missing:
        msg = (
            f"not a QuantaSoft results file: column(s) {', '.join(missing)} missing (header starts "
            f"{','.join(header[:4])!r}); expected the CSV exported from QuantaSoft 'Export CSV' or QX "
            "Manager 'Export Data'"
        )
        raise InputError(
            msg,
            path=label,
            line=1,
        )
    ncol = len(header)
    layout = (
        "qx73"
        if any(_key(h) == "tiltcorrected" for h in header)
        else ("qs17" if "supermix" in canon.values() else "qs_legacy")
    )
    records = []
    printed: list[dict[str, str]] = []
    order: dict[str, int] = {}
    for lineno, r in enumerate(table[1:], start=2):
        if len(r) > ncol and any(c.strip() for c in r[ncol:]):
            msg = f"{len(r)} fields but the header has {ncol}; the file may be a mix of exports"
            raise InputError(
                msg,
                path=label,
                line=lineno,
            )
        rec: dict[str, object] = {"line": lineno}
        raw: dict[str, str] = {}
        for i, c in canon.items():
            value = r[i] if i < len(r) else ""
            raw[c] = value.strip().strip('"')
            if c in _TEXT:
                rec[c] = value.strip().strip('"')
            else:
                try:
                    rec[c] = to_float(value, csv.decimal)
                except ValueError:
                    msg = f"{value!r} is not a number; expected a numeric {header[i]!r}"
                    raise InputError(
                        msg,
                        path=label,
                        line=lineno,
                        column=header[i],
                    ) from None
        well_text = str(rec["well"])
        merged = bool(re.fullmatch(r"M\d+", well_text.strip('"'))) and bool(rec.get("merged_wells"))
        if not merged:
            try:
                rec["well"] = normalise_well(well_text)
            except InputError as exc:
                raise InputError(exc.detail, path=label, line=lineno, column="Well") from None
        rec["merged"] = merged
        k = str(rec["well"])
        order[k] = order.get(k, 0) + 1
        rec["channel"] = _channel(
            str(rec.get("target_type", "")), str(rec.get("dye", "")), order[k]
        )
        records.append(rec)
        printed.append(raw)
    if not records:
        msg = (
            "the results file has a header but no rows; expected one row per well x channel "
            "(export the results again from QuantaSoft / QX Manager)"
        )
        raise InputError(msg, path=label, line=2)
    frame = pd.DataFrame.from_records(records)
    for c in ("sample", "target", "target_type", "merged_wells"):
        # optional text columns: absent means empty, never a missing key downstream
        frame[c] = frame[c].fillna("") if c in frame else ""
    names = {c: header[i] for i, c in canon.items()}
    validate_results(frame, label=label, names=names)
    return ResultsTable(
        frame=frame, layout=layout, source=label, printed=pd.DataFrame.from_records(printed)
    )


_COUNTS = ("positives", "negatives", "accepted", "pp", "pn", "np", "nn")
_REEXPORT = "re-export the results from QuantaSoft / QX Manager, or correct the row"


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def validate_results(frame: pd.DataFrame, *, label: str, names: dict[str, str]) -> None:
    """Physical constraints of a results table; InputError naming file, line and column.

    * every numeric cell is finite ('inf' is refused; empty / 'No Call' stay missing);
    * droplet counts (Positives, Negatives, AcceptedDroplets, Ch1+Ch2+ ...) are whole numbers
      >= 0, positives <= accepted droplets, positives + negatives = accepted droplets, the four
      cluster counts sum to the accepted droplets, and a channel's positives equal its clusters
      (Ch1: Ch1+Ch2+ plus Ch1+Ch2-, Ch2: Ch1+Ch2+ plus Ch1-Ch2+) - every real export in
      ../shared/ddpcr-data (29 files, ~9,400 rows) satisfies all of them;
    * a well x channel x target appears once (merged rows: once per merged group).
    """
    if frame.empty:
        return
    line = frame["line"].to_numpy()

    def fail(i: int, column: str, message: str) -> None:
        raise InputError(message, path=label, line=int(line[i]), column=names.get(column, column))

    for c in [c for c in frame.columns if c in names and c not in _TEXT]:
        v = frame[c].to_numpy(float)
        i = _first(np.isinf(v))
        if i is not None:
            fail(
                i, c, f"{v[i]} is not a finite number; expected a finite {names[c]!r}; {_REEXPORT}"
            )
    counts = [c for c in _COUNTS if c in frame.columns]
    for c in counts:
        v = frame[c].to_numpy(float)
        i = _first(v < 0)
        if i is not None:
            fail(i, c, f"{v[i]:g} droplets; a droplet count cannot be negative; {_REEXPORT}")
        i = _first(np.isfinite(v) & (v != np.round(v)))
        if i is not None:
            fail(i, c, f"{v[i]:g} droplets; a droplet count is a whole number; {_REEXPORT}")
    p, n = frame["positives"].to_numpy(float), frame["accepted"].to_numpy(float)
    i = _first(p > n)
    if i is not None:
        fail(
            i,
            "positives",
            f"{p[i]:g} positive droplets but only {n[i]:g} accepted droplets; positives cannot "
            f"exceed the accepted droplets (columns shifted or the row edited?); {_REEXPORT}",
        )
    if "negatives" in frame.columns:
        neg = frame["negatives"].to_numpy(float)
        i = _first(np.isfinite(neg) & np.isfinite(p) & np.isfinite(n) & (p + neg != n))
        if i is not None:
            fail(
                i,
                "negatives",
                f"{p[i]:g} positives + {neg[i]:g} negatives = {p[i] + neg[i]:g}, but "
                f"{n[i]:g} accepted droplets; every accepted droplet is positive or negative; "
                f"{_REEXPORT}",
            )
    if {"pp", "pn", "np", "nn"} <= set(frame.columns):
        cl = frame[["pp", "pn", "np", "nn"]].to_numpy(float)
        known = np.isfinite(cl).all(axis=1)
        i = _first(known & np.isfinite(n) & (cl.sum(axis=1) != n))
        if i is not None:
            fail(
                i,
                "accepted",
                f"the four cluster counts sum to {cl[i].sum():g} but {n[i]:g} droplets are "
                f"accepted; each accepted droplet is in exactly one cluster; {_REEXPORT}",
            )
        ch = frame["channel"].to_numpy()
        expect = np.where(ch == 1, cl[:, 0] + cl[:, 1], cl[:, 0] + cl[:, 2])
        i = _first(known & np.isin(ch, (1, 2)) & np.isfinite(p) & (expect != p))
        if i is not None:
            parts = "Ch1+Ch2+ + Ch1+Ch2-" if ch[i] == 1 else "Ch1+Ch2+ + Ch1-Ch2+"
            fail(
                i,
                "positives",
                f"channel {ch[i]} has {p[i]:g} positives but its clusters ({parts}) hold "
                f"{expect[i]:g}; {_REEXPORT}",
            )
    content = frame.drop(columns=["line", "channel"]).astype(str)
    i = _first(content.duplicated(keep="first").to_numpy())
    if i is not None:
        same = (content == content.iloc[i]).all(axis=1).to_numpy()
        fail(
            i,
            "well",
            f"this row repeats line {int(line[_first(same) or 0])} exactly; each well x channel "
            "appears once - remove the repeated row (two exports concatenated?)",
        )
    key = [c for c in ("well", "channel", "target", "merged_wells") if c in frame.columns]
    i = _first(frame.duplicated(key, keep="first").to_numpy())
    if i is not None:
        row = frame.iloc[i]
        same = (frame[key] == row[key]).all(axis=1).to_numpy()
        first_line = int(line[_first(same) or 0])
        what = f"well {row['well']} channel {row['channel']}" + (
            f" target {row['target']!r}" if "target" in key else ""
        )
        fail(
            i,
            "well",
            f"{what} again (first on line {first_line}); each well x channel x target appears "
            "once - remove the repeated row (two exports concatenated?)",
        )


def merged_members(text: str) -> list[str]:
    """``'(A01,B01)'`` -> ``['A01', 'B01']``."""
    return [normalise_well(w) for w in re.findall(r"[A-Pa-p]\d{1,2}", text)]


def detect_layout_volume(table: ResultsTable) -> dict[str, float | str | int | None]:
    """Back-solve the droplet volume V = ln(N/N_neg)/conc on wells with P >= 100 (spec §1.1)."""
    f = table.frame
    if "conc" not in f:
        return {"droplet_volume_ul": None, "n_wells": 0, "generation": table.layout}
    p = f["positives"].to_numpy(float)
    n = f["accepted"].to_numpy(float)
    c = f["conc"].to_numpy(float)
    ok = (p >= 100) & (n - p >= 100) & np.isfinite(c) & (c > 0) & ~f["merged"].to_numpy(bool)
    if not ok.any():
        return {"droplet_volume_ul": None, "n_wells": 0, "generation": table.layout}
    v = np.log(n[ok] / (n[ok] - p[ok])) / c[ok]
    vol = float(np.median(v))
    gen = "qs_legacy" if abs(vol - 0.00091) < abs(vol - 0.00085) else "qs17"
    return {"droplet_volume_ul": vol, "n_wells": int(ok.sum()), "generation": gen}
