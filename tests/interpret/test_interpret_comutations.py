"""Co-mutations are annotated, never a mechanism (issue 17, class 2).

TP53 is listed in PMC8448518 Table 1 (Gainor 2016) with no option; it is a prognostic
co-alteration of ALK-positive NSCLC, not a bypass track. Oracle: every call and the
classification with the co-mutation equal those without it (the ALK findings' calls come from
Lin 2017 Table 2, PMID 28122866; G1202R: Katayama 2012, PMID 22277784; L1196M: Choi 2010,
PMID 20979473; I1171N: Ou 2015, PMID 25736571). Tolerance: exact.
"""

from __future__ import annotations

import pytest

from kinresist.interpret import interpret_findings
from kinresist.interpret.readers.text import parse_finding
from kinresist.kb import load_kb

BUNDLED = load_kb(overlays=[])


def _run(*texts: str, **kw):
    return interpret_findings([parse_finding(t) for t in texts], kb=BUNDLED, **kw)


def _calls(r) -> dict[str, str]:
    return {d.drug: d.call for d in r.drugs}


@pytest.mark.parametrize(
    ("alk", "co", "prior"),
    [
        (("ALK G1202R",), "TP53 R273H", None),  # PMID 22277784 / 28122866
        (("ALK G1202R vaf=8%", "EML4-ALK v3"), "TP53 R273H vaf=45%", "alectinib"),
        (("ALK L1196M vaf=10%",), "TP53 R175H vaf=60%", "crizotinib"),  # PMID 20979473
        (("ALK I1171N",), "TP53 p.Arg213fs", "alectinib"),  # PMID 25736571
        (("EML4-ALK v3",), "TP53 mutation", "alectinib"),
    ],
)
def test_co_mutation_changes_neither_class_nor_calls(
    alk: tuple[str, ...], co: str, prior: str | None
) -> None:
    alone = _run(*alk, prior_therapy=prior)
    both = _run(*alk, co, prior_therapy=prior)
    assert both.classification == alone.classification
    assert _calls(both) == _calls(alone)
    assert [o.option for o in both.options] == [o.option for o in alone.options]
    tp53 = next(f for f in both.findings if f.finding.gene == "TP53")
    assert tp53.role == "co_mutation"
    assert tp53.clone is None  # never the dominant clone of the VAF rule
    assert any("co-mutation" in n for n in both.notes)
    # the VAF rule is not distorted by a high-VAF TP53: the ALK clone is not "minor"
    assert all(f.clone != "minor_subclone" for f in both.findings)


def test_g1202r_with_tp53_is_on_target_not_heterogeneous() -> None:
    r = _run("ALK G1202R", "TP53 R273H")
    assert r.classification == "on_target_mutation"
    assert r.drug("lorlatinib").call == "sensitive"  # Lin 2017 T^b
    assert "TP53" not in {f.finding.gene for f in r.findings if f.role == "off_target"}


def test_fusion_with_tp53_only_is_none_found() -> None:
    r = _run("EML4-ALK v1", "TP53 R248Q")
    assert r.classification == "none_found"
    mech = {m["id"]: m for m in r.mechanisms}
    assert mech["tp53_mutation"]["category"] == "co_mutation"
