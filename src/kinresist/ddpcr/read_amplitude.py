"""Readers for droplet amplitude exports (one CSV per well) and for plates (folder, zip, files).

Layouts handled (see docs/formats.md):

* QX100 / old QuantaSoft: ``Assay1 Amplitude,Assay2 Amplitude[,Cluster]`` (2nd column empty for
  simplex, rows may end with a trailing comma);
* QuantaSoft 1.6-1.7.4: ``Ch1 Amplitude,Ch2 Amplitude[,Cluster]`` (CRLF, or CR only);
* newer QuantaSoft / QX Manager: ``Target Value of ...`` preamble, then
  ``Ch1Amplitude,Ch2Amplitude,1,2,`` with one 0/1/u column per target.

The well is taken from the last ``_<Well>_Amplitude.csv`` match of the file name, so plate names
may contain spaces and underscores.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.ddpcr._text import CsvText, read_csv_text
from kinresist.ddpcr.plate import Plate, WellDroplets, normalise_well, plate_from_wells
from kinresist.errors import InputError

__all__ = ["is_amplitude_name", "load_plate", "read_amplitude_csv", "split_amplitude_name"]

_NAME_RE = re.compile(r"^(?P<plate>.*?)_?(?P<well>[A-Pa-p]\d{1,2})_Amplitude\.csv$", re.IGNORECASE)


def split_amplitude_name(filename: str) -> tuple[str, str]:
    """``'Big test 6.12.12_D10_Amplitude.csv'`` -> ``('Big test 6.12.12', 'D10')``."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    m = _NAME_RE.match(base)
    if not m:
        msg = (
            f"cannot find the well in file name {base!r}; expected <plate name>_<Well>_Amplitude.csv "
            "with a well A01-P24 as QuantaSoft/QX Manager export it (e.g. MyPlate_A01_Amplitude.csv); "
            "rename the file or remove it from the plate"
        )
        raise InputError(msg, path=filename)
    try:
        well = normalise_well(m.group("well"))
    except InputError as exc:
        raise InputError(exc.detail + " (in the file name)", path=filename) from None
    return m.group("plate").rstrip("_"), well


def is_amplitude_name(filename: str) -> bool:
    return bool(_NAME_RE.match(filename.replace("\\", "/").rsplit("/", 1)[-1]))


def _looks_like_amplitude(filename: str) -> bool:
    """Named like an amplitude export (``..._Amplitude.csv``), whether or not its well parses;
    macOS metadata (``__MACOSX/``, ``._name``) is not an export."""
    path = filename.replace("\\", "/")
    base = path.rsplit("/", 1)[-1]
    if base.startswith("._") or "__MACOSX/" in path:
        return False
    return base.lower().endswith("_amplitude.csv")


def _column_role(name: str) -> str:
    key = re.sub(r"[\s_\"]", "", name).lower()
    if key in {"ch1amplitude", "assay1amplitude", "ch1.amplitude", "fam", "ch1"}:
        return "ch1"
    if key in {"ch2amplitude", "assay2amplitude", "ch2.amplitude", "hex", "vic", "ch2"}:
        return "ch2"
    if key == "cluster":
        return "cluster"
    if re.fullmatch(r"\d+", key):
        return "target" + key
    if key == "":
        return "empty"
    return "unknown"


def _parse_body(body: str, roles: list[str], csv: CsvText, label: str, line0: int) -> pd.DataFrame:
    ncols = len(roles)
    common = {
        "header": None,
        "sep": csv.delimiter,
        "decimal": csv.decimal,
        "usecols": range(ncols),
        "names": range(ncols),
        "engine": "c",
        "skip_blank_lines": True,
        "keep_default_na": False,
        "na_values": [""],
    }
    numeric = {i: np.float64 for i, r in enumerate(roles) if r in ("ch1", "ch2", "cluster")}
    try:  # fast path: numbers parsed by the C reader
        dtypes: dict[int, object] = dict.fromkeys(range(ncols), str)
        dtypes.update(numeric)
        return pd.read_csv(io.StringIO(body), dtype=dtypes, **common)  # type: ignore[call-overload, no-any-return]
    except (ValueError, pd.errors.ParserError):
        pass  # slow path below locates the offending line and column
    try:
        frame = pd.read_csv(io.StringIO(body), dtype=str, **common)  # type: ignore[call-overload]
    except (ValueError, pd.errors.ParserError) as exc:
        msg = f"cannot parse the droplet table ({exc}); expected {ncols} comma-separated columns per row"
        raise InputError(msg, path=label, line=line0) from exc
    return frame.fillna("")  # type: ignore[no-any-return]


