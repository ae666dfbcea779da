"""Benchmark: a synthetic screen of N 8x8 blocks scored with ZIP, Bliss, HSA and Loewe, end to end.

In one run:

* ``cli``       ``kinresist synergy score SCREEN --format parquet --out ...`` in a child process,
                from start to the tables written (N blocks; also N/4 blocks, to show that peak
                RSS does not grow with the screen), wall time, CPU time and peak RSS;
* ``engine``    kinresist's vectorised engine (``score_stack``, exact mode, chunks of 10,000
                blocks as the CLI scores them) on the first ``--n-engine`` blocks, in-process;
* ``loop``      the same engine called once per block, on ``--n-loop`` blocks;
* ``synergy``   the ``synergy`` PyPI package (Wooten et al. 2021; Bliss, HSA, ZIP and Loewe
                ``delta_HSA`` per block; ``pip install synergy``, the ``bench`` dependency
                group), on ``--n-synergy`` blocks.

Rates are blocks per second of wall time and per CPU-second (user + system over all threads:
"per core"); subsets are extrapolated to N and to DrugComb's 740,000 blocks (stated as such).
Numba runs one thread (``--threads``) unless told otherwise. Usage::

    python benchmarks/bench_synergy.py --n 100000 --input parquet
    python benchmarks/bench_synergy.py --n 740000 --small 40000 --n-engine 50000

No timing is asserted anywhere; the figures go to the README and docs/synergy.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

_THREADS = "1"
if "--threads" in sys.argv:
    _THREADS = sys.argv[sys.argv.index("--threads") + 1]
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("NUMBA_NUM_THREADS", _THREADS)

import numpy as np  # noqa: E402
from _proc import run_measured  # noqa: E402

from kinresist.synergy import BlockStack, score_stack  # noqa: E402

DRUGCOMB_BLOCKS = 740_000
CLI_CHUNK = 10_000


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


def write_screen(path: Path, n: int, *, seed: int, piece: int = 50_000) -> None:
    """N synthetic blocks as a SynergyFinder long table (Parquet or CSV), written piecewise."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    first = True
    for start in range(0, n, piece):
        st = synthetic_blocks(min(piece, n - start), seed=seed + start)
        nb, n1, n2 = st.inhibition.shape
        bid = np.repeat(np.arange(start + 1, start + nb + 1), n1 * n2)
        frame = pd.DataFrame(
            {
                "block_id": bid,
                "drug_row": np.char.add("D", (bid % 997).astype(str)),
                "drug_col": np.char.add("E", (bid % 991).astype(str)),
                "conc_r": np.repeat(st.conc1, n2, axis=1).ravel(),
                "conc_c": np.tile(st.conc2, (1, n1)).ravel(),
                "response": (100.0 - st.inhibition).ravel(),
                "conc_r_unit": "uM",
            }
        )
        if path.suffix == ".parquet":
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        else:
            frame.to_csv(path, index=False, header=first, mode="w" if first else "a")
        first = False
    if writer is not None:
        writer.close()


def make_screen(path: Path, n: int, *, seed: int) -> None:
    """:func:`write_screen` in a child process (this one stays small)."""
    cmd = [sys.executable, __file__, "--write-screen", str(path), str(n), str(seed)]
    subprocess.run(cmd, check=True)


def run_cli(src: Path, out: Path, dask: str | None) -> dict[str, float]:
    """The CLI in a child process: wall, CPU (user + system) and peak RSS of that process."""
    cmd = [sys.executable, "-m", "kinresist.cli.main", "synergy", "score", str(src), "-q",
           "--format", "parquet", "--out", str(out)]  # fmt: skip
    if dask:
        cmd += ["--dask", dask]
    rec = run_measured(cmd)  # the child's own peak RSS (benchmarks/_proc.py)
    if rec["returncode"] != 0:
        msg = f"kinresist failed ({rec['returncode']}): {rec['stderr'].strip()}"
        raise SystemExit(msg)
    return {"wall": rec["wall"], "cpu": rec["cpu"], "rss_mb": rec["rss_mb"]}


def run_engine(stack: BlockStack) -> tuple[float, float]:
    """Wall and CPU seconds of the engine on ``stack``, in the CLI's chunks."""
    t, c = time.perf_counter(), time.process_time()
    for s in range(0, stack.n_blocks, CLI_CHUNK):
        part = slice(s, s + CLI_CHUNK)
        score_stack(BlockStack(stack.conc1[part], stack.conc2[part], stack.inhibition[part]))
    return time.perf_counter() - t, time.process_time() - c


