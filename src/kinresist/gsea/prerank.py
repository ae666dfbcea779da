"""Preranked GSEA through gseapy (1.3.x), offline, with exact symbol matching.

gseapy's ``prerank`` is the engine (Subramanian 2005 weighted Kolmogorov-Smirnov ES, gene-set
permutation null, NES = ES / mean of same-signed null ES, nominal p, FDR). kinresist wraps it so
that:

* gene sets are always a dict (never a library name: nothing is downloaded);
* gene symbols are matched exactly: before the call every symbol is replaced by an opaque
  upper-case token (``G000001``), because gseapy upper-cases gene names on its own when the list
  is mostly lower-case and the sets upper-case - the silent mouse-to-human "mapping" this project
  forbids. Results are translated back;
* the order is the one :func:`kinresist.gsea.ranking.prepare_ranking` fixed (``ascending=None``);
* the seed is explicit (gseapy's permutations are reproducible for a given seed and thread count;
  one thread is used).

NES and p-values are permutation estimates: two runs with different seeds (or the Broad desktop)
differ by Monte-Carlo noise (about 1-2 % in NES with 1,000 permutations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.gsea.genesets import GeneSets

__all__ = ["PrerankResult", "run_prerank"]


@dataclass
class PrerankResult:
    """One table row per tested set, plus running-sum curves for the plots."""

    table: pd.DataFrame
    running: dict[str, np.ndarray]
    hits: dict[str, np.ndarray]
    ranked: pd.Series
    skipped: pd.DataFrame
    settings: dict[str, object]


def _overlap(ranked: pd.Series, sets: GeneSets, min_size: int, max_size: int) -> pd.DataFrame:
    present = set(ranked.index)
    rows = []
    for name, genes in sets.sets.items():
        matched = [g for g in genes if g in present]
        rows.append(
            {
                "term": name,
                "set_size": len(genes),
                "matched": len(matched),
                "tested": min_size <= len(matched) <= max_size and len(matched) < len(ranked),
            }
        )
    return pd.DataFrame(rows)


def run_prerank(
    ranked: pd.Series,
    gene_sets: GeneSets,
    /,
    *,
    min_size: int = 15,
    max_size: int = 500,
    permutation_num: int = 1000,
    weight: float = 1.0,
    seed: int = 0,
) -> PrerankResult:
    """Preranked GSEA of ``ranked`` (from :func:`prepare_ranking`) against ``gene_sets``.

    Raises
    ------
    InputError
        No gene set shares a gene with the list, or none has ``min_size``..``max_size`` genes in it.
    """
    import gseapy

    if not 1 <= min_size <= max_size:
        msg = f"need 1 <= min_size <= max_size, got {min_size}, {max_size}"
        raise InputError(msg)
    if permutation_num < 1:
        msg = f"permutation_num must be >= 1, got {permutation_num}"
        raise InputError(msg)
    overlap = _overlap(ranked, gene_sets, min_size, max_size)
    if overlap["matched"].sum() == 0:
        msg = (
            f"none of the {len(overlap)} gene sets of {gene_sets.source or 'the GMT'} shares a gene "
            f"with the ranked list (list: {', '.join(list(ranked.index[:3]))}, ...; sets: "
            f"{', '.join(list(next(iter(gene_sets.sets.values())))[:3])}, ...). Check the "
            "identifier type (symbols vs Ensembl/Entrez) and the species (--species mouse maps "
            "mouse symbols by orthology)"
        )
        raise InputError(msg)
    if not overlap["tested"].any():
        msg = (
            f"no gene set has between {min_size} and {max_size} genes in the ranked list (largest "
            f"overlap {int(overlap['matched'].max())}); lower --min-size"
        )
        raise InputError(msg)
    token = {g: f"G{i:06d}" for i, g in enumerate(ranked.index)}
    back = {v: k for k, v in token.items()}
    rnk = pd.Series(ranked.to_numpy(float), index=[token[g] for g in ranked.index])
    sets = {
        name: [token[g] for g in genes if g in token]
        for name, genes in gene_sets.sets.items()
        if overlap.set_index("term").loc[name, "tested"]
    }
    pre = gseapy.prerank(
        rnk=rnk,
        gene_sets=sets,
        min_size=min_size,
        max_size=max_size,
        permutation_num=permutation_num,
        weight=weight,
        ascending=None,
        outdir=None,
        no_plot=True,
        threads=1,
        seed=seed,
        verbose=False,
    )
    rows = []
    running: dict[str, np.ndarray] = {}
    hits: dict[str, np.ndarray] = {}
    info = overlap.set_index("term")
    for term, r in pre.results.items():
        lead = [back[t] for t in str(r["lead_genes"]).split(";") if t]
        rows.append(
            {
                "term": term,
                "set_size": int(info.loc[term, "set_size"]),
                "matched": int(info.loc[term, "matched"]),
                "es": float(r["es"]),
                "nes": float(r["nes"]),
                "pval": float(r["pval"]),
                "fdr": float(r["fdr"]),
                "fwer": float(r["fwerp"]),
                "leading_edge_n": len(lead),
                "leading_edge": ";".join(lead),
            }
        )
        running[term] = np.asarray(r["RES"], dtype=float)
        hits[term] = np.asarray(r["hits"], dtype=int)
    table = pd.DataFrame(rows)
    table = table.sort_values(["fdr", "nes"], ascending=[True, False], kind="mergesort")
    skipped = overlap[~overlap["tested"]].drop(columns="tested").reset_index(drop=True)
    settings: dict[str, object] = {
        "engine": f"gseapy {gseapy.__version__} prerank (gene-set permutation)",
        "min_size": min_size,
        "max_size": max_size,
        "permutation_num": permutation_num,
        "weight": weight,
        "seed": seed,
        "threads": 1,
    }
    return PrerankResult(table.reset_index(drop=True), running, hits, ranked, skipped, settings)
