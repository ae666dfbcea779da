"""Registry declarations of the dose-response workflows (``kinresist dose ...``).

Cheap to import: the engine is imported inside each run function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinresist.core.registry import InputSpec, Param, Workflow
from kinresist.core.result import Result

if TYPE_CHECKING:
    from kinresist.core.result import Measurement
    from kinresist.dose.summary import FitSummary

__all__ = ["GROUP_HELP", "WORKFLOWS", "run_fit", "stream_fit"]

#: Curves fitted together, in memory and streamed alike (and per Dask task): both paths cut
#: the curves (in order of first appearance) into the same batches, so their numbers agree.
BATCH_CURVES = 50_000
#: Rows (estimated: Parquet metadata, or the file size over the first lines' length) from
#: which ``dose fit --format parquet|tsv --out`` streams a CSV/TSV/Parquet table instead of
#: building the in-memory result (per-curve records): ~2,000 9-point curves.
STREAM_MIN_ROWS = 20_000
_STREAMABLE = (".csv", ".tsv", ".txt", ".parquet")

GROUP_HELP = {"dose": "Dose-response: plate files to IC50, fold shift and GR metrics."}

_MODELS = ("LL.4", "LL.3", "LL.3u", "LL.2", "LL.5", "W1.4", "W2.4")
_TABLE = InputSpec(
    "input", help="CSV/TSV/XLSX/Parquet table, one row per well.", option=True, short="-i"
)
_DOSE = Param("dose_col", str, required=True, help="Dose column (linear scale; see --log-dose).")
_RESP = Param("response_col", str, required=True, help="Response column.")
_MODEL = Param("model", str, default="LL.4", help="Model: " + ", ".join(_MODELS) + " (drc names).")
_SE = Param(
    "se",
    ("jtj", "hessian"),
    default="jtj",
    help="Standard errors: jtj (NIST/Prism) or hessian (drc).",
)
_UNIT = Param("unit", str, help="Dose unit (nM, uM, µM, mM, M); doses are then reported in nM.")
_LOG = Param("log_dose", bool, default=False, help="The dose column holds log10 doses.")
_GENOTYPE = Param(
    "genotype",
    str,
    multiple=True,
    help="A cell line's genotype, LINE=ALTERATION (repeat; ';' separates several), recorded with "
    "its IC50s so they join the same alteration elsewhere in the store.",
)
_SHARED = Param("shared", str, help="Parameters shared by the groups, e.g. bottom,top.")


def _shared(text: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text else ()


def _fixed(values: list[str] | None) -> dict[str, float]:
    from kinresist.errors import InputError

    out: dict[str, float] = {}
    for item in values or []:
        name, _, val = item.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            msg = f"--fix {item!r}; expected NAME=VALUE, e.g. bottom=0"
            raise InputError(msg) from None
    return out


def _fit_warnings(fits: list[dict[str, Any]]) -> list[str]:
    bad = [f["group"] for f in fits if f["status"] != "ok"]
    return (
        [f"{len(bad)} curve(s) did not fit cleanly: {', '.join(map(str, bad[:10]))}"] if bad else []
    )


def _fit_parameters(
    model: str,
    se: str,
    dose_col: str,
    response_col: str,
    group_col: str | None,
    fixed: dict[str, float],
    unit: str | None,
    log_dose: bool,
    genotypes: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    return {
        "model": model,
        "se": se,
        "dose_col": dose_col,
        "response_col": response_col,
        "group_col": group_col,
        "fixed": fixed,
        "unit": unit,
        "log_dose": log_dose,
        "genotypes": {k: list(v) for k, v in genotypes.items()},
    }


def _fit_records(summary: FitSummary) -> list[dict[str, Any]]:
    """Contract records of one fitted batch (pure: runs here or on a Dask worker)."""
    from kinresist.dose.fit import CurveFits

    s = summary
    return CurveFits(
        s.groups, s.fit, s.dose, s.response, s.ed50, s.ic50_abs, s.extras, s.ci_level
    ).to_records()


def _fit_batch(
    batch: tuple[list[str], Any, Any], *, options: Mapping[str, Any]
) -> list[dict[str, Any]]:
    from kinresist.dose.summary import fit_arrays

    labels, x, y = batch
    return _fit_records(fit_arrays(labels, x, y, fallback=True, **options))


def _batches(labels: list[str], x: Any, y: Any, size: int) -> Iterator[tuple[list[str], Any, Any]]:
    """Consecutive batches of ``size`` curves, each trimmed to its own widest curve (as the
    streaming path pads them)."""
    import numpy as np

    counts = np.isfinite(x).sum(axis=1) if len(labels) else np.zeros(0, dtype=int)
    for a in range(0, len(labels), size):
        b = min(a + size, len(labels))
        width = int(counts[a:b].max())
        yield (
            labels[a:b],
            np.ascontiguousarray(x[a:b, :width]),
            np.ascontiguousarray(y[a:b, :width]),
        )


def run_fit(
    input: Path,
    *,
    dose_col: str,
    response_col: str,
    group_col: str | None = None,
    model: str = "LL.4",
    se: str = "jtj",
    fix: list[str] | None = None,
    unit: str | None = None,
    log_dose: bool = False,
    absolute: float | None = None,
    genotype: list[str] | None = None,
    dask: str | None = None,
) -> Result:
    """Fit one curve per group (``dose.fit``), in memory: the complete result.

    The curves are fitted in batches of :data:`BATCH_CURVES` (as :func:`stream_fit` does, so
    that both give the same numbers), here or on the Dask cluster at ``dask``.
    """
    from functools import partial
    from itertools import chain

    from kinresist.core.distribute import map_ordered
    from kinresist.dose.fit import pad_groups, read_dose_table
    from kinresist.dose.models import get_model
    from kinresist.dose.result import fits_frame, ic50_measurements, make_result, parse_genotypes

    model = get_model(model).name
    fixed = _fixed(fix)
    genotypes = parse_genotypes(genotype)
    data = read_dose_table(
        input,
        dose_col=dose_col,
        response_col=response_col,
        group_col=group_col,
        unit=unit,
        log_dose=log_dose,
    )
    labels, x, y = pad_groups(data.frame)
    options = {"model": model, "se": se, "fixed": fixed, "absolute_level": absolute}
    fitted = map_ordered(
        partial(_fit_batch, options=options), _batches(labels, x, y, BATCH_CURVES), dask=dask
    )
    fits = list(chain.from_iterable(fitted))
    dose_unit = "nM" if unit else None
    return make_result(
        "dose.fit",
        body={"se_method": se, "dose_unit": dose_unit, "fits": fits},
        tables={"fits": fits_frame(fits)},
        inputs={input.name: input},
        parameters=_fit_parameters(
            model, se, dose_col, response_col, group_col, fixed, unit, log_dose, genotypes
        ),
        measurements=ic50_measurements(fits, unit=dose_unit or "", genotypes=genotypes),
        warnings=_fit_warnings(fits),
    )


def _estimated_rows(path: Path) -> int:
    """Data rows of a table file, from the Parquet metadata or the first lines' length."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # noqa: BLE001 - the in-memory reader reports a damaged file
            return 0
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    lines = max(1, head.count(b"\n"))
    return int(path.stat().st_size / max(1, len(head)) * lines)


