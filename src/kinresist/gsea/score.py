"""Single-sample scores of small fixed signatures (Ayers 2017 IFN-γ 6-gene, T-cell-inflamed GEP).

Methods:

* ``"mean"`` (default): the arithmetic mean of the (log-scale) expression of the signature genes
  present, per sample. Uses nothing but that sample, so adding or removing other samples never
  changes a score (the ssGSEA/GSVA pitfall: GSEApy #78; GSVA #70/#101/#221). Ayers et al. scored
  the 6-gene IFN-γ signature as such an average of log-scale normalised expression.
* ``"zscore"``: each gene standardised across the samples of the file, then averaged. Scores are
  relative to the cohort in the file and change when it changes (stated in the result).

Expression is genes x samples (first column = gene symbol). ``transform="log2p1"`` (default)
takes linear values (TPM, CPM, normalised counts) to log2(x + 1); ``"none"`` takes values already
on a log scale. The published 18-gene GEP is a weighted sum on NanoString data; without the
weights kinresist reports the unweighted mean of the same genes and labels it so. A sample with
less than ``min_fraction`` of a signature's genes measured gets no score (flagged).
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Literal

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.gsea.genesets import SIGNATURES
from kinresist.gsea.ranking import looks_like_mouse, mouse_to_human
from kinresist.tme.io import read_table

__all__ = ["read_expression", "signature_scores"]

Method = Literal["mean", "zscore"]
Transform = Literal["log2p1", "none"]


def read_expression(path: str | PathLike[str]) -> pd.DataFrame:
    """Genes x samples table: first column gene symbol, one numeric column per sample."""
    frame = read_table(path)
    gene_col = frame.columns[0]
    values = frame.drop(columns=gene_col).apply(pd.to_numeric, errors="coerce")
    if values.shape[1] == 0:
        msg = "expected a gene column followed by one column per sample"
        raise InputError(msg, path=path)
    bad = values.isna() & frame.drop(columns=gene_col).notna()
    if bad.any().any():
        col = str(bad.any()[bad.any()].index[0])
        msg = f"non-numeric expression values in sample column {col!r}"
        raise InputError(msg, path=path, column=col)
    values.index = frame[gene_col].astype(str).str.strip()
    return values


def _collapse(expr: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Duplicate symbols: keep the row with the highest mean expression (first on ties)."""
    dups = int(expr.index.duplicated().sum())
    if not dups:
        return expr, 0
    mean = expr.mean(axis=1).to_numpy()
    order = pd.DataFrame({"g": expr.index, "m": mean, "pos": np.arange(len(expr))})
    order = order.sort_values(["g", "m", "pos"], ascending=[True, False, True], kind="mergesort")
    keep = order.drop_duplicates("g")["pos"].sort_values().to_numpy()
    return expr.iloc[keep], dups


def signature_scores(
    expression: pd.DataFrame,
    /,
    *,
    signatures: Mapping[str, tuple[str, ...]] | None = None,
    method: Method = "mean",
    transform: Transform = "log2p1",
    species: Literal["human", "mouse"] = "human",
    min_fraction: float = 0.5,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Scores per sample x signature, and a report (genes used/missing, duplicates, method)."""
    sigs = dict(signatures if signatures is not None else SIGNATURES)
    if method not in ("mean", "zscore"):
        msg = f"method must be 'mean' or 'zscore', got {method!r}"
        raise InputError(msg)
    if transform not in ("log2p1", "none"):
        msg = f"transform must be 'log2p1' or 'none', got {transform!r}"
        raise InputError(msg)
    expr = expression.astype(float)
    report: dict[str, object] = {"method": method, "transform": transform, "species": species}
    if species == "human" and looks_like_mouse(list(expr.index)):
        msg = (
            "expression gene symbols look like mouse symbols (e.g. "
            f"{', '.join(list(expr.index[:3]))}); pass species='mouse' to map orthologues "
            "(symbols are never upper-cased)"
        )
        raise InputError(msg)
    if species == "mouse":
        mapped, dropped = mouse_to_human(list(dict.fromkeys(expr.index)))
        keep = expr.index.isin(list(mapped))
        expr = expr.loc[keep]
        expr.index = [mapped[g] for g in expr.index]
        report["orthology_one2one"] = len(mapped)
        report["orthology_dropped"] = len(dropped)
    expr, dups = _collapse(expr)
    report["duplicates_collapsed"] = dups
    if transform == "log2p1":
        if (expr.to_numpy() < 0).any():
            msg = (
                "negative expression values with transform='log2p1': the data look log-scaled "
                "already; pass transform='none' (--transform none)"
            )
            raise InputError(msg)
        expr = np.log2(expr + 1.0)
    if method == "zscore":
        sd = expr.std(axis=1, ddof=1)
        expr = expr.sub(expr.mean(axis=1), axis=0).div(sd.where(sd > 0), axis=0)
    rows = []
    genes_report = {}
    for name, genes in sigs.items():
        present = [g for g in genes if g in expr.index]
        missing = [g for g in genes if g not in expr.index]
        genes_report[name] = {"used": present, "missing": missing}
        enough = len(present) >= max(1, int(np.ceil(min_fraction * len(genes))))
        for sample in expr.columns:
            vals = expr.loc[present, sample].to_numpy(float) if present else np.array([])
            finite = vals[np.isfinite(vals)]
            score = float(np.mean(finite)) if enough and finite.size else float("nan")
            rows.append(
                {
                    "sample": str(sample),
                    "signature": name,
                    "score": score,
                    "n_genes": int(finite.size),
                    "n_signature": len(genes),
                    "missing_genes": ";".join(missing),
                    "method": method,
                    "flags": "" if enough else "too_few_genes",
                }
            )
    if all(not v["used"] for v in genes_report.values()):
        msg = (
            "no signature gene is in the expression table (first genes: "
            f"{', '.join(list(expr.index[:3]))}); symbols are matched exactly"
        )
        raise InputError(msg)
    report["genes"] = genes_report
    report["cohort_dependent"] = method == "zscore"
    return pd.DataFrame(rows), report
