"""Findings written as text: ``--finding "ALK G1202R"`` and table cells.

Accepted forms (gene first, then the alteration in any spelling of
:mod:`kinresist.interpret.names`, then optional ``vaf=``/``cn=`` tokens)::

    ALK G1202R            ALK p.Gly1202Arg       ALK c.3604G>A       ALK 1151Tins
    ALK amplification     MET amp  cn=12         EML4-ALK v3         EML4::ALK E6;A20
    ALK G1202R vaf=0.12   ALK G1202R vaf=12%     EGFR activation     NF2 loss
    HER2 amplification    CDKN2A deletion        NF2 loss-of-function  HER2 overexpression
    EGFR exon 19 deletion  MET exon 14 skipping  KRAS mutation       MAP2K1 K57N
"""

from __future__ import annotations

import math
import re

from kinresist.errors import InputError
from kinresist.interpret.finding import Finding
from kinresist.interpret.names import (
    FusionName,
    _variant_token,
    is_amplification,
    is_cdna,
    is_expression,
    parse_alteration,
    parse_fusion,
)

__all__ = ["make_finding", "parse_finding", "parse_fraction"]

_BARE_VARIANT = re.compile(r"(?i)^(?:variant\s*\d{1,2}[ab]?|v\d{1,2}(?:[ab]|a/b)?)$")

_EXPECTED = (
    'expected "GENE ALTERATION" such as "ALK G1202R", "ALK p.Gly1202Arg", "ALK c.3604G>A", '
    '"ALK amplification" or "EML4-ALK v3"'
)


def parse_fraction(
    text: str, *, what: str = "VAF", path: str | None = None, line: int | None = None
) -> float:
    """``0.12``, ``12%`` -> 0.12; raises InputError outside [0, 1] (percent: [0, 100])."""
    t = text.strip()
    pct = t.endswith("%")
    try:
        v = float(t.rstrip("%").strip())
    except ValueError:
        msg = f"{what} {text!r} is not a number; expected a fraction 0-1 (or a percentage with %)"
        raise InputError(msg, path=path, line=line) from None
    if pct:
        v /= 100.0
    if not math.isfinite(v) or v < 0 or v > 1:
        msg = f"{what} {text!r} is outside 0-1; give a fraction (0.12) or a percentage with % (12%)"
        raise InputError(msg, path=path, line=line)
    return v


def make_finding(
    gene: str,
    alteration: str,
    *,
    vaf: float | None = None,
    copy_number: float | None = None,
    source: str = "",
    sample: str | None = None,
    path: str | None = None,
    line: int | None = None,
) -> Finding:
    """A Finding from a gene symbol and an alteration in any supported spelling.

    Every alias the KB uses parses (tested against the bundled KB): protein and cDNA
    changes, ``amplification``, ``loss`` / ``deletion`` / ``loss-of-function``,
    ``activation`` / ``overexpression`` / ``phospho-X``, exon classes, ``mutation``,
    fusion names and CIViC spellings. A leading gene name or alias repeated in the
    alteration (``"HER2 amplification"`` for ERBB2) is dropped. Gene aliases (``HER2``,
    ``FAK``) are resolved against the KB when the finding is matched.
    """
    gene = gene.strip().upper()
    alt = " ".join(alteration.strip().split())
    if not gene or not alt:
        msg = f"empty gene or alteration ({gene!r}, {alteration!r}); {_EXPECTED}"
        raise InputError(msg, path=path, line=line)
    finding = _finding_from_text(gene, alt, vaf, copy_number, source, sample)
    if finding is None and " " in alt:
        # "HER2 amplification", "EML4-ALK amplification", "ALK FUSION I1171": the first
        # word names the gene (or the fusion) again
        finding = _finding_from_text(gene, alt.split(" ", 1)[1], vaf, copy_number, source, sample)
    if finding is None:
        msg = f"cannot read alteration {alteration!r} of {gene}; {_EXPECTED}"
        raise InputError(msg, path=path, line=line)
    return finding


