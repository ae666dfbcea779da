"""Screen-scale dose-response fitting: stream a tidy table through the engine.

:func:`fit_table_stream` reads a tidy CSV/TSV or Parquet table (one row per well: dose,
response, curve label) in chunks with pyarrow, cuts the chunks at curve boundaries, fits
batches of curves with :func:`~kinresist.dose.fit.fit_arrays` (the table-level fit, with
the engine's fallback) and appends each batch's tidy rows to a Parquet or TSV file as it
goes. Memory is bounded by the batch, not the file: a million 9-point curves run in well
under 1 GB. Locally two batches are in flight: the compiled kernel (both cores, GIL
released) fits one while the previous one's tables are built and written. The output is the ``fits`` table of ``dose.fit`` (same columns as
:func:`kinresist.dose.result.fits_frame`), stamped with the result envelope (Parquet:
schema metadata ``kinresist``; TSV: ``## key: value`` lines).

A curve's rows are expected together (as written by most screens). When they are not,
the table is first partitioned by curve into temporary Parquet files (first-appearance
order kept), then fitted the same way. Input checks follow
:func:`~kinresist.dose.fit.read_dose_table`: NA cells dropped, text / non-finite / huge
values refused with the line named, negative doses refused (log doses: ``log_dose``),
curves need two distinct positive doses.

Progress: a rich progress bar with ETA on stderr when it is a terminal (``quiet`` hides
it); the one-time compile of the fitting kernel is announced unless ``quiet``. Imports
are lazy (pyarrow, numba, rich), so ``kinresist dose fit`` starts small.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from kinresist.errors import InputError

__all__ = ["StreamedFit", "fit_table_stream", "output_format", "read_fits_batches"]

_NA = ["", "na", "nan", "n/a", "#n/a", "null", "none"]
#: schema of the ``dose.fit`` body and the largest accepted magnitude
#: (:data:`kinresist.dose.result.SCHEMA_VERSION`, :data:`kinresist.dose.tables.MAX_ABS`; kept
#: here so that the streaming path need not import pandas; a test holds them equal)
SCHEMA_VERSION = "2.0"
MAX_ABS = 1e15
_ROWS_PER_READ = 1 << 18


@dataclass(frozen=True)
class StreamedFit:
    """What :func:`fit_table_stream` wrote."""

    path: Path
    n_curves: int
    n_rows: int
    status: Mapping[str, int]
    seconds: float
    partitioned: bool
    envelope: Mapping[str, Any] = field(repr=False)
    #: files written: ``path`` first, then ``also``
    written: tuple[Path, ...] = ()
    #: labels of the first (at most 10) curves whose status is not ``ok``
    not_ok: tuple[str, ...] = ()


@dataclass
class _Chunk:
    """Rows of whole curves: doses, responses, curve labels and the rows' line numbers;
    ``runs`` caches the start row and label of each curve."""

    dose: np.ndarray
    resp: np.ndarray
    group: Any  # pyarrow string array
    line: np.ndarray
    runs: tuple[np.ndarray, list[str]] | None = None

    def curves(self) -> tuple[np.ndarray, list[str]]:
        if self.runs is None:
            self.runs = _runs(self.group)
        return self.runs


def fit_table_stream(
    path: str | os.PathLike[str],
    *,
    dose_col: str,
    response_col: str,
    out: str | os.PathLike[str],
    group_col: str | None = None,
    model: str = "LL.4",
    se: str = "jtj",
    fixed: Mapping[str, float] | None = None,
    unit: str | None = None,
    log_dose: bool = False,
    absolute_level: float | None = None,
    ci_level: float = 0.95,
    batch_curves: int = 50_000,
    backend: str = "auto",
    quiet: bool = False,
    also: Sequence[str | os.PathLike[str]] = (),
    parameters: Mapping[str, Any] | None = None,
    dask: str | None = None,
) -> StreamedFit:
    """Fit every curve of a large tidy table, writing results as they are computed.

    Parameters
    ----------
    path
        ``.csv``/``.tsv``/``.txt`` (delimiter from the header) or ``.parquet``.
    out
        ``.parquet`` or ``.tsv`` (``.csv``: plain comma-separated, without the stamp lines).
    group_col
        Curve label column (one curve per label; without it the table is one curve).
    batch_curves
        Curves per engine batch (memory bound; 50,000 9-point curves use ~100 MB).
    quiet
        No progress bar and no compile notice (the bar is shown only on a terminal).
    also
        More files written with the same rows (format from each suffix: ``.parquet``,
        ``.tsv``/``.txt``, ``.csv``), e.g. ``dose fit --table``.
    parameters
        The envelope's ``parameters`` (default: this call's options), so that a caller's
        streamed files carry the same envelope as its in-memory result.
    dask
        Address of a Dask scheduler: the batches are fitted on its workers
        (:func:`kinresist.core.distribute.map_ordered`) and written in input order, with the
        same numbers as a local run; None fits here.
    Other parameters as :func:`~kinresist.dose.fit.fit_curves`.
    """
    from kinresist.core.batchrun import arrow_pool
    from kinresist.dose.models import get_model
    from kinresist.dose.units import unit_factor

    t0 = time.perf_counter()
    arrow_pool()  # jemalloc for pyarrow in a command-line batch run (core.batchrun)
    path, out = Path(path), Path(out)
    spec = get_model(model)
    if se not in ("jtj", "hessian"):
        msg = f"se must be 'jtj' or 'hessian', got {se!r}"
        raise InputError(msg)
    sinks = [(p, output_format(p)) for p in (out, *map(Path, also))]
    if not log_dose and "log" in dose_col.lower():
        msg = (
            f"the dose column {dose_col!r} is named like a log-transformed dose; give doses on "
            "the linear scale or pass log_dose=True if the values are log10 doses"
        )
        raise InputError(msg, path=path, column=dose_col)
    factor = unit_factor(unit, where="unit") if unit else 1.0
    opts = {
        "model": spec.name,
        "se": se,
        "fixed": fixed,
        "absolute_level": absolute_level,
        "ci_level": ci_level,
        "backend": backend,
    }
    convert = _Convert(path, dose_col, response_col, factor, log_dose)
    with _progress(path, quiet) as (advance, notice), ThreadPoolExecutor(2) as pool:
        prev = _set_notice(notice)
        try:
            # off the main thread, while the first rows are read: the input's SHA-256 for the
            # envelope, and loading (or, once after installation, compiling) the kernel
            envelope = pool.submit(
                _envelope, path, spec.name, se, dose_col, response_col, group_col, fixed, unit,
                log_dose, parameters,
            )  # fmt: skip
            # on a cluster the workers load the kernel; here nothing is fitted
            warm = pool.submit(_warm, spec, "numpy" if dask else backend, path)
            run = partial(
                _run, sinks=sinks, envelope=envelope, warm=warm, opts=opts,
                batch_curves=batch_curves, source=path, dose_col=dose_col, dask=dask,
                notice=notice,
            )  # fmt: skip
            try:
                counts = run(
                    _chunks(path, dose_col, response_col, group_col, convert, advance, True)
                )
                partitioned = False
            except _NotGrouped:
                with tempfile.TemporaryDirectory(prefix="kinresist-partition-") as tmp:
                    parts = _partition(
                        _chunks(path, dose_col, response_col, group_col, convert, None, False),
                        Path(tmp),
                        batch_curves,
                    )
                    counts = run(_read_partitions(parts, advance))
                partitioned = True
        finally:
            _set_notice(prev)
    n_curves, n_rows, status, not_ok = counts
    return StreamedFit(
        out, n_curves, n_rows, status, time.perf_counter() - t0, partitioned, envelope.result(),
        tuple(p for p, _ in sinks), tuple(not_ok),
    )  # fmt: skip


def output_format(path: Path) -> str:
    """``parquet``, ``tsv`` or ``csv`` from an output file's suffix."""
    fmt = {".parquet": "parquet", ".tsv": "tsv", ".txt": "tsv", ".csv": "csv"}.get(
        path.suffix.lower()
    )
    if fmt is None:
        msg = f"cannot tell the output format from {path.name!r}; use a .parquet or .tsv name"
        raise InputError(msg, path=path)
    return fmt


