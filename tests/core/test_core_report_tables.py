"""The generic result page's tables (reports/result.py::table_html): missing values read "–"
in number and text columns alike (pandas prints None in a text column as "None"), floats
keep four significant digits."""

from __future__ import annotations

import pandas as pd

from kinresist.reports.result import table_html


def test_missing_values_are_dashes_in_every_column() -> None:
    frame = pd.DataFrame(
        {"group": ["a", None], "median": [16.70000001, None], "upper": [None, "NR"]}
    )
    html = str(table_html(frame))
    assert "None" not in html
    assert "nan" not in html.lower()
    assert html.count("<td>–</td>") == 3
    assert "<td>16.7</td>" in html
    assert "<td>NR</td>" in html


def test_duplicate_column_names_still_render() -> None:
    frame = pd.DataFrame([["x", None]], columns=["name", "name"])
    assert str(table_html(frame)).count("<td>–</td>") == 1
