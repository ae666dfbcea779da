"""Sequencing inputs of a study manifest as core results: findings tables and VCFs.

* ``findings``: the findings tables kinresist already reads (gene, alteration, VAF, optional
  ``sample``) with an optional molecule ``depth`` column. Each row becomes a finding and, when it
  names a known alteration, a sequencing VAF measurement (assay ``ngs``, %, detected) carrying its
  depth. Findings tables list what was found: an alteration absent from one is *not tested*
  there, never "not detected".
* ``ngs_vcf``: kinresist's own VCF (``ngs call --format vcf``: INFO ``GENE``, ``ALT_NAME``, ``AF``,
  ``DP``, ``AD``, ``LOD``) keeps its calls' states exactly as ``ngs call`` records them: ``PASS`` is
  detected; a record filtered only for too little evidence (``low_alt``/``low_qual``) is not
  detected with its per-site LoD (value None, never 0); other filters are indeterminate with the
  estimate kept. Any other VCF is read by the interpretation reader (VEP/snpEff annotations or KB
  coordinates; needs the genome build) and gives detected VAFs without an LoD.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import Any

from kinresist.core.result import Measurement, Provenance, Result
from kinresist.errors import InputError

__all__ = ["SCHEMA_VERSION", "read_findings_result", "read_ngs_vcf"]

SCHEMA_VERSION = "1.0"
_DEPTH_COLUMNS = ("depth", "molecule_depth", "depth_molecules", "molecules", "dp")
_BELOW_LOD = {"low_alt", "low_qual"}


def _key(gene: str | None, alteration: str) -> str | None:
    from kinresist.core.alteration import alteration_key

    key = alteration_key(gene, alteration)
    return None if key is None else str(key)


def read_findings_result(path: str | PathLike[str]) -> Result:
    """A findings table (with an optional molecule ``depth`` column) as a core result."""
    import pandas as pd

    from kinresist.interpret.readers._textio import read_delimited
    from kinresist.interpret.readers.tables import read_findings_table

    p = Path(path)
    findings = read_findings_table(p)
    header, rows = read_delimited(p)
    dcol = next((c for c in _DEPTH_COLUMNS if c in header), None)
    measurements: list[Measurement] = []
    warnings: list[str] = []
    # findings keep their source line ("table:NAME:LINE"); duplicate rows were kept once
    by_line = dict(rows)
    for f in findings:
        line = int(str(f.source).rsplit(":", 1)[1])
        cells = by_line[line]
        depth: int | None = None
        if dcol is not None and cells[dcol] not in ("", ".", "NA"):
            try:
                value = float(cells[dcol])
            except ValueError:
                msg = f"depth {cells[dcol]!r} is not a number of molecules"
                raise InputError(msg, path=p, line=line, column=dcol) from None
            if not (math.isfinite(value) and value >= 0 and value == int(value)):
                msg = f"depth {cells[dcol]!r} must be a whole number of molecules >= 0"
                raise InputError(msg, path=p, line=line, column=dcol)
            depth = int(value)
        key = _key(f.gene, f.alteration)
        if key is None:
            warnings.append(
                f"line {line}: {f.gene} {f.alteration} has no canonical alteration key; kept as a "
                "finding only (not on the timeline)"
            )
            continue
        measurements.append(
            Measurement(
                assay="ngs",
                target=key,
                quantity="vaf",
                value=None if f.vaf is None else 100.0 * f.vaf,
                unit="%",
                sample=f.sample,
                alteration=key,
                call="detected",
                flags=() if f.vaf is not None else ("vaf_not_given",),
                attributes={"depth_molecules": depth, "source": f"findings table line {line}"},
            )
        )
    table = pd.DataFrame([m.as_row() for m in measurements])
    return Result(
        workflow="monitoring.findings",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs={p.name: p}, parameters={"depth_column": dcol}),
        body={"file": p.name, "findings": [f.to_dict() for f in findings]},
        tables={"findings": table},
        measurements=measurements,
        findings=findings,
        warnings=warnings,
    )


def _info(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(";"):
        k, _, v = item.partition("=")
        out[k] = v
    return out


def _float(text: str | None) -> float | None:
    if text is None or text in ("", "."):
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def read_ngs_vcf(
    path: str | PathLike[str], *, genome: str | None = None, sample: str | None = None
) -> Result:
    """A VCF as a core result (see the module docstring)."""
    from kinresist.interpret.readers._textio import iter_lines

    p = Path(path)
    meta: list[str] = []
    records: list[tuple[int, list[str]]] = []
    for number, line in iter_lines(p):
        if line.startswith("##"):
            meta.append(line)
        elif line.startswith("#CHROM"):
            continue
        elif line.strip():
            records.append((number, line.split("\t")))
    if not meta or not meta[0].startswith("##fileformat=VCF"):
        msg = "not a VCF: the first line must be '##fileformat=VCFv4.x'"
        raise InputError(msg, path=p, line=1)
    own = any(m.startswith("##INFO=<ID=ALT_NAME") for m in meta) and any(
        m.startswith("##INFO=<ID=GENE") for m in meta
    )
    if not own:
        return _foreign_vcf(p, genome=genome, sample=sample)
    measurements = []
    for number, cells in records:
        if len(cells) < 8:
            msg = f"{len(cells)} tab-separated columns; a VCF record has at least 8"
            raise InputError(msg, path=p, line=number)
        info = _info(cells[7])
        gene = info.get("GENE", ".")
        name = info.get("ALT_NAME", "").replace("_", " ")
        key = _key(gene, name) if gene not in ("", ".") and name else None
        af, lod = _float(info.get("AF")), _float(info.get("LOD"))
        filters = cells[6]
        if filters == "PASS":
            call = "detected"
        elif set(filters.split(";")) <= _BELOW_LOD:
            call = "not_detected"
        else:
            call = "indeterminate"
        depth = _float(info.get("DP"))
        alt = _float(info.get("AD"))
        target = key or f"{cells[0]}:{cells[1]}{cells[3]}>{cells[4]}"
        measurements.append(
            Measurement(
                assay="ngs",
                target=target,
                quantity="vaf",
                value=None if call == "not_detected" or af is None else 100.0 * af,
                unit="%",
                sample=sample,
                alteration=key,
                lod=None if lod is None else 100.0 * lod,
                call=call,  # type: ignore[arg-type]
                flags=tuple(f for f in filters.split(";") if f not in ("PASS", ".")),
                attributes={
                    "depth_molecules": None if depth is None else int(depth),
                    "alt_molecules": None if alt is None else int(alt),
                    "estimate": None if af is None else 100.0 * af,
                    "filter": filters,
                    "vcf_line": number,
                },
            )
        )
    return _vcf_result(
        p,
        measurements,
        _passed_findings(measurements, sample),
        parameters={"reader": "kinresist VCF"},
    )


def _passed_findings(measurements: list[Measurement], sample: str | None) -> list[Any]:
    """Detected calls with an alteration key as interpretation findings (source ``ngs``)."""
    from dataclasses import replace

    from kinresist.interpret.readers.text import parse_finding

    out = []
    for m in measurements:
        if m.call != "detected" or m.alteration is None:
            continue
        vaf = None if m.value is None else min(max(m.value / 100.0, 0.0), 1.0)
        out.append(replace(parse_finding(m.alteration, sample=sample), vaf=vaf, source="ngs"))
    return out


def _foreign_vcf(p: Path, *, genome: str | None, sample: str | None) -> Result:
    from kinresist.interpret._kbindex import KBIndex
    from kinresist.interpret.readers.vcf import read_vcf
    from kinresist.kb import load_kb

    if genome is None:
        msg = (
            "this VCF is not kinresist's own (no INFO GENE/ALT_NAME): give its genome build in "
            "the manifest's genome column (GRCh37 or GRCh38)"
        )
        raise InputError(msg, path=p)
    findings = read_vcf(p, genome=genome, kb=KBIndex.from_kb(load_kb()), sample=sample)
    measurements = []
    for f in findings:
        key = _key(f.gene, f.alteration)
        if key is None:
            continue
        measurements.append(
            Measurement(
                assay="ngs",
                target=key,
                quantity="vaf",
                value=None if f.vaf is None else 100.0 * f.vaf,
                unit="%",
                sample=sample,
                alteration=key,
                call="detected",
                attributes={"source": f.source, "depth_molecules": None},
            )
        )
    return _vcf_result(
        p, measurements, findings, parameters={"reader": "interpret VCF", "genome": genome}
    )


def _vcf_result(
    p: Path, measurements: list[Measurement], findings: list[Any], *, parameters: dict[str, Any]
) -> Result:
    import pandas as pd

    return Result(
        workflow="monitoring.ngs_vcf",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(inputs={p.name: p}, parameters=parameters),
        body={"file": p.name, "records": len(measurements)},
        tables={"calls": pd.DataFrame([m.as_row() for m in measurements])},
        measurements=measurements,
        findings=findings,
    )
