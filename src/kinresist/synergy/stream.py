"""Screen-scale synergy scoring: read, score and write block by block, in bounded memory.

A screen (DrugComb: ~740,000 blocks) does not fit the in-memory path (:func:`read_blocks` ->
:func:`score_blocks` -> one :class:`~kinresist.core.Result`, ~11 KB per block). Here a long
table (CSV/TSV or Parquet) is read in **chunks of whole blocks** (pyarrow; each block's rows
must be together, as in every screen export; the order of rows inside a block is free), each
chunk is scored by the batch engine (:func:`~kinresist.synergy.engine.score_stack`) and turned
into the ``blocks``, ``cells`` and ``measurements`` tables, and the tables are appended to the
output files (Parquet row groups or TSV/CSV rows). Chunks are scored here or on a Dask cluster
(:func:`kinresist.core.distribute.map_ordered`) and written in input order, so the files do not
depend on where they were computed, and their rows equal the in-memory path's tables.

Checks and reading are vectorised for the common case (one row per dose pair, one drug pair
and unit per block, complete checkerboard); any chunk that is not (replicates, a missing dose
pair, a negative dose, ...) goes through :func:`~kinresist.synergy.io.blocks_from_frame`, which
averages replicates or raises the same error as the in-memory reader (line numbers counted in
the whole file).

What a streamed run does not do (they live in the per-block JSON body of the in-memory path):
replicate bootstrap statistics (blocks are scored on replicate means; the result says how many
had replicates), ``--sensitivity`` (refused: use ``kinresist synergy sensitivity``), figures.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import numpy as np

from kinresist.errors import InputError
from kinresist.synergy.block import BlockStack, stack_blocks
from kinresist.synergy.io import PARQUET_SUFFIXES, ResponseKind, column_map

if TYPE_CHECKING:
    import pyarrow as pa

    from kinresist.core.progress import Progress
    from kinresist.core.result import Result
    from kinresist.synergy.engine import Mode

__all__ = [
    "CHUNK_BLOCKS",
    "ChunkScores",
    "RawChunk",
    "ScoreOptions",
    "input_extent",
    "iter_chunks",
    "score_chunk",
    "score_file",
    "streamable",
]

#: Blocks per chunk: ~40 KB of working memory per 8x8 block while it is scored and written
#: (one chunk is one Dask task; at 10,000 blocks the engine fits single agents compiled).
CHUNK_BLOCKS = 10_000
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")
_STRINGS = ("block_id", "drug1", "drug2", "conc_unit")
_NUMBERS = ("conc1", "conc2", "response")
_MAX_WARNINGS = 50  # block warnings kept in the envelope, as the in-memory result keeps


def streamable(path: Path) -> bool:
    """Whether ``path`` can be read in chunks: a CSV/TSV long table or a Parquet file."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return True
    if suffix not in _TEXT_SUFFIXES:
        return False
    import csv

    from kinresist.synergy.io import _ALIASES

    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = next(csv.reader(fh, delimiter="," if suffix == ".csv" else "\t"), [])
    known = {a for aliases in _ALIASES.values() for a in aliases}
    return sum(str(v).strip().lower() in known for v in first) >= 3  # else a dose matrix