def _finding_from_text(
    gene: str,
    alt: str,
    vaf: float | None,
    copy_number: float | None,
    source: str,
    sample: str | None,
) -> Finding | None:
    if is_amplification(alt):
        return Finding(gene, "AMPLIFICATION", "amplification", vaf=vaf, copy_number=copy_number,
                       source=source, sample=sample)  # fmt: skip
    low = alt.lower()
    if is_expression(alt):  # before fusions: "phospho-EGFR" is not a PHOSPHO-EGFR fusion
        parsed_state = parse_alteration(alt)
        if parsed_state is not None:
            return Finding(
                gene, parsed_state.short, "expression", vaf=vaf, source=source, sample=sample
            )
    if low in {"fusion", "fusions", "rearrangement", "rearranged", "translocation"}:
        return Finding(gene, f"{gene} fusion", "fusion", vaf=vaf, source=source, sample=sample)
    fusion = parse_fusion(alt) if ("-" in alt or "::" in alt or " " in alt or ";" in alt) else None
    if fusion is None and gene == "ALK" and _BARE_VARIANT.match(alt):
        variant = _variant_token(alt)  # "variant 1", "v3a/b" (EML4-ALK variants)
        if variant is not None:
            fusion = FusionName("EML4", "ALK", variant)
    if fusion is not None and gene in {fusion.gene, fusion.partner}:
        return Finding(
            fusion.gene, fusion.short, "fusion", vaf=vaf, fusion_partner=fusion.partner or None,
            fusion_variant=fusion.variant, source=source, sample=sample,
        )  # fmt: skip
    parsed = parse_alteration(alt)
    if parsed is None:
        return None
    pc = parsed.protein
    if pc is not None and pc.kind != "codon":
        return Finding(gene, pc.short, pc.kind, vaf=vaf, copy_number=copy_number,
                       hgvs_p=pc.hgvs_p, source=source, sample=sample)  # fmt: skip
    hgvs_c = parsed.short if parsed.short.startswith("c.") and is_cdna(parsed.short) else None
    return Finding(gene, parsed.short, parsed.kind, vaf=vaf, copy_number=copy_number,
                   hgvs_c=hgvs_c, source=source, sample=sample)  # fmt: skip


def parse_finding(text: str, *, source: str = "cli", sample: str | None = None) -> Finding:
    """Parse ``"ALK G1202R"`` (or a fusion such as ``"EML4-ALK v3"``) into a Finding."""
    tokens = text.split()
    vaf: float | None = None
    cn: float | None = None
    rest: list[str] = []
    for tok in tokens:
        m = re.fullmatch(r"(?i)(vaf|af|cn|copy_number)=(.+)", tok)
        if m is None:
            rest.append(tok)
            continue
        key, value = m.group(1).lower(), m.group(2)
        if key in {"vaf", "af"}:
            vaf = parse_fraction(value, what=f"VAF in --finding {text!r}")
        else:
            try:
                cn = float(value)
            except ValueError:
                msg = f"copy number {value!r} in --finding {text!r} is not a number"
                raise InputError(msg) from None
            if not math.isfinite(cn) or cn < 0:
                msg = f"copy number {value!r} in --finding {text!r} must be >= 0"
                raise InputError(msg)
    if not rest:
        msg = f"--finding {text!r} is empty; {_EXPECTED}"
        raise InputError(msg)
    whole = " ".join(rest)
    fusion = parse_fusion(whole)
    if fusion is not None and fusion.partner and ("-" in rest[0] or "::" in rest[0]):
        return Finding(
            fusion.gene, fusion.short, "fusion", vaf=vaf, fusion_partner=fusion.partner,
            fusion_variant=fusion.variant, source=source, sample=sample,
        )  # fmt: skip
    if len(rest) < 2:
        msg = f"--finding {text!r} names no alteration; {_EXPECTED}"
        raise InputError(msg)
    return make_finding(
        rest[0], " ".join(rest[1:]), vaf=vaf, copy_number=cn, source=source, sample=sample
    )
