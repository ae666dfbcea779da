"""Benchmark: ``kinresist dose fit`` end to end vs the engine vs a per-curve scipy ``curve_fit`` loop.

N seeded synthetic 9-point LL.4 curves (spec §2 design: half-log doses 1e-3 ... 10, noise SD
0.05, b ∈ [0.7, 3], c ∈ [0, 0.4], d = 1, log10 e ∈ [-2.5, 0.5]) are written as a tidy table
(``curve``, ``dose``, ``response``; Parquet or CSV) and fitted, in one run, by

* **CLI** — ``kinresist dose fit --input T --dose-col dose --response-col response
  --group-col curve --out fits.parquet --quiet`` in a subprocess (process start to results
  written), with its peak RSS (a table this size is streamed: ``stream_fit``, issue 19);
* **stream** — the streaming library path :func:`kinresist.dose.stream.fit_table_stream`
  driven from a subprocess (``python -c``; process start to results written), peak RSS;
* **engine** — :func:`kinresist.dose.engine.fit_batch` on in-memory arrays (``fallback=True``,
  as the table path; ``--backends`` numba and/or numpy), SEs and flags included;
* **scipy** — ``scipy.optimize.curve_fit(method="lm")`` with the analytic Jacobian (or, with
  ``--scipy-numeric-jac``, its default finite differences), one curve at a time, on the first
  ``--scipy-n`` curves (same parameterisation: log e); its rate is extrapolated to N.

Printed: seconds, curves/s, ratio to the scipy loop (time scipy would need for N curves /
time taken), peak RSS; and the convergence check on the scipy curves: every curve curve_fit
converges on must be converged in the streamed output with an RSS at most 1e-6 relative above
curve_fit's. The scipy loop and each process path run ``--repeat`` times, interleaved (so that
they see the same phases of a shared machine), and the run with the median time is shown, with
the range. Numba's one-time compile happens, and kinresist is
byte-compiled (as a wheel install leaves it), before the timed runs. The machine (cores,
load average before and after) is printed: on a shared machine the numbers move with the load.

Usage::

    python benchmarks/bench_dose_fit.py --n 1000000 --format parquet --scipy-n 2000 --repeat 3
    python benchmarks/bench_dose_fit.py --n 100000 --format csv --scipy-n 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _proc import run_measured
from scipy.optimize import OptimizeWarning, curve_fit

DOSES = 10.0 ** np.arange(-3.0, 1.01, 0.5)


def make_curves(n: int, seed: int = 20240501) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = rng.uniform(0.7, 3.0, n)
    c = rng.uniform(0.0, 0.4, n)
    e = 10.0 ** rng.uniform(-2.5, 0.5, n)
    x = np.broadcast_to(DOSES, (n, DOSES.size)).copy()
    y = c[:, None] + (1 - c[:, None]) / (1 + np.exp(b[:, None] * (np.log(x) - np.log(e[:, None]))))
    return x, y + rng.normal(0.0, 0.05, x.shape)


def write_table(x: np.ndarray, y: np.ndarray, path: Path) -> None:
    """Tidy table: one row per well, curves contiguous (``c0000000`` ...)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    n, m = x.shape
    labels = np.char.add("c", np.char.zfill(np.arange(n).astype(str), 7))
    table = pa.table({"curve": np.repeat(labels, m), "dose": x.ravel(), "response": y.ravel()})
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pcsv.write_csv(table, path)


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
    """RSS and success of a per-curve ``curve_fit`` (start: slope 1, data min/max, median dose)."""
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


def run_process(cmd: list[str]) -> tuple[float, float, float, int, str]:
    """Wall seconds, CPU seconds (all threads), peak RSS (GB) and exit code of ``cmd`` in a
    child process, and its stderr tail (:func:`_proc.run_measured`: the child's own peak RSS,
    not this benchmark's, which holds the curves)."""
    rec = run_measured(cmd)
    tail = rec["stderr"][-600:]
    return rec["wall"], rec["cpu"], rec["rss_mb"] / 1024, rec["returncode"], tail


