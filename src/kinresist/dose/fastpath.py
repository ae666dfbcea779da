"""Backend selection and the glue to the compiled (numba) batch fit.

``fit_batch(..., backend=...)``: ``"numpy"`` is the reference implementation
(:mod:`kinresist.dose.lm`, :mod:`kinresist.dose.covariance`); ``"numba"`` runs the
same algorithm compiled, one curve per loop iteration and curves in parallel
(:mod:`kinresist.dose.nb_fit`); ``"auto"`` (default) uses numba when it is importable,
the problem is supported and the batch has at least :data:`AUTO_MIN_CURVES` curves. The
threshold keeps everyday fits (a plate, a few groups) on the NumPy path, which needs no
compilation: the compiled kernel costs about 30 s of CPU the first time it is used after
installation (then it loads from numba's on-disk cache in well under a second). The
environment variable ``KINRESIST_DOSE_BACKEND`` (``numpy``/``numba``/``auto``) overrides
``"auto"``; ``backend="numba"`` forces the compiled path for any batch.

Supported by the compiled path: the named log-dose models (LL.4, LL.3, LL.3u, LL.2,
LL.5, W1.4, W2.4) with any fixed parameters (scalars or per-curve arrays), weights,
masks/ragged curves, ``multistart`` and both SE methods. Everything else (user-declared
:class:`~kinresist.dose.models.Model` classes, user ``start`` values, every parameter
fixed) runs on the NumPy path, whatever the backend asked for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import cache
from typing import Literal

import numpy as np

from kinresist.dose.log_dose_models import LL4, LL5, W14, W24, LogDoseModel
from kinresist.dose.models import ModelSpec
from kinresist.errors import InputError

__all__ = ["AUTO_MIN_CURVES", "Backend", "fit_core_numba", "numba_available", "resolve_backend"]

#: ``backend="auto"`` compiles only for batches at least this large (screen scale).
AUTO_MIN_CURVES = 10_000

Backend = Literal["auto", "numpy", "numba"]
_MODEL_IDS: dict[type, int] = {LL4: 0, LL5: 1, W14: 2, W24: 3}
_NAMES5 = ("hill", "bottom", "top", "ec50", "asymmetry")


#: one parallel launch at a time (the fork-safe "workqueue" threading layer is not
#: thread-safe; calls from several Python threads wait for each other)
_LAUNCH_LOCK = threading.Lock()


@cache
def numba_available() -> bool:
    """Whether the compiled backend can be imported (numba installed and working).

    Selects numba's ``workqueue`` threading layer unless ``NUMBA_THREADING_LAYER`` is
    set: GNU OpenMP (numba's default where present) aborts a process forked after a
    parallel launch, which breaks ``multiprocessing``/``ProcessPoolExecutor`` users.
    """
    try:
        import numba

        if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
            return False  # pure-Python numba would be far slower than the NumPy path
        if "NUMBA_THREADING_LAYER" not in os.environ:
            numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
        from kinresist.dose import nb_fit  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(
    backend: str,
    spec: ModelSpec,
    free: list[str],
    start: Mapping[str, object] | None,
    *,
    n_curves: int | None = None,
) -> str:
    """``"numpy"`` or ``"numba"`` for this problem (see the module docstring)."""
    if backend not in ("auto", "numpy", "numba"):
        msg = f"backend must be 'auto', 'numpy' or 'numba', got {backend!r}"
        raise InputError(msg)
    if backend == "auto":
        env = os.environ.get("KINRESIST_DOSE_BACKEND", "auto").strip().lower()
        backend = env if env in ("numpy", "numba") else "auto"
    if backend == "auto" and n_curves is not None and n_curves < AUTO_MIN_CURVES:
        return "numpy"
    if backend == "numpy":
        return "numpy"
    if backend == "numba" and not numba_available():
        msg = "backend='numba' needs the numba package (pip install numba), or use backend='numpy'"
        raise InputError(msg)
    supported = type(spec.family) in _MODEL_IDS and start is None and len(free) > 0
    return "numba" if supported and numba_available() else "numpy"


def fit_core_numba(
    spec: ModelSpec,
    free: list[str],
    fixed: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    se: str,
    multistart: bool,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Compiled fit of one chunk: natural parameters (all, fixed included), RSS,
    converged, iterations, at-limit, covariance of the free parameters and the
    ill-conditioning flag (what the NumPy core returns)."""
    from kinresist.dose.nb_fit import fit_curves

    fam = spec.family
    n = y.shape[0]
    k = len(free)
    fixmask = np.array([nm in fixed for nm in _NAMES5])
    fixvals = np.ones((n, 5))
    for nm, v in fixed.items():
        fixvals[:, _NAMES5.index(nm)] = np.asarray(v, dtype=float).reshape(n)
    free_idx = np.array([_NAMES5.index(nm) for nm in free], dtype=np.int64)
    logmask = np.array([nm in fam.log_params for nm in _NAMES5])
    grid_fam: LogDoseModel = fam  # type: ignore[assignment]
    fracs = np.linspace(0.0, 1.0, grid_fam.GRID_EC50)
    slopes = np.array(grid_fam.GRID_SLOPES, dtype=np.float64)
    # C-contiguous, writable float64: one compiled signature for every call
    xc = np.require(x, dtype=np.float64, requirements=["C", "W"])
    yc = np.require(y, dtype=np.float64, requirements=["C", "W"])
    wc = np.require(w, dtype=np.float64, requirements=["C", "W"])
    out_p = np.empty((n, 5))
    out_rss = np.empty(n)
    out_conv = np.zeros(n, dtype=bool)
    out_iter = np.zeros(n, dtype=np.int32)
    out_lim = np.zeros(n, dtype=bool)
    out_cov = np.empty((n, k, k))  # every entry is written by the kernel
    out_ill = np.zeros(n, dtype=bool)
    with _LAUNCH_LOCK:
        fit_curves(
            _MODEL_IDS[type(fam)],
            xc,
            yc,
            wc,
            fixmask,
            fixvals,
            free_idx,
            logmask,
            fracs,
            slopes,
            bool(multistart),
            int(max_iter),
            se == "hessian",
            out_p,
            out_rss,
            out_conv,
            out_iter,
            out_lim,
            out_cov,
            out_ill,
        )
    params = out_p[:, : len(fam.param_names)].copy()
    return params, out_rss, out_conv, out_iter, out_lim, out_cov, out_ill
