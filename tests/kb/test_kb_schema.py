"""Loading, schema validation and referential integrity of KB data files."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from kinresist.errors import KnowledgeBaseError
from kinresist.kb import kb_version, load_kb
from kinresist.kb.loader import DATA_DIR


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "kb"
    shutil.copytree(DATA_DIR, dest)
    return dest


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_bundled_kb_loads_and_is_versioned() -> None:
    kb = load_kb(overlays=())
    assert kb.version == kb_version(overlays=()) == "2026.12.2"
    assert kb.release_date == "2026-12-07"
    assert {"ALK", "ROS1", "EGFR", "MET", "KRAS", "KIT", "ERBB2", "PTK2", "EML4"} <= set(kb.genes)
    assert kb.gene("ALK").mane_refseq == "NM_004304.5"
    assert kb.gene("FAK").symbol == "PTK2"
    assert load_kb(overlays=()) is kb  # cached
    statuses = {e.status for e in kb.evidence}
    assert statuses == {"VERIFIED", "SOURCE-DOC"}
    assert all(
        e.source and (e.pmid or e.civic_eid or e.status == "SOURCE-DOC" or e.source)
        for e in kb.evidence
    )


def test_drug_synonyms() -> None:
    kb = load_kb(overlays=())
    expect = {
        "PF-02341066": "crizotinib", "LDK378": "ceritinib", "CH5424802": "alectinib",
        "AP26113": "brigatinib", "PF-06463922": "lorlatinib", "X-396": "ensartinib",
        "VS-6063": "defactinib", "17-AAG": "tanespimycin", "AMG 510": "sotorasib",
        "ALK Inhibitor TAE684": "tae684", "Alectinib (CH5424802)": "alectinib",
        "ALK + MET blockade": "alk inhibitor + met inhibitor", "entrectinib": "entrectinib",
    }  # fmt: skip
    for syn, name in expect.items():
        assert kb.drug(syn).name == name, syn
    assert kb.drug("no-such-drug") is None
    combos = [d for d in kb.drugs.values() if d.components]
    assert len(combos) == 9


def test_name_normalisation() -> None:
    kb = load_kb(overlays=())
    for name in (
        "G1202R",
        "p.Gly1202Arg",
        "p.G1202R",
        "c.3604G>A",
        "g1202r",
        "NM_004304.5:c.3604G>A",
    ):
        assert [a.id for a in kb.find_alterations("ALK", name)] == ["ALK:G1202R"], name
    for name in ("1151Tins", "T1151dup", "c.3451_3453dup", "p.Thr1151dup", "T1151insT"):
        assert [a.id for a in kb.find_alterations("ALK", name)] == ["ALK:T1151dup"], name
    for c in ("c.3522C>A", "c.3522C>G", "c.3520T>C"):
        assert [a.id for a in kb.find_alterations("ALK", c)] == ["ALK:F1174L"]
    assert kb.find_alterations("ALK", "I1171")[0].id == "ALK:I1171X"
    assert kb.find_alterations("ALK", "X9999Y") == ()  # unknown stays unknown
    assert kb.find_alterations("NOTAGENE", "G1202R") == ()
    fus = kb.fusions("ALK", partner="EML4", variant="v3a")
    assert [a.id for a in fus] == [
        "ALK:EML4-ALK v3",
        "ALK:EML4-ALK v3a",
        "ALK:EML4-ALK",
        "ALK:FUSION",
    ]
    assert kb.amplification("MET").id == "MET:AMPLIFICATION"


def test_mechanisms_and_investigations() -> None:
    kb = load_kb(overlays=())
    cats = {m.category for m in kb.mechanisms}
    assert cats >= {
        "on_target_mutation",
        "on_target_amplification",
        "bypass_rtk",
        "downstream",
        "microenvironment",
        "fak_specific",
    }
    assert {m.id for m in kb.mechanisms_for_alteration("MET:AMPLIFICATION")} == {
        "met_amplification"
    }
    texts = " ".join(i.text for i in kb.investigations)
    for needle in (
        "exons 21-25",
        "FISH",
        "Phospho-RTK array",
        "STR",
        "Mycoplasma",
        "STAT3",
        "ERK5",
        "HER2/EGFR",
    ):
        assert needle in texts, needle
    assert [r.id for r in kb.rules_for("off_target")] == ["R3-off-target"]
    (prior,) = kb.priors
    assert (prior.given, prior.raises) == ("ALK:EML4-ALK v3", "ALK:G1202R")
    assert dict(prior.observed)["g1202r_pct_v3"] == 32
    # every frequency is n/denominator of one cohort with a PMID (Doebele 2012 abstract: 11
    # evaluable crizotinib-resistant patients, 4 with ALK kinase-domain mutations, 2 of them
    # G1269A; 2 KRAS). The former SOURCE-DOC ranges (G1269A "4-36 %", KRAS "9-18 %", on-target
    # "20-30 %") had no cohort and mislabelled the totals; they are gone.
    freq = {
        (f.subject, f.frequency.n, f.frequency.denominator, f.frequency.pmid)
        for f in kb.frequencies
    }
    assert ("ALK:G1269A", 2, 11, "22235099") in freq
    assert ("KRAS:MUTATION", 2, 11, "22235099") in freq
    m = kb.mechanism("alk_kinase_domain_mutation")
    assert {(f.n, f.denominator) for f in m.frequencies} == {(4, 11)}


def test_kb_version_is_cheap() -> None:
    t = time.perf_counter()
    for _ in range(20):
        kb_version(overlays=())
    assert kb_version(overlays=()) == "2026.12.2"
    # informational only: no timing assertion (speed is measured in benchmarks)
    _ = time.perf_counter() - t


@pytest.mark.parametrize(
    ("target", "edit", "message"),
    [
        (
            "alterations/ALK.yaml",
            lambda d: d["alterations"][0].update(kind="typo_kind"),
            "ALK:G1128A",
        ),
        (
            "alterations/ALK.yaml",
            lambda d: d["alterations"][0].update(grch37=["2:29445450:C>C"]),
            "REF equals ALT",
        ),
        (
            "alterations/ALK.yaml",
            lambda d: d["alterations"][0].update(colour="red"),
            "Extra inputs",
        ),
        (
            "alterations/ALK.yaml",
            lambda d: d["alterations"].append(dict(d["alterations"][0])),
            "duplicate alteration id 'ALK:G1128A'",
        ),
        (
            "alterations/ALK.yaml",
            lambda d: d["alterations"][0].update(grch38=["2:29222585:C>G"]),
            "offset -222866",
        ),
        (
            "evidence/lin2017.yaml",
            lambda d: d["evidence"][0].update(drugs=["notadrug"]),
            "drug 'notadrug'",
        ),
        (
            "evidence/lin2017.yaml",
            lambda d: d["evidence"][0].update(profile="ALK:Z9999Z"),
            "profile 'ALK:Z9999Z'",
        ),
        ("evidence/lin2017.yaml", lambda d: d["evidence"][0].update(effect="sensitve"), "effect"),
        ("evidence/lin2017.yaml", lambda d: d["evidence"][0].update(pmid="abc"), "pmid"),
        (
            "profiles.yaml",
            lambda d: d["profiles"][0].update(components=["ALK:NOPE"]),
            "component 'ALK:NOPE'",
        ),
        ("drugs.yaml", lambda d: d["drugs"][0].update(name="Crizotinib"), "lower-case"),
        ("drugs.yaml", lambda d: d["drugs"][1].update(synonyms=["PF-02341066"]), "also names drug"),
        ("mechanisms.yaml", lambda d: d["mechanisms"][0].update(category="magic"), "category"),
        ("version.yaml", lambda d: d.update(kb_version="latest"), "kb_version"),
    ],
)
def test_bad_kb_files_are_rejected(kb_copy: Path, target: str, edit, message: str) -> None:
    _edit(kb_copy / target, edit)
    with pytest.raises(KnowledgeBaseError) as exc:
        load_kb(kb_copy, overlays=())
    text = str(exc.value)
    assert message in text
    assert target.split("/")[-1] in text  # the file is named


def test_yaml_syntax_error_names_line(kb_copy: Path) -> None:
    (kb_copy / "profiles.yaml").write_text("profiles:\n  - id: [unclosed\n")
    with pytest.raises(KnowledgeBaseError, match=r"profiles.yaml line \d+"):
        load_kb(kb_copy, overlays=())


def test_missing_file_and_not_a_kb(kb_copy: Path, tmp_path: Path) -> None:
    (kb_copy / "drugs.yaml").unlink()
    with pytest.raises(KnowledgeBaseError, match=r"drugs\.yaml is missing"):
        load_kb(kb_copy, overlays=())
    with pytest.raises(KnowledgeBaseError, match="not a KB directory"):
        load_kb(tmp_path / "nothing", overlays=())
    with pytest.raises(KnowledgeBaseError, match="overlay"):
        load_kb(overlays=[tmp_path / "no-overlay"])
