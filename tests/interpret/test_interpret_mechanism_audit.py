"""SOURCE-DOC mechanisms decide a per-drug call only with a recorded ``supported`` audit.

Literature (abstracts read for the KB audit, docs/knowledge-base.md):

* Marlowe TA et al. Mol Cancer Ther 2016;15:3028 (PMID 27638858): receptor tyrosine kinases,
  HER2 directly, phosphorylate FAK Y397 and maintain FAK activation under FAK-kinase
  inhibition; HER2+ cancer cell lines resist FAK-kinase inhibition in 3D growth. KB mechanism
  ``fak_rtk_upregulation`` (ERBB2 overexpression / amplification, EGFR activation), audit
  supported.
* Jiang H et al. Gut 2020;69:122 (PMID 31076405): pSTAT3 rises in pancreatic cancer progressing
  on a FAK inhibitor. KB mechanism ``fak_stat3``, audit supported.
* Pozzato C et al. EMBO Mol Med 2024;16:2402 (PMID 39271958): enhanced ERK5-FAK signalling in
  FAK-inhibitor-resistant KRAS-mutant NSCLC. KB mechanism ``fak_erk5``, audit supported.

Case: a HER2-amplified tumour (no evidence item names ERBB2 amplification x defactinib) gets
its defactinib call from the Marlowe 2016 mechanism, citing PMID 27638858. When the same
mechanism is recorded as unsupported (a KB copy), it is shown with its verdict and flagged, and
it no longer decides: the finding has no usable evidence and the drug call stays ``unknown``.
Tolerance: exact (categorical outputs).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kinresist.interpret import interpret_findings
from kinresist.interpret.readers.text import parse_finding
from kinresist.kb import load_kb
from kinresist.kb.loader import DATA_DIR

BUNDLED = load_kb(overlays=[])
HER2 = ("HER2 overexpression", "HER2 amplification")


def _run(*texts: str, kb=None):
    return interpret_findings([parse_finding(t) for t in texts], kb=kb or BUNDLED)


def _kb_with(tmp_path: Path, *, mechanisms: dict[str, str], evidence: dict[str, str]):
    """A KB copy where the named mechanisms / SOURCE-DOC evidence items get another verdict."""
    dest = tmp_path / "kb"
    shutil.copytree(DATA_DIR, dest)

    def edit(path: Path, section: str, verdicts: dict[str, str]) -> None:
        data = yaml.safe_load(path.read_text())
        for rec in data[section]:
            if rec["id"] in verdicts:
                rec["audit"] = verdicts[rec["id"]]
                rec.pop("audit_pmids", None)
                rec["audit_note"] = "test copy: recorded as not supported"
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    edit(dest / "mechanisms.yaml", "mechanisms", mechanisms)
    edit(dest / "evidence" / "source_documents.yaml", "evidence", evidence)
    return load_kb(dest, overlays=())


def _per(call, label: str) -> str:
    return dict(call.per_finding)[label]


def test_supported_fak_mechanism_decides_with_its_pmid() -> None:
    """Marlowe 2016 (PMID 27638858): HER2 amplification -> defactinib resistant (mechanism)."""
    call = _run(*HER2).drug("defactinib")
    assert call.call == "resistant"
    assert _per(call, "ERBB2 AMPLIFICATION") == "resistant"
    mech = [e for e in call.evidence if e.id == "fak_rtk_upregulation"]
    assert mech, call.evidence
    assert all(e.votes and e.audit == "supported" for e in mech)
    assert {e.audit_pmids for e in mech} == {("27638858",)}
    assert "unverified_evidence_not_used" not in call.flags


@pytest.mark.parametrize(
    ("finding", "mechanism", "pmid"),
    [
        ("STAT3 activation", "fak_stat3", "31076405"),
        ("ERK5 overexpression", "fak_erk5", "39271958"),
    ],
)
def test_supported_stat3_and_erk5_mechanisms_cite_their_pmids(
    finding: str, mechanism: str, pmid: str
) -> None:
    """Jiang 2020 (PMID 31076405), Pozzato 2024 (PMID 39271958)."""
    call = _run("HER2 overexpression", finding).drug("defactinib")
    refs = [e for e in call.evidence if e.id == mechanism]
    assert refs
    assert all(e.audit == "supported" and e.audit_pmids == (pmid,) for e in refs)


def test_unsupported_mechanism_no_longer_decides(tmp_path: Path) -> None:
    """The same HER2 case with the Marlowe 2016 mechanism and evidence item recorded as
    unsupported: both are shown with their verdict, flagged, and the call stays unknown."""
    kb = _kb_with(
        tmp_path,
        mechanisms={"fak_rtk_upregulation": "unsupported"},
        evidence={"FAK-ERBB2-OVEREXPRESSION-defactinib-R": "unsupported"},
    )
    call = _run(*HER2, kb=kb).drug("defactinib")
    assert call.call == "unknown"
    assert call.evidence == ()
    assert "unverified_evidence_not_used" in call.flags
    shown = [e for e in call.context if e.id == "fak_rtk_upregulation"]
    assert shown
    assert all(not e.votes and e.audit == "unsupported" for e in shown)
    assert all(e.exclusion == "audit" for e in shown)
    assert _per(call, "ERBB2 AMPLIFICATION") == "no_evidence"
    assert "fak_rtk_upregulation" in call.rationale  # named as shown, not used


def test_unsupported_mechanism_never_outvotes_or_adds_to_verified_call(tmp_path: Path) -> None:
    """Mechanism unsupported, evidence item still supported: the item decides alone."""
    kb = _kb_with(tmp_path, mechanisms={"fak_rtk_upregulation": "unsupported"}, evidence={})
    call = _run(*HER2, kb=kb).drug("defactinib")
    assert call.call == "resistant"
    assert _per(call, "ERBB2 OVEREXPRESSION") == "resistant"
    assert _per(call, "ERBB2 AMPLIFICATION") == "no_evidence"
    assert "unverified_evidence_not_used" in call.flags
    assert not any(e.id == "fak_rtk_upregulation" and e.votes for e in call.evidence)


@pytest.mark.parametrize("verdict", ["unsupported", "contradicted"])
def test_verdict_is_read_from_the_kb_not_inferred_from_a_pmid_reference(
    tmp_path: Path, verdict: str
) -> None:
    """fak_erk5 still cites PMID 39271958 in ``references``; its recorded verdict rules."""
    dest = tmp_path / "kb"
    shutil.copytree(DATA_DIR, dest)
    data = yaml.safe_load((dest / "mechanisms.yaml").read_text())
    for rec in data["mechanisms"]:
        if rec["id"] == "fak_erk5":
            rec["audit"] = verdict  # a contradicted record keeps the PMID it was checked against
    (dest / "mechanisms.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    kb = load_kb(dest, overlays=())
    mech = next(m for m in kb.mechanisms if m.id == "fak_erk5")
    assert "39271958" in mech.references
    call = _run("HER2 overexpression", "ERK5 overexpression", kb=kb).drug("defactinib")
    assert _per(call, "MAPK7 OVEREXPRESSION") == "no_evidence"
    shown = [e for e in call.context if e.id == "fak_erk5"]
    assert shown
    assert all(e.audit == verdict and not e.votes for e in shown)
    assert "unverified_evidence_not_used" in call.flags


def test_source_doc_mechanisms_without_alterations_never_match() -> None:
    """The four unsupported SOURCE-DOC mechanisms list no alteration: no finding reaches them."""
    kb = BUNDLED
    unsupported = [m for m in kb.mechanisms if m.status == "SOURCE-DOC" and m.audit != "supported"]
    assert {m.id for m in unsupported} == {
        "tme_macrophage_met",
        "tme_gas6_axl",
        "fak_scaffolding",
        "fak_downstream",
    }
    for m in unsupported:
        assert m.alterations == ()
