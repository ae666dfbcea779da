"""Knowledge-base browser: search a gene, an alteration or a drug; see the per-drug calls (the
interpretation engine's, as ``kinresist interpret --finding`` gives them) and the evidence with
links to PubMed and CIViC. The same search is ``GET /api/v1/kb/search``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kinresist.errors import InputError
from kinresist.web.api.deps import page_user, render

__all__ = ["router", "search"]

router = APIRouter(include_in_schema=False)
_MAX_HITS = 200


def _evidence_row(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "profile": e.profile,
        "drugs": " + ".join(e.drugs),
        "effect": e.effect,
        "level": e.level,
        "model_system": e.model_system,
        "status": e.status,
        "audit": e.audit,
        "source": e.source,
        "pmid": e.pmid,
        "pubmed_url": f"https://pubmed.ncbi.nlm.nih.gov/{e.pmid}/" if e.pmid else None,
        "civic_url": (
            f"https://civicdb.org/links/evidence_items/{e.civic_eid[3:]}" if e.civic_eid else None
        ),
    }


def search(query: str, *, prior_therapy: str | None = None) -> dict[str, Any]:
    """What the KB says about ``query``: a drug, a gene, ``GENE ALTERATION``, or free text."""
    from kinresist.kb import load_kb

    kb = load_kb()
    q = " ".join(query.split())
    out: dict[str, Any] = {
        "query": q,
        "kb_version": kb.version,
        "kind": "index",
        "genes": sorted(kb.genes),
        "drugs": sorted(kb.drugs),
    }
    if not q:
        return out
    drug = kb.drug(q)
    if drug is not None:
        evidence = [_evidence_row(e) for e in kb.evidence_for_drug(drug.name)]
        for row in evidence:
            profile = kb.profile(row["profile"])
            row["profile_name"] = profile.name if profile is not None else row["profile"]
        out.update(
            kind="drug",
            drug={
                "name": drug.name,
                "class": drug.drug_class,
                "targets": list(drug.targets),
                "synonyms": list(drug.synonyms),
                "approved": drug.approved,
            },
            evidence=evidence[:_MAX_HITS],
            truncated=len(evidence) > _MAX_HITS,
        )
        return out
    first, _, rest = q.partition(" ")
    gene = kb.gene(first)
    if gene is not None and not rest:
        alts = sorted(
            (a for a in kb.alterations.values() if a.gene == gene.symbol),
            key=lambda a: (a.codon or 0, a.name),
        )
        out.update(
            kind="gene",
            gene={"symbol": gene.symbol, "name": gene.name, "chrom": gene.chrom},
            alterations=[
                {"name": a.name, "kind": a.kind, "aliases": list(a.aliases), "status": a.status}
                for a in alts
            ],
        )
        return out
    if gene is not None or "-" in first:
        from kinresist.interpret.workflow import run_interpret
        from kinresist.kb.show import describe

        described: dict[str, Any] | None = None
        if gene is not None:
            described = describe(kb, gene.symbol, rest)
        try:
            result = run_interpret(finding=[q], prior_therapy=prior_therapy)
        except InputError as exc:
            out.update(kind="error", error=exc.one_line())
            return out
        body = result.to_dict()
        out.update(
            kind="alteration",
            described=described,
            drugs=body.get("drugs", []),
            classification_text=body.get("classification_text"),
            mechanisms=body.get("mechanisms", []),
            suggestion=body.get("suggestion"),
            findings=body.get("findings", []),
            prior_therapy=prior_therapy,
        )
        return out
    needle = q.lower()
    hits = [
        {"gene": a.gene, "name": a.name, "kind": a.kind}
        for a in kb.alterations.values()
        if needle in a.name.lower() or any(needle in x.lower() for x in a.aliases)
    ]
    out.update(kind="text", hits=hits[:_MAX_HITS], truncated=len(hits) > _MAX_HITS)
    return out


@router.get("/kb")
def kb_page(request: Request, q: str = "", prior_therapy: str = "") -> Response:
    page_user(request)
    found = search(q, prior_therapy=prior_therapy or None)
    return render(
        request, "kb.html.j2", title="Knowledge base", found=found, prior_therapy=prior_therapy
    )
