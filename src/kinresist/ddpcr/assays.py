"""Assay names -> (gene, short alteration), using the knowledge base when it is installed.

QuantaSoft target names are free text (``ALK_G1202R``, ``EGFR T790M FAM``, ``KRAS G12C mut``).
The small parser here finds a known gene symbol and a protein change ``[A-Z]\\d+[A-Z*]`` (or
``del``/``ins`` forms); when ``kinresist.kb.load_kb`` exists the pair is checked against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["AssayTarget", "parse_assay_name"]

GENES = (
    "ALK",
    "EGFR",
    "KRAS",
    "NRAS",
    "BRAF",
    "MET",
    "ERBB2",
    "HER2",
    "KIT",
    "PIK3CA",
    "ROS1",
    "RET",
    "STAT3",
    "MAPK7",
    "ERK5",
    "PTK2",
    "FAK",
    "MAP2K1",
    "NTRK1",
)
_ALIAS = {"HER2": "ERBB2", "ERK5": "MAPK7", "FAK": "PTK2"}
_CHANGE = re.compile(
    r"(?<![A-Za-z0-9])([ACDEFGHIKLMNPQRSTVWY]\d{1,4}(?:[ACDEFGHIKLMNPQRSTVWY*]|_[A-Z]\d+del|del|dup|ins[A-Z]*)?)(?![a-z0-9])"
)


@dataclass(frozen=True)
class AssayTarget:
    """A parsed assay name; ``gene``/``alteration`` are None when not recognised."""

    assay: str
    gene: str | None
    alteration: str | None
    in_kb: bool | None  # None: KB not available
    kb_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.gene} {self.alteration}" if self.gene and self.alteration else self.assay


def _kb_lookup(gene: str, alteration: str) -> tuple[bool | None, str | None, str]:
    """(in KB?, KB alteration id, KB short name); (None, None, alteration) when no KB is usable."""
    from kinresist.errors import KnowledgeBaseError
    from kinresist.kb import load_kb

    try:
        found = load_kb().find_alterations(gene, alteration)
    except KnowledgeBaseError:  # a broken user overlay: the assay stays "not mapped"
        return None, None, alteration
    if not found:
        return False, None, alteration
    return True, str(found[0].id), str(found[0].name)


def parse_assay_name(name: str) -> AssayTarget:
    """``'ALK_G1202R'`` -> AssayTarget('ALK_G1202R', 'ALK', 'G1202R', in_kb)."""
    text = (name or "").strip()
    up = re.sub(r"[_\-./]", " ", text).upper()
    gene = next((g for g in GENES if re.search(rf"(?<![A-Z0-9]){g}(?![A-Z0-9])", up)), None)
    alt = None
    if gene is not None:
        rest = re.sub(rf"(?<![A-Z0-9]){gene}(?![A-Z0-9])", " ", up)
        m = _CHANGE.search(rest)
        if m:
            alt = m.group(1)
        elif re.search(r"EX(ON)?\s*19\s*DEL", rest):
            alt = "exon 19 deletion"
    gene = _ALIAS.get(gene, gene) if gene else None
    if gene and alt:
        in_kb, kb_id, name = _kb_lookup(gene, alt)
        return AssayTarget(text, gene, name if in_kb else alt, in_kb, kb_id)
    return AssayTarget(text, gene, alt, None)
