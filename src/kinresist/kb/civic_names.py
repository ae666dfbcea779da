"""Parse CIViC molecular-profile and 2018 variant names into alteration specifications.

Examples (gene given for the 2018 schema)::

    "EML4::ALK Fusion AND ALK L1198F AND ALK C1156Y"
        -> components ALK C1156Y, ALK L1198F; fusion context EML4-ALK
    "EML4::ALK e6::e20"                  -> fusion EML4-ALK v3
    "ALK G1269A AND v::ALK Fusion"       -> ALK G1269A; context "ALK fusion"
    ("ALK", "EML4-ALK C1156Y–L1196M")    -> ALK C1156Y + ALK L1196M; context EML4-ALK
    ("EGFR", "Ex19 del L858R")           -> EGFR EXON 19 DELETION + EGFR L858R
    "v::ALK Fusion OR v::ROS1 Fusion"    -> UnsupportedProfile("or_profile")

Nothing here touches the KB; :mod:`kinresist.kb.civic_import` resolves the specs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ParsedProfile", "UnsupportedProfile", "VariantSpec", "parse_2018", "parse_profile"]

_PARTNER_ALIASES = {"NPM": "NPM1"}
# EML4-ALK breakpoints -> variant names (spec section 6; v3a/b and v5a/b are not split by CIViC)
_EML4_VARIANTS = {"e13::e20": "v1", "e20::e20": "v2", "e6::e20": "v3", "e2::e20": "v5"}

_SUB = re.compile(r"^([A-Z])(\d+)([A-Z*])$")
_CODON = re.compile(r"^([A-Z])(\d+)$")
_RANGE_INDEL = re.compile(r"^([A-Z])(\d+)_([A-Z]?)(\d+)(DELINS|DEL|INS|DUP)([A-Z]*)$")
_POINT_INDEL = re.compile(r"^([A-Z])(\d+)(DELINS|DEL|INS|DUP)([A-Z]*)$")
_LEGACY_INS = re.compile(r"^(\d+)([A-Z])INS$")
_EXON = re.compile(r"^EXON (\d+) (MUTATION|DELETION|INSERTION|SKIPPING MUTATION|SKIPPING)$")
_EXON_RANGE = re.compile(r"^(?:EXON (\d+)-(\d+) DELETION|DEL(\d+)-(\d+))$")
_BREAKPOINT_2018 = re.compile(r"^E(\d+);A(\d+)$")
_BREAKPOINT = re.compile(r"^[eE](\d+)::[eE](\d+)$")
_FUSION_PART = re.compile(r"^(\S+)::(\S+) (.+)$")


class UnsupportedProfile(ValueError):
    """A profile the importer cannot represent; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """A parsed variant: enough to find it in the KB or to create it."""

    gene: str
    name: str
    kind: str
    codon: int | None = None
    ref_aa: str | None = None
    alt_aa: str | None = None
    exon: int | None = None
    fusion_partner: str | None = None
    fusion_variant: str | None = None
    original: str = ""


@dataclass(frozen=True, slots=True)
class ParsedProfile:
    components: tuple[VariantSpec, ...]
    fusion_context: str | None = None


def parse_variant(gene: str, text: str) -> VariantSpec:
    """One variant of ``gene`` (no fusion prefix): substitution, codon, indel, class..."""
    raw = " ".join(text.split())
    t = raw.upper()
    if m := _SUB.match(t):
        return VariantSpec(gene, t, "substitution", int(m[2]), m[1], m[3], original=raw)
    if m := _CODON.match(t):
        return VariantSpec(gene, f"{m[1]}{m[2]}X", "codon", int(m[2]), m[1], original=raw)
    if m := _RANGE_INDEL.match(t):
        kind = {"DEL": "deletion", "INS": "insertion", "DUP": "insertion", "DELINS": "delins"}[m[5]]
        name = f"{m[1]}{m[2]}_{m[3]}{m[4]}{m[5].lower()}{m[6]}"
        return VariantSpec(gene, name, kind, int(m[2]), m[1], original=raw)
    if m := _POINT_INDEL.match(t):
        kind = {"DEL": "deletion", "INS": "insertion", "DUP": "insertion", "DELINS": "delins"}[m[3]]
        return VariantSpec(
            gene, f"{m[1]}{m[2]}{m[3].lower()}{m[4]}", kind, int(m[2]), m[1], original=raw
        )
    if m := _LEGACY_INS.match(t):
        return VariantSpec(gene, f"{m[1]}{m[2]}ins", "insertion", int(m[1]), original=raw)
    if t in {"AMPLIFICATION", "AMP", "COPY NUMBER GAIN"}:
        return VariantSpec(gene, "AMPLIFICATION", "amplification", original=raw)
    if t in {"MUTATION", "MUTATIONS"}:
        return VariantSpec(gene, "MUTATION", "gene_mutation", original=raw)
    if t in {"WILDTYPE", "WILD TYPE", "WILD-TYPE"}:
        return VariantSpec(gene, "WILDTYPE", "wild_type", original=raw)
    if t in {"FUSION", "FUSIONS", "REARRANGEMENT"}:
        return VariantSpec(gene, f"{gene} fusion", "fusion", original=raw)
    if t.endswith(("EXPRESSION", "PHOSPHORYLATION")) or t == "ALTERNATIVE TRANSCRIPT (ATI)":
        return VariantSpec(gene, t, "expression", original=raw)
    if m := _EXON.match(t):
        kind = {"MUTATION": "exon", "DELETION": "deletion", "INSERTION": "insertion"}.get(
            m[2], "splice"
        )
        name = f"EXON {m[1]} {'SKIPPING' if kind == 'splice' else m[2]}"
        return VariantSpec(gene, name, kind, exon=int(m[1]), original=raw)
    if m := _EXON_RANGE.match(t):
        a, b = (m[1], m[2]) if m[1] else (m[3], m[4])
        return VariantSpec(gene, f"EXON {a}-{b} DELETION", "deletion", original=raw)
    if t == "EX19 DEL":
        return VariantSpec(gene, "EXON 19 DELETION", "deletion", exon=19, original=raw)
    raise UnsupportedProfile(reason="unparsed_variant", detail=f"{gene} {raw}")


