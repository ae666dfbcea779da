"""Batch least-squares engine: many dose-response curves fitted at once.

:func:`fit_batch` fits ``n_curves`` curves of up to ``n_points`` points with a
vectorised Levenberg-Marquardt: every iteration is a few dozen NumPy operations
over the working set of curves (no per-curve Python loop on the hot path; at most
8,192 curves iterate together, in a (points, curves) layout, and finished curves
are replaced by waiting ones). Starts: a drc-style self-start (asymptotes from the
data, b and e by regression of the linearised response on log dose), refined by a
variable-projection grid (4 slopes x 7 EC50s across the tested range, with c and d
solved in closed form for each grid point), i.e. a cheap multi-start whose best
point starts LM; ``multistart=True`` additionally runs LM from three spread starts
and keeps the lowest converged RSS. Tolerances are tight (relative step 1e-8,
relative RSS decrease 1e-12, MINPACK gradient test 1e-7), so the engine reaches the
converged optimum where drc's BFGS stops early. Parameters running away (EC50 100x
beyond the tested range; a slope so steep the curve is a step between two adjacent
doses) stop the curve with the flags ``not_converged`` + ``parameter_at_limit``.
The result is deterministic (no random restarts).

Backends (``backend=``): ``"numpy"`` is the vectorised reference implementation
described above; ``"numba"`` runs the same algorithm compiled, one curve per loop
iteration and curves in parallel over the CPU cores (:mod:`kinresist.dose.nb_fit`);
``"auto"`` (default) uses numba when it is importable and the problem is supported
(the named log-dose models; see :mod:`kinresist.dose.fastpath`). Both reach the same
optimum, with identical convergence status and flags (tests/dose/test_dose_backends.py).

Uncertainty (spec §3): ``se="jtj"`` (default) uses V = s²·(JᵀWJ)⁻¹ (NIST, Prism,
scipy ``curve_fit``); ``se="hessian"`` uses V = 2·s²·H⁻¹ with H the Hessian of the
RSS in the natural parameters (drc ``vcov``). The second derivatives are central
differences of the analytic Jacobian.

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
from typing import Literal

import numpy as np
from scipy import stats

from kinresist.dose.batchfit import FLAG_BITS, BatchFit, param_dict
from kinresist.dose.covariance import covariance
from kinresist.dose.fastpath import Backend, fit_core_numba, resolve_backend
from kinresist.dose.lm import MAX_ITER, Problem, levenberg_marquardt
from kinresist.dose.models import DoseArray, Model, ModelSpec, get_model
from kinresist.errors import InputError

__all__ = ["FLAG_BITS", "BatchFit", "fit_batch", "param_dict"]

SeMethod = Literal["jtj", "hessian"]
_CHUNK = 200_000


def _as_2d(a: np.ndarray, name: str) -> np.ndarray:
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
    start: Mapping[str, float | np.ndarray] | None = None,
    max_iter: int = MAX_ITER,
    chunk_size: int = _CHUNK,
    backend: Backend = "auto",
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
        Also run LM from three spread starting points and keep the best converged RSS
        (about 3x slower; the default grid-refined single start already reached the
        same optimum on every converged curve of the benchmark set).
    start
        Optional user starting values replacing the self-start (name -> value).
    max_iter
        LM iteration limit per start.
    chunk_size
        Curves processed per chunk (memory bound for very large batches).
    backend
        ``"numpy"`` (reference implementation), ``"numba"`` (the same algorithm
        compiled, curves in parallel; same optimum, flags and convergence) or
        ``"auto"`` (default: numba when importable and the problem is supported; see
        :mod:`kinresist.dose.fastpath`). Problems the compiled path does not cover
        (user-declared models, ``start``, every parameter fixed) run on NumPy.

    Returns
    -------
    BatchFit
    """
    if se not in ("jtj", "hessian"):
        msg = f"se must be 'jtj' or 'hessian', got {se!r}"
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

    parts = [
        _fit_chunk(
            spec,
            free,
            {k: v[s] for k, v in all_fixed.items()},
            x[s],
            y[s],
            w[s],
            se,
            multistart,
            start,
            max_iter,
            used,
        )
        for s in (slice(i, min(i + chunk_size, n)) for i in range(0, max(n, 1), chunk_size))
    ]
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


def _fit_chunk(
    spec: ModelSpec,
    free: list[str],
    fixed: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    se: str,
    multistart: bool,
    user_start: Mapping[str, float | np.ndarray] | None,
    max_iter: int,
    backend: str,
) -> dict[str, np.ndarray]:
    k = len(free)
    n_obs = (w > 0).sum(axis=1)
    enough = n_obs >= max(k, 1)
    df = np.maximum(n_obs - k, 0).astype(np.int64)
    if backend == "numba":
        core = fit_core_numba(spec, free, fixed, x, y, w, se, multistart, max_iter)
    else:
        core = _core_numpy(
            spec, free, fixed, x, y, w, se, multistart, user_start, max_iter, enough, df
        )
    params, rss, converged, n_iter, at_limit, cov_free, ill = core
    return _finish(spec, free, x, y, w, params, rss, converged, n_iter, at_limit, cov_free, ill)