def stream_fit(
    input: Path,
    *,
    out: Path,
    fmt: str,
    tables: Mapping[str, Path] | None = None,
    dose_col: str,
    response_col: str,
    group_col: str | None = None,
    model: str = "LL.4",
    se: str = "jtj",
    fix: list[str] | None = None,
    unit: str | None = None,
    log_dose: bool = False,
    absolute: float | None = None,
    genotype: list[str] | None = None,
    dask: str | None = None,
) -> tuple[Result, list[Path]]:
    """``dose fit`` writing the ``fits`` table (Parquet/TSV) as it fits
    (:func:`kinresist.dose.stream.fit_table_stream`).

    A CSV/TSV/Parquet table of at least :data:`STREAM_MIN_ROWS` rows is streamed: bounded
    memory, batches of :data:`BATCH_CURVES` curves (on the Dask cluster at ``dask`` if given),
    the same rows and numbers as the in-memory result's table. The returned result carries the
    envelope, the counts (body ``streamed``) and the IC50 measurements, read back from the
    written file when the store records them. A smaller table, or an XLSX workbook, gets the
    complete in-memory result of :func:`run_fit` (``written`` empty).
    """
    import os
    import sys

    from kinresist.core import Provenance
    from kinresist.dose.models import get_model
    from kinresist.dose.stream import SCHEMA_VERSION, fit_table_stream

    options: dict[str, Any] = {
        "dose_col": dose_col,
        "response_col": response_col,
        "group_col": group_col,
        "model": model,
        "se": se,
        "fix": fix,
        "unit": unit,
        "log_dose": log_dose,
        "absolute": absolute,
        "genotype": genotype,
    }
    input = Path(input)
    if (
        not input.is_file()
        or input.suffix.lower() not in _STREAMABLE
        or Path(out).suffix.lower() not in _STREAMABLE  # e.g. --format parquet --out FILE
        or _estimated_rows(input) < STREAM_MIN_ROWS
    ):
        return run_fit(input, dask=dask, **options), []
    model = get_model(model).name
    fixed = _fixed(fix)
    genotypes: dict[str, tuple[str, ...]] = {}
    if genotype:  # (pandas-free path: kinresist.dose.result is imported only when needed)
        from kinresist.dose.result import parse_genotypes

        genotypes = parse_genotypes(genotype)
    parameters = _fit_parameters(
        model, se, dose_col, response_col, group_col, fixed, unit, log_dose, genotypes
    )
    also = [p for p in (tables or {}).values() if Path(p) != Path(out)]
    done = fit_table_stream(
        input,
        dose_col=dose_col,
        response_col=response_col,
        out=out,
        group_col=group_col,
        model=model,
        se=se,
        fixed=fixed,
        unit=unit,
        log_dose=log_dose,
        absolute_level=absolute,
        batch_curves=BATCH_CURVES,
        quiet=os.environ.get("KINRESIST_QUIET") == "1",
        also=also,
        parameters=parameters,
        dask=dask,
    )
    bad = sum(k for code, k in done.status.items() if code != "ok")
    # as the in-memory result's warning: the count and the first ten labels
    warnings = [f"{bad} curve(s) did not fit cleanly: {', '.join(done.not_ok)}"] if bad else []
    for w in warnings:
        sys.stderr.write(f"warning: {w}\n")
    env = done.envelope
    result = Result(
        workflow="dose.fit",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance(
            inputs=dict(env["inputs"]),
            parameters=dict(env["parameters"]),
            kinresist_version=env["kinresist_version"],
            kb_version=env["kb_version"],
            created=env["created"],
        ),
        body={
            "se_method": se,
            "dose_unit": "nM" if unit else None,
            "streamed": {
                "curves": done.n_curves,
                "rows": done.n_rows,
                "status": dict(done.status),
                "partitioned": done.partitioned,
                "files": [p.name for p in done.written],
            },
        },
        measurements=StreamedMeasurements(
            done.path, unit="nM" if unit else "", genotypes=genotypes
        ),
        warnings=warnings,
    )
    written = list(done.written)
    if fmt == "parquet" and Path(out).suffix.lower() == ".parquet":
        side = _write_measurements(result, Path(out))
        if side is not None:
            written.append(side)
    return result, written


