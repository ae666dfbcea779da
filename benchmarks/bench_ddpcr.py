"""Benchmark: a full 96-well duplex plate (~2 million droplets, seeded) gated and quantified.

Run: ``.venv/bin/python benchmarks/bench_ddpcr.py [--repeats 3] [--droplets 21000]``.
Prints seconds and droplets/s for kinresist's vectorised pipeline (automatic gating + counts +
QuantaSoft-exact quantification + calls), and, in the same process, for two reference points:
the manual-threshold crosshair (lower bound: counting only) and a per-well Python loop doing the
same histogram gating well by well (the straightforward non-vectorised design). Target: < 2 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from kinresist.ddpcr.analyze import analyze_plate
from kinresist.ddpcr.gating import gate_plate
from kinresist.ddpcr.plate import plate_from_wells
from kinresist.ddpcr.simulate import simulate_plate


def _per_well_loop(plate):  # the non-vectorised peer: gate each well as its own plate
    from kinresist.ddpcr.plate import WellDroplets

    for w in plate.wells:
        s = plate.well_slice(w)
        one = plate_from_wells([WellDroplets(w, plate.ch1[s], plate.ch2[s], None, "bench")])
        gate_plate(one)


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--droplets", type=int, default=21000, help="mean droplets per well")
    ap.add_argument("--with-io", action="store_true", help="also time reading the 96 CSV exports")
    args = ap.parse_args()
    plate = simulate_plate(rng=np.random.default_rng(20240415), droplets=args.droplets)
    n = plate.n_droplets
    full = _best(lambda: analyze_plate(plate), args.repeats)
    manual = _best(
        lambda: analyze_plate(plate, thresholds={"ch1": 5000, "ch2": 4000}), args.repeats
    )
    loop = _best(lambda: _per_well_loop(plate), 1)
    agree = analyze_plate(plate).agreement["agreement"]
    print(f"plate: 96 wells, {n:,} droplets (seeded synthetic, rain 1 %)")
    print(
        f"kinresist auto gating + quantification: {full:.3f} s  ({n / full:,.0f} droplets/s)  target < 2 s"
    )
    print(f"manual crosshair + quantification:      {manual:.3f} s  ({n / manual:,.0f} droplets/s)")
    print(f"per-well Python loop (gating only):     {loop:.3f} s  ({n / loop:,.0f} droplets/s)")
    print(f"ratio per-well loop / vectorised: {loop / full:.1f}x")
    print(
        f"gating agreement with simulated truth: min {agree.min():.4f}, median {agree.median():.4f}"
    )
    if args.with_io:
        import tempfile
        from pathlib import Path

        from kinresist.ddpcr.read_amplitude import load_plate
        from kinresist.ddpcr.simulate import write_plate

        with tempfile.TemporaryDirectory() as tmp:
            write_plate(plate, Path(tmp))
            read = _best(lambda: load_plate(tmp), 1)
        print(f"reading 96 amplitude CSVs:              {read:.3f} s  ({n / read:,.0f} droplets/s)")


if __name__ == "__main__":
    main()
