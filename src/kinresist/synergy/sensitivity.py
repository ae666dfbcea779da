"""Sensitivity scores: IC50, RI (relative inhibition) and CSS (DrugComb / SynergyFinder).

Definitions (spec ``synergy.md`` §4; SynergyFinder ``CalculateSensitivity``), with
curves fitted exactly as SynergyFinder fits them (:mod:`kinresist.synergy._drc`):

* **RI** of a curve: drop dose 0, fit LL.4 (all parameters free) to (dose, I) and
  average the fitted curve over log10 dose between the lowest and highest tested dose,
  in % (the analytic integral SynergyFinder calls ``.ScoreCurve``; threshold 0);
  LL.4 failing -> L.4 on log10 dose (``.ScoreCurve_L4``). One non-zero dose: RI is
  its response. Rounded to 3 decimals, as SynergyFinder.
* **IC50_i**: drc ``e`` of drug i's single-agent fit (dose 0 included), capped at the
  highest tested dose (``ic50_capped`` flag).
* **CSS_{1|IC50_2}**: for every dose of drug 1, the response across drug 2's doses is
  fitted (free LL.4) and predicted at IC50_2; RI of these predictions over drug 1's
  doses. ``CSS = mean(CSS_{1|IC50_2}, CSS_{2|IC50_1})``.

Deterministic where SynergyFinder is not: a prediction above 100 % is replaced in
SynergyFinder by ``100 − U(0, 0.01)`` (random); here by 100 − 0.005 (the mean of that
draw), with the flag ``css_prediction_capped``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kinresist.synergy._drc import DrcFit, fit_drc
from kinresist.synergy.block import Block, default_rank

__all__ = ["Sensitivity", "relative_inhibition", "sensitivity"]


def _own_log(b: float, c: float, x: float) -> float:
    arg = 1.0 + 10.0 ** (b * (c - x)) if b * (c - x) < 300 else math.inf
    return b * (c - x) * math.log(10.0) if math.isinf(arg) else math.log(arg)


def _own_log2(x: float) -> float:
    return x if x > 700 else math.log1p(math.exp(x))


def _score_ll4(b: float, c: float, d: float, m: float, c1: float, c2: float) -> float:
    lo = ((d - c) * _own_log(-b, c1, m)) / ((-b) * math.log(10.0)) + c * c1
    hi = ((d - c) * _own_log(-b, c2, m)) / ((-b) * math.log(10.0)) + c * c2
    return (hi - lo) / (c2 - c1) * 100.0


def _score_l4(b: float, c: float, d: float, e: float, c1: float, c2: float) -> float:
    int_y = d * (c2 - c1) + ((c - d) / b) * (_own_log2(b * (c2 - e)) - _own_log2(b * (c1 - e)))
    return int_y / (c2 - c1) * 100.0


def relative_inhibition(dose: np.ndarray, response: np.ndarray) -> float:
    """RI (%) of one dose-response curve (% inhibition), as SynergyFinder ``CalculateRI``."""
    x = np.asarray(dose, dtype=float)
    y = np.asarray(response, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    keep = x != 0
    x, y = x[keep], y[keep]
    if x.size == 0:
        return math.nan
    if x.size == 1:
        return float(y[0])
    fit = fit_drc(x, y, log_base=10.0, caller="CalculateRI")
    if fit.failed:
        return math.nan
    b, c, d, e = (float(v) for v in fit.params)
    c1, c2 = math.log10(float(x.min())), math.log10(float(x.max()))
    if fit.model == "LL.4":
        score = _score_ll4(b, c / 100, d / 100, math.log10(e), c1, c2)
    else:
        score = _score_l4(b, c / 100, d / 100, e, c1, c2)
    return round(score, 3)


def _predict_response(dose: np.ndarray, response: np.ndarray, at: float) -> tuple[float, bool]:
    """SynergyFinder ``PredictResponse`` on rows in input order (deterministic cap)."""
    if np.var(response) == 0:
        return float(response[0]), False
    fit: DrcFit = fit_drc(dose, response)
    if fit.failed:
        return math.nan, False
    pred = float(fit.predict(np.array([at]))[0])
    if pred > 100:
        return 100.0 - 0.005, True
    return pred, False


@dataclass(frozen=True)
class Sensitivity:
    """IC50, RI and CSS of one block (drug 1 = rows, drug 2 = columns)."""

    ic50_1: float
    ic50_2: float
    ri_1: float
    ri_2: float
    css1_ic502: float
    css2_ic501: float
    css: float
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, float | list[str]]:
        return {
            "ic50_1": self.ic50_1,
            "ic50_2": self.ic50_2,
            "ri_1": self.ri_1,
            "ri_2": self.ri_2,
            "css1_ic502": self.css1_ic502,
            "css2_ic501": self.css2_ic501,
            "css": self.css,
            "flags": list(self.flags),
        }


def _css(
    conc_css: np.ndarray,
    conc_other: np.ndarray,
    mat: np.ndarray,
    rank: np.ndarray,
    ic50: float,
) -> tuple[float, bool]:
    """RI over drug A's doses of responses predicted at drug B's IC50 (mat rows: A doses).

    Each row is taken in input order (``rank``), as SynergyFinder's ``nest``; with a
    single non-zero dose of drug B SynergyFinder returns the row's *second* response in
    that order (``x$response[2]``).
    """
    preds = np.empty(conc_css.size)
    capped = False
    for i in range(conc_css.size):
        o = np.argsort(rank[i], kind="stable")
        if conc_other.size == 2:
            preds[i] = mat[i, o[1]]
        else:
            preds[i], cap = _predict_response(conc_other[o], mat[i, o], ic50)
            capped |= cap
    return relative_inhibition(conc_css, preds), capped


def sensitivity(block: Block) -> Sensitivity:
    """IC50, RI and CSS of a block, SynergyFinder-compatible (no replicates).

    drc fits take the rows in input order (``Block.input_rank``; ascending doses when
    unknown), as SynergyFinder does.
    """
    m = block.inhibition
    rank = block.input_rank if block.input_rank is not None else default_rank(*block.shape)
    flags: list[str] = []
    ic50 = []
    for k, (conc, resp, rk) in enumerate(
        ((block.conc1, m[:, 0], rank[:, 0]), (block.conc2, m[0, :], rank[0, :])), start=1
    ):
        o = np.argsort(rk, kind="stable")
        fit = fit_drc(conc[o], resp[o])
        val = math.nan if fit.failed else fit.ec50
        if val > conc.max():
            val = float(conc.max())
            flags.append(f"ic50_{k}_capped_at_max_dose")
        ic50.append(val)
    ri_1 = relative_inhibition(block.conc1, m[:, 0])
    ri_2 = relative_inhibition(block.conc2, m[0, :])
    css1, cap1 = _css(block.conc1, block.conc2, m, rank, ic50[1])
    css2, cap2 = _css(block.conc2, block.conc1, m.T, rank.T, ic50[0])
    if cap1 or cap2:
        flags.append("css_prediction_capped")
    return Sensitivity(ic50[0], ic50[1], ri_1, ri_2, css1, css2, (css1 + css2) / 2, tuple(flags))
