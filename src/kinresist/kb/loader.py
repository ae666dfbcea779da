"""Load, validate and index the KB data files (bundled KB + import overlays).

Layout of a KB directory (the bundled one is ``kinresist/kb/data/``)::

    version.yaml        kb_version, release_date, schema_version, sources
    genes.yaml          genes with MANE transcripts
    transcripts.yaml    curated CDS segments (coordinate frames)
    drugs.yaml          drugs and combinations, synonyms
    alterations/*.yaml  alterations (one file per gene or group)
    profiles.yaml       compound / fusion-context molecular profiles
    evidence/*.yaml     evidence items
    mechanisms.yaml     resistance mechanisms and the investigations they call for
    frequencies.yaml    reported frequency ranges
    rules.yaml          interpretation rules (spec 12.4) and prior rules (spec 6)

An *overlay* (written by ``kinresist kb import-civic``) is a directory
``<overlays>/<name>/`` holding ``overlay.yaml`` (header) and ``content.yaml`` (drugs,
alterations, profiles, evidence, skipped rows). Overlays are validated like the KB and
their names are appended to the version: ``2026.11.0+civic-2025-10``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kinresist.errors import KnowledgeBaseError
from kinresist.kb import schema as s
from kinresist.kb._files import (
    DATA_DIR,
    default_overlay_dir,
    discover_overlays,
    read_yaml,
)
from kinresist.kb.coordinates import CdsSegment, Transcript
from kinresist.kb.knowledge_base import KnowledgeBase
from kinresist.kb.model import (
    Alteration,
    Drug,
    Evidence,
    Frequency,
    Gene,
    GenomicAllele,
    Mechanism,
    Profile,
)
from kinresist.kb.records import (
    AlterationFrequency,
    InterpretationRule,
    Investigation,
    KBRelease,
    Overlay,
    PriorRule,
    SequenceRule,
    SkippedImport,
    Source,
)

__all__ = ["DATA_DIR", "default_overlay_dir", "discover_overlays", "load_kb", "read_yaml"]

M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Any, path: Path) -> M:
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            loc = err["loc"]
            label = _entry_label(data, loc)
            field = ".".join(str(x) for x in loc)
            problems.append(f"{field}{label}: {err['msg']}")
        more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        msg = f"KB file {path}: " + "; ".join(problems) + more
        raise KnowledgeBaseError(msg) from exc


def _entry_label(data: Any, loc: tuple[Any, ...]) -> str:
    """`` (entry 'ALK:G1202R')`` for a location inside a list of entries."""
    if len(loc) >= 2 and isinstance(data, dict) and isinstance(loc[1], int):
        try:
            entry = data[loc[0]][loc[1]]
        except (KeyError, IndexError, TypeError):
            return ""
        if isinstance(entry, dict):
            for key in ("id", "symbol", "name", "gene"):
                if key in entry:
                    return f" (entry {entry[key]!r})"
    return ""


def _load_file(model: type[M], path: Path) -> M:
    return _validate(model, read_yaml(path), path)


def _glob(path: Path) -> list[Path]:
    return sorted(path.glob("*.yaml")) if path.is_dir() else []


# ---------------------------------------------------------------------- row -> value
def _allele(text: str) -> GenomicAllele:
    chrom, pos, ref, alt = s.parse_allele(text)
    return GenomicAllele(chrom, pos, ref, alt)


def _alteration(row: s.AlterationRow, sources: dict[str, Source]) -> Alteration:
    return Alteration(
        id=row.id,
        gene=row.gene,
        name=row.name,
        kind=row.kind,
        aliases=tuple(row.aliases),
        hgvs_p=row.hgvs_p,
        hgvs_c=tuple(row.hgvs_c),
        codon=row.codon,
        ref_aa=row.ref_aa,
        alt_aa=row.alt_aa,
        exon=row.exon,
        grch37=tuple(_allele(a) for a in row.grch37),
        grch38=tuple(_allele(a) for a in row.grch38),
        fusion_partner=row.fusion_partner,
        fusion_variant=row.fusion_variant,
        status=row.status,
        source=_cite(row.source, sources),
        excludes=tuple(row.excludes),
    )


def _evidence(row: s.EvidenceRow, sources: dict[str, Source]) -> Evidence:
    src = sources.get(row.source)
    return Evidence(
        id=row.id,
        profile=row.profile,
        drugs=tuple(row.drugs),
        effect=row.effect,
        level=row.level,
        model_system=row.model_system,
        source=_cite(row.source, sources),
        status=row.status,
        pmid=row.pmid or (src.pmid if src else None),
        civic_eid=row.civic_eid,
        disease=row.disease,
        statement=row.statement,
        ic50_nm=row.ic50_nm,
        fold_vs_wt=row.fold_vs_wt,
        note=row.note,
        audit=row.audit,
        audit_pmids=tuple(row.audit_pmids),
        audit_note=row.audit_note,
        setting=row.setting,
        prior_drugs=tuple(row.prior_drugs),
        alleles=tuple(row.alleles),
    )


def _frequency(row: s.FrequencyRow, sources: dict[str, Source]) -> Frequency:
    pct = 100.0 * row.n / row.denominator
    return Frequency(
        context=row.context,
        low_pct=pct,
        high_pct=pct,
        source=_cite(row.source, sources),
        status=row.status,
        id=row.id,
        cohort=row.cohort,
        n=row.n,
        denominator=row.denominator,
        pmid=row.pmid,
        parent=row.parent,
        overlap=row.overlap,
    )


def _cite(text: str, sources: dict[str, Source]) -> str:
    return sources[text].citation if text in sources else text


def _drug(row: s.DrugRow) -> Drug:
    return Drug(
        name=row.name,
        drug_class=row.drug_class,
        targets=tuple(row.targets),
        synonyms=tuple(row.synonyms),
        generation=row.generation,
        approved=row.approved,
        components=tuple(row.components),
    )


def _profile(row: s.ProfileRow) -> Profile:
    return Profile(row.id, row.name, tuple(row.components), row.fusion_context)


# ---------------------------------------------------------------------- loading
class _Collector:
    """Accumulates entries by id and reports duplicates with the files involved."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: dict[str, Any] = {}
        self.where: dict[str, Path] = {}

    def add(self, key: str, item: Any, path: Path, *, replace: bool = False) -> None:
        if key in self.items and not replace:
            msg = (
                f"KB file {path}: duplicate {self.what} id {key!r} "
                f"(already defined in {self.where[key]})"
            )
            raise KnowledgeBaseError(msg)
        self.items[key] = item
        self.where[key] = path


