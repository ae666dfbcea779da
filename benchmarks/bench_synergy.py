"""Benchmark: N seeded synthetic 8x8 blocks scored with ZIP, Bliss, HSA and Loewe.

Peers in the same run:

* ``engine``    kinresist's vectorised engine (``score_stack``, exact mode), all N blocks;
* ``loop``      the same engine called once per block (a per-block loop), on a subset;
* ``synergy``   the ``synergy`` PyPI package (Wooten et al. 2021; Bliss, HSA, ZIP and Loewe
                ``delta_HSA`` per block), on a small subset.

Per-block times of the subsets are extrapolated to N (stated in the output). Prints
blocks/s and the speed ratios. Usage::

    python benchmarks/bench_synergy.py --n 100000 --jobs 2 --n-loop 200 --n-synergy 20

No timing is asserted anywhere; the figures go to the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread per process: --jobs sets the parallelism

import numpy as np  # noqa: E402

from kinresist.synergy import BlockStack, score_stack  # noqa: E402


def synthetic_blocks(n: int, *, seed: int = 20261122, size: int = 8) -> BlockStack:
    """Seeded 8x8 checkerboards: LL.4 single agents, Bliss-plus-interaction surface, noise."""
    rng = np.random.default_rng(seed)
    base = np.r_[0.0, np.geomspace(0.01, 10.0, size - 1)]
    c1 = np.broadcast_to(base * 10 ** rng.uniform(-1, 1, (n, 1)), (n, size)).copy()
    c2 = np.broadcast_to(base * 10 ** rng.uniform(-1, 1, (n, 1)), (n, size)).copy()
    c1[:, 0] = 0.0
    c2[:, 0] = 0.0

    def ll4(x: np.ndarray, e: np.ndarray, h: np.ndarray, top: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            r = (x / e) ** h
        return top * r / (1.0 + r)

    e1 = np.median(c1[:, 1:], axis=1, keepdims=True) * 10 ** rng.uniform(-1, 1, (n, 1))
    e2 = np.median(c2[:, 1:], axis=1, keepdims=True) * 10 ** rng.uniform(-1, 1, (n, 1))
    y1 = ll4(c1, e1, rng.uniform(0.7, 2.5, (n, 1)), rng.uniform(60, 100, (n, 1)))
    y2 = ll4(c2, e2, rng.uniform(0.7, 2.5, (n, 1)), rng.uniform(60, 100, (n, 1)))
    b = y1[:, :, None] + y2[:, None, :] - y1[:, :, None] * y2[:, None, :] / 100
    inter = rng.uniform(-15, 25, (n, 1, 1)) * (y1[:, :, None] / 100) * (y2[:, None, :] / 100)
    inh = b + inter + rng.normal(0, 3, (n, size, size))
    return BlockStack(c1, c2, inh)


def _score(args: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    c1, c2, inh = args
    res = score_stack(BlockStack(c1, c2, inh), mode="exact")
    z = res.mean["zip"]
    return float(np.sum(np.where(np.isfinite(z), z, 0.0)))


def run_engine(stack: BlockStack, jobs: int) -> float:
    t = time.perf_counter()
    if jobs <= 1:
        _score((stack.conc1, stack.conc2, stack.inhibition))
    else:
        parts = np.array_split(np.arange(stack.n_blocks), jobs * 4)
        with ProcessPoolExecutor(jobs) as ex:
            list(
                ex.map(
                    _score, [(stack.conc1[p], stack.conc2[p], stack.inhibition[p]) for p in parts]
                )
            )
    return time.perf_counter() - t


def run_loop(stack: BlockStack, n: int) -> float:
    t = time.perf_counter()
    for k in range(n):
        _score((stack.conc1[k : k + 1], stack.conc2[k : k + 1], stack.inhibition[k : k + 1]))
    return (time.perf_counter() - t) / n


def run_synergy_package(stack: BlockStack, n: int) -> float:
    from synergy.combination import HSA, ZIP, Bliss, Loewe

    t = time.perf_counter()
    for k in range(n):
        d1 = np.repeat(stack.conc1[k], stack.shape[1])
        d2 = np.tile(stack.conc2[k], stack.shape[0])
        e = 1.0 - stack.inhibition[k].ravel() / 100.0  # viability fraction
        for model in (Bliss(), HSA(), ZIP(), Loewe(mode="delta_HSA")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(d1, d2, e)
    return (time.perf_counter() - t) / n


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=10_000, help="blocks for the engine")
    ap.add_argument("--jobs", type=int, default=1, help="engine worker processes")
    ap.add_argument("--n-loop", type=int, default=100, help="blocks for the per-block loop")
    ap.add_argument("--n-synergy", type=int, default=10, help="blocks for the synergy package")
    ap.add_argument("--seed", type=int, default=20261122)
    a = ap.parse_args()

    stack = synthetic_blocks(a.n, seed=a.seed)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; numpy {np.__version__}"
    )
    print(f"{a.n} synthetic 8x8 blocks (seed {a.seed}); methods ZIP, Bliss, HSA, Loewe; exact mode")
    t_engine = run_engine(stack, a.jobs)
    per_engine = t_engine / a.n
    print(
        f"engine   : {t_engine:8.2f} s total, {a.n / t_engine:10.1f} blocks/s ({a.jobs} process(es))"
    )
    per_loop = run_loop(stack, min(a.n_loop, a.n))
    print(
        f"loop     : {per_loop * 1e3:8.2f} ms/block ({min(a.n_loop, a.n)} blocks measured), "
        f"{1 / per_loop:10.1f} blocks/s, extrapolated {per_loop * a.n:9.1f} s for {a.n}"
    )
    try:
        per_syn = run_synergy_package(stack, min(a.n_synergy, a.n))
    except ImportError:
        per_syn = float("nan")
        print("synergy  : package not installed (pip install synergy)")
    else:
        print(
            f"synergy  : {per_syn * 1e3:8.2f} ms/block ({min(a.n_synergy, a.n)} blocks measured), "
            f"{1 / per_syn:10.1f} blocks/s, extrapolated {per_syn * a.n:9.1f} s for {a.n}"
        )
    print(f"ratio engine/loop    : {per_loop / per_engine:8.1f}x faster")
    print(f"ratio engine/synergy : {per_syn / per_engine:8.1f}x faster")
    print(f"extrapolated 100,000 blocks with the engine: {per_engine * 1e5:.1f} s")


if __name__ == "__main__":
    main()
