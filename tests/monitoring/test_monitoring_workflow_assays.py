"""Workflow assays in the study manifest: a row's whole file through a registered workflow.

What must hold (docs/monitoring.md, "Workflow assays"):

* the ``options`` and ``inputs`` columns are checked against the workflow's declaration when the
  manifest is read (names, types, choices, required ones, files, patterns), with the row, line and
  column named;
* a cohort file keeps its own subjects (patients by ``id_col``); results that name no subject (a
  GSEA contrast, an interpretation's findings) are the row's subject and sample, a pool for an
  animal workflow; the row's labels create nothing when the file names every subject;
* everything is one transaction; the same file analysed the same way twice in a study is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kinresist.errors import InputError
from kinresist.monitoring.manifest import read_manifest
from kinresist.store import open_store

HEAD = "subject,sample,collected,sample_type,assay,file,inputs,options"
RESPONSES = ["CR", "PR", "PR", "SD", "PD", "PR", "SD", "PD", "PD", "SD", "PR", "NE"]


def _study(d: Path) -> None:
    rows = [f"P{i:02d},{'A' if i < 6 else 'B'},{r}" for i, r in enumerate(RESPONSES, start=1)]
    (d / "cohort.csv").write_text("patient,arm,best_response\n" + "\n".join(rows) + "\n")
    genes = [f"G{i:02d}" for i in range(30)]
    (d / "ranked.rnk").write_text(
        "".join(f"{g}\t{3.0 - 0.2 * i:.3f}\n" for i, g in enumerate(genes))
    )
    (d / "sets.gmt").write_text(
        "TOP\tna\t" + "\t".join(genes[:6]) + "\nBOTTOM\tna\t" + "\t".join(genes[-6:]) + "\n"
    )
    (d / "panel.csv").write_text("gene,alteration,vaf\nALK,EML4-ALK v1,0.9\nALK,G1202R,0.4\n")
    (d / "fcs").mkdir()
    for name in ("T2.fcs", "T1.fcs", "notes.txt"):
        (d / "fcs" / name).write_text("")
    (d / "panel.xml").write_text("<gating/>")


def _write(d: Path, rows: list[str], name: str = "manifest.csv") -> Path:
    p = d / name
    p.write_text("\n".join([HEAD, *rows]) + "\n", encoding="utf-8")
    return p


GOOD = [
    'COH,COH,2025-01-10,,clinical_response,cohort.csv,,"response_col=best_response; group_col=arm; '
    'id_col=patient; reference=A"',
    "XEN-9,XEN-9 top vs bottom,2025-01-10,tumour,gsea_prerank,ranked.rnk,,"
    '"gene_sets=sets.gmt; min_size=3; max_size=50; permutation_num=20; plots=0; seed=1"',
    'H-AR,H-AR-p5,2025-01-10,cell_line,interpret,panel.csv,,"prior_therapy=alectinib; cell_line=true"',
]


def test_workflow_rows_keep_the_files_subjects_and_pool_the_rest(
    cli, tmp_path: Path, store_url: str
) -> None:
    _study(tmp_path)
    manifest = _write(tmp_path, GOOD)
    db = store_url
    r = cli(["study", "import", manifest, "--db", db, "--study", "W", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    with open_store(db) as store:
        runs = {run.workflow: run for run in store.runs()}
        assert set(runs) == {"clinical.response", "gsea.prerank", "interpret", "study.import"}
        with store.session() as s:
            from sqlalchemy import select

            from kinresist.store.models import Finding, Measurement, Sample, Subject

            kinds = dict(s.execute(select(Subject.label, Subject.kind)).all())
            meas = s.execute(
                select(Subject.label, Sample.label, Measurement.quantity, Measurement.target)
                .join(Sample, Measurement.sample_id == Sample.id)
                .join(Subject, Sample.subject_id == Subject.id)
            ).all()
            findings = s.execute(
                select(Sample.label, Finding.alteration).join(
                    Sample, Finding.sample_id == Sample.id
                )
            ).all()
    # the cohort's patients are its subjects (each its own sample); the row's 'COH' is not created
    assert "COH" not in kinds
    patients = {f"P{i:02d}" for i in range(1, 13)}
    assert {k for k, v in kinds.items() if v == "patient"} == patients
    resp = [(subj, smp) for subj, smp, q, _ in meas if q == "objective_response"]
    assert sorted(resp) == sorted((p, p) for p in patients)
    # the GSEA contrast names no animal: recorded under the row's subject, as a pool
    assert kinds["XEN-9"] == "pooled"
    gsea = {t for subj, smp, q, t in meas if (subj, smp) == ("XEN-9", "XEN-9 top vs bottom")}
    assert {"TOP", "BOTTOM"} <= gsea
    # the interpretation's findings are the row's sample; the line is a cell line
    assert kinds["H-AR"] == "cell_line"
    assert sorted(findings) == [("H-AR-p5", "EML4-ALK v1"), ("H-AR-p5", "G1202R")]
    assert runs["interpret"].outputs["body"]["classification"] == "on_target_mutation"
    body = runs["study.import"].outputs["body"]
    call = body["rows"][1]["call"]
    assert call["workflow"] == "gsea.prerank"
    assert call["options"]["permutation_num"] == 20
    assert (
        Path(call["options"]["gene_sets"]) == tmp_path / "sets.gmt"
    )  # a file next to the manifest

    # the same files analysed the same way again: refused inside the transaction, nothing stored
    with open_store(db) as store:
        before = store.counts()
    again = cli(["study", "import", manifest, "--db", db, "--study", "W"])
    assert again.exit_code == 2
    assert "row 1 (sample 'COH', clinical_response)" in again.stderr
    assert "already imported" in again.stderr
    with open_store(db) as store:
        assert store.counts() == before
    # ... but another study, or other options on the same file, are new analyses
    other = _write(tmp_path, [GOOD[0].replace("reference=A", "reference=B")], "other.csv")
    assert cli(["study", "import", other, "--db", db, "--study", "W"]).exit_code == 0


CASES = {
    "unknown option": (
        'C,C,2025-01-10,,clinical_response,cohort.csv,,"colour=red"',
        "options", "clinical.response has no option 'colour'; its options: biomarker_col",
    ),
    "not a number": (
        'X,X,2025-01-10,,invivo,cohort.csv,,"control=A; n_boot=many"',
        "options", "option n_boot='many': expected a whole number",
    ),
    "not a choice": (
        'C,C,2025-01-10,,clinical_response,cohort.csv,,"denominator=some"',
        "options", "expected one of evaluable, all",
    ),
    "required option missing": (
        "X,X,2025-01-10,,invivo,cohort.csv,,n_boot=10",
        "options", "invivo.analyze needs the option(s) control",
    ),
    "option given twice": (
        'C,C,2025-01-10,,clinical_response,cohort.csv,,"group_col=arm; group_col=arm"',
        "options", "option 'group_col' is given twice",
    ),
    "option that writes files": (
        'X,X,2025-01-10,,invivo,cohort.csv,,"control=A; figures=figs"',
        "options", "writes files",
    ),
    "option that reads a store": (
        'T,T,2025-01-10,tumour,tme,cohort.csv,,"from_db=other.sqlite"',
        "options", "option 'from_db' reads a project store",
    ),
    "entry without a value": (
        "C,C,2025-01-10,,clinical_response,cohort.csv,,group_col",
        "options", "expected NAME=VALUE",
    ),
    "unknown input": (
        "T,T,2025-01-10,tumour,flow,fcs/*.fcs,gating=panel.xml,",
        "inputs", "flow.gate has no input 'gating' besides the file; its inputs: comp, gates",
    ),
    "required input missing": (
        "T,T,2025-01-10,tumour,flow,fcs/*.fcs,,",
        "inputs", "flow.gate needs the input(s) gates",
    ),
    "input with the wrong suffix": (
        "T,T,2025-01-10,tumour,flow,fcs/*.fcs,gates=cohort.csv,",
        "inputs", "gates 'cohort.csv' should end in .xml or .wsp",
    ),
    "pattern matching nothing": (
        "T,T,2025-01-10,tumour,flow,fcs/*.lmd,gates=panel.xml,",
        "file", "pattern 'fcs/*.lmd' matches no file",
    ),
    "pattern for a one-file input": (
        "C,C,2025-01-10,,clinical_response,*.csv,,",
        "file", "is a pattern, but clinical.response's file takes one file",
    ),
    "wildcard in a folder": (
        "T,T,2025-01-10,tumour,flow,f*/T1.fcs,gates=panel.xml,",
        "file", "only the file name may hold wildcards",
    ),
    "options on a classic assay": (
        "PT,PT-D1,2025-01-10,plasma,findings,panel.csv,,prior_therapy=alectinib",
        "options", "options is for the workflow assays",
    ),
    "plate_map on a workflow assay": (
        None, "plate_map", "plate_map is not read for elisa rows; give it in inputs",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_workflow_rows_are_refused_when_read(tmp_path: Path, case: str) -> None:
    _study(tmp_path)
    row, column, message = CASES[case]
    if row is None:  # a column the others do not have
        p = tmp_path / "manifest.csv"
        p.write_text(
            "subject,sample,collected,assay,file,plate_map\nX,X,2025-01-10,elisa,cohort.csv,"
            "cohort.csv\n"
        )
    else:
        p = _write(tmp_path, [row])
    with pytest.raises(InputError) as err:
        read_manifest(p)
    assert err.value.line == 2
    assert err.value.column == column
    assert str(err.value.detail).startswith("row 1 (sample ")
    assert message in str(err.value)


def test_the_same_analysis_twice_in_one_manifest_is_refused(cli, tmp_path: Path) -> None:
    _study(tmp_path)
    row = 'C,C{},2025-01-10,,clinical_response,cohort.csv,,"group_col=arm"'
    p = _write(tmp_path, [row.format(1), row.format(2)])
    db = str(tmp_path / "s.sqlite")
    r = cli(["study", "import", p, "--db", db])
    assert r.exit_code == 2
    assert r.stderr.startswith("InputError: ")
    assert (
        "row 2 (sample 'C2', clinical_response): row 1 already runs clinical.response" in r.stderr
    )
    with open_store(db) as store:
        assert store.counts()["analysis_run"] == 0


def test_calls_are_typed_patterns_sorted_and_aliases_accepted(tmp_path: Path) -> None:
    _study(tmp_path)
    p = _write(
        tmp_path,
        [
            'T,T,2025-01-10,tumour,flow.gate,fcs/*.fcs,"gates=panel.xml",'
            '"--plots=false; population=cd8_t=root/CD8; population=cd45=root/CD45; beads_added=5e4"',
            'C,C,2025-01-10,,clinical_survival,cohort.csv,,"--time-col=t; event-col=e; '
            'landmark=12; landmark=24"',
        ],
    )
    flow, surv = read_manifest(p)
    assert flow.assay == "flow"  # the workflow's own name is an alias
    assert flow.call is not None
    assert surv.call is not None
    assert [f.name for f in flow.call.files] == ["T1.fcs", "T2.fcs"]
    kwargs = flow.call.kwargs()
    assert kwargs["fcs"] == [tmp_path / "fcs" / "T1.fcs", tmp_path / "fcs" / "T2.fcs"]
    assert kwargs["gates"] == tmp_path / "panel.xml"
    assert kwargs["plots"] is False
    assert kwargs["beads_added"] == 50000.0
    assert kwargs["population"] == ["cd8_t=root/CD8", "cd45=root/CD45"]
    assert flow.subject_kind == "animal"
    assert surv.call.kwargs()["landmark"] == [12.0, 24.0]
    assert surv.subject_kind == "patient"
    assert flow.to_dict()["file"] == "fcs/*.fcs"