def run_loop(stack: BlockStack, n: int) -> float:
    t = time.perf_counter()
    for k in range(n):
        score_stack(
            BlockStack(stack.conc1[k : k + 1], stack.conc2[k : k + 1], stack.inhibition[k : k + 1])
        )
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
    ap.add_argument("--n", type=int, default=100_000, help="blocks of the screen (CLI run)")
    ap.add_argument("--input", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--small", type=int, default=None, help="the smaller CLI run (default N/4)")
    ap.add_argument("--n-engine", type=int, default=50_000, help="blocks for the engine alone")
    ap.add_argument("--n-loop", type=int, default=50, help="blocks for the per-block loop")
    ap.add_argument("--n-synergy", type=int, default=10, help="blocks for the synergy package")
    ap.add_argument("--threads", default=_THREADS, help="numba threads (default 1: per core)")
    ap.add_argument("--dask", default=None, help="also run the CLI on this Dask scheduler")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--workdir", type=Path, default=None, help="temporary files go here")
    ap.add_argument(
        "--write-screen", nargs=3, metavar=("PATH", "N", "SEED"), help=argparse.SUPPRESS
    )
    a = ap.parse_args()
    if a.write_screen:
        write_screen(Path(a.write_screen[0]), int(a.write_screen[1]), seed=int(a.write_screen[2]))
        return

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}; numpy {np.__version__}; numba threads "
        f"{os.environ['NUMBA_NUM_THREADS']}"
    )
    print(f"synthetic 8x8 blocks (seed {a.seed}); ZIP, Bliss, HSA, Loewe; exact mode")
    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp:
        work = Path(tmp)
        warm = work / f"warm.{a.input}"
        make_screen(warm, 1_500, seed=a.seed + 1)  # numba kernels compiled/loaded, not timed
        run_cli(warm, work / "warm.parquet", None)
        rows = {}
        small = a.small if a.small is not None else max(min(a.n, 2 * CLI_CHUNK + 1), a.n // 4)
        for n in sorted({small, a.n}):
            src = work / f"screen{n}.{a.input}"
            make_screen(src, n, seed=a.seed)
            size = src.stat().st_size / 1e6
            r = run_cli(src, work / f"scores{n}.parquet", None)
            rows[n] = r
            out_mb = sum(p.stat().st_size for p in work.glob(f"scores{n}*.parquet")) / 1e6
            print(
                f"cli      : {n:>9,} blocks from {a.input} ({size:,.0f} MB) in {r['wall']:8.1f} s "
                f"wall, {r['cpu']:8.1f} s CPU -> {n / r['wall']:7.0f} blocks/s, "
                f"{n / r['cpu']:7.0f} blocks/CPU-s; peak RSS {r['rss_mb']:6.0f} MB; "
                f"tables {out_mb:,.0f} MB"
            )
            if a.dask and n == a.n:
                d = run_cli(src, work / "dask.parquet", a.dask)
                print(
                    f"cli+dask : {n:>9,} blocks in {d['wall']:8.1f} s wall ({n / d['wall']:.0f} blocks/s)"
                )
            src.unlink()
        stack = synthetic_blocks(min(a.n_engine, a.n), seed=a.seed)
        score_stack(BlockStack(stack.conc1[:200], stack.conc2[:200], stack.inhibition[:200]))
        ew, ec = run_engine(stack)
        ne = stack.n_blocks
        print(
            f"engine   : {ne:>9,} blocks in {ew:8.1f} s wall, {ec:8.1f} s CPU -> "
            f"{ne / ew:7.0f} blocks/s, {ne / ec:7.0f} blocks/CPU-s"
        )
        per_loop = run_loop(stack, min(a.n_loop, ne))
        print(f"loop     : {per_loop * 1e3:8.2f} ms/block ({min(a.n_loop, ne)} blocks measured)")
        try:
            per_syn = run_synergy_package(stack, min(a.n_synergy, ne))
        except ImportError:
            per_syn = float("nan")
            print("synergy  : package not installed (pip install synergy)")
        else:
            print(
                f"synergy  : {per_syn * 1e3:8.2f} ms/block ({min(a.n_synergy, ne)} blocks measured), "
                f"{1 / per_syn:8.1f} blocks/s"
            )
    big = rows[a.n]
    per_cli = big["cpu"] / a.n
    print(f"end to end / engine (CPU) : {per_cli / (ec / ne):6.2f}x the engine's time")
    print(f"engine vs loop            : {per_loop / (ew / ne):8.1f}x faster")
    print(f"engine vs synergy         : {per_syn / (ew / ne):8.1f}x faster")
    print(f"end to end vs synergy     : {per_syn / (big['wall'] / a.n):8.1f}x faster (wall)")
    small = rows[min(rows)]
    print(
        f"peak RSS {small['rss_mb']:.0f} MB at {min(rows):,} blocks, {big['rss_mb']:.0f} MB at "
        f"{a.n:,} blocks (streamed: flat in N)"
    )
    print(
        f"extrapolated {DRUGCOMB_BLOCKS:,} blocks (DrugComb): {per_cli * DRUGCOMB_BLOCKS / 60:.1f} "
        f"CPU-minutes on one core ({1 / per_cli:.0f} blocks/CPU-s), "
        f"{big['wall'] / a.n * DRUGCOMB_BLOCKS / 60:.1f} min wall at this machine's load"
    )


if __name__ == "__main__":
    main()
