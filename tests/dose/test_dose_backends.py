"""The compiled (numba) backend of the batch engine against the NumPy reference backend.

Reference: ``fit_batch(..., backend="numpy")`` (the vectorised implementation validated
against drc, NIST and GRmetrics in test_dose_engine.py / test_dose_gr.py). Both backends
run the same algorithm (self-start, start grid, LM with the same damping, tests and
limits, start selection, covariance, flags) with different floating-point rounding
(sequential vs vectorised evaluation, libm vs NumPy exp), so

* convergence status, flags, iteration-independent outputs (n_obs, df) must be identical;
* RSS must agree to 1e-10 relative on curves both converge on (observed <= 7e-13);
* parameters must agree to 1e-8 relative or, where the data determine them less tightly,
  to 1e-5 standard errors: the stopping rule (relative RSS decrease <= 1e-12) fixes the
  optimum only to about sqrt(1e-12) in the flat directions, so two rounding paths stop
  up to ~6e-6 relative apart there (observed max 3.4e-6 SE, 99.8 % of curves within 1e-8;
  the NumPy backend against itself with the curves in permuted order: up to 1.4e-6);
* SEs to 1e-5 relative on curves with status ok (observed <= 2.1e-6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinresist.dose.engine import fit_batch
from kinresist.dose.fastpath import numba_available
from kinresist.dose.models import MODELS, Model
from kinresist.errors import InputError

pytestmark = pytest.mark.skipif(not numba_available(), reason="numba is not installed")

DOSES = 10.0 ** np.arange(-3.0, 1.01, 0.5)


def _curves(model: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Spec §2 synthetic design generated from ``model`` (its fixed parameters applied)."""
    rng = np.random.default_rng(seed)
    spec = MODELS[model]
    p = {
        "hill": rng.uniform(0.7, 3.0, (n, 1)) * (-1.0 if model == "W2.4" else 1.0),
        "bottom": rng.uniform(0.0, 0.4, (n, 1)),
        "top": np.ones((n, 1)),
        "ec50": 10.0 ** rng.uniform(-2.5, 0.5, (n, 1)),
        "asymmetry": np.exp(rng.uniform(-0.7, 0.7, (n, 1))),
    }
    p.update({k: np.full((n, 1), v) for k, v in spec.fixed.items()})
    x = np.broadcast_to(DOSES, (n, DOSES.size)).copy()
    y = spec.family.f(x, p) + rng.normal(0.0, 0.05, x.shape)
    return x, y


def _assert_same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.backend == "numpy"
    assert b.backend == "numba"
    np.testing.assert_array_equal(a.converged, b.converged)
    np.testing.assert_array_equal(a.flag_bits, b.flag_bits)
    np.testing.assert_array_equal(a.n_obs, b.n_obs)
    np.testing.assert_array_equal(a.df, b.df)
    both = a.converged & b.converged
    assert both.sum() > 0
    np.testing.assert_allclose(b.rss[both], a.rss[both], rtol=1e-10, atol=0)
    free = np.array(a.free)
    pa, pb = a.params[both][:, free], b.params[both][:, free]
    tol = 1e-8 * np.abs(pa) + 1e-5 * np.nan_to_num(a.se[both][:, free], nan=np.inf)
    assert np.all(np.abs(pa - pb) <= tol)
    # fixed parameters are copied, not estimated
    np.testing.assert_array_equal(a.params[:, ~free], b.params[:, ~free])
    ok = both & (a.flag_bits == 0)
    np.testing.assert_allclose(b.se[ok][:, free], a.se[ok][:, free], rtol=1e-5)
    # SE available or not (ill-conditioning test) on converged curves
    np.testing.assert_array_equal(np.isnan(a.se[both]), np.isnan(b.se[both]))


