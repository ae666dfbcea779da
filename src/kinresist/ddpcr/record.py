"""Record a plate analysis in the project store (used only by the CLI's ``--db`` path)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["record_analysis", "to_findings"]


def to_findings(analysis: Any) -> list[Any]:
    """Detected mutant targets as :class:`kinresist.interpret.finding.Finding` (source "ddpcr"),
    one per sample (wells merged) or per well when samples are unnamed."""
    from kinresist.interpret.finding import Finding

    rows = analysis.samples if len(analysis.samples) else analysis.wells
    out = []
    for _, r in rows[(rows["channel"] == 1) & (rows["call"] == "detected")].iterrows():
        gene, alt = r.get("gene"), r.get("alteration")
        fa = r.get("fractional_abundance")
        if not gene or not alt or fa is None or not np.isfinite(fa):
            continue
        out.append(
            Finding(
                gene=str(gene),
                alteration=str(alt),
                kind=_kind(str(alt)),
                vaf=float(fa) / 100,
                source="ddpcr",
                sample=str(r.get("sample") or r.get("well")),
            )
        )
    return out


def _kind(alteration: str) -> Any:
    a = alteration.lower()
    if "del" in a:
        return "deletion"
    if "ins" in a or "dup" in a:
        return "insertion"
    return "substitution"


def record_analysis(
    db: str,
    analysis: Any,
    payload: dict[str, Any],
    *,
    study: str = "default",
    subject: str | None = None,
) -> dict[str, Any]:
    """Store each sample's mutant-channel fractional abundance (a measurement; a finding when
    detected, ``source_assay="ddpcr"``) in ONE transaction; returns counts recorded."""
    from kinresist.store import open_store  # type: ignore[attr-defined]

    rows = analysis.samples if len(analysis.samples) else analysis.wells
    rows = rows[(rows["channel"] == 1) & (rows["sample"].astype(str) != "")]
    n_meas = n_find = 0
    with open_store(db) as store, store.transaction() as tx:
        st = tx.get_or_create_study(study)
        run = tx.add_run(
            kind="ddpcr.analyze",
            parameters=payload.get("parameters", {}),
            inputs=payload.get("inputs", {}),
            outputs={"wells": len(payload["wells"])},
            kb_version=payload.get("kb_version"),
        )
        for _, r in rows.iterrows():
            subj = tx.get_or_create_subject(st, subject or str(r["sample"]), kind="patient")
            sample = tx.get_or_create_sample(subj, str(r["sample"]), kind="plasma")
            fa = r.get("fractional_abundance")
            target = (
                f"{r['gene']} {r['alteration']}"
                if r.get("gene") and r.get("alteration")
                else str(r["target"])
            )
            if fa is None or not np.isfinite(fa):
                continue
            tx.add_measurement(
                sample,
                run=run,
                assay="ddpcr",
                target=target,
                quantity="fractional_abundance",
                value=float(fa),
                unit="%",
                ci_low=_f(r.get("fa_ci95_low")),
                ci_high=_f(r.get("fa_ci95_high")),
                call=str(r["call"]),
                lod=_f(r.get("lod_fa")),
            )
            n_meas += 1
            if r["call"] == "detected" and r.get("gene") and r.get("alteration"):
                tx.add_finding(
                    sample,
                    gene=r["gene"],
                    alteration=r["alteration"],
                    kind=_kind(str(r["alteration"])),
                    vaf=float(fa) / 100,
                    copy_number=None,
                    fusion_partner=None,
                    fusion_variant=None,
                    source_assay="ddpcr",
                    run=run,
                )
                n_find += 1
    return {"measurements": n_meas, "findings": n_find}


def _f(v: Any) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None
