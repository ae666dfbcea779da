"""The streaming table fit (kinresist.dose.stream.fit_table_stream) against the in-memory path.

Reference: ``fit_curves(read_dose_table(...))`` laid out by ``kinresist.dose.result.fits_frame``
(the ``dose.fit`` table of the CLI): the same curves through the same engine, so every column
must match — strings and integers exactly, floats to 1e-9 relative (NaN where NaN) — whatever
the batching (curves split across read chunks and fit batches), the input format (CSV, TSV,
Parquet) or the row order (rows of a curve scattered: partitioned first, same numbers).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kinresist.dose import stream
from kinresist.dose.fit import fit_curves, read_dose_table
from kinresist.dose.result import fits_frame
from kinresist.errors import InputError

DOSES = np.concatenate([[0.0], 10.0 ** np.arange(-3.0, 1.01, 0.5)])


def _table(n: int = 300, seed: int = 3) -> pd.DataFrame:
    """Tidy curves: dose 0 controls, replicates, a few NA cells, steep and flat curves."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        b, c, e = (
            rng.uniform(0.5, 12 if i % 7 == 0 else 3),
            rng.uniform(0, 0.4),
            10 ** rng.uniform(-2.5, 0.5),
        )
        reps = 2 if i % 5 == 0 else 1
        for d in DOSES:
            for _ in range(reps):
                mean = 1.0 if i % 11 == 0 or d == 0 else c + (1 - c) / (1 + (d / e) ** b)
                rows.append((f"line{i:04d} | drug", d, mean + rng.normal(0, 0.05)))
    frame = pd.DataFrame(rows, columns=["curve", "dose", "response"])
    frame.loc[rng.choice(len(frame), 20, replace=False), "response"] = np.nan
    return frame


def _reference(path) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    data = read_dose_table(path, dose_col="dose", response_col="response", group_col="curve")
    return fits_frame(fit_curves(data).to_records())


