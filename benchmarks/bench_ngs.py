"""Benchmark: UMI group + consensus + molecule pileup vs pysam pileup counting, same BAM, same run.

A synthetic panel (``--regions`` intervals of ``--region-length`` bp on a random contig) is
covered at ``--depth`` raw reads per base by UMI families (Poisson ``--family-size``), written
with pysam. Timed on that BAM:

* kinresist ``count_molecules`` (read iteration + numpy CIGAR walk, directional UMI grouping,
  likelihood consensus, molecule counting) -> reads/s and molecules/s;
* pysam ``count_coverage`` (quality 0) and ``pileup(max_depth=10**7)`` + ``get_query_sequences``
  (base counting only, no UMI handling) -> reads/s over the same panel.

Note: ``pileup(max_depth=0)`` still stops at ~8,000 reads in pysam 0.24 (measured here), so a
large explicit cap is passed.

Run: ``python benchmarks/bench_ngs.py`` (defaults: 3 x 315 bp at 10,000x, ~95 k reads).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pysam

from kinresist.ngs import MoleculeCounts, Region, count_molecules
from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam


def _make(tmp: Path, args: argparse.Namespace) -> tuple[Path, Path, list[Region], int]:
    rng = np.random.default_rng(args.seed)
    gap = 500
    length = args.regions * (args.region_length + gap) + gap
    seq = "".join(rng.choice(list("ACGT"), size=length))
    fa = tmp / "ref.fa"
    fa.write_text(f">chrB\n{seq}\n")
    pysam.faidx(str(fa))
    regions = []
    bams = []
    n_reads = 0
    for i in range(args.regions):
        start = gap + i * (args.region_length + gap)
        regions.append(Region("chrB", start, start + args.region_length, f"R{i}"))
        # molecules needed for `depth` reads per base: depth * span / (read length * family size)
        span = args.region_length + args.read_length
        n_mol = int(args.depth * span / (args.read_length * args.family_size))
        spec = SyntheticSpec("chrB", seq, n_mol, read_length=args.read_length, family_size=args.family_size,
                             start_range=(start - args.read_length + 1, start + args.region_length - 1),
                             variant_pos=start + args.region_length // 2, variant_fraction=0.01)  # fmt: skip
        bam = tmp / f"part{i}.bam"
        n_reads += write_synthetic_bam(bam, spec, rng=rng)["reads"]
        bams.append(bam)
    merged = tmp / "panel.bam"
    pysam.merge("-f", str(merged), *map(str, bams))
    pysam.index(str(merged))
    return merged, fa, regions, n_reads


def _reads_in(bam: Path, regions: list[Region]) -> int:
    with pysam.AlignmentFile(str(bam)) as fh:
        return sum(fh.count(r.chrom, r.start, r.end) for r in regions)


def _pysam_count_coverage(bam: Path, regions: list[Region]) -> int:
    total = 0
    with pysam.AlignmentFile(str(bam)) as fh:
        for r in regions:
            total += int(
                np.array(fh.count_coverage(r.chrom, r.start, r.end, quality_threshold=0)).sum()
            )
    return total


def _pysam_pileup(bam: Path, regions: list[Region]) -> int:
    total = 0
    with pysam.AlignmentFile(str(bam)) as fh:
        for r in regions:
            for col in fh.pileup(r.chrom, r.start, r.end, truncate=True, max_depth=10**7, min_base_quality=0,
                                 ignore_overlaps=False, stepper="nofilter"):  # fmt: skip
                total += sum(Counter(s.upper() for s in col.get_query_sequences()).values())
    return total


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--depth", type=int, default=10_000)
    ap.add_argument("--regions", type=int, default=3)
    ap.add_argument("--region-length", type=int, default=315)
    ap.add_argument("--read-length", type=int, default=100)
    ap.add_argument("--family-size", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        t0 = time.perf_counter()
        bam, fa, regions, n_written = _make(tmp, args)
        t_make = time.perf_counter() - t0
        reads = _reads_in(bam, regions)
        timings: dict[str, float] = {}
        results: dict[str, MoleculeCounts | int] = {}
        for name, fn in (
            (
                "kinresist count_molecules",
                lambda: count_molecules(bam, regions=regions, reference=fa),
            ),
            ("pysam count_coverage", lambda: _pysam_count_coverage(bam, regions)),
            ("pysam pileup+get_query_sequences", lambda: _pysam_pileup(bam, regions)),
        ):
            best = float("inf")
            for _ in range(args.repeat):
                t = time.perf_counter()
                results[name] = fn()
                best = min(best, time.perf_counter() - t)
            timings[name] = best
        mc = results["kinresist count_molecules"]
        assert isinstance(mc, MoleculeCounts)
        molecules = len(mc.family_sizes)
        depth_raw = mc.raw.sum(axis=1)
        print(f"panel: {args.regions} x {args.region_length} bp; {reads:,} reads overlapping "
              f"(written {n_written:,} in {t_make:.1f} s); median raw depth {np.median(depth_raw):,.0f}x; "
              f"median molecule depth {np.median(mc.depth):,.0f}; families {molecules:,}")  # fmt: skip
        print(
            f"{'method':36s} {'seconds':>8s} {'reads/s':>12s} {'molecules/s':>12s} {'vs kinresist':>12s}"
        )
        base = timings["kinresist count_molecules"]
        for name, sec in timings.items():
            mol = f"{molecules / sec:12,.0f}" if name.startswith("kinresist") else f"{'-':>12s}"
            print(f"{name:36s} {sec:8.2f} {reads / sec:12,.0f} {mol} {sec / base:11.2f}x")
        cov = results["pysam count_coverage"]
        print(f"check: base observations kinresist raw {int(depth_raw.sum()):,} vs pysam count_coverage {cov:,} "
              f"vs pileup {results['pysam pileup+get_query_sequences']:,}")  # fmt: skip


if __name__ == "__main__":
    main()
