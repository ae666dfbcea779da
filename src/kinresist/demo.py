"""``kinresist demo``: the whole workbench on a study that kinresist generates itself.

One command writes example files, imports them through a study manifest into one fresh SQLite
store (one transaction), and renders every report behind one HTML index:

* **patient PT-001**, EML4-ALK v3 NSCLC: crizotinib (2022-03 to 2023-05), alectinib (2023-06 to
  2025-02), lorlatinib (from 2025-03). Five plasma draws, each tested by ddPCR for ALK G1202R
  (QuantaSoft-style amplitude files of a duplex plate, with a positive-control well) and by NGS
  (findings tables with molecule depth). G1202R is below its LoD at the first draw, emerges on
  alectinib (both assays), rises before the switch to lorlatinib and falls after it. One draw sat
  6.5 h in an EDTA tube (flagged).
* **lab**: parental H3122 and alectinib-resistant H3122-AR (ALK G1202R by sequencing), a 384-well
  dose plate with alectinib and lorlatinib (IC50 shifts), one lorlatinib x trametinib synergy
  block on H3122-AR, and H3122-AR's dose-escalation lineage with a clone.

All numbers are generated (seeded) for the demonstration; the knowledge base decides what the
interpretation says. Reports: the timeline of PT-001 (alerts, therapy bands, the lab's G1202R
IC50 fold shift), the interpretation of every draw, the dose and synergy reports, H3122-AR's
lineage and the import record, linked from ``index.html`` (the path ``kinresist demo`` prints).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

__all__ = ["DRAWS", "STUDY", "DemoResult", "run_demo", "write_example_data"]

STUDY = "kinresist demo: ALK TKI resistance"
PATIENT = "PT-001"

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


def write_example_data(directory: str | PathLike[str]) -> Path:
    """Write every demo input and the study manifest into ``directory``; return the manifest."""
    from kinresist.dose.examples import write_example_plate

    d = Path(directory)
    (d / "ddpcr").mkdir(parents=True, exist_ok=True)
    (d / "ngs").mkdir(exist_ok=True)
    (d / "lab").mkdir(exist_ok=True)
    rows = [
        "subject,sample,collected,sample_type,timepoint,assay,file,results,assay_map,plate_map,"
        "genotype,tube,hours_to_processing,plasma_ml,cfdna_ng"
    ]
    assay_map = "ALK_G1202R_FAM -> ALK G1202R; ALK_WT_HEX -> wild type"
    for i, (sample, day, fa, vaf, fusion, tube, hours, ng) in enumerate(DRAWS):
        results = _ddpcr_plate(d / "ddpcr" / sample, sample, fa, seed=2024 + i)
        findings = d / "ngs" / f"{sample}_findings.csv"
        body = f"ALK,EML4-ALK v3,{fusion},{3000 + 150 * i}\n"
        if vaf is not None:
            body += f"ALK,p.Gly1202Arg,{vaf},{2900 + 140 * i}\n"
        findings.write_text("gene,alteration,vaf,depth\n" + body, encoding="utf-8")
        qc = f"{tube},{hours},4.0,{ng}"
        rows.append(
            f"{PATIENT},{sample},{day},plasma,D{i + 1},ddpcr,ddpcr/{sample},"
            f"ddpcr/{results.name},{assay_map},,,{qc}"
        )
        rows.append(
            f"{PATIENT},{sample},{day},plasma,D{i + 1},findings,ngs/{findings.name},,,,,,,,"
        )
    plate, plate_map = write_example_plate(d / "lab")
    (d / "lab" / "H3122-AR_panel.csv").write_text(
        "gene,alteration,vaf,depth\nALK,EML4-ALK v1,0.97,2400\nALK,G1202R,0.46,2350\n",
        encoding="utf-8",
    )
    _synergy_block(d / "lab" / "H3122-AR_lorlatinib_trametinib.csv", seed=7)
    lab = [
        ("H3122", "H3122-p8", "2024-11-05", "dose", plate.name, "", "example_map.csv"),
        ("H3122-AR", "H3122-AR-p24", "2024-11-05", "dose", plate.name, "ALK G1202R", "example_map.csv"),
        ("H3122-AR", "H3122-AR-p24", "2024-11-05", "findings", "H3122-AR_panel.csv", "", ""),
        ("H3122-AR", "H3122-AR-p26", "2024-12-03", "synergy", "H3122-AR_lorlatinib_trametinib.csv", "", ""),
    ]  # fmt: skip
    for subject, sample, day, assay, file, genotype, pmap in lab:
        pm = f"lab/{pmap}" if pmap else ""
        rows.append(f"{subject},{sample},{day},cell_line,,{assay},lab/{file},,,{pm},{genotype},,,,")
    manifest = d / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    therapy = "subject,drug,start,end\n" + "".join(
        f"{PATIENT},{drug},{start},{end}\n" for drug, start, end in THERAPY
    )
    (d / "therapy.csv").write_text(therapy, encoding="utf-8")
    del plate_map
    return manifest


def _report(name: str, result: Any) -> str:
    """A registered workflow's HTML report of ``result`` (its figures drawn first)."""
    from kinresist.core.registry import get_workflow, resolve

    wf = get_workflow(name)
    if wf.figures and not result.figures:
        resolve(wf.figures)(result)
    if wf.report is None:
        from kinresist.reports.result import render_result

        return render_result(result)
    return str(resolve(wf.report)(result))


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
    add_timeline_figure(timeline)
    reports["timeline"] = write_html(out / "timeline.html", render(timeline))
    reports["interpretations"] = write_interpretation_report(
        timeline.interpretations,
        out / "interpretations.html",
        title=f"{PATIENT}: interpretation of each draw (prior therapy = the drug at the draw)",
    )
    by_assay = {row.assay: analyses[row.number] for row in manifest}
    reports["dose"] = write_html(out / "dose.html", _report("dose.plate", by_assay["dose"]))
    reports["synergy"] = write_html(
        out / "synergy.html", _report("synergy.score", by_assay["synergy"])
    )
    add_lineage_figures(lineage)
    reports["lineage"] = write_html(
        out / "lineage.html", render_result(lineage, title="Lineage: H3122-AR")
    )
    reports["import"] = write_html(out / "import.html", render_import(imported))
    index = write_html(
        out / "index.html",
        render_index(
            title="kinresist demo: one patient, one resistant line, one store",
            links=_links(reports, out),
            alerts=timeline.body["alerts"],
            summary=_summary(imported, timeline, db),
        ),
    )
    return DemoResult(
        index=index.resolve(),
        store=db.resolve(),
        data_dir=data.resolve(),
        reports={k: v.resolve() for k, v in reports.items()},
        alerts=tuple(timeline.body["alerts"]),
    )


