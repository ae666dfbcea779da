"""Backend selection and the glue to the compiled (numba) batch fit.

``fit_batch(..., backend=...)``: ``"numpy"`` runs the engine's dialect functions
vectorised over curves (:mod:`kinresist.dose.numpy_core`); ``"numba"`` runs the same
functions compiled, one curve per loop iteration and curves in parallel
(:mod:`kinresist.dose.nb_fit`); ``"auto"`` (default) uses numba when it is importable,
the problem is supported and the batch has at least :data:`AUTO_MIN_CURVES` curves. The
threshold keeps everyday fits (a plate, a few groups) on the NumPy path, which needs no
compilation: a model's compiled kernel costs tens of seconds of CPU the first time it is
used after installation (announced on stderr, see :func:`set_compile_notice`), then
loads from numba's on-disk cache in well under a second. The environment variable
``KINRESIST_DOSE_BACKEND`` (``numpy``/``numba``/``auto``) overrides ``"auto"``;
``backend="numba"`` forces the compiled path for any batch.

Supported by the compiled path: every log-dose family
(:class:`~kinresist.dose.log_dose_models.LogDoseModel` subclasses: LL.4, LL.3, LL.3u,
LL.2, LL.5, W1.4, W2.4, and any new family declared the same way) with any fixed
parameters (scalars or per-curve arrays), weights, masks/ragged curves, ``multistart``,
the fallback and both SE methods. User-declared dict-API models, user ``start`` values
and fits with every parameter fixed run on the NumPy path, whatever the backend asked for.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kinresist.dose.log_dose_models import LogDoseModel
from kinresist.dose.models import ModelSpec
from kinresist.errors import InputError

__all__ = [
    "AUTO_MIN_CURVES",
    "Backend",
    "compiled_family",
    "curve_means",
    "fit_core_numba",
    "numba_available",
    "resolve_backend",
    "set_compile_notice",
]

#: ``backend="auto"`` compiles only for batches at least this large (screen scale).
AUTO_MIN_CURVES = 10_000

Backend = Literal["auto", "numpy", "numba"]

#: one parallel launch at a time (the fork-safe "workqueue" threading layer is not
#: thread-safe; calls from several Python threads wait for each other)
_LAUNCH_LOCK = threading.Lock()


def _stderr_notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_NOTICE: list[Callable[[str], None] | None] = [_stderr_notice]


def set_compile_notice(fn: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Where the one-time compile is announced (default: a line on stderr; ``None``:
    silent). Returns the previous setting."""
    prev = _NOTICE[0]
    _NOTICE[0] = fn
    return prev


@cache
def numba_available() -> bool:
    """Whether the compiled backend can be imported (numba installed and working).

    Selects numba's ``workqueue`` threading layer unless ``NUMBA_THREADING_LAYER`` is
    set: GNU OpenMP (numba's default where present) aborts a process forked after a
    parallel launch, which breaks ``multiprocessing``/``ProcessPoolExecutor`` users.
    """
    try:
        _preload_cython_blas()
        import numba

        if numba.config.DISABLE_JIT:  # type: ignore[attr-defined]
            return False  # pure-Python numba would be far slower than the NumPy path
        if "NUMBA_THREADING_LAYER" not in os.environ:
            numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
        from kinresist.dose import nb_fit  # noqa: F401
    except ImportError:
        return False
    return True


def _preload_cython_blas() -> None:
    """Load SciPy's ``cython_blas`` extension module on its own, before numba imports it.

    Numba probes for BLAS when it loads its NumPy support (``import
    scipy.linalg.cython_blas``), and that import first runs all of ``scipy.linalg``'s Python
    layer (NumPy's f2py and testing modules included): 0.15-0.25 s of a screen-sized
    ``kinresist dose fit``, for a module whose C function table is all numba uses. The
    extension module needs nothing from that layer, so it is loaded here directly under its
    own name; a later ``import scipy.linalg`` runs as usual and finds it loaded (``from
    scipy.linalg import cython_blas`` and Cython's cimports work; only the attribute
    ``scipy.linalg.cython_blas`` is not bound on the package). Anything unexpected (another
    SciPy layout, scipy.linalg already imported) leaves numba's own import to happen."""
    import importlib.machinery
    import importlib.util

    name = "scipy.linalg.cython_blas"
    if name in sys.modules or "scipy.linalg" in sys.modules:
        return
    try:
        top = importlib.util.find_spec("scipy")
        if top is None or not top.submodule_search_locations:
            return
        for base in top.submodule_search_locations:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = Path(base, "linalg", "cython_blas" + suffix)
                if path.is_file():
                    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
                    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
                    if spec is None:
                        return
                    module = importlib.util.module_from_spec(spec)
                    sys.modules[name] = module
                    try:
                        loader.exec_module(module)
                    except BaseException:
                        sys.modules.pop(name, None)
                        raise
                    return
    except Exception:  # noqa: BLE001 - numba's own import then does the work
        return


def compiled_family(spec: ModelSpec) -> bool:
    """Whether the model is a log-dose family with its dialect functions declared."""
    fam = type(spec.family)
    return issubclass(fam, LogDoseModel) and fam.shape is not LogDoseModel.shape


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
    supported = compiled_family(spec) and start is None and len(free) > 0
    return "numba" if supported and numba_available() else "numpy"


