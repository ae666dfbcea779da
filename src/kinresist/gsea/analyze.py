"""GSEA entry points: preranked GSEA and single-sample signature scores as
:class:`kinresist.core.Result`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from kinresist.errors import InputError, about_file
from kinresist.gsea.genesets import (
    AYERS_CITATION,
    SIGNATURES,
    GeneSets,
    hallmark,
    read_gmt,
)
from kinresist.gsea.prerank import run_prerank
from kinresist.gsea.ranking import Species, prepare_ranking, read_rnk
from kinresist.gsea.score import Method, Transform, read_expression, signature_scores

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = [
    "SCHEMA_VERSION",
    "load_gene_sets",
    "prerank_file",
    "prerank_result",
    "score_file",
    "score_result",
]

SCHEMA_VERSION = "1.0"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def load_gene_sets(spec: str | PathLike[str]) -> GeneSets:
    """``"hallmark"`` (bundled MSigDB Hallmark v7.0) or a local ``.gmt`` path."""
    if str(spec).strip().lower() in ("hallmark", "h", "h.all"):
        return hallmark()
    return read_gmt(spec)


def prerank_result(
    scores: pd.Series,
    gene_sets: GeneSets,
    /,
    *,
    species: Species = "human",
    min_size: int = 15,
    max_size: int = 500,
    permutation_num: int = 1000,
    weight: float = 1.0,
    seed: int = 0,
    plots: int = 5,
    inputs: Mapping[str, Any] | None = None,
) -> Result:
    """Prepare the ranking, run preranked GSEA, plot the top sets."""
    from kinresist.core.result import Figure, Measurement, Provenance, Result

    ranked, report = prepare_ranking(scores, species=species)
    res = run_prerank(
        ranked,
        gene_sets,
        min_size=min_size,
        max_size=max_size,
        permutation_num=permutation_num,
        weight=weight,
        seed=seed,
    )
    warnings = []
    if report.tied_genes:
        warnings.append(
            f"{report.tied_genes} genes share a score with another gene; ties ordered by "
            f"{report.tie_rule}"
        )
    if report.duplicates_collapsed:
        warnings.append(
            f"{report.duplicates_collapsed} duplicate symbol entries collapsed (kept max |score|;"
            f" e.g. {', '.join(report.duplicate_examples)})"
        )
    if report.orthology_dropped:
        warnings.append(
            f"{report.orthology_dropped} mouse genes without a one-to-one human orthologue dropped"
        )
    figures = []
    from kinresist.gsea.plots import enrichment_figure

    for term in list(res.table["term"])[: max(plots, 0)]:
        figures.append(
            Figure.from_matplotlib(
                enrichment_figure(res, term),
                name=f"enrichment_{term}",
                caption=f"{term}: running enrichment score over the ranked list",
            )
        )
    measurements = [
        Measurement(
            assay="gsea",
            target=str(r.term),
            quantity="nes",
            value=_clean(r.nes),
            unit="",
            attributes={"es": r.es, "fdr": _clean(r.fdr), "pval": _clean(r.pval)},
        )
        for r in res.table.itertuples(index=False)
    ]
    body = {
        "settings": res.settings,
        "gene_sets": {
            "source": gene_sets.source,
            "n_sets": len(gene_sets.sets),
            "n_tested": len(res.table),
            "attribution": gene_sets.attribution,
        },
        "ranking": report.as_dict(),
        "results": [
            {k: _clean(v) for k, v in r.items()}
            for r in res.table.drop(columns="leading_edge").to_dict(orient="records")
        ],
        "notes": [
            "NES, p and FDR are permutation estimates; ES is exact for the given ranking.",
            "Gene symbols are matched exactly (never upper-cased); offline gene sets only.",
        ],
    }
    return Result(
        workflow="gsea.prerank",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs=dict(inputs or {}),
            parameters={
                "species": species,
                "min_size": min_size,
                "max_size": max_size,
                "permutation_num": permutation_num,
                "weight": weight,
                "seed": seed,
            },
        ),
        body=body,
        tables={"results": res.table, "skipped_sets": res.skipped},
        measurements=measurements,
        figures=figures,
        warnings=warnings,
    )


def prerank_file(
    rnk: str | PathLike[str],
    gene_sets: str | PathLike[str] = "hallmark",
    *,
    species: Species = "human",
    min_size: int = 15,
    max_size: int = 500,
    permutation_num: int = 1000,
    weight: float = 1.0,
    seed: int = 0,
    plots: int = 5,
) -> Result:
    """Read a ``.rnk`` and a GMT (or ``"hallmark"``) and run :func:`prerank_result`."""
    scores = read_rnk(rnk)
    sets = load_gene_sets(gene_sets)
    inputs: dict[str, Any] = {"rnk": Path(rnk)}
    if str(gene_sets).lower() not in ("hallmark", "h", "h.all"):
        inputs["gene_sets"] = Path(gene_sets)
    # a check on the ranked list and the sets together: name both files
    where = f" (gene sets: {Path(gene_sets).name})" if "gene_sets" in inputs else ""
    with about_file(rnk, after=where):
        return prerank_result(
            scores,
            sets,
            species=species,
            min_size=min_size,
            max_size=max_size,
            permutation_num=permutation_num,
            weight=weight,
            seed=seed,
            plots=plots,
            inputs=inputs,
        )


def score_result(
    expression: pd.DataFrame,
    /,
    *,
    signatures: Mapping[str, tuple[str, ...]] | None = None,
    method: Method = "mean",
    transform: Transform = "log2p1",
    species: Literal["human", "mouse"] = "human",
    min_fraction: float = 0.5,
    inputs: Mapping[str, Any] | None = None,
) -> Result:
    """Single-sample signature scores as a Result (one measurement per sample x signature)."""
    from kinresist.core.result import Measurement, Provenance, Result

    table, report = signature_scores(
        expression,
        signatures=signatures,
        method=method,
        transform=transform,
        species=species,
        min_fraction=min_fraction,
    )
    warnings = []
    if method == "zscore":
        warnings.append(
            "zscore scores are relative to the samples in this file and change with the cohort"
        )
    for name, g in report["genes"].items():  # type: ignore[attr-defined]
        if g["missing"]:
            warnings.append(f"{name}: genes not measured: {', '.join(g['missing'])}")
    unit = "mean log2(x+1)" if transform == "log2p1" else "mean of input scale"
    if method == "zscore":
        unit = "mean z-score"
    measurements = [
        Measurement(
            assay="rnaseq",
            target=str(r.signature),
            quantity="signature_score",
            value=_clean(r.score),
            unit=unit,
            sample=str(r.sample),
            flags=tuple(f for f in str(r.flags).split(";") if f),
            attributes={"method": method, "n_genes": int(r.n_genes)},
        )
        for r in table.itertuples(index=False)
    ]
    body = {
        "report": report,
        "signatures": {k: list(v) for k, v in (signatures or SIGNATURES).items()},
        "citation": AYERS_CITATION,
        "notes": [
            "Unweighted scores of the Ayers et al. gene lists: the published 18-gene GEP is a "
            "weighted sum on NanoString data (weights not bundled), so values are not on the "
            "published GEP scale.",
            "method 'mean' depends on each sample alone; 'zscore' on the cohort in the file.",
        ],
    }
    return Result(
        workflow="gsea.score",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs=dict(inputs or {}),
            parameters={
                "method": method,
                "transform": transform,
                "species": species,
                "min_fraction": min_fraction,
            },
        ),
        body=body,
        tables={"scores": table},
        measurements=measurements,
        warnings=warnings,
    )


def score_file(
    expression: str | PathLike[str],
    *,
    signatures: Sequence[str] | None = None,
    gene_sets: str | PathLike[str] | None = None,
    method: Method = "mean",
    transform: Transform = "log2p1",
    species: Literal["human", "mouse"] = "human",
    min_fraction: float = 0.5,
) -> Result:
    """Read an expression table and score the named signatures (and/or a GMT's sets)."""
    expr = read_expression(expression)
    chosen: dict[str, tuple[str, ...]] = {}
    for name in signatures or (list(SIGNATURES) if gene_sets is None else []):
        if name not in SIGNATURES:
            msg = f"unknown signature {name!r}; built in: {', '.join(SIGNATURES)}"
            raise InputError(msg)
        chosen[name] = SIGNATURES[name]
    inputs: dict[str, Any] = {"expression": Path(expression)}
    if gene_sets is not None:
        sets = load_gene_sets(gene_sets)
        chosen.update(sets.sets)
        if str(gene_sets).lower() not in ("hallmark", "h", "h.all"):
            inputs["gene_sets"] = Path(gene_sets)
    return score_result(
        expr,
        signatures=chosen,
        method=method,
        transform=transform,
        species=species,
        min_fraction=min_fraction,
        inputs=inputs,
    )
