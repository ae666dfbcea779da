"""Study import + timeline, end to end through the CLI, on SQLite and PostgreSQL.

The 4-draw study (monitoring_files.DRAWS): G1202R below its LoD at D1, then 0.5 / 1.5 / 4.0 %
by NGS (kinresist VCFs); EML4-ALK v3 flat at ~2 % (findings tables); L1196M below its LoD in every
draw; alectinib from 2023-06-05 to 2025-02-28, then lorlatinib.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from monitoring_files import DRAWS

from kinresist.store import open_store


def _import(cli, d: Path, db: str, *extra: str):
    return cli(["study", "import", d / "manifest.csv", "--therapy", d / "therapy.csv",
                "--db", db, "--study", "S1", *extra])  # fmt: skip


def test_manifest_imports_in_one_transaction_and_timeline_reproduces_it(
    cli, vcf_study: Path, store_url: str
) -> None:
    r = _import(cli, vcf_study, store_url, "--format", "json")
    assert r.exit_code == 0, r.stderr
    imported = json.loads(r.stdout)
    assert imported["workflow"] == "study.import"
    assert [row["row"] for row in imported["rows"]] == list(range(1, 9))
    assert len({row["run_id"] for row in imported["rows"]}) == 8
    with open_store(store_url) as store:
        counts = store.counts()
        runs = store.runs(kind="study.import")
    assert counts["sample"] == 4
    assert counts["subject"] == 1
    assert counts["therapy_line"] == 3
    assert counts["analysis_run"] == 9  # one per row + the import itself
    assert len(runs) == 1
    assert [row["run_id"] for row in runs[0].outputs["body"]["rows"]] == [
        row["run_id"] for row in imported["rows"]
    ]

    r = cli(["timeline", "PT-1", "--db", store_url, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    t = json.loads(r.stdout)
    assert t["workflow"] == "timeline"
    assert {"kinresist_version", "kb_version", "inputs", "parameters"} <= set(t)
    assert [x["drug"] for x in t["therapy"]] == ["crizotinib", "alectinib", "lorlatinib"]
    series = {a["alteration"]: a["series"] for a in t["alterations"]}
    assert set(series) == {"ALK G1202R", "ALK EML4-ALK v3", "ALK L1196M"}
    keys = {"sample", "collected", "assay", "value", "ci_low", "ci_high", "detected", "lod"}
    assert all(keys <= set(p) for s in series.values() for p in s)
    # every input value, in %: VCF AF and LOD, findings-table VAF, molecule depths, dates
    for i, (sample, day, g1202r, lod, fusion) in enumerate(DRAWS):
        (g,) = [p for p in series["ALK G1202R"] if p["sample"] == sample]
        assert (g["collected"], g["assay"], g["depth"]) == (day, "ngs", 3000)
        assert g["lod"] == pytest.approx(100 * lod, rel=1e-12)
        if g1202r is None:  # below LoD: no value, never 0
            assert (g["value"], g["detected"], g["call"]) == (None, False, "not_detected")
            assert g["display"] == f"below LoD ({100 * lod:.3g} %)"
        else:
            assert g["value"] == pytest.approx(100 * g1202r, rel=1e-12)
            assert g["detected"] is True
        (f,) = [p for p in series["ALK EML4-ALK v3"] if p["sample"] == sample]
        assert f["value"] == pytest.approx(100 * fusion, rel=1e-12)
        assert (f["depth"], f["detected"]) == (3100 + i, True)
        (m,) = [p for p in series["ALK L1196M"] if p["sample"] == sample]
        assert m["value"] is None
        assert m["detected"] is False
        assert m["lod"] == pytest.approx(100 * lod, rel=1e-12)
    assert all(p["value"] != 0 for s in series.values() for p in s)
    # alerts: G1202R confirmed at D3 (seen at D2, again at D3), rising at D4, molecular
    # progression on alectinib at D2; the flat fusion and the undetected L1196M raise none
    got = {(a["kind"], a["alteration"], a["sample"]) for a in t["alerts"]}
    assert got == {
        ("new_detection", "ALK G1202R", "PT-1-D3"),
        ("rising", "ALK G1202R", "PT-1-D4"),
        ("molecular_progression", "ALK G1202R", "PT-1-D2"),
    }
    prog = next(a for a in t["alerts"] if a["kind"] == "molecular_progression")
    assert prog["lead_time_days"] == 346  # 2024-03-19 -> end of alectinib 2025-02-28
    assert all(
        set(a) >= {"kind", "alteration", "sample", "collected", "reason"} for a in t["alerts"]
    )
    # per-draw KB interpretation, with the drug at the draw as prior therapy; plasma QC
    d3 = next(d for d in t["draws"] if d["sample"] == "PT-1-D3")
    assert d3["drug"] == "alectinib"
    assert d3["interpretation"]["classification"] == "on_target_mutation"
    assert d3["interpretation"]["prior_therapy"] == "alectinib"
    calls = {c["drug"]: c["call"] for c in d3["interpretation"]["drugs"]}
    assert calls["lorlatinib"] == "sensitive"  # G1202R: Lin 2017
    assert d3["flags"] == ["edta_processing_over_4h"]
    assert d3["plasma_qc"]["haploid_genome_equivalents"] == pytest.approx(20_000 / 3.3)


def test_timeline_tsv_says_below_lod(cli, vcf_study: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    assert _import(cli, vcf_study, db).exit_code == 0
    r = cli(["timeline", "PT-1", "--db", db, "--format", "tsv"])
    assert r.exit_code == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines() if not line.startswith("##")]
    head, body = rows[0], rows[1:]
    assert head[:8] == [
        "alteration",
        "sample",
        "collected",
        "assay",
        "quantity",
        "value",
        "unit",
        "ci_low",
    ]
    d1 = next(x for x in body if x[0] == "ALK G1202R" and x[1] == "PT-1-D1")
    assert d1[head.index("value")] == ""
    assert d1[head.index("display")] == "below LoD (0.2 %)"
    r = cli(["timeline", "PT-9", "--db", db])
    assert r.exit_code == 2
    assert "no subject 'PT-9'" in r.stderr
    assert "PT-1" in r.stderr


def test_ddpcr_plate_rows_keep_the_plate_values(cli, tmp_path: Path) -> None:
    """ddPCR through the manifest: one plate holding four draws and a positive control; each
    row takes its sample's merged fractional abundance exactly as ``ddpcr analyze`` reports it,
    the control (not in the manifest) is left out with a warning, and the draw with no mutant
    droplets is below its LoD (value None, LoD > 0)."""
    import numpy as np

    from kinresist.core import get_workflow
    from kinresist.ddpcr.simulate import simulate_plate, write_plate

    d = tmp_path / "s"
    plate = simulate_plate(rng=np.random.default_rng(5), n_wells=9, droplets=15000,
                           wt_copies_per_droplet=0.15,
                           mutant_fractions=np.array([0, 0, 0.003, 0.003, 0.01, 0.01, 0.03, 0.03, 0.05]))  # fmt: skip
    write_plate(plate, d / "plate")
    samples = ["D1", "D1", "D2", "D2", "D3", "D3", "D4", "D4", "PC"]
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for w, s in zip(plate.wells, samples, strict=True):
        lines += [f"{w},{s},Ch1Unknown,ALK_G1202R,,", f"{w},{s},Ch2Unknown,ALK_WT,,"]
    (d / "res.csv").write_text("\n".join(lines) + "\n")
    rows = ["subject,sample,collected,sample_type,assay,file,results,assay_map"]
    for i, s in enumerate(["D1", "D2", "D3", "D4"]):
        rows.append(f"P9,{s},2024-0{i + 1}-15,plasma,ddpcr,plate,res.csv,ALK_G1202R -> ALK G1202R; ALK_WT -> wild type")  # fmt: skip
    (d / "m.csv").write_text("\n".join(rows) + "\n")
    db = str(tmp_path / "s.sqlite")
    r = cli(["study", "import", d / "m.csv", "--db", db, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    warnings = json.loads(r.stdout)["warnings"]
    assert any("PC" in w and "not in the manifest" in w for w in warnings)
    direct = get_workflow("ddpcr.analyze")(plate=[d / "plate"], results=d / "res.csv",
                                           assay=["ALK_G1202R=ALK G1202R", "ALK_WT=wild type"])  # fmt: skip
    fa = {m.sample: m for m in direct.measurements if m.quantity == "fractional_abundance"}
    r = cli(["timeline", "P9", "--db", db])
    t = json.loads(r.stdout)
    (alt,) = t["alterations"]
    assert [p["sample"] for p in alt["series"]] == ["D1", "D2", "D3", "D4"]
    for p in alt["series"]:
        m = fa[p["sample"]]
        assert (p["value"], p["ci_low"], p["ci_high"], p["lod"]) == (
            m.value,
            m.ci_low,
            m.ci_high,
            m.lod,
        )
        assert p["assay"] == "ddpcr"
    d1 = alt["series"][0]
    assert d1["detected"] is False
    assert d1["value"] is None
    assert d1["lod"] > 0
    assert d1["display"].startswith("below LoD (")
    assert {a["kind"] for a in t["alerts"]} >= {"new_detection", "rising"}
