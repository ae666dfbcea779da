"""Engine rules: matching levels, compound profiles, conflicts, VAF, classification.

Compound cases are VERIFIED (spec section 9, CIViC EID843/844, EID11113-11115) and are
checked against the bundled KB; the rule mechanics (conflict, VAF, unknowns) use the
fixture KB of conftest.py so that they do not depend on curation choices.
Tolerance: exact (categorical outputs).
"""

from __future__ import annotations

import pytest

from kinresist.interpret import Finding, interpret_findings
from kinresist.interpret.readers.text import parse_finding
from kinresist.kb import load_kb

BUNDLED = load_kb(overlays=[])  # bundled KB only, independent of local CIViC imports


def _run(*texts: str, kb=None, **kw):
    return interpret_findings([parse_finding(t) for t in texts], kb=kb or BUNDLED, **kw)


# --------------------------------------------------------------------- compounds (bundled KB)
def test_compound_l1198f_c1156y_resensitises_crizotinib_resists_lorlatinib_verified() -> None:
    r = _run("ALK L1198F", "ALK C1156Y")
    assert r.drug("crizotinib").call == "sensitive"
    assert r.drug("lorlatinib").call == "resistant"
    assert {"EID844"} <= {e.civic_eid for e in r.drug("crizotinib").evidence}
    assert {"EID843"} <= {e.civic_eid for e in r.drug("lorlatinib").evidence}
    top = [p for p in r.profiles if p.most_specific]
    assert [p.profile for p in top] == ["ALK:C1156Y+ALK:L1198F"]
    assert {p.profile for p in r.profiles} >= {
        "ALK:C1156Y",
        "ALK:L1198F",
    }  # every matching profile reported


def test_compound_never_inferred_from_single_rows_verified() -> None:
    """C1156Y alone is alectinib-sensitive (Lin 2017 T) but the compound was never tested with alectinib."""
    single = _run("ALK C1156Y")
    assert single.drug("alectinib").call == "sensitive"
    compound = _run("ALK L1198F", "ALK C1156Y")
    call = compound.drug("alectinib")
    assert call.call == "unknown"
    assert call.evidence == ()
    assert all(not e.votes for e in call.context)


def test_compound_i1171n_l1196m_lorlatinib_sensitive_alectinib_resistant_verified() -> None:
    r = _run("ALK I1171N", "ALK L1196M")
    assert r.drug("lorlatinib").call == "sensitive"
    assert r.drug("alectinib").call == "resistant"
    assert "EID11113" in {e.civic_eid for e in r.drug("lorlatinib").evidence}
    assert "EID11115" in {e.civic_eid for e in r.drug("alectinib").evidence}


def test_compound_adding_g1202r_makes_lorlatinib_resistant_verified() -> None:
    r = _run("ALK I1171N", "ALK L1196M", "ALK G1202R")
    call = r.drug("lorlatinib")
    assert call.call == "resistant"
    assert "EID11114" in {e.civic_eid for e in call.evidence}
    assert [p.profile for p in r.profiles if p.most_specific] == [
        "ALK:I1171N+ALK:L1196M+ALK:G1202R"
    ]
    # G1202R alone is lorlatinib-sensitive (Lin 2017 T^b): the triple must not inherit it
    assert _run("ALK G1202R").drug("lorlatinib").call == "sensitive"


# --------------------------------------------------------------------- unknowns
@pytest.mark.parametrize("text", ["ALK A1200V", "ALK p.Arg1192Pro", "ALK c.3605G>C"])
def test_unknown_alk_variant_is_not_in_kb_never_sensitive(text: str) -> None:
    r = _run(text)
    f = r.findings[0]
    assert f.match_level == "none"
    assert "not in KB (version" in f.note
    assert all(d.call == "unknown" for d in r.drugs)
    assert r.classification == "none_found"
    assert any(i.id == "functional_test" for i in r.investigations)


