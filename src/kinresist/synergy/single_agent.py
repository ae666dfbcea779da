"""Single-agent LL.4 fits for exact-mode ZIP and Loewe, including step-like curves.

The batch engine (:func:`kinresist.dose.engine.fit_batch`) fits each drug's
monotherapy data (dose 0 included, c and d free). Three outcomes are distinguished,
per curve and vectorised over blocks (``status``):

``"ok"``
    The engine converged: an interior least-squares optimum. Used as fitted.
``"at_limit"``
    The engine stopped a runaway parameter (flags ``not_converged`` +
    ``parameter_at_limit``): the least-squares optimum lies on the *boundary* of the
    LL.4 family, i.e. a step (hill → ∞) or an EC50 far outside the tested range. The
    data then determine the curve at every tested dose but not the shape between
    them. The curve used is the best fitting limit curve we can write down: the
    engine's stopped curve or, when one fits better, an exact step
    (``"step"`` below). Flag ``single_agent_at_limit:<drug>``.
``"step"``
    (a kind of ``at_limit``) The best limit is a two-level step in a gap between
    adjacent tested doses (levels = the group means: the least-squares step). It is
    written as an LL.4 with hill ``−B`` (B = 1e5/ln r, r the smallest ratio of
    adjacent doses), which equals the two levels at every tested dose to rounding,
    placed at the geometric middle of its gap (half a dilution step below the lowest
    tested dose for a step between dose 0 and it). Flags
    ``single_agent_at_limit:<drug>`` and ``single_agent_step_curve:<drug>``.
``"failed"``
    No usable curve: fewer than 4 doses (dose 0 included), non-finite parameters, an unconverged fit that
    is not at a limit, or **no dose response** — the best two-level step does not
    explain the data better than a flat line (extra-sum-of-squares F test, 1 and
    n − 2 df, Bonferroni-corrected for the n − 1 candidate split points, α = 0.05).
    ZIP and Loewe are then undefined (NaN, flag ``single_agent_fit_failed:<drug>``).

Where the position of a two-level step inside its gap matters — the Loewe isobole
of a combination cell in which the step drug's dose lies *below* the gap (its term
x/X(y) is x/s for the unknown step dose s) — the Loewe expectation is not
determined by the data: those cells are reported undefined
(``loewe_undetermined_step``; ``undetermined_below`` gives the dose threshold). ZIP
uses the single-agent curves only at tested doses and is always determined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from kinresist.dose.engine import FLAG_BITS, fit_batch
from kinresist.synergy.reference import Curve

__all__ = [
    "ALPHA_DOSE_RESPONSE",
    "SingleAgentFit",
    "SingleFits",
    "fit_single_agents",
    "resolve_single_agent",
]

#: level of the no-dose-response test that makes an at-limit fit count as failed
ALPHA_DOSE_RESPONSE = 0.05
_STEP_STEEPNESS = 1e5  # hill of a step curve = −_STEP_STEEPNESS / ln(smallest dose ratio)
_RSS_RTOL = 1e-9


@dataclass(frozen=True)
class SingleAgentFit:
    """Resolved single-agent curves of one drug across B blocks.

    Attributes
    ----------
    curve
        drc LL.4 parameters (NaN where ``status == "failed"``).
    status
        ``(B,)`` ``"ok"``, ``"at_limit"``, ``"step"`` or ``"failed"``.
    reason
        ``(B,)`` why a curve failed (``""`` otherwise): ``"no_fit"``,
        ``"not_converged"``, ``"no_dose_response"`` or ``"too_few_points"`` (< 4 doses).
    converged
        ``(B,)`` the engine's convergence verdict.
    rss
        ``(B,)`` residual sum of squares of the curve used.
    undetermined_below
        ``(B,)`` Loewe is not determined for combination cells where this drug's dose
        is ``<=`` this value (two-level step inside the tested range; 0 otherwise).
    p_dose_response
        ``(B,)`` p-value of the no-dose-response test (NaN for converged fits).
    """

    curve: Curve
    status: np.ndarray
    reason: np.ndarray
    converged: np.ndarray
    rss: np.ndarray
    undetermined_below: np.ndarray
    p_dose_response: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        return self.status != "failed"


@dataclass(frozen=True)
class SingleFits:
    """Fitted monotherapy curves of a stack: ``curve1``/``curve2`` (drc b, c, d, e per block).

    ``usable1/2``: the curve is used; ``converged1/2``: the engine's convergence
    verdict; ``fit1/2``: the full resolution (status, reason, Loewe determinacy).
    """

    curve1: Curve
    curve2: Curve
    converged1: np.ndarray
    converged2: np.ndarray
    usable1: np.ndarray
    usable2: np.ndarray
    fit1: SingleAgentFit
    fit2: SingleAgentFit


def _group_ss(y: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sum of squares of ``y[:, lo:hi]`` (non-empty)."""
    g = y[:, lo:hi]
    m = g.mean(axis=1)
    return m, ((g - m[:, None]) ** 2).sum(axis=1)


