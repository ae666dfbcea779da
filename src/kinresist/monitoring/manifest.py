"""The study manifest: one row per sample x assay file, validated before anything is analysed.

Columns (header names case-insensitive)::

    subject, sample, collected, assay, file        required
    sample_type   plasma, tissue, blood, tumour, cell_pellet, cell_line, other (never guessed)
    timepoint     a label such as C3D1
    assay_map     ddPCR: a CSV/TSV file (relative to the manifest) or inline pairs
                  "ALK_G1202R -> ALK G1202R; ALK_WT -> wild type"
    results       ddPCR: the QuantaSoft / QX Manager results CSV naming samples and targets
    plate_map     dose (required) and synergy plate layouts
    genotype      dose: the line's alteration(s), "ALK G1202R" (';' separates several)
    genome        ngs_vcf: GRCh37/GRCh38, for VCFs that are not kinresist's own
    tube, hours_to_processing, plasma_ml, cfdna_ng    plasma QC (:mod:`kinresist.monitoring.plasma`)
    inputs        workflow assays: the workflow's other input files, "gates=flow/panel.xml"
    options       workflow assays: the workflow's options, "control=vehicle; n_boot=200"

``assay`` is one of :data:`ASSAYS`; ``file`` is relative to the manifest's folder. The workflow
assays (:data:`WORKFLOW_ASSAYS`: ``invivo``, ``clinical_survival``, ``elisa``, ``flow``, ...) run
the row's whole file through a registered workflow (:mod:`._workflow_rows`). Every problem
is an :class:`~kinresist.errors.InputError` naming the manifest, the line and the row: a missing
file, an unknown assay, an unparsable date, a duplicate sample label (the same subject, sample and
assay twice, or one sample label with two subjects, dates, types or QC values), an unknown column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from kinresist.errors import InputError
from kinresist.monitoring._workflow_rows import (
    WORKFLOW_ALIASES,
    WORKFLOW_ASSAYS,
    WorkflowCall,
    parse_workflow_call,
)
from kinresist.monitoring.plasma import EDTA_MAX_HOURS, STRECK_MAX_HOURS, PlasmaQC, plasma_qc

__all__ = [
    "ASSAYS",
    "SAMPLE_TYPES",
    "WORKFLOW_ASSAYS",
    "Assay",
    "Manifest",
    "ManifestRow",
    "parse_when",
    "read_manifest",
]

Assay = Literal[
    "ddpcr",
    "ngs_vcf",
    "findings",
    "dose",
    "synergy",
    "interpret",
    "ngs_call",
    "invivo",
    "clinical_survival",
    "clinical_response",
    "clinical_summary",
    "elisa",
    "flow",
    "gsea_prerank",
    "gsea_score",
    "tme",
    "blot",
]
ASSAYS: tuple[str, ...] = ("ddpcr", "ngs_vcf", "findings", "dose", "synergy", *WORKFLOW_ASSAYS)
SubjectKind = Literal["patient", "cell_line", "animal", "pooled"]
SAMPLE_TYPES: tuple[str, ...] = (
    "plasma",
    "tissue",
    "blood",
    "tumour",
    "cell_pellet",
    "cell_line",
    "other",
)
_REQUIRED = ("subject", "sample", "collected", "assay", "file")
_OPTIONAL = (
    "sample_type",
    "timepoint",
    "assay_map",
    "results",
    "plate_map",
    "genotype",
    "genome",
    "tube",
    "hours_to_processing",
    "plasma_ml",
    "cfdna_ng",
    "inputs",
    "options",
)
_SAMPLE_TYPE_ALIASES = {"tumor": "tumour", "cell line": "cell_line", "cell pellet": "cell_pellet"}


def parse_when(text: str) -> dt.date | dt.datetime:
    """An ISO date (``2024-03-19``) or date-time (``2024-03-19T09:30``, ``2024-03-19 09:30``).

    Raises ValueError for anything else (the callers name the row or option).
    """
    t = text.strip()
    if len(t) == 10:
        return dt.date.fromisoformat(t)
    if len(t) > 10 and t[10] in "T ":
        return dt.datetime.fromisoformat(t)
    msg = f"{text!r} is not an ISO date or date-time"
    raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One validated manifest row (paths resolved against the manifest's folder)."""

    number: int
    line: int
    subject: str
    sample: str
    collected: dt.date | dt.datetime
    assay: Assay
    file: Path
    sample_type: str | None = None
    timepoint: str | None = None
    assay_map: Path | None = None
    assay_pairs: tuple[str, ...] = ()
    results: Path | None = None
    plate_map: Path | None = None
    genotype: tuple[str, ...] = ()
    genome: str | None = None
    qc: PlasmaQC | None = None
    call: WorkflowCall | None = None

    @property
    def subject_kind(self) -> SubjectKind:
        """Cell line for dose and synergy plates and cell-line samples; a workflow assay's
        subjects are the kind its workflow declares (animal for in vivo and TME); else patient."""
        if self.assay in ("dose", "synergy") or self.sample_type == "cell_line":
            return "cell_line"
        if self.call is not None:
            return self.call.subject_kind  # type: ignore[return-value]
        return "patient"

    @property
    def label(self) -> str:
        """``"row 3 (sample PT-D3, ddpcr)"``: how messages name the row."""
        return f"row {self.number} (sample {self.sample!r}, {self.assay})"

    def sample_attributes(self) -> dict[str, Any]:
        """What the store keeps on the sample besides its columns."""
        out: dict[str, Any] = {}
        if self.qc is not None and self.qc.given:
            out["plasma_qc"] = self.qc.to_dict()
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.number,
            "line": self.line,
            "subject": self.subject,
            "sample": self.sample,
            "collected": self.collected.isoformat(),
            "assay": self.assay,
            "file": self.file.name if self.call is None else self.call.source,
            "sample_type": self.sample_type,
            "timepoint": self.timepoint,
            "qc": None if self.qc is None or not self.qc.given else self.qc.to_dict(),
            **({} if self.call is None else {"call": self.call.to_dict()}),
        }


