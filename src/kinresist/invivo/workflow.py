"""Registry declarations of the in vivo workflows (``kinresist invivo ...``); cheap to import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.core.registry import InputSpec, Param, Workflow

if TYPE_CHECKING:
    from kinresist.core.result import Result

__all__ = ["GROUP_HELP", "WORKFLOWS", "run_analyze", "run_table"]

GROUP_HELP = {
    "invivo": "In vivo tumour growth: named TGI variants, mRECIST, mixed-model growth rates, "
    "in vivo synergy, time to endpoint."
}

_FILE = InputSpec(
    "file",
    help="Tumour-growth file: long table (CSV/TSV/XLSX), invivoSyn wide, TumGrowth 2-row header, "
    "Xeva/PDXE model table, or imaging (µCT/MRI volume, bioluminescence flux).",
)
_MODELS = InputSpec(
    "models",
    help="Xeva/PDXE model table (model.id, patient.id): the PDX line of each model.",
    option=True,
    required=False,
)
_READER = Param(
    "reader",
    ("auto", "long", "invivosyn", "tumgrowth", "xeva", "imaging"),
    default="auto",
    help="File layout (auto: from the header).",
)
_FORMULA = Param(
    "formula",
    ("ellipsoid_half", "ellipsoid", "ellipsoid_geo", "area"),
    help="Caliper formula when volumes come from L and W: ellipsoid_half L·W²/2 (default for "
    "long tables), ellipsoid (π/6)·L·W², ellipsoid_geo (π/6)·(L·W)^1.5, area L·W.",
)
_VARIABLE = Param("variable", str, help="TumGrowth: the row-2 variable to analyse (e.g. V).")
_VOXEL = Param("voxel_volume", float, help="Imaging: volume of one voxel (voxel counts).")


def _read(
    file: Path,
    *,
    reader: str,
    formula: str | None,
    variable: str | None,
    models: Path | None,
    voxel_volume: float | None,
) -> Any:
    from kinresist.invivo.readers import read_growth

    return read_growth(
        file,
        reader=reader,  # type: ignore[arg-type]
        formula=formula,  # type: ignore[arg-type]
        variable=variable,
        models=models,
        voxel_volume=voxel_volume,
    )


def run_analyze(
    file: Path,
    *,
    control: str,
    day: float | None = None,
    combination: str | None = None,
    endpoint: float | None = None,
    interpolate: bool = True,
    reader: str = "auto",
    formula: str | None = None,
    variable: str | None = None,
    models: Path | None = None,
    voxel_volume: float | None = None,
    baseline: str = "auto",
    baseline_day: float | None = None,
    zero_rule: str = "drop",
    min_time: float = 10.0,
    n_boot: int = 2000,
    ci_type: str = "percentile",
    seed: int = 20250101,
    adjust: str = "holm",
    conf_type: str = "log",
    lmm: bool = True,
    include_baseline_rows: bool = False,
) -> Result:
    """``invivo analyze``: read the file, then :func:`kinresist.invivo.analyze_growth`."""
    from kinresist.invivo.analyze import analyze_growth

    data = _read(
        file,
        reader=reader,
        formula=formula,
        variable=variable,
        models=models,
        voxel_volume=voxel_volume,
    )
    inputs: dict[str, Any] = {"file": file}
    if models is not None:
        inputs["models"] = models
    return analyze_growth(  # type: ignore[no-any-return]
        data,
        control=control,
        day=day,
        combination=combination,
        baseline=baseline,  # type: ignore[arg-type]
        baseline_day=baseline_day,
        zero_rule=zero_rule,  # type: ignore[arg-type]
        min_time=min_time,
        n_boot=n_boot,
        ci_type=ci_type,  # type: ignore[arg-type]
        seed=seed,
        adjust=adjust,  # type: ignore[arg-type]
        endpoint=endpoint,
        interpolate=interpolate,
        conf_type=conf_type,
        lmm=lmm,
        include_baseline_rows=include_baseline_rows,
        inputs=inputs,
    )


def run_table(
    file: Path,
    *,
    reader: str = "auto",
    formula: str | None = None,
    variable: str | None = None,
    models: Path | None = None,
    voxel_volume: float | None = None,
) -> Result:
    """``invivo table``: any supported layout -> the tidy long table (subject, arm, day, value)."""
    from kinresist.invivo.analyze import table_result

    data = _read(
        file,
        reader=reader,
        formula=formula,
        variable=variable,
        models=models,
        voxel_volume=voxel_volume,
    )
    return table_result(data, inputs={"file": file})  # type: ignore[no-any-return]


WORKFLOWS = [
    Workflow(
        group="invivo",
        command="analyze",
        help="Tumour growth study -> per arm at day D: n, mean ± SEM, tgi_delta, tgi_rtv, tgi_auc, "
        "tgi_endpoint (tgi_xeva for comparison), T/C with the NCI flag, regression, each with a "
        "seeded stratified bootstrap CI; per animal RTV, AUC, slope, doubling time, best "
        "(average) response and mRECIST; the SynergyLMM mixed model with Bliss/HSA/response-"
        "additivity synergy (--combination 'A+B=A,B'); time to endpoint (--endpoint VOLUME).",
        run=run_analyze,
        inputs=[_FILE, _MODELS],
        params=[
            Param("control", str, required=True, help="Control (vehicle) arm."),
            Param(
                "day", float, help="Analysis day D (default: last day with ≥ 2 control animals)."
            ),
            Param("combination", str, help="Combination arm and its agents: 'A+B=A,B'."),
            Param("endpoint", float, help="Volume threshold for time to endpoint (e.g. 1000)."),
            Param(
                "interpolate",
                bool,
                default=True,
                help="Log-linear interpolation of the endpoint crossing time.",
            ),
            _READER,
            _FORMULA,
            _VARIABLE,
            _VOXEL,
            Param(
                "baseline",
                ("auto", "study", "first", "xeva"),
                default="auto",
                help="Baseline: the study baseline day (study); each animal's first "
                "measurement with times re-zeroed (first) or on the study clock (xeva); "
                "auto = xeva for PDX sets, else study.",
            ),
            Param(
                "baseline_day",
                float,
                help="Study baseline day (default: the file's day ≤ 0 column, else the first day).",
            ),
            Param(
                "zero_rule",
                ("drop", "half_min", "log1p", "plus1"),
                default="drop",
                help="Zero volumes on the log scale (drop = SynergyLMM 'ignore').",
            ),
            Param(
                "min_time",
                float,
                default=10.0,
                help="mRECIST: first day of the best-response "
                "window after baseline (Gao 2015: 10).",
            ),
            Param("n_boot", int, default=2000, help="Bootstrap resamples (0: no CIs)."),
            Param(
                "ci_type", ("percentile", "bca"), default="percentile", help="Bootstrap interval."
            ),
            Param("seed", int, default=20250101, help="Seed of the bootstrap."),
            Param(
                "adjust",
                ("holm", "bonferroni", "BH", "none"),
                default="holm",
                help="Multiplicity adjustment of the pairwise slope contrasts.",
            ),
            Param(
                "conf_type",
                ("log", "log-log", "plain"),
                default="log",
                help="KM CI transform (log = R survfit default).",
            ),
            Param("lmm", bool, default=True, help="Fit the mixed model."),
            Param(
                "include_baseline_rows",
                bool,
                default=False,
                help="Keep the baseline rows (logRTV = 0) in the mixed model (SynergyLMM "
                "leaves them out).",
            ),
            Param(
                "figures",
                Path,
                output="figures",
                help="Also write every figure (SVG and PNG) into this folder.",
            ),
        ],
        text="kinresist.invivo.text:summary",
        subject_kind="animal",
        sample_type="tumour",
        long_running=True,
    ),
    Workflow(
        group="invivo",
        command="table",
        help="Read any supported tumour-growth layout and write the tidy long table "
        "(subject, arm, day, value; volumes from calipers by the named formula).",
        run=run_table,
        inputs=[_FILE, _MODELS],
        params=[_READER, _FORMULA, _VARIABLE, _VOXEL],
        records=False,
        default_format="tsv",
    ),
]
