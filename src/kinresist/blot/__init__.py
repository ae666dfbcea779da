"""Western-blot densitometry: band volumes with a named background, loading control,
phospho/total ratios, fold changes and replicate blots on the log scale.

Library first::

    from kinresist.blot import analyze_blot, read_blot_image, read_design
    images = [read_blot_image("b1_pALK.tif"), read_blot_image("b1_ALK.tif")]
    result = analyze_blot(images, read_design("design.csv"), background="lane_min_line")
    result.tables["ratios"]            # p-ALK/ALK per lane, fold change vs control lanes

Methods: docs/blot.md. Modules: :mod:`~kinresist.blot.image` (reading, polarity),
:mod:`~kinresist.blot.lanes`, :mod:`~kinresist.blot.bands`, :mod:`~kinresist.blot.background`,
:mod:`~kinresist.blot.design`, :mod:`~kinresist.blot.normalise`, :mod:`~kinresist.blot.analyze`
(entry point) with :mod:`~kinresist.blot.tables` and :mod:`~kinresist.blot.outputs`
(measurements, QC warnings), :mod:`~kinresist.blot.plots` and :mod:`~kinresist.blot.summary`
(rendering only), :mod:`~kinresist.blot.simulate` (synthetic blots), ``workflow.py`` (registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

if TYPE_CHECKING:
    from kinresist.blot.analyze import BlotResult, analyze_blot
    from kinresist.blot.background import BackgroundMethod, parse_background
    from kinresist.blot.design import BlotDesign, design_from_frame, read_design
    from kinresist.blot.image import BlotImage, image_from_array, read_blot_image
    from kinresist.blot.simulate import BandSpec, SyntheticBlot, example_blot_set, simulate_blot

_LAZY = {
    "BlotResult": "kinresist.blot.analyze",
    "analyze_blot": "kinresist.blot.analyze",
    "BackgroundMethod": "kinresist.blot.background",
    "parse_background": "kinresist.blot.background",
    "BlotDesign": "kinresist.blot.design",
    "design_from_frame": "kinresist.blot.design",
    "read_design": "kinresist.blot.design",
    "BlotImage": "kinresist.blot.image",
    "image_from_array": "kinresist.blot.image",
    "read_blot_image": "kinresist.blot.image",
    "BandSpec": "kinresist.blot.simulate",
    "SyntheticBlot": "kinresist.blot.simulate",
    "example_blot_set": "kinresist.blot.simulate",
    "simulate_blot": "kinresist.blot.simulate",
}
__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)

__all__ = [
    "BackgroundMethod",
    "BandSpec",
    "BlotDesign",
    "BlotImage",
    "BlotResult",
    "SyntheticBlot",
    "analyze_blot",
    "design_from_frame",
    "example_blot_set",
    "image_from_array",
    "parse_background",
    "read_blot_image",
    "read_design",
    "simulate_blot",
]
