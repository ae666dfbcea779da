"""Readers for CIViC evidence TSVs: the 2018 "variant" schema and the molecular-profile schema.

Both schemas are recognised from the header:

* ``civic-2018-variant`` (pre-2023 nightly ``ClinicalEvidenceSummaries.tsv``, 38 columns):
  ``gene``, ``variant``, ``drugs``, ``clinical_significance``, ``pubmed_id``, ``variant_id``...
  Coordinates come from the matching ``VariantSummaries.tsv``.
* ``civic-molecular-profile`` (current nightly, 25 columns; also the GraphQL-derived ALK
  extract): ``molecular_profile``, ``therapies``, ``therapy_interaction_type`` (optional),
  ``significance``, ``citation_id``, ``source_type``...

Rows are returned as :class:`CivicRow` values; nothing is interpreted here. Every line
must have the header's number of tab-separated fields; a short or long line, a missing
column or an empty file is an :class:`~kinresist.errors.InputError` naming file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kinresist.errors import InputError

__all__ = ["CivicRow", "CivicSchema", "CivicVariant", "read_civic_evidence", "read_civic_variants"]

CivicSchema = Literal["civic-2018-variant", "civic-molecular-profile"]

_REQUIRED: dict[CivicSchema, tuple[str, ...]] = {
    "civic-2018-variant": (
        "gene", "variant", "disease", "drugs", "evidence_type", "evidence_direction",
        "evidence_level", "clinical_significance", "evidence_statement", "pubmed_id",
        "evidence_status", "evidence_id", "variant_id",
    ),
    "civic-molecular-profile": (
        "molecular_profile", "disease", "therapies", "evidence_type", "evidence_direction",
        "evidence_level", "significance", "evidence_statement", "citation_id", "evidence_status",
        "evidence_id",
    ),
}  # fmt: skip
_VARIANT_REQUIRED = ("variant_id", "gene", "variant", "chromosome", "start", "stop",
                     "reference_bases", "variant_bases")  # fmt: skip


@dataclass(frozen=True, slots=True)
class CivicRow:
    """One CIViC evidence row, schema-neutral (strings as given, trimmed)."""

    line: int
    eid: int
    profile: str  # molecular profile name, or "GENE VARIANT" for the 2018 schema
    gene: str | None  # 2018 only
    variant: str | None  # 2018 only
    variant_id: str | None
    disease: str
    therapies: tuple[str, ...]
    interaction: str | None  # Combination / Substitutes / Sequential, None when not given
    evidence_type: str
    direction: str
    level: str
    significance: str
    statement: str
    pmid: str | None
    citation: str
    rating: str
    status: str
    url: str


@dataclass(frozen=True, slots=True)
class CivicVariant:
    """Coordinates and HGVS of a 2018 CIViC variant (``VariantSummaries.tsv``), GRCh37."""

    variant_id: str
    gene: str
    name: str
    chrom: str
    start: int | None
    stop: int | None
    ref: str
    alt: str
    build: str
    hgvs: tuple[str, ...]


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start}); re-download the CIViC TSV or save it as UTF-8"
        raise InputError(msg, path=path) from exc
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        msg = "empty file; expected a CIViC TSV with a header line"
        raise InputError(msg, path=path, line=1)
    header = [h.strip() for h in lines[0].split("\t")]
    rows = []
    for n, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        fields = raw.split("\t")
        if len(fields) != len(header):
            msg = (
                f"{len(fields)} tab-separated fields, the header has {len(header)}; "
                "the file is truncated or a field contains a tab/newline (re-export the TSV)"
            )
            raise InputError(msg, path=path, line=n)
        rows.append((n, [f.strip() for f in fields]))
    return header, rows


def detect_schema(header: list[str], path: Path) -> CivicSchema:
    """Which CIViC schema a header belongs to; InputError naming missing columns otherwise."""
    cols = set(header)
    schema: CivicSchema
    if "molecular_profile" in cols:
        schema = "civic-molecular-profile"
    elif "variant" in cols and "gene" in cols:
        schema = "civic-2018-variant"
    else:
        msg = (
            "not a CIViC evidence TSV: expected a 'molecular_profile' column (current schema) "
            "or 'gene' and 'variant' columns (2018 schema); "
            f"got {', '.join(header[:8])}{'...' if len(header) > 8 else ''}"
        )
        raise InputError(msg, path=path, line=1)
    missing = [c for c in _REQUIRED[schema] if c not in cols]
    if missing:
        msg = f"CIViC {schema} TSV lacks column(s) {', '.join(missing)}"
        raise InputError(msg, path=path, line=1)
    return schema


def read_civic_evidence(
    path: str | os.PathLike[str],
) -> tuple[CivicSchema, list[CivicRow]]:
    """Read a CIViC evidence TSV of either schema."""
    p = Path(path)
    header, rows = _read_table(p)
    schema = detect_schema(header, p)
    out: list[CivicRow] = []
    seen: dict[int, int] = {}
    for line, fields in rows:
        r = dict(zip(header, fields, strict=True))
        try:
            eid = int(r["evidence_id"])
        except ValueError as exc:
            msg = f"evidence_id {r['evidence_id']!r} is not an integer"
            raise InputError(msg, path=p, line=line, column="evidence_id") from exc
        if eid in seen:
            msg = f"evidence_id {eid} repeats line {seen[eid]}"
            raise InputError(msg, path=p, line=line, column="evidence_id")
        seen[eid] = line
        if schema == "civic-2018-variant":
            therapies = tuple(t.strip() for t in r["drugs"].split(",") if t.strip())
            pmid = r["pubmed_id"] or None
            out.append(
                CivicRow(
                    line=line,
                    eid=eid,
                    profile=f"{r['gene']} {r['variant']}",
                    gene=r["gene"],
                    variant=r["variant"],
                    variant_id=r.get("variant_id") or None,
                    disease=r["disease"],
                    therapies=therapies,
                    interaction=None,
                    evidence_type=r["evidence_type"],
                    direction=r["evidence_direction"],
                    level=r["evidence_level"],
                    significance=r["clinical_significance"],
                    statement=r["evidence_statement"],
                    pmid=pmid if pmid and pmid.isdigit() else None,
                    citation=r.get("citation", ""),
                    rating=r.get("rating", ""),
                    status=r["evidence_status"],
                    url=r.get("evidence_civic_url", ""),
                )
            )
        else:
            therapies = tuple(t.strip() for t in r["therapies"].split(",") if t.strip())
            cid = r["citation_id"]
            is_pubmed = r.get("source_type", "Pubmed").lower() in {"pubmed", ""}
            out.append(
                CivicRow(
                    line=line,
                    eid=eid,
                    profile=r["molecular_profile"],
                    gene=None,
                    variant=None,
                    variant_id=None,
                    disease=r["disease"],
                    therapies=therapies,
                    interaction=(r.get("therapy_interaction_type") or None),
                    evidence_type=r["evidence_type"],
                    direction=r["evidence_direction"],
                    level=r["evidence_level"],
                    significance=r["significance"],
                    statement=r["evidence_statement"],
                    pmid=cid if is_pubmed and cid.isdigit() else None,
                    citation=r.get("citation") or r.get("source_title", "") or cid,
                    rating=r.get("rating", ""),
                    status=r["evidence_status"],
                    url=r.get("evidence_civic_url", ""),
                )
            )
    return schema, out


def read_civic_variants(path: str | os.PathLike[str]) -> dict[str, CivicVariant]:
    """Read a 2018 ``VariantSummaries.tsv`` into ``variant_id -> CivicVariant``."""
    p = Path(path)
    header, rows = _read_table(p)
    missing = [c for c in _VARIANT_REQUIRED if c not in header]
    if missing:
        msg = f"not a CIViC VariantSummaries TSV: lacks column(s) {', '.join(missing)}"
        raise InputError(msg, path=p, line=1)
    out: dict[str, CivicVariant] = {}
    for _line, fields in rows:
        r = dict(zip(header, fields, strict=True))
        out[r["variant_id"]] = CivicVariant(
            variant_id=r["variant_id"],
            gene=r["gene"],
            name=r["variant"],
            chrom=r["chromosome"],
            start=int(r["start"]) if r["start"].isdigit() else None,
            stop=int(r["stop"]) if r["stop"].isdigit() else None,
            ref=r["reference_bases"].upper(),
            alt=r["variant_bases"].upper(),
            build=r.get("reference_build", ""),
            hgvs=tuple(h.strip() for h in r.get("hgvs_expressions", "").split(",") if h.strip()),
        )
    return out
