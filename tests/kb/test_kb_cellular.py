"""Spec sections 8 (IC50s), 9 (compound profiles) and 14 (fixtures) are in the KB (VERIFIED).

Oracle: the spec tables (values copied here) and the CIViC 2025-10 TSV for direction/level.
Tolerance: exact (values are transcribed, not computed).
"""

from __future__ import annotations

import pytest

from kinresist.kb import load_kb

# EID, profile, drug, effect, IC50 nM, fold vs WT, PMID
IC50 = [
    (444, "ALK:T1151dup", "crizotinib", "resistant", 431.8, 16, "22277784"),
    (1347, "ALK:T1151dup", "alectinib", "resistant", 165.7, 16, "22277784"),
    (1348, "ALK:T1151dup", "tae684", "resistant", 28.3, 20, "22277784"),
    (1349, "ALK:T1151dup", "tanespimycin", "sensitive", 44.5, 0.4, "22277784"),
    (1352, "ALK:G1202R", "tanespimycin", "sensitive", 33.4, None, "22277784"),
    (1344, "ALK:I1171X", "ceritinib", "sensitive", 2.6, None, "24675041"),
    (1346, "ALK:C1156Y", "crizotinib", "resistant", 177, 9.3, "24675041"),
    (1287, "ALK:I1171X", "crizotinib", "resistant", 236, None, "25228534"),
    (1350, "ALK:G1202R", "alectinib", "resistant", 868, 64.4, "25727400"),
    (1351, "ALK:G1202R", "brigatinib", "resistant", 325, None, "25727400"),
    (1354, "ALK:G1269A", "alectinib", "resistant", 84, 6, "25727400"),
    (1353, "ALK:G1269A", "brigatinib", "sensitive", 9, 1.5, "25727400"),
    (1355, "ALK:G1269A", "ceritinib", "sensitive", 33, 1.5, "25727400"),
    (1356, "ALK:NPM1-ALK", "crizotinib", "sensitive", 42, None, "25727400"),
    (1291, "ALK:V1180L", "brigatinib", "sensitive", 0.49, None, "25228534"),
    (1337, "ALK:F1245C", "crizotinib", "resistant", 269, None, "22034911"),
    (1330, "ALK:F1245C", "lorlatinib", "sensitive", 21.8, None, "26554404"),
    (1340, "ALK:EML4-ALK v3", "ceritinib", "sensitive", 3.8, None, "24675041"),
]


@pytest.mark.parametrize(
    ("eid", "profile", "drug", "effect", "ic50", "fold", "pmid"),
    IC50,
    ids=[f"EID{r[0]}" for r in IC50],
)
def test_ic50_rows_VERIFIED(eid, profile, drug, effect, ic50, fold, pmid) -> None:
    kb = load_kb(overlays=())
    (item,) = kb.evidence_by_eid(eid)
    assert (item.profile, item.drugs, item.effect, item.pmid) == (profile, (drug,), effect, pmid)
    assert item.ic50_nm == ic50
    assert item.fold_vs_wt == fold
    assert item.status == "VERIFIED"


# spec 9 + 14 fixtures: EID, profile, drug, effect, level
FIXTURES = [
    (843, "ALK:C1156Y+ALK:L1198F", "lorlatinib", "resistant", "C"),
    (844, "ALK:C1156Y+ALK:L1198F", "crizotinib", "sensitive", "C"),
    (11113, "ALK:I1171N+ALK:L1196M", "lorlatinib", "sensitive", "C"),
    (11115, "ALK:I1171N+ALK:L1196M", "alectinib", "resistant", "C"),
    (11114, "ALK:I1171N+ALK:L1196M+ALK:G1202R", "lorlatinib", "resistant", "C"),
    (441, "ALK:G1202R", "crizotinib", "resistant", "D"),
    (1345, "ALK:G1202R", "ceritinib", "resistant", "D"),
    (764, "ALK:G1269A", "crizotinib", "resistant", "C"),
    (765, "ALK:G1269A", "crizotinib", "resistant", "C"),
    (1286, "ALK:V1180L", "alectinib", "resistant", "D"),
    (1288, "ALK:V1180L", "crizotinib", "resistant", "D"),
    (1289, "ALK:V1180L", "ceritinib", "sensitive", "D"),
    (1290, "ALK:V1180L", "tae684", "sensitive", "D"),
    (440, "ALK:AMPLIFICATION", "crizotinib", "resistant", "D"),
    (766, "ALK:AMPLIFICATION", "crizotinib", "resistant", "C"),
    (767, "ALK:AMPLIFICATION", "crizotinib", "resistant", "C"),
]


