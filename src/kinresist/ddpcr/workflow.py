"""The ddPCR workflows, declared once for the CLI and the web app (:mod:`kinresist.core.registry`).

``kinresist ddpcr analyze|recompute|clusters`` are generated from these declarations; the run
functions turn options into library calls (engines are imported lazily, so that importing this
module stays cheap) and return a :class:`~kinresist.ddpcr.result.DdpcrResult`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kinresist.core.registry import InputSpec, Param, Workflow

if TYPE_CHECKING:
    from collections.abc import Callable

    from kinresist.ddpcr.calls import CallSettings
    from kinresist.ddpcr.result import DdpcrResult

__all__ = ["GROUP_HELP", "WORKFLOWS"]

GROUP_HELP = {"ddpcr": "ddPCR: droplet exports to allele fractions with detection limits."}

_LOB_RULES = ("static", "adaptive", "ep17_nonparametric", "ep17_parametric")

# -- options shared by the ddPCR commands (declared once) --------------------------------
_CI_METHOD = Param(
    "ci_method",
    ("exact", "quantasoft_compat"),
    default="exact",
    help="Low-count CI: exact, or quantasoft_compat (needs --quantasoft-table).",
)
_VOLUME = Param(
    "droplet_volume",
    str,
    help="Droplet volume in µL, or preset qs_legacy (0.91 nL) / qs17 (0.85 nL); default: from "
    "the results file.",
)
_LOB_RULE = Param(
    "lob_rule", _LOB_RULES, help="LoB rule (default: adaptive with --blank samples, else static)."
)
_STATIC_LOB = Param("static_lob", int, default=3, help="Droplet cutoff of the static rule.")
_BLANK = Param("blank", str, multiple=True, help="Sample name of a wild-type-only blank (repeat).")
_ASSAY = Param(
    "assay",
    str,
    multiple=True,
    help="Map a target to an alteration: 'ALK_G1202R=ALK G1202R' or 'Ch2 target=wild type' "
    "(repeat; wins over --assay-map and over parsing the target names).",
)
_ASSAY_MAP = InputSpec(
    "assay_map",
    option=True,
    required=False,
    help="CSV/TSV with columns target, alteration mapping target names to alterations.",
)
_QS_TABLE = InputSpec(
    "quantasoft_table",
    option=True,
    required=False,
    help="Empirical low-count CI table (--ci-method quantasoft_compat).",
)


def _volume(text: str | None) -> float | str | None:
    from kinresist.errors import InputError

    if text is None or text in ("qs_legacy", "qs17"):
        return text
    try:
        return float(text)
    except ValueError:
        msg = f"--droplet-volume {text!r}; expected µL (e.g. 0.00085) or qs_legacy / qs17"
        raise InputError(msg) from None


def _settings(
    lob_rule: str | None,
    static_lob: int,
    blank: list[str] | None,
    max_lod_fa: float | None = None,
    fpr: float | None = None,
) -> CallSettings:
    from kinresist.ddpcr.calls import CallSettings

    return CallSettings(
        lob_rule=lob_rule,  # type: ignore[arg-type]
        static_lob_droplets=static_lob,
        blank_samples=tuple(blank or ()),
        max_lod_fa=max_lod_fa,
        fpr=fpr,
    )


def _assay_map(assay_map: Path | None, assay: list[str] | None) -> dict[str, str] | Path | None:
    """The map file, overridden entry by entry by ``--assay`` pairs."""
    from kinresist.ddpcr.assays import assay_map_from_pairs, read_assay_map

    pairs = assay_map_from_pairs(assay or [])
    if not pairs:
        return assay_map
    return {**(read_assay_map(assay_map) if assay_map is not None else {}), **pairs}


@contextmanager
def _progress(what: str) -> Iterator[Callable[[str], None] | None]:
    """A transient progress counter on stderr when it is a terminal (and not --quiet)."""
    if os.environ.get("KINRESIST_QUIET") == "1" or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn(what + ": {task.completed} files"),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("read", total=None)
        yield lambda _label: bar.advance(task)


def _run_analyze(
    plate: list[Path],
    *,
    results: Path | None = None,
    quantasoft_table: Path | None = None,
    assay_map: Path | None = None,
    threshold_ch1: float | None = None,
    threshold_ch2: float | None = None,
    scheme: str = "duplex",
    lob_rule: str | None = None,
    static_lob: int = 3,
    blank: list[str] | None = None,
    max_lod_fa: float | None = None,
    fpr: float | None = None,
    ci_method: str = "exact",
    droplet_volume: str | None = None,
    assay: list[str] | None = None,
    plasma_ml: float | None = None,
    elution_ul: float | None = None,
    template_ul: float | None = None,
    input_ng: float | None = None,
) -> DdpcrResult:
    from kinresist.ddpcr.analyze import analyze_plate

    thresholds = {
        k: v for k, v in (("ch1", threshold_ch1), ("ch2", threshold_ch2)) if v is not None
    }
    with _progress("reading amplitude exports") as progress:
        return analyze_plate(
            plate[0] if len(plate) == 1 else plate,
            results=results,
            thresholds=thresholds or None,
            volume_ul=_volume(droplet_volume),
            method=ci_method,  # type: ignore[arg-type]
            table_path=quantasoft_table,
            settings=_settings(lob_rule, static_lob, blank, max_lod_fa, fpr),
            scheme=scheme,  # type: ignore[arg-type]
            assay_map=_assay_map(assay_map, assay),
            plasma_ml=plasma_ml,
            elution_ul=elution_ul,
            template_ul=template_ul,
            input_ng=input_ng,
            progress=progress,
        )


def _run_recompute(
    results: Path,
    *,
    quantasoft_table: Path | None = None,
    assay_map: Path | None = None,
    ci_method: str = "exact",
    droplet_volume: str | None = None,
    lob_rule: str | None = None,
    static_lob: int = 3,
    blank: list[str] | None = None,
    assay: list[str] | None = None,
) -> DdpcrResult:
    from kinresist.ddpcr.recompute import recompute_results

    return recompute_results(
        results,
        volume_ul=_volume(droplet_volume),
        method=ci_method,  # type: ignore[arg-type]
        table_path=quantasoft_table,
        settings=_settings(lob_rule, static_lob, blank),
        assay_map=_assay_map(assay_map, assay),
    )


def _run_clusters(
    export: Path,
    *,
    assay_map: Path | None = None,
    target_a: int = 1,
    target_b: int = 2,
    droplet_volume: str | None = "qs17",
    assay: list[str] | None = None,
) -> DdpcrResult:
    from kinresist.ddpcr.analyze import analyze_clusters

    return analyze_clusters(
        export,
        target_a=target_a,
        target_b=target_b,
        volume_ul=_volume(droplet_volume) or "qs17",
        assay_map=_assay_map(assay_map, assay),
    )


_COMMON = {
    "report": "kinresist.reports.ddpcr:render_ddpcr",
    "text": "kinresist.reports.ddpcr:ddpcr_text",
    "figures": "kinresist.ddpcr.plots:add_figures",
    "default_format": "json",
}

WORKFLOWS = [
    Workflow(
        group="ddpcr",
        command="analyze",
        help="Gate, quantify and call a plate (QuantaSoft/QX Manager amplitude exports: folder, "
        "zip or CSV files): fractional abundance and copies/µL per well and per sample, with the "
        "lab's own LoB/LoD; records measurements per sample x target.",
        run=_run_analyze,
        inputs=[
            InputSpec(
                "plate", multiple=True, kind="path", help="Plate folder, zip, or amplitude CSVs."
            ),
            InputSpec(
                "results",
                option=True,
                required=False,
                help="QuantaSoft results CSV of the plate (sample and target names).",
            ),
            _QS_TABLE,
            _ASSAY_MAP,
        ],
        params=[
            Param("threshold_ch1", float, help="Manual Ch1 threshold."),
            Param("threshold_ch2", float, help="Manual Ch2 threshold."),
            Param(
                "scheme",
                ("duplex", "wt_negative"),
                default="duplex",
                help="duplex (Ch1 mutant, Ch2 wild type) or wt_negative (mutant = Ch1+Ch2-).",
            ),
            _LOB_RULE,
            _STATIC_LOB,
            _BLANK,
            Param(
                "max_lod_fa",
                float,
                help="Not-detected rows with a larger LoD (%) are indeterminate.",
            ),
            Param("fpr", float, help="False-positive rate per wild-type molecule (adaptive rule)."),
            _CI_METHOD,
            _VOLUME,
            _ASSAY,
            Param("plasma_ml", float, help="mL plasma extracted (-> copies per mL plasma)."),
            Param("elution_ul", float, help="µL eluate from the extraction."),
            Param("template_ul", float, help="µL of eluate per 20 µL reaction."),
            Param(
                "input_ng",
                float,
                help="ng DNA per reaction (-> haploid genome equivalents, 3.3 pg each).",
            ),
        ],
        **_COMMON,  # type: ignore[arg-type]
    ),
    Workflow(
        group="ddpcr",
        command="recompute",
        help="Recompute every row of a QuantaSoft / QX Manager results file from its droplet "
        "counts (plus merged rows), beside the printed values; records measurements per sample "
        "x target.",
        run=_run_recompute,
        inputs=[
            InputSpec("results", help="QuantaSoft / QX Manager results CSV."),
            _QS_TABLE,
            _ASSAY_MAP,
        ],
        params=[_CI_METHOD, _VOLUME, _LOB_RULE, _STATIC_LOB, _BLANK, _ASSAY],
        **_COMMON,  # type: ignore[arg-type]
    ),
    Workflow(
        group="ddpcr",
        command="clusters",
        help="Quantify two targets of a QX Manager / QX600 'Cluster Data' export (counts summed "
        "over the other targets).",
        run=_run_clusters,
        inputs=[InputSpec("export", help="QX Manager 'Cluster Data' CSV."), _ASSAY_MAP],
        params=[
            Param("target_a", int, default=1, help="Target number reported as channel 1 (mutant)."),
            Param(
                "target_b", int, default=2, help="Target number reported as channel 2 (reference)."
            ),
            Param(
                "droplet_volume",
                str,
                default="qs17",
                help="µL or preset qs_legacy / qs17; the QX600 volume is unverified: set it.",
            ),
            _ASSAY,
        ],
        **_COMMON,  # type: ignore[arg-type]
    ),
]