def input_extent(path: Path) -> int:
    """What progress is counted in: bytes of a text table, rows of a Parquet file."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return path.stat().st_size


# -- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RawChunk:
    """The rows of whole blocks, column-wise (compact and picklable: what a worker receives).

    ``block`` numbers each row's block (0, 1, ... in order of appearance); ``block_ids`` names
    them. Drug names and units are dictionary codes (``-1``: empty unit). ``first_row`` is
    the 0-based data row of the chunk's first row in the file (text tables: line =
    row + 2).
    """

    index: int
    path: str
    text: bool
    first_row: int
    columns: Mapping[str, str]
    block: np.ndarray
    block_ids: np.ndarray
    drug1: tuple[np.ndarray, np.ndarray]
    drug2: tuple[np.ndarray, np.ndarray]
    unit: tuple[np.ndarray, np.ndarray] | None
    conc1: np.ndarray
    conc2: np.ndarray
    response: np.ndarray
    extent: int = 0

    @property
    def n_rows(self) -> int:
        return int(self.block.size)

    @property
    def n_blocks(self) -> int:
        return int(self.block_ids.size)


class _Counting:
    """A binary file that counts the bytes read (progress of a text table)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.count = 0
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def _bad_number(path: Path, columns: Mapping[str, str], text: bool) -> InputError:
    """Locate the non-numeric dose/response value the in-memory reader reports (the first one
    of the first column with any, columns in the order conc1, conc2, response; error path only)."""
    import pandas as pd

    names = [columns[k] for k in _NUMBERS]
    first: dict[str, tuple[int, Any]] = {}

    def scan(frames: Iterator[pd.DataFrame]) -> None:
        offset = 0
        for frame in frames:
            for name in names:
                if name in first:
                    continue
                num = pd.to_numeric(frame[name], errors="coerce")
                bad = (num.isna() & frame[name].notna()).to_numpy()
                if bad.any():
                    k = int(np.flatnonzero(bad)[0])
                    first[name] = (offset + k, frame[name].iloc[k])
            offset += len(frame)

    if text:
        sep = "," if path.suffix.lower() == ".csv" else "\t"
        with pd.read_csv(path, sep=sep, usecols=names, dtype=str, chunksize=200_000) as reader:
            scan(iter(reader))
    else:
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as pf:
            scan(b.to_pandas() for b in pf.iter_batches(columns=names))
    for name in names:
        if name in first:
            row, value = first[name]
            msg = f"column {name!r} must be numeric, found {value!r} (fix the value or remove the row)"
            if text:
                return InputError(msg, path=path, line=row + 2, column=name)
            return InputError(f"row {row + 1}: {msg}", path=path, column=name)
    return InputError("cannot read the dose/response columns as numbers", path=path)


def _batches(
    path: Path, *, text: bool, batch_rows: int
) -> tuple[dict[str, str], Iterator[tuple[pa.RecordBatch, int]]]:
    """The column map and the file's record batches (with the progress extent read so far)."""
    import pyarrow as pa

    if not text:
        import pyarrow.parquet as pq

        try:
            # no pre-buffering: pyarrow keeps pre-buffered column chunks of every row group
            # read so far (memory growing with the file); buffered reads stream instead
            pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 22)
        except (pa.ArrowInvalid, OSError) as exc:
            msg = f"cannot read Parquet: {exc}"
            raise InputError(msg, path=path) from None
        columns = column_map(pf.schema_arrow.names, path=path)

        def parquet() -> Iterator[tuple[pa.RecordBatch, int]]:
            done = 0
            for batch in pf.iter_batches(batch_size=batch_rows, columns=list(columns.values())):
                done += batch.num_rows
                yield batch, done

        return columns, parquet()

    import csv

    import pyarrow.csv as pacsv

    sep = "," if path.suffix.lower() == ".csv" else "\t"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter=sep), [])
    columns = column_map(header, path=path)
    types = {columns[k]: pa.string() for k in _STRINGS if k in columns}
    types.update({columns[k]: pa.float64() for k in _NUMBERS})

    def rows() -> Iterator[tuple[pa.RecordBatch, int]]:
        with path.open("rb") as raw:
            counted = _Counting(raw)
            try:
                reader = pacsv.open_csv(
                    cast(Any, counted),
                    read_options=pacsv.ReadOptions(block_size=max(1 << 10, batch_rows * 64)),
                    parse_options=pacsv.ParseOptions(delimiter=sep),
                    convert_options=pacsv.ConvertOptions(
                        column_types=types,
                        include_columns=list(columns.values()),
                        strings_can_be_null=True,
                    ),
                )
                for batch in reader:
                    yield batch, counted.count
            except pa.ArrowInvalid as exc:
                if "conversion error" in str(exc):
                    raise _bad_number(path, columns, text) from None
                msg = f"cannot parse table: {exc}"
                raise InputError(msg, path=path) from None

    return columns, rows()


def _as_float(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=float)


