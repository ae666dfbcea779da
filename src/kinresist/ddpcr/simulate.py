"""Seeded synthetic plates (two-channel droplet amplitudes with rain) for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kinresist.ddpcr.plate import Plate, WellDroplets, plate_from_wells

__all__ = ["simulate_plate", "write_plate"]

_ROWS = "ABCDEFGH"


def simulate_plate(
    *,
    rng: np.random.Generator,
    n_wells: int = 96,
    droplets: int = 20000,
    wt_copies_per_droplet: float = 0.3,
    mutant_fractions: np.ndarray | None = None,
    rain: float = 0.01,
) -> Plate:
    """A duplex plate (Ch1 = mutant FAM, Ch2 = wild type HEX) with Poisson loading.

    Parameters
    ----------
    mutant_fractions
        Per-well mutant allele fraction (default: log-spaced 0-5 %, some wells 0).
    rain
        Fraction of positive droplets whose amplitude is pulled towards the negatives.
    """
    if mutant_fractions is None:
        mutant_fractions = np.where(
            np.arange(n_wells) % 8 == 0, 0.0, np.geomspace(1e-3, 5e-2, n_wells)
        )
    wells = []
    for i in range(n_wells):
        n = int(droplets * rng.uniform(0.85, 1.1))
        lam_wt = wt_copies_per_droplet
        lam_mt = lam_wt * mutant_fractions[i] / max(1 - mutant_fractions[i], 1e-12)
        m = rng.poisson(lam_mt, n) > 0
        wt = rng.poisson(lam_wt, n) > 0
        base1, base2 = 1200 + rng.normal(0, 40), 1400 + rng.normal(0, 40)
        ch1 = rng.normal(base1, 90, n) + m * (7500 - 800 * wt) + wt * 350
        ch2 = rng.normal(base2, 100, n) + wt * (5200 - 600 * m) + m * 500
        r1 = m & (rng.random(n) < rain)
        r2 = wt & (rng.random(n) < rain)
        ch1[r1] -= rng.uniform(0, 6000, r1.sum())
        ch2[r2] -= rng.uniform(0, 4000, r2.sum())
        truth = np.select([~m & ~wt, m & ~wt, m & wt], [1, 2, 3], 4).astype(np.int8)
        well = f"{_ROWS[i % 8]}{i // 8 + 1:02d}"
        wells.append(
            WellDroplets(
                well=well, ch1=ch1, ch2=ch2, cluster=truth, source="simulated", plate_name="sim"
            )
        )
    return plate_from_wells(wells, name="sim")


def write_plate(plate: Plate, folder: Path, *, name: str = "sim plate_1") -> list[Path]:
    """Write QuantaSoft 1.7-style amplitude CSVs (``Ch1 Amplitude,Ch2 Amplitude,Cluster``, CRLF)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for w in plate.wells:
        s = plate.well_slice(w)
        p = folder / f"{name}_{w}_Amplitude.csv"
        cl = plate.cluster[s] if plate.cluster is not None else np.ones(s.stop - s.start, np.int8)
        body = "\r\n".join(
            f"{a:.4f},{b:.4f},{c}" for a, b, c in zip(plate.ch1[s], plate.ch2[s], cl, strict=True)
        )
        p.write_text("Ch1 Amplitude,Ch2 Amplitude,Cluster\r\n" + body + "\r\n", encoding="utf-8")
        paths.append(p)
    return paths
