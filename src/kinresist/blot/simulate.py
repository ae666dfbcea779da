"""Synthetic blots with known band volumes (the ground truth that no public blot has).

A band is a 2-D Gaussian stripe: Gaussian along the migration axis (``sigma`` rows), a plateau
across the lane with soft (error-function) edges that stay inside the lane, bowed by an optional
"smile" (band centre lower towards the blot's edges). Each band is scaled so that the sum of its
pixels equals the requested integrated intensity exactly (before background, noise, rounding
and clipping), so ``truth.volume`` is what a perfect densitometer returns.

Background = ``background`` + a linear gradient down the blot (``gradient_y`` added at the
bottom row) + a linear gradient across it (``gradient_x`` at the right edge) + an optional
smooth bump; noise is Gaussian (``noise_sd`` grey levels). Pixels are rounded to 16 bits and
clipped at ``saturation`` (default 65535), which is how imagers saturate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import erf

from kinresist.errors import InputError

__all__ = [
    "BandSpec",
    "SyntheticBlot",
    "example_blot_set",
    "simulate_blot",
    "write_blot_set",
]


@dataclass(frozen=True, slots=True)
class BandSpec:
    """One band row of a synthetic blot: position, width and per-lane integrated intensity."""

    target: str
    y: float
    sigma: float
    volumes: Sequence[float]

    def __post_init__(self) -> None:
        if self.sigma <= 0:
            msg = f"band {self.target!r}: sigma must be > 0, got {self.sigma}"
            raise InputError(msg)
        if any(v < 0 for v in self.volumes):
            msg = f"band {self.target!r}: volumes must be >= 0"
            raise InputError(msg)


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticBlot:
    """A generated blot: the 16-bit image, the lane rectangles and the true band volumes."""

    pixels: np.ndarray
    lanes: tuple[tuple[int, int], ...]
    truth: pd.DataFrame
    parameters: dict[str, object] = field(default_factory=dict)

    def write_tiff(self, path: str | PathLike[str]) -> Path:
        """Write the image as a single-page 16-bit TIFF."""
        import tifffile

        p = Path(path)
        tifffile.imwrite(p, self.pixels, photometric="minisblack")
        return p


def simulate_blot(
    bands: Sequence[BandSpec],
    *,
    rng: np.random.Generator,
    n_lanes: int | None = None,
    lane_width: int = 40,
    lane_gap: int = 14,
    margin: int = 24,
    height: int = 320,
    background: float = 3000.0,
    gradient_y: float = 4000.0,
    gradient_x: float = 1500.0,
    bump: float = 0.0,
    noise_sd: float = 40.0,
    smile: float = 0.0,
    saturation: float = 65535.0,
    dark_bands: bool = False,
) -> SyntheticBlot:
    """Generate one blot image with known band volumes.

    Parameters
    ----------
    bands
        Band rows; ``volumes[i]`` is the integrated intensity (sum of pixels above background)
        of the band in lane ``i + 1``.
    rng
        Random generator (noise); the image is deterministic for a seeded generator.
    lane_width, lane_gap, margin
        Lane geometry in pixels (lanes are equal; first lane starts at ``margin``).
    gradient_y, gradient_x
        Linear background rise (grey levels) from the top to the bottom row / left to right.
    bump
        Height of a smooth Gaussian background bump centred on the blot (non-linear
        background; 0 = none).
    smile
        Downward shift (rows) of band centres at the blot's left/right edges relative to
        its centre (quadratic across the width).
    saturation
        Clip level of the 16-bit image (an imager saturates at its full well / ADC maximum).
    dark_bands
        Write ``65535 - signal`` (dark bands on a light background, as scanned film).
    """
    if not bands:
        msg = "simulate_blot needs at least one BandSpec"
        raise InputError(msg)
    n = n_lanes if n_lanes is not None else len(bands[0].volumes)
    for b in bands:
        if len(b.volumes) != n:
            msg = f"band {b.target!r} gives {len(b.volumes)} volumes for {n} lanes"
            raise InputError(msg)
    width = 2 * margin + n * lane_width + (n - 1) * lane_gap
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    bg = background + gradient_y * yy / (height - 1) + gradient_x * xx / (width - 1)
    if bump:
        bg += bump * np.exp(
            -0.5 * (((yy - height / 2) / (height / 4)) ** 2 + ((xx - width / 2) / (width / 3)) ** 2)
        )
    signal = np.zeros((height, width))
    lanes: list[tuple[int, int]] = []
    rows: list[dict[str, object]] = []
    u = (xx - (width - 1) / 2) / ((width - 1) / 2)
    for i in range(n):
        x0 = margin + i * (lane_width + lane_gap)
        x1 = x0 + lane_width
        lanes.append((x0, x1))
        soft = 1.2
        across = 0.5 * (erf((xx - (x0 + 3.0)) / soft) - erf((xx - (x1 - 4.0)) / soft))
        across[:, :x0] = 0.0
        across[:, x1:] = 0.0
        for k, b in enumerate(bands):
            vol = float(b.volumes[i])
            centre = b.y + smile * u**2
            shape = across * np.exp(-0.5 * ((yy - centre) / b.sigma) ** 2)
            total = float(shape.sum())
            if vol > 0 and total > 0:
                signal += shape * (vol / total)
            peak = vol / total * float(shape.max()) if total > 0 else 0.0
            rows.append(
                {
                    "lane": i + 1,
                    "band": k + 1,
                    "target": b.target,
                    "y": b.y,
                    "sigma": b.sigma,
                    "volume": vol,
                    "peak_height": peak,
                    "x0": x0,
                    "x1": x1,
                }
            )
    img = bg + signal + rng.normal(0.0, noise_sd, size=signal.shape)
    level = min(saturation, 65535.0)
    img = np.clip(np.rint(img), 0, level)
    clipped = img >= level
    if dark_bands:
        img = 65535.0 - img
    truth = pd.DataFrame(rows)
    reach = 3.0 + abs(smile)
    truth["saturated"] = [
        bool(
            clipped[
                max(0, int(r.y - 3 * r.sigma - reach)) : int(r.y + 3 * r.sigma + reach) + 1,
                r.x0 : r.x1,
            ].any()
        )
        for r in truth.itertuples()
    ]
    params: dict[str, object] = {
        "lane_width": lane_width,
        "lane_gap": lane_gap,
        "margin": margin,
        "height": height,
        "background": background,
        "gradient_y": gradient_y,
        "gradient_x": gradient_x,
        "bump": bump,
        "noise_sd": noise_sd,
        "smile": smile,
        "saturation": saturation,
        "dark_bands": dark_bands,
    }
    return SyntheticBlot(
        pixels=img.astype(np.uint16), lanes=tuple(lanes), truth=truth, parameters=params
    )


# -- a complete example experiment (used by tests, `blot simulate` and the demo) ---------------

#: Crizotinib dose series of the example (nM); dose 0 is the DMSO control.
EXAMPLE_DOSES: tuple[float, ...] = (0.0, 10.0, 30.0, 100.0, 300.0, 1000.0)


def _example_truth(dose: float, ic50: float = 60.0) -> float:
    """True p-ALK/ALK fold change at ``dose`` (a Hill curve, floor 5 %)."""
    return 0.05 + 0.95 / (1.0 + (dose / ic50) ** 1.2)


def example_blot_set(
    *,
    rng: np.random.Generator,
    n_blots: int = 3,
    cell_line: str = "H3122",
    noise_sd: float = 40.0,
    saturate_top: bool = False,
) -> tuple[dict[str, SyntheticBlot], pd.DataFrame, pd.DataFrame]:
    """A crizotinib dose series on ``n_blots`` replicate blots, p-ALK and ALK on separate membranes.

    Each blot has two membranes (images): ``blot<k>_pALK`` (p-ALK at ~180 rows, GAPDH at ~250)
    and ``blot<k>_ALK`` (ALK, GAPDH). Lane loading differs between lanes and membranes
    (0.7-1.3x), which the loading control must remove.

    Returns
    -------
    images
        ``{file name: SyntheticBlot}``.
    design
        The design table (``image, blot, membrane, lane, sample, cell_line, treatment, dose,
        dose_unit, target, role, window``) as a user would write it.
    truth
        One row per blot x lane: true p-ALK/ALK ratio and fold change vs DMSO.
    """
    images: dict[str, SyntheticBlot] = {}
    design_rows: list[dict[str, object]] = []
    truth_rows: list[dict[str, object]] = []
    n = len(EXAMPLE_DOSES)
    for k in range(1, n_blots + 1):
        total_alk = rng.uniform(0.8, 1.2, n) * 4.0e6
        biological = np.exp(rng.normal(0.0, 0.08, n))  # replicate-to-replicate variation
        fc = np.array([_example_truth(d) for d in EXAMPLE_DOSES]) * biological
        fc = fc / fc[0]
        phospho_fraction = 0.6 * fc
        for membrane, target in (("pALK", "p-ALK"), ("ALK", "ALK")):
            load = rng.uniform(0.7, 1.3, n)
            main = total_alk * load * (phospho_fraction if target == "p-ALK" else 1.0)
            if saturate_top and target == "ALK":
                main = main * 6.0
            gapdh = 5.0e6 * load
            blot = simulate_blot(
                [
                    BandSpec(target, 110.0, 5.0, list(main)),
                    BandSpec("GAPDH", 240.0, 4.0, list(gapdh)),
                ],
                rng=rng,
                noise_sd=noise_sd,
                smile=2.0,
            )
            name = f"blot{k}_{membrane}.tif"
            images[name] = blot
            for lane, dose in enumerate(EXAMPLE_DOSES, start=1):
                common = {
                    "image": name,
                    "blot": f"B{k}",
                    "membrane": f"B{k}-{membrane}",
                    "lane": lane,
                    "sample": f"{cell_line}_criz_{dose:g}nM",
                    "cell_line": cell_line,
                    "treatment": "DMSO" if dose == 0 else "crizotinib",
                    "dose": dose,
                    "dose_unit": "nM",
                }
                design_rows.append(
                    {**common, "target": target, "role": "target", "window": "70-150"}
                )
                design_rows.append(
                    {**common, "target": "GAPDH", "role": "loading_control", "window": "205-275"}
                )
        for lane, dose in enumerate(EXAMPLE_DOSES, start=1):
            truth_rows.append(
                {
                    "blot": f"B{k}",
                    "lane": lane,
                    "dose": dose,
                    "ratio": float(phospho_fraction[lane - 1]),
                    "fold_change": float(fc[lane - 1]),
                }
            )
    return images, pd.DataFrame(design_rows), pd.DataFrame(truth_rows)


def write_blot_set(
    images: dict[str, SyntheticBlot], design: pd.DataFrame, folder: str | PathLike[str]
) -> tuple[list[Path], Path]:
    """Write the images (16-bit TIFF) and ``design.csv`` into ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = [blot.write_tiff(out / name) for name, blot in images.items()]
    design_path = out / "design.csv"
    design.to_csv(design_path, index=False)
    return paths, design_path
