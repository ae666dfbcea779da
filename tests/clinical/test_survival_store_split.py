"""``clinical survival --db DB --split-by-alteration "ALK G1202R" --id-col patient``: the groups
are read from plasma ddPCR/NGS results recorded in the store, never from a CSV column.

The store is built through the real import paths: ``kinresist study import`` of a manifest of
kinresist VCFs (PASS = detected, ``low_alt`` = below LoD/not detected, other filters =
indeterminate; one tissue sample) and of simulated duplex ddPCR plates (2 % and 0 % G1202R, with
a positive-control well, as the demo's). Expected status per patient:

====  ==============================================  ==========================
P01   VCF PASS AF 1.2 % (LoD 0.2 %)                   detected
P02   VCF PASS AF 2 %                                 detected
P03   draw 1 low_alt, draw 2 PASS AF 0.8 %            detected
P04   VCF low_alt                                     not detected
P05   VCF low_alt                                     not detected
P06   plasma low_alt; tissue PASS (not read)          not detected
P07   VCF PASS AF 0.1 % < LoD 0.2 %                   left out (below LoD)
P08   only ALK L1196M recorded                        left out (no measurement)
P09   not in the store                                left out (no measurement)
P10   ddPCR 2 % G1202R                                detected
P11   ddPCR 0 % G1202R                                not detected
P12   VCF filter low_depth                            left out (indeterminate)
====  ==============================================  ==========================

Independent check: the same 8 classified patients with the group written in a CSV column give
identical KM, log-rank and Cox numbers (1e-12), and lifelines' ``logrank_test`` on them agrees
(chi2 rel 1e-9). Runs on SQLite, and on PostgreSQL when $KINRESIST_TEST_PG_URL is set.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "monitoring"))

from monitoring_files import write_vcf  # the monitoring tests' kinresist-style VCFs

from kinresist.demo import _ddpcr_plate  # the demo's draws: two wells and a 5 % control

KEY = "ALK G1202R"
DET, NOT = f"{KEY} detected", f"{KEY} not detected"
STUDY = "ALK-ctDNA"

#: patient -> (PFS months, event)
COHORT = {
    "P01": (4.1, 1),
    "P02": (6.3, 1),
    "P03": (3.2, 1),
    "P04": (14.8, 1),
    "P05": (22.0, 0),
    "P06": (2.5, 1),
    "P07": (5.5, 1),
    "P08": (12.0, 0),
    "P09": (7.4, 1),
    "P10": (8.9, 0),
    "P11": (18.6, 1),
    "P12": (2.9, 1),
}
EXPECTED = {
    "P01": DET,
    "P02": DET,
    "P03": DET,
    "P10": DET,
    "P04": NOT,
    "P05": NOT,
    "P06": NOT,
    "P11": NOT,
}

#: (subject, sample, collected, sample_type, [(alteration, af, lod, filter)])
_DRAWS = [
    ("P01", "P01-D1", "2024-01-10", "plasma", [(KEY, 0.012, 0.002, "PASS")]),
    ("P02", "P02-D1", "2024-01-11", "plasma", [(KEY, 0.020, 0.002, "PASS")]),
    ("P03", "P03-D1", "2024-01-12", "plasma", [(KEY, 0.0003, 0.002, "low_alt")]),
    ("P03", "P03-D2", "2024-04-12", "plasma", [(KEY, 0.008, 0.002, "PASS")]),
    ("P04", "P04-D1", "2024-01-13", "plasma", [(KEY, 0.0002, 0.002, "low_alt")]),
    ("P05", "P05-D1", "2024-01-14", "plasma", [(KEY, 0.0, 0.002, "low_alt")]),
    ("P06", "P06-D1", "2024-01-15", "plasma", [(KEY, 0.0004, 0.002, "low_alt")]),
    ("P06", "P06-T1", "2023-11-02", "tissue", [(KEY, 0.31, 0.02, "PASS")]),
    ("P07", "P07-D1", "2024-01-16", "plasma", [(KEY, 0.001, 0.002, "PASS")]),
    ("P08", "P08-D1", "2024-01-17", "plasma", [("ALK L1196M", 0.05, 0.002, "PASS")]),
    ("P12", "P12-D1", "2024-01-18", "plasma", [(KEY, 0.004, 0.002, "low_depth")]),
]


def _write_cohort(path: Path, patients: list[str], *, group: bool = False) -> Path:
    head = "patient,pfs_months,progressed" + (",plasma_g1202r" if group else "")
    rows = [head]
    for p in patients:
        t, e = COHORT[p]
        rows.append(f"{p},{t},{e}" + (f",{EXPECTED[p]}" if group else ""))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def split_store(cli, store_url, tmp_path):
    """The store of the module docstring (SQLite file or PostgreSQL database)."""
    d = tmp_path / "draws"
    d.mkdir()
    rows = ["subject,sample,collected,sample_type,assay,file,results,assay_map,tube,"
            "hours_to_processing,plasma_ml,cfdna_ng"]  # fmt: skip
    for subject, sample, day, kind, calls in _DRAWS:
        write_vcf(d / f"{sample}.vcf", [(a, af, 3000, lod, flt) for a, af, lod, flt in calls])
        qc = "Streck,24,4.0,20" if kind == "plasma" else ",,,"
        rows.append(f"{subject},{sample},{day},{kind},ngs_vcf,{sample}.vcf,,,{qc}")
    assay_map = "ALK_G1202R_FAM -> ALK G1202R; ALK_WT_HEX -> wild type"
    for i, (subject, fraction) in enumerate((("P10", 0.02), ("P11", 0.0))):
        sample = f"{subject}-D1"
        results = _ddpcr_plate(d / sample, sample, fraction, seed=2024 + i)
        rows.append(f"{subject},{sample},2024-02-0{i + 1},plasma,ddpcr,{sample},{results.name},"
                    f"{assay_map},Streck,24,4.0,20")  # fmt: skip
    (d / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = cli(["study", "import", d / "manifest.csv", "--db", store_url, "--study", STUDY])
    assert r.exit_code == 0, r.stderr
    return store_url


def _same(a: object, b: object, what: str) -> None:
    """Equal JSON values, numbers to 1e-12 (the same data in another row order)."""
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)), what
        assert len(a) == len(b), what
        for x, y in zip(a, b, strict=True):
            _same(x, y, what)
    elif isinstance(a, dict):
        assert isinstance(b, dict), what
        assert a.keys() == b.keys(), what
        for k in a:
            _same(a[k], b[k], f"{what}.{k}")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), what
    else:
        assert a == b, what


def _survival(cli, cohort: Path, *extra: object):
    return cli(["clinical", "survival", cohort, "--time-col", "pfs_months", "--event-col",
                "progressed", "--time-unit", "months", "--format", "json", *extra])  # fmt: skip


def test_split_by_plasma_alteration_equals_explicit_groups(cli, split_store, tmp_path):
    cohort = _write_cohort(tmp_path / "cohort.csv", list(COHORT))
    r = _survival(cli, cohort, "--db", split_store, "--study", STUDY, "--id-col", "patient",
                  "--split-by-alteration", "ALK p.Gly1202Arg")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    res = json.loads(r.stdout)

    split = res["split"]
    assert split["alteration"] == KEY  # through the canonical key
    assert split["study"] == STUDY
    assert split["groups"] == {
        DET: ["P01", "P02", "P03", "P10"],
        NOT: ["P04", "P05", "P06", "P11"],
    }
    assert split["excluded"] == {
        "below_lod": ["P07"],
        "no_measurement": ["P08", "P09"],
        "indeterminate": ["P12"],
    }
    assert "at or above its LoD" in split["rule"]
    assert res["parameters"]["split_by_alteration"] == KEY
    assert res["parameters"]["split_rule"] == split["rule"]
    assert res["inputs"][f"store: {KEY}"].startswith("sha256:")  # what the store said
    warnings = " | ".join(res["warnings"])
    assert (
        "2 patients left out of the ALK G1202R split (no plasma ddPCR/NGS measurement" in warnings
    )
    assert "1 patient left out of the ALK G1202R split (ALK G1202R detected only below" in warnings
    assert "1 patient left out of the ALK G1202R split (only indeterminate" in warnings
    assert "P08, P09" in warnings
    assert {g["group"]: g["n"] for g in res["groups"]} == {NOT: 4, DET: 4}
    assert res["cox"]["reference"] == NOT  # HR = detected vs not detected

    # the same patients, grouped by an explicit column, are analysed identically
    classified = list(EXPECTED)
    explicit = _write_cohort(tmp_path / "explicit.csv", classified, group=True)
    r2 = _survival(cli, explicit, "--group-col", "plasma_g1202r", "--reference", NOT)
    assert r2.exit_code == 0, r2.stderr
    ref = json.loads(r2.stdout)
    by = {g["group"]: g for g in res["groups"]}
    for g in ref["groups"]:
        mine = by[g["group"]]
        for field in ("n", "events", "median", "median_ci", "follow_up_median", "landmarks"):
            _same(mine[field], g[field], field)
    assert res["logrank"]["chi2"] == pytest.approx(ref["logrank"]["chi2"], rel=1e-12)
    assert res["logrank"]["p"] == pytest.approx(ref["logrank"]["p"], rel=1e-12)
    for field in ("hr", "p"):
        assert res["cox"][field] == pytest.approx(ref["cox"][field], rel=1e-12), field
    assert res["cox"]["ci"] == pytest.approx(ref["cox"]["ci"], rel=1e-12)
    assert res["cox"]["comparison"] == f"{DET} vs {NOT}"
    assert res["cox"]["method"] == "efron"  # ordinary Cox: the groups are not separated

    # and lifelines' log-rank on those groups agrees (a third implementation)
    from lifelines.statistics import logrank_test

    det = [COHORT[p] for p in classified if EXPECTED[p] == DET]
    nd = [COHORT[p] for p in classified if EXPECTED[p] == NOT]
    lr = logrank_test([t for t, _ in det], [t for t, _ in nd], [e for _, e in det],
                      [e for _, e in nd])  # fmt: skip
    assert res["logrank"]["chi2"] == pytest.approx(lr.test_statistic, rel=1e-9)


def test_split_table_text_and_recorded_subjects(cli, split_store, tmp_path):
    cohort = _write_cohort(tmp_path / "cohort.csv", list(COHORT))
    r = _survival(cli, cohort, "--db", split_store, "--study", STUDY, "--id-col", "patient",
                  "--split-by-alteration", KEY, "--format", "text")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert f"Groups from the store (study {STUDY}): {KEY} detected:" in r.stdout
    assert "warning: 2 patients left out" in r.stdout
    assert "recorded run" in r.stderr

    import pandas as pd

    out = tmp_path / "split.parquet"
    r = _survival(cli, cohort, "--db", split_store, "--study", STUDY, "--id-col", "patient",
                  "--split-by-alteration", KEY, "--format", "parquet", "--out", out)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    table = pd.read_parquet(tmp_path / "split.alteration_split.parquet")
    status = dict(zip(table["subject"], table["status"], strict=True))
    assert status == {
        **dict.fromkeys(("P01", "P02", "P03", "P10"), "detected"),
        **dict.fromkeys(("P04", "P05", "P06", "P11"), "not_detected"),
        "P07": "below_lod",
        "P08": "no_measurement",
        "P09": "no_measurement",
        "P12": "indeterminate",
    }
    row = table.set_index("subject")
    assert row.loc["P06", "samples"] == "P06-D1"  # the tissue sample is not read
    assert row.loc["P03", "not_detected"] == 1
    assert row.loc["P03", "detected_above_lod"] == 1
    assert row.loc["P10", "assays"] == "ddpcr"

    # every patient's PFS is recorded under its own subject, excluded ones without a group
    from kinresist.store import open_store

    with open_store(split_store) as store:
        owner = {smp.id: smp.subject.label for smp in store.samples(study=STUDY)}
        pfs = store.measurements(target="pfs_months")
    subjects = {owner[m.sample_id] for m in pfs}
    groups = {owner[m.sample_id]: m.attributes.get("group") for m in pfs}
    assert subjects == set(COHORT)
    assert groups["P01"] == DET
    assert groups["P09"] is None


def test_split_bad_input_exits_2(cli, split_store, tmp_path):
    cohort = _write_cohort(tmp_path / "cohort.csv", list(COHORT))
    base = ["--id-col", "patient", "--study", STUDY]

    def fails(*extra: object, says: str) -> None:
        r = _survival(cli, cohort, *extra)
        assert r.exit_code == 2, (r.stdout, r.stderr)
        assert says in r.stderr, r.stderr
        assert "Traceback" not in r.stderr

    fails(*base, "--split-by-alteration", KEY, says="add --db")
    fails(*base, "--db", split_store, "--split-by-alteration", "ALK something odd",
          says="'ALK something odd' is not an alteration")  # fmt: skip
    fails("--db", split_store, "--study", STUDY, "--split-by-alteration", KEY,
          says="needs --id-col")  # fmt: skip
    fails("--db", split_store, "--study", STUDY, "--id-col", "subject_id",
          "--split-by-alteration", KEY, says="no column 'subject_id'")  # fmt: skip
    fails(*base, "--db", split_store, "--split-by-alteration", KEY, "--group-col", "patient",
          says="--split-by-alteration and --group-col")  # fmt: skip
    # the right store, the wrong study: nobody measured there; the message names the study
    fails("--id-col", "patient", "--db", split_store, "--split-by-alteration", KEY,
          says="in study 'default' in ")  # fmt: skip
    r = _survival(cli, cohort, "--id-col", "patient", "--db", split_store,
                  "--split-by-alteration", KEY)  # fmt: skip
    assert f"records of these patients in ['{STUDY}']: pass --study" in r.stderr
    # an alteration nobody was tested for
    fails(
        *base,
        "--db",
        split_store,
        "--split-by-alteration",
        "EGFR C797S",
        says="none of the 12 patients has a plasma ddPCR or NGS measurement of EGFR C797S",
    )
    # a group of one patient
    few = _write_cohort(tmp_path / "few.csv", ["P01", "P02", "P04", "P07"])
    r = _survival(cli, few, *base, "--db", split_store, "--split-by-alteration", KEY)
    assert r.exit_code == 2
    assert "group 'ALK G1202R not detected' has 1 patient (P04)" in r.stderr
    # only excluded patients
    unknown = _write_cohort(tmp_path / "unknown.csv", ["P07", "P12"])
    r = _survival(cli, unknown, *base, "--db", split_store, "--split-by-alteration", KEY)
    assert r.exit_code == 2
    assert "no patient has a conclusive plasma result" in r.stderr


def _row(subject: str, call: str | None, *, value=None, lod=None, **over: object) -> dict:
    row = {"record": "measurement", "study": STUDY, "subject": subject,
           "subject_kind": "patient", "sample": f"{subject}-D1", "sample_kind": "plasma",
           "assay": "ngs", "value": value, "lod": lod, "call": call}  # fmt: skip
    return {**row, **over}


def test_classify_rule_edges():
    """The rule on store rows directly: what is read, and what stays unknown."""
    from kinresist.clinical.store_split import classify

    rows = [
        _row("A", "detected", value=None, lod=None),  # the lab's call without an LoD
        _row("B", "detected", value=0.5, lod=0.5),  # at the LoD counts
        _row("C", "detected", value=None, lod=0.2),  # no value with an LoD: not above it
        _row("D", "detected", value=3.0, lod=0.2, record="finding"),  # findings not read
        _row("E", "detected", value=3.0, lod=0.2, subject_kind="cell_line"),
        _row("F", "detected", value=3.0, lod=0.2, sample_kind="tissue"),
        _row("G", "detected", value=3.0, lod=0.2, assay="clinical"),
        _row("H", "detected", value=3.0, lod=0.2, study="other"),
        _row("I", "not_detected", lod=0.2),
        _row("I", "indeterminate"),
        _row("J", None),
        _row("K", "detected", value=2.0, lod=0.2, assay="ddPCR"),
    ]
    split = classify(rows, list("ABCDEFGHIJK"), KEY, study=STUDY)
    status = {p.subject: p.status for p in split.patients}
    assert status == {
        "A": "detected",
        "B": "detected",
        "C": "below_lod",
        "D": "no_measurement",
        "E": "no_measurement",
        "F": "no_measurement",
        "G": "no_measurement",
        "H": "no_measurement",
        "I": "not_detected",
        "J": "indeterminate",
        "K": "detected",
    }
    assert split.labels()[:3] == [DET, DET, None]
    # without a study every study's rows count
    assert classify(rows, ["H"], KEY).patients[0].status == "detected"