@pytest.mark.parametrize(
    ("eid", "profile", "drug", "effect", "level"), FIXTURES, ids=[f"EID{r[0]}" for r in FIXTURES]
)
def test_fixture_items_VERIFIED(eid, profile, drug, effect, level) -> None:
    kb = load_kb(overlays=())
    (item,) = kb.evidence_by_eid(eid)
    assert (item.profile, item.drugs, item.effect, item.level) == (profile, (drug,), effect, level)


def test_fixture_items_match_civic_tsv_VERIFIED(shared) -> None:
    """Direction/level/significance/PMID of every curated CIViC item equal the 2025 TSV."""
    from kinresist.kb.civic_tsv import read_civic_evidence

    path = shared("kb-sources", "civic", "civic_2025-10_graphql_ALK_evidence_items.tsv")
    _, rows = read_civic_evidence(path)
    by_eid = {f"EID{r.eid}": r for r in rows}
    sig = {
        "sensitive": "Sensitivity/Response",
        "resistant": "Resistance",
        "reduced": "Reduced Sensitivity",
    }
    kb = load_kb(overlays=())
    curated = [e for e in kb.evidence if e.civic_eid and e.status == "VERIFIED"]
    assert len(curated) >= 40
    for e in curated:
        r = by_eid[e.civic_eid]
        assert r.direction == "Supports"
        assert r.significance == sig[e.effect], e.id
        assert r.level == e.level, e.id
        assert r.pmid == e.pmid, e.id
        assert r.statement == e.statement, e.id


def test_compounds_are_compound_profiles_VERIFIED() -> None:
    kb = load_kb(overlays=())
    p = kb.profile("ALK:I1171N+ALK:L1196M+ALK:G1202R")
    assert p is not None
    assert p.is_compound
    assert p.fusion_context == "EML4-ALK"
    assert {q.id for q in kb.profiles_with("ALK:L1198F")} >= {"ALK:L1198F", "ALK:C1156Y+ALK:L1198F"}
    assert kb.profile_for(["ALK:L1198F", "ALK:C1156Y"]).id == "ALK:C1156Y+ALK:L1198F"


def test_spec_conflicts_recorded_SOURCE_DOC() -> None:
    """Spec 12.2 conflicts and the 14 brigatinib/G1202R conflict are visible in the KB."""
    kb = load_kb(overlays=())
    pairs = {(c.profile, c.drug) for c in kb.conflicts()}
    assert ("ALK:G1202R", "brigatinib") in pairs  # Lin T^a vs EID1351 / Lin R^a
    assert ("ALK:C1156Y", "ceritinib") in pairs  # SOURCE-DOC potent vs Lin R / EID841
    assert ("ALK:I1171T", "alectinib") in pairs  # SOURCE-DOC sensitive vs Lin R
    assert ("ALK:G1269A", "alectinib") in pairs  # Lin T vs EID1354
    sd = {e.id: e for e in kb.evidence if e.status == "SOURCE-DOC"}
    assert "CONFLICT" in sd["SD-C1156Y-ceritinib-S-12.2"].note
    assert "CONFLICT" in sd["SD-I1171T-alectinib-S-12.2"].note
    assert "MIXED" in sd["SD-G1269A-alectinib-S-12.2"].note
    assert "FALSE for compounds" in sd["SD-G1202R-lorlatinib-S-12.2"].note
    assert "UNSUPPORTED" in sd["SD-S1206Y-brigatinib-S-12.2"].note


def test_no_recalled_values_used_as_evidence() -> None:
    """Spec 13 (Gainor 2016 Fig. 6A) numbers are not KB evidence: no PMID 27432227 item."""
    kb = load_kb(overlays=())
    assert not [e for e in kb.evidence if e.pmid == "27432227"]
    assert not [e for e in kb.evidence if e.ic50_nm in {381.6, 706.6, 49.9}]