def load_kb(
    path: str | os.PathLike[str] | None = None,
    *,
    overlays: Sequence[str | os.PathLike[str]] | None = None,
) -> KnowledgeBase:
    """Load and validate a knowledge base (cached).

    Parameters
    ----------
    path
        A KB directory; default the bundled KB (``kinresist/kb/data``).
    overlays
        Import overlays to load on top: overlay folders or folders of overlays.
        ``None`` (default) loads those in :func:`default_overlay_dir` (none on a fresh
        machine; ``$KINRESIST_KB_DIR`` relocates it); ``()`` loads none.

    Raises
    ------
    KnowledgeBaseError
        A file is missing, is not valid YAML, fails its schema, or refers to an
        unknown gene/drug/alteration/profile; the message names file and entry.
    """
    base = Path(path) if path is not None else DATA_DIR
    found = discover_overlays(overlays)
    stamp = tuple((str(p.resolve()), _mtime(p)) for p in found)
    return _load_cached(str(base.resolve()), stamp)


def _mtime(p: Path) -> float:
    return max((f.stat().st_mtime for f in p.glob("*.yaml")), default=0.0)


@lru_cache(maxsize=8)
def _load_cached(base: str, overlays: tuple[tuple[str, float], ...]) -> KnowledgeBase:
    return _load(Path(base), tuple(Path(p) for p, _ in overlays))


