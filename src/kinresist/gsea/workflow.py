"""Registry declarations of ``kinresist gsea prerank`` and ``kinresist gsea score``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {
    "gsea": "Offline GSEA: preranked enrichment (gseapy engine; bundled MSigDB Hallmark v7.0, CC "
    "BY 4.0) and single-sample scores of the Ayers IFN-γ and T-cell-inflamed signatures."
}

_SPECIES = Param(
    "species",
    ("human", "mouse"),
    default="human",
    help="Symbols of the input: mouse genes are mapped by one-to-one Ensembl orthology (never "
    "upper-cased).",
)


def _run_prerank(rnk: Path, **options: Any) -> Result:
    from kinresist.gsea.analyze import prerank_file

    return prerank_file(rnk, **options)


def _run_score(expression: Path, *, signature: list[str] | None = None, **options: Any) -> Result:
    from kinresist.gsea.analyze import score_file

    return score_file(expression, signatures=list(signature or []) or None, **options)


WORKFLOWS = [
    Workflow(
        group="gsea",
        command="prerank",
        help="Preranked GSEA of a .rnk list against a local GMT or the bundled Hallmark v7.0: "
        "ES, NES, nominal p, FDR, leading edge; duplicate symbols collapsed (max |score|) and "
        "ties ordered deterministically, both reported; enrichment plots. Offline only.",
        inputs=[InputSpec("rnk", help="Ranked list: GENE<TAB>SCORE per line.")],
        params=[
            Param(
                "gene_sets",
                str,
                default="hallmark",
                help="A local .gmt file, or 'hallmark' (bundled MSigDB Hallmark v7.0).",
            ),
            _SPECIES,
            Param("min_size", int, default=15, help="Smallest gene-set overlap tested."),
            Param("max_size", int, default=500, help="Largest gene-set overlap tested."),
            Param("permutation_num", int, default=1000, help="Gene-set permutations."),
            Param("weight", float, default=1.0, help="ES weight p (1 = classic GSEA)."),
            Param("seed", int, default=0, help="Permutation seed."),
            Param("plots", int, default=5, help="Enrichment plots of the top N sets."),
        ],
        run=_run_prerank,
        records=True,
        subject_kind="animal",
    ),
    Workflow(
        group="gsea",
        command="score",
        help="Single-sample scores of the Ayers et al. 2017 (PMID 28650338) 6-gene IFN-γ and "
        "18-gene T-cell-inflamed signatures (unweighted mean of log expression; cohort-"
        "independent) or of a GMT's sets.",
        inputs=[
            InputSpec("expression", help="Genes x samples table (first column = gene symbol).")
        ],
        params=[
            Param(
                "signature",
                str,
                multiple=True,
                help="AYERS_IFNG_6 and/or AYERS_TCELL_INFLAMED_GEP_18 (default: both).",
            ),
            Param("gene_sets", str, help="Also score the sets of a local .gmt (or 'hallmark')."),
            Param(
                "method",
                ("mean", "zscore"),
                default="mean",
                help="mean: per-sample mean log expression; zscore: relative to the file's cohort.",
            ),
            Param(
                "transform",
                ("log2p1", "none"),
                default="log2p1",
                help="log2p1: input is linear (TPM/CPM); none: already log-scaled.",
            ),
            _SPECIES,
            Param(
                "min_fraction",
                float,
                default=0.5,
                help="Fewer signature genes measured than this fraction: no score (flagged).",
            ),
        ],
        run=_run_score,
        subject_kind="animal",
        sample_type="tumour",
    ),
]
