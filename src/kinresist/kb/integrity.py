"""Referential-integrity and coordinate checks run on every KB load.

* every alteration's gene exists and its id starts with ``GENE:``;
* every profile component, evidence profile and evidence drug exists;
* combination drugs list existing components; no synonym names two drugs;
* mechanism alterations, frequency subjects and prior rules refer to existing ids;
* curated alleles sit on the gene's chromosome, and when the gene has a constant
  GRCh37->GRCh38 offset each GRCh38 allele equals a GRCh37 allele shifted by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kinresist.errors import KnowledgeBaseError
from kinresist.kb.knowledge_base import KnowledgeBase, _drug_key

__all__ = ["check_integrity"]


def check_integrity(kb: KnowledgeBase, *, where: Mapping[str, Mapping[str, Path]]) -> None:
    """Raise :class:`KnowledgeBaseError` naming file and entry for the first problem."""

    def fail(kind: str, key: str, problem: str) -> None:
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

    for e in kb.evidence:
        if e.profile not in kb.profiles:
            fail("evidence", e.id, f"profile {e.profile!r} is not in the KB")
        for dname in e.drugs:
            if dname not in kb.drugs:
                fail(
                    "evidence", e.id, f"drug {dname!r} is not in drugs.yaml (use the generic name)"
                )

    for m in kb.mechanisms:
        for a_id in m.alterations:
            if a_id not in kb.alterations:
                fail("mechanism", m.id, f"alteration {a_id!r} is not in the KB")
    mech_ids = {m.id for m in kb.mechanisms}
    for f in kb.frequencies:
        if f.subject not in kb.alterations and f.subject not in mech_ids:
            msg = f"KB frequencies.yaml: subject {f.subject!r} is neither an alteration nor a mechanism"
            raise KnowledgeBaseError(msg)
    for pr in kb.priors:
        for a_id in (pr.given, pr.raises):
            if a_id not in kb.alterations:
                msg = f"KB rules.yaml: prior {pr.id!r} refers to unknown alteration {a_id!r}"
                raise KnowledgeBaseError(msg)
