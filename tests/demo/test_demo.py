"""``kinresist demo``: every workflow on generated data, one command, one store, one index.

What the demo must show (the monitoring issue and the project's rule "kinresist demo: SQLite,
example data the project generates itself, every workflow"): a patient on crizotinib ->
alectinib -> lorlatinib with five draws (ddPCR amplitude files + NGS findings), ALK G1202R below
its LoD at the first draw, emerging on alectinib before the switch; a parental and a resistant line
with plates and IC50 shifts, a synergy block, western blots, UMI reads and the line's
interpretation; an in vivo study with its tumours' microenvironment; a clinical cohort; everything
imported through one manifest into one SQLite store; one HTML index linking every report. The
biology of the calls is the knowledge base's (Lin 2017 Table 2: G1202R resistant to alectinib,
sensitive to lorlatinib); the other numbers are the generators' (kinresist._demo_data), so the
checks below are directions and calls the generated effects imply, not reference values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kinresist.core import workflows
from kinresist.demo import PAGES, DemoResult, run_demo
from kinresist.store import open_store

#: Registered workflow groups the demo's store need not hold an analysis run of, and why. The
#: hand-written command groups without registered workflows (serve, users, kb, store, demo) are
#: not in ``workflows()`` at all.
EXEMPT = {
    # a view of the store (records=False): the demo renders PT-001's timeline from the runs
    "timeline": "view",
    # writes lineage events, not analysis runs: the lineage_event rows are checked instead
    "lineage": "lineage_event",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """The demo, built once for this module (away from the user's KB overlays and store)."""
    home = tmp_path_factory.mktemp("kinresist-user")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KINRESIST_KB_DIR", str(home / "kb"))
        mp.delenv("KINRESIST_DB", raising=False)
        return run_demo(tmp_path_factory.mktemp("demo") / "demo")


def test_index_links_every_report(demo: DemoResult) -> None:
    out = demo.index.parent
    page = demo.index.read_text(encoding="utf-8")
    assert "research use only" in page.lower()
    hrefs = re.findall(r'href="([^"]+)"', page)
    expected = ["timeline", "interpretations", *PAGES, "lineage", "import"]
    assert sorted(hrefs) == sorted(f"{name}.html" for name in expected)
    for name in expected:
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert re.search(r"<script[^>]*\bsrc\s*=", html) is None  # self-contained pages
    for section in ("Patient PT-001", "Cell lines", "In vivo XEN-01", "Tumour microenvironment"):
        assert f'<th colspan="2">{section}</th>' in page
    assert "Analysis runs in demo.sqlite" in page
    assert "PT-001-D4" in (out / "interpretations.html").read_text(encoding="utf-8")
    for name in ("invivo", "clinical_survival", "elisa", "gsea", "tme", "blot"):
        assert "<svg" in (out / f"{name}.html").read_text(encoding="utf-8"), name


def test_store_holds_a_run_of_every_workflow_group(demo: DemoResult) -> None:
    groups = {wf.group for wf in workflows().values()}
    assert set(EXEMPT) <= groups  # the exemptions name real groups
    with open_store(str(demo.store)) as store:
        recorded = {run.workflow for run in store.runs()}
        counts = store.counts()
    recorded_groups = {w.split(".")[0] for w in recorded if w}
    missing = sorted(groups - set(EXEMPT) - recorded_groups)
    assert not missing, f"the demo records no run of {missing}"
    assert counts["lineage_event"] > 0
    # each workflow assay row ran its own registered workflow
    for workflow in ("invivo.analyze", "clinical.survival", "clinical.response", "elisa.quantify",
                     "flow.gate", "gsea.prerank", "tme.associate", "blot.analyze", "ngs.call",
                     "interpret"):  # fmt: skip
        assert workflow in recorded


def test_import_and_patient_timeline(cli, demo: DemoResult) -> None:
    from sqlalchemy import select

    from kinresist.store.models import Subject

    with open_store(str(demo.store)) as store:
        counts = store.counts()
        imports = store.runs(kind="study.import")
        with store.session() as s:
            kinds = dict(s.execute(select(Subject.label, Subject.kind)).all())
    # PT-001, the lorlatinib cohort's 80 patients; H3122, H3122-AR, H3122-AR-c3; 24 mice; XEN-01
    assert sorted(kinds.values()).count("patient") == 81
    assert sorted(kinds.values()).count("animal") == 24
    assert kinds["XEN-01"] == "pooled"  # the GSEA contrast of two arms
    assert {k for k, v in kinds.items() if v == "cell_line"} == {"H3122", "H3122-AR", "H3122-AR-c3"}
    assert counts["therapy_line"] == 3
    assert counts["lineage_event"] == 8
    assert len(imports) == 1
    assert len(imports[0].outputs["body"]["rows"]) == 23

    r = cli(["timeline", "PT-001", "--db", demo.store])
    assert r.exit_code == 0, r.stderr
    t = json.loads(r.stdout)
    assert [x["drug"] for x in t["therapy"]] == ["crizotinib", "alectinib", "lorlatinib"]
    g = next(a for a in t["alterations"] if a["alteration"] == "ALK G1202R")
    d1 = [p for p in g["series"] if p["sample"] == "PT-001-D1"]
    assert [(p["assay"], p["detected"], p["value"]) for p in d1] == [("ddpcr", False, None)]
    assert d1[0]["lod"] > 0
    assert d1[0]["display"].startswith("below LoD (")
    assert {p["assay"] for p in g["series"]} == {"ddpcr", "ngs"}
    alerts = {(a["kind"], a["sample"]) for a in t["alerts"] if a["alteration"] == "ALK G1202R"}
    assert ("new_detection", "PT-001-D2") in alerts  # confirmed by NGS in the same draw
    assert ("molecular_progression", "PT-001-D2") in alerts
    assert ("rising", "PT-001-D4") in alerts
    prog = next(a for a in t["alerts"] if a["kind"] == "molecular_progression")
    assert prog["drug"] == "alectinib"
    assert prog["lead_time_days"] > 0
    assert prog["collected"] < "2025-02-28"
    assert not any(a["sample"] == "PT-001-D5" for a in t["alerts"])  # falls on lorlatinib
    d4 = next(d for d in t["draws"] if d["sample"] == "PT-001-D4")
    calls = {c["drug"]: c["call"] for c in d4["interpretation"]["drugs"]}
    assert calls["lorlatinib"] == "sensitive"
    assert calls["alectinib"] == "resistant"
    d3 = next(d for d in t["draws"] if d["sample"] == "PT-001-D3")
    assert d3["flags"] == ["edta_processing_over_4h"]
    lab = {x["drug"]: x for x in g["lab"]}
    assert lab["alectinib"]["line"] == "H3122-AR"
    assert lab["alectinib"]["fold_shift"] > 5


def _measurements(store_path: Path) -> list[dict]:
    """Every measurement with its run's workflow, sample and subject."""
    from sqlalchemy import select

    from kinresist.store.models import AnalysisRun, Measurement, Sample, Subject

    with open_store(str(store_path)) as store, store.session() as s:
        q = (
            select(Measurement, AnalysisRun.workflow, Sample.label, Subject.label, Subject.kind)
            .join(AnalysisRun, Measurement.run_id == AnalysisRun.id)
            .join(Sample, Measurement.sample_id == Sample.id)
            .join(Subject, Sample.subject_id == Subject.id)
        )
        return [
            {"workflow": wf, "sample": smp, "subject": subj, "kind": kind,
             "quantity": m.quantity, "target": m.target, "value": m.value, "call": m.call,
             "alteration": m.alteration_key}
            for m, wf, smp, subj, kind in s.execute(q)
        ]  # fmt: skip


def _body(store_path: Path, workflow: str) -> dict:
    with open_store(str(store_path)) as store:
        (run,) = store.runs(kind=workflow)
        return dict(run.outputs["body"])


def test_each_workflow_shows_its_generated_effect(demo: DemoResult) -> None:
    """The directions the generators build in (kinresist._demo_data), as each workflow reports."""
    invivo = _body(demo.store, "invivo.analyze")
    assert invivo["arms"]["alectinib+trametinib"]["mrecist"]["PD"] == 0
    assert invivo["arms"]["vehicle"]["mrecist"]["PD"] == 6
    assert invivo["lmm"]["converged"] is True
    assert invivo["synergy"]["bliss"]["call"] == "synergy"
    survival = _body(demo.store, "clinical.survival")
    assert survival["cox"]["comparison"] == "detected vs not detected"
    assert survival["cox"]["hr"] < 1  # longer PFS on lorlatinib with plasma G1202R
    response = {
        g["group"]: g["orr"]["estimate"] for g in _body(demo.store, "clinical.response")["groups"]
    }
    assert response["detected"] > response["not detected"]
    tme = _body(demo.store, "tme.associate")
    auc = {a["biomarker"]: a["auc"] for a in tme["associations"]}
    assert tme["n_tumours"] == 24
    assert auc["cd8_pct_cd45"] > 0.5 > auc["neutrophil_pct_cd45"]
    ms = _measurements(demo.store)
    by = {(m["workflow"], m["quantity"], m["sample"]): m for m in ms}
    # blots: p-ALK/ALK falls at 300 nM alectinib in H3122, not in H3122-AR
    fc = "phospho_total_fold_change_mean"
    assert by[("blot.analyze", fc, "H3122 alectinib 300 nM")]["value"] < 0.2
    assert by[("blot.analyze", fc, "H3122-AR alectinib 300 nM")]["value"] > 0.5
    # UMI reads: G1202R near the generated 46 % in H3122-AR
    g1202r = [m for m in ms if m["workflow"] == "ngs.call" and m["alteration"] == "ALK G1202R"]
    assert len(g1202r) == 1
    assert g1202r[0]["call"] == "detected"
    assert 40 < g1202r[0]["value"] < 52
    assert (g1202r[0]["subject"], g1202r[0]["sample"]) == ("H3122-AR", "H3122-AR-p24")
    # flow and ELISA measured every tumour of the 24 mice; the cohort's patients are subjects
    flow = {m["subject"] for m in ms if m["workflow"] == "flow.gate"}
    elisa = {(m["subject"], m["sample"]) for m in ms if m["workflow"] == "elisa.quantify"}
    assert flow == {f"M{i:02d}" for i in range(1, 25)}
    assert elisa == {(f"M{i:02d}", f"M{i:02d} biopsy") for i in range(1, 25)}
    assert {m["kind"] for m in ms if m["workflow"].startswith("clinical.")} == {"patient"}
    # GSEA found the generated IFN-γ and E2F shifts (recorded under the pooled XEN-01)
    nes = {
        m["target"]: m["value"]
        for m in ms
        if m["workflow"] == "gsea.prerank" and m["quantity"] == "nes"
    }
    assert nes["HALLMARK_INTERFERON_GAMMA_RESPONSE"] > 2
    assert nes["HALLMARK_E2F_TARGETS"] < -2
    assert {m["subject"] for m in ms if m["workflow"] == "gsea.prerank"} == {"XEN-01"}


def test_cli_prints_the_index_and_rebuilds_the_store(cli, demo: DemoResult) -> None:
    with open_store(str(demo.store)) as store:
        counts = store.counts()
    out = demo.index.parent
    r = cli(["demo", "--out-dir", out])
    assert r.exit_code == 0, r.stderr
    assert Path(r.stdout.strip().splitlines()[-1]) == demo.index
    # rerunning replaces the demo store rather than duplicating it
    with open_store(str(demo.store)) as store:
        assert store.counts() == counts
