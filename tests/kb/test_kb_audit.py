"""Audit of the SOURCE-DOC records (evidence items, mechanisms, rules, investigations) and the
frequency table (issue 17, class 1).

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


def _source_doc_records(kb) -> list[tuple[str, str, object]]:
    """Every SOURCE-DOC record of every kind: (kind, id, record)."""
    out: list[tuple[str, str, object]] = []
    out += [("evidence", e.id, e) for e in kb.evidence if e.status == "SOURCE-DOC"]
    out += [("mechanism", m.id, m) for m in kb.mechanisms if m.status == "SOURCE-DOC"]
    out += [("rule", r.id, r) for r in kb.rules if r.status == "SOURCE-DOC"]
    out += [("investigation", i.id, i) for i in kb.investigations if i.status == "SOURCE-DOC"]
    return out


def test_every_source_doc_record_of_every_kind_is_audited() -> None:
    """Mechanisms, rules and investigations carry a verdict like the evidence items."""
    kb = load_kb(overlays=())
    recs = _source_doc_records(kb)
    counts: dict[str, int] = {}
    for kind, rid, r in recs:
        counts[kind] = counts.get(kind, 0) + 1
        assert r.audit in {"supported", "contradicted", "unsupported"}, (kind, rid)
        assert r.audit_note, (kind, rid)
        assert all(re.fullmatch(r"\d{6,9}", p) for p in r.audit_pmids), (kind, rid)
        if r.audit != "unsupported":
            assert r.audit_pmids, (kind, rid)
    assert counts == {"evidence": 48, "mechanism": 7, "rule": 4, "investigation": 12}


def test_fak_mechanism_verdicts_and_pmids() -> None:
    """Marlowe 2016 (PMID 27638858): RTKs (HER2) phosphorylate FAK Y397 under FAK-kinase
    inhibition; Jiang 2020 (PMID 31076405): pSTAT3 rises in PDAC progressing on a FAK
    inhibitor; Pozzato 2024 (PMID 39271958): enhanced ERK5-FAK signalling in FAK-inhibitor-
    resistant KRAS-mutant NSCLC. Mechanisms without a confirmed primary report (and no listed
    alteration) are unsupported."""
    kb = load_kb(overlays=())
    mech = {m.id: m for m in kb.mechanisms}
    assert mech["fak_rtk_upregulation"].audit_pmids == ("27638858",)
    assert mech["fak_stat3"].audit_pmids == ("31076405",)
    assert mech["fak_erk5"].audit_pmids == ("39271958",)
    for mid in ("fak_rtk_upregulation", "fak_stat3", "fak_erk5"):
        assert mech[mid].audit == "supported", mid
    for mid in ("tme_macrophage_met", "tme_gas6_axl", "fak_scaffolding", "fak_downstream"):
        assert mech[mid].audit == "unsupported", mid
        assert not mech[mid].alterations, mid  # can never match a finding
    # the source documents' defactinib IC50 values are not in the Marlowe 2016 abstract and
    # are not stored anywhere in the KB text
    for text in (mech["fak_rtk_upregulation"].description, *(e.statement for e in kb.evidence)):
        assert "1.58" not in text
        assert "0.052" not in text


def test_audit_table_in_docs_lists_every_source_doc_item() -> None:
    """docs/knowledge-base.md carries one audit table: item, kind, verdict, PMID(s), note,
    with a row for every SOURCE-DOC record of every kind (evidence, mechanism, rule,
    investigation), agreeing with the KB's verdict and PMIDs."""
    text = DOCS.read_text(encoding="utf-8")
    kb = load_kb(overlays=())
    rows = {}
    for line in text.splitlines():
        m = re.match(
            r"^\| `([^`]+)` \| (evidence|mechanism|rule|investigation) \| "
            r"(supported|contradicted|unsupported) \| ([^|]*)\| ([^|]+)\|",
            line,
        )
        if m:
            assert m.group(1) not in rows, f"{m.group(1)} listed twice"
            rows[m.group(1)] = (m.group(2), m.group(3), m.group(4), m.group(5).strip())
    recs = _source_doc_records(kb)
    for kind, rid, r in recs:
        assert rid in rows, f"{kind} {rid} missing from the audit table"
        dkind, verdict, pmids, note = rows[rid]
        assert (dkind, verdict) == (kind, r.audit), rid
        assert set(re.findall(r"\d{6,9}", pmids)) == set(r.audit_pmids), rid
        assert note, rid
    assert set(rows) == {rid for _, rid, _ in recs}  # no row for a record the KB lacks
    assert "no audit verdict yet" not in text


def test_source_doc_item_without_audit_is_rejected(kb_copy: Path) -> None:
    def drop(d):
        for e in d["evidence"]:
            if e["id"] == "SD-C1156Y-ceritinib-S-12.2":
                del e["audit"]

    _edit(kb_copy / "evidence" / "source_documents.yaml", drop)
    with pytest.raises(KnowledgeBaseError, match="SOURCE-DOC item without an audit verdict"):
        load_kb(kb_copy, overlays=())


@pytest.mark.parametrize(
    ("file", "section", "rid", "kind"),
    [
        ("mechanisms.yaml", "mechanisms", "fak_rtk_upregulation", "mechanism"),
        ("mechanisms.yaml", "mechanisms", "tme_gas6_axl", "mechanism"),
        ("rules.yaml", "rules", "R3-off-target", "rule"),
        ("rules.yaml", "investigations", "I8-fak-stat3", "investigation"),
    ],
)
def test_source_doc_record_of_any_kind_without_audit_is_rejected(
    kb_copy: Path, file: str, section: str, rid: str, kind: str
) -> None:
    def drop(d):
        for r in d[section]:
            if r["id"] == rid:
                del r["audit"]

    _edit(kb_copy / file, drop)
    with pytest.raises(
        KnowledgeBaseError, match=rf"{kind} '{rid}': SOURCE-DOC item without an audit verdict"
    ):
        load_kb(kb_copy, overlays=())


def test_supported_mechanism_without_pmids_is_rejected(kb_copy: Path) -> None:
    def drop(d):
        for r in d["mechanisms"]:
            if r["id"] == "fak_erk5":
                del r["audit_pmids"]

    _edit(kb_copy / "mechanisms.yaml", drop)
    with pytest.raises(KnowledgeBaseError, match="must cite the PMIDs checked"):
        load_kb(kb_copy, overlays=())


def test_audit_pmid_must_be_a_pubmed_id(kb_copy: Path) -> None:
    def bad(d):
        for r in d["investigations"]:
            if r["id"] == "I7-fak-rtk":
                r["audit_pmids"] = ["Marlowe2016"]

    _edit(kb_copy / "rules.yaml", bad)
    with pytest.raises(KnowledgeBaseError, match="not a PubMed id"):
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
