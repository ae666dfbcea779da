"""Batch least-squares engine: many dose-response curves fitted at once.

:func:`fit_batch` fits ``n_curves`` curves of up to ``n_points`` points. The algorithm
is written once, per curve, in the engine's dialect (:mod:`kinresist.dose._dialect`) and
runs either vectorised over curves with NumPy (``backend="numpy"``) or compiled with
numba, one curve per loop iteration and curves in parallel (``backend="numba"``;
:mod:`kinresist.dose.nb_fit`). Per curve:

* **starts** (:mod:`kinresist.dose.curve_starts`): a drc-style self-start refined by a
  variable-projection grid (4 slopes × 7 EC50s, c and d solved in closed form);
  ``multistart=True`` also runs LM from three spread starts and keeps the best;
* **Levenberg-Marquardt** (:mod:`kinresist.dose.lm`) with tight tolerances (relative step
  1e-8, relative RSS decrease 1e-12, MINPACK gradient test 1e-7) and divergence limits
  (EC50 100× beyond the tested range; a slope that makes the curve a step between two
  adjacent doses);
* **fallback** (``fallback=True``; the table-level fits use it) for curves LM does not
  converge on, or whose best *step* curve (closed form) has a lower RSS than LM's optimum:
  LM continued from where it stopped without the divergence limits, LM from the best step
  eased to a moderate slope (a second start), and the exact limit curves of the family
  (:mod:`kinresist.dose.limits`: a step, or a power law / log-linear curve when the EC50
  runs out of the tested range); the lowest RSS among the converged candidates wins
  (an unconverged one only if lower by more than 1e-7). A limit curve is the
  least-squares infimum on the family's boundary: converged, flagged
  ``parameter_at_limit`` (and ``non_identifiable``: its covariance is singular). Curves
  for which none of this converges stay ``not_converged``;
* **uncertainty** (spec §3, :mod:`kinresist.dose.covariance`): ``se="jtj"`` (default)
  V = s²·(JᵀWJ)⁻¹ (NIST, Prism, scipy ``curve_fit``); ``se="hessian"`` V = 2·s²·H⁻¹
  with H the Hessian of the RSS in the natural parameters (drc ``vcov``).

User-declared :class:`~kinresist.dose.models.Model` classes (dict API) run on the same
LM and covariance code through NumPy adapters. The result is deterministic.

Example
-------
>>> import numpy as np
>>> from kinresist.dose.engine import fit_batch
>>> dose = np.tile([0, 0.01, 0.1, 1, 10, 100.0], (2, 1))
>>> resp = np.array([[100, 99, 90, 50, 10, 2.0], [100, 100, 98, 80, 30, 5.0]])
>>> fit = fit_batch(dose, resp, model="LL.4")
>>> fit.params.shape, fit.param_names
((2, 4), ('hill', 'bottom', 'top', 'ec50'))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from kinresist.dose.batchfit import FLAG_BITS, BatchFit, param_dict, unique_small
from kinresist.dose.fastpath import Backend, fit_core_numba, resolve_backend
from kinresist.dose.lm import MAX_ITER
from kinresist.dose.models import Model, ModelSpec, get_model
from kinresist.dose.numpy_core import FitJob, core_numpy
from kinresist.errors import InputError

__all__ = ["FLAG_BITS", "BatchFit", "fit_batch", "param_dict"]

SeMethod = Literal["jtj", "hessian"]
_CHUNK = 200_000


def _as_2d(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        msg = f"{name} must be a (n_curves, n_points) array, got shape {arr.shape}"
        raise InputError(msg)
    return arr


def fit_batch(
    dose: np.ndarray,
    response: np.ndarray,
    *,
    model: str | Model | ModelSpec = "LL.4",
    fixed: Mapping[str, float | np.ndarray] | None = None,
    weights: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    se: SeMethod = "jtj",
    multistart: bool = False,
    alternatives_only: bool = False,
    start: Mapping[str, float | np.ndarray] | None = None,
    max_iter: int = MAX_ITER,
    chunk_size: int = _CHUNK,
    backend: Backend = "auto",
    fallback: bool = False,
) -> BatchFit:
    """Fit one model to many curves at once.

    Parameters
    ----------
    dose, response
        ``(n_curves, n_points)`` arrays (1-D arrays are one curve). Missing points:
        NaN in either array or ``mask=False``; curves may have different lengths.
        Dose 0 (vehicle controls) is kept in the fit, as in drc.
    model
        ``"LL.4"`` (default), ``"LL.3"`` (c = 0), ``"LL.3u"`` (d = 1), ``"LL.2"``,
        ``"LL.5"``, ``"W1.4"``, ``"W2.4"``, or a user-declared :class:`Model`.
    fixed
        Parameters held fixed, name -> scalar or per-curve array: ``hill``, ``bottom``,
        ``top``, ``ec50``, ``asymmetry``. Adds to those fixed by the model name.
    weights
        Non-negative weights (RSS = Σ w·(y − f)²).
    mask
        Boolean, False excludes a point.
    se
        ``"jtj"`` (default; NIST/Prism/curve_fit) or ``"hessian"`` (drc).
    multistart
        Also run LM from three spread starting points and keep the best converged RSS.
    alternatives_only
        With ``multistart``: run only the spread starts, not the self-start (a refit of
        curves whose self-start fit the caller already has and compares with; LM from the
        same start is deterministic, so nothing is lost).
    start
        Optional user starting values replacing the self-start (name -> value).
    max_iter
        LM iteration limit per start.
    chunk_size
        Curves processed per chunk (memory bound for very large batches).
    backend
        ``"numpy"`` (vectorised), ``"numba"`` (the same code compiled, curves in
        parallel) or ``"auto"`` (default: numba for batches of at least
        :data:`~kinresist.dose.fastpath.AUTO_MIN_CURVES` curves when importable; see
        :mod:`kinresist.dose.fastpath`). User-declared models and ``start`` run on NumPy.
    fallback
        Rescue the curves LM does not converge on or whose step limit beats LM's optimum
        (continued LM, LM from the best step, exact limit curves; see the module
        docstring): convergence at least that of scipy ``curve_fit``. Off by default,
        because it changes what ``converged`` means for a curve whose least-squares
        infimum lies on the family's boundary (converged at the limit, flagged
        ``parameter_at_limit``, instead of stopped unconverged); the table-level
        :func:`~kinresist.dose.fit.fit_curves` and the streaming fit turn it on.

    Returns
    -------
    BatchFit
    """
    if se not in ("jtj", "hessian"):
        msg = f"se must be 'jtj' or 'hessian', got {se!r}"
        raise InputError(msg)
    if alternatives_only and not multistart:
        msg = (
            "alternatives_only=True needs multistart=True (it drops the self-start of a multistart)"
        )
        raise InputError(msg)
    spec = get_model(model)
    fam = spec.family
    x = _as_2d(dose, "dose")
    y = _as_2d(response, "response")
    if x.shape != y.shape:
        if x.shape[0] == 1 and x.shape[1] == y.shape[1]:
            x = np.broadcast_to(x, y.shape).copy()
        else:
            msg = f"dose shape {x.shape} and response shape {y.shape} differ"
            raise InputError(msg)
    n = x.shape[0]
    w = np.ones_like(y) if weights is None else np.broadcast_to(_as_2d(weights, "weights"), y.shape)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    if mask is not None:
        ok &= np.broadcast_to(np.asarray(mask, dtype=bool).reshape(-1, y.shape[1]), y.shape)
    if np.any((x < 0) & ok):
        msg = "doses must be >= 0 (log-transformed doses? back-transform them: 10**dose)"
        raise InputError(msg)
    if not ok.all():  # missing points: weight 0, neutral dose and response
        w = np.where(ok, w, 0.0)
        x = np.where(ok, x, 1.0)
        y = np.where(ok, y, 0.0)

    all_fixed: dict[str, np.ndarray] = {}
    for name, val in {**spec.fixed, **(fixed or {})}.items():
        if name not in fam.param_names:
            msg = f"cannot fix {name!r}: model {spec.name} has parameters {', '.join(fam.param_names)}"
            raise InputError(msg)
        all_fixed[name] = np.broadcast_to(np.asarray(val, dtype=float), (n,)).reshape(n, 1).copy()
    free = [p for p in fam.param_names if p not in all_fixed]
    used = resolve_backend(backend, spec, free, start, n_curves=n)

    parts = []
    for s in (slice(i, min(i + chunk_size, n)) for i in range(0, max(n, 1), chunk_size)):
        fx = {k: v[s] for k, v in all_fixed.items()}
        job = FitJob(spec, free, fx, x[s], y[s], w[s], se, multistart, start, max_iter, fallback,
                     alternatives_only)  # fmt: skip
        core = fit_core_numba(job) if used == "numba" else core_numpy(job)
        parts.append(_finish(spec, free, x[s], y[s], w[s], *core))
    cat = (
        parts[0]
        if len(parts) == 1
        else {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    )
    return BatchFit(
        model=spec.name,
        spec=spec,
        param_names=fam.param_names,
        params=cat["params"],
        se=cat["se"],
        cov=cat["cov"],
        free=tuple(p in free for p in fam.param_names),
        rss=cat["rss"],
        df=cat["df"],
        n_obs=cat["n_obs"],
        converged=cat["converged"],
        n_iter=cat["n_iter"],
        flag_bits=cat["flag_bits"],
        se_method=se,
        dose_min=cat["dose_min"],
        dose_max=cat["dose_max"],
        backend=used,
    )


def _finish(
    spec: ModelSpec,
    free: list[str],
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    params: np.ndarray,
    rss: np.ndarray,
    converged: np.ndarray,
    n_iter: np.ndarray,
    at_limit: np.ndarray,
    cov_free: np.ndarray,
    ill: np.ndarray,
) -> dict[str, np.ndarray]:
    """Shared by both backends: covariance layout, SEs and the flags."""
    fam = spec.family
    n = y.shape[0]
    k = len(free)
    names = fam.param_names
    obs = w > 0
    n_obs = obs.sum(axis=1)
    enough = n_obs >= max(k, 1)
    df = np.maximum(n_obs - k, 0).astype(np.int64)
    params[~enough] = np.nan
    pnat = {nm: params[:, i : i + 1] for i, nm in enumerate(names)}
    fidx = [names.index(f) for f in free]
    if fidx == list(range(len(names))):
        cov = cov_free
    else:
        cov = np.full((n, len(names), len(names)), np.nan)
        fi_arr = np.asarray(fidx, dtype=np.intp)
        cov[np.ix_(np.arange(n), fi_arr, fi_arr)] = cov_free
    with np.errstate(invalid="ignore"):
        se_arr = np.sqrt(np.einsum("nii->ni", cov))

    bits = np.zeros(n, dtype=np.int64)
    bits |= np.where(~converged, FLAG_BITS["not_converged"], 0)
    bits |= np.where(~enough, FLAG_BITS["too_few_points"], 0)
    bits |= np.where(at_limit, FLAG_BITS["parameter_at_limit"], 0)
    nonid = ill | (~np.isfinite(se_arr[:, fidx]).all(axis=1) & (df > 0))
    if "ec50" in free:
        # practically non-identifiable: the 95 % Wald interval of the EC50 reaches 0
        # (t·SE(e) >= e), i.e. the data do not bound the EC50 away from zero
        from scipy import special

        with np.errstate(invalid="ignore", divide="ignore"):
            rel = se_arr[:, names.index("ec50")] / params[:, names.index("ec50")]
            udf, inv = unique_small(np.maximum(df, 1))
            tq = special.stdtrit(udf, 0.975)[inv.reshape(-1)]  # = stats.t.ppf
        nonid |= rel * tq >= 1.0
    bits |= np.where(enough & nonid, FLAG_BITS["non_identifiable"], 0)
    bits |= np.where(df <= 0, FLAG_BITS["no_residual_df"], 0)
    pos = obs & (x > 0)
    dmin = np.min(np.where(pos, x, np.inf), axis=1)
    dmax = np.max(np.where(obs, x, -np.inf), axis=1)
    if "ec50" in names:
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                ed50 = fam.ed_relative(pnat, 50.0)[:, 0]
        except NotImplementedError:
            ed50 = pnat["ec50"][:, 0]
        with np.errstate(invalid="ignore"):
            outside = ~((ed50 >= dmin) & (ed50 <= dmax))
        bits |= np.where(enough & outside, FLAG_BITS["ec50_outside_tested_range"], 0)
    if "bottom" in names and "top" in names:
        ymin = np.min(np.where(obs, y, np.inf), axis=1)
        ymax = np.max(np.where(obs, y, -np.inf), axis=1)
        span = np.maximum(ymax - ymin, 1e-12)
        lo, hi = ymin - 0.25 * span, ymax + 0.25 * span
        with np.errstate(invalid="ignore"):
            asym = np.zeros(n, dtype=bool)
            for nm in ("bottom", "top"):
                if nm in free:
                    v = pnat[nm][:, 0]
                    asym |= ~((v >= lo) & (v <= hi))
        bits |= np.where(enough & asym, FLAG_BITS["asymptote_outside_data_range"], 0)
    return {
        "params": params,
        "se": se_arr,
        "cov": cov,
        "rss": np.where(enough, rss, np.nan),
        "df": df,
        "n_obs": n_obs,
        "converged": converged,
        "n_iter": n_iter,
        "flag_bits": bits,
        "dose_min": dmin,
        "dose_max": dmax,
    }
