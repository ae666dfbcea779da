"""MAF findings (GDC / cBioPortal Mutation Annotation Format).

Columns used: ``Hugo_Symbol``, ``HGVSp_Short`` (else ``HGVSp``), ``HGVSc``,
``t_alt_count`` with ``t_depth`` (or ``t_ref_count``) for the VAF, and
``Chromosome``, ``Start_Position``, ``Reference_Allele``, ``Tumor_Seq_Allele2``,
``NCBI_Build`` for coordinate matching when there is no protein change. MAF
insertions (``Reference_Allele`` ``-``, ``Start_Position`` = base before) and
deletions (``Tumor_Seq_Allele2`` ``-``) are converted to anchor-less alleles.
Only genes the KB knows become findings.

Refused (``InputError`` naming file, line, column): a header without mutation rows (not "no
resistance mechanism"), counts that are not non-negative whole numbers (``inf``, ``-3``,
``2.5``), alt reads above the depth (alt > 0 at depth 0 included), the same sample x gene x
change twice with different VAFs (identical copies are kept once with a warning).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from kinresist.errors import InputError
from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.finding import Finding
from kinresist.interpret.names import normalise_cdna, parse_protein
from kinresist.interpret.readers._textio import read_delimited
from kinresist.interpret.readers._validate import Duplicates, no_records, parse_count
from kinresist.kb.coordinates import normalise_chrom, normalise_genome
from kinresist.kb.model import GenomicAllele

__all__ = ["read_maf"]

_REQUIRED = ("hugo_symbol",)


def read_maf(path: str | PathLike[str], *, genome: str | None = None, kb: Any) -> list[Finding]:
    """Findings of a MAF file (see the module docstring)."""
    p = Path(path)
    idx = kb if isinstance(kb, KBIndex) else KBIndex.from_kb(kb)
    header, rows = read_delimited(p)
    for col in _REQUIRED:
        if col not in header:
            msg = f"no {col!r} column; expected a MAF with Hugo_Symbol, HGVSp_Short, t_alt_count, t_depth..."
            raise InputError(msg, path=p)
    if not rows:
        raise no_records(p, "mutation rows")
    out: list[Finding] = []
    dups = Duplicates(p, "MAF row")
    for n, row in rows:
        gene = row["hugo_symbol"].strip().upper()
        vaf = _vaf(row, p, n)  # every row's counts are checked, not only the KB genes'
        if gene not in idx.genes:
            continue
        hgvs_p = (row.get("hgvsp_short") or row.get("hgvsp") or "").strip()
        hgvs_p = hgvs_p.split(":", 1)[-1]
        hgvs_c = (row.get("hgvsc") or "").strip()
        hgvs_c = normalise_cdna(hgvs_c) if hgvs_c else ""
        build_text = (row.get("ncbi_build") or genome or "").strip()
        allele = None
        build = None
        if build_text and row.get("chromosome") and row.get("start_position"):
            try:
                build = normalise_genome(build_text)
            except ValueError:
                msg = f"NCBI_Build {build_text!r}; expected GRCh37 or GRCh38"
                raise InputError(msg, path=p, line=n, column="NCBI_Build") from None
            try:
                start = int(row["start_position"])
            except ValueError:
                start = -1
            if start < 1:
                msg = f"Start_Position {row['start_position']!r} is not a positive integer"
                raise InputError(msg, path=p, line=n, column="Start_Position")
            ref = row.get("reference_allele", "").upper()
            alt = (row.get("tumor_seq_allele2") or row.get("tumor_seq_allele1") or "").upper()
            for what, bases in (("Reference_Allele", ref), ("Tumor_Seq_Allele2", alt)):
                if bases != "-" and (not bases or set(bases) - set("ACGTN")):
                    msg = f"{what} {bases!r} has characters other than A, C, G, T, N or '-'"
                    raise InputError(msg, path=p, line=n, column=what)
            if ref == "-":
                allele = GenomicAllele(normalise_chrom(row["chromosome"]), start + 1, "", alt)
            elif alt == "-":
                allele = GenomicAllele(normalise_chrom(row["chromosome"]), start, ref, "")
            else:
                allele = GenomicAllele(normalise_chrom(row["chromosome"]), start, ref, alt)
        pc = parse_protein(hgvs_p) if hgvs_p else None
        source = f"maf:{p.name}:{n}"
        sample = row.get("tumor_sample_barcode") or None
        change = (pc.short if pc is not None else None) or allele or hgvs_c
        if change and dups.seen(
            (sample, gene, change),
            vaf,
            line=n,
            describe=f"{sample or ''} {gene} {hgvs_p or hgvs_c}".strip(),
        ):
            continue
        if pc is not None:
            out.append(Finding(gene, pc.short, pc.kind, vaf=vaf, hgvs_c=hgvs_c or None, hgvs_p=pc.hgvs_p,
                               genomic=allele, genome=build, source=source, sample=sample))  # fmt: skip
            continue
        if allele is not None and build is not None:
            hits = [a for a in idx.find_by_genomic(build, allele) if a.gene == gene]
            if hits:
                kb_alt = hits[0]
                out.append(Finding(gene, kb_alt.name, kb_alt.kind, vaf=vaf, hgvs_c=hgvs_c or None, hgvs_p=kb_alt.hgvs_p,
                                   genomic=allele, genome=build, source=source, sample=sample))  # fmt: skip
                continue
        if hgvs_c:
            out.append(Finding(gene, hgvs_c, "substitution" if ">" in hgvs_c else "delins", vaf=vaf, hgvs_c=hgvs_c,
                               genomic=allele, genome=build, source=source, sample=sample))  # fmt: skip
    dups.finish()
    return out


def _vaf(row: dict[str, str], p: Path, n: int) -> float | None:
    """VAF from ``t_alt_count`` / ``t_depth`` (else alt + ``t_ref_count``); counts are
    non-negative whole numbers and alt reads never exceed the depth."""
    alt_n = parse_count(row.get("t_alt_count", ""), what="t_alt_count", path=p, line=n)
    depth = parse_count(row.get("t_depth", ""), what="t_depth", path=p, line=n)
    if alt_n is None:
        return None
    if depth is None:
        ref_n = parse_count(row.get("t_ref_count", ""), what="t_ref_count", path=p, line=n)
        depth = None if ref_n is None else alt_n + ref_n
    if depth is None:
        return None
    if alt_n > depth:
        msg = (
            f"t_alt_count {alt_n} exceeds t_depth {depth} (alt reads cannot exceed the reads "
            "covering the position); check the count columns"
        )
        raise InputError(msg, path=p, line=n, column="t_alt_count")
    return alt_n / depth if depth > 0 else None
