"""ZIP (zero interaction potency; Yadav et al. 2015) as SynergyFinder 3 computes it.

Steps (spec ``synergy.md`` §2, "SynergyFinder 3.x ZIP"), effects in % inhibition:

1. Fit each drug's monotherapy curve (LL.4, dose 0 included, c and d free).
2. ``ZIP_ref(x1, x2) = ŷ1 + ŷ2 − ŷ1·ŷ2/100`` with the *fitted* single-drug values.
3. For every column (fixed x2 > 0) fit LL.4 across drug 1's doses (dose 0 included)
   with the lower asymptote c fixed at the *observed* response I(0, x2) and d free;
   likewise every row. Predict each cell.
4. ``ZIP_fit`` = mean of the row-fit and column-fit predictions; ``δ = ZIP_fit − ZIP_ref``;
   monotherapy cells: δ = 0.

Two fitters implement the same steps:

* :func:`zip_exact` fits the least-squares optimum of every curve with the batch
  engine (:func:`kinresist.dose.engine.fit_batch`), all blocks and all row/column
  refits of a stack in one call each.
* :func:`zip_synergyfinder` replays drc's BFGS (:mod:`kinresist.synergy._drc`) to
  reproduce SynergyFinder's numbers, including where drc stops short of the optimum,
  runs to its iteration limit or falls back to L.4 (data in input-row order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinresist.dose.engine import fit_batch
from kinresist.synergy._drc import DrcFit, fit_drc
from kinresist.synergy.single_agent import SingleFits, fit_single_agents

__all__ = ["SingleFits", "ZipResult", "fit_single_agents", "zip_exact", "zip_synergyfinder"]


@dataclass(frozen=True)
class ZipResult:
    """ZIP surfaces ``(B, n1, n2)``: ``fit``, ``ref``, ``delta``.

    ``n_refit_failed`` counts, per block, row/column refits that did not converge (exact
    mode: their finite fitted values are still used; synergyfinder mode: drm failed with
    LL.4 and L.4, SynergyFinder stops with an error, and the block's ZIP is NaN).
    """

    fit: np.ndarray
    ref: np.ndarray
    delta: np.ndarray
    n_refit_failed: np.ndarray


def _refit(
    dose: np.ndarray, resp: np.ndarray, bottom: np.ndarray, *, multistart: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Fit many curves with c fixed per curve; predictions at the curves' own doses.

    ZIP needs only the fitted values at the tested doses, which are determined even
    when the parameters are not (a plateau never reached: e or d unidentifiable, which
    the engine reports as not converged). Curves not converged from the self-start are
    refitted from the engine's additional starting points and the lower RSS is kept;
    the prediction is then used if finite. Returns predictions and a per-curve
    "still not converged" mask (reported, not substituted). Only a non-finite
    prediction falls back to the observed values (flagged; SynergyFinder itself has no
    value there: it stops with an error when drc fails with LL.4 and L.4).
    """
    with np.errstate(all="ignore"):
        fit = fit_batch(dose, resp, model="LL.4", fixed={"bottom": bottom}, multistart=multistart)
        pred = fit.predict(dose)
        conv = np.asarray(fit.converged, bool).copy()
        rss = np.asarray(fit.rss, float).copy()
        retry = np.flatnonzero(~conv)
        if retry.size and not multistart:
            # the multistart refit without its self-start, which LM has just run (same start,
            # same backend: the same result); kept as a multistart keeps its best start:
            # converged first, then the lower RSS, the self-start winning ties
            f2 = fit_batch(
                dose[retry],
                resp[retry],
                model="LL.4",
                fixed={"bottom": bottom[retry]},
                multistart=True,
                alternatives_only=True,
                # the first fit's backend, whatever the number of retries: the compiled
                # kernel is warm, and a block scores the same in any chunk it falls in
                backend="numba" if fit.backend == "numba" else "numpy",
            )
            r2 = np.asarray(f2.rss)
            better = np.where(
                np.asarray(f2.converged, bool),
                r2 <= np.where(np.isfinite(rss[retry]), rss[retry], np.inf),
                r2 < rss[retry],
            )
            take = retry[better]
            pred[take] = f2.predict(dose[retry])[better]
            conv[take] = np.asarray(f2.converged, bool)[better]
    finite = np.all(np.isfinite(pred), axis=1)
    pred = np.where(finite[:, None], pred, resp)
    return pred, ~finite | ~conv


def zip_exact(
    conc1: np.ndarray,
    conc2: np.ndarray,
    inhibition: np.ndarray,
    singles: SingleFits | None = None,
    *,
    refit_multistart: bool = False,
) -> ZipResult:
    """SynergyFinder-3 ZIP with least-squares-optimal fits, vectorised over blocks.

    Parameters
    ----------
    conc1, conc2, inhibition
        Stack arrays ``(B, n1)``, ``(B, n2)``, ``(B, n1, n2)``.
    singles
        Single-agent fits (computed when None).
    refit_multistart
        Also start the row/column refits from the engine's alternative starting points
        (4× the cost; the self-start with c fixed at the observed value is usually
        enough).
    """
    nb, n1, n2 = inhibition.shape
    s = singles or fit_single_agents(conc1, conc2, inhibition)
    y1 = s.curve1.predict(conc1)  # (B, n1)
    y2 = s.curve2.predict(conc2)
    ref = y1[:, :, None] + y2[:, None, :] - y1[:, :, None] * y2[:, None, :] / 100.0

    # columns: fixed x2 (j >= 1), curve over conc1 with c = I(0, x2)
    col_resp = np.transpose(inhibition[:, :, 1:], (0, 2, 1)).reshape(nb * (n2 - 1), n1)
    col_dose = np.repeat(conc1, n2 - 1, axis=0)
    col_pred, col_bad = _refit(
        col_dose, col_resp, col_resp[:, 0].copy(), multistart=refit_multistart
    )
    col_pred = np.transpose(col_pred.reshape(nb, n2 - 1, n1), (0, 2, 1))  # (B, n1, n2-1)
    # rows: fixed x1 (i >= 1), curve over conc2 with c = I(x1, 0)
    row_resp = inhibition[:, 1:, :].reshape(nb * (n1 - 1), n2)
    row_dose = np.repeat(conc2, n1 - 1, axis=0)
    row_pred, row_bad = _refit(
        row_dose, row_resp, row_resp[:, 0].copy(), multistart=refit_multistart
    )
    row_pred = row_pred.reshape(nb, n1 - 1, n2)

    fit = inhibition.copy()
    fit[:, 1:, 1:] = (col_pred[:, 1:, :] + row_pred[:, :, 1:]) / 2.0
    ref_full = inhibition.copy()
    ref_full[:, 1:, 1:] = ref[:, 1:, 1:]
    delta = fit - ref_full
    n_failed = col_bad.reshape(nb, -1).sum(1) + row_bad.reshape(nb, -1).sum(1)
    return ZipResult(fit, ref_full, delta, n_failed)


def _fit_in_order(
    dose: np.ndarray, resp: np.ndarray, rank: np.ndarray, *, emin: float | None = None
) -> tuple[DrcFit, np.ndarray]:
    """``FitDoseResponse`` on one slice in input-row order; fitted values (NaN if failed)."""
    o = np.argsort(rank, kind="stable")
    fit = fit_drc(dose[o], resp[o], emin=emin)
    pred = np.full(dose.shape, np.nan)
    if not fit.failed:
        pred[o] = fit.predict(dose[o])
    return fit, pred


def _r_mean2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """R's ``rowMeans`` of two columns (long-double sum, then / 2)."""
    return ((a.astype(np.longdouble) + b.astype(np.longdouble)) / 2).astype(float)


def _r_bliss_fitted(y1: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """``(1 − prod(1 − y/100))·100`` with R's long-double ``prod``."""
    p = (
        (1.0 - y1 / 100.0).astype(np.longdouble) * (1.0 - y2 / 100.0).astype(np.longdouble)
    ).astype(float)
    return (1.0 - p) * 100.0


def zip_synergyfinder(
    conc1: np.ndarray,
    conc2: np.ndarray,
    inhibition: np.ndarray,
    rank: np.ndarray | None = None,
    *,
    refits: bool = True,
) -> tuple[ZipResult, list[tuple[DrcFit, DrcFit]]]:
    """ZIP exactly as SynergyFinder 3.7.3 (drc replay), one block at a time.

    Every curve is fitted on its rows in input order (``rank``, ``(B, n1, n2)``; None =
    ascending doses). Single agents: ``ExtractSingleDrug`` rows (dose 0 included).
    Refits: one per dose of the other drug *including* dose 0 (as SynergyFinder's
    ``nest``), lower asymptote fixed at the observed response at dose 0. A failed fit
    (LL.4 and L.4) makes SynergyFinder stop with an R error; the block's ZIP is then
    NaN and counted in ``n_refit_failed`` (refits) or reported by the returned single
    fits (``failed``).

    Returns the ZIP surfaces and, per block, the two single-agent drc fits (shared with
    SynergyFinder-mode Loewe). ``refits=False`` fits the single agents only (Loewe
    alone needs no more; the ZIP surfaces are then NaN).
    """
    nb, n1, n2 = inhibition.shape
    ranks = (
        rank
        if rank is not None
        else np.broadcast_to(np.arange(n1 * n2).reshape(n1, n2), (nb, n1, n2))
    )
    fit = inhibition.copy()
    ref = inhibition.copy()
    n_failed = np.zeros(nb, dtype=int)
    singles = []
    for k in range(nb):
        x1, x2, m, rk = conc1[k], conc2[k], inhibition[k], ranks[k]
        f1, y1 = _fit_in_order(x1, m[:, 0], rk[:, 0])
        f2, y2 = _fit_in_order(x2, m[0, :], rk[0, :])
        singles.append((f1, f2))
        ref[k, 1:, 1:] = _r_bliss_fitted(y1[1:, None], y2[None, 1:])
        if not refits:
            fit[k, 1:, 1:] = np.nan
            continue
        colp = np.empty((n1, n2))
        rowp = np.empty((n1, n2))
        for j in range(n2):
            fj, colp[:, j] = _fit_in_order(x1, m[:, j], rk[:, j], emin=float(m[0, j]))
            n_failed[k] += fj.failed
        for i in range(n1):
            fi, rowp[i, :] = _fit_in_order(x2, m[i, :], rk[i, :], emin=float(m[i, 0]))
            n_failed[k] += fi.failed
        fit[k, 1:, 1:] = _r_mean2(colp[1:, 1:], rowp[1:, 1:])
        if n_failed[k] or f1.failed or f2.failed:  # SynergyFinder stops: no ZIP
            fit[k, 1:, 1:] = np.nan
            ref[k, 1:, 1:] = np.nan
    return ZipResult(fit, ref, fit - ref, n_failed), singles
