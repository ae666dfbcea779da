"""Densitometry against ground truth: synthetic blots with known band volumes (spec §6).

No public blot with a ground truth exists, so the reference is the generator
(:func:`kinresist.blot.simulate_blot`): Gaussian bands whose pixel sums equal the requested
volume exactly, on a background with a linear gradient down and across the blot, Gaussian
pixel noise (SD 40 grey levels), a smile, 16-bit rounding and clipping at 65535.

Tolerances (issue 16 / spec §6):

* relative band volumes (each / the strongest band) within 5 % of truth for every band whose
  pixel amplitude is > 10x the noise SD, gradient background on (lane_min_line, 3 seeds);
* a 2-fold dilution series is linear (R² >= 0.98 of volume on load) over the unflagged bands,
  and every band with clipped pixels is flagged ``saturated``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skimage.restoration import rolling_ball

from kinresist.blot import (
    BandSpec,
    analyze_blot,
    design_from_frame,
    image_from_array,
    simulate_blot,
)
from kinresist.errors import DataQualityWarning

NOISE = 40.0
#: Relative truth per lane: amplitudes ~105x ... 10.6x noise, then 5x and 2.6x (flag checks).
RELATIVE = np.array([1.0, 0.6, 0.4, 0.25, 0.15, 0.1, 0.05, 0.025])
TOP = 2.1e6


def _lanes(blot) -> str:
    """The generator's lane rectangles as ``--lane-boundaries`` (weak end lanes cannot be
    detected: a lane without a band is invisible, and lanes are only filled between bands)."""
    return ",".join(f"{a}-{b}" for a, b in blot.lanes)


def _blot(seed: int, **kw):
    opts = {"gradient_y": 6000.0, "gradient_x": 2000.0, "smile": 3.0, "noise_sd": NOISE}
    opts.update(kw)
    return simulate_blot(
        [BandSpec("X", 140.0, 6.0, list(RELATIVE * TOP))], rng=np.random.default_rng(seed), **opts
    )


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_relative_volumes_within_5_percent_above_10x_noise(seed, bands_of):
    blot = _blot(seed)
    strong = (blot.truth["peak_height"] > 10 * NOISE).to_numpy()
    assert strong.sum() == 6  # the phantom has six bands above 10x noise
    bands = bands_of(blot, lane_boundaries=_lanes(blot))
    rel = bands["volume"].to_numpy() / bands["volume"].iloc[0]
    err = rel[strong] / RELATIVE[strong] - 1
    assert np.abs(err).max() < 0.05, err
    # absolute volumes too: the straight baseline leaves the gradient out entirely
    np.testing.assert_allclose(
        bands["volume"].to_numpy()[strong], blot.truth["volume"].to_numpy()[strong], rtol=0.05
    )
    # flags: the two weakest bands (5x, 2.6x noise) are outside the validated range
    flags = bands["flags"].str.split(";")
    assert all("low_signal" not in f and "not_detected" not in f for f in flags[strong])
    assert all(("low_signal" in f) or ("not_detected" in f) for f in flags[~strong])


def test_spec_phantom_straight_baseline(six_band_gradient, bands_of):
    """Spec §6 measured the straight baseline at 0.793/0.600/0.395/0.199/0.112 for truth
    0.8/0.6/0.4/0.2/0.1 on its phantom; ours must do at least as well (within 5 %)."""
    for seed in (1, 2, 3):
        blot, truth = six_band_gradient(seed)
        vol = bands_of(blot)["volume"].to_numpy()
        np.testing.assert_allclose(vol / vol[0], truth, rtol=0.05)


def test_naive_skimage_rolling_ball_is_the_measured_pitfall(six_band_gradient, bands_of):
    """Why ``rolling_ball`` is not skimage's: on the spec phantom the naive call (radius in
    16-bit grey levels, the ball's apex = an erosion) compresses the relative volumes (spec:
    0.909...0.587 for truth 0.8...0.1); the scaled opening of kinresist does not."""
    blot, truth = six_band_gradient(1)
    img = blot.pixels.astype(float)
    naive = []
    for x0, x1 in blot.lanes:
        prof = img[:, x0:x1].mean(axis=1)
        naive.append((prof - rolling_ball(prof, radius=50))[110:190].sum())
    naive_rel = np.array(naive) / naive[0]
    assert naive_rel[-1] > 0.4  # truth 0.1: a four-fold error
    ours = bands_of(blot, background="rolling_ball(50)")["volume"].to_numpy()
    ours_rel = ours / ours[0]
    assert np.abs(ours_rel - truth).max() < 0.1
    assert np.abs(ours_rel - truth)[-1] < 0.25 * np.abs(naive_rel - truth)[-1]


@pytest.mark.parametrize("seed", [21, 22])
def test_rolling_ball_on_gentle_gradient_within_5_percent(seed, bands_of):
    """rolling_ball(150) (25x the band SD) on a gentle gradient (1000 grey levels over the
    blot): within 5 % for every band > 10x noise. Smaller balls dome into weak bands
    (radius 60: -10 %, docs/blot.md); a radius smaller than the band is flagged."""
    blot = _blot(seed, gradient_y=1000.0, gradient_x=300.0)
    bands = bands_of(blot, background="rolling_ball(150)", lane_boundaries=_lanes(blot))
    rel = bands["volume"].to_numpy() / bands["volume"].iloc[0]
    keep = (blot.truth["peak_height"] > 10 * NOISE).to_numpy()
    np.testing.assert_allclose(rel[keep], RELATIVE[keep], rtol=0.05)
    with pytest.warns(DataQualityWarning, match="rolling-ball radius"):
        small = bands_of(blot, background="rolling_ball(5)", lane_boundaries=_lanes(blot))
    assert small["flags"].str.contains("rolling_ball_radius_small").all()


def test_border_and_user_region_on_flat_background(bands_of):
    """Constant-background methods are unbiased on a flat background (within 5 % above 10x
    noise; border_median needs strips of ~10 rows for that: with 3 rows its SD at 10x noise is
    2.8 %, docs/blot.md) and biased by a gradient, which is why lane_min_line is the default."""
    flat = _blot(31, gradient_y=0.0, gradient_x=0.0)
    strong = (flat.truth["peak_height"] > 10 * NOISE).to_numpy()
    for method in ("border_median(10)", "user_region(0,0,20,300)"):
        vol = bands_of(flat, background=method, lane_boundaries=_lanes(flat))["volume"].to_numpy()
        np.testing.assert_allclose(vol[strong], flat.truth["volume"].to_numpy()[strong], rtol=0.05)
    steep = _blot(31)
    vol = bands_of(steep, background="user_region(0,0,20,300)", lane_boundaries=_lanes(steep))[
        "volume"
    ].to_numpy()
    assert abs(vol[5] / steep.truth["volume"].iloc[5] - 1) > 0.5


def test_dark_band_image_gives_the_same_volumes(bands_of):
    blot = _blot(41)
    dark = _blot(41, dark_bands=True)
    assert dark.pixels.mean() > blot.pixels.mean()  # light background, dark bands
    a = bands_of(blot, lane_boundaries=_lanes(blot))
    res = analyze_blot(
        [image_from_array(dark.pixels, name="sim.tif")], lane_boundaries=_lanes(blot)
    )
    assert res.body["images"][0]["polarity"].startswith("dark_bands")
    b = res.tables["bands"].sort_values("lane")
    np.testing.assert_allclose(b["volume"].to_numpy(), a["volume"].to_numpy(), rtol=1e-9)


def test_dilution_series_linear_until_saturation_which_is_flagged():
    """2-fold series over 10 lanes (load 0.125 ... 64 units); the top lanes clip at 65535."""
    loads = 0.125 * 2.0 ** np.arange(10)
    blot = simulate_blot(
        [BandSpec("ALK", 150.0, 6.0, list(loads * 1.0e6))],
        rng=np.random.default_rng(51),
        gradient_y=3000.0,
        noise_sd=NOISE,
    )
    assert blot.truth["saturated"].sum() >= 2  # the phantom really saturates
    design = design_from_frame(
        pd.DataFrame(
            {
                "lane": range(1, 11),
                "sample": [f"d{k}" for k in range(10)],
                "target": "ALK",
                "load": loads,
                "window": "110-190",
            }
        ),
        default_image="sim.tif",
    )
    with pytest.warns(DataQualityWarning) as caught:
        res = analyze_blot(
            [image_from_array(blot.pixels, name="sim.tif")], design, lane_boundaries=_lanes(blot)
        )
    assert any("saturated pixels" in str(w.message) for w in caught)
    bands = res.tables["bands"].sort_values("lane")
    flags = bands["flags"].str.split(";")
    sat = np.array(["saturated" in f for f in flags])
    np.testing.assert_array_equal(sat, blot.truth["saturated"].to_numpy())
    usable = np.array(
        [not ({"saturated", "near_saturation", "low_signal"} & set(f)) for f in flags]
    )
    x, y = loads[usable], bands["volume"].to_numpy()[usable]
    r2 = np.corrcoef(x, y)[0, 1] ** 2
    assert usable.sum() >= 6
    assert r2 >= 0.98
    # saturated bands fall below the line (that is why they are flagged); the most clipped
    # one by far
    slope = (x * y).sum() / (x * x).sum()
    recovery = bands["volume"].to_numpy()[sat] / (slope * loads[sat])
    assert np.all(recovery < 1.0)
    assert recovery.min() < 0.8
    lin = res.tables["linearity"].iloc[0]
    assert lin["r_squared"] >= 0.98
    assert lin["n_used"] == usable.sum()
    assert abs(lin["loglog_slope"] - 1) < 0.05
    assert res.body["qc"]["saturated"] == sat.sum()


def test_lane_detection_finds_blank_lanes_between_bands():
    vols = [3e6, 2e6, 0.0, 1e6, 5e5, 0.0, 4e5, 1e6]
    blot = simulate_blot([BandSpec("X", 100.0, 5.0, vols)], rng=np.random.default_rng(61))
    with pytest.warns(DataQualityWarning, match="lane pitch"):
        res = analyze_blot([image_from_array(blot.pixels, name="sim.tif")])
    lanes = res.tables["lanes"]
    assert len(lanes) == 8
    centres = (lanes["x0"] + lanes["x1"]) / 2
    truth = np.array([(a + b) / 2 for a, b in blot.lanes])
    assert np.abs(centres.to_numpy() - truth).max() <= 2.5
    assert set(lanes.loc[lanes["flags"].str.contains("filled_at_pitch"), "lane"]) == {3, 6}
    assert (
        res.body["images"][0]["lanes"]["width_min"] == res.body["images"][0]["lanes"]["width_max"]
    )
