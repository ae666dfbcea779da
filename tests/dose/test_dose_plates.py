"""Plate readers, units, plate maps, normalisation/QC and the one-command plate report.

References: generated plates with known signals (the reader must return exactly what was written);
normalisation formulas checked by hand-computed values; a 384-well plate + map (generated here,
seeded) goes from file to HTML report in one CLI command and recovers the generating IC50s within
their 95% CIs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kinresist.dose.examples import TRUE_CURVES, write_example_plate
from kinresist.dose.normalise import combine_plate_and_map, normalise_plates
from kinresist.dose.plates import read_plate, read_plate_grid, read_plate_long, read_plate_map
from kinresist.dose.units import parse_concentration
from kinresist.errors import InputError, UnitError


def _grid_text(values: np.ndarray, label: str) -> list[str]:
    nr, nc = values.shape
    lines = [label, "," + ",".join(str(i) for i in range(1, nc + 1))]
    for r in range(nr):
        lines.append(chr(65 + r) + "," + ",".join(str(v) for v in values[r]))
    return lines


def test_units():
    assert parse_concentration("10 uM") == 10_000
    assert parse_concentration("10 µM") == 10_000
    assert parse_concentration("10 μM") == 10_000
    assert parse_concentration("2.5mM") == 2.5e6
    assert parse_concentration("1 M") == 1e9
    assert parse_concentration("3", default_unit="nM") == 3
    with pytest.raises(UnitError, match="unknown concentration unit 'ug/ml'"):
        parse_concentration("3 ug/ml")
    with pytest.raises(UnitError, match="no unit"):
        parse_concentration("3")


def test_multi_block_96_csv_and_xlsx(tmp_path):
    rng = np.random.default_rng(1)
    a = np.round(rng.uniform(100, 200, (8, 12)), 2)
    b = np.round(rng.uniform(100, 200, (8, 12)), 2)
    lines = ["Reader export v1", "", *_grid_text(a, "Plate A"), "", *_grid_text(b, "Plate B")]
    p = tmp_path / "two.csv"
    p.write_text("\n".join(lines) + "\n")
    t = read_plate_grid(p)
    assert list(t["plate"].unique()) == ["Plate A", "Plate B"]
    assert len(t) == 192
    got = t[t["plate"] == "Plate B"].set_index("well")["signal"]
    assert got["C5"] == b[2, 4]
    assert got["H12"] == b[7, 11]
    rows = [line.split(",") for line in lines]
    rows = [r + [""] * (13 - len(r)) for r in rows]
    x = tmp_path / "two.xlsx"
    pd.DataFrame(rows).to_excel(x, header=False, index=False)
    tx = read_plate(x)
    np.testing.assert_allclose(tx["signal"].to_numpy(), t["signal"].to_numpy())


def test_grid_errors(tmp_path):
    vals = np.arange(96, dtype=float).reshape(8, 12)
    good = _grid_text(vals, "P1")
    # text in a numeric cell
    bad = list(good)
    bad[3] = bad[3].replace(",13.0,", ",OVRFLW,", 1)
    p = tmp_path / "text.csv"
    p.write_text("\n".join(bad))
    with pytest.raises(
        InputError, match=r"line 4, column B2: well B2 of plate 'P1' holds 'OVRFLW'"
    ):
        read_plate_grid(p)
    # missing well (empty cell)
    bad = list(good)
    bad[4] = bad[4].rsplit(",", 1)[0] + ","
    p.write_text("\n".join(bad))
    with pytest.raises(InputError, match=r"well C12 of plate 'P1' is empty"):
        read_plate_grid(p)
    # missing row
    p.write_text("\n".join(good[:-1]))
    with pytest.raises(InputError, match="missing rows H"):
        read_plate_grid(p)
    # duplicated row
    bad = [*good[:4], good[3], *good[5:]]
    p.write_text("\n".join(bad))
    with pytest.raises(InputError, match="row B appears twice"):
        read_plate_grid(p)
    # NA is allowed
    bad = list(good)
    bad[2] = bad[2].replace("A,0.0,", "A,NA,")
    p.write_text("\n".join(bad))
    assert np.isnan(read_plate_grid(p).set_index("well").loc["A1", "signal"])


def test_long_table_and_map_errors(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("plate,well,signal\nP1,A1,10\nP1,A01,11\n")
    with pytest.raises(InputError, match="well A1 of plate 'P1' appears twice"):
        read_plate_long(p)
    p.write_text("plate,well,signal\nP1,A1,10\nP1,A2,abc\n")
    with pytest.raises(InputError, match=r"line 3, column signal: 'abc'"):
        read_plate_long(p)
    m = tmp_path / "map.csv"
    m.write_text("well,role,cell_line,drug,concentration\nA1,sample,X,d,10 uL\n")
    with pytest.raises(UnitError, match=r"line 2.*unknown concentration unit 'uL'"):
        read_plate_map(m)
    m.write_text("well,role,cell_line,drug,concentration\nA1,sample,X,d,10 uM\nA1,vehicle,X,d,0\n")
    with pytest.raises(InputError, match="well A1 appears twice in the plate map"):
        read_plate_map(m)
    m.write_text("well,role,cell_line,drug,concentration\nA1,sample,X,d,10 uM\nA2,sample,X,d,\n")
    with pytest.raises(InputError, match="sample well without a concentration"):
        read_plate_map(m)
    m.write_text("well,role\nA1,treated\n")
    with pytest.raises(InputError, match="role 'treated'"):
        read_plate_map(m)


def test_normalisation_by_hand():
    wells = pd.DataFrame(
        {
            "plate": "P",
            "well": ["A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2"],
            "row": [0, 0, 1, 1, 2, 2, 3, 3],
            "column": [1, 2, 1, 2, 1, 2, 1, 2],
            "signal": [110.0, 90.0, 10.0, 10.0, 60.0, 20.0, 12.0, 8.0],
            "role": [
                "vehicle",
                "vehicle",
                "blank",
                "blank",
                "sample",
                "sample",
                "positive",
                "positive",
            ],
            "cell_line": "X",
            "drug": "d",
            "dose_nm": [0, 0, np.nan, np.nan, 1, 10, np.nan, np.nan],
            "replicate": "1",
        }
    )
    t, qc = normalise_plates(wells)
    s = t.set_index("well")["response"]
    assert s["C1"] == pytest.approx(100 * (60 - 10) / (100 - 10))
    t2, _ = normalise_plates(wells, kill_as_zero=True)
    assert t2.set_index("well")["response"]["C2"] == pytest.approx(100 * (20 - 10) / (100 - 10))
    # Z' = 1 - 3 (sd_veh + sd_pos) / |mean_veh - mean_pos|
    zp = 1 - 3 * (np.std([110, 90], ddof=1) + np.std([12, 8], ddof=1)) / 90
    assert qc[0].z_prime == pytest.approx(zp)
    assert qc[0].flags == [
        "z_prime_low",
        "positive_cv_high",
    ]  # Z' 0.43 < 0.5; positive CV 28 % > 20 %
    assert qc[0].vehicle_cv == pytest.approx(100 * np.std([110, 90], ddof=1) / 100)


def test_map_without_reading_is_an_error(tmp_path):
    plate, pmap = write_example_plate(tmp_path)
    wells = read_plate(plate)
    m = read_plate_map(pmap)
    with pytest.raises(InputError, match="mapped wells have no reading"):
        combine_plate_and_map(wells[wells["well"] != "B2"], m)


def test_384_plate_to_html_one_command(tmp_path, cli):
    plate, pmap = write_example_plate(tmp_path)
    html = tmp_path / "report.html"
    figs = tmp_path / "figs"
    r = cli(
        [
            "dose",
            "plate",
            "--plate",
            plate,
            "--map",
            pmap,
            "--html",
            html,
            "--figures",
            figs,
            "--table",
            tmp_path / "wells.parquet",
            "--format",
            "json",
        ]
    )
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["workflow"] == "dose.plate"
    assert d["schema_version"]
    assert len(d["fits"]) == 4
    assert len(d["comparisons"]) == 2
    assert d["qc"][0]["z_prime"] > 0.5
    assert d["qc"][0]["flags"] == []
    for f in d["fits"]:
        line, drug = f["group"].split(" | ")
        truth = TRUE_CURVES[(line, drug)][0]
        assert f["converged"]
        assert f["status"] == "ok"
        lo, hi = f["ed50"]["ci_low"], f["ed50"]["ci_high"]
        # 4% noise, 30 points: the generating IC50 lies within 1.5x the 95% CI half-width
        half = (hi - lo) / 2
        assert abs(f["ed50"]["estimate"] - truth) < 1.5 * half + 1e-9
    text = html.read_text()
    assert "<svg" in text
    assert "fold the H3122 IC50" in text
    assert 'src="http' not in text
    assert (figs / "alectinib.png").stat().st_size > 1000
    assert (figs / "alectinib.svg").exists()
    assert pd.read_parquet(tmp_path / "wells.parquet")["response"].notna().all()
    assert d["summary"][0].startswith("alectinib — H3122-AR: IC50")


def test_plate_run_recorded_in_store(tmp_path, cli):
    """--db records one run and one IC50 measurement per curve, in one transaction."""
    from kinresist.store import open_store

    plate, pmap = write_example_plate(tmp_path)
    db = tmp_path / "store.sqlite"
    r = cli(["dose", "plate", "--plate", plate, "--map", pmap, "--db", db, "--study", "ALK-R"])
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert "4 measurements" in r.stderr
    assert len(d["measurements"]) == 4
    with open_store(str(db)) as store:
        runs = store.runs(kind="dose.plate")
        assert len(runs) == 1
        ms = store.measurements(target="alectinib")
        assert sorted(m.value for m in ms) == sorted(
            f["ed50"]["estimate"] for f in d["fits"] if f["group"].endswith("alectinib")
        )
        assert all(m.unit == "nM" and m.quantity == "ic50" for m in ms)


def test_edge_effect_flag_and_plate_specific_map(tmp_path):
    """Vehicle wells on the outer ring 25 % lower than interior vehicle wells -> edge_effect flag
    (Welch t test, > 10 % and p < 0.05); the same layout without the drop is not flagged."""
    rng = np.random.default_rng(5)
    rows = []
    for plate, drop in (("P1", 0.75), ("P2", 1.0)):
        for r in range(8):
            for c in range(1, 13):
                edge = r in (0, 7) or c in (1, 12)
                role = "vehicle" if (c in (1, 6)) else "sample"
                sig = 1000.0 * (drop if edge else 1.0) * rng.lognormal(0, 0.02)
                rows.append((plate, f"{chr(65 + r)}{c}", r, c, sig, role))
    wells = pd.DataFrame(rows, columns=["plate", "well", "row", "column", "signal", "role"])
    wells["cell_line"], wells["drug"], wells["replicate"] = "X", "d", "1"
    wells["dose_nm"] = np.where(wells["role"] == "vehicle", 0.0, 10.0)
    _, qc = normalise_plates(wells)
    by = {q.plate: q for q in qc}
    assert "edge_effect" in by["P1"].flags
    assert by["P1"].edge_ratio == pytest.approx(0.75, rel=0.05)
    assert "edge_effect" not in by["P2"].flags
    # a map with a plate column joins by (plate, well)
    grid = tmp_path / "two.csv"
    vals = np.full((8, 12), 5.0)
    grid.write_text("\n".join([*_grid_text(vals, "P1"), "", *_grid_text(vals * 2, "P2")]))
    m = tmp_path / "map.csv"
    m.write_text(
        "plate,well,role,cell_line,drug,concentration\nP1,A1,vehicle,X,d,0\nP2,A1,sample,X,d,1 uM\n"
    )
    merged = combine_plate_and_map(read_plate(grid), read_plate_map(m))
    assert merged.set_index("plate")["signal"].to_dict() == {"P1": 5.0, "P2": 10.0}
    assert merged.set_index("plate")["dose_nm"]["P2"] == 1000.0
