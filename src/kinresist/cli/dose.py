"""``kinresist dose``: plate files to IC50, fold shift and GR metrics.

Thin adapter: read files with the library readers, call one library function,
print the payload (JSON by default, ``--format tsv`` tidy rows, ``text`` summary).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, OutOpt, emit, emit_text, resolve_db
from kinresist.errors import InputError

app = typer.Typer(no_args_is_help=True)

_Input = Annotated[
    Path, typer.Option("--input", "-i", help="CSV/TSV/XLSX/Parquet table, one row per well.")
]
_DoseCol = Annotated[
    str, typer.Option("--dose-col", help="Dose column (linear scale; see --log-dose).")
]
_RespCol = Annotated[str, typer.Option("--response-col", help="Response column.")]
_Model = Annotated[
    str, typer.Option("--model", help="LL.4, LL.3, LL.3u, LL.2, LL.5, W1.4 or W2.4.")
]
_Se = Annotated[
    str, typer.Option("--se", help="Standard errors: jtj (default; NIST/Prism) or hessian (drc).")
]
_Unit = Annotated[
    str | None,
    typer.Option("--unit", help="Dose unit (nM, uM, µM, mM, M); doses are reported in nM."),
]
_LogDose = Annotated[bool, typer.Option("--log-dose", help="The dose column holds log10 doses.")]
_Study = Annotated[str, typer.Option("--study", help="Store: study name.")]


def _parse_shared(shared: str | None) -> tuple[str, ...]:
    """``--shared bottom,top`` -> ("bottom", "top")."""
    return tuple(s.strip() for s in shared.split(",") if s.strip()) if shared else ()


def _check_se(se: str) -> str:
    if se not in ("jtj", "hessian"):
        msg = f"--se {se!r}; expected jtj or hessian"
        raise InputError(msg)
    return se


def _check_model(model: str) -> str:
    from kinresist.dose.models import get_model

    return get_model(model).name


def _fixed(values: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in values or []:
        name, _, val = item.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            msg = f"--fix {item!r}; expected NAME=VALUE, e.g. bottom=0"
            raise InputError(msg) from None
    return out


def _store(
    db: str | None, kind: str, payload: dict[str, Any], study: str, unit: str | None
) -> None:
    location = resolve_db(db)
    if location:
        from kinresist.dose.record import record_run

        payload["store"] = record_run(location, kind=kind, payload=payload, study=study, unit=unit)


@app.command("fit")
def fit(
    input: _Input,
    dose_col: _DoseCol,
    response_col: _RespCol,
    group_col: Annotated[
        str | None, typer.Option("--group-col", help="Group column (one curve per group).")
    ] = None,
    model: _Model = "LL.4",
    se: _Se = "jtj",
    fix: Annotated[
        list[str] | None, typer.Option("--fix", help="Fix a parameter: NAME=VALUE (repeat).")
    ] = None,
    unit: _Unit = None,
    log_dose: _LogDose = False,
    absolute: Annotated[
        float | None,
        typer.Option("--absolute", help="Also report the absolute ICx at this response level."),
    ] = None,
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
    table: Annotated[
        Path | None, typer.Option("--table", help="Also write tidy results (.csv/.tsv/.parquet).")
    ] = None,
    db: DbOpt = None,
    study: _Study = "default",
) -> None:
    """Fit one curve per group; prints fits[] (parameters with SE and CI, rss, df, flags)."""
    from kinresist.dose.fit import fit_curves, read_dose_table
    from kinresist.dose.payload import fits_frame, payload, write_table

    model = _check_model(model)
    _check_se(se)
    data = read_dose_table(
        input,
        dose_col=dose_col,
        response_col=response_col,
        group_col=group_col,
        unit=unit,
        log_dose=log_dose,
    )
    fits = fit_curves(data, model=model, se=se, fixed=_fixed(fix), absolute_level=absolute)
    params = {
        "model": model,
        "se": se,
        "dose_col": dose_col,
        "response_col": response_col,
        "group_col": group_col,
        "fixed": _fixed(fix),
        "unit": unit,
        "log_dose": log_dose,
    }
    body = payload(
        "fit",
        {"se_method": se, "dose_unit": "nM" if unit else None, "fits": fits.to_records()},
        inputs=[input],
        parameters=params,
    )
    if table is not None:
        write_table(fits_frame(body["fits"]), table, body)
    _store(db, "fit", body, study, "nM" if unit else None)
    _output(body, fmt, out, lambda: fits_frame(body["fits"]))


def _output(body: dict[str, Any], fmt: OutFormat, out: Path | None, frame_fn: Any) -> None:
    from kinresist.provenance import tsv_header

    if fmt == OutFormat.json:
        emit(body, out=out)
    elif fmt == OutFormat.tsv:
        emit_text(tsv_header(body) + frame_fn().to_csv(sep="\t", index=False), out=out)
    else:
        emit_text(frame_fn().to_string(index=False), out=out)


@app.command("compare")
def compare(
    input: _Input,
    dose_col: _DoseCol,
    response_col: _RespCol,
    group_col: Annotated[
        str, typer.Option("--group-col", help="Group column; the first group is the reference.")
    ],
    shared: Annotated[
        str | None,
        typer.Option("--shared", help="Parameters shared by the groups, e.g. bottom,top."),
    ] = None,
    model: _Model = "LL.4",
    se: _Se = "jtj",
    level: Annotated[
        float, typer.Option("--level", help="Relative ED level compared (50 = EC50).")
    ] = 50.0,
    unit: _Unit = None,
    log_dose: _LogDose = False,
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
    db: DbOpt = None,
    study: _Study = "default",
) -> None:
    """Fold shift of the second group's EC50 over the first's, with delta and Fieller CIs and the F test."""
    from kinresist.dose.compare import compare_groups
    from kinresist.dose.fit import read_dose_table
    from kinresist.dose.payload import payload
    from kinresist.reports.dose import resistance_sentence

    model = _check_model(model)
    _check_se(se)
    share = _parse_shared(shared)
    data = read_dose_table(
        input,
        dose_col=dose_col,
        response_col=response_col,
        group_col=group_col,
        unit=unit,
        log_dose=log_dose,
    )
    res = compare_groups(
        data.frame["dose"].to_numpy(),
        data.frame["response"].to_numpy(),
        data.frame["group"].tolist(),
        model=model,
        shared=share,
        level=level,
        se=se,
    )
    d = res.to_dict()
    d["summary"] = resistance_sentence(d, unit="nM" if unit else "dose units")
    body = payload(
        "compare",
        d,
        inputs=[input],
        parameters={
            "model": model,
            "se": se,
            "shared": list(share),
            "level": level,
            "group_col": group_col,
            "unit": unit,
        },
    )
    _store(db, "compare", body, study, "nM" if unit else None)
    if fmt == OutFormat.text:
        emit_text("\n".join(d["summary"]), out=out)
    else:
        import pandas as pd

        _output(body, fmt, out, lambda: pd.json_normalize(d["ratios"]))


@app.command("plate")
def plate(
    plate_file: Annotated[
        Path,
        typer.Option("--plate", help="Plate-reader file: grid (96/384, CSV/XLSX) or long table."),
    ],
    plate_map: Annotated[
        Path,
        typer.Option(
            "--map",
            help="Plate map CSV/XLSX (well, role, cell_line, drug, concentration, replicate).",
        ),
    ],
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None,
    figures: Annotated[
        Path | None,
        typer.Option("--figures", help="Also write PNG and SVG figures to this folder."),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="Write the normalised wells (.csv/.tsv/.parquet)."),
    ] = None,
    model: _Model = "LL.4",
    se: _Se = "jtj",
    shared: Annotated[
        str | None, typer.Option("--shared", help="Parameters shared in fold-shift fits.")
    ] = None,
    kill_as_zero: Annotated[
        bool, typer.Option("--kill-as-zero", help="Positive control defines 0 %.")
    ] = False,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet.")] = None,
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
    db: DbOpt = None,
    study: _Study = "default",
) -> None:
    """Plate + map -> QC, normalised responses, fits, fold shifts and an HTML report (one command)."""
    from kinresist.dose.payload import fits_frame, payload, write_plate_report, write_table
    from kinresist.dose.pipeline import analyse_plate
    from kinresist.reports.dose import resistance_sentence

    model = _check_model(model)
    _check_se(se)
    share = _parse_shared(shared)
    a = analyse_plate(
        plate_file,
        plate_map,
        model=model,
        se=se,
        shared=share,
        kill_as_zero=kill_as_zero,
        sheet=sheet,
    )
    comps = a.comparisons
    summary = [f"{c['panel']} — {s}" for c in comps for s in resistance_sentence(c, unit="nM")]
    body = payload(
        "plate",
        {
            "se_method": se,
            "dose_unit": "nM",
            "response": "percent of vehicle",
            "qc": [q.to_dict() for q in a.qc],
            "fits": a.fits.to_records(),
            "comparisons": comps,
            "summary": summary,
        },
        inputs=[plate_file, plate_map],
        parameters={"model": model, "se": se, "shared": list(share), "kill_as_zero": kill_as_zero},
    )
    if table is not None:
        write_table(a.table, table, body)
    if html is not None:
        write_plate_report(
            a, body, html, title=f"Dose-response report: {plate_file.name}", figures_dir=figures
        )
    _store(db, "plate", body, study, "nM")
    _output(body, fmt, out, lambda: fits_frame(body["fits"]))


@app.command("gr")
def gr(
    input: _Input,
    duration: Annotated[
        float | None,
        typer.Option("--duration", help="Assay duration (h) when no time-zero counts."),
    ] = None,
    doubling_time: Annotated[
        float | None, typer.Option("--doubling-time", help="Untreated doubling time (h).")
    ] = None,
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
) -> None:
    """GR metrics (Hafner 2016) per experiment from a GRmetrics-style table."""
    import pandas as pd

    from kinresist.dose.gr import gr_metrics, gr_values
    from kinresist.dose.payload import payload

    sep = "\t" if input.suffix.lower() in (".tsv", ".txt") else ","
    frame = pd.read_csv(input, sep=sep)
    if "GRvalue" not in frame.columns:
        frame["GRvalue"] = gr_values(frame, duration=duration, doubling_time=doubling_time)
    res = gr_metrics(frame)
    body = payload(
        "gr",
        {"experiments": res.to_dict(orient="records")},
        inputs=[input],
        parameters={"duration": duration, "doubling_time": doubling_time},
    )
    _output(body, fmt, out, lambda: res)


@app.command("select")
def select(
    input: _Input,
    dose_col: _DoseCol,
    response_col: _RespCol,
    group_col: Annotated[str | None, typer.Option("--group-col")] = None,
    models: Annotated[
        str, typer.Option("--models", help="Comma-separated models.")
    ] = "LL.4,LL.3,LL.5,W1.4,W2.4",
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
) -> None:
    """AIC model selection table (drc mselect): logLik, AIC, AICc, BIC, lack-of-fit p."""
    from kinresist.dose.fit import read_dose_table, select_models
    from kinresist.dose.payload import payload

    names = [_check_model(m.strip()) for m in models.split(",") if m.strip()]
    data = read_dose_table(input, dose_col=dose_col, response_col=response_col, group_col=group_col)
    res = select_models(data, models=names)
    res["group"] = res["group"].astype(str)
    body = payload(
        "select",
        {"models": res.to_dict(orient="records")},
        inputs=[input],
        parameters={"models": names},
    )
    _output(body, fmt, out, lambda: res)


@app.command("standard")
def standard(
    input: _Input,
    conc_col: Annotated[
        str,
        typer.Option("--conc-col", help="Standards' concentration column (empty for unknowns)."),
    ],
    signal_col: Annotated[str, typer.Option("--signal-col", help="Signal column.")],
    name_col: Annotated[
        str, typer.Option("--name-col", help="Sample name column (replicates share a name).")
    ] = "name",
    model: Annotated[str, typer.Option("--model", help="LL.4 (4PL) or LL.5 (5PL).")] = "LL.4",
    se: _Se = "jtj",
    fmt: FormatOpt = OutFormat.json,
    out: OutOpt = None,
) -> None:
    """Standard-curve mode: fit 4PL/5PL to standards and interpolate the unknowns with CIs."""
    import numpy as np
    import pandas as pd

    from kinresist.dose.payload import payload
    from kinresist.dose.standard import fit_standard, interpolate

    _check_se(se)
    sep = "\t" if input.suffix.lower() in (".tsv", ".txt") else ","
    frame = pd.read_csv(input, sep=sep)
    for col in (conc_col, signal_col):
        if col not in frame.columns:
            msg = f"no column {col!r}; found {', '.join(map(str, frame.columns))}"
            raise InputError(msg, path=input, column=col)
    conc = pd.to_numeric(frame[conc_col], errors="coerce")
    std = frame[conc.notna()]
    unk = frame[conc.isna()]
    curve = fit_standard(
        conc[conc.notna()].to_numpy(float), std[signal_col].to_numpy(float), model=model, se=se
    )
    names = unk[name_col].astype(str).tolist() if name_col in unk.columns else None
    res = interpolate(curve, unk[signal_col].to_numpy(float), names=names)
    f = curve.fit
    lo, hi = f.ci()
    body = payload(
        "standard",
        {
            "standard": {
                "model": f.model,
                "se_method": se,
                "rss": float(f.rss[0]),
                "df": int(f.df[0]),
                "converged": bool(f.converged[0]),
                "flags": list(f.flags[0]),
                "parameters": {
                    n: {
                        "estimate": float(f.params[0, j]),
                        "se": float(f.se[0, j]),
                        "ci_low": float(lo[0, j]),
                        "ci_high": float(hi[0, j]),
                    }
                    for j, n in enumerate(f.param_names)
                },
                "range": list(curve.range),
            },
            "unknowns": res.replace({np.nan: None}).to_dict(orient="records"),
        },
        inputs=[input],
        parameters={"model": model, "se": se},
    )
    _output(body, fmt, out, lambda: res)
