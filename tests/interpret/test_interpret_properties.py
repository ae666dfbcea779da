"""Property tests of the interpretation engine (issue 17, class 6).

Invariants, over random sets of findings (known and unknown ALK alleles, codon-only names,
fusions, bypass and co-alterations) and random prior therapies:

1. **No sensitivity without a specific match.** Whenever a drug is called ``sensitive``, some
   voting sensitive item comes from a profile every component of which the sample carries
   exactly - an allele named by a finding (looked up independently with
   ``KnowledgeBase.find_alterations``), a curated compound of such alleles, or the fusion /
   amplification / state item the finding names - and a codon-level item only when its
   source names the finding's allele. Gene-, exon- and out-of-scope codon-level items never
   produce "sensitive".
2. **Unknown stays unknown.** A single alteration absent from the KB (no allele, codon, exon or
   gene-level item) gives ``unknown`` for every drug.
3. **Never sensitive to the drug the tumour progressed on.**
4. **Co-occurring ALK mutations without a curated compound are never ``sensitive``.**

The oracle for (1) is computed with the KB's own lookup API, not with the engine's matching
code. Tolerance: exact (categorical).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinresist.interpret import interpret_findings
from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.readers.text import make_finding
from kinresist.kb import load_kb

KB = load_kb(overlays=[])
IDX = KBIndex.from_kb(KB)
ALLELE_KINDS = {"substitution", "insertion", "deletion", "delins", "splice"}
AA = "ACDEFGHIKLMNPQRSTVWY"
TKIS = ["crizotinib", "ceritinib", "alectinib", "brigatinib", "lorlatinib"]

KNOWN_ALK = sorted(
    a.name for a in KB.alterations.values() if a.gene == "ALK" and a.kind in ALLELE_KINDS
)
OTHER = [
    ("EML4", "EML4-ALK v1"),
    ("EML4", "EML4-ALK v3"),
    ("KIF5B", "KIF5B-ALK"),
    ("ALK", "amplification"),
    ("MET", "amplification"),
    ("KRAS", "G12C"),
    ("KRAS", "G12D"),
    ("KRAS", "A146T"),
    ("EGFR", "activation"),
    ("ERBB2", "amplification"),
    ("MAP2K1", "K57N"),
    ("TP53", "R273H"),
    ("NF2", "loss"),
    ("ALK", "I1171"),
    ("EGFR", "L858R"),
]


@st.composite
def alk_substitution(draw: st.DrawFn) -> tuple[str, str]:
    codon = draw(st.integers(1100, 1300))
    ref = draw(st.sampled_from(AA))
    alt = draw(st.sampled_from(AA).filter(lambda a: a != ref))
    return "ALK", f"{ref}{codon}{alt}"


finding_spec = st.one_of(
    st.sampled_from([("ALK", n) for n in KNOWN_ALK]),
    alk_substitution(),
    st.sampled_from(OTHER),
)


def _carried(specs: list[tuple[str, str]]) -> tuple[set[str], set[str]]:
    """(alteration ids the sample carries exactly, allele ids) via the KB lookup API."""
    carried: set[str] = set()
    alleles: set[str] = set()
    for gene, text in specs:
        if "-" in text:  # fusion
            partner, _, rest = text.partition("-")
            variant = rest.split(" ")[1] if " " in rest else None
            carried |= {a.id for a in KB.fusions("ALK", partner=partner, variant=variant)}
            continue
        if text == "amplification":
            amp = KB.amplification(gene)
            carried |= {amp.id} if amp else set()
            continue
        if text in {"activation", "loss"}:
            kind = "expression" if text == "activation" else "loss"
            carried |= {a.id for a in KB.gene_alterations(gene, kind)}
            continue
        for a in KB.find_alterations(gene, text):
            carried.add(a.id)
            if a.kind in ALLELE_KINDS:
                alleles.add(a.id)
    return carried, alleles


def _specific(e, carried: set[str], alleles: set[str]) -> bool:
    prof = KB.profiles[e.profile]
    if not set(prof.components) <= carried:
        return False
    item = next(x for x in KB.evidence if x.id == e.id)
    if len(prof.components) == 1 and KB.alterations[prof.components[0]].kind == "codon":
        return "*" in item.alleles or bool(set(item.alleles) & alleles)
    return all(KB.alterations[c].kind != "gene_mutation" for c in prof.components)


@pytest.mark.hypothesis
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(finding_spec, min_size=1, max_size=4, unique=True),
    prior=st.one_of(st.none(), st.sampled_from(TKIS)),
)
def test_sensitive_only_from_specific_matches(
    specs: list[tuple[str, str]], prior: str | None
) -> None:
    findings = [make_finding(g, t) for g, t in specs]
    r = interpret_findings(findings, kb=IDX, prior_therapy=prior)
    carried, alleles = _carried(specs)
    for d in r.drugs:
        if d.call != "sensitive":
            continue
        support = [e for e in (*d.evidence, *d.context) if e.votes and e.effect == "sensitive"]
        assert support, (specs, d.drug)
        assert any(_specific(e, carried, alleles) for e in support), (
            specs,
            d.drug,
            [(e.id, e.profile, e.precision) for e in support],
        )
    # 3. never sensitive to the drug the tumour progressed on
    if prior is not None:
        assert r.drug(prior).call != "sensitive"
    # 4. co-occurring ALK mutations without a curated compound: never sensitive
    alk_alleles = {a for a in alleles if a.startswith("ALK:")}
    if len(alk_alleles) > 1 and not any(p.compound and p.most_specific for p in r.profiles):
        assert all(d.call != "sensitive" for d in r.drugs if d.drug in TKIS), specs


@st.composite
def absent_alteration(draw: st.DrawFn) -> tuple[str, str]:
    """An ALK/EGFR/ROS1 substitution or an unknown gene's change that the KB does not know."""
    gene = draw(st.sampled_from(["ALK", "EGFR", "ROS1", "ZNF703", "CDK12"]))
    codon = draw(st.integers(20, 2300))
    ref = draw(st.sampled_from(AA))
    alt = draw(st.sampled_from(AA).filter(lambda a: a != ref))
    return gene, f"{ref}{codon}{alt}"


@pytest.mark.hypothesis
@settings(max_examples=250, deadline=None)
@given(spec=absent_alteration())
def test_alteration_absent_from_kb_is_unknown_for_every_drug(spec: tuple[str, str]) -> None:
    gene, text = spec
    codon = int(text[1:-1])
    known = KB.find_alterations(gene, text) or (
        KB.codon_alteration(gene, codon) if KB.gene(gene) else None
    )
    if known:
        return  # in the KB: not this property
    r = interpret_findings([make_finding(gene, text)], kb=IDX)
    assert r.findings[0].match_level == "none"
    assert "not in KB" in r.findings[0].note
    assert all(d.call == "unknown" for d in r.drugs), [(d.drug, d.call) for d in r.drugs]
    assert r.classification == "none_found"