def test_unknown_next_to_sensitive_finding_stays_unknown(fixture_kb) -> None:
    r = _run("ALK L1196M", "ALK A1200V", kb=fixture_kb)
    assert r.drug("lorlatinib").call == "unknown"  # L1196M alone: sensitive
    assert _run("ALK L1196M", kb=fixture_kb).drug("lorlatinib").call == "sensitive"


def test_no_findings_all_unknown(fixture_kb) -> None:
    r = interpret_findings([], kb=fixture_kb)
    assert r.classification == "none_found"
    assert all(d.call == "unknown" for d in r.drugs)


# --------------------------------------------------------------------- matching levels
def test_match_levels_exact_codon_gene() -> None:
    r = _run("ALK I1171X", "ALK I1171T", "KRAS A146T", "EML4-ALK v3", "KRAS G12S")
    levels = {f.finding.alteration: f.match_level for f in r.findings}
    assert levels["I1171T"] == "exact"
    assert levels["A146T"] == "gene"  # KRAS MUTATION is itself a KB mechanism
    assert levels["EML4-ALK v3"] == "exact"
    assert levels["G12S"] == "codon"  # KRAS:G12X
    i1171t = next(f for f in r.findings if f.finding.alteration == "I1171T")
    assert ("ALK:I1171X", "I1171X", "codon") in i1171t.matched


@pytest.mark.parametrize(
    "text",
    [
        "ALK G1202R",
        "ALK p.Gly1202Arg",
        "ALK p.G1202R",
        "ALK c.3604G>A",
        "ALK NM_004304.5:c.3604G>A",
    ],
)
def test_name_spellings_resolve_to_g1202r(text: str) -> None:
    r = _run(text)
    assert r.findings[0].finding.alteration == "G1202R"
    assert r.findings[0].match_level == "exact"


@pytest.mark.parametrize("text", ["ALK c.3522C>A", "ALK c.3522C>G", "ALK c.3520T>C", "ALK F1174L"])
def test_f1174l_from_any_dna_change(text: str) -> None:
    r = _run(text)
    assert r.findings[0].finding.alteration == "F1174L"
    assert r.findings[0].match_level == "exact"
    assert r.drug("crizotinib").call == "resistant"


@pytest.mark.parametrize(
    "text", ["ALK 1151Tins", "ALK T1151dup", "ALK p.Thr1151dup", "ALK I1151Tins"]
)
def test_t1151dup_spellings(text: str) -> None:
    r = _run(text)
    assert r.findings[0].finding.alteration == "T1151dup"
    assert r.findings[0].match_level == "exact"


# --------------------------------------------------------------------- conflict rule
def test_g1202r_brigatinib_conflict_is_surfaced_verified() -> None:
    """Spec 14: EID1351 (resistant, preclinical) vs Lin 2017 T^a -> conflicting-evidence output."""
    call = _run("ALK G1202R").drug("brigatinib")
    assert call.conflict is True
    assert call.call in {"intermediate", "resistant"}
    shown = {e.civic_eid for e in call.evidence + call.context}
    assert "EID1351" in shown
    assert "EID1351" in call.conflict_note


def test_conflict_tie_at_top_level_gives_intermediate(fixture_kb) -> None:
    call = _run("ALK G1202R", kb=fixture_kb).drug("brigatinib")  # fixture: T^a and R^a both level B
    assert call.call == "intermediate"
    assert call.conflict


def test_source_doc_does_not_vote_against_verified(fixture_kb) -> None:
    call = _run("ALK C1156Y", kb=fixture_kb).drug("ceritinib")
    assert call.call == "resistant"
    assert call.conflict  # the SOURCE-DOC 'potent' claim is shown as a conflict
    assert [e.id for e in call.context] == ["T0026"]


