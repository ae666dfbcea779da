"""``kinresist dose fit --out X.parquet|.tsv`` through the streaming path (issue 19) against the
in-memory path of the same command.

Reference: the in-memory result of the same CLI call (``run_fit``: ``read_dose_table`` +
per-batch ``fit_arrays`` + ``to_records`` + ``fits_frame``). Both paths cut the curves into the
same batches (``BATCH_CURVES``, forced small here so that curves span several batches and read
chunks) and pad each batch to its own widest curve, so the engine sees the same arrays: every
column must be EQUAL — text, integers and booleans exactly, floats bit for bit (NaN where NaN;
null in the streamed file = NaN/None in the in-memory one). The envelope's parameters and
inputs must be the same. Recording (--db) from a streamed run must store the same IC50
measurements as the in-memory run (read back from the written file in batches).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kinresist.dose import workflow as W

DOSES = np.concatenate([[0.0], 10.0 ** np.arange(-3.0, 1.01, 0.5)])


def _table(n: int = 70, seed: int = 11) -> pd.DataFrame:
    """Curves named "<line> | <drug>": dose-0 controls, replicates, NA cells, steep, flat and
    odd-length curves (so that batches have different widths)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        b, c, e = rng.uniform(0.5, 12 if i % 7 == 0 else 3), rng.uniform(0, 0.4), 10 ** rng.uniform(-2.5, 0.5)  # fmt: skip
        reps = 2 if i % 5 == 0 else 1
        doses = DOSES if i % 9 else DOSES[:6]
        for d in doses:
            for _ in range(reps):
                mean = 1.0 if i % 11 == 0 or d == 0 else c + (1 - c) / (1 + (d / e) ** b)
                rows.append((f"L{i % 13:02d} | drug{i:03d}", d, mean + rng.normal(0, 0.05)))
    frame = pd.DataFrame(rows, columns=["curve", "dose", "response"])
    frame.loc[rng.choice(len(frame), 15, replace=False), "response"] = np.nan
    return frame


ARGS = ["--dose-col", "dose", "--response-col", "response", "--group-col", "curve"]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(W, "BATCH_CURVES", 16)


