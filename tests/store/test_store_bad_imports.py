"""Bad inputs to ``kinresist interpret --db`` give one clear line, exit 2 and leave the store
untouched, on SQLite and PostgreSQL (issue 2, Done when)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinresist.store import open_store

HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr2,length=242193529>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)
GOOD = HEADER + "chr2\t29220747\t.\tC\tT\t50\tPASS\tAF=0.12\n"  # ALK G1202R, GRCh38

BAD = {
    "truncated": HEADER + "chr2\t29220747\t.\tC\n",
    "no_header": "chr2\t29220747\t.\tC\tT\t50\tPASS\tAF=0.12\n",
    "chrom_naming": HEADER.replace("chr2", "NC_000002.12")
    + "NC_000002.12\t29220747\t.\tC\tT\t50\tPASS\t.\n",
    "wrong_build": HEADER
    + "chr2\t29443613\t.\tC\tT\t50\tPASS\tAF=0.2\n",  # G1202R's GRCh37 position
    "absurd_pos": HEADER + "chr2\t-5\t.\tC\tT\t50\tPASS\t.\n",
    "absurd_allele": HEADER + "chr2\t29220747\t.\tC\tQ\t50\tPASS\t.\n",
    "absurd_vaf": HEADER + "chr2\t29220747\t.\tC\tT\t50\tPASS\tAF=3.5\n",
}


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _interpret(cli, vcf: Path, db: str):
    return cli(
        [
            "interpret",
            "--vcf",
            vcf,
            "--genome",
            "GRCh38",
            "--sample",
            "S1",
            "--db",
            db,
            "--format",
            "json",
        ]
    )


def test_good_vcf_is_stored(cli, tmp_path, store_url) -> None:
    result = _interpret(cli, _write(tmp_path / "good.vcf", GOOD), store_url)
    assert result.exit_code == 0, result.stderr
    with open_store(store_url) as store:
        (finding,) = store.findings(sample_label="S1")
        assert (finding.gene, finding.alteration) == ("ALK", "G1202R")
        assert finding.vaf == pytest.approx(0.12)
        assert store.counts()["analysis_run"] == 1


@pytest.mark.parametrize("case", [*sorted(BAD), "non_utf8"])
def test_bad_vcf_leaves_store_untouched(cli, tmp_path, store_url, case) -> None:
    assert _interpret(cli, _write(tmp_path / "good.vcf", GOOD), store_url).exit_code == 0
    with open_store(store_url) as store:
        before = store.counts()
    text = (
        GOOD.encode() + b"chr2\t29220765\t.\tG\tT\t50\tPASS\tNOTE=caf\xe9\n"
        if case == "non_utf8"
        else BAD[case]
    )
    result = _interpret(cli, _write(tmp_path / f"{case}.vcf", text), store_url)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{case}.vcf" in lines[0]  # names the file
    with open_store(store_url) as store:
        assert store.counts() == before
