"""Regressions for the contract violations the fuzz suite found (issue 18): each exits 2 with
one line naming the file, no traceback, and leaves nothing half-written."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import fuzz_seeds as seeds
import pytest
from cli_contract import one_line as _one_line


def _checkerboard(tmp_path: Path) -> tuple[Path, Path]:
    grid, mapping = seeds.synergy_checkerboard()
    plate = tmp_path / "plate.csv"
    plate.write_text(grid)
    (tmp_path / "map.csv").write_text(mapping)
    return plate, tmp_path / "map.csv"


@pytest.mark.parametrize(("name", "content"), [("map.xlsx", b"well,role\nA1,sample\n"),
                                               ("map.csv", b"")])  # fmt: skip
def test_synergy_map_not_a_workbook_or_empty(cli, tmp_path: Path, name, content) -> None:
    plate, _ = _checkerboard(tmp_path)
    bad = tmp_path / name
    bad.write_bytes(content)
    line = _one_line(cli(["synergy", "score", plate, "--map", bad, "-f", "json"]), name)
    assert "map" in line


def test_synergy_map_still_read(cli, tmp_path: Path) -> None:
    plate, mapping = _checkerboard(tmp_path)
    assert cli(["synergy", "score", plate, "--map", mapping, "--methods", "bliss"]).exit_code == 0


@pytest.mark.parametrize("command", [["elisa", "quantify"], ["gsea", "score"]])
def test_empty_tme_table_named(cli, tmp_path: Path, command) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    args = [*command, empty, "-f", "json"]
    if command[0] == "gsea":
        gmt = tmp_path / "sets.gmt"
        gmt.write_text(seeds.GMT)
        args += ["--gene-sets", gmt]
    line = _one_line(cli(args), "empty.csv")
    assert "empty" in line or "no rows" in line or "cannot read" in line


def test_tme_duplicate_subjects_name_the_file(cli, tmp_path: Path) -> None:
    text = seeds.tme_table()
    first = text.splitlines()[1]
    table = tmp_path / "tumours.csv"
    table.write_text(text + first + "\n")
    line = _one_line(cli(["tme", "associate", table, "-f", "json"]), "tumours.csv")
    assert "unique" in line
    assert "M0" in line


def test_checks_on_read_values_name_the_only_input(cli, tmp_path: Path) -> None:
    """An error raised after reading (too few standards) names the one input file."""
    table = tmp_path / "cxcl9.csv"
    table.write_text("\n".join(seeds.elisa_table().splitlines()[:3]) + "\n")
    line = _one_line(cli(["elisa", "quantify", table, "-f", "json"]), "cxcl9.csv")
    assert "standard" in line


def test_flow_workspace_cut_mid_tag(cli, tmp_path: Path) -> None:
    case = seeds.flow_case(tmp_path)
    raw = case["wsp"].read_bytes()
    case["wsp"].write_bytes(raw[: len(raw) // 2])
    args = ["flow", "gate", case["fcs"], "--gates", case["wsp"], "--no-plots", "-f", "json"]
    line = _one_line(cli(args), "panel.wsp")
    assert "XML" in line


@pytest.mark.parametrize("flip", [14, 30])
def test_damaged_bam_one_line_no_dealloc_traceback(tmp_path: Path, flip: int) -> None:
    """pysam prints 'OSError: Closing failed' from AlignmentFile.__dealloc__ (through
    sys.excepthook and the unraisable hook) after a failed open: check_bam swallows exactly that."""
    import pysam

    from kinresist.errors import InputError
    from kinresist.ngs.regions import check_bam

    good = tmp_path / "good.bam"
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": 1000}]}
    with pysam.AlignmentFile(str(good), "wb", header=header) as fh:
        seg = pysam.AlignedSegment(fh.header)
        seg.query_name, seg.query_sequence, seg.reference_id, seg.reference_start = (
            "r",
            "A" * 20,
            0,
            5,
        )
        seg.cigartuples, seg.mapping_quality = [(0, 20)], 60
        fh.write(seg)
    raw = bytearray(good.read_bytes())
    raw[flip] ^= 0x80  # BGZF block size (14) / deflate stream (30): the header cannot be read
    bad = tmp_path / "bad.bam"
    bad.write_bytes(bytes(raw))
    seen: list[object] = []
    hook, excepthook = sys.unraisablehook, sys.excepthook
    sys.unraisablehook = seen.append
    sys.excepthook = lambda *a: seen.append(a)
    try:
        with pytest.raises(InputError, match=r"bad\.bam"):
            check_bam(bad)
        import gc

        gc.collect()
    finally:
        sys.unraisablehook, sys.excepthook = hook, excepthook
    assert seen == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
def test_manifest_with_non_utf8_name_prints(cli, tmp_path: Path) -> None:
    """A manifest whose name is not UTF-8 is imported and its name printed escaped (no
    UnicodeEncodeError after the commit)."""
    folder = tmp_path
    for name in ("p1_d1.csv", "p1_d2.csv"):
        (folder / name).write_text(seeds.STUDY_FINDINGS)
    raw = os.fsencode(folder) + b"/manifest-\xff.csv"
    with open(raw, "wb") as fh:
        fh.write(seeds.MANIFEST.encode())
    manifest = os.fsdecode(raw)
    db = tmp_path / "s.db"
    res = cli(["study", "import", manifest, "--study", "S", "--db", db])
    assert res.exit_code == 0, res.stderr
    assert "Traceback" not in res.stderr


def test_bam_damaged_mid_file_one_line_in_a_real_process(tmp_path: Path) -> None:
    """A BAM whose header reads but whose reads do not (a flipped byte mid-file): before, a
    misleading "Closing failed: No such file or directory" plus htslib's ``[E::...]`` lines
    on the process's stderr; now one line naming the BAM and the region (fd-level stderr of a
    real process, where htslib writes)."""
    import subprocess

    from sharedpaths import shared_path

    case = seeds.ngs_case(tmp_path, shared_path())
    raw = bytearray(case["tumour"].read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    case["tumour"].write_bytes(bytes(raw))
    args = ["ngs", "call", case["tumour"], "--regions", case["bed"], "--reference", case["fa"]]
    proc = subprocess.run(
        [sys.executable, "-m", "kinresist.cli.main", *map(str, args), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert "tumour.bam" in lines[0]
    assert "damaged or truncated" in lines[0]


# -- found by the long run (python tests/fuzz/run.py), fixed ----------------------------------
def test_blot_tiff_cut_inside_its_header(cli, tmp_path: Path) -> None:
    case = seeds.blot_set(tmp_path)
    raw = case["pALK"].read_bytes()
    case["pALK"].write_bytes(raw[:6])  # the first IFD offset cut: struct.error in tifffile
    args = ["blot", "analyze", case["pALK"], case["ALK"], "--design", case["design"], "-f", "json"]
    line = _one_line(cli(args), case["pALK"].name)
    assert "TIFF" in line


def test_blot_design_two_loading_controls_names_the_design(cli, tmp_path: Path) -> None:
    case = seeds.blot_set(tmp_path)
    text = case["design"].read_text()
    rows = text.splitlines()
    header = rows[0].split(",")
    assert "role" in header
    k, t = header.index("role"), header.index("target")
    extra = []
    for row in rows[1:]:
        cells = row.split(",")
        if cells[k] == "loading_control":
            cells[t] = cells[t] + "2"
            extra.append(",".join(cells))
            break
    assert extra  # the seed design has a loading control
    case["design"].write_text("\n".join([*rows, *extra]) + "\n")
    args = ["blot", "analyze", case["pALK"], case["ALK"], "--design", case["design"], "-f", "json"]
    line = _one_line(cli(args), case["design"].name)
    assert "loading controls" in line


def test_rnk_named_gz_that_is_not_gzip(cli, tmp_path: Path) -> None:
    rnk = tmp_path / "ranks.rnk.gz"
    rnk.write_text(seeds.RNK)
    gmt = tmp_path / "sets.gmt"
    gmt.write_text(seeds.GMT)
    args = ["gsea", "prerank", rnk, "--gene-sets", gmt, "--min-size", "3", "--plots", "0"]
    _one_line(cli([*args, "--permutation-num", "20", "-f", "json"]), "ranks.rnk.gz")


def test_prerank_set_sizes_name_both_files(cli, tmp_path: Path) -> None:
    rnk = tmp_path / "ranks.rnk"
    rnk.write_text(seeds.RNK)
    gmt = tmp_path / "sets.gmt"
    gmt.write_text(seeds.GMT)
    args = ["gsea", "prerank", rnk, "--gene-sets", gmt, "--min-size", "50", "--plots", "0"]
    line = _one_line(cli([*args, "--permutation-num", "20", "-f", "json"]), "ranks.rnk")
    assert "sets.gmt" in line


@pytest.mark.parametrize("value", ["1e300", "inf"])
def test_invivo_values_beyond_any_measurement(cli, tmp_path: Path, value: str) -> None:
    table = tmp_path / "study.csv"
    table.write_text(seeds.INVIVO.replace("1500", value))
    args = ["invivo", "analyze", table, "--control", "Vehicle", "--n-boot", "50", "-f", "json"]
    line = _one_line(cli(args), "study.csv")
    assert "line" in line


def test_cnv_log2_beyond_any_copy_ratio(tmp_path: Path) -> None:
    from kinresist.errors import InputError
    from kinresist.ngs.cnv_io import read_cnvkit

    cnr = tmp_path / "s.cnr"
    cnr.write_text("chromosome\tstart\tend\tgene\tlog2\nchr7\t1\t200\tMET\t1e308\n")
    with pytest.raises(InputError, match=r"s\.cnr, line 2, column log2"):
        read_cnvkit(cnr)


@pytest.mark.filterwarnings("default")  # as a user's process: the warning is printed
def test_study_findings_with_a_duplicate_row_imported(cli, tmp_path: Path) -> None:
    """A repeated findings row is kept once (with a warning), not an internal error."""
    lines = seeds.STUDY_FINDINGS.splitlines()
    for name in ("p1_d1.csv", "p1_d2.csv"):
        (tmp_path / name).write_text("\n".join([*lines, lines[-1]]) + "\n")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(seeds.MANIFEST)
    res = cli(["study", "import", manifest, "--study", "S", "--db", tmp_path / "s.db"])
    assert res.exit_code == 0, res.stderr


def test_flow_workspace_with_a_non_utf8_name(cli, tmp_path: Path) -> None:
    case = seeds.flow_case(tmp_path)
    raw = os.fsencode(tmp_path) + b"/panel-\xe9.wsp"
    with open(raw, "wb") as fh:
        fh.write(case["wsp"].read_bytes())
    wsp = os.fsdecode(raw)
    args = ["flow", "gate", case["fcs"], "--gates", wsp, "--no-plots", "-f", "json"]
    res = cli(args)
    assert res.exit_code == 0, res.stderr


def test_blot_window_that_is_not_a_range_names_the_design(cli, tmp_path: Path) -> None:
    case = seeds.blot_set(tmp_path)
    case["design"].write_text(case["design"].read_text().replace(",70-150", ",nM"))
    args = ["blot", "analyze", case["pALK"], case["ALK"], "--design", case["design"], "-f", "json"]
    line = _one_line(cli(args), case["design"].name)
    assert "window" in line


def test_clinical_follow_up_beyond_any_unit(cli, tmp_path: Path) -> None:
    """Times x 1e300 made the Kaplan-Meier figure fail (exit 1); now refused with the line."""
    rows = seeds.clinical_table().splitlines()
    k = rows[0].split(",").index("months")
    out = [rows[0]]
    for row in rows[1:]:
        cells = row.split(",")
        cells[k] = repr(float(cells[k]) * 1e300)
        out.append(",".join(cells))
    table = tmp_path / "cohort.csv"
    table.write_text("\n".join(out) + "\n")
    args = ["clinical", "survival", table, "--time-col", "months", "--event-col", "event"]
    line = _one_line(cli([*args, "--group-col", "arm", "-f", "json"]), "cohort.csv")
    assert "line 2" in line


def test_plate_grid_header_with_infinity(cli, tmp_path: Path) -> None:
    """A grid whose header row holds ``inf`` (int(float('inf')): OverflowError, exit 1)."""
    grid, mapping = seeds.dose_plate()
    lines = grid.splitlines()
    k = next(i for i, ln in enumerate(lines) if ",1,2,3" in ln)
    lines[k] = lines[k].replace(",1,2,3", ",inf,2,3", 1)
    plate, pmap = tmp_path / "plate.csv", tmp_path / "map.csv"
    plate.write_text("\n".join(lines) + "\n")
    pmap.write_text(mapping)
    res = cli(["dose", "plate", "--plate", plate, "--map", pmap, "-f", "json"])
    assert res.exit_code in (0, 2), res.stderr
    assert "Traceback" not in res.stderr
    if res.exit_code == 2:
        _one_line(res, "plate.csv")


@pytest.mark.parametrize("end", ["99999999999999999999", "400"])
def test_bed_interval_beyond_the_contig(cli, tmp_path: Path, end: str) -> None:
    """A BED end past the contig (another genome build, or a huge number): pysam's 'stop out
    of range' was exit 1; now one line naming the BED, its line and the contig's length."""
    from sharedpaths import shared_path

    case = seeds.ngs_case(tmp_path, shared_path())
    import pysam

    contig = "chr2_29443539_29443787"
    size = pysam.FastaFile(str(case["fa"])).get_reference_length(contig)
    case["bed"].write_text(f"track name=panel\n{contig}\t20\t160\tALK\n{contig}\t100\t{end}\tX\n")
    args = ["ngs", "call", case["tumour"], "--regions", case["bed"], "--reference", case["fa"]]
    line = _one_line(cli([*args, "-f", "json"]), "alk.bed")
    assert "line 3" in line
    assert f"ends beyond {contig} ({size} bp in the reference FASTA" in line


def test_synergy_map_with_a_header_and_no_wells(cli, tmp_path: Path) -> None:
    """Found by a 14,988-input chunk (seed 20261208): a checkerboard map cut after its header
    reached the plate join without columns (KeyError 'plate', exit 1)."""
    plate, mapping = _checkerboard(tmp_path)
    header_only = tmp_path / "試料-1.csv"
    header_only.write_text(mapping.read_text().splitlines()[0] + "\n", encoding="utf-8")
    line = _one_line(cli(["synergy", "score", plate, "--map", header_only, "-f", "json"]),
                     "試料-1.csv")  # fmt: skip
    assert "no wells" in line


def test_gr_value_undefined_for_a_well_names_its_line(cli, tmp_path: Path) -> None:
    """Found by the same chunk: a zero count in a well whose control shrank below the
    time-zero count gives GR = +inf; the bounded GRmetrics refit then failed ("Residuals are
    not finite", exit 1). The well is refused, naming the file, line and counts."""
    lines = seeds.dose_gr().strip().splitlines()
    head = lines[0].split(",")
    rows = [ln.split(",") for ln in lines[1:]]
    for row in rows:
        row[head.index("cell_count")] = "0"
    rows[0][head.index("cell_count__ctrl")] = "1e-12"
    table = tmp_path / "gr.csv"
    table.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    line = _one_line(cli(["dose", "gr", "-i", table, "-f", "json"]), "gr.csv", "line 2")
    assert "not finite" in line
    assert "cell_count__ctrl 1e-12" in line


@pytest.mark.parametrize("where", ["first element", "inner element"])
def test_flow_workspace_with_an_undeclared_namespace_prefix(cli, tmp_path: Path, where) -> None:
    """Found by an 8,000-input chunk (seed 20261209): a workspace line moved above the root
    (its ``transforms:`` prefix then undeclared) made lxml's QName raise ValueError (exit 1).
    An undeclared prefix anywhere is refused, naming the file, line and prefix."""
    case = seeds.flow_case(tmp_path)
    lines = case["wsp"].read_text(encoding="utf-8").splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("<transforms:spilloverMatrix"))
    if where == "first element":
        lines = [lines[0], lines[k], *lines[1:k], *lines[k + 1 :]]
        line_no = 2
    else:
        lines[1] = lines[1].replace(
            'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" ', ""
        )
        line_no = k + 1
    bad = tmp_path / "bad.wsp"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = cli(["flow", "gate", case["fcs"], "--gates", bad, "--no-plots", "-f", "json"])
    line = _one_line(res, "bad.wsp", f"line {line_no}")
    assert "'transforms'" in line
    assert "never declared" in line


