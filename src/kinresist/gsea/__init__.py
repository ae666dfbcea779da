"""GSEA offline: preranked GSEA (gseapy engine) and single-sample scores of fixed signatures.

Public API (``kinresist gsea prerank`` / ``kinresist gsea score`` come from
:mod:`kinresist.gsea.workflow`):

* :func:`read_gmt`, :func:`hallmark` (bundled MSigDB Hallmark v7.0, CC BY 4.0), :data:`SIGNATURES`
  (Ayers 2017 IFN-γ 6-gene and 18-gene T-cell-inflamed GEP lists)
* :func:`read_rnk`, :func:`prepare_ranking` - orthology (mouse), duplicates, deterministic ties
* :func:`run_prerank` / :func:`prerank_result` / :func:`prerank_file`
* :func:`signature_scores` / :func:`score_result` / :func:`score_file`
"""

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