def _assert_same(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Text, integer and boolean columns exactly; RSS 1e-10 relative; on status-ok curves
    every float column to 1e-5 relative (the batch composition changes the NumPy backend's
    vectorised rounding, and the stopping rule fixes the optimum to ~1e-6 in flat
    directions, as between the two backends: test_dose_backends)."""
    assert list(got.columns) == list(ref.columns)
    assert len(got) == len(ref)
    ok = (ref["status"] == "ok").to_numpy()
    for col in ref.columns:
        a, b = got[col].to_numpy(), ref[col].to_numpy()
        if col in ("df", "n"):
            np.testing.assert_array_equal(a.astype(int), b.astype(int))
        elif col == "converged":
            np.testing.assert_array_equal(a.astype(bool), b.astype(bool))
        elif pd.api.types.is_numeric_dtype(ref[col].dtype):
            av, bv = pd.to_numeric(got[col]).to_numpy(float), b.astype(float)
            np.testing.assert_array_equal(np.isnan(av[ok]), np.isnan(bv[ok]), err_msg=col)
            np.testing.assert_allclose(
                av[ok], bv[ok], rtol=1e-10 if col == "rss" else 1e-5, err_msg=col
            )
            if col == "rss":
                np.testing.assert_allclose(av, bv, rtol=1e-9, err_msg=col)
        else:
            got_text = pd.Series(a).fillna("").astype(str)
            assert (got_text == pd.Series(b).fillna("").astype(str)).all(), col


@pytest.fixture
def small_reads(monkeypatch):  # type: ignore[no-untyped-def]
    """Read 64 rows at a time, so that curves straddle read chunks (and fit batches)."""
    monkeypatch.setattr(stream, "_ROWS_PER_READ", 64)


def test_parquet_to_parquet_equals_in_memory(tmp_path, small_reads):  # type: ignore[no-untyped-def]
    frame = _table()
    src = tmp_path / "curves.parquet"
    frame.to_parquet(src)
    out = tmp_path / "fits.parquet"
    r = stream.fit_table_stream(
        src, dose_col="dose", response_col="response", group_col="curve", out=out,
        batch_curves=37, quiet=True,
    )  # fmt: skip
    assert (r.n_curves, r.partitioned) == (300, False)
    assert r.n_rows == frame["response"].notna().sum()
    assert sum(r.status.values()) == 300
    got = pd.read_parquet(out)
    _assert_same(got, _reference(src))
    meta = json.loads(pq.read_schema(out).metadata[b"kinresist"])
    assert meta["workflow"] == "dose.fit"
    assert meta["table"] == "fits"
    assert meta["inputs"]["curves.parquet"].startswith("sha256:")


def test_csv_to_tsv_equals_in_memory(tmp_path, small_reads):  # type: ignore[no-untyped-def]
    frame = _table(120, seed=5)
    src = tmp_path / "curves.csv"
    frame.to_csv(src, index=False, na_rep="NA")
    out = tmp_path / "fits.tsv"
    stream.fit_table_stream(
        src, dose_col="dose", response_col="response", group_col="curve", out=out,
        batch_curves=50, quiet=True,
    )  # fmt: skip
    text = out.read_text()
    assert text.startswith("## kind: dose.fit\n")
    got = pd.read_csv(io.StringIO(text), sep="\t", comment="#", keep_default_na=True)
    got["ed50_note"] = got["ed50_note"].fillna("")
    got["flags"] = got["flags"].fillna("")
    _assert_same(got, _reference(src))


def test_scattered_rows_are_partitioned_in_first_appearance_order(tmp_path, small_reads):  # type: ignore[no-untyped-def]
    frame = _table(150, seed=9).sample(frac=1.0, random_state=2)
    src = tmp_path / "shuffled.csv"
    frame.to_csv(src, index=False, na_rep="NA")
    out = tmp_path / "fits.parquet"
    r = stream.fit_table_stream(
        src, dose_col="dose", response_col="response", group_col="curve", out=out,
        batch_curves=40, quiet=True,
    )  # fmt: skip
    assert r.partitioned
    _assert_same(pd.read_parquet(out), _reference(src))


@pytest.mark.parametrize(
    ("order", "partitioned"),
    [
        ("increasing", False),  # labels only increase: no set is built
        ("decreasing", False),  # grouped, never increasing: the set from the first chunk
        ("increasing_then_unsorted", False),  # grouped: the set built mid-file from the kept labels
        ("increasing_then_repeat", True),  # a curve seen long before comes back
    ],
)
def test_grouping_check_with_and_without_sorted_labels(tmp_path, small_reads, order, partitioned):  # type: ignore[no-untyped-def]
    """A curve's rows must be together: the check keeps only the labels while they increase
    (most screens) and builds the set of labels the first time they do not; either way a
    curve that comes back sends the table to the partitioned path, and grouped tables in
    any label order do not."""
    frame = _table(60, seed=4)
    curves = list(dict.fromkeys(frame["curve"]))  # increasing by construction
    if order == "decreasing":
        curves = curves[::-1]
    elif order == "increasing_then_unsorted":
        curves = curves[:40] + curves[40:][::-1]
    parts = [frame[frame["curve"] == c] for c in curves]
    if order == "increasing_then_repeat":
        back = parts[10]  # increasing all along, until curve 10's last rows come back
        parts = [*parts[:10], back.iloc[:3], *parts[11:], back.iloc[3:]]
    src = tmp_path / f"{order}.csv"
    table = pd.concat(parts)
    table.to_csv(src, index=False, na_rep="NA")
    out = tmp_path / "fits.parquet"
    r = stream.fit_table_stream(
        src, dose_col="dose", response_col="response", group_col="curve", out=out,
        batch_curves=25, quiet=True,
    )  # fmt: skip
    assert r.partitioned is partitioned
    assert r.n_curves == 60
    _assert_same(pd.read_parquet(out), _reference(src))


def test_numba_batches_equal_numpy(tmp_path):  # type: ignore[no-untyped-def]
    """The compiled backend (chosen by auto for screen-sized batches) gives the same table
    (backends agree to the tolerances of test_dose_backends; here status and flags exactly)."""
    pytest.importorskip("numba")
    frame = _table(200, seed=11)
    src = tmp_path / "c.parquet"
    frame.to_parquet(src)
    outs = []
    for be in ("numpy", "numba"):
        out = tmp_path / f"{be}.parquet"
        stream.fit_table_stream(
            src, dose_col="dose", response_col="response", group_col="curve", out=out,
            backend=be, quiet=True,
        )  # fmt: skip
        outs.append(pd.read_parquet(out))
    a, b = outs
    assert (a["status"] == b["status"]).all()
    assert (a["flags"] == b["flags"]).all()
    ok = a["status"] == "ok"
    np.testing.assert_allclose(b.loc[ok, "rss"], a.loc[ok, "rss"], rtol=1e-10)


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        ("abc", r"line 7, column response: 'abc' in column 'response' is not a number"),
        ("1,5", r"decimal comma"),
        ("inf", r"not a finite number"),
    ],
)
def test_bad_cells_name_the_line(tmp_path, cell, match):  # type: ignore[no-untyped-def]
    rows = ["curve,dose,response"] + [
        f"a,{d},{0.9 - 0.1 * i}" for i, d in enumerate((0.01, 0.1, 1, 10))
    ]
    rows += ["b,0.01,1", f'b,0.1,"{cell}"', "b,1,0.5", "b,10,0.1"]
    src = tmp_path / "bad.csv"
    src.write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError, match=match):
        stream.fit_table_stream(
            src, dose_col="dose", response_col="response", group_col="curve",
            out=tmp_path / "o.parquet", quiet=True,
        )  # fmt: skip
    assert not (tmp_path / "o.parquet").exists()


def test_refusals(tmp_path):  # type: ignore[no-untyped-def]
    """Missing column, negative (log) doses, log-named dose column, one positive dose, unknown
    output suffix: InputError with the fix."""
    src = tmp_path / "t.csv"
    src.write_text("curve,dose,response\na,-2,1\na,-1,0.5\na,0,0.1\n")
    common = {"response_col": "response", "group_col": "curve", "quiet": True}
    with pytest.raises(InputError, match="no column 'conc'"):
        stream.fit_table_stream(src, dose_col="conc", out=tmp_path / "o.parquet", **common)
    with pytest.raises(InputError, match="negative"):
        stream.fit_table_stream(src, dose_col="dose", out=tmp_path / "o.parquet", **common)
    with pytest.raises(InputError, match="named like a log"):
        stream.fit_table_stream(src, dose_col="log_dose", out=tmp_path / "o.parquet", **common)
    src.write_text("curve,dose,response\na,0,1\na,1,0.5\na,1,0.4\n")
    with pytest.raises(InputError, match="two distinct positive doses"):
        stream.fit_table_stream(src, dose_col="dose", out=tmp_path / "o.parquet", **common)
    with pytest.raises(InputError, match="output format"):
        stream.fit_table_stream(src, dose_col="dose", out=tmp_path / "o.xlsx", **common)


def test_quiet_and_not_a_terminal_print_nothing(tmp_path, capsys):  # type: ignore[no-untyped-def]
    src = tmp_path / "c.parquet"
    _table(30).to_parquet(src)
    for quiet in (True, False):  # pytest's stderr is not a terminal: no progress bar either way
        stream.fit_table_stream(
            src, dose_col="dose", response_col="response", group_col="curve",
            out=tmp_path / "o.parquet", quiet=quiet, backend="numpy",
        )  # fmt: skip
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_constants_match_their_sources() -> None:
    """The streaming path keeps two constants to avoid importing pandas; they must not drift."""
    from kinresist.dose.result import SCHEMA_VERSION
    from kinresist.dose.tables import MAX_ABS

    assert stream.SCHEMA_VERSION == SCHEMA_VERSION
    assert stream.MAX_ABS == MAX_ABS


@pytest.mark.parametrize(("backend_env", "loads"), [("numpy", False), ("auto", True)])
def test_kernel_warm_follows_the_backend_override(tmp_path, backend_env, loads):  # type: ignore[no-untyped-def]
    """A screen-sized table warms the compiled kernel before the first batch, unless
    ``KINRESIST_DOSE_BACKEND=numpy`` keeps the fit on NumPy: then numba is not even imported."""
    import os
    import subprocess
    import sys

    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(4_000_000)  # the warm decision reads the size only (~30 bytes a row)
    code = (
        "import sys; from kinresist.dose import stream; from kinresist.dose.models import "
        f"get_model; stream._warm(get_model('LL.4'), 'auto', stream.Path({str(big)!r})); "
        "print('numba' in sys.modules)"
    )
    env = {**os.environ, "KINRESIST_DOSE_BACKEND": backend_env}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == str(loads)
