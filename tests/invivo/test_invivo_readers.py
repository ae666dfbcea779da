"""Readers: long tables, invivoSyn wide, TumGrowth 2-row headers, Xeva/PDXE, imaging; caliper
formulas; errors that name the file, line and column.

TumGrowth files (tonedivad/TumGrowth data/, no licence) are read from ../shared only, never copied.
TumGrowth's loader (``File_fct.R::loadFile``) is the reference for the quirks tested here: a Grp
column found by ``^[group]+$``, ids by ``^[MIDmid]+$``, ``Use`` kept when non-empty, decimal commas,
repeated ids numbered ``id.1``, ``id.2``...
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kinresist.errors import InputError
from kinresist.invivo import (
    FORMULAS,
    caliper_volume,
    log_values,
    read_growth,
    read_imaging,
    read_invivosyn,
    read_long,
    read_tumgrowth,
    read_xeva,
)


def test_caliper_formulas_by_name():
    """L = 10, W = 6 (given in either order): W is the short axis."""
    for a, b in ((10.0, 6.0), (6.0, 10.0)):
        la, wa = np.array([a]), np.array([b])
        assert caliper_volume(la, wa, "ellipsoid_half")[0] == pytest.approx(10 * 36 / 2)
        assert caliper_volume(la, wa, "ellipsoid")[0] == pytest.approx(math.pi / 6 * 10 * 36)
        assert caliper_volume(la, wa, "ellipsoid_geo")[0] == pytest.approx(math.pi / 6 * 60**1.5)
        assert caliper_volume(la, wa, "area")[0] == pytest.approx(60.0)
    assert set(FORMULAS) == {"ellipsoid_half", "ellipsoid", "ellipsoid_geo", "area"}


def test_zero_rules():
    v = np.array([0.0, 2.0, 8.0, np.nan])
    assert np.isnan(log_values(v, "drop")[0])
    assert log_values(v, "half_min")[0] == pytest.approx(math.log(1.0))
    assert log_values(v, "plus1")[1] == pytest.approx(math.log(3.0))
    np.testing.assert_allclose(log_values(v, "log1p"), log_values(v, "plus1"))
    assert np.isnan(log_values(v, "drop")[3])


def test_long_table_with_calipers(tmp_path):
    p = tmp_path / "cal.csv"
    p.write_text(
        "Mouse,Group,Day,Length (mm),Width (mm),dose\n"
        "m1,Vehicle,0,6,4,0 mg/kg\nm1,Vehicle,7,8,5,0 mg/kg\n"
        "m2,Drug,0,5,6,10 mg/kg\nm2,Drug,7,,,10 mg/kg\n"
    )
    g = read_long(p, formula="ellipsoid")
    t = g.table.set_index(["subject", "day"])
    assert t.loc[("m1", 7.0), "value"] == pytest.approx(math.pi / 6 * 8 * 25)
    assert t.loc[("m2", 0.0), "value"] == pytest.approx(math.pi / 6 * 6 * 25)
    assert np.isnan(t.loc[("m2", 7.0), "value"])  # not measured stays unknown
    assert g.formula == "ellipsoid"
    assert g.unit == "mm3"
    assert t.loc[("m2", 0.0), "dose"] == "10 mg/kg"
    assert t.loc[("m1", 7.0), "source_line"] == 3


def test_synergylmm_long(shared):
    g = read_growth(shared("invivo-data", "synergylmm_grwth_data.csv"))
    assert g.reader == "long"
    assert g.arms == ["Control", "DrugA", "DrugB", "Combination"]
    assert len(g.subjects) == 32
    assert len(g.table) == 352


def test_invivosyn_wide(shared):
    g = read_invivosyn(shared("invivo-data", "invivosyn_SW837.csv"))
    assert g.baseline_day == -1.0
    assert g.arms == ["Vehicle", "Rabusertib", "Irinotecan", "Irinotecan + Rabusertib"]
    assert list(g.days) == [-1.0, 6.0, 13.0, 20.0, 24.0]
    row = g.table[(g.table["subject"] == "14") & (g.table["day"] == 13.0)].iloc[0]
    assert row["value"] == pytest.approx(1561.008)
    assert row["source_line"] == 15
    assert row["source_column"] == "13"
    snu = read_growth(shared("invivo-data", "invivosyn_SNU-81.csv"))
    assert snu.reader == "invivosyn"
    veh = snu.table[snu.table["arm"] == "Vehicle"]
    assert veh.loc[veh["day"] > 14, "value"].isna().all()  # vehicle stopped on day 14


def test_invivosyn_repeated_mouse_numbers_across_arms(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("Treatment,Mouse,0,7\nV,1,100,200\nV,2,110,220\nD,1,90,95\nD,2,120,100\n")
    g = read_invivosyn(p)
    assert sorted(g.subjects) == ["D 1", "D 2", "V 1", "V 2"]


def test_tumgrowth_quirks(shared):
    long = read_tumgrowth(shared("invivo-data", "tumgrowth_TestLong.tsv"))
    # C2 has an empty Use cell: excluded, as TumGrowth's loader does
    assert long.excluded == ("C 2",)
    assert "C 2" not in long.subjects
    assert len(long.subjects) == 20  # ids restart per group: "C 1" ... "A 11"
    v = long.table.set_index(["subject", "day"])["value"]
    assert v[("C 1", 20.0)] == pytest.approx(201.5)  # decimal comma
    assert long.arms == ["C", "A"]
    tfs = read_tumgrowth(shared("invivo-data", "tumgrowth_TestTFS.tsv"))
    assert "C211" in tfs.censored_at_last
    kolb = read_growth(shared("invivo-data", "tumgrowth_KOLB2008.tsv"))
    assert kolb.reader == "tumgrowth"
    assert len(kolb.subjects) == 16


def test_tumgrowth_calipers_match_its_area_column(shared):
    """TestCS gives L, W and V per day (V = L·W, an area; day 21 onward lists W before L)."""
    path = shared("invivo-data", "tumgrowth_TestCS.tsv")
    given = read_tumgrowth(path, variable="V")
    area = read_tumgrowth(path, formula="area")
    assert area.quantity == "area"
    m = given.table.merge(area.table, on=["subject", "day"])
    assert len(m) > 500
    np.testing.assert_allclose(m["value_x"], m["value_y"], rtol=1e-9)
    assert {"PBS black.1", "PBS black.2", "PBS red.1"} <= set(given.subjects)
    assert "PBS blue.2" in given.excluded  # empty Use cell


def test_xeva_with_models(shared):
    g = read_xeva(
        shared("invivo-data", "pdxe_brca_volumes.csv"),
        models=shared("invivo-data", "pdxe_brca_models.csv"),
    )
    assert g.has_lines
    assert len(g.subjects) == 849
    assert len(g.table) == 12717
    assert g.table.loc[g.table["subject"] == "X.1004.BG98", "line"].iloc[0] == "X-1004"


def test_imaging_flux_and_voxels(tmp_path):
    p = tmp_path / "bli.csv"
    p.write_text("mouse,arm,day,total_flux\na,V,0,1e6\na,V,7,1e8\nb,D,0,2e6\nb,D,7,1e6\n")
    g = read_imaging(p)
    assert g.quantity == "flux"
    assert g.unit == "photons/s"
    q = tmp_path / "ct.csv"
    q.write_text("mouse,arm,day,voxels\na,V,0,1000\na,V,7,3000\n")
    with pytest.raises(InputError, match="voxel volume"):
        read_imaging(q)
    ct = read_imaging(q, voxel_volume=0.001)
    assert ct.table["value"].tolist() == pytest.approx([1.0, 3.0])


@pytest.mark.parametrize(
    ("text", "line", "column", "match"),
    [
        ("mouse,arm,day,volume\na,V,0,100\na,V,7,-5\n", 3, "volume", "negative volume"),
        ("mouse,arm,day,volume\na,V,0,100\na,V,x7,50\n", 3, "day", "is not a number"),
        ("mouse,arm,day,volume\na,V,0,100\na,V,7,big\n", 3, "volume", "is not a number"),
        ("mouse,arm,day,volume\na,V,0,100\n,V,7,50\n", 3, "mouse", "animal id is empty"),
        ("mouse,arm,volume\na,V,100\n", 1, None, "day"),
    ],
)
def test_long_bad_input_names_line_and_column(tmp_path, text, line, column, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        read_long(p)
    assert err.value.line == line
    assert err.value.column == column
    assert err.value.path == str(p)


def test_wide_bad_day_header_and_value(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("Treatment,Mouse,-1,week2\nV,1,100,200\nV,2,90,180\n")
    with pytest.raises(InputError, match="day column header 'week2' is not a number") as err:
        read_invivosyn(p)
    assert (err.value.line, err.value.column) == (1, "week2")
    p.write_text("Treatment,Mouse,-1,7\nV,1,100,-3\nV,2,90,180\n")
    with pytest.raises(InputError, match="negative volume") as err:
        read_invivosyn(p)
    assert (err.value.line, err.value.column) == (2, "7")


def test_duplicate_day_for_one_animal(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("mouse,arm,day,volume\na,V,0,100\na,V,0,110\n")
    with pytest.raises(InputError, match="two measurements on day 0") as err:
        read_long(p)
    assert err.value.line == 3


def test_table_frame_is_sorted_and_typed(tmp_path):
    p = tmp_path / "l.tsv"
    p.write_text("id\ttreatment\ttime\tTV\nb\tD\t7\t5\nb\tD\t0\t4\na\tV\t0\t3\n")
    g = read_growth(p)
    assert list(g.table.columns[:6]) == ["subject", "arm", "day", "value", "line", "source_line"]
    assert g.table["day"].dtype == float
    assert g.arms == ["D", "V"]
    pd.testing.assert_series_equal(
        g.table["subject"], pd.Series(["a", "b", "b"], name="subject"), check_dtype=False
    )
