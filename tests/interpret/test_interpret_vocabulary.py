"""Vocabulary and matching precision (issue 17, class 5).

* Every name and alias of every KB alteration parses in ``--finding`` (parse_finding), in
  findings tables (make_finding via read_findings_table) and matches that alteration exactly.
* Gene aliases: HER2 -> ERBB2, MEK1 -> MAP2K1, FAK -> PTK2, NPM -> NPM1 (fusion partner).
* Gene-level mechanisms: MEK reactivation names MAP2K1, not alleles (PMC8448518 Table 1:
  Hrustanovic 2015, Shrestha 2020) -> any MAP2K1 mutation matches at gene level.
* NF2 loss of function: lorlatinib bypass, mTOR-inhibitor sensitive (Recondo 2020,
  PMID 31585938).
* "KRAS mutation other than G12C" (PMC8448518 Table 1) never covers KRAS G12C.
* Codon-level CIViC items apply only to the alleles their statement reports: EID1344
  (Friboulet 2014, PMID 24675041) is I1171T only; EID1367 (Ou 2015, PMID 25736571) I1171N only.
* Another disease is shown with its disease and flagged: F1245C x lorlatinib rests on
  neuroblastoma cells (Infarinato 2016, PMID 26554404, EID1330).

Tolerance: exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kinresist.errors import InputError
from kinresist.interpret import interpret_findings
from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.matching import match_finding
from kinresist.interpret.names import parse_alteration
from kinresist.interpret.readers.tables import read_findings_table
from kinresist.interpret.readers.text import make_finding, parse_finding
from kinresist.kb import load_kb

BUNDLED = load_kb(overlays=[])
IDX = KBIndex.from_kb(BUNDLED)


def _run(*texts: str, **kw):
    return interpret_findings([parse_finding(t) for t in texts], kb=BUNDLED, **kw)


def _names():
    for a in BUNDLED.alterations.values():
        for x in dict.fromkeys([a.name, *a.aliases, *a.hgvs_c, *([a.hgvs_p] if a.hgvs_p else [])]):
            yield pytest.param(a.id, a.gene, x, id=f"{a.id}|{x}")


@pytest.mark.parametrize(("alt_id", "gene", "text"), list(_names()))
def test_every_kb_alias_parses_and_matches_exactly(alt_id: str, gene: str, text: str) -> None:
    for finding in (make_finding(gene, text), parse_finding(f"{gene} {text}")):
        m = match_finding(finding, IDX)
        assert m.level_of(alt_id) == "exact", (finding, [a.alteration.id for a in m.matches])


def test_aliases_parse_in_findings_tables(tmp_path: Path) -> None:
    rows = [
        ("EGFR", "activation"),
        ("NF2", "loss"),
        ("NF2", "loss-of-function"),
        ("HER2", "amplification"),
        ("ERBB2", "overexpression"),
        ("KRAS", "mutation other than G12C"),
        ("EGFR", "exon 19 deletion"),
        ("MET", "exon 14 skipping"),
        ("CDKN2A", "deletion"),
    ]
    p = tmp_path / "findings.csv"
    p.write_text("gene,alteration\n" + "".join(f"{g},{a}\n" for g, a in rows))
    findings = read_findings_table(p)
    assert [(f.gene, f.kind) for f in findings] == [
        ("EGFR", "expression"),
        ("NF2", "loss"),
        ("NF2", "loss"),
        ("HER2", "amplification"),
        ("ERBB2", "expression"),
        ("KRAS", "gene_mutation"),
        ("EGFR", "deletion"),
        ("MET", "splice"),
        ("CDKN2A", "loss"),
    ]
    r = interpret_findings(findings, kb=BUNDLED)
    by = {(f.finding.gene, f.finding.alteration): f for f in r.findings}
    assert by[("ERBB2", "AMPLIFICATION")].match_level == "exact"  # HER2 -> ERBB2
    assert by[("NF2", "LOSS")].mechanisms == ("nf2_loss",)
    assert by[("CDKN2A", "LOSS")].match_level == "none"  # unknown stays unknown
    assert "not in KB" in by[("CDKN2A", "LOSS")].note


@pytest.mark.parametrize(
    ("text", "short", "kind"),
    [
        ("NF2 loss", "LOSS", "loss"),
        ("NF2 loss-of-function", "LOSS", "loss"),
        ("PTEN deletion", "LOSS", "loss"),
        ("EGFR activation", "ACTIVATION", "expression"),
        ("MET overexpression", "OVEREXPRESSION", "expression"),
        ("EGFR exon 19 deletion", "EXON 19 DELETION", "deletion"),
        ("ALK G1202del", "G1202del", "deletion"),
    ],
)
def test_state_words(text: str, short: str, kind: str) -> None:
    f = parse_finding(text)
    assert (f.alteration, f.kind) == (short, kind)
    assert parse_alteration(text.split(" ", 1)[1]) is not None


def test_gene_aliases_resolve() -> None:
    r = _run("HER2 amplification", "MEK1 K57N", "FAK Y397F", "NPM-ALK")
    genes = [f.finding.gene for f in r.findings]
    assert genes == ["ERBB2", "MAP2K1", "PTK2", "ALK"]
    npm = r.findings[3]
    assert ("ALK:NPM1-ALK", "NPM1-ALK", "exact") in npm.matched


def test_mek_reactivation_matches_map2k1_at_gene_level() -> None:
    r = _run("MAP2K1 K57N", "EML4-ALK v1", prior_therapy="alectinib")
    f = r.findings[0]
    assert f.match_level == "gene"
    assert "mek_reactivation" in f.mechanisms
    assert "not in KB" not in f.note
    assert r.classification == "off_target"
    assert any(o.option == "ALK + MEK blockade" for o in r.options)
    assert _run("MEK activation").findings[0].mechanisms == ("mek_reactivation",)


def test_nf2_loss_of_function_after_lorlatinib() -> None:
    """Recondo 2020 (PMID 31585938): NF2 loss-of-function, lorlatinib bypass, mTOR inhibitors."""
    for text in ("NF2 loss", "NF2 R57*", "NF2 p.Glu129fs"):
        r = _run(text, "EML4-ALK v1", prior_therapy="lorlatinib")
        f = r.findings[0]
        assert f.mechanisms == ("nf2_loss",), text
        assert r.classification == "off_target"
        assert r.drug("lorlatinib").call == "resistant"
        assert any("mTOR" in o.option for o in r.options)


def test_kras_other_than_g12c_does_not_match_g12c() -> None:
    g12c = _run("KRAS G12C", "EML4-ALK v1")
    f = g12c.findings[0]
    assert f.mechanisms == ("kras_g12c",)
    assert "KRAS:MUTATION" not in {m[0] for m in f.matched}
    assert any(o.option == "sotorasib" for o in g12c.options)
    g12d = _run("KRAS G12D", "EML4-ALK v1").findings[0]
    assert g12d.mechanisms == ("kras_mutation",)
    assert _run("KRAS mutation other than G12C").findings[0].mechanisms == ("kras_mutation",)


def test_codon_level_evidence_is_not_lent_to_another_amino_acid() -> None:
    """EID1344 (PMID 24675041) reports ceritinib activity for I1171T only."""
    t = _run("ALK I1171T").drug("ceritinib")
    assert t.call == "sensitive"
    assert "EID1344" in {e.civic_eid for e in t.evidence}
    s = _run("ALK I1171S").drug("ceritinib")
    assert s.call == "unknown"
    shown = {e.civic_eid: e for e in s.context}
    assert shown["EID1344"].exclusion == "codon_scope"
    assert not shown["EID1344"].votes
    # a bare codon ("ALK I1171") is not an allele: no sensitive call from codon items
    bare = _run("ALK I1171")
    assert bare.findings[0].match_level == "exact"  # it names the codon item itself
    assert all(d.call != "sensitive" for d in bare.drugs)


def test_other_disease_evidence_is_shown_with_its_disease_and_flagged() -> None:
    call = _run("ALK F1245C").drug("lorlatinib")
    assert call.call == "sensitive"
    assert "non_lung_evidence" in call.flags
    assert "Neuroblastoma" in call.rationale
    assert {e.disease for e in call.evidence} == {"Neuroblastoma"}


def test_unreadable_still_errors() -> None:
    with pytest.raises(InputError, match="cannot read alteration"):
        parse_finding("ALK something odd")
