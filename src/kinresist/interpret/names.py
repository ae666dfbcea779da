"""Name normalisation: many spellings of one alteration -> one short form.

Protein changes are reduced to one-letter HGVS-like short forms without ``p.``:

=============================  ==============
input                          short form
=============================  ==============
``p.Gly1202Arg``, ``G1202R``   ``G1202R``
``p.(Gly1202Arg)``             ``G1202R``
``1151Tins``, ``p.Thr1151dup`` ``T1151dup``
``p.Gly1202del``               ``G1202del``
``E746_A750del``               ``E746_A750del``
``p.Leu858_Arg859delinsGln``   ``L858_R859delinsQ``
``p.Gly1202fs*12``             ``G1202fs``
``p.Gly1202Ter``               ``G1202*``
``G1202X``                     ``G1202X`` (codon-level)
=============================  ==============

Copy-number words (``amplification``, ``amp``, ``gain``, ``amplified``, ``copy number
gain``) become ``AMPLIFICATION``. Fusions (``EML4-ALK v3``, ``EML4::ALK``,
``EML4-ALK E6;A20``, ``EML4 exon 6 - ALK exon 20``) become ``EML4-ALK v3a`` etc.
cDNA changes (``c.3604G>A``) are kept as cDNA here; the knowledge base maps them to
protein changes (:mod:`kinresist.interpret.resolve`).

The legacy insertion name ``1151Tins`` (an extra Thr after codon 1151, where
residue 1151 is Thr) is, by HGVS's 3' rule, the duplication ``T1151dup``; the
rule ``<n><X>ins -> X<n>dup`` assumes residue ``n`` is ``X`` (there is no
reference protein here to check it), as Lin et al. 2017 spell it (``I1151Tins``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kinresist.kb.aminoacids import AA1, AA3_TO_1
from kinresist.kb.model import AlterationKind

__all__ = [
    "AA3_TO_1",
    "FUSION_EXONS_TO_VARIANT",
    "FusionName",
    "ParsedAlteration",
    "ProteinChange",
    "is_amplification",
    "is_cdna",
    "is_expression",
    "is_loss",
    "normalise_cdna",
    "parse_alteration",
    "parse_fusion",
    "parse_protein",
]

_AA1 = AA1
_AA3_RE = re.compile("|".join(AA3_TO_1))

#: (5' partner exon, ALK exon) -> EML4-ALK variant (knowledge-base spec section 6).
FUSION_EXONS_TO_VARIANT: dict[tuple[str, str], str] = {
    ("13", "20"): "v1",
    ("20", "20"): "v2",
    ("6", "20"): "v3a",
    ("6b", "20"): "v3b",
    ("2", "20"): "v5a",
    ("6ins33", "20"): "v3b",  # EML4 exon 6 + 33 bp of intron 6 ("exon 6b")
    ("2ins117", "20"): "v5b",  # EML4 exon 2 + 117 bp of ALK intron 19
}

_AMP_WORDS = {
    "amplification",
    "amp",
    "amplified",
    "gain",
    "cn gain",
    "cna gain",
    "copy gain",
    "copy number gain",
    "copy-number gain",
    "copy number amplification",
    "focal amplification",
    "fusion amplification",
    "copy number increase",
    "high-level amplification",
}
#: Expression / activation words -> the KB's expression item names.
_EXPRESSION_WORDS: dict[str, str] = {
    "activation": "ACTIVATION",
    "activated": "ACTIVATION",
    "pathway activation": "ACTIVATION",
    "hyperactivation": "ACTIVATION",
    "reactivation": "ACTIVATION",
    "phosphorylation": "ACTIVATION",
    "phosphorylated": "ACTIVATION",
    "overexpression": "OVEREXPRESSION",
    "over-expression": "OVEREXPRESSION",
    "overexpressed": "OVEREXPRESSION",
    "upregulation": "OVEREXPRESSION",
    "up-regulation": "OVEREXPRESSION",
    "upregulated": "OVEREXPRESSION",
    "high": "OVEREXPRESSION",
    "high expression": "OVEREXPRESSION",
    "increased expression": "OVEREXPRESSION",
    "expression": "OVEREXPRESSION",
    "positive": "OVEREXPRESSION",
}
#: Gene loss words (deletion of the gene, loss of function) -> ``LOSS``.
_LOSS_WORDS = {
    "loss",
    "gene loss",
    "deletion",
    "gene deletion",
    "deleted",
    "homozygous deletion",
    "deep deletion",
    "biallelic loss",
    "copy loss",
    "copy number loss",
    "copy-number loss",
    "cn loss",
    "loss-of-function",
    "loss of function",
    "loss-of-function mutation",
    "loss of function mutation",
    "lof",
    "lof mutation",
    "inactivation",
    "inactivating mutation",
    "truncating mutation",
    "null",
}
_MUTATION_WORDS = re.compile(
    r"^(?:any |activating |oncogenic |kinase[- ]domain |somatic )?(?:mutation|mutations|mutant|mutated|variant)"
    r"(?: other than [A-Za-z0-9*]+(?:(?:,| or | and |/)[A-Za-z0-9*]+)*)?$"
)

_KINASES = {
    "ALK",
    "ROS1",
    "RET",
    "NTRK1",
    "NTRK2",
    "NTRK3",
    "MET",
    "FGFR1",
    "FGFR2",
    "FGFR3",
    "BRAF",
    "EGFR",
    "NRG1",
}


@dataclass(frozen=True, slots=True)
class ProteinChange:
    """A parsed protein change (one-letter amino acids)."""

    short: str  # "G1202R", "T1151dup", "E746_A750del"
    kind: AlterationKind
    codon: int  # first affected codon
    ref_aa: str | None  # one-letter residue at ``codon``
    alt_aa: str | None = None  # substitutions only ("*" for nonsense, "X" for any)
    end_codon: int | None = None

    @property
    def hgvs_p(self) -> str:
        """Three-letter HGVS (``p.Gly1202Arg``)."""
        one_to_three = {v: k for k, v in AA3_TO_1.items()}
        out = []
        for ch in self.short:
            out.append(one_to_three.get(ch, ch) if ch.isupper() or ch == "*" else ch)
        return "p." + "".join(out)


@dataclass(frozen=True, slots=True)
class FusionName:
    """A parsed fusion: 5' partner, 3' (kinase) gene and variant when known."""

    partner: str
    gene: str
    variant: str | None = None

    @property
    def short(self) -> str:
        base = f"{self.partner}-{self.gene}" if self.partner else f"{self.gene} fusion"
        return f"{base} {self.variant}" if self.variant else base


def _to_one_letter(text: str) -> str:
    return _AA3_RE.sub(lambda m: AA3_TO_1[m.group(0)], text)


_SUB = re.compile(rf"^([{_AA1}])(\d+)([{_AA1}*=])$")
_DUP = re.compile(rf"^([{_AA1}])(\d+)(?:_([{_AA1}])(\d+))?dup$")
_LEGACY_INS = re.compile(rf"^([{_AA1}])?(\d+)([{_AA1}])ins$")
_INS = re.compile(rf"^([{_AA1}])(\d+)_([{_AA1}])(\d+)ins([{_AA1}]+)$")
_INS_AFTER = re.compile(rf"^([{_AA1}])(\d+)ins([{_AA1}]+)$")
_INS_BARE = re.compile(rf"^([{_AA1}])(\d+)ins$")
_DEL = re.compile(rf"^([{_AA1}])(\d+)(?:_([{_AA1}])(\d+))?del([{_AA1}]*)$")
_DELINS = re.compile(rf"^([{_AA1}])(\d+)(?:_([{_AA1}])(\d+))?delins([{_AA1}*]+)$")
_FS = re.compile(rf"^([{_AA1}])(\d+)[{_AA1}]?fs(?:\*\d+|\*\?|\*)?$")


def parse_protein(text: str) -> ProteinChange | None:
    """Parse a protein change in any common spelling; None when it is not one.

    Examples
    --------
    >>> parse_protein("p.Gly1202Arg").short
    'G1202R'
    >>> parse_protein("1151Tins").short
    'T1151dup'
    """
    s = text.strip()
    if not s:
        return None
    s = s.removeprefix("p.").strip()
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    s = _to_one_letter(s.replace(" ", ""))
    # upper-case only single-letter amino-acid tokens typed in lower case ("g1202r")
    if re.fullmatch(r"[a-z]\d+[a-z*]", s):
        s = s.upper()
    # CIViC 2018 upper-cases whole names ("T1151INST", "G1202DEL")
    s = re.sub(r"(?<=[0-9])(DELINS|DEL|DUP|INS|FS)(?=[A-Z*]|$)", lambda m: m.group(1).lower(), s)
    if m := _SUB.match(s):
        ref, codon, alt = m.group(1), int(m.group(2)), m.group(3)
        if alt == "=":
            return ProteinChange(f"{ref}{codon}=", "substitution", codon, ref, ref)
        kind: AlterationKind = "codon" if alt == "X" else "substitution"
        return ProteinChange(f"{ref}{codon}{alt}", kind, codon, ref, alt)
    if m := _DUP.match(s):
        ref, codon = m.group(1), int(m.group(2))
        if m.group(3):
            end = int(m.group(4))
            return ProteinChange(
                f"{ref}{codon}_{m.group(3)}{end}dup", "insertion", codon, ref, end_codon=end
            )
        return ProteinChange(f"{ref}{codon}dup", "insertion", codon, ref, end_codon=codon)
    if m := _LEGACY_INS.match(s):
        codon, aa = int(m.group(2)), m.group(3)
        return ProteinChange(f"{aa}{codon}dup", "insertion", codon, aa, end_codon=codon)
    if m := _INS_AFTER.match(s):
        # "T1151insT": the residue inserted after T1151 is T again -> the duplication T1151dup
        ref, codon, ins = m.group(1), int(m.group(2)), m.group(3)
        if ins == ref:
            return ProteinChange(f"{ref}{codon}dup", "insertion", codon, ref, end_codon=codon)
        return ProteinChange(f"{ref}{codon}ins{ins}", "insertion", codon, ref, end_codon=codon)
    if m := _INS_BARE.match(s):
        ref, codon = m.group(1), int(m.group(2))
        return ProteinChange(f"{ref}{codon}ins", "insertion", codon, ref, end_codon=codon)
    if m := _INS.match(s):
        ref, codon = m.group(1), int(m.group(2))
        short = f"{ref}{codon}_{m.group(3)}{m.group(4)}ins{m.group(5)}"
        return ProteinChange(short, "insertion", codon, ref, end_codon=int(m.group(4)))
    if m := _DELINS.match(s):
        ref, codon = m.group(1), int(m.group(2))
        span = f"_{m.group(3)}{m.group(4)}" if m.group(3) else ""
        end = int(m.group(4)) if m.group(4) else codon
        return ProteinChange(
            f"{ref}{codon}{span}delins{m.group(5)}", "delins", codon, ref, end_codon=end
        )
    if m := _DEL.match(s):
        ref, codon = m.group(1), int(m.group(2))
        span = f"_{m.group(3)}{m.group(4)}" if m.group(3) else ""
        end = int(m.group(4)) if m.group(4) else codon
        return ProteinChange(f"{ref}{codon}{span}del", "deletion", codon, ref, end_codon=end)
    if m := _FS.match(s):
        ref, codon = m.group(1), int(m.group(2))
        return ProteinChange(f"{ref}{codon}fs", "gene_mutation", codon, ref)
    return None


_CDNA = re.compile(
    r"^c\.[-*]?\d+([+-]\d+)?(_[-*]?\d+([+-]\d+)?)?([ACGTacgt]>[ACGTacgt]|del[ACGTacgt]*|dup[ACGTacgt]*|ins[ACGTacgt]+|delins[ACGTacgt]+)$"
)


def is_cdna(text: str) -> bool:
    """True for an HGVS cDNA change such as ``c.3604G>A`` or ``c.3451_3453dup``."""
    return bool(_CDNA.match(text.strip().replace(" ", "")))


def normalise_cdna(text: str) -> str:
    """Canonical spelling of a cDNA change: no spaces, bases upper case, no transcript prefix.

    >>> normalise_cdna("NM_004304.5:c.3604g>a")
    'c.3604G>A'
    """
    s = text.strip().replace(" ", "")
    if ":" in s:
        s = s.split(":", 1)[1]
    head, _, tail = s.partition(".")
    m = re.match(r"^([-*]?\d+(?:[+-]\d+)?(?:_[-*]?\d+(?:[+-]\d+)?)?)(.*)$", tail)
    if head != "c" or not m:
        return s
    change = m.group(2)
    for word in ("delins", "del", "dup", "ins"):
        if change.lower().startswith(word):
            return f"c.{m.group(1)}{word}{change[len(word) :].upper()}"
    return f"c.{m.group(1)}{change.upper()}"


def is_amplification(text: str) -> bool:
    """True for copy-number gain words (``amplification``, ``amp``, ``gain``...)."""
    return " ".join(text.strip().lower().replace("_", " ").split()) in _AMP_WORDS


_FUSION_SPLIT = re.compile(r"\s*(?:::|--|-|/|\s)\s*")
_EXON_PAIR = re.compile(r"^E(\d+(?:b|ins\d+)?)\s*(?:;|::|:|/|-)\s*[AE](\d+)$", re.IGNORECASE)
_ANY_PARTNER = {"V", "ANY", "X", "?", "*"}
_EXON_WORDS = re.compile(
    r"^(?P<p>[A-Za-z0-9]+)\s*(?:exon|ex|e)\s*(?P<pe>\d+b?)\s*(?:-|::|/)\s*(?P<g>[A-Za-z0-9]+)\s*(?:exon|ex|e)\s*(?P<ge>\d+)$",
    re.IGNORECASE,
)


def _variant_token(token: str) -> str | None:
    t = token.strip().lower().replace("variant", "v").replace(" ", "")
    if m := re.fullmatch(r"v(\d+)a/b", t):  # "v3a/b": the alternatively spliced pair = v3
        return f"v{m.group(1)}"
    if re.fullmatch(r"v\d+[a-z]?'?", t):
        return t
    if re.fullmatch(r"\d+[ab]?", t):
        return "v" + t
    return None


def parse_fusion(text: str) -> FusionName | None:
    """Parse a fusion name; None when ``text`` is not one.

    >>> parse_fusion("EML4-ALK E6;A20")
    FusionName(partner='EML4', gene='ALK', variant='v3a')
    >>> parse_fusion("EML4::ALK")
    FusionName(partner='EML4', gene='ALK', variant=None)
    """
    s = " ".join(text.strip().split())
    if not s:
        return None
    if em0 := _EXON_PAIR.match(s):  # bare "E13;A20" / "e13::e20": EML4 exon :: ALK exon
        variant = FUSION_EXONS_TO_VARIANT.get((em0.group(1).lower(), em0.group(2)))
        return FusionName("EML4", "ALK", variant or f"E{em0.group(1)};A{em0.group(2)}")
    if m := _EXON_WORDS.match(s):
        partner, gene = m.group("p").upper(), m.group("g").upper()
        variant = FUSION_EXONS_TO_VARIANT.get((m.group("pe").lower(), m.group("ge")))
        if partner == "EML4" and gene == "ALK":
            return FusionName(partner, gene, variant)
        return FusionName(partner, gene, None)
    words = s.split(" ")
    head = words[0]
    rest = " ".join(words[1:])
    m2 = re.fullmatch(r"([A-Za-z0-9.]+)(?:::|--|-|/)([A-Za-z0-9.]+)", head)
    if m2 is None:
        # "ALK fusion", "ALK rearrangement"
        if len(words) == 2 and words[1].lower() in {
            "fusion",
            "fusions",
            "rearrangement",
            "rearranged",
            "translocation",
        }:
            return FusionName("", head.upper(), None)
        return None
    a, b = m2.group(1).upper(), m2.group(2).upper()
    if a in _ANY_PARTNER:  # CIViC "v::ALK": any partner
        a = ""
    if a in _KINASES and b not in _KINASES:  # written kinase-first ("ALK-EML4")
        a, b = b, a
    variant = None
    if rest:
        rest = re.sub(r"\b(fusions?|rearrangement)\b", "", rest, flags=re.IGNORECASE).strip()
        rest = rest.strip("()")
    if rest:
        if em := _EXON_PAIR.match(rest):
            variant = FUSION_EXONS_TO_VARIANT.get((em.group(1).lower(), em.group(2)))
            if variant is None:
                variant = f"E{em.group(1)};A{em.group(2)}"
        else:
            variant = _variant_token(rest)
            if variant is None:
                return None
    return FusionName(a, b, variant)


def _words(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


def is_expression(text: str) -> bool:
    """True for expression / activation words (``activation``, ``overexpression``, ``phospho-X``)."""
    w = _words(text)
    return w in _EXPRESSION_WORDS or w.startswith("phospho")


def is_loss(text: str) -> bool:
    """True for gene-loss words (``loss``, ``deletion``, ``loss-of-function``, ``inactivation``)."""
    return _words(text) in _LOSS_WORDS


@dataclass(frozen=True, slots=True)
class ParsedAlteration:
    """A non-fusion alteration name reduced to the KB's short form and kind.

    ``protein`` is set for protein changes (``G1202R``); ``short`` is what a finding
    carries (``G1202R``, ``AMPLIFICATION``, ``LOSS``, ``ACTIVATION``, ``EXON 19 DELETION``,
    ``MUTATION``, ``I1171X`` for a bare codon, ``c.3604G>A`` for cDNA).
    """

    short: str
    kind: AlterationKind
    protein: ProteinChange | None = None


_EXON_CLASS = re.compile(
    r"^(?:exon|ex)\s*(\d+)\s*(deletion|del|insertion|ins|skipping|skip|skipping mutation|"
    r"splice|splice mutation|duplication|dup|mutation)$"
)
_EXON_CLASS_WORD: dict[str, tuple[str, AlterationKind]] = {
    "deletion": ("DELETION", "deletion"),
    "del": ("DELETION", "deletion"),
    "insertion": ("INSERTION", "insertion"),
    "ins": ("INSERTION", "insertion"),
    "duplication": ("INSERTION", "insertion"),
    "dup": ("INSERTION", "insertion"),
    "skipping": ("SKIPPING", "splice"),
    "skip": ("SKIPPING", "splice"),
    "skipping mutation": ("SKIPPING", "splice"),
    "splice": ("SKIPPING", "splice"),
    "splice mutation": ("SKIPPING", "splice"),
    "mutation": ("MUTATION", "exon"),
}
_BARE_CODON = re.compile(rf"^([{_AA1}])(\d+)$")
_SPLICE_POS = re.compile(r"^c\.\d+[+-]\d+$")


def parse_alteration(text: str) -> ParsedAlteration | None:
    """A (non-fusion) alteration name in any spelling the KB uses; None when unreadable.

    Recognises protein changes (:func:`parse_protein`), cDNA changes and splice positions,
    amplification words, gene-loss words (``loss``, ``deletion``, ``loss-of-function``),
    expression words (``activation``, ``overexpression``, ``phospho-STAT3``), exon classes
    (``exon 19 deletion``, ``ex20ins``, ``exon 14 skipping``), gene-level words
    (``mutation``, ``mutation other than G12C``), bare codons (``I1171`` -> ``I1171X``) and
    CIViC 2018 spellings (``FUSION G1202R``, ``ex19del E746_A750``). A leading gene symbol
    is not stripped here (the caller knows the gene).

    >>> parse_alteration("loss-of-function")
    ParsedAlteration(short='LOSS', kind='loss', protein=None)
    >>> parse_alteration("exon 19 deletion").short
    'EXON 19 DELETION'
    """
    t = " ".join(text.strip().split())
    if not t:
        return None
    w = _words(t)
    if is_amplification(t):
        return ParsedAlteration("AMPLIFICATION", "amplification")
    if w in _LOSS_WORDS:
        return ParsedAlteration("LOSS", "loss")
    if w in _EXPRESSION_WORDS:
        return ParsedAlteration(_EXPRESSION_WORDS[w], "expression")
    if w.startswith("phospho"):
        return ParsedAlteration("ACTIVATION", "expression")
    if _MUTATION_WORDS.match(w):
        return ParsedAlteration("MUTATION", "gene_mutation")
    if m := _EXON_CLASS.match(w):
        word, exon_kind = _EXON_CLASS_WORD[m.group(2)]
        return ParsedAlteration(f"EXON {int(m.group(1))} {word}", exon_kind)
    if m := re.fullmatch(r"[a-z0-9]*ex(?:on)?\s*(\d+)", w):  # "METex14"
        return (
            ParsedAlteration(f"EXON {int(m.group(1))} SKIPPING", "splice")
            if m.group(1) == "14" and w.startswith("met")
            else None
        )
    if m := re.fullmatch(r"(?:ex|exon)\s*(\d+)\s*del\s+(\S+)", t.lower()):  # "ex19del E746_A750"
        pc = parse_protein(t.split()[-1] + "del")
        return None if pc is None else ParsedAlteration(pc.short, pc.kind, pc)
    if m := re.fullmatch(
        r"(?:fusion|fusions)\s+(\S+)", t.lower()
    ):  # CIViC 2018 "ALK FUSION G1202R"
        return parse_alteration(t.split()[-1])
    pc = parse_protein(t)
    if pc is not None:
        return ParsedAlteration(pc.short, pc.kind, pc)
    if m := _BARE_CODON.match(t.upper()):
        codon = int(m.group(2))
        pc = ProteinChange(f"{m.group(1)}{codon}X", "codon", codon, m.group(1), "X")
        return ParsedAlteration(pc.short, "codon", pc)
    if is_cdna(t.split(":", 1)[-1]):
        c = normalise_cdna(t)
        kind: AlterationKind = (
            "substitution"
            if ">" in c
            else ("insertion" if "dup" in c or "ins" in c else "deletion")
        )
        return ParsedAlteration(c, kind)
    if _SPLICE_POS.match(t):
        return ParsedAlteration(t, "splice")
    return None