def _write_measurements(result: Result, out: Path) -> Path | None:
    """``<stem>.measurements.parquet`` beside a streamed Parquet table, as
    :meth:`Result.write` writes it beside an in-memory one (none when no curve names a cell
    line); written in batches."""
    from itertools import chain

    import pyarrow as pa
    import pyarrow.parquet as pq

    from kinresist.core.result import MEASUREMENT_COLUMNS
    from kinresist.core.serialise import to_json

    numbers = ("value", "ci_low", "ci_high", "lod", "lob")
    schema = pa.schema(
        [(c, pa.float64() if c in numbers else pa.string()) for c in MEASUREMENT_COLUMNS]
    ).with_metadata(
        {b"kinresist": to_json({**result.envelope(), "table": "measurements"}, indent=None)}
    )
    path = out.with_name(f"{out.name[: -len('.parquet')]}.measurements.parquet")
    tmp = path.with_name(f".{path.name}.partial")
    writer = None
    rows: list[dict[str, Any]] = []
    try:
        for m in chain(result.measurements, [None]):  # never all in memory
            if m is not None:
                rows.append(m.as_row())
            if rows and (m is None or len(rows) >= 100_000):
                writer = writer or pq.ParquetWriter(tmp, schema)
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
    except BaseException:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    if writer is None:
        return None
    writer.close()
    tmp.replace(path)
    return path