def read_fits_batches(path: str | os.PathLike[str], columns: Sequence[str]) -> Iterator[Any]:
    """Record batches (pyarrow) of ``columns`` of a ``fits`` table this module wrote
    (Parquet, or TSV/CSV after its ``## key: value`` lines), in bounded memory."""
    import pyarrow as pa

    path = Path(path)
    fmt = output_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=_ROWS_PER_READ, columns=columns)
        return
    import pyarrow.csv as pcsv

    with path.open("rb") as fh:
        skip = 0
        for raw in fh:
            if not raw.startswith(b"## "):
                break
            skip += 1
    text = {"group", "model", "se_method", "status", "flags", "ed50_note"}
    with path.open("rb") as fh:
        reader = pcsv.open_csv(
            fh,
            read_options=pcsv.ReadOptions(skip_rows=skip, block_size=8 << 20),
            parse_options=pcsv.ParseOptions(delimiter="," if fmt == "csv" else "\t"),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(columns),
                column_types={c: pa.string() for c in columns if c in text},
                strings_can_be_null=False,
            ),
        )
        yield from reader


# -- input ---------------------------------------------------------------------------------
class _NotGrouped(Exception):
    """A curve's rows are not contiguous."""


class _Convert:
    """Text/number columns -> checked float arrays (read_dose_table's rules, vectorised)."""

    def __init__(self, path: Path, dose_col: str, resp_col: str, factor: float, log_dose: bool):
        self.path, self.dose_col, self.resp_col = path, dose_col, resp_col
        self.factor, self.log_dose = factor, log_dose

    def numbers(self, col: Any, name: str, line0: int) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        from kinresist.dose import _arrow as A

        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            text = pc.utf8_trim_whitespace(col)
            na = pc.or_kleene(pc.is_null(text), pc.is_in(pc.utf8_lower(text), pa.array(_NA)))
            text = pc.if_else(na, pa.scalar(None, pa.string()), text)
            try:
                values = pc.cast(text, pa.float64())
            except pa.ArrowInvalid:
                self._bad_text(text, name, line0)
                raise  # pragma: no cover - _bad_text always raises
        else:
            values = pc.cast(col, pa.float64())
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        arr = A.to_numpy_float(values)
        bad = np.flatnonzero(np.isinf(arr) | (np.abs(np.nan_to_num(arr)) > MAX_ABS))
        if bad.size:
            i = int(bad[0])
            what = (
                "not a finite number" if np.isinf(arr[i]) else f"implausibly large (> {MAX_ABS:g})"
            )
            msg = f"{arr[i]!r} in column {name!r} is {what}; fix the cell or write NA"
            raise InputError(msg, path=self.path, line=line0 + i, column=name)
        return arr

    def _bad_text(self, text: Any, name: str, line0: int) -> None:
        import re

        for i, v in enumerate(text.to_pylist()):
            if v is None:
                continue
            try:
                float(v)
            except ValueError:
                hint = (
                    " (decimal comma? write 1.5, not 1,5)" if re.fullmatch(r"-?\d+,\d+", v) else ""
                )
                msg = f"{v!r} in column {name!r} is not a number{hint}; fix the cell or write NA"
                raise InputError(msg, path=self.path, line=line0 + i, column=name) from None
        msg = f"column {name!r} holds values that are not numbers; fix the cells or write NA"
        raise InputError(msg, path=self.path, column=name)

    def rows(self, batch: Any, group_col: str | None, line0: int) -> _Chunk:
        import pyarrow as pa
        import pyarrow.compute as pc

        from kinresist.dose import _arrow as A

        dose = self.numbers(batch.column(self.dose_col), self.dose_col, line0)
        resp = self.numbers(batch.column(self.resp_col), self.resp_col, line0)
        if self.log_dose:
            with np.errstate(over="ignore"):
                dose = 10.0**dose
        elif np.any(dose < 0):
            i = int(np.flatnonzero(dose < 0)[0])
            msg = (
                f"dose {dose[i]:g} is negative: the dose column looks log-transformed; give doses "
                "on the linear scale (dose = 10**value) or pass log_dose=True"
            )
            raise InputError(msg, path=self.path, line=line0 + i, column=self.dose_col)
        dose = dose * self.factor
        n = len(dose)
        if group_col is None:
            group = A.dict_strings(np.zeros(n, dtype=np.int32), ["all"])
        else:
            group = pc.cast(batch.column(group_col), pa.string())
            if group.null_count:
                group = pc.fill_null(group, "")
        keep = np.isfinite(dose) & np.isfinite(resp)
        line = np.arange(line0, line0 + n)
        if not keep.all():
            idx = np.flatnonzero(keep)
            return _Chunk(dose[idx], resp[idx], group.take(A.int64s(idx)), line[idx])
        return _Chunk(dose, resp, group, line)


