"""CLI contract: ``kinresist ddpcr analyze|recompute --format json`` fields, errors (exit 2),
HTML report, TSV, store recording (--db) and KB-linked findings."""

from __future__ import annotations

import json

import numpy as np
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


def test_analyze_contract_with_results(cli, shared):
    d = shared("ddpcr-data", "twoddpcr", "converted")
    r = cli(["ddpcr", "analyze", d, "--results", d / "KRAScountsQS.csv", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["schema_version"] == "1.0"
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
    assert r.stdout.startswith("## kind: kinresist.ddpcr.analysis")
    assert "\twell\t" not in r.stdout.splitlines()[7]


def test_recompute_contract_and_merged(cli, shared):
    f = shared("ddpcr-data", "ddpcr_nipd", "data", "ddpcr_data", "20-0109.csv")
    r = cli(["ddpcr", "recompute", f, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
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


def test_html_report_and_store(cli, tmp_path):
    """Synthetic ALK G1202R plate: HTML report is self-contained; --db stores FA measurements and
    detected findings (source_assay ddpcr) in one transaction."""
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
    html = tmp_path / "r.html"
    db = tmp_path / "store.sqlite"
    r = cli(
        [
            "ddpcr",
            "analyze",
            folder,
            "--results",
            res,
            "--html",
            html,
            "--db",
            db,
            "--format",
            "json",
        ]
    )
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    text = html.read_text()
    assert "data:image/png;base64," in text
    assert "<script src=" not in text
    g = next(w for w in out["samples"] if w["channel"] == 1 and w["sample"] == "P4-plasma")
    assert g["call"] == "detected"
    assert g["gene"] == "ALK"
    assert g["alteration"] == "G1202R"
    assert out["store"]["measurements"] == 4
    assert out["store"]["findings"] == 3
    from kinresist.store import open_store

    with open_store(str(db)) as store:
        ms = store.measurements(target="ALK G1202R")
        assert len(ms) == 4
        assert {m.call for m in ms} == {"detected", "not_detected"}
        fs = store.findings()
        assert {f.source_assay for f in fs} == {"ddpcr"}


def test_to_findings(shared):
    from kinresist.ddpcr.analyze import analyze_plate
    from kinresist.ddpcr.read_amplitude import load_plate
    from kinresist.ddpcr.record import to_findings

    plate = simulate_plate(
        rng=np.random.default_rng(3),
        n_wells=2,
        droplets=15000,
        mutant_fractions=np.array([0.03, 0.0]),
    )
    a = analyze_plate(plate, target_names={1: "EGFR T790M", 2: "EGFR WT"})
    fs = to_findings(a)
    assert [(f.gene, f.alteration, f.source) for f in fs] == [("EGFR", "T790M", "ddpcr")]
    assert fs[0].vaf == pytest.approx(0.03, abs=0.01)
    del load_plate


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
    row = next(w for w in out["wells"] if w["well"] == "A11" and w["channel"] == 1)
    assert CONTRACT <= set(row)
    assert row["positives"] == expect
    assert row["accepted"] == int(a11["count"].sum())
    bad = cli(["ddpcr", "clusters", f, "--target-b", "9"])
    assert bad.exit_code == 2
