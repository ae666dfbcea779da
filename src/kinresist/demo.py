"""``kinresist demo``: every workflow of the workbench on a study that kinresist generates itself.

One command writes example files, imports them through one study manifest into one fresh SQLite
store (one transaction; each row through its registered workflow), and renders every report
behind one HTML index:

* **patient PT-001**, EML4-ALK v3 NSCLC: crizotinib (2022-03 to 2023-05), alectinib (2023-06 to
  2025-02), lorlatinib (from 2025-03). Five plasma draws, each tested by ddPCR for ALK G1202R
  (QuantaSoft-style amplitude files of a duplex plate, with a positive-control well) and by NGS
  (findings tables with molecule depth). G1202R is below its LoD at the first draw, emerges on
  alectinib (both assays), rises before the switch to lorlatinib and falls after it. One draw sat
  6.5 h in an EDTA tube (flagged).
* **cell lines**: parental H3122 and alectinib-resistant H3122-AR: a 384-well dose plate with
  alectinib and lorlatinib (IC50 shifts), a lorlatinib x trametinib synergy block on H3122-AR,
  western blots of p-ALK/ALK across an alectinib dose series (both lines), H3122-AR's UMI panel
  reads (ALK G1202R called by ``ngs.call``) and its panel interpreted after alectinib, and
  H3122-AR's dose-escalation lineage with a clone.
* **in vivo XEN-01**: 24 mice in four arms (vehicle, alectinib, trametinib, the combination) and
  their tumours' microenvironment: day-0 biopsies (a CXCL10 ELISA plate, one FCS file per biopsy
  gated by a Gating-ML file, a per-tumour table of biomarkers and mRECIST response) and a
  day-21 combination-vs-vehicle ranked list for GSEA (bundled Hallmark sets).
* **clinical**: 80 patients on lorlatinib after alectinib, PFS and best response by plasma ALK
  G1202R detected vs not.

All numbers are generated (seeded) for the demonstration (:mod:`kinresist._demo_data` documents
the generators); the knowledge base decides what the interpretations say. Two kinds of figures
are skipped for time: the flow gating plots and the blot images/lane profiles (the blot page
keeps the p-ALK/ALK fold-change figure). Reports are linked from ``index.html`` (the path
``kinresist demo`` prints), with a table of the analysis runs the store holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

__all__ = ["DRAWS", "PAGES", "STUDY", "DemoResult", "run_demo", "write_example_data"]

STUDY = "kinresist demo: ALK TKI resistance"
PATIENT = "PT-001"
XENOGRAFT = "XEN-01"
COHORT = "lorlatinib cohort"
MANIFEST_COLUMNS = [
    "subject", "sample", "collected", "sample_type", "timepoint", "assay", "file", "results",
    "assay_map", "plate_map", "genotype", "inputs", "options", "tube", "hours_to_processing",
    "plasma_ml", "cfdna_ng",
]  # fmt: skip
#: Report page -> (the manifest assay whose result it shows, the workflow that renders it)
PAGES: dict[str, tuple[str, str]] = {
    "dose": ("dose", "dose.plate"),
    "synergy": ("synergy", "synergy.score"),
    "blot": ("blot", "blot.analyze"),
    "ngs": ("ngs_call", "ngs.call"),
    "line_interpretation": ("interpret", "interpret"),
    "invivo": ("invivo", "invivo.analyze"),
    "elisa": ("elisa", "elisa.quantify"),
    "flow": ("flow", "flow.gate"),
    "gsea": ("gsea_prerank", "gsea.prerank"),
    "tme": ("tme", "tme.associate"),
    "clinical_survival": ("clinical_survival", "clinical.survival"),
    "clinical_response": ("clinical_response", "clinical.response"),
}
#: Titles of the pages rendered by the generic result page.
TITLES = {
    "blot.analyze": "Western blots: p-ALK/ALK of H3122 and H3122-AR on alectinib",
    "invivo.analyze": f"{XENOGRAFT}: tumour growth, TGI, mRECIST, mixed model, in vivo synergy",
    "elisa.quantify": f"{XENOGRAFT} day-0 biopsies: CXCL10 ELISA",
    "flow.gate": f"{XENOGRAFT} day-0 biopsies: tumour-infiltrating leukocytes by flow cytometry",
    "gsea.prerank": f"{XENOGRAFT}: GSEA of day-21 tumours, combination vs vehicle (Hallmark)",
    "tme.associate": f"{XENOGRAFT}: day-0 tumour microenvironment vs response",
    "clinical.survival": f"{COHORT}: progression-free survival by plasma ALK G1202R",
    "clinical.response": f"{COHORT}: objective response by plasma ALK G1202R",
}
#: Index entries in display order: page -> (section, title, what it shows)
LINKS: dict[str, tuple[str, str, str]] = {
    "timeline": (
        f"Patient {PATIENT}",
        "timeline",
        "ALK G1202R by ddPCR and NGS over five draws, below-LoD draw, therapy bands, alerts, "
        "and the lab's G1202R IC50 fold shift",
    ),
    "interpretations": (
        f"Patient {PATIENT}",
        "interpretations",
        "the knowledge base's reading of each draw (mechanism, per-drug calls)",
    ),
    "dose": (
        "Cell lines",
        "dose response",
        "H3122 vs H3122-AR: alectinib and lorlatinib curves, IC50s, fold shifts",
    ),
    "synergy": (
        "Cell lines",
        "synergy",
        "lorlatinib x trametinib on H3122-AR: ZIP, Bliss, HSA, Loewe",
    ),
    "blot": (
        "Cell lines",
        "western blots",
        "p-ALK/ALK (GAPDH-normalised) of H3122 and H3122-AR across alectinib 0-300 nM, two blots",
    ),
    "ngs": (
        "Cell lines",
        "UMI sequencing",
        "H3122-AR's UMI panel reads: consensus calling, ALK G1202R VAF, LoDs",
    ),
    "line_interpretation": (
        "Cell lines",
        "interpretation of H3122-AR",
        "H3122-AR's panel (EML4-ALK v1 + G1202R) read by the knowledge base after alectinib",
    ),
    "lineage": (
        "Cell lines",
        "lineage",
        "H3122-AR: alectinib dose escalation, characterisation, clone",
    ),
    "invivo": (
        f"In vivo {XENOGRAFT}",
        "tumour growth",
        "24 mice: vehicle, alectinib, trametinib, the combination; TGI variants with bootstrap "
        "CIs, mRECIST, mixed-model growth rates, Bliss/HSA synergy",
    ),
    "elisa": (
        "Tumour microenvironment",
        "ELISA",
        "day-0 biopsies: CXCL10 by ELISA, 4PL standard curve, LLOQ/ULOQ, CVs",
    ),
    "flow": (
        "Tumour microenvironment",
        "flow cytometry",
        "day-0 biopsies, FCS + Gating-ML: CD8+ T cells and neutrophils (% of CD45+, cells/µL)",
    ),
    "gsea": (
        "Tumour microenvironment",
        "GSEA",
        "day-21 tumours, combination vs vehicle: preranked GSEA on the bundled Hallmark sets "
        "(100 permutations)",
    ),
    "tme": (
        "Tumour microenvironment",
        "biomarkers vs response",
        "day-0 CD8+, neutrophils, CXCL10 vs mRECIST response: Mann-Whitney, ROC, KM",
    ),
    "clinical_survival": (
        f"Clinical: {COHORT}",
        "survival",
        "PFS by plasma G1202R: Kaplan-Meier, log-rank, Cox hazard ratio",
    ),
    "clinical_response": (
        f"Clinical: {COHORT}",
        "response rates",
        "ORR and DCR by plasma G1202R (Clopper-Pearson), difference, Fisher's exact test",
    ),
    "import": (
        "Study",
        "manifest import",
        "the manifest import: rows, runs, plasma QC (one transaction)",
    ),
}

#: (sample, collected, ddPCR G1202R fraction, NGS G1202R VAF or None, NGS EML4-ALK VAF, tube,
#: hours to processing, cfDNA ng from 4 mL plasma)
DRAWS: tuple[tuple[str, str, float, float | None, float, str, float, float], ...] = (
    ("PT-001-D1", "2023-09-12", 0.0, None, 0.012, "Streck", 30.0, 18.0),
    ("PT-001-D2", "2024-03-19", 0.004, 0.0031, 0.018, "Streck", 52.0, 22.0),
    ("PT-001-D3", "2024-08-27", 0.012, 0.011, 0.035, "EDTA", 6.5, 31.0),
    ("PT-001-D4", "2025-01-14", 0.04, 0.038, 0.06, "Streck", 26.0, 40.0),
    ("PT-001-D5", "2025-06-03", 0.003, 0.0022, 0.006, "EDTA", 2.0, 16.0),
)
THERAPY = (
    ("crizotinib", "2022-03-01", "2023-05-31"),
    ("alectinib", "2023-06-05", "2025-02-28"),
    ("lorlatinib", "2025-03-05", ""),
)
#: H3122-AR's history: (event, drug, dose, passage, date, note)
LINEAGE = (
    ("derived", None, None, 5, "2023-01-10", "alectinib escalation started from parental H3122"),
    ("dose_step", "alectinib", "10nM", 6, "2023-01-10", ""),
    ("dose_step", "alectinib", "30nM", 9, "2023-03-01", ""),
    ("dose_step", "alectinib", "100nM", 13, "2023-05-02", ""),
    ("dose_step", "alectinib", "300nM", 18, "2023-08-15", ""),
    ("dose_step", "alectinib", "1uM", 22, "2023-11-20", "stable growth at 1 µM"),
    ("characterised", None, None, 24, "2024-11-05", "dose plate + panel sequencing"),
)


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` wrote."""

    index: Path
    store: Path
    data_dir: Path
    reports: dict[str, Path] = field(default_factory=dict)
    alerts: tuple[dict[str, Any], ...] = ()

    @property
    def report(self) -> Path:
        """The index page (the page ``kinresist demo`` prints)."""
        return self.index