def test_ll4_synthetic_backends_agree():
    """3,000 spec-§2 LL.4 curves: identical convergence/flags, RSS 1e-10, parameters 1e-8 rel
    or 1e-5 SE, SEs 1e-5 (jtj)."""
    x, y = _curves("LL.4", 3000, 11)
    _assert_same(fit_batch(x, y, backend="numpy"), fit_batch(x, y, backend="numba"))


@pytest.mark.parametrize("model", ["LL.3", "LL.3u", "LL.2", "LL.5", "W1.4", "W2.4"])
def test_each_model_backends_agree(model):
    """400 curves generated from each model: same criteria as for LL.4 (jtj SEs)."""
    x, y = _curves(model, 400, 5)
    _assert_same(
        fit_batch(x, y, model=model, backend="numpy"), fit_batch(x, y, model=model, backend="numba")
    )


@pytest.mark.parametrize("model", ["LL.4", "LL.5", "W2.4"])
def test_hessian_multistart_backends_agree(model):
    """se='hessian' (drc vcov by central differences of the Jacobian) and multistart=True
    (three/five extra LM starts, best converged RSS kept): same criteria."""
    x, y = _curves(model, 300, 8)
    a = fit_batch(x, y, model=model, se="hessian", multistart=True, backend="numpy")
    b = fit_batch(x, y, model=model, se="hessian", multistart=True, backend="numba")
    _assert_same(a, b)


def test_weights_masks_ragged_and_per_curve_fixed_agree():
    """Weights, NaN/masked points (ragged curves, some with too few points), dose-0 controls
    and per-curve fixed bottoms: same criteria; too_few_points flagged identically."""
    rng = np.random.default_rng(3)
    x, y = _curves("LL.4", 600, 9)
    x = np.concatenate([np.zeros((600, 2)), x], axis=1)
    y = np.concatenate([1 + rng.normal(0, 0.05, (600, 2)), y], axis=1)
    w = rng.uniform(0.5, 2.0, y.shape)
    y[rng.random(y.shape) < 0.1] = np.nan
    mask = rng.random(y.shape) > 0.1
    mask[:20, 3:] = False  # 3 points or fewer
    fixed = {"bottom": rng.uniform(0.0, 0.3, 600)}
    a = fit_batch(x, y, weights=w, mask=mask, fixed=fixed, backend="numpy")
    b = fit_batch(x, y, weights=w, mask=mask, fixed=fixed, backend="numba")
    assert (a.flag_bits & 32).any()  # too_few_points present
    _assert_same(a, b)


@pytest.mark.parametrize("model", ["LL.4", "LL.3", "LL.5", "W1.4", "W2.4"])
def test_fallback_backends_agree(model):
    """fallback=True (continued LM, LM from the best step, step and power-law limits; the same
    dialect code compiled or vectorised): same criteria as without it, on curves generated from
    each model plus steep ones that make the fallback work."""
    x, y = _curves(model, 600 if model == "LL.4" else 300, 21)
    rng = np.random.default_rng(4)
    steep = 1.0 / (1.0 + (x[:100] / 0.05) ** rng.uniform(5, 15, (100, 1)))
    y[:100] = steep + rng.normal(0, 0.05, steep.shape)
    a = fit_batch(x, y, model=model, backend="numpy", fallback=True)
    b = fit_batch(x, y, model=model, backend="numba", fallback=True)
    assert ((a.flag_bits & 64) > 0).sum() > 5  # limit curves present
    _assert_same(a, b)


@pytest.fixture
def ryegrass(shared):
    d = pd.read_csv(shared("reference_data", "dose_response", "drc_ryegrass.csv"))
    return d["conc"].to_numpy(float), d["rootl"].to_numpy(float)


