"""Resistant-line lineage, and the lab's IC50 fold shift joined to a patient's timeline.

The dose plate is kinresist's example plate (``dose.examples``: H3122 / H3122-AR x alectinib,
lorlatinib; true IC50s 35 / 620 nM and 12 / 40 nM). It is imported through a manifest with
``genotype = ALK G1202R`` for H3122-AR; the fold shift must be the one ``dose plate`` itself
reports for the same plate (read back from the run, not recomputed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from monitoring_files import write_findings, write_vcf_study

from kinresist.dose.examples import write_example_plate


@pytest.fixture
def lab_study(tmp_path: Path) -> tuple[Path, str]:
    d = write_vcf_study(tmp_path)
    write_example_plate(d)
    write_findings(d / "ar_panel.csv", [("ALK", "G1202R", 0.47, 2400)])
    rows = [
        "subject,sample,collected,sample_type,assay,file,plate_map,genotype",
        "H3122,H3122-p8,2024-11-05,cell_line,dose,example_plate.csv,example_map.csv,",
        "H3122-AR,H3122-AR-p24,2024-11-05,cell_line,dose,example_plate.csv,example_map.csv,ALK G1202R",
        "H3122-AR,H3122-AR-p24,2024-11-05,cell_line,findings,ar_panel.csv,,",
    ]
    (d / "lab.csv").write_text("\n".join(rows) + "\n")
    return d, str(tmp_path / "s.sqlite")


def test_lineage_add_show_and_the_timeline_lab_fold_shift(cli, lab_study) -> None:
    d, db = lab_study
    for manifest in ("manifest.csv", "lab.csv"):
        r = cli(["study", "import", d / manifest, "--therapy", d / "therapy.csv", "--db", db]
                if manifest == "manifest.csv" else ["study", "import", d / manifest, "--db", db])  # fmt: skip
        assert r.exit_code == 0, r.stderr
    steps = [
        ["--parent", "H3122", "--date", "2023-01-10", "--passage", "5"],
        ["--drug", "alectinib", "--dose", "10nM", "--passage", "6", "--date", "2023-01-10"],
        ["--drug", "alectinib", "--dose", "0.1uM", "--passage", "13", "--date", "2023-05-02"],
        ["--drug", "alectinib", "--dose", "1 µM", "--passage", "22", "--date", "2023-11-20"],
        ["--event", "characterised", "--passage", "24", "--date", "2024-11-05"],
    ]
    for extra in steps:
        r = cli(["lineage", "add", "--line", "H3122-AR", *extra, "--db", db])
        assert r.exit_code == 0, r.stderr
    r = cli(["lineage", "add", "--line", "H3122-AR-c3", "--parent", "H3122-AR", "--event", "clone",
             "--date", "2024-12-10", "--db", db])  # fmt: skip
    assert r.exit_code == 0, r.stderr

    r = cli(["lineage", "show", "H3122-AR", "--db", db, "--format", "json"])
    assert r.exit_code == 0, r.stderr
    b = json.loads(r.stdout)
    assert b["ancestry"] == ["H3122", "H3122-AR"]
    assert [e["event"] for e in b["events"]] == ["derived", "dose_step", "dose_step", "dose_step", "characterised"]  # fmt: skip
    assert [e["dose_nm"] for e in b["events"] if e["dose_nm"]] == [10.0, 100.0, 1000.0]
    assert [e["passage"] for e in b["events"]] == [5, 6, 13, 22, 24]
    assert b["clones"] == ["H3122-AR-c3"]
    assert {(a["alteration"], a["assay"]) for a in b["sequenced_alterations"]} == {
        ("ALK G1202R", "ngs")
    }
    assert b["declared_genotype"] == ["ALK G1202R"]
    ic50 = {c["drug"]: c for c in b["characterisations"]}
    assert set(ic50) == {"alectinib", "lorlatinib"}
    assert ic50["alectinib"]["sample"] == "H3122-AR-p24"
    assert ic50["alectinib"]["collected"] == "2024-11-05"

    from kinresist.core import get_workflow

    direct = get_workflow("dose.plate")(plate=d / "example_plate.csv",
                                        plate_map=d / "example_map.csv")  # fmt: skip
    for comp in direct.body["comparisons"]:
        ratio = comp["ratios"][0]
        got = ic50[comp["panel"]]
        assert got["fold_shift"] == pytest.approx(ratio["estimate"], rel=1e-9)
        assert got["fold_ci_low"] == pytest.approx(ratio["fieller"]["ci_low"], rel=1e-9)
        assert got["reference_line"] == "H3122"
    assert 8 < ic50["alectinib"]["fold_shift"] < 30  # true shift 620/35 = 17.7

    # the patient's G1202R timeline carries the lab's G1202R fold shifts
    r = cli(["timeline", "PT-1", "--db", db])
    t = json.loads(r.stdout)
    lab = next(a for a in t["alterations"] if a["alteration"] == "ALK G1202R")["lab"]
    assert {(x["line"], x["drug"]) for x in lab} == {
        ("H3122-AR", "alectinib"),
        ("H3122-AR", "lorlatinib"),
    }
    assert {x["fold_shift"] for x in lab} == {
        ic50["alectinib"]["fold_shift"],
        ic50["lorlatinib"]["fold_shift"],
    }

    r = cli(["lineage", "show", "H3122-AR", "--db", db])
    assert r.exit_code == 0
    assert "H3122 -> H3122-AR" in r.stdout
    assert "-fold H3122" in r.stdout
    html = d / "lineage.html"
    r = cli(["lineage", "show", "H3122-AR", "--db", db, "--format", "html", "--out", html])
    assert r.exit_code == 0, r.stderr
    assert "<svg" in html.read_text()  # the dose-escalation figure


def test_lineage_refusals(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    assert cli(["lineage", "add", "--line", "B", "--parent", "A", "--db", db]).exit_code == 0
    r = cli(["lineage", "add", "--line", "A", "--parent", "B", "--db", db])
    assert r.exit_code == 2
    assert "its own ancestor" in r.stderr
    r = cli(["lineage", "add", "--line", "B", "--parent", "C", "--db", db])
    assert r.exit_code == 2
    assert "one parent" in r.stderr
    r = cli(["lineage", "add", "--line", "B", "--drug", "alectinib", "--dose", "5 furlongs", "--db", db])  # fmt: skip
    assert r.exit_code == 2
    assert "--dose" in r.stderr
    r = cli(["lineage", "add", "--line", "B", "--date", "10/01/2024", "--db", db])
    assert r.exit_code == 2
    assert "ISO date" in r.stderr
    r = cli(["lineage", "show", "Z", "--db", db])
    assert r.exit_code == 2
    assert "no line 'Z'" in r.stderr