def _ddpcr_plate(folder: Path, sample: str, fraction: float, seed: int) -> Path:
    """Two wells of the draw and a 5 % positive-control well; returns the results CSV."""
    import numpy as np

    from kinresist.ddpcr.simulate import simulate_plate, write_plate

    plate = simulate_plate(
        rng=np.random.default_rng(seed),
        n_wells=3,
        droplets=15000,
        wt_copies_per_droplet=0.15,
        mutant_fractions=np.array([fraction, fraction, 0.05]),
    )
    write_plate(plate, folder, name=f"{sample} plate_1")
    results = folder.with_name(folder.name + "_results.csv")
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for well, name in zip(plate.wells, [sample, sample, "PC-G1202R"], strict=True):
        lines += [
            f"{well},{name},Ch1Unknown,ALK_G1202R_FAM,,",
            f"{well},{name},Ch2Unknown,ALK_WT_HEX,,",
        ]
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return results


def _synergy_block(path: Path, seed: int) -> Path:
    """A 6 x 6 lorlatinib x trametinib viability block on H3122-AR (Bliss + a synergy term)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    lor = [0.0, 3.0, 10.0, 30.0, 100.0, 300.0]
    tra = [0.0, 1.0, 3.0, 10.0, 30.0, 100.0]
    lines = ["block_id,drug1,drug2,conc1,conc2,response,conc_unit"]
    for c1 in lor:
        for c2 in tra:
            ia = 0.92 * c1 / (c1 + 40.0)
            ib = 0.6 * c2 / (c2 + 20.0)
            bliss = ia + ib - ia * ib
            inhibition = bliss + 0.35 * min(ia, ib) * (1.0 - bliss)
            viability = 100.0 * (1.0 - inhibition) + rng.normal(0.0, 1.5)
            lines.append(f"1,lorlatinib,trametinib,{c1:g},{c2:g},{viability:.2f},nM")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _manifest_row(**cells: str) -> dict[str, str]:
    return {c: cells.get(c, "") for c in MANIFEST_COLUMNS}


def _patient_and_lab_rows(d: Path) -> list[dict[str, str]]:
    """PT-001's draws (ddPCR + NGS findings) and the lines' plates, panel, blots and UMI reads."""
    from kinresist._demo_data import write_blots, write_umi_panel
    from kinresist.dose.examples import write_example_plate

    rows = []
    assay_map = "ALK_G1202R_FAM -> ALK G1202R; ALK_WT_HEX -> wild type"
    for i, (sample, day, fa, vaf, fusion, tube, hours, ng) in enumerate(DRAWS):
        results = _ddpcr_plate(d / "ddpcr" / sample, sample, fa, seed=2024 + i)
        findings = d / "ngs" / f"{sample}_findings.csv"
        body = f"ALK,EML4-ALK v3,{fusion},{3000 + 150 * i}\n"
        if vaf is not None:
            body += f"ALK,p.Gly1202Arg,{vaf},{2900 + 140 * i}\n"
        findings.write_text("gene,alteration,vaf,depth\n" + body, encoding="utf-8")
        draw = {"subject": PATIENT, "sample": sample, "collected": day, "sample_type": "plasma"}
        qc = {"tube": tube, "hours_to_processing": f"{hours:g}", "plasma_ml": "4.0"}
        rows.append(
            _manifest_row(
                **draw, **qc, timepoint=f"D{i + 1}", assay="ddpcr", file=f"ddpcr/{sample}",
                results=f"ddpcr/{results.name}", assay_map=assay_map, cfdna_ng=f"{ng:g}",
            )
        )  # fmt: skip
        rows.append(
            _manifest_row(
                **draw, timepoint=f"D{i + 1}", assay="findings", file=f"ngs/{findings.name}"
            )
        )
    plate, _ = write_example_plate(d / "lab")
    (d / "lab" / "H3122-AR_panel.csv").write_text(
        "gene,alteration,vaf,depth\nALK,EML4-ALK v1,0.97,2400\nALK,G1202R,0.46,2350\n",
        encoding="utf-8",
    )
    _synergy_block(d / "lab" / "H3122-AR_lorlatinib_trametinib.csv", seed=7)
    design = write_blots(d / "lab" / "blots")
    umi = write_umi_panel(d / "lab" / "umi")
    line = {"sample_type": "cell_line"}
    p24 = {"subject": "H3122-AR", "sample": "H3122-AR-p24", "collected": "2024-11-05", **line}
    rows += [
        _manifest_row(subject="H3122", sample="H3122-p8", collected="2024-11-05", **line,
                      assay="dose", file=f"lab/{plate.name}", plate_map="lab/example_map.csv"),
        _manifest_row(**p24, assay="dose", file=f"lab/{plate.name}",
                      plate_map="lab/example_map.csv", genotype="ALK G1202R"),
        _manifest_row(**p24, assay="interpret", file="lab/H3122-AR_panel.csv",
                      options="prior_therapy=alectinib; cell_line=true"),
        _manifest_row(**p24, assay="ngs_call", file=f"lab/umi/{umi['bam'].name}",
                      inputs=f"regions=lab/umi/{umi['regions'].name}; "
                      f"reference=lab/umi/{umi['reference'].name}"),
        _manifest_row(subject="H3122-AR", sample="H3122-AR-p26", collected="2024-12-03", **line,
                      assay="synergy", file="lab/H3122-AR_lorlatinib_trametinib.csv"),
        _manifest_row(subject="H3122-AR", sample="H3122-AR blots", collected="2024-12-17", **line,
                      assay="blot", file="lab/blots/blot*.tif",
                      inputs=f"design=lab/blots/{design.name}"),
    ]  # fmt: skip
    return rows


def _invivo_tme_clinical_rows(d: Path) -> list[dict[str, str]]:
    """XEN-01 (growth and the tumours' microenvironment) and the lorlatinib cohort."""
    from kinresist._demo_data import COMBINATION, write_clinical, write_invivo, write_tme

    calipers, mice = write_invivo(d / "invivo")
    tme = write_tme(d / "tme", mice)
    cohort = write_clinical(d / "clinical")
    xen = {"subject": XENOGRAFT, "sample_type": "tumour"}
    start, end = "2025-04-01", "2025-04-22"  # day 0: randomisation and biopsies; day 21: harvest
    rows = [
        _manifest_row(**xen, sample="XEN-01 calipers", collected=end, assay="invivo",
                      file=f"invivo/{calipers.name}",
                      options=f"control=vehicle; combination={COMBINATION}; n_boot=200"),
        _manifest_row(**xen, sample="XEN-01 CXCL10 plate", collected=start, timepoint="day 0",
                      assay="elisa", file=f"tme/{tme['elisa'].name}"),
        _manifest_row(**xen, sample="XEN-01 TIL panel", collected=start, timepoint="day 0",
                      assay="flow", file="tme/flow/*.fcs",
                      inputs="gates=tme/flow/panel.xml; samples=tme/flow/samples.csv",
                      options="species=mouse; plots=false"),
        _manifest_row(**xen, sample="XEN-01 day-0 biomarkers", collected=start,
                      timepoint="day 0", assay="tme", file=f"tme/{tme['tumours'].name}",
                      options="time_col=time; event_col=event; km_biomarker=cd8_pct_cd45"),
        _manifest_row(**xen, sample="XEN-01 combination vs vehicle", collected=end,
                      timepoint="day 21", assay="gsea_prerank", file=f"tme/{tme['ranked'].name}",
                      options="permutation_num=100; seed=11; plots=2"),
    ]  # fmt: skip
    cohort_row = {"subject": COHORT, "sample": COHORT, "collected": "2025-06-30"}
    common = "group_col=g1202r_plasma; reference=not detected; id_col=patient"
    rows += [
        _manifest_row(**cohort_row, assay="clinical_survival", file=f"clinical/{cohort.name}",
                      options=f"time_col=pfs_months; event_col=progressed; time_unit=months; "
                      f"landmark=12; {common}"),
        _manifest_row(**cohort_row, assay="clinical_response", file=f"clinical/{cohort.name}",
                      options=f"response_col=best_response; {common}"),
    ]  # fmt: skip
    return rows


def write_example_data(directory: str | PathLike[str]) -> Path:
    """Write every demo input and the study manifest into ``directory``; return the manifest."""
    import csv

    d = Path(directory)
    for sub in ("ddpcr", "ngs", "lab"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    rows = _patient_and_lab_rows(d) + _invivo_tme_clinical_rows(d)
    manifest = d / "manifest.csv"
    with manifest.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    therapy = "subject,drug,start,end\n" + "".join(
        f"{PATIENT},{drug},{start},{end}\n" for drug, start, end in THERAPY
    )
    (d / "therapy.csv").write_text(therapy, encoding="utf-8")
    return manifest


def _report(name: str, result: Any) -> str:
    """A registered workflow's HTML report of ``result`` (its figures drawn first)."""
    from kinresist.core.registry import get_workflow, resolve

    wf = get_workflow(name)
    if wf.figures and not result.figures:
        resolve(wf.figures)(result)
    if wf.report is None:
        from kinresist.reports.result import render_result

        return render_result(result, title=TITLES.get(name))
    return str(resolve(wf.report)(result))


def _blot_figure(result: Any) -> None:
    """Only the p-ALK/ALK fold-change figure of the blot run: drawing all ten figures of
    ``blot.plots.add_figures`` (images and lane profiles of four membranes) takes ~10 s."""
    from kinresist.blot.normalise import condition_label
    from kinresist.blot.plots import fold_change_figure

    per_lane = result.tables["ratios"]
    per_lane = per_lane.assign(condition=per_lane.apply(condition_label, axis=1))
    reps = result.tables["replicates"]
    fig = fold_change_figure(
        per_lane, reps[reps["quantity"] == "phospho_total_ratio"], "phospho_total"
    )
    if fig is not None:
        result.figures.append(fig)


def run_demo(out_dir: str | PathLike[str] = "kinresist-demo") -> DemoResult:
    """Build the demo under ``out_dir`` (a previous demo store there is replaced)."""
    from kinresist.monitoring.importer import analyse_manifest, import_study
    from kinresist.monitoring.lineage import lineage_result, record_lineage_event
    from kinresist.monitoring.manifest import read_manifest
    from kinresist.monitoring.plots import add_lineage_figures, add_timeline_figure
    from kinresist.monitoring.therapy import read_therapy
    from kinresist.monitoring.timeline import build_timeline
    from kinresist.reports._html import write_html
    from kinresist.reports.interpretation import write_interpretation_report
    from kinresist.reports.result import render_result
    from kinresist.reports.timeline import render, render_import, render_index
    from kinresist.store import open_store

    out = Path(out_dir)
    data = out / "data"
    manifest_path = write_example_data(data)
    db = out / "demo.sqlite"
    db.unlink(missing_ok=True)
    manifest = read_manifest(manifest_path)
    therapy = read_therapy(data / "therapy.csv")
    analyses = analyse_manifest(manifest)
    reports: dict[str, Path] = {}
    with open_store(str(db)) as store:
        imported = import_study(store, manifest, therapy=therapy, study=STUDY, analyses=analyses)
        with store.transaction() as tx:
            for event, drug, dose, passage, day, note in LINEAGE:
                record_lineage_event(
                    tx, study=STUDY, line="H3122-AR", parent="H3122", event=event, drug=drug,
                    dose=dose, passage=passage, date=dt.date.fromisoformat(day), note=note,
                )  # fmt: skip
            record_lineage_event(
                tx, study=STUDY, line="H3122-AR-c3", parent="H3122-AR", event="clone",
                passage=26, date=dt.date(2024, 12, 10), note="single-cell clone",
            )  # fmt: skip
        timeline = build_timeline(store, PATIENT, study=STUDY)
        lineage = lineage_result(store, "H3122-AR", study=STUDY)
        runs = _runs_table(store)
    add_timeline_figure(timeline)
    reports["timeline"] = write_html(out / "timeline.html", render(timeline))
    reports["interpretations"] = write_interpretation_report(
        timeline.interpretations,
        out / "interpretations.html",
        title=f"{PATIENT}: interpretation of each draw (prior therapy = the drug at the draw)",
    )
    by_assay: dict[str, Any] = {row.assay: analyses[row.number] for row in manifest}
    _blot_figure(by_assay["blot"])
    for page, (assay, workflow) in PAGES.items():
        reports[page] = write_html(out / f"{page}.html", _report(workflow, by_assay[assay]))
    add_lineage_figures(lineage)
    reports["lineage"] = write_html(
        out / "lineage.html", render_result(lineage, title="Lineage: H3122-AR")
    )
    reports["import"] = write_html(out / "import.html", render_import(imported))
    index = write_html(
        out / "index.html",
        render_index(
            title="kinresist demo: every workflow on generated data, one store",
            links=_links(reports, out),
            alerts=timeline.body["alerts"],
            summary=_summary(imported, timeline, db),
            tables={f"Analysis runs in {db.name}": runs},
        ),
    )
    return DemoResult(
        index=index.resolve(),
        store=db.resolve(),
        data_dir=data.resolve(),
        reports={k: v.resolve() for k, v in reports.items()},
        alerts=tuple(timeline.body["alerts"]),
    )


def _runs_table(store: Any) -> Any:
    """Analysis runs per workflow with their measurements and findings (read from the store)."""
    import pandas as pd
    from sqlalchemy import func, select

    from kinresist.store.models import AnalysisRun, Finding, Measurement

    with store.session() as s:
        runs = dict(
            s.execute(
                select(AnalysisRun.workflow, func.count()).group_by(AnalysisRun.workflow)
            ).all()
        )
        counts = {}
        for model in (Measurement, Finding):
            q = (
                select(AnalysisRun.workflow, func.count())
                .join(model, model.run_id == AnalysisRun.id)  # type: ignore[attr-defined]
                .group_by(AnalysisRun.workflow)
            )
            counts[model.__tablename__] = dict(s.execute(q).all())
    return pd.DataFrame(
        [
            {
                "workflow": wf,
                "runs": n,
                "measurements": counts["measurement"].get(wf, 0),
                "findings": counts["finding"].get(wf, 0),
            }
            for wf, n in sorted(runs.items(), key=lambda kv: str(kv[0]))
        ]
    )


def _links(reports: dict[str, Path], out: Path) -> list[dict[str, str]]:
    return [
        {
            "href": path.relative_to(out).as_posix(),
            "title": LINKS[name][1],
            "note": LINKS[name][2],
            "section": LINKS[name][0],
        }
        for name, path in sorted(reports.items(), key=lambda kv: list(LINKS).index(kv[0]))
    ]


def _summary(imported: Any, timeline: Any, db: Path) -> list[str]:
    body = timeline.body
    kinds: dict[str, int] = {}
    for kind in imported.body["subjects"].values():
        kinds[kind] = kinds.get(kind, 0) + 1
    return [
        f"{len(imported.body['rows'])} manifest rows and {len(imported.body['therapy'])} therapy "
        f"lines imported into {db.name} in one transaction; every row ran through its workflow "
        "(the table below counts the runs)",
        f"{body['subject']}: {len(body['draws'])} draws, {len(body['alterations'])} alterations, "
        f"{len(body['alerts'])} alerts",
        f"In vivo {XENOGRAFT}: 24 mice in 4 arms, their day-0 biopsies (CXCL10, TILs) and a "
        f"day-21 combination-vs-vehicle ranked list; clinical: {COHORT} (80 patients)",
        "Generated data for demonstration; research use only.",
    ]