def _fit(cli, src: Path, out: Path, *extra: object, stream: bool, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(W, "STREAM_MIN_ROWS", 0 if stream else 10**12)
    r = cli(["dose", "fit", "-i", src, *ARGS, "--out", out, *extra])
    assert r.exit_code == 0, r.stderr
    streamed = W.stream_fit.__name__ in _calls
    _calls.clear()
    assert streamed is stream
    return r.stderr


_calls: list[str] = []


@pytest.fixture(autouse=True)
def _spy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record whether the CLI really streamed (fit_table_stream ran)."""
    from kinresist.dose import stream

    real = stream.fit_table_stream
    _calls.clear()

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        _calls.append(W.stream_fit.__name__)
        return real(*args, **kwargs)

    monkeypatch.setattr(stream, "fit_table_stream", spy)


def _frame(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        frame = pq.read_table(path).to_pandas()
    else:
        sep = "," if path.suffix == ".csv" else "\t"
        frame = pd.read_csv(
            path, sep=sep, skiprows=_header_lines(path), float_precision="round_trip"
        )
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(str)
    return frame


def _header_lines(path: Path) -> int:
    return sum(1 for ln in path.read_text().splitlines() if ln.startswith("## "))


def _assert_equal(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(got.columns) == list(ref.columns)
    assert len(got) == len(ref)
    for col in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[col]) and not pd.api.types.is_bool_dtype(ref[col]):
            a = pd.to_numeric(got[col]).to_numpy(float)
            b = pd.to_numeric(ref[col]).to_numpy(float)
            np.testing.assert_array_equal(a, b, err_msg=col)  # NaN == NaN here; exact otherwise
        else:
            a_text = got[col].fillna("").astype(str).tolist()
            b_text = ref[col].fillna("").astype(str).tolist()
            assert a_text == b_text, col


def _envelope(path: Path) -> dict:  # type: ignore[type-arg]
    env = json.loads(pq.read_schema(path).metadata[b"kinresist"])
    env.pop("created")
    env.pop("warnings")
    return env


@pytest.mark.parametrize("src_suffix", [".csv", ".parquet"])
def test_streamed_parquet_equals_in_memory(cli, tmp_path, monkeypatch, small_batches, src_suffix):  # type: ignore[no-untyped-def]
    frame = _table()
    src = tmp_path / f"curves{src_suffix}"
    frame.to_csv(src, index=False) if src_suffix == ".csv" else frame.to_parquet(src)
    extra = ["--genotype", "L03=ALK G1202R", "--absolute", "0.5", "--table", tmp_path / "s.csv"]
    err = _fit(cli, src, tmp_path / "s.parquet", *extra, stream=True, monkeypatch=monkeypatch)
    assert "did not fit cleanly" in err  # flat curves: the warning is on stderr
    _fit(cli, src, tmp_path / "m.parquet", *extra[:4], stream=False, monkeypatch=monkeypatch)
    got, ref = _frame(tmp_path / "s.parquet"), _frame(tmp_path / "m.parquet")
    assert len(ref) == 70
    assert "ic50_absolute_estimate" not in ref  # the in-memory table has no absolute columns
    got = got.drop(columns=[c for c in got if c.startswith("ic50_absolute_")])
    _assert_equal(got, ref)
    assert _envelope(tmp_path / "s.parquet") == _envelope(tmp_path / "m.parquet")
    assert not list(tmp_path.glob(".*partial"))
    # --table: the same rows as CSV (with the streamed table's columns)
    csv = _frame(tmp_path / "s.csv").drop(
        columns=[c for c in _frame(tmp_path / "s.csv") if c.startswith("ic50_absolute_")]
    )
    _assert_equal(csv, ref)


def test_streamed_tsv_equals_in_memory(cli, tmp_path, monkeypatch, small_batches):  # type: ignore[no-untyped-def]
    src = tmp_path / "curves.tsv"
    _table(40, seed=5).to_csv(src, sep="\t", index=False)
    for name, stream in (("s.tsv", True), ("m.tsv", False)):
        _fit(cli, src, tmp_path / name, "--format", "tsv", stream=stream, monkeypatch=monkeypatch)
    s, m = (tmp_path / "s.tsv").read_text(), (tmp_path / "m.tsv").read_text()
    assert s.startswith("## kind: dose.fit\n")
    keep = ("## kind", "## schema_version", "## input")
    assert [ln for ln in s.splitlines() if ln.startswith(keep)] == [
        ln for ln in m.splitlines() if ln.startswith(keep)
    ]
    _assert_equal(_frame(tmp_path / "s.tsv"), _frame(tmp_path / "m.tsv"))


def test_scattered_rows_stream_in_first_appearance_order(cli, tmp_path, monkeypatch, small_batches):  # type: ignore[no-untyped-def]
    frame = _table(30, seed=2)
    frame = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # curves interleaved
    src = tmp_path / "scattered.csv"
    frame.to_csv(src, index=False)
    _fit(cli, src, tmp_path / "s.parquet", stream=True, monkeypatch=monkeypatch)
    _fit(cli, src, tmp_path / "m.parquet", stream=False, monkeypatch=monkeypatch)
    got, ref = _frame(tmp_path / "s.parquet"), _frame(tmp_path / "m.parquet")
    assert got["group"].tolist() == list(dict.fromkeys(frame["curve"].dropna()))
    _assert_equal(got, ref)


def test_streamed_run_records_every_measurement(cli, tmp_path, monkeypatch, small_batches):  # type: ignore[no-untyped-def]
    """--db with a streamed run records the IC50s (read back from the written file in batches)
    exactly as the in-memory run records them."""
    from kinresist.store import open_store

    src = tmp_path / "curves.csv"
    _table(35, seed=4).to_csv(src, index=False)
    values = {}
    for name, stream in (("s", True), ("m", False)):
        db = tmp_path / f"{name}.sqlite"
        geno = ["--genotype", "L01=ALK G1202R;ALK L1196M", "--unit", "uM"]
        err = _fit(cli, src, tmp_path / f"{name}.parquet", *geno, "--db", db, "--study", "S",
                   stream=stream, monkeypatch=monkeypatch)  # fmt: skip
        assert "38 measurements" in err  # 35 curves, L01's 3 curves twice (two alterations)
        with open_store(str(db)) as store:
            assert len(store.runs(kind="dose.fit")) == 1
            values[name] = [
                (m.sample.label, m.target, m.alteration_key, m.value, m.ci_low, m.ci_high,
                 m.unit, tuple(m.flags))
                for m in store.measurements()
            ]  # fmt: skip
    assert values["s"] == values["m"]
    assert {v[6] for v in values["s"]} == {"nM"}


def test_streamed_measurements_sequence(tmp_path, monkeypatch, small_batches):  # type: ignore[no-untyped-def]
    from kinresist.dose.result import ic50_measurements

    monkeypatch.setattr(W, "STREAM_MIN_ROWS", 0)
    src = tmp_path / "curves.parquet"
    _table(20, seed=8).assign(curve=lambda f: f["curve"].where(f.index % 2 == 0, "plain")).to_parquet(src)  # fmt: skip
    opts = {"dose_col": "dose", "response_col": "response", "group_col": "curve"}
    res, written = W.stream_fit(src, out=tmp_path / "o.tsv", fmt="tsv", **opts)
    assert written == [tmp_path / "o.tsv"]
    assert res.body["streamed"]["curves"] == 21  # 20 named curves + "plain"
    ref = W.run_fit(src, **opts)
    assert (
        list(res.measurements) == ref.measurements == ic50_measurements(ref.body["fits"], unit="")
    )
    assert len(res.measurements) == 20
    assert res.measurements
    assert res.tables == {}


def test_small_inputs_and_workbooks_stay_in_memory(cli, tmp_path):  # type: ignore[no-untyped-def]
    src = tmp_path / "curves.csv"
    _table(5).to_csv(src, index=False)
    r = cli(["dose", "fit", "-i", src, *ARGS, "--out", tmp_path / "o.parquet"])
    assert r.exit_code == 0, r.stderr
    assert not _calls  # below STREAM_MIN_ROWS: the in-memory result, written
    assert len(pd.read_parquet(tmp_path / "o.parquet")) == 5


def test_stream_errors_exit_2_without_output(cli, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(W, "STREAM_MIN_ROWS", 0)
    frame = _table(12)
    frame["response"] = frame["response"].astype(object)
    frame.loc[40, "response"] = "abc"
    src = tmp_path / "bad.csv"
    frame.to_csv(src, index=False)
    r = cli(["dose", "fit", "-i", src, *ARGS, "--out", tmp_path / "o.parquet"])
    assert r.exit_code == 2
    assert "line 42" in r.stderr
    assert "'abc'" in r.stderr
    assert not list(tmp_path.glob("*o.parquet*"))
