"""Registry declarations of the western-blot workflows (``kinresist blot ...``).

Cheap to import: the engine is imported inside each run function.
"""

from __future__ import annotations

from pathlib import Path

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS", "run_analyze", "run_simulate"]

GROUP_HELP = {
    "blot": "Western-blot densitometry: band volumes, loading control, phospho/total ratios."
}


def run_analyze(
    images: list[Path],
    *,
    design: Path | None = None,
    background: str = "lane_min_line",
    background_region: str | None = None,
    lanes: int | None = None,
    lane_boundaries: str | None = None,
    ladder: str | None = None,
    ratios: str | None = None,
    aggregate: str = "log_t",
    confidence: float = 0.95,
    polarity: str = "auto",
    saturation: float | None = None,
) -> Result:
    """Quantify blot images against a design file (``blot.analyze``)."""
    from kinresist.blot.analyze import analyze_blot
    from kinresist.blot.design import read_design
    from kinresist.blot.image import read_blot_image
    from kinresist.errors import InputError

    if aggregate not in ("log_t", "mixed"):
        msg = f"--aggregate {aggregate!r}; expected log_t or mixed"
        raise InputError(msg)
    if polarity not in ("auto", "bright_bands", "dark_bands"):
        msg = f"--polarity {polarity!r}; expected auto, bright_bands or dark_bands"
        raise InputError(msg)
    paths = [Path(p) for p in images]
    names = [p.name for p in paths]
    if len(set(names)) != len(names):
        msg = f"two images share a file name ({', '.join(names)}); the design refers to images by name"
        raise InputError(msg)
    loaded = [
        read_blot_image(p, polarity=polarity, saturation_value=saturation)  # type: ignore[arg-type]
        for p in paths
    ]
    des = read_design(design) if design is not None else None
    inputs: dict[str, Path] = {p.name: p for p in paths}
    if design is not None:
        inputs[f"design:{Path(design).name}"] = Path(design)
    return analyze_blot(
        loaded,
        des,
        background=background,
        background_region=background_region,
        n_lanes=lanes,
        lane_boundaries=lane_boundaries,
        ladder=ladder,
        ratios=ratios,
        aggregate=aggregate,  # type: ignore[arg-type]
        confidence=confidence,
        inputs=inputs,
    )


def run_simulate(
    *,
    write_to: Path,
    blots: int = 3,
    seed: int = 1,
    noise: float = 40.0,
    saturate: bool = False,
) -> Result:
    """Write a synthetic crizotinib dose-series experiment (``blot.simulate``)."""
    import numpy as np

    from kinresist.blot.simulate import example_blot_set, write_blot_set
    from kinresist.core.result import Provenance
    from kinresist.errors import InputError

    if not 1 <= blots <= 20:
        msg = f"--blots {blots}; expected 1-20 replicate blots"
        raise InputError(msg)
    if noise < 0:
        msg = f"--noise {noise}; expected >= 0 grey levels"
        raise InputError(msg)
    images, design, truth = example_blot_set(
        rng=np.random.default_rng(seed), n_blots=blots, noise_sd=noise, saturate_top=saturate
    )
    paths, design_path = write_blot_set(images, design, write_to)
    bands = []
    for name, blot in images.items():
        t = blot.truth.copy()
        t.insert(0, "image", name)
        bands.append(t)
    import pandas as pd

    band_truth = pd.concat(bands, ignore_index=True)
    return Result(
        workflow="blot.simulate",
        schema_version="1.0",
        provenance=Provenance.build(
            parameters={"blots": blots, "seed": seed, "noise": noise, "saturate": saturate}
        ),
        body={
            "folder": str(write_to),
            "images": [p.name for p in paths],
            "design": design_path.name,
            "command": (
                f"kinresist blot analyze {' '.join(p.name for p in paths)} --design "
                f"{design_path.name}"
            ),
            "generator": {name: blot.parameters for name, blot in list(images.items())[:1]},
        },
        tables={"truth": truth, "band_truth": band_truth, "design": design},
    )


_BACKGROUND = Param(
    "background",
    str,
    default="lane_min_line",
    help="Background: lane_min_line (straight baseline between flanking minima, ImageJ), "
    "border_median(N), user_region(x0,y0,x1,y1) or rolling_ball(RADIUS).",
)

WORKFLOWS = [
    Workflow(
        group="blot",
        command="analyze",
        help="Band volumes, target/loading control, phospho/total ratios and fold changes from "
        "blot images (16-bit TIFF) and a design file.",
        run=run_analyze,
        inputs=[
            InputSpec(
                "images",
                help="Blot image(s): single-channel 16-bit TIFF (8-bit PNG/JPEG with a warning).",
                multiple=True,
            ),
            InputSpec(
                "design",
                help="Design CSV/TSV/XLSX: image, blot, membrane, lane, sample, cell_line, "
                "treatment, dose, target, role, window.",
                option=True,
                required=False,
                short="-d",
            ),
        ],
        params=[
            _BACKGROUND,
            Param("background_region", str, help="Background rectangle x0,y0,x1,y1 (user_region)."),
            Param(
                "lanes", int, help="Number of equal lanes over the image width (default: detect)."
            ),
            Param(
                "lane_boundaries", str, help="Lane columns: n+1 edges '0,40,80' or '5-35,45-75'."
            ),
            Param("ladder", str, help="Marker positions row:kDa,... for windows given in kDa."),
            Param(
                "ratios",
                str,
                help="Phospho/total pairs 'p-ALK/ALK;p-FAK Y397/FAK' (default: p-X/X).",
            ),
            Param(
                "aggregate",
                ("log_t", "mixed"),
                default="log_t",
                help="Replicate blots: geometric mean + t CI (log_t) or mixed model, blot random.",
            ),
            Param("confidence", float, default=0.95, help="Confidence level of intervals."),
            Param(
                "polarity",
                ("auto", "bright_bands", "dark_bands"),
                default="auto",
                help="Band polarity of the images (dark bands are inverted).",
            ),
            Param("saturation", float, help="Saturation grey value (default: 255/65535)."),
            Param(
                "figures",
                Path,
                output="figures",
                help="Also write the figures (SVG) to this folder.",
            ),
        ],
        figures="kinresist.blot.plots:add_figures",
        text="kinresist.blot.summary:text",
        subject_kind="cell_line",
        sample_type="cell_line",
    ),
    Workflow(
        group="blot",
        command="simulate",
        help="Write synthetic blots (known band volumes) and their design file to a folder.",
        run=run_simulate,
        params=[
            Param("write_to", Path, required=True, help="Folder for the TIFFs and design.csv."),
            Param("blots", int, default=3, help="Replicate blots."),
            Param("seed", int, default=1, help="Random seed."),
            Param("noise", float, default=40.0, help="Pixel noise SD (grey levels)."),
            Param("saturate", bool, default=False, help="Over-expose the total-ALK membranes."),
        ],
        records=False,
        default_format="json",
        extra={"writes": ("write_to",)},  # created if missing (web: inside the data folder)
    ),
]
