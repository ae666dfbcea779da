"""Benchmark: UMI grouping + consensus + molecule pileup vs pysam's raw pileup, end to end.

A synthetic amplicon panel (``--regions`` intervals of ``--region-length`` bp on a random
contig) is covered at ``--depth`` raw reads per base by UMI families (Poisson
``--family-size``), written with pysam, then the same panel with ``--scale`` times the reads
(``--grow depth``: deeper; ``--grow regions``: more amplicons at the same depth). On each BAM,
every measurement runs in its own process (peak RSS = that process's ``ru_maxrss``):

* ``kinresist ngs call`` - the CLI from process start to the JSON written (imports, UMI
  families, consensus, molecule counts, background, calls);
* the engine - ``count_molecules`` alone (timed inside the process, after imports);
* pysam ``count_coverage`` (quality 0) and ``pileup(max_depth=10**7)`` +
  ``get_query_sequences`` - raw base counting over the same panel, no UMI handling.

Ratios are pysam pileup time / our time (>= 1.0: at least as fast as pysam's raw pileup).
The compiled kernels are warmed (numba's on-disk cache) before timing; the one-time compile
is reported on its own line.

Note: ``pileup(max_depth=0)`` still stops at ~8,000 reads in pysam 0.24 (measured), so a
large explicit cap is passed.

Run: ``python benchmarks/bench_ngs.py`` (3 x 315 bp at 10,000x, ~125 k reads; then 4x).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pysam
from _proc import run_measured

HERE = Path(__file__).resolve()
ARGS = argparse.Namespace()  # set in __main__


def _make(
    tmp: Path, *, depth: int, n_regions: int, args: argparse.Namespace
) -> tuple[Path, Path, Path, int]:
    from kinresist.ngs import Region
    from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

    rng = np.random.default_rng(args.seed)
    gap = 500
    length = n_regions * (args.region_length + gap) + gap
    seq = "".join(rng.choice(list("ACGT"), size=length))
    fa = tmp / "ref.fa"
    fa.write_text(f">chrB\n{seq}\n")
    pysam.faidx(str(fa))
    regions = []
    bams = []
    n_reads = 0
    for i in range(n_regions):
        start = gap + i * (args.region_length + gap)
        regions.append(Region("chrB", start, start + args.region_length, f"R{i}"))
        # molecules needed for `depth` reads per base: depth * span / (read length * family size)
        span = args.region_length + args.read_length
        n_mol = int(depth * span / (args.read_length * args.family_size))
        spec = SyntheticSpec("chrB", seq, n_mol, read_length=args.read_length, family_size=args.family_size,
                             start_range=(start - args.read_length + 1, start + args.region_length - 1),
                             variant_pos=start + args.region_length // 2, variant_fraction=0.01)  # fmt: skip
        bam = tmp / f"part{i}.bam"
        n_reads += write_synthetic_bam(bam, spec, rng=rng)["reads"]
        bams.append(bam)
    merged = tmp / "panel.bam"
    pysam.merge("-f", str(merged), *map(str, bams))
    pysam.index(str(merged))
    for b in bams:
        b.unlink()
        Path(f"{b}.bai").unlink(missing_ok=True)
    bed = tmp / "panel.bed"
    bed.write_text("".join(f"{r.chrom}\t{r.start}\t{r.end}\t{r.name}\n" for r in regions))
    return merged, fa, bed, n_reads


def _regions(bed: Path) -> list[tuple[str, int, int]]:
    return [
        (c, int(s), int(e))
        for c, s, e, *_ in (ln.split("\t") for ln in bed.read_text().splitlines())
    ]


# -- measurements, each run in a child process (``--worker KIND BAM FA BED``) ---------------
def _work(kind: str, bam: str, fa: str, bed: str) -> dict:
    regions = _regions(Path(bed))
    t, c0 = time.perf_counter(), time.process_time()
    if kind == "engine":
        from kinresist.ngs import count_molecules

        t, c0 = time.perf_counter(), time.process_time()  # after the import
        mc = count_molecules(bam, regions=bed, reference=fa)
        out = {"bases": int(mc.raw.sum()), "molecules": len(mc.family_sizes),
               "median_molecule_depth": float(np.median(mc.depth)), "reads": mc.n_reads}  # fmt: skip
    elif kind == "count_coverage":
        total = 0
        with pysam.AlignmentFile(bam) as fh:
            for ch, s, e in regions:
                total += int(np.array(fh.count_coverage(ch, s, e, quality_threshold=0)).sum())
        out = {"bases": total}
    elif kind == "pileup":
        total = 0
        with pysam.AlignmentFile(bam) as fh:
            for ch, s, e in regions:
                for col in fh.pileup(ch, s, e, truncate=True, max_depth=10**7, min_base_quality=0,
                                     ignore_overlaps=False, stepper="nofilter"):  # fmt: skip
                    total += sum(Counter(b.upper() for b in col.get_query_sequences()).values())
        out = {"bases": total}
    else:
        msg = f"unknown worker {kind}"
        raise ValueError(msg)
    return {"seconds": time.perf_counter() - t, "cpu": time.process_time() - c0, **out}


def _run(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run a process: its wall and CPU seconds, its own peak RSS and stdout
    (:func:`_proc.run_measured`)."""
    rec = run_measured(argv, env=env)
    if rec["returncode"]:
        msg = f"{argv[:5]} failed ({rec['returncode']}): {rec['stderr'][-2000:]}"
        raise RuntimeError(msg)
    return {"process_seconds": rec["wall"], "process_cpu": rec["cpu"],
            "rss_mb": rec["rss_mb"], "stdout": rec["stdout"]}  # fmt: skip


