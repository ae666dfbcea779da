"""CLI contract: ``kinresist ddpcr analyze|recompute|clusters --format json`` (the shared result
envelope, then the body), errors (exit 2, one line), HTML report, TSV and Parquet, store
recording (--db, one transaction through kinresist.core.record) and KB-linked findings."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from kinresist.ddpcr.simulate import simulate_plate, write_plate

CONTRACT = {
    "well",
    "sample",
    "target",
    "channel",
    "positives",
    "accepted",
    "copies_per_ul",
    "ci95_low",
    "ci95_high",
    "fractional_abundance",
    "call",
}
ENVELOPE = ["workflow", "schema_version", "kinresist_version", "kb_version", "created", "inputs",
            "parameters", "notice", "warnings", "measurements"]  # fmt: skip


def _header_and_table(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines()
    return [x for x in lines if x.startswith("##")], [x for x in lines if not x.startswith("##")]


def test_analyze_contract_with_results(cli, shared):
    d = shared("ddpcr-data", "twoddpcr", "converted")
    r = cli(["ddpcr", "analyze", d, "--results", d / "KRAScountsQS.csv", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out)[: len(ENVELOPE)] == ENVELOPE
    assert out["workflow"] == "ddpcr.analyze"
    assert out["schema_version"] == "2.0"
    assert all(v.startswith("sha256:") for v in out["inputs"].values())
    assert len(out["wells"]) == 24
    for w in out["wells"]:
        assert CONTRACT <= set(w)
        assert w["call"] in {"detected", "not_detected", "indeterminate"}
    e03 = next(w for w in out["wells"] if w["well"] == "E03" and w["channel"] == 1)
    assert e03["target"] == "Mutant"
    assert e03["sample"].startswith("160407")
    # automatic gating: mutant droplets within 3 % of QuantaSoft's 535, FA ~ 6.2 %
    assert abs(e03["positives"] - 535) <= 16
    assert e03["fractional_abundance"] == pytest.approx(6.2, abs=0.3)
    assert min(a["agreement"] for a in out["gating_agreement"]) >= 0.99


def test_analyze_zip_and_files(cli, shared):
    r = cli(
        [
            "ddpcr",
            "analyze",
            shared("ddpcr-data", "cloudy-Gromgorgel", "example.zip"),
            "--format",
            "json",
        ]
    )
    assert r.exit_code == 0, r.stderr
    assert {w["well"] for w in json.loads(r.stdout)["wells"]} == {"A01", "A02", "A03", "A04"}
    small = shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "small")
    r = cli(
        [
            "ddpcr",
            "analyze",
            small / "small_A01_Amplitude.csv",
            small / "small_A05_Amplitude.csv",
            "--format",
            "tsv",
        ]
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("## kind: ddpcr.analyze")
    header, table = _header_and_table(r.stdout)
    assert sum(h.startswith("## input: ") for h in header) == 2
    assert table[0].startswith("well\tsample\ttarget\tchannel\tpositives\taccepted")
    assert len(table) == 1 + 2 * 2  # two duplex wells


def test_recompute_contract_and_merged(cli, shared):
    f = shared("ddpcr-data", "ddpcr_nipd", "data", "ddpcr_data", "20-0109.csv")
    r = cli(["ddpcr", "recompute", f, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["workflow"] == "ddpcr.recompute"
    assert out["layout"]
    assert out["wells"]
    assert out["merged"]
    for w in out["wells"] + out["merged"]:
        assert CONTRACT <= set(w)
    m01 = next(m for m in out["merged"] if m["well"] == "M01" and m["channel"] == 1)
    assert m01["copies_per_ul"] == pytest.approx(9.14508, rel=1e-5)
    assert round(m01["total95_low"], 2) == 8.72


@pytest.mark.parametrize(
    "args",
    [
        ["ddpcr", "recompute", "{tmp}/missing.csv"],
        ["ddpcr", "recompute", "{tmp}/bad.csv"],
        ["ddpcr", "analyze", "{tmp}"],
        ["ddpcr", "analyze", "{tmp}/bad_A01_Amplitude.csv"],
        ["ddpcr", "recompute", "{tmp}/bad.csv", "--ci-method", "bayes"],
    ],
)
def test_bad_input_exit_2(cli, tmp_path, args):
    (tmp_path / "bad.csv").write_text("hello,world\n1,2\n")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    (tmp_path / "bad_A01_Amplitude.csv").write_text("Ch1 Amplitude,Ch2 Amplitude\n12,oops\n")
    argv = [
        a.format(tmp=tmp_path if "analyze" not in args or "bad_A01" in a else empty) for a in args
    ]
    r = cli(argv)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def _g1202r_plate(tmp_path):
    """A synthetic 8-well ALK G1202R duplex plate, 2 wells per sample (P1: 0 %, P2: 2/1 %,
    P3: 1 %, P4: 5 %), with a results file naming samples and assays."""
    plate = simulate_plate(
        rng=np.random.default_rng(7),
        n_wells=8,
        droplets=15000,
        mutant_fractions=np.array([0, 0, 0.02, 0.01, 0.01, 0.01, 0.05, 0.05]),
    )
    folder = tmp_path / "plate"
    write_plate(plate, folder)
    res = tmp_path / "res.csv"
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for i, w in enumerate(plate.wells):
        lines.append(f"{w},P{i // 2 + 1}-plasma,Ch1Unknown,ALK_G1202R,,")
        lines.append(f"{w},P{i // 2 + 1}-plasma,Ch2Unknown,ALK_WT,,")
    res.write_text("\n".join(lines) + "\n")
    return folder, res


def test_html_report_and_store(cli, tmp_path):
    """Synthetic ALK G1202R plate: the HTML report is self-contained (inline SVG figures, 2-D
    droplet plots); --db records, in one transaction, copies/µL + FA per sample x target keyed
    'ALK G1202R' (wild-type rows without a key) and the detected findings (source ddpcr)."""
    folder, res = _g1202r_plate(tmp_path)
    html = tmp_path / "r.html"
    db = tmp_path / "store.sqlite"
    r = cli(["ddpcr", "analyze", folder, "--results", res, "--html", html, "--db", db,
             "--subject", "PT-7", "--sample-type", "plasma", "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "recorded run" in r.stderr
    out = json.loads(r.stdout)
    text = html.read_text()
    assert text.count("<svg") >= 8 + 3  # heatmap, two 1-D plots, a 2-D plot per well
    assert "<script src=" not in text
    assert "P4-plasma" in text
    g = next(w for w in out["samples"] if w["channel"] == 1 and w["sample"] == "P4-plasma")
    assert g["call"] == "detected"
    assert g["gene"] == "ALK"
    assert g["alteration"] == "G1202R"
    assert g["alteration_key"] == "ALK G1202R"
    fa = [m for m in out["measurements"] if m["quantity"] == "fractional_abundance"]
    assert len(fa) == 4
    assert {m["alteration"] for m in fa} == {"ALK G1202R"}
    wt = [m for m in out["measurements"] if m["target"] == "ALK_WT"]
    assert len(wt) == 4
    assert {m["alteration"] for m in wt} == {None}
    from kinresist.store import open_store

    with open_store(str(db)) as store:
        rows = store.by_alteration("ALK G1202R")
        counts = store.counts()
    ms = [x for x in rows if x["record"] == "measurement"]
    assert len(ms) == 8  # FA and copies/µL for each of the 4 samples
    assert {x["subject"] for x in rows} == {"PT-7"}
    assert {x["sample"] for x in ms} == {"P1-plasma", "P2-plasma", "P3-plasma", "P4-plasma"}
    assert {x["call"] for x in ms} == {"detected", "not_detected"}
    p1 = [x for x in ms if x["sample"] == "P1-plasma"]
    assert all(x["value"] is None and x["lod"] > 0 for x in p1)  # below LoD, never 0
    fs = [x for x in rows if x["record"] == "finding"]
    assert sorted(x["sample"] for x in fs) == ["P2-plasma", "P3-plasma", "P4-plasma"]
    assert {x["assay"] for x in fs} == {"ddpcr"}
    assert counts["measurement"] == 12
    assert counts["sample"] == 4


def test_parquet_and_store_refusal(cli, tmp_path):
    """--format parquet --out X.parquet writes every table with the envelope in the metadata;
    recording without --subject is refused (exit 2) and stores nothing."""
    folder, res = _g1202r_plate(tmp_path)
    out = tmp_path / "plate.parquet"
    r = cli(["ddpcr", "analyze", folder, "--results", res, "--format", "parquet", "--out", out])
    assert r.exit_code == 0, r.stderr
    names = sorted(p.name for p in tmp_path.glob("plate*.parquet"))
    assert names == [
        "plate.gating_agreement.parquet",
        "plate.measurements.parquet",
        "plate.parquet",
        "plate.samples.parquet",
    ]
    table = pq.read_table(out)
    meta = json.loads(table.schema.metadata[b"kinresist"])
    assert meta["workflow"] == "ddpcr.analyze"
    assert meta["table"] == "wells"
    assert table.num_rows == 16
    assert table.column_names[:6] == [
        "well",
        "sample",
        "target",
        "channel",
        "positives",
        "accepted",
    ]
    db = tmp_path / "s.sqlite"
    r = cli(["ddpcr", "analyze", folder, "--results", res, "--db", db, "--format", "json"])
    assert r.exit_code == 2
    assert "--subject" in r.stderr
    from kinresist.store import open_store

    with open_store(str(db)) as store:
        assert store.counts()["measurement"] == 0


def test_clusters_command_qx600(cli, shared):
    """QX600 Cluster Data -> two-target quantification with the contract fields; A11 Target 1
    positives = clusters with Target 1 = 1 (from the file: 25+30+40+18+... summed)."""
    from kinresist.ddpcr.read_qx600 import read_qx_cluster_data

    f = shared("ddpcr-data", "Q4ddPCR-QX600", "data", "Data2", "ClusterData.csv")
    r = cli(["ddpcr", "clusters", f, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    table = read_qx_cluster_data(f)
    a11 = table[table.well == "A11"]
    expect = int(a11.loc[a11.target_1 == 1, "count"].sum())
    assert out["workflow"] == "ddpcr.clusters"
    row = next(w for w in out["wells"] if w["well"] == "A11" and w["channel"] == 1)
    assert CONTRACT <= set(row)
    assert row["positives"] == expect
    assert row["accepted"] == int(a11["count"].sum())
    bad = cli(["ddpcr", "clusters", f, "--target-b", "9"])
    assert bad.exit_code == 2