def _chunks(
    path: Path,
    dose_col: str,
    resp_col: str,
    group_col: str | None,
    convert: _Convert,
    advance: Callable[[int], None] | None,
    contiguous: bool,
) -> Iterator[_Chunk]:
    """Checked rows in file order; with ``contiguous``, each chunk ends at a curve boundary
    (the open curve is carried over) and a curve seen again raises :class:`_NotGrouped`."""
    cols = [dose_col, resp_col, *([group_col] if group_col else [])]
    # labels of the curves done; while they only increase (most screens), a repeat is
    # impossible and they are only kept, the set is built the first time they do not
    seen: set[str] | None = None
    done: list[list[str]] = []
    top: str | None = None
    carry: _Chunk | None = None
    for batch, line0, nbytes in _batches(path, cols):
        chunk = convert.rows(batch, group_col, line0)
        if advance is not None:
            advance(nbytes)
        if not contiguous:
            yield chunk
            continue
        if carry is not None:
            chunk = _concat([carry, chunk], whole=False)
        if not len(chunk.dose):
            carry = chunk
            continue
        starts, labels = chunk.curves()
        if seen is None and (top is None or labels[0] >= top) and _increasing(labels):
            done.append(labels[:-1])  # the last curve may go on in the next chunk
            top = labels[-1]
        else:
            if seen is None:
                seen = {label for part in done for label in part}
                done = []
            if not seen.isdisjoint(labels) or len(set(labels)) != len(labels):
                raise _NotGrouped(labels[0])
            seen.update(labels[:-1])
        last = int(starts[-1])
        if last > 0:
            yield _slice(chunk, 0, last)
        carry = _slice(chunk, last, len(chunk.dose))
    if carry is not None and len(carry.dose):
        yield carry


