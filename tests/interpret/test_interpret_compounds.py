"""ALK compound mutations (issue 17, class 3).

Curated compounds and their sources (oracle = the cited reports):

* C1156Y + L1198F: lorlatinib resistant, crizotinib re-sensitised (Shaw 2016 NEJM,
  PMID 26698910; CIViC EID843/844).
* F1174L + G1202R, L1196M + D1203N, C1156Y + G1269A: found in lorlatinib-resistant patients
  (Recondo 2020, PMID 31585938, abstract).
* I1171N + L1196M (+ G1202R): CIViC EID11113-11115 (PMID 32600123; mesothelioma).
* Uncurated pairs (e.g. G1202R + L1196M): sequential TKIs select compounds that resist every
  ALK TKI (Yoda 2018, PMID 29650534: compounds in 7/20 lorlatinib-resistant biopsies), so a
  single-mutation "sensitive" never stands for the pair.

Tolerance: exact (categorical calls and flags).
"""

from __future__ import annotations

import itertools

import pytest

from kinresist.interpret import interpret_findings
from kinresist.interpret.readers.text import parse_finding
from kinresist.kb import load_kb

BUNDLED = load_kb(overlays=[])
ALK_TKIS = ("crizotinib", "ceritinib", "alectinib", "brigatinib", "lorlatinib")


def _run(*texts: str, **kw):
    return interpret_findings([parse_finding(t) for t in texts], kb=BUNDLED, **kw)


@pytest.mark.parametrize(
    ("a", "b", "profile"),
    [
        ("F1174L", "G1202R", "ALK:F1174L+ALK:G1202R"),
        ("L1196M", "D1203N", "ALK:L1196M+ALK:D1203N"),
        ("C1156Y", "G1269A", "ALK:C1156Y+ALK:G1269A"),
    ],
)
def test_recondo2020_compounds_resist_lorlatinib(a: str, b: str, profile: str) -> None:
    """PMID 31585938: each compound was found in a lorlatinib-resistant patient."""
    r = _run(f"ALK {a}", f"ALK {b}", "EML4-ALK v1", prior_therapy="lorlatinib")
    assert [p.profile for p in r.profiles if p.most_specific and p.compound] == [profile]
    lor = r.drug("lorlatinib")
    assert lor.call == "resistant"
    assert "31585938" in {e.pmid for e in lor.evidence}
    # singles are never lent to the compound: G1202R alone is lorlatinib-sensitive (Lin T^b)
    assert all(e.profile == profile for e in lor.evidence)
    for drug in ALK_TKIS:
        assert r.drug(drug).call != "sensitive", drug


def test_shaw2016_resensitisation_after_lorlatinib() -> None:
    """PMID 26698910: C1156Y + L1198F after lorlatinib -> crizotinib sensitive (EID844)."""
    r = _run("ALK C1156Y", "ALK L1198F", prior_therapy="lorlatinib")
    assert r.drug("crizotinib").call == "sensitive"
    assert "EID844" in {e.civic_eid for e in r.drug("crizotinib").evidence}
    assert r.drug("lorlatinib").call == "resistant"


def test_compound_with_mutation_selected_by_prior_drug_is_not_sensitive_to_it() -> None:
    """C1156Y is a crizotinib-resistance mutation (Lin 2017 R; EID841/1346): after progression
    on crizotinib, the compound C1156Y + L1198F is not called crizotinib-sensitive."""
    r = _run("ALK C1156Y", "ALK L1198F", prior_therapy="crizotinib, ceritinib, lorlatinib")
    call = r.drug("crizotinib")
    assert call.call != "sensitive"
    assert "contains_mutation_selected_by_prior_drug" in call.flags
    assert "C1156Y" in call.rationale
    assert "EID844" in {e.civic_eid for e in call.evidence}  # the conflict stays visible


@pytest.mark.parametrize(
    ("a", "b"),
    [("G1202R", "L1196M"), ("G1202R", "I1171N"), ("I1171N", "D1203N"), ("G1202R", "F1174C")],
)
def test_uncurated_pair_never_sensitive_and_flagged(a: str, b: str) -> None:
    """Yoda 2018 (PMID 29650534): such compounds arise after sequential TKIs; not curated here."""
    r = _run(f"ALK {a}", f"ALK {b}")
    assert not any(p.compound for p in r.profiles)
    flagged = [d for d in r.drugs if "compound_not_characterised" in d.flags]
    assert flagged, "single-mutation sensitivity must be flagged"
    for d in r.drugs:
        assert d.call != "sensitive", (d.drug, d.rationale)
    assert any("compound not characterised" in n for n in r.notes)
    for d in flagged:
        assert d.call in {"intermediate", "resistant", "unknown"}
        assert "29650534" in d.rationale


def _lin_single_mutations() -> list[str]:
    return sorted(
        a.name
        for a in BUNDLED.alterations.values()
        if a.gene == "ALK" and a.kind == "substitution" and BUNDLED.evidence_for_profile(a.id)
    )


def test_no_pair_of_alk_mutations_is_ever_sensitive_without_a_curated_compound() -> None:
    """Every pair of KB ALK substitutions: 'sensitive' only from a curated compound profile."""
    muts = _lin_single_mutations()
    assert len(muts) >= 20
    for a, b in itertools.combinations(muts, 2):
        r = _run(f"ALK {a}", f"ALK {b}")
        for d in r.drugs:
            if d.call == "sensitive":
                assert any("+" in e.profile for e in d.evidence), (a, b, d.drug)


def test_triple_compound_adding_g1202r_resists_lorlatinib_non_lung_flag() -> None:
    """PMID 32600123 (CIViC EID11114): I1171N + L1196M + G1202R -> lorlatinib resistant; the
    case is a mesothelioma: shown with its disease and flagged."""
    r = _run("ALK I1171N", "ALK L1196M", "ALK G1202R", prior_therapy="alectinib, lorlatinib")
    assert r.drug("lorlatinib").call == "resistant"
    pair = _run("ALK I1171N", "ALK L1196M").drug("lorlatinib")
    assert pair.call == "sensitive"
    assert "non_lung_evidence" in pair.flags
    assert "Malignant Pleural Mesothelioma" in pair.rationale