def _codes(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Dictionary codes (-1 for empty values) and the values."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(column)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    values = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    return codes, values


def iter_chunks(
    path: Path, *, chunk_blocks: int = CHUNK_BLOCKS, batch_rows: int = 1 << 16
) -> Iterator[RawChunk]:
    """A long table (CSV/TSV/Parquet) in chunks of ``chunk_blocks`` whole blocks, in file order.

    The file is read in batches of about ``batch_rows`` rows; a block may span batches.

    A block whose rows are not together (it appears again after another block) is an
    :class:`InputError`: sort the table by block, keeping the rows' order inside each block.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if chunk_blocks < 1:
        msg = f"chunk size must be at least 1 block, got {chunk_blocks}"
        raise InputError(msg)
    text = path.suffix.lower() not in PARQUET_SUFFIXES
    columns, batches = _batches(path, text=text, batch_rows=batch_rows)
    has_block = "block_id" in columns
    seen: set[str] = set()
    state = {"index": 0, "row": 0, "extent": 0}

    def strings(table: pa.Table, key: str) -> pa.Array:
        col = table.column(columns[key]).combine_chunks()
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            col = pc.cast(col, pa.string())
        return col

    def ids_of(table: pa.Table) -> pa.Array:
        if not has_block:
            return pa.array(["1"] * table.num_rows, type=pa.string())
        return strings(table, "block_id").fill_null("nan")

    def starts_of(ids: pa.Array) -> np.ndarray:
        if len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        change = pc.not_equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
        return np.concatenate([[0], np.flatnonzero(change) + 1]).astype(np.int64)

    def emit(table: pa.Table, ids: pa.Array, extent_now: int) -> RawChunk:
        starts = starts_of(ids)
        names = np.asarray(ids.take(pa.array(starts)).to_pylist(), dtype=object)
        first_row = state["row"]
        if len(set(names.tolist())) != names.size or not seen.isdisjoint(names.tolist()):
            counts: dict[str, int] = {}
            for k, name in enumerate(names.tolist()):
                if name in seen or counts.get(name):
                    line = first_row + int(starts[k])
                    where = f"line {line + 2}" if text else f"row {line + 1}"
                    msg = (
                        f"block {name!r} continues at {where} after other blocks; a screen is "
                        "read block by block: sort the table by block_id (keeping the order of "
                        "rows inside each block)"
                    )
                    raise InputError(msg, path=path)
                counts[name] = 1
        seen.update(names.tolist())
        block = np.repeat(np.arange(starts.size), np.diff(np.append(starts, len(ids))))
        d1 = strings(table, "drug1").fill_null("nan")
        d2 = strings(table, "drug2").fill_null("nan")
        unit = _codes(strings(table, "conc_unit")) if "conc_unit" in columns else None
        chunk = RawChunk(
            index=state["index"],
            path=str(path),
            text=text,
            first_row=first_row,
            columns=dict(columns),
            block=block,
            block_ids=names,
            drug1=_codes(d1),
            drug2=_codes(d2),
            unit=unit,
            conc1=_as_float(table.column(columns["conc1"])),
            conc2=_as_float(table.column(columns["conc2"])),
            response=_as_float(table.column(columns["response"])),
            extent=extent_now - state["extent"],
        )
        state["index"] += 1
        state["row"] += table.num_rows
        state["extent"] = extent_now
        return chunk

    buffer: pa.Table | None = None
    ids = pa.array([], type=pa.string())
    extent = 0
    try:
        for batch, extent in batches:
            part = pa.Table.from_batches([batch])
            buffer = part if buffer is None else pa.concat_tables([buffer, part])
            ids = pa.concat_arrays([ids, ids_of(part)])
            if not has_block:
                continue
            starts = starts_of(ids)
            while starts.size > chunk_blocks:  # the last block may continue in the next batch
                cut = int(starts[chunk_blocks])
                yield emit(buffer.slice(0, cut), ids.slice(0, cut), extent)
                buffer, ids = buffer.slice(cut), ids.slice(cut)
                starts = starts[chunk_blocks:] - cut
    except pa.ArrowInvalid as exc:  # a numeric column that is text in a Parquet file
        raise _bad_number(path, columns, text) from exc
    if buffer is None or buffer.num_rows == 0:
        if state["index"] == 0:
            msg = "the table has no rows"
            raise InputError(msg, path=path)
        return
    yield emit(buffer, ids, extent)


# -- scoring ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreOptions:
    """How a chunk is scored (the ``synergy score`` options that change numbers)."""

    mode: Mode = "exact"
    methods: tuple[str, ...] = ("zip", "bliss", "hsa", "loewe")
    response: ResponseKind = "viability"
    baseline: str = "non"


@dataclass(frozen=True, eq=False)
class ChunkScores:
    """A scored chunk: its tables (pyarrow) and what the run reports about it."""

    index: int
    n_blocks: int
    n_replicated: int
    tables: dict[str, pa.Table]
    warnings: list[str] = field(default_factory=list)
    extent: int = 0


def _fast_stacks(chunk: RawChunk, response: ResponseKind) -> dict[str, Any] | None:
    """Stacks straight from the columns when every block is a complete checkerboard with one
    row per dose pair, one drug pair and one unit; None otherwise (then the Block path)."""
    block, c1, c2, y = chunk.block, chunk.conc1, chunk.conc2, chunk.response
    nb, n = chunk.n_blocks, chunk.n_rows
    if n == 0 or not (np.isfinite(c1).all() and np.isfinite(c2).all() and np.isfinite(y).all()):
        return None
    if (c1 < 0).any() or (c2 < 0).any():
        return None
    inner = np.ones(n, dtype=bool)
    inner[0] = False
    inner[1:] = block[1:] == block[:-1]
    codes = [chunk.drug1[0], chunk.drug2[0]] + ([chunk.unit[0]] if chunk.unit else [])
    for code in codes:
        if (code[1:][inner[1:]] != code[:-1][inner[1:]]).any():
            return None
    starts = np.flatnonzero(~inner)
    sizes = np.diff(np.append(starts, n))

    def dense(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.lexsort((x, block))
        xs, bs = x[order], block[order]
        new = np.ones(n, dtype=bool)
        new[1:] = (bs[1:] != bs[:-1]) | (xs[1:] != xs[:-1])
        gid = np.cumsum(new) - 1
        first = gid[np.searchsorted(bs, np.arange(nb))]
        rank = np.empty(n, dtype=np.int64)
        rank[order] = gid - first[bs]
        return rank, np.bincount(bs[new], minlength=nb), xs[new]

    i, n1, u1 = dense(c1)
    j, n2, u2 = dense(c2)
    if (n1 < 2).any() or (n2 < 2).any() or (sizes != n1 * n2).any():
        return None
    cell = i * n2[block] + j
    offset = np.concatenate([[0], np.cumsum(n1 * n2)[:-1]])
    if (np.bincount(offset[block] + cell, minlength=n) != 1).any():
        return None
    off1 = np.concatenate([[0], np.cumsum(n1)[:-1]])
    off2 = np.concatenate([[0], np.cumsum(n2)[:-1]])
    if (u1[off1] != 0).any() or (u2[off2] != 0).any():
        return None  # no dose-0 row/column: the Block path says so
    value = 100.0 - y if response == "viability" else y
    pos = np.arange(n) - starts[block]
    groups = []
    for a, b in sorted({(int(x), int(z)) for x, z in zip(n1, n2, strict=True)}):
        idx = np.flatnonzero((n1 == a) & (n2 == b))
        rows = np.flatnonzero(np.isin(block, idx))
        local = np.searchsorted(idx, block[rows])
        inh = np.empty((idx.size, a * b))
        rank = np.empty((idx.size, a * b), dtype=np.int64)
        inh[local, cell[rows]] = value[rows]
        rank[local, cell[rows]] = pos[rows]
        conc1 = u1[off1[idx][:, None] + np.arange(a)]
        conc2 = u2[off2[idx][:, None] + np.arange(b)]
        groups.append(
            (idx, BlockStack(conc1, conc2, inh.reshape(-1, a, b), rank.reshape(-1, a, b)))
        )
    return {"groups": groups, "n_replicated": 0, "meta": _meta(chunk)}


def _meta(chunk: RawChunk) -> dict[str, np.ndarray]:
    first = np.flatnonzero(np.diff(np.append(-1, chunk.block)) != 0)

    def pick(enc: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        if enc is None:
            return np.full(chunk.n_blocks, "", dtype=object)
        codes, values = enc
        out = np.full(chunk.n_blocks, "", dtype=object)
        ok = codes[first] >= 0
        out[ok] = values[codes[first][ok]]
        return out

    return {
        "block_id": chunk.block_ids,
        "drug1": pick(chunk.drug1),
        "drug2": pick(chunk.drug2),
        "conc_unit": pick(chunk.unit),
    }


def _block_path(chunk: RawChunk, options: ScoreOptions) -> dict[str, Any]:
    """Blocks through the in-memory reader (replicates, baseline correction, errors)."""
    import pandas as pd

    from kinresist.synergy.io import blocks_from_frame

    def decoded(enc: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        codes, values = enc
        out = np.full(codes.size, None, dtype=object)
        ok = codes >= 0
        out[ok] = values[codes[ok]]
        return out

    cols = chunk.columns
    data: dict[str, Any] = {
        cols["drug1"]: decoded(chunk.drug1),
        cols["drug2"]: decoded(chunk.drug2),
        cols["conc1"]: chunk.conc1,
        cols["conc2"]: chunk.conc2,
        cols["response"]: chunk.response,
    }
    if "block_id" in cols:
        data[cols["block_id"]] = chunk.block_ids[chunk.block]
    if chunk.unit is not None:
        data[cols["conc_unit"]] = decoded(chunk.unit)
    frame = pd.DataFrame(data)
    path = Path(chunk.path)
    try:
        blocks = blocks_from_frame(frame, response=options.response, path=path)
    except InputError as exc:
        line = None if exc.line is None else exc.line + chunk.first_row
        if chunk.text or line is None:
            raise InputError(exc.detail, path=path, line=line, column=exc.column) from None
        msg = f"row {line - 1}: {exc.detail}"
        raise InputError(msg, path=path, column=exc.column) from None
    if options.baseline != "non":
        from kinresist.synergy.replicates import correct_baseline

        blocks = [
            correct_baseline(b, options.baseline, mode=options.mode)  # type: ignore[arg-type]
            for b in blocks
        ]
    groups = [(np.asarray(idx), stack) for idx, stack in stack_blocks(blocks).values()]
    n_rep = sum(b.replicates is not None and b.replicates.shape[2] > 1 for b in blocks)

    def column(values: list[str]) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    meta = {
        "block_id": column([str(b.block_id) for b in blocks]),
        "drug1": column([b.drug1 for b in blocks]),
        "drug2": column([b.drug2 for b in blocks]),
        "conc_unit": column([b.conc_unit for b in blocks]),
    }
    return {"groups": groups, "n_replicated": int(n_rep), "meta": meta}


def score_chunk(chunk: RawChunk, options: ScoreOptions) -> ChunkScores:
    """Score one chunk and build its tables (pure: what runs locally or on a Dask worker)."""
    from kinresist.synergy.engine import score_stack
    from kinresist.synergy.result import ScoredColumns, tables_from_columns

    built = None
    if options.baseline == "non":
        built = _fast_stacks(chunk, options.response)
    if built is None:
        built = _block_path(chunk, options)
    meta = built["meta"]
    columns = []
    for idx, stack in built["groups"]:
        res = score_stack(stack, mode=options.mode, methods=options.methods)
        columns.append(
            ScoredColumns.from_stack(idx, {k: v[idx] for k, v in meta.items()}, stack, res)
        )
    tables = tables_from_columns(columns, options.methods)
    warnings: list[str] = []
    flags = tables["blocks"].column("flags").to_numpy(zero_copy_only=False)
    ids = tables["blocks"].column("block_id").to_numpy(zero_copy_only=False)
    step = max(1, len(options.methods))
    for bid, flag in zip(ids[::step], flags[::step], strict=True):
        if flag and len(warnings) < _MAX_WARNINGS:
            warnings.append(f"block {bid}: {flag.replace(';', ', ')}")
    return ChunkScores(
        chunk.index, chunk.n_blocks, built["n_replicated"], tables, warnings, chunk.extent
    )


# -- writing ------------------------------------------------------------------------------------
class _Sink:
    """One output table written chunk by chunk to ``<path>.part``, finished under its name."""

    def __init__(self, path: Path, table: str, fmt: str) -> None:
        self.path = path
        self.table = table
        self.fmt = fmt
        self.part = path.with_name(path.name + ".part")
        self._writer: Any = None
        self._schema: Any = None
        self._fh: Any = None
        self._header_frame: Any = None

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._writer is None:
                self.part.parent.mkdir(parents=True, exist_ok=True)
                self._schema = table.schema
                strings = [f.name for f in table.schema if f.type == pa.string()]
                self._writer = pq.ParquetWriter(
                    self.part, table.schema, store_schema=False, use_dictionary=strings
                )
            self._writer.write_table(table)
            return
        frame = table.to_pandas()
        if self._fh is None:
            self.part.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.part.open("w", encoding="utf-8", newline="")
            self._header_frame = frame.iloc[:0]
        frame.to_csv(self._fh, sep=self._sep, index=False, header=False, lineterminator="\n")

    @property
    def _sep(self) -> str:
        return "," if self.path.suffix.lower() == ".csv" else "\t"

    def finish(self, envelope: Mapping[str, Any], empty: pa.Table) -> Path:
        from kinresist.core.serialise import table_to_tsv, to_json

        if self.fmt == "parquet":
            import pyarrow as pa

            if self._writer is None:
                self.write(empty)
            pandas_meta = pa.Table.from_pandas(
                empty.to_pandas(), schema=self._schema, preserve_index=False
            ).schema.metadata[b"pandas"]
            meta = {**envelope, "table": self.table}
            self._writer.add_key_value_metadata(
                {b"pandas": pandas_meta, b"kinresist": to_json(meta, indent=None).encode()}
            )
            self._writer.close()
            self._writer = None
            self.part.replace(self.path)
            return self.path
        if self._fh is None:
            self.write(empty)
        self._fh.close()
        self._fh = None
        if self._sep == ",":  # plain CSV (as Result.write writes .csv): no comment lines
            head = self._header_frame.to_csv(index=False, lineterminator="\n")
        else:
            head = table_to_tsv(self._header_frame, envelope)
        with self.path.open("w", encoding="utf-8", newline="") as out:
            out.write(head)
            with self.part.open(encoding="utf-8", newline="") as body:
                shutil.copyfileobj(body, out, 1 << 22)
        self.part.unlink()
        return self.path

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._fh is not None:
            self._fh.close()
        self.part.unlink(missing_ok=True)


def _sinks(path: Path, fmt: str, primary: str) -> list[_Sink]:
    """The files :meth:`Result.write` would write for ``fmt`` (Parquet: every table)."""
    if fmt != "parquet":
        return [_Sink(path, primary, "tsv")]
    stem = path.name[: -len(".parquet")] if path.name.endswith(".parquet") else path.stem
    names = [primary] + [t for t in ("blocks", "cells", "measurements") if t != primary]
    return [
        _Sink(path if t == primary else path.with_name(f"{stem}.{t}.parquet"), t, "parquet")
        for t in names
    ]


def score_file(
    path: Path,
    *,
    outputs: Sequence[tuple[Path, str, str]],
    options: ScoreOptions,
    parameters: Mapping[str, Any],
    chunk_blocks: int = CHUNK_BLOCKS,
    dask: str | None = None,
    progress: Progress | None = None,
    chunks: Iterator[RawChunk] | None = None,
) -> tuple[Result, list[Path]]:
    """Stream ``path`` into ``outputs`` (``(file, format, primary table)``: ``"parquet"``
    writes every table, ``"tsv"`` the primary one) and return the run's result (envelope,
    counts; its tables are the files) with the files written."""
    from kinresist.core import Provenance, Result
    from kinresist.core.distribute import map_ordered
    from kinresist.synergy.result import SCHEMA_VERSION

    source = chunks if chunks is not None else iter_chunks(path, chunk_blocks=chunk_blocks)
    sinks = [s for out, fmt, primary in outputs for s in _sinks(out, fmt, primary)]
    scored = map_ordered(
        partial(score_chunk, options=options),
        source,
        dask=dask,
        on_connect=None if progress is None else progress.note,
    )
    n_blocks = n_rep = 0
    warnings: list[str] = []
    empty: dict[str, pa.Table] = {}
    try:
        for part in scored:
            for sink in sinks:
                sink.write(part.tables[sink.table])
            if not empty:
                empty = {k: t.schema.empty_table() for k, t in part.tables.items()}
            n_blocks += part.n_blocks
            n_rep += part.n_replicated
            warnings.extend(part.warnings[: _MAX_WARNINGS - len(warnings)])
            if progress is not None:
                progress.advance(part.extent, done=n_blocks)
        if n_rep:
            warnings.append(
                f"{n_rep} blocks have replicates: scored on their means; the replicate "
                "bootstrap (JSON body) runs on in-memory runs (JSON output, or at most 1,000 "
                "blocks)"
            )
        result = Result(
            workflow="synergy.score",
            schema_version=SCHEMA_VERSION,
            provenance=Provenance.build(inputs={path.name: path}, parameters=parameters),
            body={
                "units": {
                    "response": "% inhibition",
                    "scores": "percentage points (observed - expected)",
                },
                "streamed": {
                    "blocks": n_blocks,
                    "blocks_with_replicates": n_rep,
                    "files": {s.table: s.path.name for s in sinks},
                },
            },
            warnings=warnings,
        )
        envelope = result.envelope()
        written = [s.finish(envelope, empty[s.table]) for s in sinks]
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    return result, written
