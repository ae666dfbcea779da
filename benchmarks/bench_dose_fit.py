"""Benchmark: kinresist's batch LL.4 engine vs a per-curve scipy ``curve_fit`` loop.

N seeded synthetic 9-point curves (spec §2 design: half-log doses 1e-3 ... 10, noise SD
0.05, b ∈ [0.7, 3], c ∈ [0, 0.4], d = 1, log10 e ∈ [-2.5, 0.5]) are fitted

* by :func:`kinresist.dose.engine.fit_batch` (all N, in chunks; optionally over
  several worker processes), including SEs and flags, and
* by ``scipy.optimize.curve_fit(method="lm")`` with the analytic Jacobian (or, with
  ``--scipy-numeric-jac``, curve_fit's default finite differences), one curve at a
  time, on the first ``--scipy-n`` curves (same parameterisation: log e),

in the same run. Prints curves/s of each, the ratio, and the largest relative RSS
difference (engine − scipy)/scipy on curves both converge on (positive = engine
worse).

Usage::

    python benchmarks/bench_dose_fit.py --n 100000 --scipy-n 2000
    python benchmarks/bench_dose_fit.py --n 1000000 --workers 2 --scipy-n 2000
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from kinresist.dose.engine import fit_batch

DOSES = 10.0 ** np.arange(-3.0, 1.01, 0.5)


def make_curves(n: int, seed: int = 20240501) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = rng.uniform(0.7, 3.0, n)
    c = rng.uniform(0.0, 0.4, n)
    e = 10.0 ** rng.uniform(-2.5, 0.5, n)
    x = np.broadcast_to(DOSES, (n, DOSES.size)).copy()
    y = c[:, None] + (1 - c[:, None]) / (1 + np.exp(b[:, None] * (np.log(x) - np.log(e[:, None]))))
    return x, y + rng.normal(0.0, 0.05, x.shape)


def _fit_chunk(args: tuple[np.ndarray, np.ndarray, bool]) -> tuple[np.ndarray, np.ndarray]:
    x, y, multistart = args
    f = fit_batch(x, y, model="LL.4", multistart=multistart)
    return f.rss, f.converged


def engine(
    x: np.ndarray, y: np.ndarray, *, workers: int, chunk: int, multistart: bool
) -> tuple[np.ndarray, np.ndarray]:
    parts = [(x[i : i + chunk], y[i : i + chunk], multistart) for i in range(0, len(x), chunk)]
    if workers <= 1:
        res = [_fit_chunk(p) for p in parts]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            res = list(pool.map(_fit_chunk, parts))
    return np.concatenate([r[0] for r in res]), np.concatenate([r[1] for r in res])


def _ll4(x: np.ndarray, b: float, c: float, d: float, le: float) -> np.ndarray:
    return c + (d - c) / (1 + np.exp(b * (np.log(x) - le)))


def _ll4_jac(x: np.ndarray, b: float, c: float, d: float, le: float) -> np.ndarray:
    dl = np.log(x) - le
    s = 1 / (1 + np.exp(b * dl))
    du = -(d - c) * s * (1 - s)
    return np.column_stack([du * dl, 1 - s, s, -du * b])


def scipy_loop(
    x: np.ndarray, y: np.ndarray, *, analytic_jac: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    rss = np.full(len(x), np.nan)
    ok = np.zeros(len(x), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for i in range(len(x)):
            p0 = [1.0, float(y[i].min()), float(y[i].max()), float(np.log(np.median(x[i])))]
            try:
                p, _ = curve_fit(
                    _ll4,
                    x[i],
                    y[i],
                    p0=p0,
                    jac=_ll4_jac if analytic_jac else None,
                    method="lm",
                    maxfev=2000,
                )
            except RuntimeError:
                continue
            r = y[i] - _ll4(x[i], *p)
            rss[i] = float(r @ r)
            ok[i] = np.isfinite(rss[i])
    return rss, ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="curves for the engine")
    ap.add_argument(
        "--scipy-n", type=int, default=2_000, help="curves for the scipy loop (its first curves)"
    )
    ap.add_argument(
        "--workers", type=int, default=1, help="engine worker processes (2 on the 2-core target)"
    )
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument(
        "--multistart", action="store_true", help="engine: also run 3 alternative starts per curve"
    )
    ap.add_argument(
        "--scipy-numeric-jac",
        action="store_true",
        help="scipy: finite-difference Jacobian (curve_fit's default) instead of the analytic one",
    )
    args = ap.parse_args()
    x, y = make_curves(args.n)
    fit_batch(x[:100], y[:100])  # warm-up (imports, caches)
    t0, c0 = time.perf_counter(), time.process_time()
    rss_e, conv_e = engine(x, y, workers=args.workers, chunk=args.chunk, multistart=args.multistart)
    t_engine, cpu_engine = time.perf_counter() - t0, time.process_time() - c0
    m = min(args.scipy_n, args.n)
    t0, c0 = time.perf_counter(), time.process_time()
    rss_s, conv_s = scipy_loop(x[:m], y[:m], analytic_jac=not args.scipy_numeric_jac)
    t_scipy, cpu_scipy = time.perf_counter() - t0, time.process_time() - c0
    e_rate = args.n / t_engine
    s_rate = m / t_scipy
    both = conv_e[:m] & conv_s
    rel = (rss_e[:m][both] - rss_s[both]) / rss_s[both]
    print(
        f"machine: {os.cpu_count()} CPUs; engine workers {args.workers}; multistart {args.multistart}"
    )
    print(
        f"engine: {args.n} curves in {t_engine:.2f} s = {e_rate:,.0f} curves/s (converged {conv_e.mean():.4f})"
    )
    print(
        f"scipy curve_fit loop ({'numeric' if args.scipy_numeric_jac else 'analytic'} Jacobian): {m} curves in {t_scipy:.2f} s = {s_rate:,.0f} curves/s (converged {conv_s.mean():.4f})"
    )
    print(f"ratio engine/scipy: {e_rate / s_rate:.1f}x (wall clock)")
    if args.workers <= 1:
        # CPU time of this process: less sensitive to other load on a shared machine
        ce, cs = args.n / cpu_engine, m / cpu_scipy
        print(
            f"CPU-time rates: engine {ce:,.0f} curves/CPU-s, scipy {cs:,.0f} curves/CPU-s, ratio {ce / cs:.1f}x"
        )
    print(
        f"relative RSS difference (engine - scipy)/scipy on {both.sum()} curves both converge on: "
        f"max {rel.max():.3e}, min {rel.min():.3e}; engine lower by > 1e-6 on {(rel < -1e-6).sum()}, "
        f"higher by > 1e-6 on {(rel > 1e-6).sum()}"
    )
    print(f"projected 1,000,000 curves at this rate: {1e6 / e_rate:.1f} s")


if __name__ == "__main__":
    main()
