"""``kinresist ddpcr``: droplet exports to allele fractions with the lab's own detection limits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, OutOpt, emit_as, resolve_db
from kinresist.errors import InputError

app = typer.Typer(no_args_is_help=True)

_Method = Annotated[
    str, typer.Option("--ci-method", help="Low-count CI: exact (default) or quantasoft_compat.")
]
_Table = Annotated[
    Path | None,
    typer.Option("--quantasoft-table", help="Empirical low-count table (quantasoft_compat)."),
]
_Volume = Annotated[
    str | None,
    typer.Option(
        "--droplet-volume",
        help="µL, or preset qs_legacy (0.91 nL) / qs17 (0.85 nL); default: from the results file.",
    ),
]


def _settings(
    lob_rule: str | None,
    static_lob: int,
    blank: list[str] | None,
    max_lod_fa: float | None,
    fpr: float | None,
) -> Any:
    from kinresist.ddpcr.calls import CallSettings

    rules = ("static", "adaptive", "ep17_nonparametric", "ep17_parametric")
    if lob_rule is not None and lob_rule not in rules:
        msg = f"--lob-rule {lob_rule!r}; expected one of {', '.join(rules)}"
        raise InputError(msg)
    return CallSettings(
        lob_rule=lob_rule,  # type: ignore[arg-type]
        static_lob_droplets=static_lob,
        blank_samples=tuple(blank or ()),
        max_lod_fa=max_lod_fa,
        fpr=fpr,
    )


def _volume(v: str | None) -> float | str | None:
    if v is None or v in ("qs_legacy", "qs17"):
        return v
    try:
        return float(v)
    except ValueError:
        msg = f"--droplet-volume {v!r}; expected µL (e.g. 0.00085) or qs_legacy / qs17"
        raise InputError(msg) from None


def _method(m: str) -> Any:
    if m not in ("exact", "quantasoft_compat"):
        msg = f"--ci-method {m!r}; expected exact or quantasoft_compat"
        raise InputError(msg)
    return m


@app.command("analyze")
def analyze(
    plate: Annotated[list[Path], typer.Argument(help="Plate folder, zip, or amplitude CSV files.")],
    results: Annotated[
        Path | None, typer.Option("--results", help="QuantaSoft results CSV of the plate.")
    ] = None,
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
    threshold_ch1: Annotated[
        float | None, typer.Option("--threshold-ch1", help="Manual Ch1 threshold.")
    ] = None,
    threshold_ch2: Annotated[
        float | None, typer.Option("--threshold-ch2", help="Manual Ch2 threshold.")
    ] = None,
    scheme: Annotated[
        str, typer.Option("--scheme", help="duplex (Ch1 mutant, Ch2 WT) or wt_negative.")
    ] = "duplex",
    lob_rule: Annotated[
        str | None,
        typer.Option("--lob-rule", help="static, adaptive, ep17_nonparametric, ep17_parametric."),
    ] = None,
    static_lob: Annotated[
        int, typer.Option("--static-lob", help="Droplet cutoff of the static rule.")
    ] = 3,
    blank: Annotated[
        list[str] | None,
        typer.Option("--blank", help="Sample name of a wild-type-only blank (repeat)."),
    ] = None,
    max_lod_fa: Annotated[
        float | None,
        typer.Option(
            "--max-lod-fa", help="Not-detected wells with a larger LoD (%) are indeterminate."
        ),
    ] = None,
    fpr: Annotated[
        float | None,
        typer.Option("--fpr", help="False-positive rate per WT molecule (adaptive rule)."),
    ] = None,
    ci_method: _Method = "exact",
    quantasoft_table: _Table = None,
    droplet_volume: _Volume = None,
    plasma_ml: Annotated[
        float | None,
        typer.Option("--plasma-ml", help="mL plasma extracted (copies per mL plasma)."),
    ] = None,
    elution_ul: Annotated[
        float | None, typer.Option("--elution-ul", help="µL eluate from the extraction.")
    ] = None,
    template_ul: Annotated[
        float | None, typer.Option("--template-ul", help="µL of eluate per 20 µL reaction.")
    ] = None,
    input_ng: Annotated[
        float | None,
        typer.Option(
            "--input-ng", help="ng DNA per reaction (-> haploid genome equivalents, 3.3 pg each)."
        ),
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None,
    db: DbOpt = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Store: subject (patient) id.")
    ] = None,
    study: Annotated[str, typer.Option("--study", help="Store: study name.")] = "default",
) -> None:
    """Gate, quantify and call a plate; prints wells[] (and samples[])."""
    from kinresist.ddpcr.analyze import analyze_plate
    from kinresist.ddpcr.payload import analysis_payload, tidy_tsv
    from kinresist.ddpcr.read_results import read_results_csv

    if scheme not in ("duplex", "wt_negative"):
        msg = f"--scheme {scheme!r}; expected duplex or wt_negative"
        raise InputError(msg)
    src: Any = plate[0] if len(plate) == 1 else plate
    p = _load_with_progress(src)
    table = read_results_csv(results) if results is not None else None
    thresholds = {
        k: v for k, v in (("ch1", threshold_ch1), ("ch2", threshold_ch2)) if v is not None
    }
    a = analyze_plate(
        p,
        results=table,
        thresholds=thresholds or None,
        volume_ul=_volume(droplet_volume),
        method=_method(ci_method),
        table_path=quantasoft_table,
        settings=_settings(lob_rule, static_lob, blank, max_lod_fa, fpr),
        scheme=scheme,  # type: ignore[arg-type]
        plasma_ml=plasma_ml,
        elution_ul=elution_ul,
        template_ul=template_ul,
        input_ng=input_ng,
    )
    inputs = list(plate) + ([results] if results else [])
    payload = analysis_payload(a, inputs=inputs)
    if html is not None:
        from kinresist.reports.ddpcr import write_report

        write_report(a, payload, html)
    location = resolve_db(db)
    if location:
        from kinresist.ddpcr.record import record_analysis

        payload["store"] = record_analysis(location, a, payload, study=study, subject=subject)
    emit_as(
        fmt,
        payload,
        tsv=lambda: tidy_tsv(a.wells, payload),
        text=lambda: _text(payload["wells"]),
        out=out,
    )


@app.command("recompute")
def recompute(
    results: Annotated[Path, typer.Argument(help="QuantaSoft / QX Manager results CSV.")],
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
    ci_method: _Method = "exact",
    quantasoft_table: _Table = None,
    droplet_volume: _Volume = None,
    lob_rule: Annotated[str | None, typer.Option("--lob-rule")] = None,
    static_lob: Annotated[int, typer.Option("--static-lob")] = 3,
    blank: Annotated[list[str] | None, typer.Option("--blank")] = None,
) -> None:
    """Recompute every row of a results file from its droplet counts (plus merged rows)."""
    from kinresist.ddpcr.payload import recompute_payload, tidy_tsv
    from kinresist.ddpcr.read_results import read_results_csv
    from kinresist.ddpcr.recompute import recompute_results

    table = read_results_csv(results)
    method = _method(ci_method)
    rec = recompute_results(
        table,
        volume_ul=_volume(droplet_volume),
        method=method,
        table_path=quantasoft_table,
        settings=_settings(lob_rule, static_lob, blank, None, None),
    )
    payload = recompute_payload(
        rec, source=results, parameters={"ci_method": method, "droplet_volume": droplet_volume}
    )
    emit_as(
        fmt,
        payload,
        tsv=lambda: tidy_tsv(rec.rows, payload),
        text=lambda: _text(payload["wells"]),
        out=out,
    )


@app.command("clusters")
def clusters(
    export: Annotated[Path, typer.Argument(help="QX Manager / QX600 'Cluster Data' CSV.")],
    target_a: Annotated[
        int, typer.Option("--target-a", help="Target number reported as channel 1 (mutant).")
    ] = 1,
    target_b: Annotated[
        int, typer.Option("--target-b", help="Target number reported as channel 2 (reference).")
    ] = 2,
    droplet_volume: Annotated[
        str,
        typer.Option("--droplet-volume", help="µL or preset; QX600 volume is unverified, set it."),
    ] = "qs17",
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
) -> None:
    """Quantify two targets of a QX Manager cluster export (counts summed over other targets)."""
    from kinresist.ddpcr.payload import SCHEMA_VERSION, rows_to_records, tidy_tsv
    from kinresist.ddpcr.poisson import DROPLET_VOLUME_UL
    from kinresist.ddpcr.read_qx600 import quantify_cluster_data, read_qx_cluster_data
    from kinresist.provenance import stamp

    vol = _volume(droplet_volume)
    v = DROPLET_VOLUME_UL[vol] if isinstance(vol, str) else float(vol or DROPLET_VOLUME_UL["qs17"])
    table = read_qx_cluster_data(export)
    for t in (target_a, target_b):
        if f"target_{t}" not in table.columns:
            msg = f"--target {t}: the export has no 'Target {t}' column"
            raise InputError(msg, path=export)
    q = quantify_cluster_data(table, volume_ul=v, target_a=target_a, target_b=target_b)
    head = stamp(
        "kinresist.ddpcr.clusters",
        SCHEMA_VERSION,
        inputs=[export],
        parameters={"target_a": target_a, "target_b": target_b, "volume_ul": v},
    )
    payload = {
        **head,
        "droplet_volume": {"volume_ul": v, "source": str(droplet_volume)},
        "wells": rows_to_records(q),
    }
    emit_as(
        fmt,
        payload,
        tsv=lambda: tidy_tsv(q, payload),
        text=lambda: _text(payload["wells"]),
        out=out,
    )


def _load_with_progress(src: Any) -> Any:
    """load_plate with a transient progress bar on stderr when it is a terminal."""
    import sys

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from kinresist.ddpcr.read_amplitude import load_plate

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("reading amplitude exports: {task.completed} files"),
        console=console,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("read", total=None)
        return load_plate(src, progress=lambda _label: bar.advance(task))


def _text(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'well':5} {'ch':2} {'target':16} {'pos':>6} {'N':>6} {'copies/µL':>10} {'95% CI':>19} {'FA %':>6}  call"
    ]
    for r in rows:
        c = r.get("copies_per_ul")
        lo, hi, fa = r.get("ci95_low"), r.get("ci95_high"), r.get("fractional_abundance")
        lines.append(
            f"{r['well']:5} {r['channel']:2} {str(r.get('target', ''))[:16]:16} {r['positives']:>6} "
            f"{r['accepted']:>6} {'' if c is None else f'{c:.3g}':>10} "
            f"{'' if lo is None else f'[{lo:.3g}, {hi:.3g}]':>19} {'' if fa is None else f'{fa:.3g}':>6}  "
            f"{r.get('call_text', r.get('call'))}"
        )
    return "\n".join(lines)
