"""The generated CLI of flow/elisa/gsea/tme: JSON contracts, store recording, and bad input ->
exit code 2 with a one-line message and nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import flowfixtures as ff
import numpy as np
import pandas as pd
import pytest

from sharedpaths import shared_path


def _nothing_stored(db: Path) -> None:
    if not db.exists():
        return
    from kinresist.store.api import open_store

    with open_store(str(db)) as store:
        assert sum(store.counts().values()) == 0


def _bad(r, pattern: str) -> None:
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("InputError:")
    assert pattern in r.stderr
    assert "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cliflow")
    events = ff.make_events()
    fcs = ff.write_fcs(d / "tumour_01.fcs", events)
    wsp = ff.write_workspace(d / "panel.wsp", "tumour_01.fcs", events)
    sheet = d / "sheet.csv"
    pd.DataFrame({"sample": ["tumour_01.fcs"], "subject": ["M1"]}).to_csv(sheet, index=False)
    return {"dir": d, "fcs": fcs, "wsp": wsp, "sheet": sheet}


def test_flow_gate_json_and_store(cli, panel, tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    r = cli(
        ["flow", "gate", panel["fcs"], "--gates", panel["wsp"], "--samples", panel["sheet"],
         "--no-plots", "--format", "json", "--db", db, "--study", "S003"]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["workflow"] == "flow.gate"
    assert d["gating"]["kind"] == "flowjo"
    assert "binned" in d["caveats"][0]
    from kinresist.store.api import open_store

    with open_store(str(db)) as store:
        assert store.counts()["measurement"] > 0


def test_flow_truncated_fcs_exit_2(cli, panel, tmp_path: Path) -> None:
    cut = tmp_path / "cut.fcs"
    cut.write_bytes(panel["fcs"].read_bytes()[:3000])
    db = tmp_path / "p.sqlite"
    r = cli(["flow", "gate", cut, "--gates", panel["wsp"], "--db", db, "--study", "S"])
    _bad(r, "truncated")
    _nothing_stored(db)


def test_flow_gate_on_missing_channel_exit_2(cli, tmp_path: Path) -> None:
    gml = tmp_path / "g.xml"
    gml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<gating:Gating-ML '
        'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
        'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">'
        '<gating:RectangleGate gating:id="CD45pos"><gating:dimension '
        'gating:compensation-ref="uncompensated" gating:min="1"><data-type:fcs-dimension '
        'data-type:name="BV786-A" /></gating:dimension></gating:RectangleGate></gating:Gating-ML>',
        encoding="utf-8",
    )
    db = tmp_path / "p.sqlite"
    data1 = shared_path("tme-data", "flow", "gate_ref", "data1.fcs")
    r = cli(["flow", "gate", data1, "--gates", gml, "--db", db, "--study", "S"])
    _bad(r, "'BV786-A'")
    _nothing_stored(db)


def _elisa_table(path: Path, unknown_od: list[float]) -> Path:
    conc = [0.02, 0.15, 0.4, 1, 2, 5]
    od = [2.45, 2.01, 1.53, 1.04, 0.769, 0.567]
    rows = [{"sample": f"S{i}", "signal": y, "concentration": x} for i, (x, y) in
            enumerate(zip(conc, od, strict=True))]  # fmt: skip
    rows += [
        {"sample": f"T{i}", "signal": y, "subject": f"M{i}", "dilution": 5}
        for i, y in enumerate(unknown_od)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_elisa_quantify_json(cli, tmp_path: Path) -> None:
    table = _elisa_table(tmp_path / "cxcl9.csv", [2.01, 1.53, 0.4])
    db = tmp_path / "p.sqlite"
    r = cli(
        ["elisa", "quantify", table, "--analyte", "CXCL9", "--model", "5PL", "--blank", "none",
         "--unit", "ng/mL", "--format", "json", "--db", db, "--study", "S003", "--no-plots"]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    calls = {m["sample"]: m["call"] for m in d["measurements"]}
    assert calls == {"T0": "detected", "T1": "detected", "T2": "indeterminate"}
    vals = {m["sample"]: m["value"] for m in d["measurements"]}
    assert vals["T0"] == pytest.approx(5 * 0.1501, rel=2e-2)
    assert vals["T2"] is None


def test_elisa_not_bracketing_exit_2(cli, tmp_path: Path) -> None:
    table = _elisa_table(tmp_path / "x.csv", [3.9, 4.1])
    db = tmp_path / "p.sqlite"
    r = cli(["elisa", "quantify", table, "--blank", "none", "--db", db, "--study", "S"])
    _bad(r, "do not bracket any unknown")
    _nothing_stored(db)


def test_gsea_prerank_no_overlap_exit_2(cli, tmp_path: Path) -> None:
    rnk = tmp_path / "a.rnk"
    rnk.write_text("CD8A\t2.0\nSTAT1\t1.0\nACTB\t-1.0\n", encoding="utf-8")
    gmt = tmp_path / "s.gmt"
    gmt.write_text("SET\tx\tENSG01\tENSG02\n", encoding="utf-8")
    db = tmp_path / "p.sqlite"
    r = cli(["gsea", "prerank", rnk, "--gene-sets", gmt, "--db", db, "--study", "S"])
    _bad(r, "shares a gene")
    _nothing_stored(db)


def test_gsea_prerank_and_score_json(cli, tmp_path: Path) -> None:
    g = shared_path("tme-data", "gsea")
    r = cli(
        ["gsea", "prerank", g / "gsea_data.gsea_data.rnk", "--gene-sets", g / "gene_sets.gmt",
         "--min-size", "5", "--seed", "7", "--plots", "0", "--format", "json"]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    es = {x["term"]: x["es"] for x in d["results"]}
    assert round(es["ES-SPECIFIC"], 4) == -0.4856
    expr = tmp_path / "expr.csv"
    genes = ["IFNG", "STAT1", "IDO1", "CXCL9", "CXCL10", "HLA-DRA"]
    pd.DataFrame({"gene": genes, "T1": np.arange(1, 7.0), "T2": np.arange(2, 8.0)}).to_csv(
        expr, index=False
    )
    r = cli(["gsea", "score", expr, "--signature", "AYERS_IFNG_6", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    scores = {m["sample"]: m["value"] for m in d["measurements"]}
    assert scores["T1"] == pytest.approx(np.log2(np.arange(1, 7.0) + 1).mean())
    assert "28650338" in d["citation"]


def test_tme_associate_cli(cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 12
    resp = ["mPR", "mPD", "mSD", "mCR"] * 3
    frame = pd.DataFrame(
        {
            "subject": [f"M{i}" for i in range(n)],
            "cd8_pct_cd45": rng.normal(15, 5, n),
            "neutrophil_pct_cd45": rng.normal(15, 5, n),
            "response": resp,
            "ttp": rng.integers(10, 60, n),
            "progressed": [1, 0] * 6,
        }
    )
    table = tmp_path / "t.csv"
    frame.to_csv(table, index=False)
    r = cli(["tme", "associate", table, "--time-col", "ttp", "--event-col", "progressed",
             "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["n_responders"] == 6
    assert {a["biomarker"] for a in d["associations"]} == {"cd8_pct_cd45", "neutrophil_pct_cd45"}
    assert d["km"]["logrank"]["df"] == 1
    r = cli(["tme", "associate", table, "--response-col", "best"])
    _bad(r, "no response column 'best'")
