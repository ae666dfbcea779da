"""MAF, simple table, fusion and copy-number readers; --db recording; TSV/text/HTML outputs."""

from __future__ import annotations

import json
import re
import xml.dom.minidom
from pathlib import Path

import pytest

MAF = (
    "#version 2.4\n"
    "Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tNCBI_Build\tHGVSp_Short\t"
    "t_alt_count\tt_depth\tTumor_Sample_Barcode\n"
    "ALK\t2\t29443613\tC\tT\tGRCh37\tp.G1202R\t12\t100\tP1\n"
    "ALK\t2\t29220765\tG\tT\tGRCh38\t\t5\t50\tP1\n"
    "TTN\t2\t179000000\tC\tT\tGRCh37\tp.A1V\t5\t50\tP1\n"
)


def _json(res) -> dict:
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def _err(res) -> str:
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert len(res.stderr.strip().splitlines()) == 1
    return res.stderr


def test_maf(cli, tmp_path: Path) -> None:
    p = tmp_path / "s.maf"
    p.write_text(MAF)
    d = _json(cli(["interpret", "--maf", p]))
    alts = {f["alteration"]: f for f in d["findings"]}
    assert set(alts) == {"G1202R", "L1196M"}  # TTN is not a KB gene
    assert alts["G1202R"]["vaf"] == pytest.approx(0.12)
    assert alts["L1196M"]["match_level"] == "exact"  # matched by GRCh38 coordinates
    assert d["sample"] == "P1"


def test_maf_counts_absurd(cli, tmp_path: Path) -> None:
    p = tmp_path / "bad.maf"
    p.write_text(MAF.replace("\t12\t100\t", "\t120\t100\t"))
    assert "line 3" in _err(cli(["interpret", "--maf", p]))


def test_table_fusions_cnv(cli, tmp_path: Path) -> None:
    t = tmp_path / "findings.csv"
    t.write_text("gene,alteration,vaf,copy_number\nALK,p.Gly1202Arg,0.02,\nALK,L1196M,40%,\n")
    fu = tmp_path / "fusions.tsv"
    fu.write_text("partner\tgene\tpartner_exon\tgene_exon\nEML4\tALK\t6\t20\n")
    cn = tmp_path / "cnv.tsv"
    cn.write_text("gene\tlog2\tcall\nMET\t2.5\t\nEGFR\t0.1\t\nKRAS\t-1\tloss\n")
    d = _json(
        cli(
            [
                "interpret",
                "--table",
                t,
                "--fusions",
                fu,
                "--cnv",
                cn,
                "--prior-therapy",
                "alectinib",
            ]
        )
    )
    alts = [(f["gene"], f["alteration"]) for f in d["findings"]]
    assert alts == [
        ("ALK", "G1202R"),
        ("ALK", "L1196M"),
        ("ALK", "EML4-ALK v3a"),
        ("MET", "AMPLIFICATION"),
    ]
    assert d["findings"][3]["copy_number"] == pytest.approx(2 * 2**2.5)
    assert d["classification"] == "heterogeneous"
    assert d["prior_therapy"] == "alectinib"


