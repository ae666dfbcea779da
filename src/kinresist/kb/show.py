"""What the KB knows about one alteration, as a plain payload (``kinresist kb show``).

:func:`describe` is pure: it returns a JSON-ready dict (schema ``kinresist.kb.show`` v1,
documented in docs/formats.md); :func:`render_text` turns it into rich tables.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from kinresist.errors import InputError
from kinresist.kb.knowledge_base import KnowledgeBase
from kinresist.kb.model import Alteration, Evidence

__all__ = ["SHOW_SCHEMA_VERSION", "describe", "pct_range", "render_text", "resolve_alteration"]

SHOW_SCHEMA_VERSION = "1"


def resolve_alteration(kb: KnowledgeBase, gene: str, name: str) -> tuple[Alteration, ...]:
    """Alterations named ``name`` in ``gene`` (also ``EML4-ALK v3`` / ``v3`` for fusions)."""
    if kb.gene(gene) is None:
        msg = f"gene {gene!r} is not in the KB (version {kb.version}); known genes: {', '.join(sorted(kb.genes))}"
        raise InputError(msg)
    hits = kb.find_alterations(gene, name)
    if hits:
        return hits
    text = name.strip()
    if "-" in text or text.lower().startswith("v"):
        partner, _, variant = text.partition(" ")
        if text.lower().startswith("v"):
            partner, variant = "EML4", text
        partner = partner.split("-")[0].split("::")[0]
        fus = kb.fusions(gene, partner=partner, variant=variant or None)
        if fus:
            return fus[:1]
    return ()


def _evidence_row(e: Evidence, *, via: str, release_date: str) -> dict[str, Any]:
    row = dataclasses.asdict(e)
    row["drugs"] = list(e.drugs)
    row["drug"] = " + ".join(e.drugs)
    row["matched_via"] = via
    row["pubmed_url"] = f"https://pubmed.ncbi.nlm.nih.gov/{e.pmid}/" if e.pmid else None
    row["civic_url"] = (
        f"https://civicdb.org/links/evidence_items/{e.civic_eid[3:]}" if e.civic_eid else None
    )
    row["kb_release_date"] = release_date
    return row


def describe(kb: KnowledgeBase, gene: str, name: str) -> dict[str, Any]:
    """Everything known about ``gene name``: alteration(s), coordinates, evidence, mechanisms.

    Evidence is listed for every profile containing the alteration (single and compound;
    ``matched_via`` names the profile) and for its codon-level item (``matched_via`` =
    ``codon:<id>``). An alteration absent from the KB gives ``found: false``.
    """
    alts = resolve_alteration(kb, gene, name)
    payload: dict[str, Any] = {
        "query": {"gene": gene, "alteration": name},
        "kb_version": kb.version,
        "kb_release_date": kb.release_date,
        "found": bool(alts),
        "alterations": [],
    }
    for a in alts:
        entry = dataclasses.asdict(a)
        entry["grch37"] = [dataclasses.asdict(x) for x in a.grch37]
        entry["grch38"] = [dataclasses.asdict(x) for x in a.grch38]
        profiles = kb.profiles_with(a.id)
        entry["profiles"] = [
            {"id": p.id, "name": p.name, "components": list(p.components), "compound": p.is_compound,
             "fusion_context": p.fusion_context}
            for p in profiles
        ]  # fmt: skip
        evidence = [
            _evidence_row(e, via=p.id, release_date=kb.release_date)
            for p in profiles
            for e in kb.evidence_for_profile(p.id)
        ]
        related = []
        if a.codon is not None and a.kind != "codon":
            codon_item = kb.codon_alteration(a.gene, a.codon)
            if codon_item is not None:
                related.append(codon_item.id)
                evidence += [
                    _evidence_row(e, via=f"codon:{codon_item.id}", release_date=kb.release_date)
                    for e in kb.evidence_for_profile(codon_item.id)
                ]
        entry["related"] = related
        entry["evidence"] = evidence
        entry["conflicts"] = [
            dataclasses.asdict(c) for c in kb.conflicts() if c.profile in {p.id for p in profiles}
        ]
        entry["mechanisms"] = [
            {"id": m.id, "name": m.name, "category": m.category, "options": list(m.options),
             "investigations": list(m.investigations), "status": m.status}
            for m in kb.mechanisms_for_alteration(a.id)
        ]  # fmt: skip
        entry["priors"] = [
            {"id": r.id, "given": r.given, "context": r.context, "raises": r.raises,
             "statement": r.statement, "observed": dict(r.observed), "pmid": r.pmid,
             "status": r.status, "source": r.source}
            for r in kb.priors
            if a.id in (r.given, r.raises)
        ]  # fmt: skip
        entry["frequencies"] = [dataclasses.asdict(f.frequency) for f in kb.frequencies_for(a.id)]
        payload["alterations"].append(entry)
    return payload


def pct_range(low: float | None, high: float | None) -> str:
    """``32 %`` for a point value (never ``32-32 %``), ``28–35 %`` for a range, ``n/a`` when
    unknown; the two ends are compared as printed (0 decimals, 1 below 10 %)."""
    values = [float(v) for v in (low, high) if v is not None]
    if not values:
        return "n/a"

    def fmt(v: float) -> str:
        return f"{v:.1f}" if abs(v) < 10 and round(v, 1) != round(v) else f"{v:.0f}"

    a, b = fmt(min(values)), fmt(max(values))
    return f"{a} %" if a == b else f"{a}–{b} %"


def _short_source(source: str) -> str:
    return source.split(". ")[0] if source.startswith("Lin JJ") else source


def render_text(payload: dict[str, Any], *, width: int = 160) -> str:
    """Human summary of a :func:`describe` payload (rich tables, plain text output)."""
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    con = Console(
        file=buf,
        width=width,
        force_terminal=False,
        color_system=None,
        markup=False,
        highlight=False,
    )
    q = payload["query"]
    if not payload["found"]:
        con.print(
            f"{q['gene']} {q['alteration']}: not in KB (version {payload['kb_version']}). "
            "Unknown is not 'sensitive'."
        )
        return buf.getvalue()
    for a in payload["alterations"]:
        con.print(f"{a['gene']} {a['name']}  ({a['id']}, {a['kind']}, {a['status']})")
        info = Table(show_header=False, box=None)
        info.add_row("protein", a.get("hgvs_p") or "-")
        info.add_row("cDNA", ", ".join(a["hgvs_c"]) or "-")
        info.add_row("aliases", ", ".join(a["aliases"]) or "-")
        info.add_row("codon / exon", f"{a.get('codon') or '-'} / {a.get('exon') or '-'}")
        for build in ("grch37", "grch38"):
            alleles = [
                f"chr{x['chrom']}:{x['pos']} {x['ref'] or '-'}>{x['alt'] or '-'}" for x in a[build]
            ]
            info.add_row(build.replace("grch", "GRCh"), "; ".join(alleles) or "-")
        info.add_row("source", a["source"])
        if a["related"]:
            info.add_row("codon-level item", ", ".join(a["related"]))
        con.print(info)
        ev = Table(title=f"Evidence ({len(a['evidence'])} items)", show_lines=False)
        for col in (
            "profile",
            "drug",
            "effect",
            "level",
            "model",
            "IC50 nM",
            "status",
            "PMID",
            "EID",
        ):
            ev.add_column(col, overflow="fold")
        ev.add_column("source", overflow="ellipsis", no_wrap=True, max_width=40)
        for e in sorted(a["evidence"], key=lambda r: (r["drug"], r["matched_via"], r["effect"])):
            ev.add_row(
                e["matched_via"], e["drug"], e["effect"], e["level"], e["model_system"],
                "" if e["ic50_nm"] is None else f"{e['ic50_nm']:g}", e["status"],
                e["pmid"] or "", e["civic_eid"] or "", _short_source(e["source"]),
            )  # fmt: skip
        con.print(ev)
        if a["conflicts"]:
            con.print("Conflicting evidence: " + "; ".join(
                f"{c['drug']} on {c['profile']} (sensitive {', '.join(c['sensitive'])} vs "
                f"resistant {', '.join(c['resistant'])})" for c in a["conflicts"]))  # fmt: skip
        for m in a["mechanisms"]:
            con.print(f"Mechanism: {m['name']} [{m['category']}, {m['status']}]")
            if m["investigations"]:
                con.print("  investigations: " + "; ".join(m["investigations"]))
        for r in a["priors"]:
            con.print(
                f"Prior rule {r['id']}: {r['given']} + {r['context']} raises the prior of "
                f"{r['raises']} [{r['status']}, PMID {r['pmid']}]"
            )
        for f in a["frequencies"]:
            con.print(
                f"Frequency: {f['n']}/{f['denominator']} ({pct_range(f['low_pct'], f['high_pct'])}) "
                f"{f['context']}; "
                f"cohort {f['cohort']} [PMID {f['pmid']}, {f['status']}]"
            )
        con.print("")
    con.print(
        f"KB {payload['kb_version']} (released {payload['kb_release_date']}). Research use only."
    )
    return buf.getvalue()
