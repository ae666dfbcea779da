"""Name normalisation (spec sections 4, 6 and 14): many spellings -> one short form. Exact."""

from __future__ import annotations

import pytest

from kinresist.errors import InputError
from kinresist.interpret.names import is_amplification, normalise_cdna, parse_fusion, parse_protein
from kinresist.interpret.readers.text import parse_finding


@pytest.mark.parametrize(
    ("text", "short", "kind"),
    [
        ("p.Gly1202Arg", "G1202R", "substitution"),
        ("p.G1202R", "G1202R", "substitution"),
        ("G1202R", "G1202R", "substitution"),
        ("p.(Gly1202Arg)", "G1202R", "substitution"),
        ("g1202r", "G1202R", "substitution"),
        ("1151Tins", "T1151dup", "insertion"),
        ("I1151Tins", "T1151dup", "insertion"),
        ("T1151dup", "T1151dup", "insertion"),
        ("p.Thr1151dup", "T1151dup", "insertion"),
        ("p.Gly1202del", "G1202del", "deletion"),
        ("E746_A750del", "E746_A750del", "deletion"),
        ("p.Glu746_Ala750del", "E746_A750del", "deletion"),
        ("p.Leu858_Arg859delinsGln", "L858_R859delinsQ", "delins"),
        ("p.Gly1202fsTer12", "G1202fs", "gene_mutation"),
        ("p.Gly1202Ter", "G1202*", "substitution"),
        ("G1202X", "G1202X", "codon"),
        ("p.Ala767_Val769dup", "A767_V769dup", "insertion"),
        ("p.Asp770_Asn771insGly", "D770_N771insG", "insertion"),
    ],
)
def test_parse_protein(text: str, short: str, kind: str) -> None:
    pc = parse_protein(text)
    assert pc is not None
    assert (pc.short, pc.kind) == (short, kind)


def test_hgvs_p_three_letter_roundtrip() -> None:
    assert parse_protein("G1202R").hgvs_p == "p.Gly1202Arg"  # type: ignore[union-attr]
    assert parse_protein("T1151dup").hgvs_p == "p.Thr1151dup"  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["", "c.3604G>A", "amplification", "EML4-ALK", "hello"])
def test_parse_protein_rejects(text: str) -> None:
    assert parse_protein(text) is None


@pytest.mark.parametrize(
    ("text", "partner", "gene", "variant"),
    [
        ("EML4-ALK v3", "EML4", "ALK", "v3"),
        ("EML4::ALK", "EML4", "ALK", None),
        ("EML4-ALK E6;A20", "EML4", "ALK", "v3a"),
        ("EML4-ALK E6b;A20", "EML4", "ALK", "v3b"),
        ("EML4-ALK E13;A20", "EML4", "ALK", "v1"),
        ("EML4-ALK E20;A20", "EML4", "ALK", "v2"),
        ("EML4-ALK E2;A20", "EML4", "ALK", "v5a"),
        ("EML4 exon 13 - ALK exon 20", "EML4", "ALK", "v1"),
        ("EML4-ALK variant 3a", "EML4", "ALK", "v3a"),
        ("KIF5B-ALK", "KIF5B", "ALK", None),
        ("ALK-EML4", "EML4", "ALK", None),
        ("ALK fusion", "", "ALK", None),
    ],
)
def test_parse_fusion(text: str, partner: str, gene: str, variant: str | None) -> None:
    f = parse_fusion(text)
    assert f is not None
    assert (f.partner, f.gene, f.variant) == (partner, gene, variant)


@pytest.mark.parametrize("word", ["AMPLIFICATION", "amp", "gain", "Amplified", "copy number gain"])
def test_amplification_words(word: str) -> None:
    assert is_amplification(word)


def test_normalise_cdna() -> None:
    assert normalise_cdna("NM_004304.5:c.3604g>a") == "c.3604G>A"
    assert normalise_cdna("c.3451_3453DUP") == "c.3451_3453dup"


@pytest.mark.parametrize(
    ("text", "gene", "alteration", "kind"),
    [
        ("ALK G1202R", "ALK", "G1202R", "substitution"),
        ("ALK amplification", "ALK", "AMPLIFICATION", "amplification"),
        ("MET amp cn=12", "MET", "AMPLIFICATION", "amplification"),
        ("EML4-ALK v3", "ALK", "EML4-ALK v3", "fusion"),
        ("EML4::ALK E6;A20", "ALK", "EML4-ALK v3a", "fusion"),
        ("ALK c.3604G>A", "ALK", "c.3604G>A", "substitution"),
        ("alk g1202r vaf=12%", "ALK", "G1202R", "substitution"),
    ],
)
def test_parse_finding(text: str, gene: str, alteration: str, kind: str) -> None:
    f = parse_finding(text)
    assert (f.gene, f.alteration, f.kind) == (gene, alteration, kind)


def test_parse_finding_vaf_and_cn() -> None:
    assert parse_finding("ALK G1202R vaf=12%").vaf == pytest.approx(0.12)
    assert parse_finding("ALK G1202R vaf=0.3").vaf == pytest.approx(0.3)
    assert parse_finding("MET amp cn=12").copy_number == 12
    with pytest.raises(InputError, match="outside 0-1"):
        parse_finding("ALK G1202R vaf=3")
    with pytest.raises(InputError, match="cannot read alteration"):
        parse_finding("ALK Blorp")