def _increasing(labels: list[str]) -> bool:
    """Strictly increasing (so no label twice)."""
    from itertools import pairwise

    return all(a < b for a, b in pairwise(labels))


def _batches(path: Path, cols: list[str]) -> Iterator[tuple[Any, int, int]]:
    """(record batch, line number of its first row, bytes consumed) from the file."""
    import pyarrow as pa

    suffix = path.suffix.lower()
    if not path.is_file():
        msg = "file not found; check the path" if not path.exists() else "expected a table file"
        raise InputError(msg, path=path)
    with path.open("rb") as fh:
        head = fh.read(4)
    line = 2
    if suffix == ".parquet" or head == b"PAR1":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            msg = f"damaged Parquet file ({' '.join(str(exc).split())[:200]})"
            raise InputError(msg, path=path) from None
        _require(pf.schema_arrow.names, cols, path)
        per_row = path.stat().st_size / max(pf.metadata.num_rows, 1)
        for batch in pf.iter_batches(batch_size=_ROWS_PER_READ, columns=cols):
            yield batch, line, int(batch.num_rows * per_row)
            line += batch.num_rows
        return
    if suffix in (".xlsx", ".xlsm"):
        from kinresist.dose.tables import read_frame

        frame = read_frame(path)
        _require(list(frame.columns), cols, path)
        yield pa.RecordBatch.from_pandas(frame[cols].astype(str)), line, path.stat().st_size
        return
    import pyarrow.csv as pcsv

    with path.open("rb") as fh:
        first = fh.readline().decode("utf-8-sig", errors="replace")
    counts = {d: first.count(d) for d in ("\t", ",", ";")}
    sep = max(counts, key=counts.__getitem__) if max(counts.values()) else "\t"
    names = [c.strip() for c in next(csv.reader([first.rstrip("\r\n")], delimiter=sep))]
    _require(names, cols, path)
    # numbers parsed by pyarrow directly (NA spellings as nulls); a cell that is not a number
    # makes the reader fail: the file is then read again as text to name the line
    na = sorted({v for t in _NA for v in (t, t.upper(), t.capitalize())})
    typed = {c: pa.float64() for c in cols[:2]}
    for as_text in (False, True):
        types = {c: (pa.string() if as_text or c not in typed else typed[c]) for c in cols}
        line = 2
        with _CountingFile(path) as fh:
            try:
                reader = pcsv.open_csv(
                    fh,
                    read_options=pcsv.ReadOptions(
                        block_size=8 << 20, column_names=names, skip_rows=1
                    ),
                    parse_options=pcsv.ParseOptions(delimiter=sep),
                    convert_options=pcsv.ConvertOptions(
                        include_columns=cols,
                        column_types=types,
                        null_values=na,
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
                done = fh.tell()
                for batch in reader:
                    now = fh.tell()
                    yield batch, line, now - done
                    done = now
                    line += batch.num_rows
                return
            except pa.ArrowInvalid as exc:
                if not as_text and "conversion error" in str(exc):
                    continue  # locate the bad cell on the text pass (it raises InputError)
                msg = (
                    f"cannot parse the table ({' '.join(str(exc).split())[:200]}); expected "
                    f"{sep!r}-separated columns with one value per header column"
                )
                raise InputError(msg, path=path) from None


class _CountingFile:
    """A binary file whose ``tell`` is read by the progress bar (pyarrow reads it)."""

    def __init__(self, path: Path):
        self._fh = path.open("rb")

    def __enter__(self) -> Any:
        return self._fh

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def _require(names: list[str], cols: list[str], path: Path) -> None:
    for col in cols:
        if col not in names:
            msg = f"no column {col!r}; found {', '.join(map(str, names))}"
            raise InputError(msg, path=path, column=col)


def _runs(group: Any) -> tuple[np.ndarray, list[str]]:
    """Start index and label of each run of equal labels."""
    import pyarrow.compute as pc

    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64), []
    from kinresist.dose import _arrow as A

    change = A.to_numpy_bool(pc.not_equal(group.slice(1), group.slice(0, n - 1)))
    starts = np.concatenate([[0], np.flatnonzero(change) + 1])
    labels = group.take(A.int64s(starts)).to_pylist()
    if None in labels:  # a null label reads as "None" (as str(None))
        labels = [str(v) for v in labels]
    return starts, labels


def _slice(c: _Chunk, a: int, b: int) -> _Chunk:
    """Rows ``a:b`` (cut at curve starts: the cached runs are kept)."""
    runs = None
    if c.runs is not None:
        starts, labels = c.runs
        i0, i1 = np.searchsorted(starts, [a, b])
        runs = (starts[i0:i1] - a, labels[i0:i1])
    return _Chunk(c.dose[a:b], c.resp[a:b], c.group.slice(a, b - a), c.line[a:b], runs)


def _concat(parts: list[_Chunk], whole: bool = True) -> _Chunk:
    """Chunks joined; ``whole``: each holds whole curves (their runs are joined too)."""
    import pyarrow as pa

    if len(parts) == 1:
        return parts[0]
    runs = None
    if whole and all(p.runs is not None for p in parts):
        offsets = np.cumsum([0] + [len(p.dose) for p in parts[:-1]])
        runs = (
            np.concatenate([p.runs[0] + o for p, o in zip(parts, offsets, strict=True)]),  # type: ignore[index]
            [lab for p in parts for lab in p.runs[1]],  # type: ignore[index]
        )
    return _Chunk(
        np.concatenate([p.dose for p in parts]),
        np.concatenate([p.resp for p in parts]),
        pa.concat_arrays([p.group for p in parts]),
        np.concatenate([p.line for p in parts]),
        runs,
    )


def _partition(chunks: Iterator[_Chunk], tmp: Path, batch_curves: int) -> list[Path]:
    """Spill rows into Parquet files by curve ordinal // batch_curves (first appearance)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ordinal: dict[str, int] = {}
    writers: dict[int, Any] = {}
    schema = pa.schema(
        [("o", pa.int64()), ("dose", pa.float64()), ("resp", pa.float64()),
         ("group", pa.string()), ("line", pa.int64())]
    )  # fmt: skip
    try:
        for c in chunks:
            labels = c.group.to_pylist()
            o = np.fromiter(
                (ordinal.setdefault(g, len(ordinal)) for g in labels), np.int64, len(labels)
            )
            part = o // batch_curves
            for k in np.unique(part):
                sel = np.flatnonzero(part == k)
                if k not in writers:
                    writers[k] = pq.ParquetWriter(tmp / f"part-{k:06d}.parquet", schema)
                writers[k].write_table(
                    pa.table(
                        [
                            pa.array(o[sel]),
                            pa.array(c.dose[sel]),
                            pa.array(c.resp[sel]),
                            c.group.take(pa.array(sel)),
                            pa.array(c.line[sel]),
                        ],
                        schema=schema,
                    )
                )
    finally:
        for w in writers.values():
            w.close()
    return [tmp / f"part-{k:06d}.parquet" for k in sorted(writers)]


def _read_partitions(parts: list[Path], advance: Callable[[int], None]) -> Iterator[_Chunk]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for part in parts:
        t = pq.read_table(part)
        order = np.argsort(t.column("o").to_numpy(), kind="stable")
        t = t.take(pa.array(order))
        advance(part.stat().st_size)
        yield _Chunk(
            t.column("dose").to_numpy(),
            t.column("resp").to_numpy(),
            t.column("group").combine_chunks(),
            t.column("line").to_numpy(),
        )


# -- fitting and output ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fitted:
    """One batch's tidy rows and counts (what a worker sends back)."""

    table: Any  # pyarrow Table
    n_curves: int
    n_rows: int
    status: dict[str, int]
    not_ok: list[str]


def _fit_chunk(chunk: _Chunk, *, opts: Mapping[str, Any], source: Path, dose_col: str) -> _Fitted:
    """Fit one batch of whole curves (pure: runs here or on a Dask worker)."""
    from kinresist.dose import _arrow as A
    from kinresist.dose.batchfit import STATUS_LABELS
    from kinresist.dose.summary import fit_arrays, fits_table

    labels, x, y = _pad(chunk)
    _check_doses(labels, x, source, dose_col)
    starts, _ = chunk.curves()
    summary = fit_arrays(labels, x, y, fallback=True, **opts)
    codes = summary.fit.status_codes()
    counts = np.bincount(codes, minlength=len(STATUS_LABELS))
    bad = np.flatnonzero(codes != 0)[:10]
    return _Fitted(
        fits_table(summary, chunk.group.take(A.int64s(starts))),
        len(labels),
        len(chunk.dose),
        {name: int(k) for name, k in sorted(zip(STATUS_LABELS, counts, strict=True)) if k},
        [labels[i] for i in bad],
    )


def _run(
    chunks: Iterator[_Chunk],
    *,
    sinks: Sequence[tuple[Path, str]],
    envelope: Future[dict[str, Any]],
    warm: Future[None],
    opts: Mapping[str, Any],
    batch_curves: int,
    source: Path,
    dose_col: str,
    dask: str | None,
    notice: Callable[[str], None] | None,
) -> tuple[int, int, dict[str, int], list[str]]:
    from kinresist.core.distribute import map_ordered

    fit = partial(_fit_chunk, opts=dict(opts), source=source, dose_col=dose_col)

    def here(chunk: _Chunk) -> _Fitted:
        warm.result()
        return fit(chunk)

    n_curves = n_rows = 0
    status: dict[str, int] = {}
    not_ok: list[str] = []
    with ExitStack() as stack:
        # the next batch is read (pyarrow, off the GIL) while this one is fitted
        batches = stack.enter_context(_prefetch(_rebatch(chunks, batch_curves)))
        writers = [stack.enter_context(_Writer(p, f, envelope)) for p, f in sinks]
        # here, two batches at once: the kernel releases the GIL and takes one launch at a
        # time (both cores), so one batch's tables are built while the next is fitted
        parts = map_ordered(fit if dask else here, batches, dask=dask, on_connect=notice, workers=2)
        for part in parts:
            for writer in writers:
                writer.write(part.table)
            n_curves += part.n_curves
            n_rows += part.n_rows
            for code, k in part.status.items():
                status[code] = status.get(code, 0) + k
            not_ok.extend(part.not_ok[: 10 - len(not_ok)])
        if n_rows == 0:
            msg = "no rows with both a dose and a response (every row has NA in one of them)"
            raise InputError(msg, path=source)
    return n_curves, n_rows, status, not_ok


@contextmanager
def _prefetch(items: Iterator[_Chunk]) -> Iterator[Iterator[_Chunk]]:
    """``items`` produced one ahead by a reader thread; its exceptions are raised here, in
    order (a :class:`_NotGrouped` after the batches before it). The thread stops when the
    consumer leaves (error or not)."""
    import queue
    import threading

    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(("error", exc))

    def consume() -> Iterator[_Chunk]:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    thread = threading.Thread(target=produce, name="kinresist-dose-reader", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


def _rebatch(chunks: Iterator[_Chunk], batch_curves: int) -> Iterator[_Chunk]:
    """Chunks of whole curves regrouped into batches of at most ``batch_curves`` curves."""
    pending: list[_Chunk] = []
    count = 0
    for chunk in chunks:
        while True:
            starts, _ = chunk.curves()
            room = batch_curves - count
            if len(starts) <= room:
                break
            cut = int(starts[room])
            pending.append(_slice(chunk, 0, cut))
            yield _concat(pending)
            pending, count = [], 0
            chunk = _slice(chunk, cut, len(chunk.dose))
        if len(chunk.dose):
            pending.append(chunk)
            count += len(starts)
    if pending:
        yield _concat(pending)


def _pad(chunk: _Chunk) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Curves (runs of equal labels) as NaN-padded ``(n_curves, n_points)`` arrays."""
    starts, labels = chunk.curves()
    n = len(chunk.dose)
    counts = np.diff(np.append(starts, n))
    width = int(counts.max()) if counts.size else 0
    row = np.repeat(np.arange(len(starts)), counts)
    col = np.arange(n) - np.repeat(starts, counts)
    x = np.full((len(starts), width), np.nan)
    y = np.full((len(starts), width), np.nan)
    x[row, col] = chunk.dose
    y[row, col] = chunk.resp
    return labels, x, y


def _check_doses(labels: list[str], x: np.ndarray, path: Path, dose_col: str) -> None:
    """Every curve needs two distinct positive doses (as read_dose_table)."""
    xs = np.where(x > 0, x, np.inf)
    if not (xs[:, 1:] >= xs[:, :-1]).all():  # doses usually come ascending: no sort then
        xs = np.sort(xs, axis=1)
    n_pos = (np.isfinite(xs) & np.concatenate(
        [np.ones((len(xs), 1), bool), xs[:, 1:] != xs[:, :-1]], axis=1)).sum(axis=1)  # fmt: skip
    bad = np.flatnonzero(n_pos < 2)
    if bad.size:
        i = int(bad[0])
        shown = ", ".join(f"{d:g}" for d in np.unique(xs[i][np.isfinite(xs[i])])) or "none"
        msg = (
            f"group {labels[i]!r} has {int(n_pos[i])} distinct positive dose(s) ({shown}); a "
            "dose-response curve needs at least two distinct positive doses"
        )
        raise InputError(msg, path=path, column=dose_col)


class _Writer:
    """Appends tidy batches to a Parquet file (row groups) or a stamped TSV/CSV."""

    def __init__(self, path: Path, fmt: str, envelope: Future[dict[str, Any]]):
        self.path, self.fmt, self._envelope = path, fmt, envelope
        self._pq: Any = None
        self._fh: Any = None
        self._first = True
        self._tmp = path.with_name(f".{path.name}.partial")

    def __enter__(self) -> _Writer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, table: Any) -> None:
        import pyarrow as pa

        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            from kinresist.core.serialise import to_json

            if self._pq is None:
                env = {**self._envelope.result(), "table": "fits"}
                meta = {b"kinresist": to_json(env, indent=None).encode()}
                self._schema = table.schema.with_metadata(meta)
                # dictionary pages for the few-valued text columns (model, status, flags ...);
                # not for the curve labels, which are unique (a dictionary of every label
                # costs time and falls back to plain pages anyway)
                text = [
                    f.name for f in table.schema if pa.types.is_string(f.type) and f.name != "group"
                ]
                self._pq = pq.ParquetWriter(self._tmp, self._schema, use_dictionary=text)
            self._pq.write_table(table.cast(self._schema))
            return
        import pyarrow.csv as pcsv

        sep = "," if self.fmt == "csv" else "\t"
        if self._fh is None:
            from kinresist.provenance import tsv_header

            self._fh = self._tmp.open("wb")
            if self.fmt == "tsv":  # CSV stays plain, for spreadsheets (as Result.write)
                env = self._envelope.result()
                head = tsv_header({"kind": env.get("workflow"), **env})
                self._fh.write(head.encode())
        pcsv.write_csv(
            table,
            self._fh,
            pcsv.WriteOptions(include_header=self._first, delimiter=sep, quoting_style="needed"),
        )
        self._first = False

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            self._fh.close()
        if exc_type is None and self._tmp.exists():
            self._tmp.replace(self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def _envelope(
    path: Path, model: str, se: str, dose_col: str, resp_col: str, group_col: str | None,
    fixed: Mapping[str, float] | None, unit: str | None, log_dose: bool,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    from kinresist.core.result import Provenance
    from kinresist.provenance import RESEARCH_USE_NOTICE

    p = Provenance.build(
        inputs={path.name: path},
        parameters=dict(parameters)
        if parameters is not None
        else {
            "model": model,
            "se": se,
            "dose_col": dose_col,
            "response_col": resp_col,
            "group_col": group_col,
            "fixed": dict(fixed or {}),
            "unit": unit,
            "log_dose": log_dose,
            "fallback": True,
        },
    )
    return {
        "workflow": "dose.fit",
        "schema_version": SCHEMA_VERSION,
        "kinresist_version": p.kinresist_version,
        "kb_version": p.kb_version,
        "created": p.created,
        "inputs": dict(p.inputs),
        "parameters": dict(p.parameters),
        "notice": RESEARCH_USE_NOTICE,
        "warnings": [],
    }


def _warm(spec: Any, backend: str, path: Path) -> None:
    """Load (or compile) the compiled kernel when the table looks screen-sized."""
    from kinresist.dose.fastpath import (
        AUTO_MIN_CURVES,
        compiled_family,
        load_kernel,
        numba_available,
    )

    if backend == "auto":
        backend = os.environ.get("KINRESIST_DOSE_BACKEND", "auto").strip().lower()
    if backend == "numpy" or not compiled_family(spec):
        return
    rows = path.stat().st_size / 30  # a tidy CSV row is ~30-40 bytes
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception:  # noqa: BLE001 - the reader reports a damaged file properly
            return
    if backend == "auto" and rows < 8 * AUTO_MIN_CURVES:
        return
    if not numba_available():
        return
    load_kernel(spec)


# -- progress ------------------------------------------------------------------------------
@contextmanager
def _progress(
    path: Path, quiet: bool
) -> Iterator[tuple[Callable[[int], None], Callable[[str], None] | None]]:
    """(advance(bytes), compile notice) — a rich bar with ETA on a terminal, else silent."""
    if quiet:
        yield (lambda _n: None), None
        return
    if not sys.stderr.isatty():
        yield (lambda _n: None), (lambda msg: print(msg, file=sys.stderr, flush=True))
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    with ExitStack() as stack:
        bar = stack.enter_context(
            Progress(
                TextColumn("[bold]fitting[/] {task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )
        )
        task = bar.add_task(path.name, total=path.stat().st_size)
        yield (lambda n: bar.advance(task, n)), (lambda msg: console.print(msg))


def _set_notice(fn: Callable[[str], None] | None) -> Callable[[str], None] | None:
    from kinresist.dose.fastpath import set_compile_notice

    return set_compile_notice(fn)