def _load(base: Path, overlay_dirs: tuple[Path, ...]) -> KnowledgeBase:
    if not (base / "version.yaml").is_file():
        msg = f"{base} is not a KB directory (no version.yaml)"
        raise KnowledgeBaseError(msg)
    version = _load_file(s.VersionFile, base / "version.yaml")
    sources = {
        src.id: Source(src.id, src.citation, src.licence, src.url, src.pmid)
        for src in version.sources
    }

    genes = _Collector("gene")
    for g in _load_file(s.GeneFile, base / "genes.yaml").genes:
        genes.add(
            g.symbol,
            Gene(
                g.symbol,
                g.name,
                g.chrom,
                g.strand,
                g.mane_refseq,
                g.mane_ensembl,
                g.grch37_to_grch38_offset,
                tuple(g.aliases),
                g.note,
            ),
            base / "genes.yaml",
        )
    transcripts = []
    for t in _load_file(s.TranscriptFile, base / "transcripts.yaml").transcripts:
        try:
            segs = tuple(CdsSegment(*seg) for seg in t.segments)
        except ValueError as exc:
            msg = f"KB file {base / 'transcripts.yaml'}: transcript {t.refseq} ({t.gene}): {exc}"
            raise KnowledgeBaseError(msg) from exc
        transcripts.append(
            Transcript(
                t.gene,
                t.refseq,
                t.chrom,
                t.strand,
                t.grch37_to_grch38_offset,
                segs,
                t.complete,
                t.source,
                t.status,
            )
        )

    drugs = _Collector("drug")
    for d in _load_file(s.DrugFile, base / "drugs.yaml").drugs:
        drugs.add(d.name, _drug(d), base / "drugs.yaml")
    alterations = _Collector("alteration")
    for f in _glob(base / "alterations"):
        for a in _load_file(s.AlterationFile, f).alterations:
            alterations.add(a.id, _alteration(a, sources), f)
    profiles = _Collector("profile")
    for p in _load_file(s.ProfileFile, base / "profiles.yaml").profiles:
        profiles.add(p.id, _profile(p), base / "profiles.yaml")
    evidence = _Collector("evidence")
    for f in _glob(base / "evidence"):
        for e in _load_file(s.EvidenceFile, f).evidence:
            evidence.add(e.id, _evidence(e, sources), f)
    mechanisms = _Collector("mechanism")
    for m in _load_file(s.MechanismFile, base / "mechanisms.yaml").mechanisms:
        mechanisms.add(m.id, m, base / "mechanisms.yaml")
    freq_rows = _load_file(s.FrequencyFile, base / "frequencies.yaml").frequencies
    rules = _load_file(s.RuleFile, base / "rules.yaml")

    loaded_overlays = [
        _apply_overlay(odir, drugs, alterations, profiles, evidence, sources)
        for odir in overlay_dirs
    ]

    frequencies = [
        AlterationFrequency(f.alteration or f.mechanism or "", _frequency(f, sources))
        for f in freq_rows
    ]
    freq_by_mech: dict[str, list[Frequency]] = {}
    for fr in freq_rows:
        if fr.mechanism:
            freq_by_mech.setdefault(fr.mechanism, []).append(_frequency(fr, sources))
    mech_values = [
        Mechanism(
            m.id,
            m.name,
            m.category,
            tuple(m.genes),
            m.description,
            tuple(m.alterations),
            tuple(m.resists),
            tuple(m.options),
            tuple(m.investigations),
            tuple(freq_by_mech.get(m.id, ())),
            tuple(m.references),
            m.status,
            tuple(m.excludes),
            m.audit,
            tuple(m.audit_pmids),
            m.audit_note,
        )
        for m in mechanisms.items.values()
    ]
    suffix = "+".join(o.name for o in loaded_overlays)
    release = KBRelease(
        version=version.kb_version + (f"+{suffix}" if suffix else ""),
        base_version=version.kb_version,
        release_date=version.release_date,
        schema_version=version.schema_version,
        path=str(base),
        sources=tuple(sources.values()),
        overlays=tuple(loaded_overlays),
    )
    # single-alteration profiles are implicit
    for aid, alt in alterations.items.items():
        if aid not in profiles.items:
            profiles.add(
                aid, Profile(aid, f"{alt.gene} {alt.name}", (aid,)), alterations.where[aid]
            )
    kb = KnowledgeBase(
        release=release,
        genes=genes.items.values(),
        transcripts=transcripts,
        drugs=drugs.items.values(),
        alterations=alterations.items.values(),
        profiles=profiles.items.values(),
        evidence=evidence.items.values(),
        mechanisms=mech_values,
        frequencies=frequencies,
        rules=[
            InterpretationRule(
                r.id,
                r.finding,
                r.applies_to,
                r.interpretation,
                r.suggestion,
                r.status,
                _cite(r.source, sources),
                r.audit,
                tuple(r.audit_pmids),
                r.audit_note,
            )
            for r in rules.rules
        ],
        priors=[
            PriorRule(
                p.id,
                p.given,
                p.context,
                p.raises,
                p.statement,
                tuple(p.observed.items()),
                p.pmid,
                p.status,
                _cite(p.source, sources),
            )
            for p in rules.priors
        ],
        investigations=[
            Investigation(
                i.id,
                i.applies_to,
                i.text,
                i.status,
                _cite(i.source, sources),
                i.audit,
                tuple(i.audit_pmids),
                i.audit_note,
            )
            for i in rules.investigations
        ],
        sequence=[
            SequenceRule(q.id, q.statement, tuple(q.pmids), q.status, _cite(q.source, sources))
            for q in rules.sequence
        ],
    )
    from kinresist.kb.integrity import check_integrity

    check_integrity(
        kb,
        where={
            "alteration": alterations.where,
            "profile": profiles.where,
            "evidence": evidence.where,
            "drug": drugs.where,
            "mechanism": mechanisms.where,
            "rule": {r.id: base / "rules.yaml" for r in rules.rules},
            "investigation": {i.id: base / "rules.yaml" for i in rules.investigations},
            "frequency": {f.id: base / "frequencies.yaml" for f in freq_rows},
        },
    )
    return kb


