"""Issue 18 ("never a confident wrong number"): one regression test per reported failure of the
readers, the CLI presentation and the sample identity (items 4, 5, 6 and 8; the ddPCR/NGS parts
of items 1-3, 5, 6 and 8 are tested with their packages).

Every refused input must exit 2 with ONE line that names the file (and the line/column where
one is at fault), and leave the store untouched.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import fuzz_seeds as seeds
import pytest
from cli_contract import one_line as _one_line

from kinresist.errors import DataQualityWarning, InputError


def _rows(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
            for t in tables
            if t != "alembic_version"
        }
    finally:
        con.close()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- item 4: one invocation is one sample; the sample type is never defaulted ---------------
def test_item4_vcf_and_fusions_are_one_sample(cli, tmp_path: Path) -> None:
    """``interpret --vcf ... --fusions ...`` without ``--sample``: the VCF findings join the
    sample the fusion table names (not a second sample called "sample"), the case is
    classified from both files, and ``--sample-type plasma`` is stored as plasma."""
    vcf = _write(tmp_path / "calls.vcf", seeds.VCF)
    fus = _write(tmp_path / "fus.csv", "fusion,sample\nEML4-ALK v3,PT7-plasma\n")
    db = tmp_path / "s.sqlite"
    res = cli(["interpret", "--vcf", vcf, "--genome", "GRCh38", "--fusions", fus,
               "--sample-type", "plasma", "--subject", "P7", "--db", db, "-f", "json"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert "cases" not in d
    assert d["sample"] == "PT7-plasma"
    assert d["classification"] != "none_found"
    assert {(f["alteration"], f["sample"]) for f in d["findings"]} == {
        ("G1202R", "PT7-plasma"), ("L1196M", "PT7-plasma"), ("EML4-ALK v3", "PT7-plasma"),
    }  # fmt: skip
    con = sqlite3.connect(db)
    assert con.execute("SELECT label, kind FROM sample").fetchall() == [("PT7-plasma", "plasma")]


def test_item4_sample_type_never_defaulted(cli, tmp_path: Path) -> None:
    """Without ``--sample-type`` the store says "other" with ``sample_type_given: false`` (it
    used to store a plasma file as tissue)."""
    fus = _write(tmp_path / "fus.csv", "fusion,sample\nEML4-ALK v3,PT7-plasma\n")
    db = tmp_path / "s.sqlite"
    res = cli(["interpret", "--fusions", fus, "--subject", "P7", "--db", db])
    assert res.exit_code == 0, res.stderr
    con = sqlite3.connect(db)
    [(kind, attributes)] = con.execute("SELECT kind, attributes FROM sample").fetchall()
    assert kind == "other"
    assert json.loads(attributes)["sample_type_given"] is False


# -- item 5: empty or corrupt inputs that used to pass -------------------------------------
def test_item5_header_only_maf_refused(cli, tmp_path: Path) -> None:
    """A header-only MAF was "no resistance mechanism"; now exit 2 naming the file."""
    maf = _write(tmp_path / "empty.maf", seeds.MAF.splitlines()[0] + "\n")
    line = _one_line(cli(["interpret", "--maf", maf]), "empty.maf")
    assert "no mutation rows" in line


@pytest.mark.parametrize(
    ("flag", "name", "header"),
    [("table", "f.csv", "gene,alteration\n"), ("fusions", "u.csv", "fusion\n"),
     ("cnv", "c.csv", "gene,copy_number\n")],
)  # fmt: skip
def test_item5_header_only_tables_refused(cli, tmp_path: Path, flag, name, header) -> None:
    path = _write(tmp_path / name, header)
    assert "no " in _one_line(cli(["interpret", f"--{flag}", path]), name)


@pytest.mark.parametrize(
    ("alt", "depth", "fragment"),
    [("5", "0", "exceeds t_depth 0"), ("50", "40", "exceeds t_depth 40"),
     ("5", "inf", "'inf' is not a non-negative whole number"),
     ("-2", "40", "'-2' is not a non-negative"), ("2.5", "40", "'2.5' is not")],
)  # fmt: skip
def test_item5_item6_maf_counts(cli, tmp_path: Path, alt, depth, fragment) -> None:
    """Alt reads > 0 at depth 0 (was accepted, VAF unknown) and depth ``inf`` (was exit 1)."""
    head, row = seeds.MAF.splitlines()[:2]
    cells = row.split("\t")
    cols = head.split("\t")
    cells[cols.index("t_alt_count")] = alt
    cells[cols.index("t_depth")] = depth
    maf = _write(tmp_path / "m.maf", head + "\n" + "\t".join(cells) + "\n")
    line = _one_line(cli(["interpret", "--maf", maf]), "m.maf", "line 2")
    assert fragment in line


def test_item5_duplicate_vcf_records_kept_once(tmp_path: Path) -> None:
    """A record repeated verbatim was stored once per copy; now once, with a warning naming the
    lines. The same allele with a different VAF is refused (no honest choice)."""
    from kinresist.interpret.readers.vcf import read_vcf
    from kinresist.kb import load_kb

    lines = seeds.VCF.splitlines()
    dup = _write(tmp_path / "dup.vcf", "\n".join([*lines, lines[-3]]) + "\n")
    with pytest.warns(DataQualityWarning, match=r"dup.vcf: 1 duplicate VCF record\(s\) kept once \(line 13 = line 10\)"):  # fmt: skip
        findings = read_vcf(dup, genome="GRCh38", kb=load_kb())
    assert [f.alteration for f in findings].count("G1202R") == 1
    conflicting = lines[-3].replace("450,50:500", "400,100:500")
    bad = _write(tmp_path / "bad.vcf", "\n".join([*lines, conflicting]) + "\n")
    with pytest.raises(InputError, match=r"bad.vcf, line 13: chr2:29220747 C>T appears twice"):
        read_vcf(bad, genome="GRCh38", kb=load_kb())


def test_item5_duplicate_vcf_records_stored_once(cli, tmp_path: Path) -> None:
    lines = seeds.VCF.splitlines()
    dup = _write(tmp_path / "dup.vcf", "\n".join([*lines, lines[-3], lines[-3]]) + "\n")
    db = tmp_path / "s.sqlite"
    res = cli(["interpret", "--vcf", dup, "--genome", "GRCh38", "--sample", "S1", "--subject",
               "P1", "--db", db, "-f", "json"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert any(
        "2 duplicate VCF record(s) kept once" in w for w in json.loads(res.stdout)["warnings"]
    )
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM finding WHERE alteration = 'G1202R'").fetchone() == (
        1,
    )


def test_item5_all_zero_doses_refused(cli, tmp_path: Path) -> None:
    """All-zero doses gave a "converged" IC50 of 1.0; now "at least two distinct positive doses"."""
    table = _write(tmp_path / "zero.csv", "dose,response\n" + "0,100\n0,80\n0,50\n0,20\n")
    db = tmp_path / "s.sqlite"
    line = _one_line(cli(["dose", "fit", "-i", table, "--dose-col", "dose", "--response-col",
                          "response", "--db", db]), "zero.csv")  # fmt: skip
    assert "at least two distinct positive doses" in line
    assert not db.exists() or sum(_rows(db).values()) == 0


def test_item5_infinite_response_refused_with_row(cli, tmp_path: Path) -> None:
    """An ``inf`` response was dropped silently; now refused with the line and column."""
    text = seeds.dose_table().splitlines()
    text[4] = text[4].rsplit(",", 1)[0] + ",inf"
    table = _write(tmp_path / "inf.csv", "\n".join(text) + "\n")
    line = _one_line(cli(["dose", "fit", "-i", table, "--dose-col", "dose", "--response-col",
                          "response", "--group-col", "group"]), "inf.csv", "line 5", "column response")  # fmt: skip
    assert "not a finite number" in line


def test_item5_plate_map_without_dose_series_refused(tmp_path: Path) -> None:
    from kinresist.dose.plates import read_plate_map, require_dose_series

    pmap = _write(tmp_path / "map.csv", "well,role,cell_line,drug,concentration\n"
                  "A1,vehicle,X,d,0\nA2,sample,X,d,0 nM\nA3,sample,X,d,0 nM\n")  # fmt: skip
    with pytest.raises(InputError, match=r"map.csv, column concentration: cell line 'X' x drug 'd' has 0 distinct positive"):  # fmt: skip
        require_dose_series(read_plate_map(pmap), path=pmap)


# -- item 6: internal errors (exit 1) on ordinary bad files ---------------------------------
@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "the file is empty"), (b"dose,response\n", "no data rows"),
     (b"\n\n  \n", "the file is empty"), (b"dose,response\n1\xe9,2\n", "not valid UTF-8")],
)  # fmt: skip
def test_item6_empty_or_undecodable_dose_table(cli, tmp_path: Path, content, fragment) -> None:
    table = tmp_path / "t.csv"
    table.write_bytes(content)
    line = _one_line(cli(["dose", "fit", "-i", table, "--dose-col", "dose", "--response-col",
                          "response"]), "t.csv")  # fmt: skip
    assert fragment in line


def test_item6_csv_named_xlsx(cli, tmp_path: Path) -> None:
    fake = _write(tmp_path / "curves.xlsx", seeds.dose_table())
    line = _one_line(cli(["dose", "fit", "-i", fake, "--dose-col", "dose", "--response-col",
                          "response", "--group-col", "group"]), "curves.xlsx")  # fmt: skip
    assert "is not an Excel workbook" in line


def test_item6_damaged_xlsx(cli, tmp_path: Path) -> None:
    good = seeds.xlsx_from_csv(seeds.dose_table(), tmp_path / "ok.xlsx")
    bad = tmp_path / "cut.xlsx"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    line = _one_line(cli(["dose", "fit", "-i", bad, "--dose-col", "dose", "--response-col",
                          "response"]), "cut.xlsx")  # fmt: skip
    assert "Excel workbook" in line


@pytest.mark.parametrize("which", ["plate", "map"])
@pytest.mark.parametrize("content", [b"", b"\n", b"well,role\n"])
def test_item6_empty_plate_or_map(cli, tmp_path: Path, which: str, content: bytes) -> None:
    plate_text, map_text = seeds.dose_plate()
    plate = _write(tmp_path / "plate.csv", plate_text)
    pmap = _write(tmp_path / "map.csv", map_text)
    (plate if which == "plate" else pmap).write_bytes(content)
    db = tmp_path / "s.sqlite"
    _one_line(cli(["dose", "plate", "--plate", plate, "--map", pmap, "--db", db]), f"{which}.csv")
    assert not db.exists() or sum(_rows(db).values()) == 0


def test_item6_undecodable_input_named_by_the_cli(cli, tmp_path: Path) -> None:
    """A reader that lets a UnicodeDecodeError escape still gets a message naming the file."""
    rnk = tmp_path / "ranks.rnk"
    rnk.write_bytes(b"CD8A\t2.0\nSTAT1\t1.0\nCAF\xc9\t-1.0\n")
    gmt = _write(tmp_path / "s.gmt", seeds.GMT)
    res = cli(["gsea", "prerank", rnk, "--gene-sets", gmt])
    assert res.exit_code == 2
    assert "ranks.rnk" in res.stderr


def test_item6_extreme_values_refused_not_overflowing(cli, tmp_path: Path) -> None:
    """Doses of 1e300 made the comparison overflow (exit 1); now a plausibility bound."""
    rows = seeds.dose_table().splitlines()
    big = [rows[0]] + [
        f"{g},{float(d) * 1e300!r},{r}" for g, d, r in (x.split(",") for x in rows[1:])
    ]
    table = _write(tmp_path / "big.csv", "\n".join(big) + "\n")
    line = _one_line(cli(["dose", "compare", "-i", table, "--dose-col", "dose", "--response-col",
                          "response", "--group-col", "group"]), "big.csv", "column dose")  # fmt: skip
    assert "implausibly large" in line


# -- item 8: misleading output ----------------------------------------------------------------
def test_item8_kb_show_prints_point_frequencies_once() -> None:
    from kinresist.kb.show import pct_range

    assert pct_range(32.0, 32.0) == "32 %"
    assert pct_range(31.8, 32.2) == "32 %"
    assert pct_range(28.0, 35.0) == "28–35 %"
    assert pct_range(4.5, 4.5) == "4.5 %"
    assert pct_range(None, None) == "n/a"


def test_item8_kb_show_cli_has_no_degenerate_range(cli) -> None:
    import re

    res = cli(["kb", "show", "ALK", "G1269A"])
    assert res.exit_code == 0, res.stderr
    assert "Frequency: 2/11 (18 %)" in res.stdout
    assert not re.search(r"\b(\d+)-\1 ?%", res.stdout)


def test_item8_dose_plate_text_is_readable(cli, tmp_path: Path) -> None:
    """``dose plate -f text`` printed a 434-character table and no fold shifts."""
    plate_text, map_text = seeds.dose_plate()
    plate = _write(tmp_path / "plate.csv", plate_text)
    pmap = _write(tmp_path / "map.csv", map_text)
    res = cli(["dose", "plate", "--plate", plate, "--map", pmap, "-f", "text"])
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 160
    assert any("fold shift" in ln and "H3122-AR/H3122" in ln for ln in lines)
    assert any(ln.startswith("plate Plate 1: Z'") for ln in lines)
    assert any("-fold the H3122 IC50 (95% CI" in ln for ln in lines)


def test_item8_help_not_cut_at_80_columns_when_piped(cli, monkeypatch) -> None:
    """Not on a terminal, help is laid out for 120 columns (rich assumed 80 and cut it); an
    explicit ``COLUMNS`` (pytest-xdist sets 80) is respected."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    res = cli(["dose", "fit", "--help"])
    assert res.exit_code == 0
    widths = [len(ln) for ln in res.stdout.splitlines()]
    assert max(widths) == 120
    assert "--response-col" in res.stdout
    monkeypatch.setenv("COLUMNS", "80")
    assert max(len(ln) for ln in cli(["dose", "fit", "--help"]).stdout.splitlines()) == 80


def test_item8_width_restored_after_the_command(cli, monkeypatch) -> None:
    import os

    import typer.rich_utils as ru

    monkeypatch.delenv("COLUMNS", raising=False)
    before = (ru.MAX_WIDTH, os.environ.get("COLUMNS"))
    cli(["--help"])
    assert (ru.MAX_WIDTH, os.environ.get("COLUMNS")) == before


def test_item8_progress_only_on_a_terminal(monkeypatch, capsys) -> None:
    """Long imports show a progress line on an interactive terminal, and nothing otherwise."""
    import io
    import sys

    from kinresist._progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.delenv("KINRESIST_QUIET", raising=False)
    with Progress("reading big.vcf", delay=0.0, every=0.0) as p:
        p.update(4096)
    assert "reading big.vcf: 4,096 lines" in tty.getvalue()
    assert tty.getvalue().endswith("\r\x1b[K")  # erased at the end
    monkeypatch.setenv("KINRESIST_QUIET", "1")
    quiet = Tty()
    monkeypatch.setattr(sys, "stderr", quiet)
    with Progress("reading big.vcf", delay=0.0, every=0.0) as p:
        p.update(4096)
    assert quiet.getvalue() == ""