class StreamedMeasurements(list["Measurement"]):
    """The IC50 measurements of a streamed ``dose fit``, read back from its written ``fits``
    file in batches each time they are iterated (what the store's writer,
    :func:`kinresist.core.record.record`, does), so that a screen's measurements are never
    all held in memory. As :func:`kinresist.dose.result.ic50_measurements`: one per curve
    named ``"<cell line> | <drug>"`` (per genotype key). Read-only: the list itself is empty.
    """

    _COLUMNS = ("group", "model", "se_method", "ed50_estimate", "ed50_ci_low", "ed50_ci_high",
                "status", "flags")  # fmt: skip

    def __init__(
        self, path: Path, *, unit: str, genotypes: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        super().__init__()
        self.path, self.unit, self.genotypes = Path(path), unit, dict(genotypes or {})
        self._len: int | None = None

    def _records(self) -> Iterator[list[dict[str, Any]]]:
        import pyarrow.compute as pc

        from kinresist.dose.stream import read_fits_batches

        for batch in read_fits_batches(self.path, self._COLUMNS):
            named = batch.filter(pc.match_substring(batch.column("group"), " | "))
            if not named.num_rows:
                continue
            cols = {c: named.column(c).to_pylist() for c in self._COLUMNS}
            rows = []
            for i, group in enumerate(cols["group"]):
                flags = cols["flags"][i]
                rows.append(
                    {
                        "group": group,
                        "model": cols["model"][i],
                        "se_method": cols["se_method"][i],
                        "status": cols["status"][i],
                        "flags": flags.split(";") if flags else [],
                        "ed50": {
                            k: cols[f"ed50_{k}"][i] for k in ("estimate", "ci_low", "ci_high")
                        },
                    }
                )
            yield rows

    def __iter__(self) -> Iterator[Measurement]:
        for rows in self._records():
            from kinresist.dose.result import ic50_measurements

            yield from ic50_measurements(rows, unit=self.unit, genotypes=self.genotypes)

    def __len__(self) -> int:
        if self._len is None:
            self._len = sum(
                len(self.genotypes.get(str(r["group"]).partition(" | ")[0], ())) or 1
                for rows in self._records()
                for r in rows
            )
        return self._len

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        return f"StreamedMeasurements({str(self.path)!r})"


def run_compare(
    input: Path,
    *,
    dose_col: str,
    response_col: str,
    group_col: str,
    shared: str | None = None,
    model: str = "LL.4",
    se: str = "jtj",
    level: float = 50.0,
    unit: str | None = None,
    log_dose: bool = False,
) -> Result:
    """Fold shift of each later group's EC50 over the first group's (``dose.compare``)."""
    import pandas as pd

    from kinresist.dose.compare import compare_groups
    from kinresist.dose.fit import read_dose_table
    from kinresist.dose.models import get_model
    from kinresist.dose.result import make_result, resistance_sentence

    model = get_model(model).name
    share = _shared(shared)
    data = read_dose_table(
        input,
        dose_col=dose_col,
        response_col=response_col,
        group_col=group_col,
        unit=unit,
        log_dose=log_dose,
        min_groups=2,
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
    return make_result(
        "dose.compare",
        body=d,
        tables={"ratios": pd.json_normalize(d["ratios"])},
        inputs={input.name: input},
        parameters={
            "model": model,
            "se": se,
            "shared": list(share),
            "level": level,
            "group_col": group_col,
            "unit": unit,
        },
    )


def run_plate(
    plate: Path,
    plate_map: Path,
    *,
    model: str = "LL.4",
    se: str = "jtj",
    shared: str | None = None,
    kill_as_zero: bool = False,
    sheet: str | None = None,
    genotype: list[str] | None = None,
) -> Result:
    """Plate + map -> QC, normalised responses, fits, fold shifts, figures (``dose.plate``)."""
    from kinresist.core import Figure
    from kinresist.dose.models import get_model
    from kinresist.dose.pipeline import analyze_plate
    from kinresist.dose.plots import plot_curves
    from kinresist.dose.result import (
        fits_frame,
        ic50_measurements,
        make_result,
        parse_genotypes,
        resistance_sentence,
    )

    model = get_model(model).name
    share = _shared(shared)
    genotypes = parse_genotypes(genotype)
    a = analyze_plate(
        plate, plate_map, model=model, se=se, shared=share, kill_as_zero=kill_as_zero, sheet=sheet
    )
    fits = a.fits.to_records()
    summary = [
        f"{c['panel']} — {s}" for c in a.comparisons for s in resistance_sentence(c, unit="nM")
    ]
    figures = []
    cf = a.fits
    for drug in dict.fromkeys(a.table["drug"]):
        rows = [i for i, g in enumerate(cf.groups) if g.split(" | ")[-1] == drug]
        if rows:
            fig = plot_curves(
                cf.fit,
                cf.dose,
                cf.response,
                cf.groups,
                rows=rows,
                ed50=cf.ed50.estimate[:, 0],
                title=str(drug),
            )
            figures.append(
                Figure.from_matplotlib(
                    fig,
                    name=str(drug),
                    caption=f"{drug}: mean ± SD, fitted {model}, 95% CI band, IC50 marker",
                )
            )
    return make_result(
        "dose.plate",
        body={
            "se_method": se,
            "dose_unit": "nM",
            "response": "percent of vehicle",
            "model": model,
            "ci_level": cf.ci_level,
            "kill_as_zero": kill_as_zero,
            "shared": list(share),
            "qc": [q.to_dict() for q in a.qc],
            "fits": fits,
            "comparisons": a.comparisons,
            "summary": summary,
        },
        tables={"fits": fits_frame(fits), "wells": a.table},
        inputs={plate.name: plate, plate_map.name: plate_map},
        parameters={"model": model, "se": se, "shared": list(share), "kill_as_zero": kill_as_zero},
        measurements=ic50_measurements(fits, unit="nM", genotypes=genotypes),
        figures=figures,
        warnings=_fit_warnings(fits)
        + [f"plate {q.plate}: {', '.join(q.flags)}" for q in a.qc if q.flags],
    )


def run_gr(
    input: Path, *, duration: float | None = None, doubling_time: float | None = None
) -> Result:
    """GR metrics (Hafner 2016) per experiment (``dose.gr``)."""
    from kinresist.dose.gr import gr_metrics, gr_values
    from kinresist.dose.result import make_result
    from kinresist.dose.tables import read_gr_table
    from kinresist.errors import InputError

    frame = read_gr_table(input)
    try:
        if "GRvalue" not in frame.columns:
            frame["GRvalue"] = gr_values(frame, duration=duration, doubling_time=doubling_time)
        res = gr_metrics(frame)
    except InputError as exc:
        if exc.path is not None:
            raise
        raise InputError(exc.detail, path=input, line=exc.line, column=exc.column) from None
    return make_result(
        "dose.gr",
        body={"experiments": res.to_dict(orient="records")},
        tables={"experiments": res},
        inputs={input.name: input},
        parameters={"duration": duration, "doubling_time": doubling_time},
    )


def run_select(
    input: Path,
    *,
    dose_col: str,
    response_col: str,
    group_col: str | None = None,
    models: str = "LL.4,LL.3,LL.5,W1.4,W2.4",
) -> Result:
    """AIC model selection table, as drc's mselect (``dose.select``)."""
    from kinresist.dose.fit import read_dose_table, select_models
    from kinresist.dose.models import get_model
    from kinresist.dose.result import make_result

    names = [get_model(m.strip()).name for m in models.split(",") if m.strip()]
    data = read_dose_table(input, dose_col=dose_col, response_col=response_col, group_col=group_col)
    res = select_models(data, models=names)
    res["group"] = res["group"].astype(str)
    return make_result(
        "dose.select",
        body={"models": res.to_dict(orient="records")},
        tables={"models": res},
        inputs={input.name: input},
        parameters={"models": names},
    )


def run_standard(
    input: Path,
    *,
    conc_col: str,
    signal_col: str,
    name_col: str = "name",
    model: str = "LL.4",
    se: str = "jtj",
) -> Result:
    """Standard-curve mode: 4PL/5PL on standards, unknowns interpolated (``dose.standard``)."""
    from kinresist.dose.result import make_result
    from kinresist.dose.standard_table import standard_from_table

    body, unknowns = standard_from_table(
        input, conc_col=conc_col, signal_col=signal_col, name_col=name_col, model=model, se=se
    )
    return make_result(
        "dose.standard",
        body=body,
        tables={"unknowns": unknowns},
        inputs={input.name: input},
        parameters={"model": model, "se": se},
    )


_COMMON = {"subject_kind": "cell_line", "sample_type": "cell_line", "default_format": "json"}

WORKFLOWS = [
    Workflow(
        group="dose",
        command="fit",
        help="Fit one curve per group: parameters with SE and CI, IC50, RSS, df, flags.",
        run=run_fit,
        inputs=[_TABLE],
        params=[
            _DOSE,
            _RESP,
            Param("group_col", str, help="Group column (one curve per group)."),
            _MODEL,
            _SE,
            Param("fix", str, multiple=True, help="Fix a parameter: NAME=VALUE (repeat)."),
            _UNIT,
            _LOG,
            Param("absolute", float, help="Also report the absolute ICx at this response level."),
            _GENOTYPE,
            Param(
                "table", Path, output="table", help="Also write tidy results (.csv/.tsv/.parquet)."
            ),
        ],
        report="kinresist.reports.dose:render",
        text="kinresist.reports.dose:text",
        long_running=True,
        distributable=True,
        stream="kinresist.dose.workflow:stream_fit",
        **_COMMON,  # type: ignore[arg-type]
    ),
    Workflow(
        group="dose",
        command="compare",
        help="Fold shift of the second group's EC50 over the first's (delta and Fieller CIs, F test).",
        run=run_compare,
        inputs=[_TABLE],
        params=[
            _DOSE,
            _RESP,
            Param(
                "group_col",
                str,
                required=True,
                help="Group column; the first group is the reference.",
            ),
            _SHARED,
            _MODEL,
            _SE,
            Param("level", float, default=50.0, help="Relative ED level compared (50 = EC50)."),
            _UNIT,
            _LOG,
        ],
        report="kinresist.reports.dose:render",
        text="kinresist.reports.dose:text",
        **_COMMON,  # type: ignore[arg-type]
    ),
    Workflow(
        group="dose",
        command="plate",
        help="Plate + map -> QC, normalised responses, fits, fold shifts and an HTML report.",
        run=run_plate,
        inputs=[
            InputSpec(
                "plate",
                help="Plate-reader file: grid (96/384, CSV/XLSX) or long table.",
                option=True,
            ),
            InputSpec(
                "plate_map",
                help="Plate map CSV/XLSX (well, role, cell_line, drug, concentration, replicate).",
                option=True,
                flag="--map",
            ),
        ],
        params=[
            _MODEL,
            _SE,
            Param("shared", str, help="Parameters shared in fold-shift fits."),
            Param("kill_as_zero", bool, default=False, help="Positive control defines 0 %."),
            Param("sheet", str, help="XLSX sheet."),
            _GENOTYPE,
            Param(
                "table",
                Path,
                output="table:wells",
                help="Write the normalised wells (.csv/.tsv/.parquet).",
            ),
            Param(
                "figures",
                Path,
                output="figures",
                help="Also write the figures (PNG and SVG) to this folder.",
            ),
        ],
        report="kinresist.reports.dose:render",
        text="kinresist.reports.dose:text",
        **_COMMON,  # type: ignore[arg-type]
    ),
    Workflow(
        group="dose",
        command="gr",
        help="GR metrics (Hafner 2016) per experiment from a GRmetrics-style table.",
        run=run_gr,
        inputs=[_TABLE],
        params=[
            Param("duration", float, help="Assay duration (h) when no time-zero counts."),
            Param("doubling_time", float, help="Untreated doubling time (h)."),
        ],
        records=False,
        default_format="json",
    ),
    Workflow(
        group="dose",
        command="select",
        help="AIC model selection table (drc mselect): logLik, AIC, AICc, BIC, lack-of-fit p.",
        run=run_select,
        inputs=[_TABLE],
        params=[
            _DOSE,
            _RESP,
            Param("group_col", str, help="Group column."),
            Param(
                "models", str, default="LL.4,LL.3,LL.5,W1.4,W2.4", help="Comma-separated models."
            ),
        ],
        records=False,
        default_format="json",
    ),
    Workflow(
        group="dose",
        command="standard",
        help="Standard-curve mode: fit 4PL/5PL to standards and interpolate the unknowns with CIs.",
        run=run_standard,
        inputs=[_TABLE],
        params=[
            Param(
                "conc_col",
                str,
                required=True,
                help="Standards' concentration column (empty for unknowns).",
            ),
            Param("signal_col", str, required=True, help="Signal column."),
            Param(
                "name_col",
                str,
                default="name",
                help="Sample name column (replicates share a name).",
            ),
            Param("model", ("LL.4", "LL.5"), default="LL.4", help="LL.4 (4PL) or LL.5 (5PL)."),
            _SE,
        ],
        records=False,
        default_format="json",
    ),
]
