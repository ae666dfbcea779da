"""Amino-acid codes: the one table used by the KB and the name normaliser."""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["AA1", "AA3_TO_1"]

#: Three-letter (HGVS) -> one-letter amino-acid codes, incl. Sec/Pyl, stop (Ter) and Xaa.
AA3_TO_1 = MappingProxyType(
    {
        "Ala": "A",
        "Arg": "R",
        "Asn": "N",
        "Asp": "D",
        "Cys": "C",
        "Gln": "Q",
        "Glu": "E",
        "Gly": "G",
        "His": "H",
        "Ile": "I",
        "Leu": "L",
        "Lys": "K",
        "Met": "M",
        "Phe": "F",
        "Pro": "P",
        "Ser": "S",
        "Thr": "T",
        "Trp": "W",
        "Tyr": "Y",
        "Val": "V",
        "Sec": "U",
        "Pyl": "O",
        "Ter": "*",
        "Xaa": "X",
    }
)
#: One-letter amino-acid codes (no stop), as a regex character class body.
AA1 = "ACDEFGHIKLMNPQRSTVWYUOX"
