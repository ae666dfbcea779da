"""Readers and the ``kinresist clinical ...`` commands: bad input -> exit 2 naming column and row;
the JSON contract of ``clinical survival`` (keys named by the issue) on R's lung data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from kinresist.clinical.analyze import run_response, run_survival
from kinresist.clinical.readers import read_patient_table
from kinresist.errors import InputError


def _write(tmp_path: Path, text: str, name: str = "pts.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


GOOD = "id,months,event,arm\nP1,3.5,1,A\nP2,7,0,A\nP3,2,1,B\nP4,11.2,TRUE,B\nP5,4,false,A\n"


@pytest.mark.parametrize(
    ("text", "column", "line", "fragment"),
    [
        (GOOD.replace("P3,2,1,B", "P3,-2,1,B"), "months", 4, "negative follow-up time"),
        (GOOD.replace("P2,7,0,A", "P2,7,2,A"), "event", 3, "1 = censored, 2 = dead"),
        (GOOD.replace("P2,7,0,A", "P2,7,yes,A"), "event", 3, "not 0/1 or TRUE/FALSE"),
        (GOOD.replace("P3,2,1,B", "P3,,1,B"), "months", 4, "missing follow-up time"),
        (GOOD.replace("P5,4,false,A", "P5,4,false,a"), "arm", 6, "group 'a' has 1 patient"),
        (GOOD.replace("P2,7,0,A", "P2,seven,0,A"), "months", 3, "not a number"),
    ],
)
def test_bad_values_name_column_and_line(tmp_path, text, column, line, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        run_survival(path, time_col="months", event_col="event", group_col="arm", figures=False)
    err = info.value
    assert err.column == column
    assert err.line == line
    assert fragment in str(err)
    assert str(path) in str(err)


def test_missing_column_lists_columns(tmp_path):
    path = _write(tmp_path, GOOD)
    with pytest.raises(InputError) as info:
        run_survival(path, time_col="pfs", event_col="event", figures=False)
    assert info.value.column == "pfs"
    assert "columns found: ['id', 'months', 'event', 'arm']" in str(info.value)


def test_ragged_row_and_duplicate_ids(tmp_path):
    path = _write(tmp_path, GOOD + "P6,3,1\n")
    with pytest.raises(InputError, match="3 fields where the header has 4") as info:
        read_patient_table(path)
    assert info.value.line == 7
    dup = _write(tmp_path, GOOD.replace("P5", "P1"), "dup.csv")
    with pytest.raises(InputError, match="appears twice") as info:
        run_survival(dup, time_col="months", event_col="event", id_col="id", figures=False)
    assert info.value.line == 6


def test_tsv_with_comment_header_and_blank_lines(tmp_path):
    text = "## produced elsewhere\n" + GOOD.replace(",", "\t").replace("P3", "\nP3")
    path = _write(tmp_path, text, "pts.tsv")
    table = read_patient_table(path)
    assert len(table) == 5
    # header on line 2; P3 follows a blank line -> line 6
    assert table.lines.tolist() == [3, 4, 6, 7, 8]
    bad = _write(tmp_path, text.replace("P3\t2", "P3\t-1"), "bad.tsv")
    with pytest.raises(InputError) as info:
        run_survival(bad, time_col="months", event_col="event", figures=False)
    assert info.value.line == 6


def test_xlsx_rows_are_spreadsheet_rows(tmp_path):
    frame = pd.read_csv(_write(tmp_path, GOOD))
    path = tmp_path / "pts.xlsx"
    frame.to_excel(path, index=False)
    res = run_survival(path, time_col="months", event_col="event", group_col="arm", figures=False)
    assert [g["n"] for g in res.body["groups"]] == [3, 2]
    frame.loc[3, "event"] = 3
    frame.to_excel(path, index=False)
    with pytest.raises(InputError) as info:
        run_survival(path, time_col="months", event_col="event", figures=False)
    assert info.value.line == 5
    assert info.value.column == "event"


def test_cli_bad_input_exit_2(cli, tmp_path):
    path = _write(tmp_path, GOOD.replace("P3,2,1,B", "P3,-2,1,B"))
    r = cli(["clinical", "survival", path, "--time-col", "months", "--event-col", "event"])
    assert r.exit_code == 2
    assert r.stderr.startswith("InputError:")
    assert "line 4" in r.stderr
    assert "column months" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli(["clinical", "survival", path, "--time-col", "nope", "--event-col", "event"])
    assert r.exit_code == 2
    assert "column nope" in r.stderr


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        ("P2,7,0,A", "P2,7,yes,A", ("line 3", "column event"), "not 0/1 or TRUE/FALSE"),
        ("P2,7,0,A", "P2,7,2,A", ("line 3", "column event"), "1 = censored, 2 = dead"),
        ("P5,4,false,A", "P5,4,false,a", ("line 6", "column arm"), "group 'a' has 1 patient"),
    ],
)
def test_cli_bad_event_and_one_patient_group_exit_2(cli, tmp_path, old, new, where, fragment):
    """The issue's other bad inputs through the command line: exit 2, file/line/column named."""
    path = _write(tmp_path, GOOD.replace(old, new))
    r = cli(
        ["clinical", "survival", path, "--time-col", "months", "--event-col", "event",
         "--group-col", "arm"]
    )  # fmt: skip
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("InputError:")
    assert str(path) in r.stderr
    assert all(w in r.stderr for w in where), r.stderr
    assert fragment in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_survival_json_contract(cli, lung_csv, tmp_path):
    r = cli(
        [
            "clinical", "survival", lung_csv, "--time-col", "time", "--event-col", "status",
            "--group-col", "sex", "--landmark", "365", "--time-unit", "days", "--format", "json",
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["workflow"] == "clinical.survival"
    assert d["schema_version"] == "1.0"
    assert [g["median"] for g in d["groups"]] == [270.0, 426.0]
    assert [g["median_ci"] for g in d["groups"]] == [[212.0, 310.0], [348.0, 550.0]]
    assert abs(d["logrank"]["chi2"] - 10.3267) < 1e-4
    assert abs(d["logrank"]["p"] - 0.00131116) < 1e-8
    assert abs(d["cox"]["hr"] - 0.588004) < 2e-6
    assert [round(v, 4) for v in d["cox"]["ci"]] == [0.4237, 0.8160]
    assert round(d["cox"]["p"], 6) == 0.001491
    assert d["cox"]["method"] == "efron"
    html = tmp_path / "lung.html"
    r = cli(
        [
            "clinical", "survival", lung_csv, "--time-col", "time", "--event-col", "status",
            "--group-col", "sex", "--format", "html", "--out", html,
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    page = html.read_text(encoding="utf-8")
    assert "<svg" in page
    assert "Number at risk" in page


def test_survival_measurements_per_patient(lung_csv):
    res = run_survival(
        lung_csv, time_col="time", event_col="status", group_col="sex", id_col="patient",
        time_unit="days", figures=False,
    )  # fmt: skip
    assert len(res.measurements) == 228
    m = res.measurements[0]
    assert m.subject == "P000"
    assert m.quantity == "time_to_event"
    assert m.unit == "days"
    assert m.flags in (("event",), ("censored",))
    assert m.attributes["group"] in ("1", "2")


def test_response_by_biomarker_cutoff(tmp_path):
    """PD-L1 TPS >= 1% vs < 1% x responder (seed 003 Table 3 style), Gainor-like counts."""
    rows = ["id,tps,best"]
    rows += [f"H{i},{5 + i}%,{'PR' if i < 7 else 'PD'}" for i in range(30)]
    rows += [f"L{i},0,{'CR' if i < 1 else ('SD' if i < 5 else 'PD')}" for i in range(28)]
    path = _write(tmp_path, "\n".join(rows) + "\n")
    res = run_response(
        path, response_col="best", biomarker_col="tps", biomarker_cutoff=1, id_col="id"
    )
    f = res.body["fisher"]
    assert f["rows"] == [">= 1", "< 1"]
    assert f["table"] == [[7, 23], [1, 27]]
    assert round(f["p"], 4) == 0.0529
    assert res.body["orr_difference"]["comparison"] == ">= 1 - < 1"
    groups = {g["group"]: g for g in res.body["groups"]}
    assert groups["< 1"]["dcr"]["k"] == 5
    assert len(res.measurements) == 58


def test_response_counts_table(tmp_path):
    path = _write(
        tmp_path, "arm,CR,PR,SD,PD,NE\nalectinib,6,120,12,8,6\ncrizotinib,2,112,20,10,7\n"
    )
    res = run_response(path, group_col="arm", input_kind="counts", denominator="all",
                       reference="crizotinib")  # fmt: skip
    g = {x["group"]: x for x in res.body["groups"]}
    assert (g["alectinib"]["orr"]["k"], g["alectinib"]["orr"]["n"]) == (126, 152)
    assert round(100 * g["alectinib"]["orr"]["ci"][0], 1) == 76.0
    assert res.body["orr_difference"]["comparison"] == "alectinib - crizotinib"


def test_cli_text_summaries(cli, lung_csv, tmp_path):
    r = cli(
        [
            "clinical", "survival", lung_csv, "--time-col", "time", "--event-col", "status",
            "--group-col", "sex", "--landmark", "365",
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "270 (212–310)" in r.stdout
    assert "Log-rank: chi2 = 10.3267" in r.stdout
    assert "HR sex: 2 vs 1 = 0.59 (0.42–0.82)" in r.stdout
    path = _write(tmp_path, "arm,best\n" + "".join(f"A,{c}\n" for c in "PR PR PD SD NE".split())
                  + "".join(f"B,{c}\n" for c in "PD PD SD PR".split()))  # fmt: skip
    r = cli(["clinical", "response", path, "--response-col", "best", "--group-col", "arm"])
    assert r.exit_code == 0, r.stderr
    assert "ORR 2/4" in r.stdout
    assert "Fisher exact" in r.stdout


def test_cli_group_never_at_risk_at_an_event_reports_cox_as_not_estimable(cli, tmp_path):
    """Fuzz-found (exit 1 from inside firthmodels before): arm B's patients are all censored
    before the first event, so its hazard ratio is not estimable. Kaplan-Meier and the
    log-rank test still stand; the Cox model is not reported, and the warning says why."""
    rows = [(5, 1, "A"), (6, 1, "A"), (7, 0, "A"), (8, 1, "A"), (9, 1, "A"),
            (1, 0, "B"), (2, 0, "B"), (3, 0, "B")]  # fmt: skip
    text = "id,months,event,arm\n" + "".join(
        f"P{i},{m},{ev},{arm}\n" for i, (m, ev, arm) in enumerate(rows)
    )
    path = _write(tmp_path, text)
    r = cli(
        ["clinical", "survival", path, "--time-col", "months", "--event-col", "event",
         "--group-col", "arm", "--format", "json"]
    )  # fmt: skip
    assert r.exit_code == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert out["cox"] is None
    assert out["logrank"] is not None
    assert any(
        w.startswith("Cox model not reported: the data carry no information on ['arm: B vs A']")
        for w in out["warnings"]
    ), out["warnings"]