def _measure(kind: str, bam: Path, fa: Path, bed: Path) -> dict:
    """One measurement in its own process (best of ``--repeat`` by wall time)."""
    argv = [sys.executable, str(HERE), "--worker", kind, str(bam), str(fa), str(bed)]
    best: dict | None = None
    for _ in range(ARGS.repeat):
        rec = _run(argv)
        rec.update(json.loads(rec.pop("stdout").strip().splitlines()[-1]))
        if best is None or rec["seconds"] < best["seconds"]:
            best = rec
    assert best is not None
    return best


def _cli(bam: Path, fa: Path, bed: Path, out: Path) -> dict:
    """``kinresist ngs call``: process start to JSON written (best of ``--repeat``)."""
    exe = Path(sys.executable).with_name("kinresist")
    argv = [str(exe), "ngs", "call", str(bam), "--regions", str(bed), "--reference", str(fa),
            "--format", "json", "--out", str(out), "--quiet"]  # fmt: skip
    best: dict | None = None
    for _ in range(ARGS.repeat):
        out.unlink(missing_ok=True)
        rec = _run(argv, {**os.environ, "KINRESIST_QUIET": "1"})
        if not out.is_file():
            msg = "kinresist ngs call wrote no output"
            raise RuntimeError(msg)
        rec["seconds"], rec["cpu"] = rec["process_seconds"], rec["process_cpu"]
        if best is None or rec["seconds"] < best["seconds"]:
            best = rec
    assert best is not None
    return best


def _warm(tmp: Path) -> float:
    """Compile (or load from numba's cache) the kernels on a tiny BAM; seconds taken."""
    args = argparse.Namespace(**{**vars(ARGS), "region_length": 120})
    bam, fa, bed, _n = _make(tmp, depth=200, n_regions=1, args=args)
    argv = [sys.executable, str(HERE), "--worker", "engine", str(bam), str(fa), str(bed)]
    return float(_run(argv)["process_seconds"])


_NAMES = {
    "cli": "kinresist ngs call (CLI start -> JSON written)",
    "engine": "engine: count_molecules (UMI+consensus+pileup)",
    "count_coverage": "pysam count_coverage (raw bases, no UMIs)",
    "pileup": "pysam pileup+get_query_sequences (raw bases)",
}