def median_run(
    runs: list[tuple[float, float, float, int, str]], label: str, spans: list[str]
) -> tuple[float, float, float, int, str]:
    """The run with the median wall time (its range, and the peak RSS over all runs, are
    appended to ``spans``; on a shared machine single runs move by a fifth)."""
    runs = sorted(runs, key=lambda r: r[0])
    walls = [r[0] for r in runs]
    spans.append(
        f"{label}: median of {len(runs)} runs; wall {walls[0]:.2f}-{walls[-1]:.2f} s, "
        f"peak RSS up to {max(r[2] for r in runs):.2f} GB"
    )
    failed = [r for r in runs if r[3]]
    return failed[0] if failed else runs[len(runs) // 2]


def _timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="curves")
    ap.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="input table")
    ap.add_argument("--scipy-n", type=int, default=2_000, help="curves for the scipy loop")
    ap.add_argument("--backends", default="numba", help="engine backends (comma-separated)")
    ap.add_argument("--skip", default="", help="paths to skip: cli,stream,engine (comma-separated)")
    ap.add_argument("--workdir", default=None, help="keep the table and outputs here")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each process path (the median is shown)"
    )
    ap.add_argument(
        "--scipy-numeric-jac",
        action="store_true",
        help="scipy: finite-difference Jacobian (curve_fit's default) instead of the analytic one",
    )
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    work = Path(args.workdir or tempfile.mkdtemp(prefix="kinresist-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    load0 = os.getloadavg()
    x, y = make_curves(args.n)
    table = work / f"curves.{args.format}"
    write_table(x, y, table)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load0[0]:.2f} (shared machine: other jobs "
        f"compete for the cores); input {table.name} {table.stat().st_size / 1e6:.1f} MB, "
        f"{args.n:,} curves x {x.shape[1]} points"
    )

    import compileall

    import kinresist
    from kinresist.dose.engine import fit_batch

    # byte-compiled as a wheel install leaves it (an editable install on a machine with
    # PYTHONDONTWRITEBYTECODE would compile kinresist's modules in every timed process)
    compileall.compile_dir(Path(kinresist.__file__).parent, quiet=1)
    fit_batch(x[:20000], y[:20000], backend="numba", fallback=True)  # compile / cache load
    rows = []
    m = min(args.scipy_n, args.n)
    jac = "numeric" if args.scipy_numeric_jac else "analytic"
    engine_rows = []
    if "engine" not in skip:
        for be in [b.strip() for b in args.backends.split(",") if b.strip()]:
            _f, t_e, c_e = _timed(fit_batch, x, y, backend=be, fallback=True)
            engine_rows.append(
                (f"engine fit_batch [{be}], arrays in memory", t_e, c_e, args.n, None, None)
            )

    paths: dict[str, tuple[str, list[str], Path]] = {}
    if "stream" not in skip:
        out = work / "stream_fits.parquet"
        code = (
            "from kinresist.dose.stream import fit_table_stream; "
            f"fit_table_stream({str(table)!r}, dose_col='dose', response_col='response', "
            f"group_col='curve', out={str(out)!r}, quiet=True)"
        )
        paths["stream"] = (
            "stream: fit_table_stream (python -c)",
            [sys.executable, "-c", code],
            out,
        )
    if "cli" not in skip:
        out = work / "cli_fits.parquet"
        exe = shutil.which("kinresist", path=str(Path(sys.executable).parent)) or "kinresist"
        cmd = [exe, "dose", "fit", "--input", str(table), "--dose-col", "dose",
               "--response-col", "response", "--group-col", "curve", "--out", str(out), "--quiet"]  # fmt: skip
        paths["cli"] = ("CLI: kinresist dose fit --out fits.parquet", cmd, out)

    # interleaved rounds (scipy, then each process path), so that the scipy loop and the paths
    # see the same phases of a shared machine; the run with the median time is shown
    timings: list[tuple] = []
    runs: dict[str, list[tuple[float, float, float, int, str]]] = {k: [] for k in paths}
    for _ in range(max(args.repeat, 1)):
        timings.append(_timed(scipy_loop, x[:m], y[:m], analytic_jac=not args.scipy_numeric_jac))
        for key, (_label, cmd, _out) in paths.items():
            runs[key].append(run_process(cmd))
    timings.sort(key=lambda r: r[1])
    (rss_s, conv_s), t_scipy, c_scipy = timings[len(timings) // 2]
    s_rate = m / t_scipy
    scipy_total = args.n / s_rate
    c_rate = m / c_scipy
    rows.append((f"scipy curve_fit loop ({jac} Jacobian)", t_scipy, c_scipy, m, None, None))
    rows += engine_rows
    outputs = {}
    spans: list[str] = []
    for key, (label, _cmd, out) in paths.items():
        wall, cpu, rss, rc, err = median_run(runs[key], label, spans)
        rows.append((label, wall, cpu, args.n, rss, rc or None))
        outputs[key] = (out, rc, err)

    load1 = os.getloadavg()
    print(f"scipy loop: {m:,} curves in {t_scipy:.2f} s = {s_rate:,.0f} curves/s; for {args.n:,} "
          f"curves: {scipy_total:,.0f} s (extrapolated); median of {len(timings)} runs, "
          f"{timings[0][1]:.2f}-{timings[-1][1]:.2f} s")  # fmt: skip
    print(
        f"{'path':46s} {'wall s':>8s} {'curves/s':>10s} {'x scipy':>8s} {'CPU s':>8s} "
        f"{'x scipy CPU':>11s} {'peak RSS':>9s}"
    )
    for name, secs, cpu, n, rss, extra in rows:
        rss_txt = f"{rss:.2f} GB" if rss is not None else "-"
        fail = f"  (exit code {extra})" if isinstance(extra, int) else ""
        print(
            f"{name:46s} {secs:8.2f} {n / secs:10,.0f} {(n / s_rate) / secs:8.1f} {cpu:8.2f} "
            f"{(n / c_rate) / cpu:11.1f} {rss_txt:>9s}{fail}"
        )
    for key, (_path, rc, err) in outputs.items():
        if rc:
            print(f"{key} failed (exit {rc}): {' '.join(err.split())[-400:]}")
    for span in spans:
        print(span)
    print(f"load average after: {load1[0]:.2f}")

    if "stream" in outputs and outputs["stream"][1] == 0:
        import pandas as pd

        res = pd.read_parquet(outputs["stream"][0], columns=["group", "rss", "converged"]).iloc[:m]
        conv_e = res["converged"].to_numpy(bool)
        rss_e = res["rss"].to_numpy(float)
        rel = (rss_e - rss_s) / rss_s
        missed = conv_s & ~conv_e
        worse = conv_s & (rel > 1e-6)
        print(
            f"convergence on the {m:,} scipy curves: curve_fit {conv_s.mean():.4f}, kinresist "
            f"{conv_e.mean():.4f}; curve_fit converged and kinresist not: {missed.sum()}; "
            f"kinresist RSS higher by > 1e-6 relative: {worse.sum()}; lower by > 1e-6: "
            f"{(conv_s & (rel < -1e-6)).sum()} (curve_fit stopping early on runaway parameters)"
        )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
