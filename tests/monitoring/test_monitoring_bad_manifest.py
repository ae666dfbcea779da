"""A malformed manifest exits 2 with the row named, and leaves the store exactly as it was
(SQLite, and PostgreSQL when $KINRESIST_TEST_PG_URL is set).

The store already holds a good import; each bad manifest is tried on it and the row counts of
every table must not move. Two of the failures happen inside the import's transaction, after
earlier rows were written (a sample already imported, a therapy row for an unknown subject): they
show that the whole manifest is one transaction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from monitoring_files import write_findings

from kinresist.store import open_store

HEAD = "subject,sample,collected,sample_type,assay,file"


def _manifest(d: Path, name: str, rows: list[str]) -> Path:
    p = d / name
    p.write_text("\n".join([HEAD, *rows]) + "\n", encoding="utf-8")
    return p


CASES = {
    "missing file": (
        ["PT-1,PT-1-D9,2025-05-01,plasma,findings,new_findings.csv",
         "PT-1,PT-1-D10,2025-06-01,plasma,findings,no_such_file.csv"],
        "row 2 (sample 'PT-1-D10')", "not found",
    ),
    "unknown assay": (
        ["PT-1,PT-1-D9,2025-05-01,plasma,findings,new_findings.csv",
         "PT-1,PT-1-D10,2025-06-01,plasma,qpcr,new_findings.csv"],
        "row 2 (sample 'PT-1-D10')", "unknown assay 'qpcr'",
    ),
    "unparsable date": (
        ["PT-1,PT-1-D9,01/05/2025,plasma,findings,new_findings.csv"],
        "row 1 (sample 'PT-1-D9')", "is not an ISO date",
    ),
    "duplicate sample label": (
        ["PT-1,PT-1-D9,2025-05-01,plasma,findings,new_findings.csv",
         "PT-1,PT-1-D9,2025-05-01,plasma,findings,new_findings.csv"],
        "row 2 (sample 'PT-1-D9', findings)", "duplicate sample label",
    ),
    "one label, two dates": (
        ["PT-1,PT-1-D9,2025-05-01,plasma,findings,new_findings.csv",
         "PT-1,PT-1-D9,2025-05-02,plasma,ngs_vcf,new_findings.csv"],
        "row 2 (sample 'PT-1-D9', ngs_vcf)", "duplicate sample label",
    ),
    "unreadable file (analysis error)": (
        ["PT-1,PT-1-D9,2025-05-01,plasma,findings,new_findings.csv",
         "PT-1,PT-1-D10,2025-06-01,plasma,findings,bad_findings.csv"],
        "row 2 (sample 'PT-1-D10', findings)", "bad_findings.csv, line 2: vaf 'lots'",
    ),
    "sample already in the store (inside the transaction)": (
        ["PT-1,PT-1-D9,2025-05-01,plasma,findings,new_findings.csv",
         "PT-1,PT-1-D2,2024-03-19,plasma,findings,new_findings.csv"],
        "row 2 (sample 'PT-1-D2', findings)", "already has monitoring.findings results",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_manifest_names_the_row_and_stores_nothing(
    cli, vcf_study: Path, store_url: str, case: str
) -> None:
    good = cli(["study", "import", vcf_study / "manifest.csv", "--therapy",
                vcf_study / "therapy.csv", "--db", store_url, "--study", "S1"])  # fmt: skip
    assert good.exit_code == 0, good.stderr
    write_findings(vcf_study / "new_findings.csv", [("ALK", "G1202R", 0.05, 3000)])
    (vcf_study / "bad_findings.csv").write_text("gene,alteration,vaf\nALK,G1202R,lots\n")
    with open_store(store_url) as store:
        before = store.counts()
    rows, where, what = CASES[case]
    bad = _manifest(vcf_study, "bad.csv", rows)
    r = cli(["study", "import", bad, "--db", store_url, "--study", "S1"])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("InputError: ")
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    assert where in r.stderr
    assert what in r.stderr
    assert "bad.csv" in r.stderr
    with open_store(store_url) as store:
        assert store.counts() == before


def test_therapy_for_an_unknown_subject_rolls_back_every_row(
    cli, vcf_study: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "s.sqlite")
    (vcf_study / "t2.csv").write_text("subject,drug,start,end\nPT-2,alectinib,2024-01-01,\n")
    with open_store(db) as store:
        before = store.counts()
    r = cli(["study", "import", vcf_study / "manifest.csv", "--therapy", vcf_study / "t2.csv",
             "--db", db])  # fmt: skip
    assert r.exit_code == 2
    assert "therapy row 1" in r.stderr
    assert "'PT-2'" in r.stderr
    with open_store(db) as store:
        assert store.counts() == before  # the 8 recorded rows were rolled back


def test_bad_therapy_and_columns_are_named(cli, vcf_study: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    (vcf_study / "t3.csv").write_text(
        "subject,drug,start,end\nPT-1,crizotinib,2022-03-01,2023-06-30\nPT-1,alectinib,2023-06-05,\n"
    )
    r = cli(["study", "import", vcf_study / "manifest.csv", "--therapy", vcf_study / "t3.csv",
             "--db", db])  # fmt: skip
    assert r.exit_code == 2
    assert "therapy rows 1 and 2 overlap" in r.stderr
    odd = _manifest(vcf_study, "odd.csv", [])
    odd.write_text(HEAD + ",hours_to_procesing\nPT-1,X,2024-01-01,plasma,findings,new.csv,3\n")
    r = cli(["study", "import", odd, "--db", db])
    assert r.exit_code == 2
    assert "unknown manifest column(s) 'hours_to_procesing'" in r.stderr
    r = cli(["study", "import", vcf_study / "nope.csv", "--db", db])
    assert r.exit_code == 2
    assert r.stderr.startswith("InputError")
