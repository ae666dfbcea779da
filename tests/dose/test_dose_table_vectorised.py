"""The vectorised table checks (issue 19) against the row-by-row ones they replace.

Reference: ``kinresist.dose.tables._finite_rows`` (the row-by-row parse that names the first
refused row) and the per-group loop of ``read_dose_table`` as it was (written out below).
Every column — numbers, NA spellings, whitespace, text, decimal commas, ±inf, huge values,
values below a minimum — must give exactly the same array, or the same error message, line and
column, through :func:`finite_column` (vectorised first) as through the row-by-row parse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinresist.dose.fit import read_dose_table
from kinresist.dose.tables import _finite_fast, _finite_rows, finite_column
from kinresist.errors import InputError

CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e16, max_value=1e16).map(repr),
    st.integers(-1000, 10**6).map(str),
    st.sampled_from(["", "NA", "na", " nan ", "N/A", "#N/A", "null", "None", "  "]),
    st.sampled_from(["abc", "1,5", "inf", "-Infinity", "1e400", "-nan", "2e15", " 3.5 ", "1_0"]),
    st.none(),
)


def _outcome(fn, col, **kw):  # type: ignore[no-untyped-def]
    try:
        return ("ok", fn(col, path="t.csv", name="dose", **kw))
    except InputError as exc:
        return ("error", (str(exc), exc.line, exc.column))


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a[0] == b[0]
    if a[0] == "ok":
        np.testing.assert_array_equal(a[1], b[1])  # NaN == NaN, bit-exact values
    else:
        assert a[1] == b[1]


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(CELLS, min_size=1, max_size=30),
    allow_na=st.booleans(),
    minimum=st.sampled_from([None, 0.0]),
)
def test_text_columns_same_as_row_by_row(cells, allow_na, minimum) -> None:  # type: ignore[no-untyped-def]
    col = pd.Series(cells, dtype=object)
    kw = {"allow_na": allow_na, "minimum": minimum}
    _same(_outcome(finite_column, col, **kw), _outcome(_finite_rows, col, line_offset=2, **kw))


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1),
    minimum=st.sampled_from([None, 0.0]),
)
def test_numeric_columns_same_as_row_by_row(values, minimum) -> None:  # type: ignore[no-untyped-def]
    col = pd.Series(values, dtype=float)
    kw = {"allow_na": True, "minimum": minimum}
    _same(_outcome(finite_column, col, **kw), _outcome(_finite_rows, col, line_offset=2, **kw))


def test_fast_path_taken_on_clean_columns() -> None:
    """The vectorised path really answers clean columns (text and numbers)."""
    text = pd.Series([" 1.5", "NA", "2e-3 ", "", "7"], dtype=object)
    got = _finite_fast(text, allow_na=True, minimum=None)
    assert got is not None
    np.testing.assert_array_equal(got, [1.5, np.nan, 2e-3, np.nan, 7.0])
    ints = _finite_fast(pd.Series([1, 2, 3]), allow_na=True, minimum=0.0)
    assert ints is not None
    assert _finite_fast(pd.Series(["1", "x"], dtype=object), allow_na=True, minimum=None) is None


def _old_group_check(frame: pd.DataFrame) -> str | None:
    """The per-group loop read_dose_table had before (first group short of two doses)."""
    for g, part in frame.groupby("group", sort=False):
        positive = np.unique(part["dose"].to_numpy()[part["dose"].to_numpy() > 0])
        if positive.size < 2:
            shown = ", ".join(f"{d:g}" for d in positive) or "none"
            return f"group {g!r} has {positive.size} distinct positive dose(s) ({shown})"
    return None


@pytest.mark.parametrize("seed", range(12))
def test_group_dose_check_same_as_loop(tmp_path, seed) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    n = 40
    groups = rng.choice([f"g{i}" for i in range(8)], n)
    doses = rng.choice([0.0, 0.0, 1.0, 10.0, 100.0], n)
    frame = pd.DataFrame({"group": groups, "dose": doses, "response": rng.normal(size=n)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    expected = _old_group_check(frame)
    if expected is None:
        read_dose_table(path, dose_col="dose", response_col="response", group_col="group")
        return
    with pytest.raises(InputError) as info:
        read_dose_table(path, dose_col="dose", response_col="response", group_col="group")
    assert expected in str(info.value)
