"""``kinresist interpret`` CLI: JSON contract, VCF coordinates in both builds, bad input.

Coordinates are VERIFIED (spec section 4: GRCh37 2:29443613 C>T and GRCh38 2:29220747
C>T = ALK c.3604G>A p.G1202R; F1174L = c.3522C>A / c.3522C>G / c.3520T>C at GRCh37
29443695 G>T, 29443695 G>C, 29443697 A>G; GRCh38 = GRCh37 - 222,866).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
OFF = -222866


def _vcf(tmp_path: Path, body: str, *, head: str = HEAD, name: str = "calls.vcf") -> Path:
    p = tmp_path / name
    p.write_text(head + body, encoding="utf-8")
    return p


def _json(res) -> dict:
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def _err(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_cli_finding_json_contract(cli) -> None:
    d = _json(cli(["interpret", "--finding", "ALK G1202R", "--format", "json"]))
    assert d["kb_version"]
    assert d["classification"] == "on_target_mutation"
    assert d["findings"] == [d["findings"][0]]
    assert d["findings"][0]["gene"] == "ALK"
    assert d["findings"][0]["alteration"] == "G1202R"
    assert d["findings"][0]["match_level"] == "exact"
    calls = {x["drug"]: x for x in d["drugs"]}
    assert {"crizotinib", "ceritinib", "alectinib", "brigatinib", "lorlatinib"} <= set(calls)
    assert calls["crizotinib"]["call"] == "resistant"
    assert calls["lorlatinib"]["call"] == "sensitive"
    assert all(e.get("pmid") or e.get("civic_eid") for x in d["drugs"] for e in x["evidence"])
    assert d["schema_version"]
    assert "research use" in d["notice"].lower()


def test_cli_multiple_findings_amplification_and_fusion(cli) -> None:
    d = _json(
        cli(
            [
                "interpret",
                "--finding",
                "ALK amplification",
                "--finding",
                "EML4-ALK v3",
                "--finding",
                "MET amp",
            ]
        )
    )
    alts = [f["alteration"] for f in d["findings"]]
    assert alts == ["AMPLIFICATION", "EML4-ALK v3", "AMPLIFICATION"]
    assert d["classification"] == "heterogeneous"


def test_cli_alk_amplification_suggests_a_potent_tki_not_a_higher_crizotinib_dose(cli) -> None:
    """KB 2026.12.2: rule R2's "higher crizotinib dose" had no source (audit) and was dropped;
    on-target amplification points to a more potent 2nd-generation ALK TKI (Gainor 2016,
    PMID 27432227), everywhere the text appears."""
    d = _json(cli(["interpret", "--finding", "ALK amplification"]))
    assert d["classification"] == "on_target_amplification"
    assert "more potent 2nd-generation ALK TKI" in d["suggestion"]
    assert "higher crizotinib dose" not in json.dumps(d).lower()


@pytest.mark.parametrize(
    ("genome", "pos"), [("GRCh37", 29443613), ("GRCh38", 29443613 + OFF), ("hg38", 29220747)]
)
def test_vcf_g1202r_both_builds(cli, tmp_path, genome, pos) -> None:
    vcf = _vcf(tmp_path, f"2\t{pos}\t.\tC\tT\t.\tPASS\tAF=0.12\n")
    d = _json(cli(["interpret", "--vcf", vcf, "--genome", genome, "--format", "json"]))
    f = d["findings"][0]
    assert (f["gene"], f["alteration"], f["match_level"]) == ("ALK", "G1202R", "exact")
    assert f["hgvs_c"] == "c.3604G>A"
    assert f["vaf"] == pytest.approx(0.12)
    assert d["classification"] == "on_target_mutation"


@pytest.mark.parametrize("genome", ["GRCh37", "GRCh38"])
def test_vcf_all_three_f1174l_alleles(cli, tmp_path, genome) -> None:
    shift = 0 if genome == "GRCh37" else OFF
    body = "".join(
        f"chr2\t{p + shift}\t.\t{r}\t{a}\t.\tPASS\t.\n"
        for p, r, a in [(29443695, "G", "T"), (29443695, "G", "C"), (29443697, "A", "G")]
    )
    d = _json(cli(["interpret", "--vcf", _vcf(tmp_path, body), "--genome", genome]))
    assert [f["alteration"] for f in d["findings"]] == ["F1174L"] * 3
    assert sorted(f["hgvs_c"] for f in d["findings"]) == ["c.3520T>C", "c.3522C>A", "c.3522C>G"]
    assert {f["match_level"] for f in d["findings"]} == {"exact"}


def test_vcf_gzip_indel_and_format_ad(cli, tmp_path) -> None:
    head = HEAD.replace("\tINFO\n", "\tINFO\tFORMAT\tTUMOR\n")
    text = head + "2\t29445271\t.\tG\tGCGT\t.\tPASS\t.\tGT:AD\t0/1:90,10\n"
    p = tmp_path / "calls.vcf.gz"
    p.write_bytes(gzip.compress(text.encode()))
    d = _json(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
    f = d["findings"][0]
    assert f["alteration"] == "T1151dup"
    assert f["vaf"] == pytest.approx(0.10)


def test_vcf_indel_shifted_along_repeat_matches(cli, tmp_path) -> None:
    """CGT inserted after the duplicated copy (right-shifted by one repeat unit) is still T1151dup."""
    d = _json(
        cli(
            [
                "interpret",
                "--vcf",
                _vcf(tmp_path, "2\t29445274\t.\tT\tTCGT\t.\tPASS\t.\n"),
                "--genome",
                "GRCh37",
            ]
        )
    )
    assert d["findings"][0]["alteration"] == "T1151dup"


def test_vcf_vep_csq_annotated(cli, tmp_path) -> None:
    head = (
        "##fileformat=VCFv4.2\n"
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        'Format: Allele|Consequence|SYMBOL|Feature|HGVSc|HGVSp|CANONICAL|MANE_SELECT">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    csq = (
        "T|missense_variant|ALK|ENST00000618119.4|ENST00000618119.4:c.2254G>A|ENSP00000482733.1:p.Gly752Arg||,"
        "T|missense_variant|ALK|ENST00000389048.8|ENST00000389048.8:c.3604G>A|ENSP00000373700.3:p.Gly1202Arg|YES|NM_004304.5"
    )
    d = _json(
        cli(
            [
                "interpret",
                "--vcf",
                _vcf(tmp_path, f"2\t29443613\t.\tC\tT\t.\tPASS\tCSQ={csq}\n", head=head),
                "--genome",
                "GRCh37",
            ]
        )
    )
    f = d["findings"][0]
    assert (f["alteration"], f["hgvs_c"], f["match_level"]) == ("G1202R", "c.3604G>A", "exact")


def test_vcf_snpeff_ann_annotated(cli, tmp_path) -> None:
    head = (
        "##fileformat=VCFv4.2\n"
        "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | "
        "Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p'\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    ann = "T|missense_variant|MODERATE|ALK|ALK|transcript|NM_004304.5|protein_coding|23/29|c.3586C>A|p.Leu1196Met"
    d = _json(
        cli(
            [
                "interpret",
                "--vcf",
                _vcf(tmp_path, f"2\t29443631\t.\tG\tT\t.\tPASS\tANN={ann}\n", head=head),
                "--genome",
                "GRCh37",
            ]
        )
    )
    assert d["findings"][0]["alteration"] == "L1196M"


# ------------------------------------------------------------------------------ bad input
def test_vcf_missing_header(cli, tmp_path) -> None:
    p = tmp_path / "trunc.vcf"
    p.write_text("2\t29443613\t.\tC\tT\t.\tPASS\t.\n")
    line = _err(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
    assert "trunc.vcf" in line
    assert "line 1" in line
    assert "fileformat" in line


def test_vcf_missing_chrom_line(cli, tmp_path) -> None:
    p = _vcf(tmp_path, "2\t29443613\t.\tC\tT\t.\tPASS\t.\n", head="##fileformat=VCFv4.2\n")
    line = _err(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
    assert "line 2" in line
    assert "#CHROM" in line


def test_vcf_truncated_record(cli, tmp_path) -> None:
    p = _vcf(tmp_path, "2\t29443613\t.\tC\tT\t.\tPASS\t.\n2\t29443613\t.\tC\n")
    line = _err(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
    assert "line 4" in line
    assert "columns" in line


def test_vcf_header_only_is_refused(cli, tmp_path) -> None:
    """Issue 18 item 5: a header without records is a truncated export or an empty call set,
    not evidence of absence; it used to be classified ``none_found`` (no mechanism)."""
    line = _err(cli(["interpret", "--vcf", _vcf(tmp_path, ""), "--genome", "GRCh37"]))
    assert "no variant records" in line
    assert "calls.vcf" in line


def test_vcf_chr_prefix_accepted_but_unknown_contig_rejected(cli, tmp_path) -> None:
    ok = _json(
        cli(
            [
                "interpret",
                "--vcf",
                _vcf(tmp_path, "chr2\t29443613\t.\tC\tT\t.\tPASS\t.\n"),
                "--genome",
                "GRCh37",
            ]
        )
    )
    assert ok["findings"][0]["alteration"] == "G1202R"
    for contig in ("NC_000002.11", "scaffold_12"):
        p = _vcf(tmp_path, f"{contig}\t29443613\t.\tC\tT\t.\tPASS\t.\n", name=f"{contig}.vcf")
        line = _err(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
        assert contig in line
        assert "line 3" in line
        assert "chr" in line


def test_vcf_wrong_build_by_coordinates(cli, tmp_path) -> None:
    p = _vcf(tmp_path, "2\t29220747\t.\tC\tT\t.\tPASS\t.\n")
    line = _err(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
    assert "looks like GRCh38" in line
    assert "--genome GRCh38" in line


def test_vcf_wrong_build_by_header(cli, tmp_path) -> None:
    head = "##fileformat=VCFv4.2\n##contig=<ID=chr2,length=242193529>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    p = _vcf(tmp_path, "chr2\t1000\t.\tC\tT\t.\tPASS\t.\n", head=head)
    line = _err(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
    assert "looks like GRCh38" in line
    head37 = "##fileformat=VCFv4.2\n##reference=file:///refs/hs37d5.fa\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    p2 = _vcf(tmp_path, "2\t1000\t.\tC\tT\t.\tPASS\t.\n", head=head37, name="b.vcf")
    assert "--genome GRCh37" in _err(cli(["interpret", "--vcf", p2, "--genome", "GRCh38"]))


def test_vcf_non_utf8(cli, tmp_path) -> None:
    p = tmp_path / "latin1.vcf"
    p.write_bytes(HEAD.encode() + b"2\t29443613\tG\xe9ne\tC\tT\t.\tPASS\t.\n")
    line = _err(cli(["interpret", "--vcf", p, "--genome", "GRCh37"]))
    assert "line 3" in line
    assert "UTF-8" in line


@pytest.mark.parametrize(
    ("record", "word"),
    [
        ("2\t-5\t.\tC\tT\t.\tPASS\t.", "POS"),
        ("2\t29443613.5\t.\tC\tT\t.\tPASS\t.", "POS"),
        ("2\t29443613\t.\tC\tZ\t.\tPASS\t.", "ALT"),
        ("2\t29443613\t.\tX1\tT\t.\tPASS\t.", "REF"),
        ("2\t29443613\t.\tC\tT\t.\tPASS\tAF=1.7", "AF"),
    ],
)
def test_vcf_absurd_lines(cli, tmp_path, record, word) -> None:
    line = _err(cli(["interpret", "--vcf", _vcf(tmp_path, record + "\n"), "--genome", "GRCh37"]))
    assert "calls.vcf" in line
    assert "line 3" in line
    assert word in line


def test_vcf_needs_genome(cli, tmp_path) -> None:
    assert "--genome" in _err(cli(["interpret", "--vcf", _vcf(tmp_path, "")]))


@pytest.mark.parametrize("bad", ["ALK", "ALK G1202R vaf=3", "ALK Zork12"])
def test_bad_finding_text(cli, bad) -> None:
    _err(cli(["interpret", "--finding", bad]))


def test_no_input(cli) -> None:
    assert "no findings" in _err(cli(["interpret"]))


def test_vcf_vep_synonymous_and_intronic_are_not_findings(cli, tmp_path) -> None:
    head = (
        "##fileformat=VCFv4.2\n"
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        'Format: Allele|Consequence|SYMBOL|Feature|HGVSc|HGVSp|CANONICAL">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    syn = "A|synonymous_variant|ALK|ENST00000389048.8|ENST00000389048.8:c.3606G>T|ENSP00000373700.3:p.Gly1202%3D|YES"
    intron = "T|intron_variant|ALK|ENST00000389048.8|ENST00000389048.8:c.3645+10G>A||YES"
    body = (
        f"2\t29443611\t.\tC\tA\t.\tPASS\tCSQ={syn}\n2\t29443500\t.\tC\tT\t.\tPASS\tCSQ={intron}\n"
    )
    d = _json(cli(["interpret", "--vcf", _vcf(tmp_path, body, head=head), "--genome", "GRCh37"]))
    assert d["findings"] == []


def test_vcf_unknown_cds_variant_is_not_in_kb(cli, tmp_path) -> None:
    d = _json(
        cli(
            [
                "interpret",
                "--vcf",
                _vcf(tmp_path, "2\t29443612\t.\tG\tC\t.\tPASS\t.\n"),
                "--genome",
                "GRCh37",
            ]
        )
    )
    f = d["findings"][0]
    assert (f["gene"], f["alteration"], f["match_level"]) == ("ALK", "c.3605C>G", "none")
    assert "not in KB" in f["note"]
    assert f["codon"] == 1202
    assert "ALK:G1202R" in f["related_in_kb"]
    assert {x["call"] for x in d["drugs"]} == {"unknown"}
