"""Audit of the SOURCE-DOC items and the frequency table (issue 17, class 1).

Oracles (written here, not read from the KB files):

* the two SOURCE-DOC statements that contradict Lin 2017 Table 2 and CIViC (spec 12.2):
  ceritinib potency against C1156Y (Lin 2017 R; CIViC EID841, Shaw 2016, PMID 26698910)
  and alectinib activity against I1171T (Lin 2017 R; CIViC EID1283, Katayama 2014,
  PMID 25228534; EID1367, Ou 2015, PMID 25736571);
* frequencies with cohort, denominator and PMID, checked against the abstract of Doebele
  2012 (PMID 22235099): 11 evaluable crizotinib-resistant patients, 4 (36 %) with ALK
  kinase-domain mutations, G1269A in 2 of them, 2 with ALK copy-number gain, 2 with KRAS
  mutations; and Yoda 2018 (PMID 29650534): compound mutations in 7 of 20 lorlatinib-resistant
  biopsies.

Tolerance: exact (categorical verdicts, integer counts).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from kinresist.errors import KnowledgeBaseError
from kinresist.kb import load_kb
from kinresist.kb.loader import DATA_DIR

DOCS = Path(__file__).resolve().parents[2] / "docs" / "knowledge-base.md"
LIN2017 = "28122866"


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "kb"
    shutil.copytree(DATA_DIR, dest)
    return dest


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_every_source_doc_item_is_audited_with_pmids() -> None:
    kb = load_kb(overlays=())
    sd = [e for e in kb.evidence if e.status == "SOURCE-DOC"]
    assert len(sd) == 48
    for e in sd:
        assert e.audit in {"supported", "contradicted", "unsupported"}, e.id
        assert e.audit_note, e.id
        if e.audit != "unsupported":
            assert e.audit_pmids, e.id
            assert all(re.fullmatch(r"\d{6,9}", p) for p in e.audit_pmids), e.id


def test_contradicted_items_are_the_two_the_literature_refutes() -> None:
    """Spec 12.2: ceritinib 'potent vs C1156Y' and alectinib 'sensitive in vitro I1171T'."""
    kb = load_kb(overlays=())
    contradicted = {e.id: e for e in kb.evidence if e.audit == "contradicted"}
    assert set(contradicted) == {"SD-C1156Y-ceritinib-S-12.2", "SD-I1171T-alectinib-S-12.2"}
    assert {"26698910", LIN2017} <= set(contradicted["SD-C1156Y-ceritinib-S-12.2"].audit_pmids)
    assert {"25228534", "25736571", LIN2017} <= set(
        contradicted["SD-I1171T-alectinib-S-12.2"].audit_pmids
    )
    # the verified items they contradict are in the KB and say the opposite
    assert any(
        e.civic_eid == "EID841" and e.drugs == ("ceritinib",) and e.effect == "resistant"
        for e in kb.evidence_for_profile("ALK:C1156Y")
    )
    assert any(
        e.civic_eid == "EID1283" and e.effect == "resistant"
        for e in kb.evidence_for_profile("ALK:I1171X")
    )


def test_unsupported_items_never_vote() -> None:
    kb = load_kb(overlays=())
    unsupported = {e.id for e in kb.evidence if e.audit == "unsupported"}
    assert {
        "SD-G1128A-crizotinib-R",
        "SD-I1171T-brigatinib-S-12.2",
        "SD-S1206Y-brigatinib-S-12.2",
    } <= unsupported
    for e in kb.evidence:
        assert e.votes_eligible == (e.status != "SOURCE-DOC" or e.audit == "supported")


def test_audit_table_in_docs_lists_every_source_doc_item() -> None:
    """docs/knowledge-base.md carries the audit table: item, verdict, PMID(s)."""
    text = DOCS.read_text(encoding="utf-8")
    kb = load_kb(overlays=())
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([^`]+)` \| (supported|contradicted|unsupported) \| ([^|]*)\|", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    for e in kb.evidence:
        if e.status != "SOURCE-DOC":
            continue
        assert e.id in rows, f"{e.id} missing from the audit table"
        verdict, pmids = rows[e.id]
        assert verdict == e.audit, e.id
        for p in e.audit_pmids:
            assert p in pmids, (e.id, p)


def test_source_doc_item_without_audit_is_rejected(kb_copy: Path) -> None:
    def drop(d):
        for e in d["evidence"]:
            if e["id"] == "SD-C1156Y-ceritinib-S-12.2":
                del e["audit"]

    _edit(kb_copy / "evidence" / "source_documents.yaml", drop)
    with pytest.raises(KnowledgeBaseError, match="SOURCE-DOC item without an audit verdict"):
        load_kb(kb_copy, overlays=())


# ----------------------------------------------------------------------------- frequencies
def test_every_frequency_has_cohort_denominator_and_pmid_VERIFIED() -> None:
    kb = load_kb(overlays=())
    assert kb.frequencies
    for af in kb.frequencies:
        f = af.frequency
        assert f.cohort, f.id
        assert f.pmid, f.id
        assert f.denominator, f.id
        assert f.n is not None, f.id
        assert f.low_pct == pytest.approx(100 * f.n / f.denominator)
    by = {af.frequency.id: af for af in kb.frequencies}
    g1269a = by["DOEBELE2012-G1269A"]
    assert (g1269a.subject, g1269a.frequency.n, g1269a.frequency.denominator) == (
        "ALK:G1269A",
        2,
        11,
    )
    assert g1269a.frequency.parent == "DOEBELE2012-ALK-KD"
    assert (by["DOEBELE2012-ALK-KD"].frequency.n, by["DOEBELE2012-ALK-KD"].frequency.pmid) == (
        4,
        "22235099",
    )
    assert (by["YODA2018-COMPOUND"].frequency.n, by["YODA2018-COMPOUND"].frequency.denominator) == (
        7,
        20,
    )
    # the mislabelled spec 12.3 ranges are gone: G1202R "2-29 % after crizotinib" (29 % is an
    # after-alectinib figure) and G1269A "4-36 %" (36 % = 4/11 is the on-target total)
    assert not kb.frequencies_for("ALK:G1202R")
    assert all(f.frequency.high_pct < 36 for f in kb.frequencies_for("ALK:G1269A"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (  # a per-mutation frequency larger than its parent total
            lambda d: d["frequencies"][1].update(n=5),
            "exceeds its parent total",
        ),
        (  # per-mutation frequencies adding up to more than the total
            lambda d: d["frequencies"].append(
                dict(d["frequencies"][1], id="X-L1196M", alteration="ALK:L1196M", n=3)
            ),
            "add up to 5/11",
        ),
        (  # a child from another cohort than its parent
            lambda d: d["frequencies"][1].update(denominator=55),
            "cohort differs from its parent",
        ),
        (  # no denominator
            lambda d: d["frequencies"][0].pop("denominator"),
            "denominator",
        ),
        (  # no PMID
            lambda d: d["frequencies"][0].pop("pmid"),
            "pmid",
        ),
    ],
)
def test_inconsistent_frequencies_are_rejected(kb_copy: Path, edit, message: str) -> None:
    _edit(kb_copy / "frequencies.yaml", edit)
    with pytest.raises(KnowledgeBaseError, match=message):
        load_kb(kb_copy, overlays=())


def test_overlap_declares_patients_counted_twice(kb_copy: Path) -> None:
    """Two children summing above the total are accepted only with the overlap declared."""

    def add(d):
        d["frequencies"][0]["n"] = 2  # total 2/11
        d["frequencies"][1]["n"] = 2
        d["frequencies"].append(
            dict(d["frequencies"][1], id="X-L1196M", alteration="ALK:L1196M", n=1)
        )

    _edit(kb_copy / "frequencies.yaml", add)
    with pytest.raises(KnowledgeBaseError, match="add up to 3/11"):
        load_kb(kb_copy, overlays=())

    def overlap(d):
        d["frequencies"][0]["overlap"] = 1

    _edit(kb_copy / "frequencies.yaml", overlap)
    assert load_kb(kb_copy, overlays=()).frequencies


def test_codon_level_items_name_their_alleles(kb_copy: Path) -> None:
    kb = load_kb(overlays=())
    codon_items = [e for e in kb.evidence if e.profile == "ALK:I1171X"]
    assert {e.civic_eid: e.alleles for e in codon_items} == {
        "EID1283": ("ALK:I1171T",),
        "EID1287": ("ALK:I1171T",),
        "EID1344": ("ALK:I1171T",),
        "EID1367": ("ALK:I1171N",),
    }

    def drop(d):
        for e in d["evidence"]:
            if e["id"] == "EID1344":
                del e["alleles"]

    _edit(kb_copy / "evidence" / "civic_curated.yaml", drop)
    with pytest.raises(KnowledgeBaseError, match="must name the alleles"):
        load_kb(kb_copy, overlays=())


def test_mechanism_gene_without_alterations_is_rejected(kb_copy: Path) -> None:
    def drop(d):
        for m in d["mechanisms"]:
            if m["id"] == "mek_reactivation":
                m["alterations"] = []

    _edit(kb_copy / "mechanisms.yaml", drop)
    with pytest.raises(KnowledgeBaseError, match="gene MAP2K1 has no listed alteration"):
        load_kb(kb_copy, overlays=())
