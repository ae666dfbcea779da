"""Screen-scale ``synergy score``: chunked reading, streamed tables, errors, limits.

Reference: the in-memory path (``read_blocks`` -> ``score_blocks`` -> ``Result.write``), which
the SynergyFinder/R reference tests pin. A streamed run must give the same tables: Parquet
tables equal (values, types, pandas metadata; the envelope equal but for ``created``), CSV and
TSV files byte for byte (TSV: but for the ``## created`` line). Blocks are scored in chunks of
``--chunk-blocks`` in both paths (the engine may pick its compiled kernel by batch size).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kinresist.core import get_workflow
from kinresist.errors import InputError
from kinresist.synergy import read_blocks
from kinresist.synergy.stream import CHUNK_BLOCKS, iter_chunks, streamable
from synthscreen import screen_frame, write_screen

CHUNK = 8


def _in_memory(src: Path, out: Path, **options: object) -> None:
    res = get_workflow("synergy.score")(input=src, chunk_blocks=CHUNK, figures=False, **options)
    res.write(out)
    if out.suffix == ".parquet":
        res.write(out.with_name("mem_cells.csv"), table="cells")


def assert_same_parquet(a: Path, b: Path) -> None:
    ta, tb = pq.read_table(a), pq.read_table(b)
    assert ta.schema.equals(tb.schema)
    assert ta.equals(tb)
    meta_a, meta_b = dict(ta.schema.metadata), dict(tb.schema.metadata)
    env_a, env_b = (json.loads(m.pop(b"kinresist")) for m in (meta_a, meta_b))
    env_a.pop("created")
    env_b.pop("created")
    assert env_a == env_b
    assert meta_a == meta_b


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if not ln.startswith("## created")]


def test_chunk_size_matches_the_declared_option() -> None:
    from kinresist.synergy import workflow

    assert workflow.CHUNK_BLOCKS == CHUNK_BLOCKS


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streamed_tables_equal_the_in_memory_tables(cli, tmp_path: Path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    src = write_screen(tmp_path / f"screen{suffix}", 27, odd_every=6)
    out = tmp_path / "st.parquet"
    res = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--out", out,
               "--csv", tmp_path / "st_cells.csv", "-q"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    assert "wrote" in res.stderr
    _in_memory(src, tmp_path / "mem.parquet")
    for table in ("", ".cells", ".measurements"):
        assert_same_parquet(tmp_path / f"mem{table}.parquet", tmp_path / f"st{table}.parquet")
    assert (tmp_path / "mem_cells.csv").read_bytes() == (tmp_path / "st_cells.csv").read_bytes()
    blocks = pq.read_table(out).to_pandas()
    assert blocks["block_id"].nunique() == 27
    assert (blocks["flags"] != "").any()  # the flagged blocks are in the comparison
    assert not list(tmp_path.glob("*.part"))

    tsv = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--out", tmp_path / "st.tsv"])
    assert tsv.exit_code == 0, tsv.stderr
    _in_memory(src, tmp_path / "mem.tsv")
    assert _lines(tmp_path / "mem.tsv") == _lines(tmp_path / "st.tsv")


def test_chunks_hold_whole_blocks_in_file_order(tmp_path: Path) -> None:
    src = write_screen(tmp_path / "s.csv", 23, odd_every=5)
    frame = screen_frame(23, odd_every=5)
    chunks = list(iter_chunks(src, chunk_blocks=5, batch_rows=40))  # blocks span batches
    assert [c.n_blocks for c in chunks] == [5, 5, 5, 5, 3]
    assert [c.first_row for c in chunks] == list(np.cumsum([0] + [c.n_rows for c in chunks[:-1]]))
    ids = np.concatenate([c.block_ids[c.block] for c in chunks])
    np.testing.assert_array_equal(ids, frame["block_id"].to_numpy())
    np.testing.assert_array_equal(np.concatenate([c.conc1 for c in chunks]), frame["conc_r"])
    np.testing.assert_array_equal(np.concatenate([c.response for c in chunks]), frame["response"])
    pq_src = write_screen(tmp_path / "s.parquet", 23, odd_every=5)
    pq_chunks = list(iter_chunks(pq_src, chunk_blocks=5, batch_rows=40))
    assert [c.n_rows for c in pq_chunks] == [c.n_rows for c in chunks]


def test_block_rows_must_be_together(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = screen_frame(20)
    again = frame.iloc[[3]]  # a replicate of a B00000 well placed after block B00013
    frame = pd.concat([frame.iloc[: 14 * 64], again, frame.iloc[14 * 64 :]])
    src = tmp_path / "mixed.csv"
    frame.to_csv(src, index=False)
    res = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--out", tmp_path / "o.parquet"])
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert line.startswith("InputError:")
    assert f"block 'B00000' continues at line {14 * 64 + 2}" in line
    assert "sort the table by block_id" in line
    assert not list(tmp_path.glob("o*"))  # nothing half-written is left


@pytest.mark.parametrize(
    ("where", "column", "value", "needle"),
    [
        (1500, "conc_r", -1.0, "negative concentration"),
        (1500, "response", np.nan, "empty response value"),
        (1500, "conc_c", "abc", "must be numeric, found 'abc'"),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_errors_in_later_chunks_match_the_in_memory_reader(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, suffix: str, where: int, column: str, value: object, needle: str
) -> None:
    frame = screen_frame(30)
    frame[column] = frame[column].astype(str if isinstance(value, str) else object)
    frame.loc[where, column] = value
    src = tmp_path / f"bad{suffix}"
    if suffix == ".csv":
        frame.to_csv(src, index=False)
    else:
        frame.to_parquet(src, index=False)
    res = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--out", tmp_path / "o.parquet"])
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert needle in res.stderr
    if suffix == ".csv":
        with pytest.raises(InputError) as info:
            read_blocks(src)
        assert res.stderr.strip() == info.value.one_line()
        assert f"line {where + 2}" in res.stderr
    else:
        assert f"row {where + 1}" in res.stderr


def test_replicated_blocks_are_averaged_as_in_memory(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = screen_frame(20)
    extra = frame[frame["block_id"].isin(["B00002", "B00011"])].assign(
        response=lambda d: d.response + 4.0
    )
    frame = pd.concat([frame, extra]).sort_values("block_id", kind="stable")
    src = tmp_path / "rep.csv"
    frame.to_csv(src, index=False)
    res = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--out", tmp_path / "st.parquet"])
    assert res.exit_code == 0, res.stderr
    _in_memory(src, tmp_path / "mem.parquet", iterations=2)
    st, mem = (
        pq.read_table(tmp_path / "st.cells.parquet"),
        pq.read_table(tmp_path / "mem.cells.parquet"),
    )
    assert st.equals(mem)
    envelope = json.loads(pq.read_schema(tmp_path / "st.parquet").metadata[b"kinresist"])
    assert any("2 blocks have replicates" in w for w in envelope["warnings"])


def test_small_input_gets_the_complete_result(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kinresist.synergy.workflow import stream_score

    monkeypatch.setattr("kinresist.synergy.result.MAX_FIGURE_BLOCKS", 0)  # no figures: faster

    src = write_screen(tmp_path / "small.csv", 6)
    result, written = stream_score(src, out=tmp_path / "o.parquet", fmt="parquet", methods="bliss")
    assert written == []
    assert len(result.body["blocks"]) == 6
    assert len(result.measurements) == 6


def test_screen_refuses_per_block_json_extras(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    src = write_screen(tmp_path / "s.csv", 20)
    res = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--sensitivity",
               "--out", tmp_path / "o.parquet"])  # fmt: skip
    assert res.exit_code == 2
    assert "kinresist synergy sensitivity" in res.stderr
    monkeypatch.setattr("kinresist.synergy.workflow.MAX_IN_MEMORY_ROWS", 500)
    res = cli(["synergy", "score", src, "--format", "json"])
    assert res.exit_code == 2
    assert "--format parquet --out" in res.stderr
    assert res.stdout == ""


def test_streamable_inputs(tmp_path: Path) -> None:
    matrix = tmp_path / "m.csv"
    matrix.write_text("a/b,0,1,2\n0,100,90,80\n1,90,80,70\n2,80,70,60\n")
    assert not streamable(matrix)
    assert streamable(write_screen(tmp_path / "s.tsv", 2))
    assert streamable(write_screen(tmp_path / "s.parquet", 2))
    xlsx = tmp_path / "s.xlsx"
    assert not streamable(xlsx)


def test_progress_bar_reports_blocks(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from kinresist.core.progress import progress_bar, quiet
    from kinresist.synergy.stream import ScoreOptions, input_extent, score_file

    assert quiet()  # tests do not run on a terminal: no bar unless forced
    src = write_screen(tmp_path / "s.parquet", 12)
    with progress_bar("synergy score", total=input_extent(src), unit="blocks", enabled=True) as bar:
        score_file(
            src,
            outputs=[(tmp_path / "o.parquet", "parquet", "blocks")],
            options=ScoreOptions(methods=("bliss", "hsa")),
            parameters={},
            chunk_blocks=5,
            progress=bar,
        )
    assert bar.done == 12
    assert bar.completed == input_extent(src) == 12 * 64
    err = capsys.readouterr().err
    assert "synergy score" in err
    assert "12 blocks" in err


def test_units_and_names_as_the_in_memory_reader_reads_them(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = screen_frame(18).assign(conc_r_unit="nM")
    frame.loc[3 * 64, "conc_r_unit"] = None  # first row of block 3 without a unit: block is nM
    frame.loc[5 * 64 : 6 * 64 - 1, "conc_r_unit"] = None  # block 5: no unit at all
    src = tmp_path / "units.csv"
    frame.to_csv(src, index=False)
    res = cli(["synergy", "score", src, "--chunk-blocks", CHUNK, "--methods", "bliss,hsa",
               "--out", tmp_path / "st.parquet"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    _in_memory(src, tmp_path / "mem.parquet", methods="bliss,hsa")
    st = pq.read_table(tmp_path / "st.cells.parquet").select(["block_id", "conc_unit"])
    mem = pq.read_table(tmp_path / "mem.cells.parquet").select(["block_id", "conc_unit"])
    assert st.equals(mem)
    units = dict(zip(*st.to_pydict().values(), strict=False))
    assert (units["B00003"], units["B00005"], units["B00004"]) == ("nM", "", "nM")
