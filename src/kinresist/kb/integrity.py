"""Referential-integrity and coordinate checks run on every KB load.

* every alteration's gene exists and its id starts with ``GENE:``;
* every profile component, evidence profile and evidence drug exists;
* combination drugs list existing components; no synonym names two drugs;
* mechanism alterations, frequency subjects and prior rules refer to existing ids;
* every SOURCE-DOC record (evidence item, mechanism, interpretation rule, investigation)
  carries an audit verdict (supported / contradicted / unsupported), the PMIDs it was
  checked against (supported / contradicted) and a note (what was found or searched);
* items on a codon-level profile name the alleles their source reports; post-progression
  items name the drugs the patients had progressed on;
* every frequency is ``n`` of ``denominator`` in one cohort with a PMID, and per-mutation
  frequencies agree with their parent total (each at most the parent, together at most the
  parent plus the patients counted twice);
* every gene of a bypass / downstream / co-mutation mechanism has a listed alteration, so a
  finding in that gene matches at least at gene level;
* curated alleles sit on the gene's chromosome, and when the gene has a constant
  GRCh37->GRCh38 offset each GRCh38 allele equals a GRCh37 allele shifted by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

from kinresist.errors import KnowledgeBaseError
from kinresist.kb.knowledge_base import KnowledgeBase, _drug_key
from kinresist.kb.model import Evidence, Frequency

Fail = Callable[[str, str, str], NoReturn]

__all__ = ["check_integrity"]


def check_integrity(kb: KnowledgeBase, *, where: Mapping[str, Mapping[str, Path]]) -> None:
    """Raise :class:`KnowledgeBaseError` naming file and entry for the first problem."""

    def fail(kind: str, key: str, problem: str) -> NoReturn:
        path = where.get(kind, {}).get(key, "?")
        msg = f"KB file {path}: {kind} {key!r}: {problem}"
        raise KnowledgeBaseError(msg)

    seen: dict[str, str] = {}
    for d in kb.drugs.values():
        for syn in (d.name, *d.synonyms):
            k = _drug_key(syn)
            if k in seen and seen[k] != d.name:
                fail("drug", d.name, f"synonym {syn!r} also names drug {seen[k]!r}")
            seen[k] = d.name
        for c in d.components:
            if c not in kb.drugs:
                fail("drug", d.name, f"combination component {c!r} is not a KB drug")

    for a in kb.alterations.values():
        gene = kb.genes.get(a.gene)
        if gene is None:
            fail("alteration", a.id, f"gene {a.gene!r} is not in genes.yaml")
            continue
        if not a.id.startswith(a.gene + ":"):
            fail("alteration", a.id, f"id must start with '{a.gene}:'")
        for al in (*a.grch37, *a.grch38):
            if al.chrom != gene.chrom:
                fail("alteration", a.id, f"allele on chr{al.chrom}, gene is on chr{gene.chrom}")
        off = gene.grch37_to_grch38_offset
        if off is not None and a.grch38:
            expected = {(x.pos + off, x.ref, x.alt) for x in a.grch37}
            for al in a.grch38:
                if (al.pos, al.ref, al.alt) not in expected:
                    fail(
                        "alteration",
                        a.id,
                        f"GRCh38 allele {al.pos}:{al.ref}>{al.alt} is not a GRCh37 allele "
                        f"shifted by the gene's offset {off:+d}",
                    )

    for p in kb.profiles.values():
        for c in p.components:
            if c not in kb.alterations:
                fail("profile", p.id, f"component {c!r} is not a KB alteration")

    for a in kb.alterations.values():
        for x in a.excludes:
            if x not in kb.alterations:
                fail("alteration", a.id, f"excludes {x!r}, which is not a KB alteration")

    for e in kb.evidence:
        if e.profile not in kb.profiles:
            fail("evidence", e.id, f"profile {e.profile!r} is not in the KB")
        for dname in e.drugs:
            if dname not in kb.drugs:
                fail(
                    "evidence", e.id, f"drug {dname!r} is not in drugs.yaml (use the generic name)"
                )
        _check_evidence(kb, e, fail)

    for m in kb.mechanisms:
        for a_id in m.alterations:
            if a_id not in kb.alterations:
                fail("mechanism", m.id, f"alteration {a_id!r} is not in the KB")
        for x in m.excludes:
            if x not in kb.alterations:
                fail("mechanism", m.id, f"excludes {x!r}, which is not a KB alteration")
    _check_mechanism_genes(kb, fail)
    for m in kb.mechanisms:
        _check_audit("mechanism", m.id, m.status, m.audit, m.audit_pmids, m.audit_note, fail)
    for r in kb.rules:
        _check_audit("rule", r.id, r.status, r.audit, r.audit_pmids, r.audit_note, fail)
    for i in kb.investigations:
        _check_audit("investigation", i.id, i.status, i.audit, i.audit_pmids, i.audit_note, fail)
    mech_ids = {m.id for m in kb.mechanisms}
    for f in kb.frequencies:
        if f.subject not in kb.alterations and f.subject not in mech_ids:
            msg = f"KB frequencies.yaml: subject {f.subject!r} is neither an alteration nor a mechanism"
            raise KnowledgeBaseError(msg)
    _check_frequencies(kb, fail)
    for pr in kb.priors:
        for a_id in (pr.given, pr.raises):
            if a_id not in kb.alterations:
                msg = f"KB rules.yaml: prior {pr.id!r} refers to unknown alteration {a_id!r}"
                raise KnowledgeBaseError(msg)


_GENE_LEVEL_CATEGORIES = frozenset({"bypass_rtk", "downstream", "co_mutation"})


def _check_audit(
    kind: str,
    key: str,
    status: str,
    audit: str | None,
    pmids: tuple[str, ...],
    note: str,
    fail: Fail,
) -> None:
    """A SOURCE-DOC record must carry a verdict, its PMIDs (unless unsupported) and a note."""
    if status != "SOURCE-DOC":
        return
    if audit is None:
        fail(
            kind,
            key,
            "SOURCE-DOC item without an audit verdict; add 'audit: supported | "
            "contradicted | unsupported' with 'audit_pmids' and 'audit_note' "
            "(docs/knowledge-base.md)",
        )
    if audit in {"supported", "contradicted"} and not pmids:
        fail(kind, key, f"audit {audit!r} must cite the PMIDs checked (audit_pmids)")
    if not note:
        fail(kind, key, f"audit {audit!r} must say what was found or searched (audit_note)")


def _check_evidence(kb: KnowledgeBase, e: Evidence, fail: Fail) -> None:
    _check_audit("evidence", e.id, e.status, e.audit, e.audit_pmids, e.audit_note, fail)
    if e.setting == "post_progression" and not e.prior_drugs:
        fail("evidence", e.id, "post_progression item must name the prior drugs (prior_drugs)")
    for d in e.prior_drugs:
        if d not in kb.drugs:
            fail("evidence", e.id, f"prior drug {d!r} is not in drugs.yaml")
    prof = kb.profiles.get(e.profile)
    comps = [kb.alterations[c] for c in prof.components] if prof else []
    codon_level = len(comps) == 1 and comps[0].kind == "codon"
    if codon_level and not e.alleles and e.status != "CIVIC-IMPORT":
        fail(
            "evidence",
            e.id,
            f"item on the codon-level profile {e.profile!r} must name the alleles its source "
            "reports ('alleles: [ALK:I1171T]', or ['*'] when the source covers any change)",
        )
    if e.alleles and not codon_level:
        fail("evidence", e.id, "'alleles' is only for items on a codon-level profile")
    for al in e.alleles:
        if al == "*":
            continue
        alt = kb.alterations.get(al)
        if alt is None or alt.gene != comps[0].gene or alt.codon != comps[0].codon:
            fail("evidence", e.id, f"allele {al!r} is not a KB alteration at codon {comps[0].id}")


def _check_mechanism_genes(kb: KnowledgeBase, fail: Fail) -> None:
    listed: set[str] = set()
    for m in kb.mechanisms:
        listed |= {kb.alterations[a].gene for a in m.alterations if a in kb.alterations}
    for m in kb.mechanisms:
        if m.category not in _GENE_LEVEL_CATEGORIES:
            continue
        for g in m.genes:
            if g in kb.genes and g not in listed:
                fail(
                    "mechanism",
                    m.id,
                    f"gene {g} has no listed alteration in any mechanism: a finding in {g} "
                    f"could not match; add e.g. '{g}:MUTATION' to 'alterations'",
                )


def _check_frequencies(kb: KnowledgeBase, fail: Fail) -> None:
    by_id: dict[str, Frequency] = {}
    for af in kb.frequencies:
        f = af.frequency
        if f.id in by_id:
            fail("frequency", f.id, "duplicate frequency id")
        by_id[f.id] = f
        if f.n is None or f.denominator is None or not f.pmid or not f.cohort:
            fail("frequency", f.id, "a frequency needs cohort, n, denominator and pmid")
        if f.n is not None and f.denominator is not None and f.n > f.denominator:
            fail("frequency", f.id, f"n {f.n} exceeds the denominator {f.denominator}")
    children: dict[str, list[Frequency]] = {}
    for f in by_id.values():
        if f.parent is None:
            continue
        parent = by_id.get(f.parent)
        if parent is None:
            fail("frequency", f.id, f"parent {f.parent!r} is not a frequency id")
            continue
        if (parent.pmid, parent.denominator) != (f.pmid, f.denominator):
            fail(
                "frequency",
                f.id,
                f"cohort differs from its parent {parent.id!r} (PMID {f.pmid} n/{f.denominator} "
                f"vs PMID {parent.pmid} n/{parent.denominator}); a per-mutation frequency must "
                "come from the same cohort as its total",
            )
        if (f.n or 0) > (parent.n or 0):
            fail(
                "frequency",
                f.id,
                f"{f.n}/{f.denominator} exceeds its parent total {parent.id!r} "
                f"({parent.n}/{parent.denominator})",
            )
        children.setdefault(parent.id, []).append(f)
    for pid, kids in children.items():
        parent = by_id[pid]
        total = sum(k.n or 0 for k in kids)
        if total > (parent.n or 0) + parent.overlap:
            fail(
                "frequency",
                pid,
                f"per-mutation frequencies add up to {total}/{parent.denominator}, more than the "
                f"total {parent.n}/{parent.denominator} (+{parent.overlap} patients counted "
                "twice); one of them is mislabelled",
            )
