"""Unverified items never outvote verified evidence; the conflict is shown (issue 17, class 1).

Literature-grounded cases (oracle = the primary reports and Lin 2017 Table 2, PMID 28122866):

* ALK C1156Y x ceritinib: resistant. Shaw 2016 NEJM (PMID 26698910, CIViC EID841): the
  C1156Y tumour progressed on ceritinib. The source documents' "potent vs C1156Y" is shown,
  marked contradicted, never used.
* ALK I1171T x alectinib: resistant. Katayama 2014 (PMID 25228534, EID1283): I1171T found at
  alectinib progression, > 10x Ba/F3 IC50. The "sensitive in vitro" statement is contradicted.
* ALK I1171N x alectinib: resistant (Ou 2015, PMID 25736571, EID1367; Lin 2017 R).
* ALK S1206Y x brigatinib and ALK I1171T x brigatinib: Lin 2017 leaves the cells blank and
  CIViC has nothing; the source-document "potent" claim is unsupported -> unknown.
* ALK G1128A x crizotinib: only an unsupported source-document statement -> unknown.

Tolerance: exact (categorical calls).
"""

from __future__ import annotations

import pytest

from kinresist.interpret import interpret_findings
from kinresist.interpret.readers.text import parse_finding
from kinresist.interpret.result import EvidenceRef
from kinresist.interpret.rules import call_from_evidence
from kinresist.kb import load_kb

BUNDLED = load_kb(overlays=[])


def _call(text: str, drug: str, **kw):
    return interpret_findings([parse_finding(text)], kb=BUNDLED, **kw).drug(drug)


@pytest.mark.parametrize(
    ("finding", "drug", "contradicted", "verified_pmid"),
    [
        ("ALK C1156Y", "ceritinib", "SD-C1156Y-ceritinib-S-12.2", "26698910"),
        ("ALK I1171T", "alectinib", "SD-I1171T-alectinib-S-12.2", "25228534"),
    ],
)
def test_contradicted_source_doc_is_shown_never_used(
    finding: str, drug: str, contradicted: str, verified_pmid: str
) -> None:
    call = _call(finding, drug)
    assert call.call == "resistant"
    assert call.conflict, "the disagreement must be shown"
    assert contradicted in call.conflict_note
    shown = {e.id: e for e in call.context}
    assert contradicted in shown
    assert not shown[contradicted].votes
    assert shown[contradicted].audit == "contradicted"
    assert shown[contradicted].exclusion == "audit"
    assert contradicted not in {e.id for e in call.evidence}
    assert verified_pmid in {e.pmid for e in call.evidence}
    assert "unverified_evidence_not_used" in call.flags
    d = call.to_dict()
    sd = next(e for e in d["context_evidence"] if e["id"] == contradicted)
    assert sd["used_for_call"] is False
    assert sd["audit"] == "contradicted"
    assert sd["excluded_because"] == "audit"


def test_i1171n_alectinib_resistant_with_codon_item_in_scope() -> None:
    """EID1367 (Ou 2015, PMID 25736571) reports I1171N at alectinib progression: it applies."""
    call = _call("ALK I1171N", "alectinib")
    assert call.call == "resistant"
    assert "EID1367" in {e.civic_eid for e in call.evidence}
    assert "EID1283" not in {e.civic_eid for e in call.evidence}  # about I1171T only


@pytest.mark.parametrize(
    ("finding", "drug", "unsupported"),
    [
        ("ALK S1206Y", "brigatinib", "SD-S1206Y-brigatinib-S-12.2"),
        ("ALK I1171T", "brigatinib", "SD-I1171T-brigatinib-S-12.2"),
        ("ALK G1128A", "crizotinib", "SD-G1128A-crizotinib-R"),
    ],
)
def test_unsupported_source_doc_alone_gives_unknown(
    finding: str, drug: str, unsupported: str
) -> None:
    call = _call(finding, drug)
    assert call.call == "unknown"
    assert unsupported in {e.id for e in call.context}
    assert all(not e.votes for e in call.context)
    assert "unverified_evidence_not_used" in call.flags


def _ref(i: str, effect: str, level: str, status: str, audit: str | None = None) -> EvidenceRef:
    return EvidenceRef(
        id=i, profile="ALK:X", profile_name="ALK X", precision="exact", drug="d",
        effect=effect, level=level, status=status, source="s", model_system="review",
        pmid="12345678", disease="", audit=audit,
    )  # fmt: skip


def test_unverified_never_outvotes_verified_even_at_a_stronger_level() -> None:
    """A supported SOURCE-DOC item at level A does not outvote a VERIFIED level-D item."""
    items = [
        _ref("V", "resistant", "D", "VERIFIED"),
        _ref("S", "sensitive", "A", "SOURCE-DOC", "supported"),
        _ref("C", "sensitive", "A", "SOURCE-DOC", "contradicted"),
    ]
    call, conflict, note, marked = call_from_evidence(items)
    assert call == "resistant"
    assert conflict
    assert "S [A, SOURCE-DOC audit supported]" in note
    assert "C [A, SOURCE-DOC audit contradicted]" in note
    assert [e.votes for e in marked] == [True, False, False]
    # without the verified item the supported one decides; the contradicted one never does
    call2, _, _, marked2 = call_from_evidence(items[1:])
    assert call2 == "sensitive"
    assert [e.votes for e in marked2] == [True, False]
    call3, conflict3, _, _ = call_from_evidence(items[2:])
    assert (call3, conflict3) == ("unknown", False)
