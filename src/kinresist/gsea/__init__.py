"""GSEA offline: preranked GSEA (gseapy engine) and single-sample scores of fixed signatures.

Public API (``kinresist gsea prerank`` / ``kinresist gsea score`` come from
:mod:`kinresist.gsea.workflow`):

* :func:`read_gmt`, :func:`hallmark` (bundled MSigDB Hallmark v7.0, CC BY 4.0), :data:`SIGNATURES`
  (Ayers 2017 IFN-γ 6-gene and 18-gene T-cell-inflamed GEP lists)
* :func:`read_rnk`, :func:`prepare_ranking` - orthology (mouse), duplicates, deterministic ties
* :func:`run_prerank` / :func:`prerank_result` / :func:`prerank_file`
* :func:`signature_scores` / :func:`score_result` / :func:`score_file`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

if TYPE_CHECKING:
    from kinresist.gsea.analyze import (
        load_gene_sets,
        prerank_file,
        prerank_result,
        score_file,
        score_result,
    )
    from kinresist.gsea.genesets import (
        AYERS_CITATION,
        HALLMARK_ATTRIBUTION,
        IFNG_6,
        SIGNATURES,
        TCELL_INFLAMED_GEP_18,
        GeneSets,
        hallmark,
        read_gmt,
    )
    from kinresist.gsea.prerank import PrerankResult, run_prerank
    from kinresist.gsea.ranking import RankingReport, mouse_to_human, prepare_ranking, read_rnk
    from kinresist.gsea.score import read_expression, signature_scores

_LAZY = {
    "load_gene_sets": "kinresist.gsea.analyze",
    "prerank_file": "kinresist.gsea.analyze",
    "prerank_result": "kinresist.gsea.analyze",
    "score_file": "kinresist.gsea.analyze",
    "score_result": "kinresist.gsea.analyze",
    "AYERS_CITATION": "kinresist.gsea.genesets",
    "HALLMARK_ATTRIBUTION": "kinresist.gsea.genesets",
    "IFNG_6": "kinresist.gsea.genesets",
    "SIGNATURES": "kinresist.gsea.genesets",
    "TCELL_INFLAMED_GEP_18": "kinresist.gsea.genesets",
    "GeneSets": "kinresist.gsea.genesets",
    "hallmark": "kinresist.gsea.genesets",
    "read_gmt": "kinresist.gsea.genesets",
    "PrerankResult": "kinresist.gsea.prerank",
    "run_prerank": "kinresist.gsea.prerank",
    "RankingReport": "kinresist.gsea.ranking",
    "mouse_to_human": "kinresist.gsea.ranking",
    "prepare_ranking": "kinresist.gsea.ranking",
    "read_rnk": "kinresist.gsea.ranking",
    "read_expression": "kinresist.gsea.score",
    "signature_scores": "kinresist.gsea.score",
}
__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)

__all__ = [
    "AYERS_CITATION",
    "HALLMARK_ATTRIBUTION",
    "IFNG_6",
    "SIGNATURES",
    "TCELL_INFLAMED_GEP_18",
    "GeneSets",
    "PrerankResult",
    "RankingReport",
    "hallmark",
    "load_gene_sets",
    "mouse_to_human",
    "prepare_ranking",
    "prerank_file",
    "prerank_result",
    "read_expression",
    "read_gmt",
    "read_rnk",
    "run_prerank",
    "score_file",
    "score_result",
    "signature_scores",
]