def _links(reports: dict[str, Path], out: Path) -> list[dict[str, str]]:
    notes = {
        "timeline": f"{PATIENT}: ALK G1202R by ddPCR and NGS over five draws, below-LoD draw, "
        "therapy bands, alerts, and the lab's G1202R IC50 fold shift",
        "interpretations": "the knowledge base's reading of each draw (mechanism, per-drug calls)",
        "dose": "H3122 vs H3122-AR: alectinib and lorlatinib curves, IC50s, fold shifts",
        "synergy": "lorlatinib x trametinib on H3122-AR: ZIP, Bliss, HSA, Loewe",
        "lineage": "H3122-AR: alectinib dose escalation, characterisation, clone, sequencing",
        "import": "the manifest import: rows, runs, plasma QC (one transaction)",
    }
    return [
        {"href": path.relative_to(out).as_posix(), "title": name, "note": notes[name]}
        for name, path in reports.items()
    ]


def _summary(imported: Any, timeline: Any, db: Path) -> list[str]:
    body = timeline.body
    return [
        f"{len(imported.body['rows'])} manifest rows ({imported.body['samples']} samples) and "
        f"{len(imported.body['therapy'])} therapy lines imported into {db.name} in one transaction",
        f"{body['subject']}: {len(body['draws'])} draws, {len(body['alterations'])} alterations, "
        f"{len(body['alerts'])} alerts",
        "Generated data for demonstration; research use only.",
    ]