@pytest.mark.parametrize("model", ["LL.4", "LL.3", "LL.5", "W1.4", "W2.4"])
@pytest.mark.parametrize("se", ["jtj", "hessian"])
def test_ryegrass_backends_agree(ryegrass, model, se):
    """drc ryegrass (reference values checked in test_dose_engine.py with the default backend):
    both backends give the same fit (same criteria; LL.5 is nearly non-identifiable here, its
    parameters are held to 1e-5 SE)."""
    x, y = ryegrass
    a = fit_batch(x, y, model=model, se=se, backend="numpy")
    b = fit_batch(x, y, model=model, se=se, backend="numba")
    assert a.converged[0]
    _assert_same(a, b)


@pytest.mark.parametrize("case", [1, 2, 3, 4])
def test_dr4pl_hard_cases_same_flags(shared, case):
    """Spec §7.6 hard cases: no exception on the compiled path; flags identical to NumPy's."""
    d = pd.read_csv(shared("reference_data", "dose_response", f"dr4pl_drc_error_{case}.csv"))
    x, y = d["Dose"].to_numpy(float), d["Response"].to_numpy(float)
    for se in ("jtj", "hessian"):
        a = fit_batch(x, y, se=se, backend="numpy")
        b = fit_batch(x, y, se=se, backend="numba")
        assert b.status[0] != "ok"
        np.testing.assert_array_equal(a.flag_bits, b.flag_bits)
        np.testing.assert_array_equal(a.converged, b.converged)


def test_deterministic_across_runs_and_threads():
    """Bit-identical results on repeated runs and with 1 or 2 threads (each curve is fitted by
    one loop iteration from its own data)."""
    import numba

    x, y = _curves("LL.4", 1000, 2)
    n0 = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = fit_batch(x, y, backend="numba")
        numba.set_num_threads(min(2, int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))))
        b = fit_batch(x, y, backend="numba")
        c = fit_batch(x, y, backend="numba")
    finally:
        numba.set_num_threads(n0)
    for f in (b, c):
        np.testing.assert_array_equal(a.params, f.params)
        np.testing.assert_array_equal(a.rss, f.rss)
        np.testing.assert_array_equal(a.cov, f.cov)
        np.testing.assert_array_equal(a.flag_bits, f.flag_bits)


def test_backend_selection(monkeypatch):
    """auto -> numba for the named models; user models and user starts run on NumPy; unknown
    backend names are an InputError; KINRESIST_DOSE_BACKEND overrides auto."""
    x, y = _curves("LL.4", 5, 1)
    assert fit_batch(x, y).backend == "numpy"  # small batch: no compilation for auto
    assert fit_batch(x, y, backend="numba").backend == "numba"
    monkeypatch.setattr("kinresist.dose.fastpath.AUTO_MIN_CURVES", 5)
    assert fit_batch(x, y).backend == "numba"  # screen-scale batches use the compiled kernel
    assert fit_batch(x, y, backend="numpy").backend == "numpy"
    start = {"hill": 1.0, "bottom": 0.1, "top": 1.0, "ec50": 0.1}
    assert fit_batch(x, y, backend="numba", start=start).backend == "numpy"
    everything = {"hill": 1.0, "bottom": 0.1, "top": 1.0, "ec50": 0.1}
    assert fit_batch(x, y, backend="numba", fixed=everything).backend == "numpy"

    class Line(Model):
        name = "line"
        param_names = ("a", "b")

        def f(self, x, p):  # type: ignore[no-untyped-def]
            return p["a"] + p["b"] * np.asarray(x)

        def jacobian(self, x, p):  # type: ignore[no-untyped-def]
            x = np.asarray(x)
            return {"a": np.ones_like(x), "b": x}

        def self_start(self, x, y, w):  # type: ignore[no-untyped-def]
            return {"a": np.zeros(y.shape[0]), "b": np.zeros(y.shape[0])}

    fl = fit_batch(x, y, model=Line(), backend="numba")
    assert fl.backend == "numpy"
    assert fl.converged.all()
    with pytest.raises(InputError, match="backend"):
        fit_batch(x, y, backend="fortran")  # type: ignore[arg-type]
    monkeypatch.setenv("KINRESIST_DOSE_BACKEND", "numpy")
    assert fit_batch(x, y).backend == "numpy"
    assert fit_batch(x, y, backend="numba").backend == "numba"