def _numeric(col: pd.Series, *, label: str, line0: int, name: str, decimal: str) -> np.ndarray:
    if col.dtype.kind == "f":
        return col.to_numpy(np.float64)
    s = col.str.strip()
    if decimal == ",":
        s = s.str.replace(",", ".", regex=False)
    values = pd.to_numeric(s.where(s != ""), errors="coerce").to_numpy(np.float64)
    bad = np.isnan(values) & (s != "").to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"{col.iloc[i]!r} is not a number; expected droplet amplitudes"
        raise InputError(
            msg,
            path=label,
            line=line0 + i,
            column=name,
        )
    return values


def read_amplitude_csv(source: str | Path | bytes, *, name: str | None = None) -> WellDroplets:
    """Read one well's amplitude export.

    Parameters
    ----------
    source
        Path to ``<plate>_<Well>_Amplitude.csv``, or its bytes (then ``name`` gives the file name).
    """
    label = name or str(source)
    plate_name, well = split_amplitude_name(label)
    csv = read_csv_text(source, name=label)
    lines = csv.text.split("\n")
    header_at = None
    for i, line in enumerate(lines[:20]):
        if "amplitude" in line.lower():
            header_at = i
            break
        if line.strip() and not line.lower().startswith("target value"):
            break
    if header_at is None:
        msg = (
            "no amplitude header found; expected 'Ch1 Amplitude,Ch2 Amplitude[,Cluster]' "
            "(QuantaSoft) or 'Ch1Amplitude,Ch2Amplitude,1,2' after the 'Target Value' lines "
            "(QX Manager)"
        )
        raise InputError(
            msg,
            path=label,
            line=1,
        )
    header = [h.strip() for h in lines[header_at].split(csv.delimiter)]
    roles = [_column_role(h) for h in header]
    while roles and roles[-1] == "empty":
        roles.pop()
    if "ch1" not in roles:
        msg = (
            f"header {lines[header_at]!r} has no Ch1 amplitude column; expected "
            "'Ch1 Amplitude' or 'Assay1 Amplitude'"
        )
        raise InputError(
            msg,
            path=label,
            line=header_at + 1,
        )
    if "unknown" in roles:
        bad = header[roles.index("unknown")]
        msg = f"unexpected column {bad!r}; expected Ch1/Ch2 amplitudes, Cluster or target columns 1, 2, ..."
        raise InputError(
            msg,
            path=label,
            line=header_at + 1,
        )
    body = "\n".join(lines[header_at + 1 :])
    line0 = header_at + 2
    frame = _parse_body(body, roles, csv, label, line0)
    ch1 = _numeric(
        frame[roles.index("ch1")],
        label=label,
        line0=line0,
        name=header[roles.index("ch1")],
        decimal=csv.decimal,
    )
    if "ch2" in roles:
        ch2 = _numeric(
            frame[roles.index("ch2")],
            label=label,
            line0=line0,
            name=header[roles.index("ch2")],
            decimal=csv.decimal,
        )
    else:
        ch2 = np.full(ch1.size, np.nan)
    if np.isnan(ch1).any():
        i = int(np.flatnonzero(np.isnan(ch1))[0])
        msg = "empty Ch1 amplitude; every droplet needs a Ch1 value"
        raise InputError(msg, path=label, line=line0 + i)
    if "ch2" in roles and np.isnan(ch2).any() and not np.isnan(ch2).all():
        # an all-empty Ch2 column is a simplex export; a partly empty one is damaged
        i = int(np.flatnonzero(np.isnan(ch2))[0])
        msg = (
            "empty Ch2 amplitude while other droplets of the well have one; every droplet needs "
            "both amplitudes (or the Ch2 column is empty throughout for single-channel exports)"
        )
        raise InputError(msg, path=label, line=line0 + i, column=header[roles.index("ch2")])
    for name, values in (("Ch1", ch1), ("Ch2", ch2)):
        if np.isinf(values).any():
            i = int(np.flatnonzero(np.isinf(values))[0])
            msg = f"{name} amplitude {values[i]}; expected a finite fluorescence amplitude"
            raise InputError(msg, path=label, line=line0 + i)
    cluster: np.ndarray | None = None
    if "cluster" in roles:
        cl = _numeric(
            frame[roles.index("cluster")], label=label, line0=line0, name="Cluster", decimal="."
        )
        if np.isnan(cl).any() or ((cl < 0) | (cl > 4)).any():
            i = int(np.flatnonzero(np.isnan(cl) | (cl < 0) | (cl > 4))[0])
            msg = (
                f"cluster code {frame[roles.index('cluster')].iloc[i]!r}; expected 0-4 "
                "(1 = Ch1-Ch2-, 2 = Ch1+Ch2-, 3 = Ch1+Ch2+, 4 = Ch1-Ch2+)"
            )
            raise InputError(
                msg,
                path=label,
                line=line0 + i,
                column="Cluster",
            )
        cluster = cl.astype(np.int8)
    targets = [i for i, r in enumerate(roles) if r.startswith("target")]
    if cluster is None and len(targets) >= 2:
        t = [frame[i].str.strip().str.lower().to_numpy() for i in targets[:2]]
        for k, col in enumerate(t):
            bad_t = ~np.isin(col, ["0", "1", "u"])
            if bad_t.any():
                i = int(np.flatnonzero(bad_t)[0])
                msg = f"target value {col[i]!r}; expected 0 (negative), 1 (positive) or u (unclassified)"
                raise InputError(
                    msg,
                    path=label,
                    line=line0 + i,
                    column=header[targets[k]],
                )
        a, b = t
        cluster = np.zeros(a.size, np.int8)
        cluster[(a == "0") & (b == "0")] = 1
        cluster[(a == "1") & (b == "0")] = 2
        cluster[(a == "1") & (b == "1")] = 3
        cluster[(a == "0") & (b == "1")] = 4
    return WellDroplets(
        well=well, ch1=ch1, ch2=ch2, cluster=cluster, source=label, plate_name=plate_name
    )