def _announce_compile(kern: Any, args: tuple[Any, ...], name: str) -> None:
    """Say so before a kernel that is neither compiled nor in numba's disk cache compiles."""
    notice = _NOTICE[0]
    if notice is None or kern.signatures:
        return
    try:  # numba internals: is this signature in the on-disk cache index?
        argtypes = tuple(kern.typeof_pyval(a) for a in args)
        key = kern._cache._index_key(argtypes, kern.targetctx.codegen())
        cached = key in kern._cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - an unknown numba layout: announce to be safe
        cached = False
    if not cached:
        notice(
            f"kinresist: compiling the {name} kernel (one time after installation or an "
            "upgrade, up to a minute; later runs load it from numba's cache)"
        )


def fit_core_numba(job: Any) -> tuple[np.ndarray, ...]:
    """Compiled fit of one chunk (a :class:`~kinresist.dose.numpy_core.FitJob`): natural
    parameters (all, fixed included), RSS, converged, iterations, at-limit, covariance of
    the free parameters and the ill-conditioning flag (what the NumPy core returns)."""
    from kinresist.dose.nb_fit import kernel_for
    from kinresist.dose.numpy_core import RESCUE_ITER, structure

    spec, free, fixed, x, y, w = job.spec, job.free, job.fixed, job.x, job.y, job.w
    se, multistart, max_iter, fallback = job.se, job.multistart, job.max_iter, job.fallback
    fam: Any = spec.family
    n = y.shape[0]
    k = len(free)
    _, free_idx, logmask, fixmask, fixrow = structure(spec, free, fixed, n)
    n_starts = (6 if len(fam.param_names) == 5 else 4) if multistart else 1
    out_p = np.empty((n, 5))
    out_rss = np.empty(n)
    out_conv = np.zeros(n, dtype=bool)
    out_iter = np.zeros(n, dtype=np.int64)
    out_lim = np.zeros(n, dtype=bool)
    out_cov = np.empty((n, k, k))  # every entry is written by the kernel
    out_ill = np.zeros(n, dtype=bool)
    # C-contiguous, writable float64: one compiled signature for every call
    data = tuple(np.require(a, dtype=np.float64, requirements=["C", "W"]) for a in (x, y, w))
    problem = (
        fixmask,
        np.ascontiguousarray(fixrow.T),
        free_idx,
        logmask,
        np.linspace(0.0, 1.0, fam.GRID_EC50),
        np.array(fam.GRID_SLOPES, dtype=np.float64),
    )
    first = 1 if job.skip_first and n_starts > 1 else 0
    opts = (n_starts, int(max_iter), se == "hessian", RESCUE_ITER if fallback else 0, first)
    outs = (out_p, out_rss, out_conv, out_iter, out_lim, out_cov, out_ill)
    args = (data, problem, opts, outs)
    kern = kernel_for(fam)
    with _LAUNCH_LOCK:
        _announce_compile(kern, args, f"{spec.family.name} fitting")
        kern(*args)
    params = out_p[:, : len(fam.param_names)].copy()
    return params, out_rss, out_conv, out_iter, out_lim, out_cov, out_ill


def load_kernel(spec: ModelSpec) -> None:
    """Load the compiled fitting kernel of ``spec``'s family from numba's cache (compiling it
    the first time, announced) with a two-curve fit, and nothing else: no summaries, so the
    caller's first real batch waits for the kernel only."""
    from kinresist.dose.lm import MAX_ITER
    from kinresist.dose.numpy_core import FitJob

    fam: Any = spec.family
    x = np.tile(10.0 ** np.arange(-3.0, 1.01, 1.0), (2, 1))
    fixed = {k: np.full((2, 1), float(v)) for k, v in spec.fixed.items()}
    free = [p for p in fam.param_names if p not in fixed]
    y = 1.0 / (1.0 + x)
    fit_core_numba(
        FitJob(spec, free, fixed, x, y, np.ones_like(y), "jtj", False, None, MAX_ITER, True)
    )


def curve_means(
    spec: ModelSpec,
    params: np.ndarray,
    lo10: np.ndarray,
    hi10: np.ndarray,
    n_grid: int,
    backend: str,
) -> np.ndarray:
    """Mean of each fitted log-dose curve over its log10-dose range (exact for LL.4, else
    Simpson on ``n_grid`` points): compiled when ``backend == "numba"``, else the same
    dialect code vectorised."""
    from kinresist.dose.log_dose_models import grid_mean

    fam: Any = spec.family
    n = params.shape[0]
    p5 = np.ones((n, 5))
    p5[:, : params.shape[1]] = params
    closed_form = bool(np.isfinite(fam.h_int(0.0, 1.0)))  # a few array operations: NumPy
    if backend == "numba" and not closed_form and numba_available():
        from kinresist.dose.nb_fit import auc_kernel_for

        out = np.empty(n)
        args = (np.ascontiguousarray(p5), np.ascontiguousarray(lo10, dtype=float),
                np.ascontiguousarray(hi10, dtype=float), int(n_grid), out)  # fmt: skip
        kern = auc_kernel_for(fam)
        with _LAUNCH_LOCK:
            _announce_compile(kern, args, f"{fam.name} curve-mean")
            kern(*args)
        return out
    with np.errstate(all="ignore"):
        return np.asarray(grid_mean(fam.shape, fam.h_int, p5.T, lo10, hi10, n_grid), dtype=float)
