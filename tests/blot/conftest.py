"""Helpers of the blot tests: synthetic blots analysed without files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinresist.blot import BandSpec, analyze_blot, image_from_array, simulate_blot


def _bands_of(blot, **kw) -> pd.DataFrame:
    res = analyze_blot([image_from_array(blot.pixels, name="sim.tif")], **kw)
    return res.tables["bands"].sort_values(["window_start", "lane"]).reset_index(drop=True)


@pytest.fixture
def bands_of():
    """Analyse a SyntheticBlot without a design; the ``bands`` table sorted by window, lane."""
    return _bands_of


@pytest.fixture
def six_band_gradient():
    """The spec §6 phantom: one band per lane, truth 1, .8, .6, .4, .2, .1, steep gradient."""

    def make(seed: int, **kw):
        truth = np.array([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])
        opts = {"gradient_y": 8000.0, "gradient_x": 1500.0, "smile": 3.0, "noise_sd": 40.0}
        opts.update(kw)
        blot = simulate_blot(
            [BandSpec("X", 150.0, 6.0, list(truth * 3.3e6))],
            rng=np.random.default_rng(seed),
            **opts,
        )
        return blot, truth

    return make