def _core_numpy(
    spec: ModelSpec,
    free: list[str],
    fixed: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    se: str,
    multistart: bool,
    user_start: Mapping[str, float | np.ndarray] | None,
    max_iter: int,
    enough: np.ndarray,
    df: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reference (NumPy) core: starts, LM, start selection and covariance."""
    fam = spec.family
    n = y.shape[0]
    k = len(free)
    names = fam.param_names
    sw = np.sqrt(w)
    prob = Problem(fam, free, fixed)
    xd = DoseArray(x)

    if user_start is not None and all(nm in user_start for nm in free):
        start = {}
    else:
        start = fam.self_start(xd, y, w)
    for name, v in (user_start or {}).items():
        start[name] = np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
    if user_start is None:
        start = fam.refine_start(xd, y, w, start, fixed)
    starts = [start]
    if multistart and user_start is None:
        starts += fam.alternative_starts(xd, y, w, start)
    s_count = len(starts)

    def to_theta(st: dict[str, np.ndarray]) -> np.ndarray:
        cols = []
        for name in free:
            v = np.asarray(st[name], dtype=float)
            if name in fam.log_params:
                v = np.log(np.maximum(v, 1e-300))
            cols.append(v)
        return np.stack(cols, axis=-1) if cols else np.zeros((n, 0))

    theta0 = np.concatenate([to_theta(s) for s in starts])
    rows = np.flatnonzero(np.tile(enough, s_count))
    theta_all = np.full_like(theta0, np.nan)
    rss_all = np.full(n * s_count, np.inf)
    conv_all = np.zeros(n * s_count, dtype=bool)
    iter_all = np.zeros(n * s_count, dtype=np.int32)
    limit_all = np.zeros(n * s_count, dtype=bool)
    if rows.size and k:
        rix = rows % n
        fixed_rows = {kk: v[rix] for kk, v in fixed.items()}
        sub = Problem(fam, free, fixed_rows, transposed=getattr(fam, "transposable", False))
        lo = np.full((n, k), -np.inf)
        hi = np.full((n, k), np.inf)
        for name, (blo, bhi) in fam.divergence_bounds(xd, w).items():
            if name in free:
                i = free.index(name)
                log = name in fam.log_params
                lo[:, i] = np.log(blo) if log else blo
                hi[:, i] = np.log(bhi) if log else bhi
        th, rs, cv, ni, lim = levenberg_marquardt(
            sub,
            xd[rix],
            y[rix],
            sw[rix],
            theta0[rows],
            bounds=(lo[rix], hi[rix]),
            max_iter=max_iter,
            unit_weights=bool(np.all(w == 1.0)),
        )
        theta_all[rows], rss_all[rows], conv_all[rows], iter_all[rows] = th, rs, cv, ni
        limit_all[rows] = lim
    elif rows.size:  # everything fixed
        rix = rows % n
        rss_all[rows] = prob.residual(xd[rix], y[rix], sw[rix], theta0[rows], rix)[1]
        conv_all[rows] = True
    # choose the best start per curve: converged first, then lowest RSS
    rss_s = rss_all.reshape(s_count, n)
    conv_s = conv_all.reshape(s_count, n)
    key = np.where(conv_s, rss_s, np.inf)
    best = np.argmin(key, axis=0)
    none_conv = ~conv_s.any(axis=0)
    best = np.where(none_conv, np.argmin(rss_s, axis=0), best)
    pick = best * n + np.arange(n)
    theta = theta_all[pick]
    rss = rss_all[pick]
    converged = conv_all[pick] & enough
    n_iter = iter_all[pick]
    at_limit = limit_all[pick]

    pnat = prob.natural(np.nan_to_num(theta, nan=1.0), None)
    params = np.column_stack([pnat[nm][:, 0] for nm in names])
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(df > 0, rss / np.maximum(df, 1), np.nan)
    cov_free, ill = (
        covariance(prob, xd, y, w, pnat, s2, se) if k else (np.zeros((n, 0, 0)), np.zeros(n, bool))
    )
    return params, rss, converged, n_iter, at_limit, cov_free, ill


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

    # flags
    bits = np.zeros(n, dtype=np.int64)
    bits |= np.where(~converged, FLAG_BITS["not_converged"], 0)
    bits |= np.where(~enough, FLAG_BITS["too_few_points"], 0)
    bits |= np.where(at_limit, FLAG_BITS["parameter_at_limit"], 0)
    nonid = ill | (~np.isfinite(se_arr[:, fidx]).all(axis=1) & (df > 0))
    if "ec50" in free:
        # practically non-identifiable: the 95 % Wald interval of the EC50 reaches 0
        # (t·SE(e) >= e), i.e. the data do not bound the EC50 away from zero
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = se_arr[:, names.index("ec50")] / params[:, names.index("ec50")]
            udf, inv = np.unique(np.maximum(df, 1), return_inverse=True)
            tq = stats.t.ppf(0.975, udf)[inv.reshape(-1)]
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