def _iter_inputs(paths: Sequence[Path]) -> Iterable[tuple[str, bytes | Path]]:
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and _looks_like_amplitude(str(p))
            )
            for p in found:
                yield str(p), p
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if not info.is_dir() and _looks_like_amplitude(info.filename):
                        yield f"{path}!{info.filename}", zf.read(info)
        elif path.is_file():
            yield str(path), path
        else:
            raise FileNotFoundError(2, "No such file or directory", str(path))


def load_plate(
    source: str | Path | Sequence[str | Path],
    *,
    name: str = "",
    progress: Callable[[str], None] | None = None,
) -> Plate:
    """Read a plate from a folder, a zip archive, or a list of amplitude CSV files.

    Parameters
    ----------
    progress
        Called with each file's label after it is read (the CLI draws a progress bar with it).

    Raises
    ------
    InputError
        No amplitude files, duplicated wells, or a malformed file (named with its line).
    """
    paths = [Path(source)] if isinstance(source, str | Path) else [Path(p) for p in source]
    wells = []
    for label, item in _iter_inputs(paths):
        wells.append(read_amplitude_csv(item, name=label))
        if progress is not None:
            progress(label)
    if not wells:
        where = ", ".join(str(p) for p in paths)
        msg = (
            "no amplitude files found; expected files named <plate>_<Well>_Amplitude.csv "
            "(export 'Amplitude and Cluster data' from QuantaSoft/QX Manager)"
        )
        raise InputError(
            msg,
            path=where,
        )
    return plate_from_wells(wells, name=name)