@dataclass(frozen=True, slots=True)
class Manifest:
    """A validated manifest."""

    path: Path
    rows: tuple[ManifestRow, ...]

    def __iter__(self) -> Iterator[ManifestRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def error(self, row: ManifestRow, message: str, *, column: str | None = None) -> InputError:
        """An InputError naming the manifest, the row's line, the row and the sample."""
        return InputError(f"{row.label}: {message}", path=self.path, line=row.line, column=column)

    @property
    def subjects(self) -> dict[str, str]:
        """Subject label -> kind, in manifest order."""
        return {r.subject: r.subject_kind for r in self.rows}


def _number(text: str, *, column: str, path: Path, line: int, where: str) -> float | None:
    if text in ("", ".", "NA", "na", "n/a"):
        return None
    try:
        value = float(text)
    except ValueError:
        msg = f"{where}: {column} {text!r} is not a number"
        raise InputError(msg, path=path, line=line, column=column) from None
    if not math.isfinite(value):
        msg = f"{where}: {column} {text!r} is not a finite number"
        raise InputError(msg, path=path, line=line, column=column)
    return value


def _inline_pairs(text: str) -> tuple[str, ...]:
    """``"ALK_G1202R -> ALK G1202R; ALK_WT -> wild type"`` -> ``("ALK_G1202R=ALK G1202R", ...)``."""
    out = []
    for item in text.replace("|", ";").split(";"):
        if not item.strip():
            continue
        for sep in ("->", "=>", "=", ":"):
            target, found, alteration = item.partition(sep)
            if found:
                break
        else:
            msg = (
                f"assay_map entry {item.strip()!r}: expected TARGET -> ALTERATION, e.g. "
                "'ALK_G1202R -> ALK G1202R', or the name of a map file next to the manifest"
            )
            raise ValueError(msg)
        if not target.strip() or not alteration.strip():
            msg = f"assay_map entry {item.strip()!r} has an empty target or alteration"
            raise ValueError(msg)
        out.append(f"{target.strip()}={alteration.strip()}")
    return tuple(out)


def read_manifest(
    path: str | PathLike[str],
    *,
    edta_max_hours: float = EDTA_MAX_HOURS,
    streck_max_hours: float = STRECK_MAX_HOURS,
) -> Manifest:
    """Read and validate a manifest (see the module docstring); nothing is analysed here."""
    from kinresist.interpret.readers._textio import read_delimited

    p = Path(path)
    if not p.is_file():
        msg = "manifest not found (check the path)"
        raise InputError(msg, path=p)
    header, table = read_delimited(p)
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        msg = (
            f"manifest lacks the column(s) {', '.join(missing)}; expected a header with "
            f"{', '.join(_REQUIRED)} (and optionally {', '.join(_OPTIONAL)})"
        )
        raise InputError(msg, path=p, line=1)
    unknown = [c for c in header if c not in _REQUIRED + _OPTIONAL]
    if unknown:
        msg = (
            f"unknown manifest column(s) {', '.join(map(repr, unknown))}; known columns: "
            f"{', '.join(_REQUIRED + _OPTIONAL)} (a misspelt QC column would be silently lost)"
        )
        raise InputError(msg, path=p, line=1)
    if not table:
        msg = "the manifest has a header but no rows"
        raise InputError(msg, path=p, line=2)
    rows = [
        _row(i, line, cells, p, edta=edta_max_hours, streck=streck_max_hours)
        for i, (line, cells) in enumerate(table, start=1)
    ]
    _check_duplicates(rows, p)
    return Manifest(p, tuple(rows))


def _row(
    number: int, line: int, cells: dict[str, str], path: Path, *, edta: float, streck: float
) -> ManifestRow:
    base = path.parent
    get = {k: (cells.get(k) or "").strip() for k in (*_REQUIRED, *_OPTIONAL)}
    where = f"row {number} (sample {get['sample']!r})"

    def fail(message: str, column: str) -> InputError:
        return InputError(f"{where}: {message}", path=path, line=line, column=column)

    for col in ("subject", "sample", "collected", "assay", "file"):
        if not get[col]:
            msg = f"empty {col}; every row needs {', '.join(_REQUIRED)}"
            raise fail(msg, col)
    assay = get["assay"].lower()
    assay = WORKFLOW_ALIASES.get(assay, assay)
    if assay not in ASSAYS:
        msg = f"unknown assay {get['assay']!r}; expected one of {', '.join(ASSAYS)}"
        raise fail(msg, "assay")
    try:
        collected = parse_when(get["collected"])
    except ValueError:
        msg = (
            f"collected {get['collected']!r} is not an ISO date (2024-03-19) or date-time "
            "(2024-03-19T09:30); write dates as YYYY-MM-DD"
        )
        raise fail(msg, "collected") from None

    def existing(column: str) -> Path | None:
        if not get[column]:
            return None
        f = base / get[column]
        if not f.exists():
            msg = f"{column} {get[column]!r} not found (looked for {f})"
            raise fail(msg, column)
        return f

    call: WorkflowCall | None = None
    if assay in WORKFLOW_ASSAYS:
        for column in ("plate_map", "genome"):
            if get[column]:
                hint = "inputs (layout=...)" if column == "plate_map" else "options (genome=...)"
                msg = f"{column} is not read for {assay} rows; give it in {hint}"
                raise fail(msg, column)
        call = parse_workflow_call(
            assay,
            get["file"],
            inputs=get["inputs"],
            options=get["options"],
            base=base,
            fail=fail,
        )
        file = call.files[0]
    else:
        for column in ("inputs", "options"):
            if get[column]:
                msg = (
                    f"{column} is for the workflow assays ({', '.join(WORKFLOW_ASSAYS)}), "
                    f"not {assay} rows"
                )
                raise fail(msg, column)
        found = existing("file")
        assert found is not None
        file = found
    sample_type = get["sample_type"].lower() or None
    if sample_type is not None:
        sample_type = _SAMPLE_TYPE_ALIASES.get(sample_type, sample_type)
        if sample_type not in SAMPLE_TYPES:
            msg = f"unknown sample_type {get['sample_type']!r}; expected one of {', '.join(SAMPLE_TYPES)}"
            raise fail(msg, "sample_type")
    assay_map: Path | None = None
    pairs: tuple[str, ...] = ()
    if get["assay_map"]:
        if assay != "ddpcr":
            msg = "assay_map is for ddpcr rows only"
            raise fail(msg, "assay_map")
        candidate = base / get["assay_map"]
        if "->" not in get["assay_map"] and "=" not in get["assay_map"]:
            if not candidate.is_file():
                msg = (
                    f"assay_map {get['assay_map']!r} is neither a file next to the manifest nor "
                    "inline pairs such as 'ALK_G1202R -> ALK G1202R; ALK_WT -> wild type'"
                )
                raise fail(msg, "assay_map")
            assay_map = candidate
        else:
            try:
                pairs = _inline_pairs(get["assay_map"])
            except ValueError as exc:
                raise fail(str(exc), "assay_map") from None
    results = existing("results")
    if results is not None and assay != "ddpcr":
        msg = "results is for ddpcr rows only"
        raise fail(msg, "results")
    plate_map = existing("plate_map")
    if assay == "dose" and plate_map is None:
        msg = "dose rows need a plate_map (the plate layout: well, role, cell_line, drug, concentration)"
        raise fail(msg, "plate_map")
    genotype = tuple(g.strip() for g in get["genotype"].split(";") if g.strip())
    if genotype and assay != "dose":
        msg = "genotype is for dose rows only (the line's alterations)"
        raise fail(msg, "genotype")
    numbers = {
        c: _number(get[c], column=c, path=path, line=line, where=where)
        for c in ("hours_to_processing", "plasma_ml", "cfdna_ng")
    }
    try:
        qc = plasma_qc(
            tube=get["tube"] or None,
            hours_to_processing=numbers["hours_to_processing"],
            plasma_ml=numbers["plasma_ml"],
            cfdna_ng=numbers["cfdna_ng"],
            edta_max_hours=edta,
            streck_max_hours=streck,
        )
    except ValueError as exc:
        raise fail(str(exc), "plasma QC") from None
    return ManifestRow(
        number=number,
        line=line,
        subject=get["subject"],
        sample=get["sample"],
        collected=collected,
        assay=assay,  # type: ignore[arg-type]
        file=file,
        sample_type=sample_type,
        timepoint=get["timepoint"] or None,
        assay_map=assay_map,
        assay_pairs=pairs,
        results=results,
        plate_map=plate_map,
        genotype=genotype,
        genome=get["genome"] or None,
        qc=qc,
        call=call,
    )


def _check_duplicates(rows: Sequence[ManifestRow], path: Path) -> None:
    """Refuse a repeated (subject, sample, assay) and a sample label described two ways."""
    seen: dict[tuple[str, str, str], ManifestRow] = {}
    first: dict[str, ManifestRow] = {}
    kinds: dict[str, ManifestRow] = {}

    def fail(row: ManifestRow, message: str, column: str) -> InputError:
        return InputError(
            f"{row.label}: duplicate sample label: {message}",
            path=path,
            line=row.line,
            column=column,
        )

    calls: dict[WorkflowCall, ManifestRow] = {}
    for r in rows:
        if r.call is not None:
            twin = calls.setdefault(r.call, r)
            if twin is not r:
                msg = (
                    f"{r.label}: row {twin.number} already runs {r.call.workflow} on "
                    f"{r.call.source} with the same inputs and options (the file would be recorded "
                    "twice); keep one row"
                )
                raise InputError(msg, path=path, line=r.line, column="file")
        key = (r.subject, r.sample, r.assay)
        if key in seen:
            msg = (
                f"{r.sample!r} of {r.subject!r} is already listed for {r.assay} in row "
                f"{seen[key].number}; give each sample one row per assay"
            )
            raise fail(r, msg, "sample")
        seen[key] = r
        prev = first.get(r.sample)
        if prev is None:
            first[r.sample] = r
        else:
            for attr in ("subject", "collected", "sample_type", "timepoint", "qc"):
                if getattr(prev, attr) != getattr(r, attr) and (
                    attr != "qc" or (_given(prev.qc) and _given(r.qc))
                ):
                    msg = (
                        f"{r.sample!r} is described in row {prev.number} with {attr} "
                        f"{_show(getattr(prev, attr))} and here with {_show(getattr(r, attr))}; "
                        "a sample label names one sample (use a new label for a new sample)"
                    )
                    raise fail(r, msg, attr)
        other = kinds.get(r.subject)
        if other is not None and other.subject_kind != r.subject_kind:
            msg = (
                f"subject {r.subject!r} is a {other.subject_kind.replace('_', ' ')} in row "
                f"{other.number} and a {r.subject_kind.replace('_', ' ')} here"
            )
            msg = f"{r.label}: {msg}"
            raise InputError(msg, path=path, line=r.line, column="subject")
        kinds.setdefault(r.subject, r)


def _given(qc: PlasmaQC | None) -> bool:
    return qc is not None and qc.given


def _show(value: Any) -> str:
    if isinstance(value, PlasmaQC):
        return "QC " + ", ".join(
            f"{k}={v}" for k, v in value.to_dict().items() if v is not None and k != "flags"
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)