def _report(scale: int, depth: int, n_regions: int, n_written: int, res: dict) -> None:
    eng = res["engine"]
    print(f"\n{scale}x: {n_regions} x {ARGS.region_length} bp at {depth:,}x raw; {eng['reads']:,} "
          f"reads; median molecule depth {eng['median_molecule_depth']:,.0f}; "
          f"{eng['molecules']:,} families")  # fmt: skip
    print(f"   same base observations: engine raw {eng['bases']:,}, count_coverage "
          f"{res['count_coverage']['bases']:,}, pileup {res['pileup']['bases']:,}")  # fmt: skip
    print(f"   {'path':48s} {'wall s':>7s} {'CPU s':>6s} {'reads/s':>9s} {'peak RSS':>9s} "
          f"{'pileup/this':>11s} {'(CPU)':>6s}")  # fmt: skip
    pile = res["pileup"]
    for k, name in _NAMES.items():
        r = res[k]
        print(f"   {name:48s} {r['seconds']:7.2f} {r['cpu']:6.2f} {eng['reads'] / r['seconds']:9,.0f} "
              f"{r['rss_mb']:7.0f}MB {pile['seconds'] / r['seconds']:10.2f}x "
              f"{pile['cpu'] / r['cpu']:5.2f}x")  # fmt: skip
    del n_written


def main() -> None:
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        (tmp / "warm").mkdir()
        print(f"kernel warm-up (compiles once after installation, then loads from numba's "
              f"cache): {_warm(tmp / 'warm'):.1f} s (process incl. imports)")  # fmt: skip
        rows = []
        for scale in (1, ARGS.scale):
            d = tmp / f"x{scale}"
            d.mkdir()
            depth = ARGS.depth * (scale if ARGS.grow == "depth" else 1)
            n_regions = ARGS.regions * (scale if ARGS.grow == "regions" else 1)
            bam, fa, bed, n_written = _make(d, depth=depth, n_regions=n_regions, args=ARGS)
            res = {"cli": _cli(bam, fa, bed, d / "calls.json")}
            for kind in ("engine", "count_coverage", "pileup"):
                res[kind] = _measure(kind, bam, fa, bed)
            _report(scale, depth, n_regions, n_written, res)
            rows.append((res["engine"]["reads"], res))
        (n1, r1), (n4, r4) = rows
        print(f"\n{n4 / n1:.2f}x the reads ({ARGS.grow}): peak RSS engine "
              f"{r4['engine']['rss_mb'] / r1['engine']['rss_mb']:.2f}x, CLI "
              f"{r4['cli']['rss_mb'] / r1['cli']['rss_mb']:.2f}x; wall time engine "
              f"{r4['engine']['seconds'] / r1['engine']['seconds']:.2f}x, CLI "
              f"{r4['cli']['seconds'] / r1['cli']['seconds']:.2f}x")  # fmt: skip


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--depth", type=int, default=10_000)
    ap.add_argument("--regions", type=int, default=3)
    ap.add_argument("--region-length", type=int, default=315)
    ap.add_argument("--read-length", type=int, default=100)
    ap.add_argument("--family-size", type=float, default=5.0)
    ap.add_argument("--scale", type=int, default=4, help="second size, in times the reads (4)")
    ap.add_argument(
        "--grow",
        choices=("depth", "regions"),
        default="depth",
        help="how the second size grows: deeper (default) or more amplicons",
    )
    ap.add_argument("--repeat", type=int, default=1, help="best of N per measurement")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument(
        "--worker", nargs=4, metavar=("KIND", "BAM", "FA", "BED"), help=argparse.SUPPRESS
    )
    return ap.parse_args()


if __name__ == "__main__":
    ARGS = _args()
    if ARGS.worker:
        print(json.dumps(_work(*ARGS.worker)))
    else:
        main()
