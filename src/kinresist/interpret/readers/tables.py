"""Simple tabular findings (CSV/TSV): findings, fusion calls and copy-number calls.

Column names are case-insensitive; accepted aliases are listed per reader.

* findings: ``gene``, ``alteration`` (``variant``, ``protein_change``, ``hgvsp``,
  ``hgvs_p``, ``hgvsc``), optional ``vaf`` (``af``; ``12%`` or 0.12), ``copy_number``
  (``cn``), ``sample``.
* fusions: ``fusion`` (``EML4-ALK v3``) or ``partner`` (``gene5``, ``5_prime``) +
  ``gene`` (``gene3``, ``3_prime``, ``kinase``) with ``variant`` or breakpoint exons
  (``partner_exon``/``exon5`` and ``gene_exon``/``exon3``); optional ``sample``, ``vaf``.
* copy number: ``gene``, ``copy_number`` (``cn``) or ``log2`` (cn = 2 x 2^log2), optional
  ``call``. A row is a gain when ``call`` says amplification/amp/gain; without a call,
  when the copy number is >= :data:`GAIN_COPY_NUMBER`. Losses and neutral rows are
  not findings.

Every reader refuses a header without rows, and the same finding twice with different values
(identical copies are kept once, with a warning); see :mod:`._validate`.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

from kinresist.errors import InputError
from kinresist.interpret.finding import Finding
from kinresist.interpret.names import FUSION_EXONS_TO_VARIANT, is_amplification, parse_fusion
from kinresist.interpret.readers._textio import read_delimited
from kinresist.interpret.readers._validate import Duplicates, no_records
from kinresist.interpret.readers.text import make_finding, parse_fraction

__all__ = ["GAIN_COPY_NUMBER", "read_cnv", "read_findings_table", "read_fusions"]

#: Copy number from which a gene without a call is reported as gained/amplified.
GAIN_COPY_NUMBER = 4.0


def _col(header: list[str], *names: str) -> str | None:
    for n in names:
        if n in header:
            return n
    return None


def _need(header: list[str], path: Path, what: str, *names: str) -> str:
    c = _col(header, *names)
    if c is None:
        msg = f"no {what} column; expected one of {', '.join(names)} (found: {', '.join(header)})"
        raise InputError(msg, path=path, line=1)
    return c


def _number(text: str, what: str, path: Path, line: int) -> float | None:
    if text in {"", ".", "NA", "nan", "NaN"}:
        return None
    try:
        v = float(text)
    except ValueError:
        msg = f"{what} {text!r} is not a number"
        raise InputError(msg, path=path, line=line, column=what) from None
    if not math.isfinite(v):
        msg = f"{what} {text!r} is not finite"
        raise InputError(msg, path=path, line=line, column=what)
    return v


def read_findings_table(path: str | PathLike[str]) -> list[Finding]:
    """Findings from a simple CSV/TSV (gene, alteration, vaf, copy_number, sample)."""
    p = Path(path)
    header, rows = read_delimited(p)
    gcol = _need(header, p, "gene", "gene", "hugo_symbol", "symbol")
    acol = _need(
        header,
        p,
        "alteration",
        "alteration",
        "variant",
        "protein_change",
        "hgvsp",
        "hgvs_p",
        "hgvsc",
        "hgvs_c",
    )
    vcol = _col(header, "vaf", "af", "allele_fraction")
    ccol = _col(header, "copy_number", "cn")
    scol = _col(header, "sample", "sample_id")
    if not rows:
        raise no_records(p, "findings")
    dups = Duplicates(p, "finding")
    out = []
    for n, row in rows:
        vaf = None
        if vcol and row[vcol] not in {"", ".", "NA"}:
            vaf = parse_fraction(row[vcol], what="vaf", path=str(p), line=n)
        cn = _number(row[ccol], "copy_number", p, n) if ccol else None
        if cn is not None and cn < 0:
            msg = f"copy_number {cn:g} is negative"
            raise InputError(msg, path=p, line=n, column="copy_number")
        f = make_finding(row[gcol], row[acol], vaf=vaf, copy_number=cn, source=f"table:{p.name}:{n}",
                         sample=(row[scol] or None) if scol else None, path=str(p), line=n)  # fmt: skip
        raw_key = (f.sample, row[gcol].strip().upper(), " ".join(row[acol].lower().split()))
        if dups.seen(raw_key, (vaf, cn), line=n, describe=f"{f.gene} {row[acol].strip()}"):
            continue
        out.append(f)
    dups.finish()
    return out


def read_fusions(path: str | PathLike[str]) -> list[Finding]:
    """Fusion calls (partner, gene, variant or breakpoint exons; or a ``fusion`` name)."""
    p = Path(path)
    header, rows = read_delimited(p)
    fcol = _col(header, "fusion", "fusion_name", "name")
    pcol = _col(header, "partner", "gene5", "5_prime", "five_prime", "gene_5", "5'gene")
    gcol = _col(header, "gene", "gene3", "3_prime", "three_prime", "gene_3", "kinase", "3'gene")
    vcol = _col(header, "variant", "fusion_variant")
    pe = _col(header, "partner_exon", "exon5", "5_prime_exon", "gene5_exon")
    ge = _col(header, "gene_exon", "exon3", "3_prime_exon", "gene3_exon")
    scol = _col(header, "sample", "sample_id")
    vafcol = _col(header, "vaf", "af")
    if fcol is None and (pcol is None or gcol is None):
        msg = f"expected a 'fusion' column or 'partner' and 'gene' columns (found: {', '.join(header)})"
        raise InputError(msg, path=p, line=1)
    if not rows:
        raise no_records(p, "fusion calls")
    dups = Duplicates(p, "fusion call")
    out = []
    for n, row in rows:
        if fcol is not None and row[fcol]:
            parsed = parse_fusion(row[fcol])
            if parsed is None:
                msg = f"cannot read fusion {row[fcol]!r}; expected e.g. 'EML4-ALK v3', 'EML4::ALK' or 'EML4-ALK E6;A20'"
                raise InputError(msg, path=p, line=n, column=fcol)
            partner, gene, variant = parsed.partner, parsed.gene, parsed.variant
        else:
            partner, gene = row[pcol or ""].upper(), row[gcol or ""].upper()
            variant = None
        if vcol and row.get(vcol):
            v = row[vcol].strip()
            variant = v if v.lower().startswith("v") else f"v{v}"
        elif pe and ge and row.get(pe) and row.get(ge):
            key = (
                row[pe].lower().removeprefix("e").removeprefix("xon").strip(),
                row[ge].lower().removeprefix("a").removeprefix("e").removeprefix("xon").strip(),
            )
            variant = (
                FUSION_EXONS_TO_VARIANT.get(key) if partner == "EML4" and gene == "ALK" else None
            )
            if variant is None:
                variant = f"E{key[0]};A{key[1]}"
        if not gene:
            msg = "empty 3' (kinase) gene"
            raise InputError(msg, path=p, line=n)
        name = f"{partner}-{gene}" if partner else f"{gene} fusion"
        if variant:
            name += f" {variant}"
        vaf = (
            parse_fraction(row[vafcol], what="vaf", path=str(p), line=n)
            if vafcol and row[vafcol]
            else None
        )
        sample = (row[scol] or None) if scol else None
        if dups.seen((sample, gene, name), vaf, line=n, describe=name):
            continue
        out.append(
            Finding(gene, name, "fusion", vaf=vaf, fusion_partner=partner or None, fusion_variant=variant,
                    source=f"fusions:{p.name}:{n}", sample=sample)
        )  # fmt: skip
    dups.finish()
    return out


def read_cnv(path: str | PathLike[str]) -> list[Finding]:
    """Copy-number gains/amplifications (gene, copy_number or log2, call)."""
    p = Path(path)
    header, rows = read_delimited(p)
    gcol = _need(header, p, "gene", "gene", "symbol", "hugo_symbol")
    ccol = _col(header, "copy_number", "cn")
    lcol = _col(header, "log2", "log2_ratio", "log2ratio")
    callcol = _col(header, "call", "status", "cnv_call")
    scol = _col(header, "sample", "sample_id")
    if ccol is None and lcol is None and callcol is None:
        msg = f"expected a copy_number, log2 or call column (found: {', '.join(header)})"
        raise InputError(msg, path=p, line=1)
    if not rows:
        raise no_records(p, "copy-number rows")
    dups = Duplicates(p, "copy-number row")
    out = []
    for n, row in rows:
        cn = _number(row[ccol], "copy_number", p, n) if ccol else None
        if cn is None and lcol:
            lg = _number(row[lcol], "log2", p, n)
            cn = None if lg is None else 2.0 * 2.0**lg
        if cn is not None and cn < 0:
            msg = f"copy_number {cn:g} is negative"
            raise InputError(msg, path=p, line=n, column="copy_number")
        call = row[callcol].strip() if callcol else ""
        if call:
            gained = is_amplification(call)
            if not gained and call.lower() not in {
                "loss",
                "deletion",
                "del",
                "neutral",
                "normal",
                "homdel",
                "0",
                "-1",
                "-2",
                "1",
                "2",
            }:
                msg = f"call {call!r} not understood; expected amplification/amp/gain, loss/deletion or neutral"
                raise InputError(msg, path=p, line=n, column=callcol)
            if call in {"1", "2"}:
                gained = True  # GISTIC-style: 1 gain, 2 amplification
        else:
            gained = cn is not None and cn >= GAIN_COPY_NUMBER
        gene = row[gcol].strip().upper()
        if not gene:
            msg = "empty gene"
            raise InputError(msg, path=p, line=n, column=gcol)
        sample = (row[scol] or None) if scol else None
        if dups.seen((sample, gene), (cn, call), line=n, describe=f"{gene} copy number"):
            continue
        if gained:
            out.append(
                Finding(gene, "AMPLIFICATION", "amplification", copy_number=cn,
                        source=f"cnv:{p.name}:{n}", sample=sample)
            )  # fmt: skip
    dups.finish()
    return out
