"""Post-progression reasoning and option ranking (issue 17, class 4).

Oracles (literature):

* ALEX (Peters 2017 NEJM, PMID 28586279; CIViC EID4858) is a first-line trial: it says nothing
  about crizotinib or alectinib after progression on alectinib.
* Alectinib after crizotinib progression: NP28761 (Shaw 2016 Lancet Oncol, PMID 26708155;
  EID1282); ceritinib after an ALK inhibitor: ASCEND-1 pretreated cohort (PMID 26973324, EID1175).
* Guideline sequence: sequential therapy with increasingly potent ALK TKIs, lorlatinib after
  failure of previous ALK TKIs (Yoda 2018, PMID 29650534).
* G1202R after alectinib: lorlatinib (Lin 2017 T^b, PMID 28122866), alectinib R.
* I1171T after alectinib: ceritinib (Katayama 2014, PMID 25228534; Friboulet 2014,
  PMID 24675041) and lorlatinib (Lin 2017 T).
* C1156Y + L1198F after lorlatinib: crizotinib (Shaw 2016, PMID 26698910) - an earlier
  generation, ranked first on mutation-specific evidence.

Tolerance: exact (ranks, calls, levels).
"""

from __future__ import annotations

import pytest

from kinresist.interpret import interpret_findings
from kinresist.interpret.readers.text import parse_finding
from kinresist.kb import load_kb

BUNDLED = load_kb(overlays=[])


def _run(*texts: str, **kw):
    return interpret_findings([parse_finding(t) for t in texts], kb=BUNDLED, **kw)


def _ranked(r) -> list[str]:
    return [o.option for o in r.options if o.group != "mechanism"]


def test_after_alectinib_no_mutation_crizotinib_is_not_ranked_first() -> None:
    r = _run("EML4-ALK v1", prior_therapy="alectinib")
    ranked = _ranked(r)
    assert ranked
    assert ranked[0] == "lorlatinib"
    assert "crizotinib" not in ranked  # first-line ALEX data do not apply after progression
    assert "alectinib" not in ranked
    first = r.options[0]
    assert first.group == "guideline_sequence"
    assert "29650534" in first.basis
    assert "no evidence in the KB" in first.basis
    crizo = r.drug("crizotinib")
    assert crizo.call == "unknown"
    assert "first_line_evidence_not_applicable" in crizo.flags
    alex = next(e for e in crizo.context if e.id == "CLIN-ALEX-crizotinib")
    assert alex.exclusion == "setting"
    assert not alex.votes
    alec = r.drug("alectinib")
    assert alec.call == "resistant"
    assert "progressed_on" in alec.flags


@pytest.mark.parametrize(
    "prior", ["crizotinib", "ceritinib", "alectinib", "brigatinib", "lorlatinib"]
)
def test_the_drug_progressed_on_is_never_sensitive(prior: str) -> None:
    for findings in (("EML4-ALK v3",), ("ALK L1196M", "EML4-ALK v1"), ("ALK amplification",)):
        r = _run(*findings, prior_therapy=prior)
        call = r.drug(prior)
        assert call.call not in {"sensitive"}, (findings, prior)
        assert call.prior_therapy
        assert prior not in [o.option for o in r.options]


def test_after_crizotinib_post_progression_trials_rank_second_generation() -> None:
    r = _run("EML4-ALK v1", prior_therapy="crizotinib")
    ranked = _ranked(r)
    assert "crizotinib" not in ranked
    assert ranked[:2] == ["alectinib", "ceritinib"]  # level B post-crizotinib trials
    opts = {o.option: o for o in r.options}
    assert opts["alectinib"].level == "B"
    assert "26708155" in r.drug("alectinib").basis or "CLIN-NP28673" in r.drug("alectinib").basis
    assert opts["ceritinib"].level == "B"
    assert "EID1175" in r.drug("ceritinib").basis
    # ALEX (first line) is shown but not used for alectinib after crizotinib
    assert "first_line_evidence_not_applicable" in r.drug("alectinib").flags
    assert opts["lorlatinib"].group == "guideline_sequence"


def test_g1202r_after_alectinib_ranks_lorlatinib_with_the_matching_level() -> None:
    r = _run("ALK G1202R", "EML4-ALK v3", prior_therapy="alectinib")
    first = r.options[0]
    assert (first.option, first.call, first.level, first.group) == (
        "lorlatinib",
        "sensitive",
        "D",
        "mutation_specific",
    )
    assert "G1202R" in first.basis
    assert "exact match" in first.basis
    assert "LIN17-G1202R-lorlatinib-T" in first.evidence
    assert r.drug("alectinib").call == "resistant"


def test_i1171t_after_alectinib_ranks_mutation_specific_options() -> None:
    r = _run("ALK I1171T", prior_therapy="alectinib")
    specific = [o.option for o in r.options if o.group == "mutation_specific"]
    assert set(specific) == {"lorlatinib", "ceritinib"}
    assert r.drug("ceritinib").call == "sensitive"
    assert {"24675041", "28122866"} <= {e.pmid for e in r.drug("ceritinib").evidence}
    assert r.drug("alectinib").call == "resistant"


def test_earlier_generation_ranks_first_only_on_mutation_specific_evidence() -> None:
    r = _run("ALK C1156Y", "ALK L1198F", prior_therapy="lorlatinib")
    first = r.options[0]
    assert (first.option, first.group, first.level) == ("crizotinib", "mutation_specific", "C")
    assert "earlier generation than lorlatinib" in first.basis
    # without mutation-specific evidence an earlier generation never outranks the sequence
    r2 = _run("EML4-ALK v1", prior_therapy="crizotinib, alectinib")
    assert _ranked(r2)[0] == "lorlatinib"
    assert "crizotinib" not in _ranked(r2)


def test_prior_therapy_sequence_is_parsed() -> None:
    r = _run("EML4-ALK v1", prior_therapy="crizotinib -> alectinib")
    assert r.prior_therapy == "crizotinib, alectinib"
    assert r.drug("crizotinib").prior_therapy
    assert r.drug("alectinib").prior_therapy
    r2 = _run("EML4-ALK v1", prior_therapy=["crizotinib", "alectinib"])
    assert r2.prior_therapy == "crizotinib, alectinib"