@pytest.mark.parametrize(
    ("name", "text", "flag"),
    [
        ("t.csv", "gene,alteration,vaf\nALK,G1202R,1.5\n", "--table"),
        ("t2.csv", "gene,alteration\nALK,G1202R,extra\n", "--table"),
        ("t3.csv", "gene,vaf\nALK,0.1\n", "--table"),
        ("f.tsv", "partner\nEML4\n", "--fusions"),
        ("c.tsv", "gene\tcall\nMET\tweird\n", "--cnv"),
    ],
)
def test_table_errors(cli, tmp_path: Path, name: str, text: str, flag: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    assert name in _err(cli(["interpret", flag, p]))


def test_tsv_and_text_formats(cli) -> None:
    res = cli(["interpret", "--finding", "ALK G1202R", "--format", "tsv"])
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert lines[0].startswith("## kind: interpret")
    assert any(ln.startswith("## kb_version:") for ln in lines)
    header = next(ln for ln in lines if not ln.startswith("##")).split("\t")
    assert header[:3] == ["sample", "drug", "call"]
    res = cli(["interpret", "--finding", "ALK G1202R", "--format", "text"])
    assert "Classification: on_target_mutation" in res.stdout


def test_html_report(cli, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = cli(
        [
            "interpret",
            "--finding",
            "EML4-ALK v3",
            "--finding",
            "ALK G1202R vaf=12%",
            "--prior-therapy",
            "alectinib",
            "--html",
            out,
        ]
    )
    assert res.exit_code == 0, res.stderr
    html = out.read_text()
    assert "https://pubmed.ncbi.nlm.nih.gov/" in html
    assert "https://civicdb.org/evidence/" in html
    assert "Research use only" in html
    assert "knowledge base" in html
    svg = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svg) == 1
    xml.dom.minidom.parseString(svg[0])  # well-formed inline SVG
    assert 'id="node-alk" class="hit"' in svg[0]
    assert 'id="node-met" class="node"' in svg[0]
    assert not re.search(r'(src|href)="http(?!s://(pubmed|civicdb))', html)  # self-contained


def test_html_report_multiple_cases(tmp_path: Path) -> None:
    from kinresist.interpret import interpret_findings
    from kinresist.interpret.readers.text import parse_finding
    from kinresist.reports.interpretation import write_interpretation_report

    cases = [
        interpret_findings([parse_finding("ALK L1196M")], prior_therapy="crizotinib", sample="A"),
        interpret_findings(
            [parse_finding("EML4-ALK v3"), parse_finding("ALK G1202R")],
            prior_therapy="alectinib",
            sample="B",
        ),
        interpret_findings(
            [parse_finding("ALK L1198F"), parse_finding("ALK C1156Y")],
            prior_therapy="lorlatinib",
            sample="C",
        ),
    ]
    html = write_interpretation_report(cases, tmp_path / "three.html").read_text()
    assert html.count('<section class="case"') == 3
    assert all(f'id="case-{i}"' in html for i in (1, 2, 3))


def test_db_records_findings_and_run(cli, tmp_path: Path) -> None:
    from kinresist.store import open_store

    db = tmp_path / "k.sqlite"
    res = cli(
        [
            "interpret",
            "--finding",
            "ALK c.3604G>A vaf=0.1",
            "--finding",
            "EML4-ALK v3",
            "--sample",
            "P1-plasma",
            "--sample-type",
            "plasma",
            "--db",
            db,
        ]
    )
    assert res.exit_code == 0, res.stderr
    with open_store(str(db)) as store:
        rows = store.findings(sample_label="P1-plasma")
        assert sorted(r.alteration for r in rows) == ["EML4-ALK v3", "G1202R"]
        runs = store.runs(kind="interpret")
        assert len(runs) == 1
        assert runs[0].kb_version


def test_db_untouched_on_bad_file(cli, tmp_path: Path) -> None:
    from kinresist.store import open_store

    db = tmp_path / "k.sqlite"
    good = cli(["interpret", "--finding", "ALK G1202R", "--sample", "S1", "--db", db])
    assert good.exit_code == 0
    with open_store(str(db)) as store:
        before = store.counts()
    vcf = tmp_path / "bad.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n2\t29443613\t.\tC\tT\t.\tPASS\tAF=0.1\n2\tx\t.\tC\tT\t.\tPASS\t.\n"
    )
    bad = cli(
        [
            "interpret",
            "--vcf",
            vcf,
            "--genome",
            "GRCh37",
            "--finding",
            "ALK L1196M",
            "--sample",
            "S2",
            "--db",
            db,
        ]
    )
    assert bad.exit_code == 2
    with open_store(str(db)) as store:
        assert store.counts() == before