def _fusion(partner: str, gene: str, detail: str | None, original: str) -> VariantSpec:
    partner = _PARTNER_ALIASES.get(partner.upper(), partner.upper())
    if partner in {"V", ""}:
        return VariantSpec(gene, f"{gene} fusion", "fusion", original=original)
    variant = None
    if detail:
        d = detail.strip()
        if m := _BREAKPOINT_2018.match(d.upper()):
            d = f"e{m[1]}::e{m[2]}"
        if m := _BREAKPOINT.match(d):
            key = f"e{m[1]}::e{m[2]}"
            variant = _EML4_VARIANTS.get(key) if partner == "EML4" and gene == "ALK" else key
        elif d.upper() != "FUSION":
            msg = f"fusion detail {detail!r}"
            raise UnsupportedProfile(reason="unparsed_variant", detail=msg)
    name = f"{partner}-{gene}" + (f" {variant}" if variant else "")
    return VariantSpec(
        gene, name, "fusion", fusion_partner=partner, fusion_variant=variant, original=original
    )


def _context(spec: VariantSpec) -> str:
    return spec.name if spec.fusion_partner else f"{spec.gene} fusion"


def _assemble(fusions: list[VariantSpec], others: list[VariantSpec]) -> ParsedProfile:
    if not others:
        if len(fusions) != 1:
            raise UnsupportedProfile(
                reason="unparsed_variant", detail=" AND ".join(f.original for f in fusions)
            )
        return ParsedProfile((fusions[0],))
    context = " / ".join(_context(f) for f in fusions) or None
    return ParsedProfile(tuple(others), context)


def parse_profile(name: str) -> ParsedProfile:
    """A current-schema molecular-profile name (``A AND B``; ``OR`` is unsupported)."""
    text = " ".join(name.split())
    if " OR " in f" {text} ":
        raise UnsupportedProfile(reason="or_profile", detail=text)
    fusions: list[VariantSpec] = []
    others: list[VariantSpec] = []
    for part in text.split(" AND "):
        if m := _FUSION_PART.match(part):
            detail = None if m[3].lower() == "fusion" else m[3]
            fusions.append(_fusion(m[1], m[2].upper(), detail, part))
            continue
        gene, _, rest = part.partition(" ")
        if not rest:
            raise UnsupportedProfile(reason="unparsed_variant", detail=part)
        others.append(parse_variant(gene.upper(), rest))
    return _assemble(fusions, others)


_SPLIT_2018 = re.compile(r"\s*(?:–|—|\+|(?<=[A-Z0-9])-(?=[A-Z]\d))\s*")


def parse_2018(gene: str, variant: str) -> ParsedProfile:
    """A 2018-schema variant name of ``gene``, e.g. ``EML4-ALK C1156Y–L1196M``."""
    g = gene.upper()
    text = " ".join(variant.split())
    t = text.upper()
    if "/" in t and re.fullmatch(r"[A-Z]\d+(/[A-Z]\d+)+", t):
        raise UnsupportedProfile(reason="or_profile", detail=f"{g} {text}")
    fusions: list[VariantSpec] = []
    rest = t
    if m := re.match(rf"^(\S+)-{g}\b\s*(.*)$", t):
        partner, rest = m[1], m[2]
        detail = (
            rest if rest and (_BREAKPOINT_2018.match(rest) or _BREAKPOINT.match(rest)) else None
        )
        fusions.append(_fusion(partner, g, detail, text))
        if detail:
            rest = ""
    elif m := re.match(rf"^{g} FUSIONS?\b\s*(.*)$", t):
        fusions.append(VariantSpec(g, f"{g} fusion", "fusion", original=text))
        rest = m[1]
    if rest.startswith("EX19 DEL "):
        parts = ["EX19 DEL", rest[len("EX19 DEL ") :]]
    else:
        parts = [p for p in _SPLIT_2018.split(rest) if p] if rest else []
    others = [parse_variant(g, p) for p in parts]
    if not fusions and not others:
        raise UnsupportedProfile(reason="unparsed_variant", detail=f"{g} {text}")
    return _assemble(fusions, others)
