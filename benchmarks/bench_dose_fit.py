"""Benchmark: kinresist's batch LL.4 engine (both backends) vs a per-curve scipy ``curve_fit`` loop.

N seeded synthetic 9-point curves (spec §2 design: half-log doses 1e-3 ... 10, noise SD
0.05, b ∈ [0.7, 3], c ∈ [0, 0.4], d = 1, log10 e ∈ [-2.5, 0.5]) are fitted

* by :func:`kinresist.dose.engine.fit_batch` with ``backend="numba"`` (compiled, curves
  in parallel over ``--threads`` threads) and ``backend="numpy"`` (the vectorised
  reference), all N curves, including SEs and flags; and
* by ``scipy.optimize.curve_fit(method="lm")`` with the analytic Jacobian (or, with
  ``--scipy-numeric-jac``, curve_fit's default finite differences), one curve at a
  time, on the first ``--scipy-n`` curves (same parameterisation: log e),

in the same run. Prints curves/s (wall clock) and curves per CPU-second of each, the
ratios to the scipy loop, the largest relative RSS difference (engine − scipy)/scipy on
curves both converge on (positive = engine worse), and the agreement of the two
backends (RSS, parameters, convergence and flags). Numba's first-call compile time (or
cache load) is measured separately and is not in the rates.

Usage::

    python benchmarks/bench_dose_fit.py --n 100000 --scipy-n 2000
    python benchmarks/bench_dose_fit.py --n 1000000 --scipy-n 2000 --backends numba
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


def _fit_chunk(args: tuple[np.ndarray, np.ndarray, bool, str]) -> dict[str, np.ndarray]:
    x, y, multistart, backend = args
    f = fit_batch(x, y, model="LL.4", multistart=multistart, backend=backend)  # type: ignore[arg-type]
    return {
        "rss": f.rss,
        "converged": f.converged,
        "params": f.params,
        "flag_bits": f.flag_bits,
    }


def engine(
    x: np.ndarray, y: np.ndarray, *, workers: int, chunk: int, multistart: bool, backend: str
) -> dict[str, np.ndarray]:
    parts = [
        (x[i : i + chunk], y[i : i + chunk], multistart, backend) for i in range(0, len(x), chunk)
    ]
    if workers <= 1:
        res = [_fit_chunk(p) for p in parts]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            res = list(pool.map(_fit_chunk, parts))
    return {k: np.concatenate([r[k] for r in res]) for k in res[0]}


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


def _timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="curves for the engine")
    ap.add_argument(
        "--scipy-n", type=int, default=2_000, help="curves for the scipy loop (its first curves)"
    )
    ap.add_argument(
        "--backends", default="numba,numpy", help="engine backends to run (comma-separated)"
    )
    ap.add_argument("--threads", type=int, default=0, help="numba threads (0: all cores)")
    ap.add_argument(
        "--workers", type=int, default=1, help="engine worker processes (numpy backend on 2 cores)"
    )
    ap.add_argument("--chunk", type=int, default=200_000)
    ap.add_argument(
        "--multistart", action="store_true", help="engine: also run 3 alternative starts per curve"
    )
    ap.add_argument(
        "--scipy-numeric-jac",
        action="store_true",
        help="scipy: finite-difference Jacobian (curve_fit's default) instead of the analytic one",
    )
    args = ap.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    x, y = make_curves(args.n)
    if "numba" in backends:
        import numba

        if args.threads:
            numba.set_num_threads(args.threads)
        _, t_compile, _ = _timed(fit_batch, x[:10], y[:10], backend="numba")
        print(
            f"numba: first call (compile, or load from the on-disk cache) {t_compile:.2f} s; "
            f"{numba.get_num_threads()} threads"
        )
    fit_batch(x[:100], y[:100], backend="numpy")  # warm-up (imports, caches)
    runs = {}
    for be in backends:
        runs[be] = _timed(
            engine,
            x,
            y,
            workers=args.workers,
            chunk=args.chunk,
            multistart=args.multistart,
            backend=be,
        )
    m = min(args.scipy_n, args.n)
    (rss_s, conv_s), t_scipy, cpu_scipy = _timed(
        scipy_loop, x[:m], y[:m], analytic_jac=not args.scipy_numeric_jac
    )
    s_rate, s_cpu = m / t_scipy, m / cpu_scipy
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
        f"engine workers {args.workers}; multistart {args.multistart}"
    )
    jac = "numeric" if args.scipy_numeric_jac else "analytic"
    print(
        f"scipy curve_fit loop ({jac} Jacobian): {m} curves in {t_scipy:.2f} s = "
        f"{s_rate:,.0f} curves/s, {s_cpu:,.0f} curves/CPU-s (converged {conv_s.mean():.4f})"
    )
    for be, (res, t_e, cpu_e) in runs.items():
        e_rate = args.n / t_e
        both = res["converged"][:m] & conv_s
        rel = (res["rss"][:m][both] - rss_s[both]) / rss_s[both]
        if args.workers <= 1:  # CPU time of this process (all its threads)
            e_cpu = args.n / cpu_e
            cpu_txt = f"{e_cpu:,.0f} curves/CPU-s"
            ratio_cpu = f", {e_cpu / s_cpu:.1f}x CPU"
        else:  # worker processes' CPU time is not counted by process_time()
            cpu_txt, ratio_cpu = "CPU rate n/a (worker processes)", ""
        print(
            f"engine [{be}]: {args.n} curves in {t_e:.2f} s = {e_rate:,.0f} curves/s, "
            f"{cpu_txt} (converged {res['converged'].mean():.4f}); "
            f"ratio to scipy {e_rate / s_rate:.1f}x wall{ratio_cpu}"
        )
        print(
            f"  RSS (engine - scipy)/scipy on {both.sum()} curves both converge on: "
            f"max {rel.max():.3e}, min {rel.min():.3e}; max |rel| {np.abs(rel).max():.3e}; "
            f"engine lower by > 1e-6 on {(rel < -1e-6).sum()}, higher by > 1e-6 on "
            f"{(rel > 1e-6).sum()}"
        )
        print(f"  1,000,000 curves at this rate: {1e6 / e_rate:.1f} s")
    if "numba" in runs and "numpy" in runs:
        a, b = runs["numpy"][0], runs["numba"][0]
        both = a["converged"] & b["converged"]
        rr = np.abs(a["rss"][both] - b["rss"][both]) / a["rss"][both]
        with np.errstate(invalid="ignore", divide="ignore"):
            pr = np.abs(a["params"][both] - b["params"][both]) / np.abs(a["params"][both])
        print(
            f"backends numba vs numpy: converged differs on {(a['converged'] != b['converged']).sum()}, "
            f"flags differ on {(a['flag_bits'] != b['flag_bits']).sum()} of {args.n}; on {both.sum()} "
            f"curves both converge on: max relative RSS difference {rr.max():.2e}, parameters "
            f"{np.nanmax(pr):.2e} (> 1e-8 on {(np.nanmax(pr, axis=1) > 1e-8).sum()} curves)"
        )


if __name__ == "__main__":
    main()
