"""Seeded synthetic combination screens (SynergyFinder long tables) for the streaming tests.

LL.4 single agents, a Bliss surface with a block-specific interaction and Gaussian noise, as
``benchmarks/bench_synergy.py`` generates them; ``odd`` blocks of another shape (6x5) and a
few blocks with flat or step-like single agents make the engine's flags appear.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def screen_frame(n_blocks: int, *, seed: int = 7, odd_every: int = 0) -> pd.DataFrame:
    """One row per well: block_id, drug_row, drug_col, conc_r, conc_c, response (% viability)."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n_blocks):
        n1, n2 = (6, 5) if odd_every and b % odd_every == odd_every - 1 else (8, 8)
        c1 = np.r_[0.0, np.geomspace(0.01, 10.0, n1 - 1) * 10 ** rng.uniform(-1, 1)]
        c2 = np.r_[0.0, np.geomspace(0.01, 10.0, n2 - 1) * 10 ** rng.uniform(-1, 1)]

        def ll4(x: np.ndarray, e: float, h: float, top: float) -> np.ndarray:
            return top * (x / e) ** h / (1.0 + (x / e) ** h)

        y1 = ll4(c1, np.median(c1[1:]) * 10 ** rng.uniform(-1, 1), rng.uniform(0.7, 2.5), 90.0)
        y2 = ll4(c2, np.median(c2[1:]) * 10 ** rng.uniform(-1, 1), rng.uniform(0.7, 2.5), 80.0)
        if b % 11 == 5:
            y1 = np.where(c1 > c1[n1 // 2], 95.0, 0.0)  # a step: flagged single agent
        if b % 13 == 7:
            y2 = np.zeros_like(c2)  # a flat single agent
        bliss = y1[:, None] + y2[None, :] - y1[:, None] * y2[None, :] / 100
        inh = bliss + rng.uniform(-15, 25) * np.outer(y1, y2) / 1e4 + rng.normal(0, 3, (n1, n2))
        order = rng.permutation(n1 * n2) if b % 3 == 0 else np.arange(n1 * n2)  # rows in any order
        for cell in order:
            i, j = divmod(int(cell), n2)
            rows.append((f"B{b:05d}", f"D{b % 17}", f"E{b % 19}", c1[i], c2[j], 100 - inh[i, j]))
    return pd.DataFrame(
        rows, columns=["block_id", "drug_row", "drug_col", "conc_r", "conc_c", "response"]
    )


def write_screen(path: Path, n_blocks: int, *, seed: int = 7, odd_every: int = 0) -> Path:
    """Write :func:`screen_frame` as CSV/TSV (by suffix) or Parquet."""
    frame = screen_frame(n_blocks, seed=seed, odd_every=odd_every)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if path.suffix == ".tsv" else ",")
    return path