def test_gr_table_without_a_computable_treated_well(cli, tmp_path: Path) -> None:
    """Found by a 5,989-input chunk (seed 20261211): mutated rows left no well with both a
    positive concentration and a GR value (here: every control count missing, so every GR
    value is empty), and the GR metrics met no experiment (``max()`` of an empty sequence,
    exit 1). Refused, naming the file, the column and the likely cause."""
    lines = seeds.dose_gr().strip().splitlines()
    head = lines[0].split(",")
    rows = [ln.split(",") for ln in lines[1:]]
    for row in rows:
        row[head.index("cell_count__ctrl")] = ""
    table = tmp_path / "gr.csv"
    table.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    line = _one_line(cli(["dose", "gr", "-i", table, "-f", "json"]), "gr.csv")
    assert "no well has both a 'concentration' above 0 and a 'GRvalue'" in line
    assert "missing control or time-zero count" in line


def test_table_cut_inside_its_last_row_is_refused(cli, tmp_path: Path) -> None:
    """A GR table cut inside its last row (a copy interrupted, a truncated download): pandas
    fills the missing cells as if they were empty, so the run exited 0 on the rows that were
    left. The row with fewer cells than the header is refused, naming its line."""
    text = seeds.dose_gr().strip()
    lines = text.splitlines()
    cut = ",".join(lines[-1].split(",")[:3])
    table = tmp_path / "gr.csv"
    table.write_text("\n".join([*lines[:-1], cut]))
    line = _one_line(cli(["dose", "gr", "-i", table, "-f", "json"]), "gr.csv")
    assert f"line {len(lines)}" in line
    assert f"3 cells where the header has {len(lines[0].split(','))}" in line
    assert "cut short" in line