def _fit_rss(args: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return fit_batch(args[0], args[1], backend="numba").rss


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_fork_and_thread_safe():
    """A process forked after a parallel fit can fit again (GNU OpenMP would abort it: the
    fork-safe workqueue layer is selected), and concurrent calls from Python threads are
    serialised; results equal the single-call fit exactly."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    x, y = _curves("LL.4", 400, 4)
    ref = fit_batch(x, y, backend="numba").rss
    parts = [(x[i : i + 100], y[i : i + 100]) for i in range(0, 400, 100)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        np.testing.assert_array_equal(np.concatenate(list(ex.map(_fit_rss, parts))), ref)
    with ThreadPoolExecutor(4) as ex:
        np.testing.assert_array_equal(np.concatenate(list(ex.map(_fit_rss, parts))), ref)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_alternatives_only_plus_self_start_is_the_multistart(backend):
    """``alternatives_only=True`` drops the self-start of a multistart: the self-start fit
    (``multistart=False``) and the alternatives-only fit, kept as a multistart keeps its best
    start (converged first, then the lower RSS, the self-start winning ties), give the
    multistart's RSS, convergence and parameters exactly, on every curve and both backends.
    The noisy LL.4 design with a fixed bottom (as ZIP's refits) has curves the self-start
    does not converge on, so both branches are exercised."""
    rng = np.random.default_rng(11)
    x, y = _curves("LL.4", 400, 12)
    y = y + rng.normal(0.0, 0.15, y.shape)
    fixed = {"bottom": rng.uniform(-0.2, 0.3, 400)}
    kw = {"model": "LL.4", "fixed": fixed, "backend": backend}
    full = fit_batch(x, y, multistart=True, **kw)
    own = fit_batch(x, y, **kw)
    alt = fit_batch(x, y, multistart=True, alternatives_only=True, **kw)
    alt_wins = (alt.converged & ~own.converged) | (
        (alt.converged == own.converged) & (alt.rss < own.rss)
    )
    assert 0 < alt_wins.sum() < len(x)
    assert (~own.converged).sum() > 0
    np.testing.assert_array_equal(full.rss, np.where(alt_wins, alt.rss, own.rss))
    np.testing.assert_array_equal(full.converged, np.where(alt_wins, alt.converged, own.converged))
    np.testing.assert_array_equal(full.params, np.where(alt_wins[:, None], alt.params, own.params))
    with pytest.raises(InputError, match="alternatives_only"):
        fit_batch(x, y, alternatives_only=True, **kw)


def test_numba_loads_without_scipy_linalg_and_blas_still_works():
    """``numba_available`` loads SciPy's cython_blas on its own (numba's BLAS probe would
    import all of scipy.linalg): in a fresh process numba then has BLAS (a compiled
    ``np.dot`` equals NumPy's), scipy.linalg was not imported for it, and importing it
    afterwards works as usual."""
    import subprocess
    import sys

    code = """
import sys
from kinresist.dose.fastpath import numba_available
assert numba_available()
import numba.np.arraymath as am
assert am._HAVE_BLAS, "numba lost BLAS"
assert "scipy.linalg" not in sys.modules, "scipy.linalg was imported"
import numpy as np
from numba import njit
a = np.arange(12.0).reshape(3, 4)
b = np.arange(8.0).reshape(4, 2)
np.testing.assert_allclose(njit(lambda p, q: np.dot(p, q))(a, b), a @ b)
import scipy.linalg
from scipy.linalg import cython_blas
assert cython_blas is sys.modules["scipy.linalg.cython_blas"]
np.testing.assert_allclose(scipy.linalg.solve(np.eye(3) * 2.0, np.ones(3)), 0.5)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"