# --------------------------------------------------------------------- VAF rule
def test_minor_resistant_subclone_next_to_dominant_sensitive_clone(fixture_kb) -> None:
    r = _run("ALK L1196M vaf=40%", "ALK G1202R vaf=2%", kb=fixture_kb)
    call = r.drug("alectinib")  # L1196M: sensitive; G1202R: resistant
    assert call.call == "intermediate"
    assert "minor subclone" in call.vaf_note
    assert "2 %" in call.vaf_note
    clones = {f.finding.alteration: f.clone for f in r.findings}
    assert clones == {"L1196M": "major", "G1202R": "minor_subclone"}
    assert any(i.id == "monitor_subclone" for i in r.investigations)
    # the same two mutations at similar VAFs: the resistant clone decides
    r2 = _run("ALK L1196M vaf=40%", "ALK G1202R vaf=30%", kb=fixture_kb)
    assert r2.drug("alectinib").call == "resistant"


def test_dominant_resistant_clone_decides(fixture_kb) -> None:
    r = _run("ALK L1196M vaf=2%", "ALK G1202R vaf=40%", kb=fixture_kb)
    assert r.drug("alectinib").call == "resistant"


# --------------------------------------------------------------------- classification + investigations
def test_classification_rules() -> None:
    assert _run("ALK G1202R").classification == "on_target_mutation"
    assert _run("ALK amplification").classification == "on_target_amplification"
    assert _run("MET amplification", "EML4-ALK v1").classification == "off_target"
    assert _run("ALK G1202R", "MET amplification").classification == "heterogeneous"
    assert _run("EML4-ALK v1").classification == "none_found"


def test_amplification_calls_crizotinib_resistant_with_civic() -> None:
    r = _run("ALK amplification cn=12")
    call = r.drug("crizotinib")
    assert call.call == "resistant"
    assert {"EID440", "EID766", "EID767"} & {e.civic_eid for e in call.evidence}


def test_v3_and_second_generation_raises_g1202r_prior() -> None:
    r = _run("EML4-ALK v3", prior_therapy="alectinib")
    inv = [i for i in r.investigations if i.id == "prior_G1202R"]
    assert inv
    assert "29373100" in inv[0].text
    assert r.drug("alectinib").prior_therapy
    assert all(o.option != "alectinib" for o in r.options)


def test_cell_line_and_fak_investigations() -> None:
    r = _run("EML4-ALK v1", cell_line=True)
    assert any("STR" in i.text and "mycoplasma" in i.text for i in r.investigations)
    fak = _run("PTK2 Y397F", prior_therapy="defactinib")
    text = " ".join(i.text for i in fak.investigations)
    assert "STAT3" in text
    assert "ERK5" in text
    assert "RTK" in text


def test_options_are_ranked_sensitive_first() -> None:
    r = _run("ALK G1202R", prior_therapy="alectinib")
    ranked = [o.option for o in r.options if o.basis.startswith(("sensitive", "intermediate"))]
    assert ranked[0] == "lorlatinib"
    assert r.drug("lorlatinib").rank == 1


def test_output_is_stamped() -> None:
    d = _run("ALK G1202R").to_dict()
    assert d["kb_version"] == BUNDLED.version
    assert "research use only" in d["notice"].lower()
    assert d["schema_version"]
    assert d["kinresist_version"]
    assert d["classification"] == "on_target_mutation"
    assert {"gene", "alteration", "match_level"} <= set(d["findings"][0])
    for drug in d["drugs"]:
        assert drug["drug"] == drug["drug"].lower()
        assert drug["call"] in {"sensitive", "intermediate", "resistant", "unknown"}
        for e in drug["evidence"]:
            assert e["pmid"] or e["civic_eid"]


def test_finding_validation() -> None:
    with pytest.raises(ValueError, match="fraction"):
        Finding("ALK", "G1202R", "substitution", vaf=1.5)


def test_unknown_variant_outside_resistance_exons_does_not_block() -> None:
    """A variant not in the KB outside the exons holding known resistance mutations (e.g. a
    germline polymorphism such as ALK I1461V, exon 29) stays 'not in KB' but does not turn
    the fusion's calls into unknown; one inside them (A1200V, exon 23) does."""
    outside = _run("ALK I1461V", "EML4-ALK v1")
    assert outside.findings[0].match_level == "none"
    assert outside.drug("alectinib").call == "sensitive"
    inside = _run("ALK A1200V", "EML4-ALK v1")
    assert inside.drug("alectinib").call == "unknown"
