"""Lane percentages against ImageJ's gel analyser on the same 16-bit TIFF (frozen reference).

Reference: Debian ``imagej`` 1.53t (``/usr/share/java/ij.jar``), run under a virtual display
(``xvfb-run -a -s "-screen 0 1280x1024x24" java -jar /usr/share/java/ij.jar -batch x.ijm``;
about 3 s; the gel analyser draws its plots in a window, so plain ``-Djava.awt.headless=true``
fails in ``IJ.init``). The TIFF is the generator's blot below (seed 2026), written with
``SyntheticBlot.write_tiff``; pixel SHA-256 prefix ``a4c43aeb4284e552``. The macro::

    open("xcheck.tif");
    run("Gel Analyzer Options...", "vertical=1 horizontal=1 label");  // peaks not inverted
    makeRectangle(24, 0, 40, getHeight());  run("Select First Lane");
    makeRectangle(78, 0, 40, getHeight());  run("Select Next Lane");   // ... 132, 186, 240, 294
    run("Plot Lanes");                                                 // 650 x 1968 plot
    setColor(0); setLineWidth(1);
    drawLine(254,231,360,185);   drawLine(254,548,360,502);   drawLine(254,865,360,819);
    drawLine(254,1182,360,1136); drawLine(254,1499,355,1455); drawLine(254,1816,353,1773);
    doWand(305,112); a = getValue("Area"); p = getValue("Perim."); print(a + p/2);  // etc.

The straight baselines were drawn, as a user does, from valley to valley: between kinresist's
flanking minima (rows 125 to 177/177/177/177/175/174 of lanes 1-6), mapped onto ImageJ's plot
canvas (x = row * 650/320, y = lane base - (profile - min) * 325/(max - min), ImageJ's own
``plotLanes`` scaling). Area = wand pixel count + perimeter/2 (``PlotsCanvas.mousePressed``).
ImageJ printed 5950.66 4755.12 3567.00 2372.18 1182.45 591.84 (plot-canvas pixels; only the
percentages mean anything, spec §6): 32.307 25.816 19.366 12.879 6.420 3.213 %.

Tolerance: 0.15 percentage points per lane (the canvas quantises the curve to whole pixels:
the weakest peak is ~590 canvas pixels, so one pixel row is ~0.1 % of it); measured largest
difference 0.034 points. Truth: 32.258 25.806 19.355 12.903 6.452 3.226 %.
"""

from __future__ import annotations

import hashlib

import numpy as np

from kinresist.blot import BandSpec, analyze_blot, image_from_array, simulate_blot

IMAGEJ_AREAS = np.array([5950.66, 4755.12, 3567.00, 2372.18, 1182.45, 591.84])
TRUTH = np.array([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])


def test_lane_percentages_match_imagej_gel_analyser():
    blot = simulate_blot(
        [BandSpec("X", 150.0, 6.0, list(TRUTH * 3.3e6))],
        rng=np.random.default_rng(2026),
        gradient_y=8000.0,
        gradient_x=1500.0,
        noise_sd=40.0,
    )
    assert hashlib.sha256(blot.pixels.tobytes()).hexdigest()[:16] == "a4c43aeb4284e552"
    lanes = ",".join(f"{a}-{b}" for a, b in blot.lanes)
    assert lanes == "24-64,78-118,132-172,186-226,240-280,294-334"
    res = analyze_blot([image_from_array(blot.pixels, name="xcheck.tif")], lane_boundaries=lanes)
    bands = res.tables["bands"].sort_values("lane")
    # the valleys the ImageJ baselines were drawn between (regenerate the reference if the
    # minima search changes)
    assert list(bands["y_start"]) == [125] * 6
    assert list(bands["y_end"]) == [177, 177, 177, 177, 175, 174]
    imagej = 100 * IMAGEJ_AREAS / IMAGEJ_AREAS.sum()
    ours = bands["percent_of_total"].to_numpy()
    np.testing.assert_allclose(ours, imagej, atol=0.15)
    np.testing.assert_allclose(ours, 100 * TRUTH / TRUTH.sum(), atol=0.15)