@pytest.mark.parametrize(
    ("text", "line_no"),
    [
        ("dose,resp\n1,10\n2,9\n\n3\n", 5),  # counted delimiters; the blank line is skipped
        ('"dose","resp"\n1,10\n"2",9\n3\n', 4),  # quoted: read with the csv module
        ("dose\tresp\r\n1\t10\r\n2\r\n", 3),  # tab-separated, CRLF
        ("dose,resp\r1,10\r2,9\r3\r", 4),  # old-Mac line ends: read with the csv module
        ('"dose","resp"\r1,10\r2\r', 3),
    ],
)
def test_short_row_of_a_dose_table_names_its_line(cli, tmp_path: Path, text, line_no) -> None:
    table = tmp_path / "doses.csv"
    table.write_text(text, newline="")
    res = cli(["dose", "fit", "--input", table, "--dose-col", "dose", "--response-col", "resp"])
    line = _one_line(res, "doses.csv")
    assert f"line {line_no}" in line
    assert "1 cell where the header has 2" in line


def test_full_rows_and_a_trailing_header_delimiter_are_read(tmp_path: Path) -> None:
    """Rows with every cell (empty ones included) pass; an unnamed last header cell (a
    delimiter after the last name) is not required of the data rows."""
    from kinresist.dose.tables import read_frame

    table = tmp_path / "t.csv"
    table.write_text("dose,resp,note\n1,10,\n2,,x\n")
    assert read_frame(table)["resp"].tolist() == ["10", ""]
    table.write_text("dose,resp,\n1,10\n2,9\n")
    assert read_frame(table)["resp"].tolist() == ["10", "9"]
    table.write_text('dose,resp\n1,"a\nb"\n')
    assert read_frame(table)["resp"].tolist() == ["a\nb"]
    # found by the fuzz chunk of seed 20261213: old-Mac line ends (a lone \r) made the csv
    # module's row count raise csv.Error (exit 1) on tables pandas reads
    table.write_bytes(b'"dose","resp"\r1,10\r2,9\r')
    assert read_frame(table)["resp"].tolist() == ["10", "9"]
