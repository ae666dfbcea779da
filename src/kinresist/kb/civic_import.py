"""Turn CIViC evidence TSVs into a KB overlay (new drugs, alterations, profiles, evidence).

Mapping (documented in docs/knowledge-base.md):

* only ``Predictive`` items become evidence; others are skipped (``not_predictive``);
* direction ``Does Not Support`` is **not** turned into the opposite effect: the row is
  skipped (``does_not_support``) and listed in the overlay;
* significance Sensitivity[/Response] -> ``sensitive``, Reduced Sensitivity -> ``reduced``,
  Resistance [or Non-Response] -> ``resistant``; anything else is skipped;
* CIViC level A-E is kept as is (the KB scale *is* CIViC's);
* therapies: ``Combination``/``Sequential`` -> one item listing all drugs; ``Substitutes``
  or no interaction type (2018 schema, GraphQL extract) -> one item per drug, noted;
* model system: A-C -> patient; D -> from the statement (Ba/F3, xenograft/mice, cell line,
  kinase assay), else ``other``; E -> other (noted as inferred);
* a row already curated (same EID and drugs, or same profile x drugs x effect x PMID) is
  skipped as ``duplicate_of_curated``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kinresist.errors import InputError
from kinresist.kb.civic_names import (
    ParsedProfile,
    UnsupportedProfile,
    VariantSpec,
    parse_2018,
    parse_profile,
)
from kinresist.kb.civic_tsv import CivicRow, CivicVariant, read_civic_evidence, read_civic_variants
from kinresist.kb.knowledge_base import KnowledgeBase

__all__ = ["CivicImport", "canonical_profile_id", "import_civic", "overlay_name_for"]

_SIGNIFICANCE = {
    "sensitivity": "sensitive",
    "sensitivity/response": "sensitive",
    "reduced sensitivity": "reduced",
    "resistance": "resistant",
    "resistance or non-response": "resistant",
}
_GROUPED = {"combination", "sequential"}


@dataclass
class CivicImport:
    """The result of one import: overlay rows (plain dicts validated by kb.schema on write)."""

    name: str
    schema: str
    source_file: str
    source_sha256: str
    rows: int
    drugs: list[dict[str, object]] = field(default_factory=list)
    alterations: list[dict[str, object]] = field(default_factory=list)
    profiles: list[dict[str, object]] = field(default_factory=list)
    evidence: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        c = {
            "rows": self.rows,
            "evidence": len(self.evidence),
            "rows_imported": len({e["civic_eid"] for e in self.evidence}),
            "new_alterations": len(self.alterations),
            "new_profiles": len(self.profiles),
            "new_drugs": len(self.drugs),
            "skipped": len(self.skipped),
        }
        for s in self.skipped:
            key = f"skipped_{s['reason']}"
            c[key] = c.get(key, 0) + 1
        return c


def overlay_name_for(path: str | os.PathLike[str], sha256: str) -> str:
    """``civic-2025-10`` from ``civic_2025-10_...tsv``; else ``civic-<sha8>``."""
    m = re.search(r"civic[_-](\d{4}-\d{2}(?:-\d{2})?)", Path(path).name, re.IGNORECASE)
    return f"civic-{m[1]}" if m else f"civic-{sha256.split(':')[-1][:8]}"


def canonical_profile_id(alteration_ids: list[str], kb_codons: dict[str, int | None]) -> str:
    """Join component ids with ``+`` ordered by gene, codon, id (the KB's compound-id rule)."""
    uniq = sorted(set(alteration_ids), key=lambda a: (a.split(":")[0], kb_codons.get(a) or 0, a))
    return "+".join(uniq)


def _model_system(level: str, statement: str) -> tuple[str, bool]:
    if level in {"A", "B", "C"}:
        return "patient", False
    if level == "D":
        s = statement.lower()
        if "ba/f3" in s or "baf3" in s:
            return "ba_f3", True
        if "xenograft" in s or " mice" in s or "mouse" in s:
            return "xenograft", True
        if "cell line" in s or "cells" in s:
            return "cell_line", True
        if "kinase assay" in s or "cell-free" in s or "biochemical" in s:
            return "cell_free", True
    return "other", True


class _Resolver:
    """Finds parsed variants in the KB or creates overlay alterations for them."""

    def __init__(self, kb: KnowledgeBase, variants: dict[str, CivicVariant]) -> None:
        self.kb = kb
        self.variants = variants
        self.new: dict[str, dict[str, object]] = {}
        self.codons: dict[str, int | None] = {a.id: a.codon for a in kb.alterations.values()}

    def resolve(self, spec: VariantSpec, variant_id: str | None) -> str:
        gene = self.kb.gene(spec.gene)
        if gene is None:
            raise UnsupportedProfile(reason="gene_not_in_kb", detail=spec.gene)
        if spec.kind == "fusion":
            hits = self.kb.fusions(
                gene.symbol, partner=spec.fusion_partner, variant=spec.fusion_variant
            )
            for a in hits:
                exact = (a.fusion_partner or None) == spec.fusion_partner and (
                    spec.fusion_variant is None or a.fusion_variant is not None
                )
                if exact and (spec.fusion_variant is not None) == (a.fusion_variant is not None):
                    return a.id
        else:
            for key in (spec.name, spec.original):
                found = self.kb.find_alterations(gene.symbol, key)
                if found:
                    return found[0].id
        aid = f"{gene.symbol}:{spec.name}"
        if aid in self.kb.alterations:
            return aid
        if aid not in self.new:
            self.new[aid] = self._new_alteration(aid, gene.symbol, spec, variant_id)
            self.codons[aid] = spec.codon
        return aid

    def _new_alteration(
        self, aid: str, gene: str, spec: VariantSpec, variant_id: str | None
    ) -> dict[str, object]:
        row: dict[str, object] = {"id": aid, "gene": gene, "name": spec.name, "kind": spec.kind}
        for key in ("codon", "ref_aa", "alt_aa", "exon", "fusion_partner", "fusion_variant"):
            value = getattr(spec, key)
            if value is not None:
                row[key] = value
        if spec.original and spec.original.upper() != spec.name.upper():
            row["aliases"] = [spec.original]
        source = "CIViC"
        v = self.variants.get(variant_id or "")
        if v is not None and v.gene == gene and len(_components_of(v)) == 1:
            source = f"CIViC VID{v.variant_id}"
            hc = [h.split(":", 1)[1] for h in v.hgvs if h.startswith("NM_") and ":c." in h]
            hp = [h.split(":", 1)[1] for h in v.hgvs if h.startswith("NP_") and ":p." in h]
            if hc:
                row["hgvs_c"] = hc[:1]
            if hp:
                row["hgvs_p"] = hp[0]
            allele = _allele(v, self.kb.genes[gene].chrom)
            if allele is not None:
                row["grch37"] = [allele]
                lifted = self._lift(gene, allele)
                if lifted:
                    row["grch38"] = [lifted]
                    source += "; GRCh38 by the gene's constant offset"
        row["status"] = "CIVIC-IMPORT"
        row["source"] = source
        return row

    def _lift(self, gene: str, allele: str) -> str | None:
        t = self.kb.transcript(gene)
        chrom, pos, rest = allele.split(":", 2)
        if t is None or t.to_cds("GRCh37", chrom, int(pos)) is None:
            return None
        return f"{chrom}:{int(pos) + t.grch37_to_grch38_offset}:{rest}"


def _components_of(v: CivicVariant) -> list[str]:
    return [p for p in re.split(r"[–\-+]", v.name) if p.strip()]


def _allele(v: CivicVariant, chrom: str) -> str | None:
    if v.chrom != chrom or v.start is None or v.build not in {"GRCh37", ""}:
        return None
    if v.ref and v.alt and len(v.ref) == len(v.alt) == 1 and v.start == v.stop:
        return f"{chrom}:{v.start}:{v.ref}>{v.alt}"
    if v.ref and not v.alt and v.stop is not None and v.stop - v.start + 1 == len(v.ref):
        return f"{chrom}:{v.start}:{v.ref}>"
    return None


def _drug(kb: KnowledgeBase, name: str, new: dict[str, dict[str, object]]) -> str:
    candidates = [name]
    m = re.match(r"^(.*?)\s*\((.+)\)\s*$", name)
    if m:
        candidates += [m[1], m[2]]
    for c in candidates:
        d = kb.drug(c)
        if d is not None:
            return d.name
    key = (m[1] if m else name).strip().lower()
    if key not in new:
        syn = [name] if name.lower() != key else []
        new[key] = {
            "name": key,
            "drug_class": "imported from CIViC (class not curated)",
            "synonyms": syn,
        }
    return key


def import_civic(
    path: str | os.PathLike[str],
    *,
    kb: KnowledgeBase,
    variants: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> CivicImport:
    """Map a CIViC evidence TSV (either schema) onto ``kb`` (pure: writes nothing).

    Parameters
    ----------
    path
        ``ClinicalEvidenceSummaries`` TSV (2018 or current schema).
    kb
        The curated KB to resolve against and deduplicate with (load it without overlays).
    variants
        2018 ``VariantSummaries`` TSV for coordinates; default: the sibling file whose
        name has ``VariantSummaries`` in place of ``ClinicalEvidenceSummaries``, if present.
    name
        Overlay name; default from the file name (``civic-2018-05-18``).
    """
    from kinresist.provenance import file_sha256

    p = Path(path)
    schema, rows = read_civic_evidence(p)
    sha = file_sha256(p)
    vmap: dict[str, CivicVariant] = {}
    if schema == "civic-2018-variant":
        vpath = Path(variants) if variants is not None else _sibling_variants(p)
        if vpath is not None:
            vmap = read_civic_variants(vpath)
    elif variants is not None:
        vmap = read_civic_variants(variants)
    result = CivicImport(
        name=name or overlay_name_for(p, sha), schema=schema, source_file=p.name,
        source_sha256=sha, rows=len(rows),
    )  # fmt: skip
    resolver = _Resolver(kb, vmap)
    new_drugs: dict[str, dict[str, object]] = {}
    new_profiles: dict[str, dict[str, object]] = {}
    curated_eid = {(e.civic_eid, e.drugs) for e in kb.evidence if e.civic_eid}
    curated_key: dict[tuple[str, tuple[str, ...], str, str | None], str] = {
        (e.profile, e.drugs, e.effect, e.pmid): e.id for e in kb.evidence
    }
    for row in rows:
        skip = _screen(row)
        if skip is not None:
            result.skipped.append(
                {"civic_eid": f"EID{row.eid}", "reason": skip[0], "detail": skip[1]}
            )
            continue
        try:
            parsed = (
                parse_2018(row.gene or "", row.variant or "")
                if schema == "civic-2018-variant"
                else parse_profile(row.profile)
            )
            comp_ids = [resolver.resolve(c, row.variant_id) for c in parsed.components]
        except UnsupportedProfile as exc:
            result.skipped.append(
                {"civic_eid": f"EID{row.eid}", "reason": exc.reason, "detail": exc.detail}
            )
            continue
        pid = _profile(kb, parsed, comp_ids, resolver.codons, row, new_profiles)
        drugs = [_drug(kb, t, new_drugs) for t in row.therapies]
        grouped = (row.interaction or "").lower() in _GROUPED and len(drugs) > 1
        groups = [tuple(drugs)] if grouped else [(d,) for d in dict.fromkeys(drugs)]
        effect = _SIGNIFICANCE[row.significance.lower()]
        ms, inferred = _model_system(row.level, row.statement)
        for g in groups:
            eid = f"EID{row.eid}"
            if (eid, g) in curated_eid:
                result.skipped.append({"civic_eid": eid, "reason": "duplicate_of_curated",
                                       "detail": f"same EID and drugs {' + '.join(g)}"})  # fmt: skip
                continue
            dup = curated_key.get((pid, g, effect, row.pmid))
            if dup is not None and row.pmid is not None:
                result.skipped.append({"civic_eid": eid, "reason": "duplicate_of_curated",
                                       "detail": f"same profile x drugs x effect x PMID as {dup}"})  # fmt: skip
                continue
            item = _evidence(row, pid, g, effect, ms, inferred, len(groups) > 1)
            alleles = _codon_alleles(kb, comp_ids, resolver, row.statement)
            if alleles is not None:
                item["alleles"] = alleles
                item["note"] = str(item["note"]) + (
                    f"; codon-level profile: the statement names {', '.join(alleles)}"
                    if alleles
                    else "; codon-level profile: the statement names no allele, so the item is "
                    "never applied to a specific amino-acid change"
                )
            result.evidence.append(item)
    result.alterations = list(resolver.new.values())
    result.profiles = list(new_profiles.values())
    result.drugs = list(new_drugs.values())
    return result


def _screen(row: CivicRow) -> tuple[str, str] | None:
    if row.status and row.status.lower() != "accepted":
        return "not_accepted", row.status
    if row.evidence_type.lower() != "predictive":
        return "not_predictive", row.evidence_type
    if row.direction.lower() == "does not support":
        return (
            "does_not_support",
            f"{row.significance} not supported (kept out: not evidence of the opposite)",
        )
    if row.direction.lower() != "supports":
        return "direction_not_mapped", row.direction or "(empty)"
    if row.significance.lower() not in _SIGNIFICANCE:
        return "significance_not_mapped", row.significance or "(empty)"
    if row.level not in {"A", "B", "C", "D", "E"}:
        return "level_not_mapped", row.level or "(empty)"
    if not row.therapies:
        return "no_therapy", ""
    return None


def _profile(
    kb: KnowledgeBase,
    parsed: ParsedProfile,
    comp_ids: list[str],
    codons: dict[str, int | None],
    row: CivicRow,
    new_profiles: dict[str, dict[str, object]],
) -> str:
    if len(set(comp_ids)) == 1:
        return comp_ids[0]
    pid = canonical_profile_id(comp_ids, codons)
    if pid not in kb.profiles and pid not in new_profiles:
        names = [i.split(":", 1)[1] for i in pid.split("+")]
        gene = pid.split(":", 1)[0]
        entry: dict[str, object] = {
            "id": pid,
            "name": f"{gene} " + " + ".join(names),
            "components": pid.split("+"),
        }
        if parsed.fusion_context:
            entry["fusion_context"] = parsed.fusion_context
        new_profiles[pid] = entry
    return pid


def _evidence(
    row: CivicRow,
    pid: str,
    drugs: tuple[str, ...],
    effect: str,
    ms: str,
    inferred: bool,
    split: bool,
) -> dict[str, object]:
    notes = [f"CIViC profile '{row.profile}'"]
    if row.rating:
        notes.append(f"rating {row.rating}")
    if row.url:
        notes.append(row.url)
    if split:
        notes.append(
            f"therapies '{', '.join(row.therapies)}' "
            + (f"({row.interaction})" if row.interaction else "without interaction type")
            + ": one item per drug"
        )
    if inferred:
        notes.append(f"model system '{ms}' inferred from the statement")
    if row.pmid is None:
        notes.append(f"source is not a PubMed id: {row.citation}")
    item: dict[str, object] = {
        "id": f"EID{row.eid}" if not split else f"EID{row.eid}-{'+'.join(drugs)}",
        "profile": pid,
        "drugs": list(drugs),
        "effect": effect,
        "level": row.level,
        "model_system": ms,
        "source": f"CIViC EID{row.eid}" + (f" ({row.citation})" if row.citation else ""),
        "status": "CIVIC-IMPORT",
        "civic_eid": f"EID{row.eid}",
        "disease": row.disease,
        "statement": row.statement,
        "note": "; ".join(notes),
    }
    if row.pmid:
        item["pmid"] = row.pmid
    return item


_ALLELE_IN_TEXT = re.compile(r"\b([ACDEFGHIKLMNPQRSTVWY])(\d{1,4})([ACDEFGHIKLMNPQRSTVWY])\b")


def _codon_alleles(
    kb: KnowledgeBase, comp_ids: list[str], resolver: _Resolver, statement: str
) -> list[str] | None:
    """For a single codon-level profile (``ALK I1171``): the KB alleles the statement names.

    None when the profile is not codon-level. Alleles the KB does not know are not listed.
    """
    if len(comp_ids) != 1:
        return None
    aid = comp_ids[0]
    alt = kb.alterations.get(aid)
    kind = alt.kind if alt is not None else resolver.new.get(aid, {}).get("kind")
    if kind != "codon":
        return None
    gene = aid.split(":", 1)[0]
    codon = resolver.codons.get(aid)
    found: list[str] = []
    for m in _ALLELE_IN_TEXT.finditer(statement):
        if codon is not None and int(m.group(2)) != codon:
            continue
        for hit in kb.find_alterations(gene, m.group(0)):
            if hit.kind != "codon" and hit.id not in found:
                found.append(hit.id)
    return found


def _sibling_variants(p: Path) -> Path | None:
    if "ClinicalEvidenceSummaries" not in p.name:
        return None
    cand = p.with_name(p.name.replace("ClinicalEvidenceSummaries", "VariantSummaries"))
    return cand if cand.is_file() else None


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _check_path(path: Path) -> None:
    if not path.is_file():
        msg = "CIViC TSV not found"
        raise InputError(msg, path=path)
