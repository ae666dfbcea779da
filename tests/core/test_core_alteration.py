"""The canonical alteration key: many spellings, one key; unknown names stay unknown."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinresist.core import AlterationKey, alteration_key, parse_target
from kinresist.kb.aminoacids import AA3_TO_1

ONE_TO_THREE = {v: k for k, v in AA3_TO_1.items()}


@pytest.mark.parametrize(
    ("gene", "text", "key"),
    [
        ("ALK", "p.Gly1202Arg", "ALK G1202R"),
        ("ALK", "G1202R", "ALK G1202R"),
        ("ALK", "p.(Gly1202Arg)", "ALK G1202R"),
        (None, "ALK G1202R", "ALK G1202R"),
        ("ALK", "c.3604G>A", "ALK G1202R"),  # cDNA mapped through the KB's curated alias
        ("ALK", "1151Tins", "ALK T1151dup"),
        (None, "EML4-ALK E6;A20", "ALK EML4-ALK v3a"),
        (None, "EML4::ALK variant 1", "ALK EML4-ALK v1"),
        ("MET", "amplification", "MET amplification"),
        ("MET", "AMP", "MET amplification"),
        ("NF2", "loss", "NF2 loss"),
        ("HER2", "overexpression", "ERBB2 overexpression"),
        ("EGFR", "activation", "EGFR activation"),
        ("FAK", "Y397F", "PTK2 Y397F"),
        ("EGFR", "exon 19 deletion", "EGFR exon 19 deletion"),
        ("KRAS", "loss-of-function", "KRAS loss-of-function"),
    ],
)
def test_spellings_land_on_one_key(gene: str | None, text: str, key: str) -> None:
    assert str(alteration_key(gene, text)) == key


@pytest.mark.parametrize(
    "text",
    ["something odd", "del", "deleted region maybe", "G1202", "ALKish", "", "   "],
)
def test_unknown_names_stay_unknown(text: str) -> None:
    got = alteration_key("ALK", text)
    # "G1202" alone is a codon-level name only when written G1202X; nothing is guessed
    assert got is None


@pytest.mark.parametrize(
    ("target", "gene", "key", "wt"),
    [
        ("ALK_G1202R_FAM", "ALK", "ALK G1202R", False),
        ("ALK G1202R", "ALK", "ALK G1202R", False),
        ("ALK-G1202R", "ALK", "ALK G1202R", False),
        ("G1202R (ALK)", "ALK", "ALK G1202R", False),
        ("EGFR_T790M_Ch1", "EGFR", "EGFR T790M", False),
        ("ALK_WT_HEX", "ALK", None, True),
        ("KRAS wild-type", "KRAS", None, True),
        ("Z99", "Z99", None, False),
        ("ALK_weird_FAM", "ALK", None, False),
    ],
)
def test_assay_target_names(target: str, gene: str, key: str | None, wt: bool) -> None:
    g, k, is_wt = parse_target(target)
    assert g == gene
    assert (None if k is None else str(k)) == key
    assert is_wt is wt


def test_three_letter_and_one_letter_agree_exhaustively() -> None:
    for ref in "ACDEFGHIKLMNPQRSTVWY":
        for alt in "ACDEFGHIKLMNPQRSTVWY":
            if ref == alt:
                continue
            one = alteration_key("ALK", f"{ref}1202{alt}")
            three = alteration_key("ALK", f"p.{ONE_TO_THREE[ref]}1202{ONE_TO_THREE[alt]}")
            assert one == three == AlterationKey("ALK", f"{ref}1202{alt}", "mutation")


AA = st.sampled_from(sorted(set("ACDEFGHIKLMNPQRSTVWY")))


@pytest.mark.hypothesis
@settings(max_examples=300, deadline=None)
@given(ref=AA, alt=AA, codon=st.integers(1, 3000), three=st.booleans(), prefix=st.booleans())
def test_property_protein_spellings(
    ref: str, alt: str, codon: int, three: bool, prefix: bool
) -> None:
    """Any spelling of a substitution gives the one-letter key; the key parses to itself."""
    body = f"{ONE_TO_THREE[ref]}{codon}{ONE_TO_THREE[alt]}" if three else f"{ref}{codon}{alt}"
    text = ("p." + body) if prefix else body
    key = alteration_key("EGFR", text)
    assert key is not None
    assert key.name == f"{ref}{codon}{alt}"
    assert alteration_key(None, str(key)) == key  # idempotent


@pytest.mark.hypothesis
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_property_never_crashes_and_never_invents(text: str) -> None:
    """Arbitrary text either gives no key or a key whose text parses back to the same key."""
    key = alteration_key("ALK", text)
    if key is not None:
        assert alteration_key(None, str(key)) == key
    parse_target(text)