def _apply_overlay(
    odir: Path,
    drugs: _Collector,
    alterations: _Collector,
    profiles: _Collector,
    evidence: _Collector,
    sources: dict[str, Source],
) -> Overlay:
    info = _load_file(s.OverlayInfo, odir / "overlay.yaml")
    if info.name != odir.name:
        msg = (
            f"KB file {odir / 'overlay.yaml'}: overlay name {info.name!r} differs from its "
            f"folder name {odir.name!r}; rename the folder back or re-import"
        )
        raise KnowledgeBaseError(msg)
    content_path = odir / "content.yaml"
    content = _load_file(s.OverlayContent, content_path)
    for d in content.drugs:
        if d.name not in drugs.items:
            drugs.add(d.name, _drug(d), content_path)
    for a in content.alterations:
        if a.id not in alterations.items:
            alterations.add(a.id, _alteration(a, sources), content_path)
    for p in content.profiles:
        if p.id not in profiles.items:
            profiles.add(p.id, _profile(p), content_path)
    curated = {
        (ev.civic_eid, ev.drugs): key
        for key, ev in evidence.items.items()
        if ev.civic_eid and ev.status != "CIVIC-IMPORT"
    }
    for e in content.evidence:
        item = _evidence(e, sources)
        if (item.civic_eid, item.drugs) in curated:
            continue  # curated since the import was made: the curated item wins
        # an earlier overlay's copy of the same item is replaced (later overlay wins)
        evidence.add(
            e.id,
            item,
            content_path,
            replace=evidence.items.get(e.id) is not None
            and evidence.items[e.id].status == "CIVIC-IMPORT",
        )
    return Overlay(
        name=info.name,
        path=str(odir),
        source_file=info.source_file,
        source_sha256=info.source_sha256,
        schema=info.source_schema,
        imported_at=info.imported_at,
        counts=tuple(sorted(info.counts.items())),
        skipped=tuple(SkippedImport(r.civic_eid, r.reason, r.detail) for r in content.skipped),
    )