def _steps(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Best two-level step per curve (x sorted ascending, x[:, 0] = 0, all finite).

    Returns the best two-level RSS (for the dose-response test), the best step with
    its LL.4 parameters, and the Loewe-determinacy threshold.
    """
    nb, n = y.shape
    best = {
        "rss": np.full(nb, np.inf),
        "b": np.full(nb, np.nan),
        "c": np.full(nb, np.nan),
        "d": np.full(nb, np.nan),
        "e": np.full(nb, np.nan),
        "below": np.zeros(nb),
    }
    rss2 = np.full(nb, np.inf)
    lx = np.log(np.where(x > 0, x, 1.0))
    ratio = np.diff(lx[:, 1:], axis=1)
    min_lr = np.min(ratio, axis=1) if ratio.shape[1] else np.full(nb, np.log(10.0))
    big = _STEP_STEEPNESS / min_lr
    first_gap = ratio[:, 0] if ratio.shape[1] else np.full(nb, np.log(10.0))

    def take(rss: np.ndarray, c: np.ndarray, d: np.ndarray, e: np.ndarray, below: np.ndarray):  # type: ignore[no-untyped-def]
        better = rss < best["rss"]
        for key, val in (("rss", rss), ("c", c), ("d", d), ("e", e), ("below", below)):
            best[key] = np.where(better, val, best[key])
        best["b"] = np.where(better, -big, best["b"])

    for k in range(1, n):  # two levels: indices < k | >= k, step in gap (x[k-1], x[k])
        lo_m, lo_ss = _group_ss(y, 0, k)
        hi_m, hi_ss = _group_ss(y, k, n)
        rss = lo_ss + hi_ss
        rss2 = np.minimum(rss2, rss)
        if k == 1:
            loge = lx[:, 1] - 0.5 * first_gap
            below = np.zeros(nb)
        else:
            loge = 0.5 * (lx[:, k - 1] + lx[:, k])
            below = x[:, k - 1]
        take(rss, lo_m, hi_m, np.exp(loge), below)
    best["rss2"] = rss2
    return best


def resolve_single_agent(dose: np.ndarray, response: np.ndarray) -> SingleAgentFit:
    """Fit and classify one drug's monotherapy curves ``(B, n)`` (see module docstring)."""
    x = np.asarray(dose, dtype=float)
    y = np.asarray(response, dtype=float)
    nb, n = y.shape
    with np.errstate(all="ignore"):  # the engine flags what it cannot fit; no float warnings
        fit = fit_batch(x, y, model="LL.4")
    names = fit.param_names
    par = {nm: fit.params[:, i] for i, nm in enumerate(names)}
    eng = np.column_stack([par["hill"], par["bottom"], par["top"], par["ec50"]])
    conv = np.asarray(fit.converged, bool)
    finite = np.all(np.isfinite(eng), axis=1)
    at_limit = (np.asarray(fit.flag_bits) & FLAG_BITS["parameter_at_limit"]) != 0
    eng_rss = np.where(finite, np.asarray(fit.rss, float), np.inf)

    st = _steps(x, y)
    tss = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    df2 = n - 2
    with np.errstate(all="ignore"):
        f = (tss - st["rss2"]) / (st["rss2"] / max(df2, 1))
        f = np.where(tss > 0, np.where(st["rss2"] > 0, f, np.inf), 0.0)
        p = np.minimum(1.0, special.fdtrc(1, max(df2, 1), f) * (n - 1)) if df2 > 0 else np.ones(nb)
    responsive = (p < ALPHA_DOSE_RESPONSE) & (df2 > 0)

    use_step = ~conv & (st["rss"] <= eng_rss * (1 + _RSS_RTOL) + 1e-12 * tss)
    use_engine_limit = ~conv & ~use_step & at_limit & finite
    ok = conv & finite
    accepted_limit = (use_step | use_engine_limit) & responsive
    status = np.full(nb, "failed", dtype=object)
    status[ok] = "ok"
    status[accepted_limit & use_engine_limit] = "at_limit"
    status[accepted_limit & use_step] = "step"
    reason = np.full(nb, "", dtype=object)
    failed = status == "failed"
    reason[failed & ~finite & ~use_step] = "no_fit"
    reason[failed & finite & ~conv & ~at_limit & ~use_step] = "not_converged"
    reason[failed & ~responsive & (use_step | use_engine_limit)] = "no_dose_response"
    reason[failed & (reason == "")] = "no_fit"
    if n < 4:  # LL.4 has four parameters: no curve (and no step test worth the name)
        status[:] = "failed"
        reason[:] = "too_few_points"
    failed = status == "failed"

    keep_engine = (status == "ok") | (status == "at_limit")
    params = np.where(keep_engine[:, None], eng, np.nan)
    step_par = np.column_stack([st["b"], st["c"], st["d"], st["e"]])
    params = np.where((status == "step")[:, None], step_par, params)
    rss = np.where(status == "step", st["rss"], np.where(failed, np.nan, eng_rss))
    below = np.where(status == "step", st["below"], 0.0)
    curve = Curve(params[:, 0], params[:, 1], params[:, 2], params[:, 3])
    return SingleAgentFit(curve, status, reason, conv, rss, below, np.where(conv, np.nan, p))


def fit_single_agents(conc1: np.ndarray, conc2: np.ndarray, inhibition: np.ndarray) -> SingleFits:
    """Resolved LL.4 fits of both drugs' monotherapy data for every block of a stack.

    Converged curves are used as fitted; curves at a parameter limit that show a dose
    response are replaced by their limit (see the module docstring); anything else
    gets NaN parameters, which makes ZIP and Loewe of that block undefined (flag
    ``single_agent_fit_failed``). Bliss and HSA need no fit.
    """
    f1 = resolve_single_agent(conc1, inhibition[:, :, 0])
    f2 = resolve_single_agent(conc2, inhibition[:, 0, :])
    return SingleFits(f1.curve, f2.curve, f1.converged, f2.converged, f1.usable, f2.usable, f1, f2)
