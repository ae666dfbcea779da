"""One canonical alteration key, shared by every workflow and the store.

Interpretation findings, ddPCR assay targets, NGS calls, copy number, a cell line's genotype
(dose, synergy, blots) all name alterations their own way. They meet in the store only through
:class:`AlterationKey`, made by :func:`alteration_key` on top of the knowledge base's name
normaliser (:mod:`kinresist.interpret.names`)::

    ALK p.Gly1202Arg   ->  ALK G1202R      (kind "mutation")
    G1202R (VEP CSQ)   ->  ALK G1202R
    ALK_G1202R_FAM     ->  ALK G1202R      (ddPCR assay name, via parse_target)
    EML4-ALK E6;A20    ->  ALK EML4-ALK v3a (kind "fusion")
    MET amp            ->  MET amplification (kind "copy_number")
    NF2 loss           ->  NF2 loss          (kind "copy_number")
    EGFR overexpression->  EGFR overexpression (kind "expression")

Unknown names stay unknown: :func:`alteration_key` returns ``None`` for anything it cannot
parse as a whole (it never guesses that a substring ``del`` means a deletion).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = [
    "AlterationClass",
    "AlterationKey",
    "alteration_key",
    "normalise_gene",
    "parse_target",
]

AlterationClass = Literal["mutation", "fusion", "copy_number", "expression"]

_COPY_GAIN = {
    "amplification",
    "amp",
    "amplified",
    "gain",
    "copy gain",
    "copy number gain",
    "copy-number gain",
    "copy number amplification",
    "focal amplification",
    "cn gain",
}
_COPY_LOSS = {
    "loss",
    "deletion",
    "gene deletion",
    "homozygous deletion",
    "deep deletion",
    "copy loss",
    "copy number loss",
    "copy-number loss",
    "cn loss",
}
_EXPRESSION = {
    "overexpression": "overexpression",
    "over-expression": "overexpression",
    "high expression": "overexpression",
    "upregulation": "overexpression",
    "up-regulation": "overexpression",
    "expression": "overexpression",
    "activation": "activation",
    "activated": "activation",
    "phosphorylation": "activation",
    "hyperactivation": "activation",
}
_LOF = {"loss-of-function", "loss of function", "lof", "inactivation", "inactivating mutation"}
_GENE_WORDS = {"mutation", "mutant", "any mutation", "mutated"}
#: ddPCR / probe words that are not part of an alteration name.
_PROBE_WORDS = {
    "fam",
    "hex",
    "vic",
    "cy5",
    "cy5.5",
    "rox",
    "tex615",
    "ch1",
    "ch2",
    "ch3",
    "ch4",
    "ch5",
    "ch6",
    "mut",
    "mutant",
    "probe",
    "assay",
    "ddpcr",
}
_WILD_TYPE = {"wt", "wildtype", "wild-type", "wild_type", "ref", "reference"}
_GENE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}(-[0-9])?$")


@dataclass(frozen=True, slots=True, order=True)
class AlterationKey:
    """The canonical name of an alteration: ``gene`` + normalised ``name``.

    ``str(key)`` (``"ALK G1202R"``) is what the store indexes and what every output carries.
    """

    gene: str
    name: str
    kind: AlterationClass = "mutation"

    def __str__(self) -> str:
        return f"{self.gene} {self.name}"

    @property
    def text(self) -> str:
        return str(self)


@lru_cache(maxsize=4096)
def normalise_gene(symbol: str) -> str | None:
    """HGNC symbol of ``symbol`` or an alias (``HER2`` -> ``ERBB2``, ``FAK`` -> ``PTK2``).

    Symbols the KB does not know are kept (upper-cased) when they look like a gene symbol;
    anything else gives None.
    """
    s = symbol.strip()
    if not s:
        return None
    from kinresist.kb import load_kb

    gene = load_kb().gene(s)
    if gene is not None:
        return gene.symbol
    up = s.upper()
    return up if _GENE_RE.match(up) else None


def _words(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


@lru_cache(maxsize=16384)
def alteration_key(gene: str | None, alteration: str) -> AlterationKey | None:
    """The canonical key of ``alteration`` in ``gene``; None when it cannot be named.

    ``gene`` may be None when ``alteration`` starts with it (``"ALK G1202R"``) or is a fusion
    (``"EML4-ALK v1"``). Protein changes, fusions, copy-number states, expression states,
    exon-level changes and cDNA changes are recognised; nothing is guessed from substrings.

    Examples
    --------
    >>> str(alteration_key("ALK", "p.Gly1202Arg"))
    'ALK G1202R'
    >>> str(alteration_key(None, "EML4-ALK E6;A20"))
    'ALK EML4-ALK v3a'
    >>> alteration_key("ALK", "something odd") is None
    True
    """
    from kinresist.interpret.names import (
        is_cdna,
        normalise_cdna,
        parse_fusion,
        parse_protein,
    )

    text = " ".join(alteration.strip().split())
    if not text:
        return None
    g = normalise_gene(gene) if gene else None
    if gene and g is None:
        return None
    fusion = parse_fusion(text)
    if fusion is not None and any(
        parse_protein(part) is not None for part in (fusion.gene, fusion.partner) if part
    ):
        fusion = None  # "ALK-G1202R" is a gene and a protein change, not a fusion
    if fusion is not None and (g is None or g in (fusion.gene, fusion.partner)):
        kinase = normalise_gene(fusion.gene) or fusion.gene
        partner = (normalise_gene(fusion.partner) or fusion.partner) if fusion.partner else ""
        name = f"{partner}-{kinase}" if partner else "fusion"
        if fusion.variant:
            name += f" {fusion.variant}"
        return AlterationKey(kinase, name, "fusion")
    if g is None:
        head, _, rest = text.partition(" ")
        if not rest:
            return None
        g = normalise_gene(head)
        if g is None:
            return None
        return alteration_key(g, rest)
    # strip a leading repeat of the gene ("ALK G1202R" given gene ALK)
    head, _, rest = text.partition(" ")
    if rest and normalise_gene(head) == g:
        text = rest
    w = _words(text)
    if w in _COPY_GAIN:
        return AlterationKey(g, "amplification", "copy_number")
    if w in _COPY_LOSS:
        return AlterationKey(g, "loss", "copy_number")
    if w in _EXPRESSION:
        return AlterationKey(g, _EXPRESSION[w], "expression")
    if w in _LOF:
        return AlterationKey(g, "loss-of-function", "mutation")
    if w in _GENE_WORDS:
        return AlterationKey(g, "mutation", "mutation")
    if m := re.fullmatch(r"exon (\d+) (deletion|insertion|skipping|mutation|duplication)", w):
        return AlterationKey(g, f"exon {int(m.group(1))} {m.group(2)}", "mutation")
    protein = parse_protein(text)
    if protein is not None:
        return AlterationKey(g, protein.short, "mutation")
    if is_cdna(text):
        c = normalise_cdna(text)
        from kinresist.kb import load_kb

        hits = load_kb().find_alterations(g, c)
        if len(hits) == 1 and parse_protein(hits[0].name) is not None:
            return AlterationKey(g, parse_protein(hits[0].name).short, "mutation")  # type: ignore[union-attr]
        return AlterationKey(g, c, "mutation")
    return None


def parse_target(target: str) -> tuple[str | None, AlterationKey | None, bool]:
    """Split an assay target name into ``(gene, key, is_wild_type)``.

    Handles ddPCR/qPCR assay spellings: ``ALK_G1202R_FAM``, ``ALK G1202R``, ``ALK-G1202R``,
    ``G1202R (ALK)``, ``ALK_WT_HEX``. Probe colours and channel words are dropped. A
    wild-type/reference assay gives ``(gene, None, True)``; an unparsable name
    ``(gene_or_None, None, False)``.
    """
    t = target.strip()
    if m := re.fullmatch(r"(.+?)\s*\(\s*([A-Za-z0-9-]+)\s*\)", t):
        t = f"{m.group(2)} {m.group(1)}"
    # a fusion name keeps its dash
    whole = alteration_key(None, t)
    if whole is not None:
        return whole.gene, whole, False
    tokens = [x for x in re.split(r"[\s_:/|]+", t) if x]
    tokens = [x for x in tokens if x.lower() not in _PROBE_WORDS]
    if len(tokens) == 1 and "-" in tokens[0]:
        tokens = tokens[0].split("-", 1)
    if not tokens:
        return None, None, False
    gene = normalise_gene(tokens[0])
    if gene is None:
        return None, None, False
    rest = tokens[1:]
    if rest and all(x.lower() in _WILD_TYPE for x in rest):
        return gene, None, True
    if not rest:
        return gene, None, False
    # "EGFR_E746_A750del": the underscore may belong to the change itself
    key = alteration_key(gene, " ".join(rest)) or alteration_key(gene, "_".join(rest))
    return gene, key, False
