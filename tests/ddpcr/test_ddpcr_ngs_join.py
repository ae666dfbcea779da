"""One patient, two assays, one alteration key: a ddPCR plate and an NGS call set of patient
P001, recorded with one ``--subject`` and their sample labels, are found together by one
``Store.by_alteration("ALK G1202R")`` query (SQLite; PostgreSQL when $KINRESIST_TEST_PG_URL)."""

from __future__ import annotations

import json

import numpy as np
import pysam
import pytest

from kinresist.ddpcr.simulate import simulate_plate, write_plate
from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam


@pytest.fixture
def ddpcr_plate(tmp_path):
    """ALK G1202R duplex ddPCR: cycle 1 plasma 2 % (2 wells), cycle 3 plasma 0 % (2 wells)."""
    plate = simulate_plate(rng=np.random.default_rng(11), n_wells=4, droplets=15000,
                           mutant_fractions=np.array([0.02, 0.02, 0.0, 0.0]))  # fmt: skip
    folder = tmp_path / "plate"
    write_plate(plate, folder)
    res = tmp_path / "plate.csv"
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for w, sample in zip(plate.wells, ["P001-C1", "P001-C1", "P001-C3", "P001-C3"], strict=True):
        lines += [
            f"{w},{sample},Ch1Unknown,ALK_G1202R_FAM,,",
            f"{w},{sample},Ch2Unknown,ALK_WT_HEX,,",
        ]
    res.write_text("\n".join(lines) + "\n")
    return folder, res


@pytest.fixture
def ngs_bam(shared, tmp_path):
    """Synthetic UMI reads on the real hg19 ALK exon 23 slice with 1.5 % G1202R (c.3604G>A)."""
    fa = shared("ngs-data", "anacore-sardine-inca-amplicons-hg19", "inca_hg19_regions.fa")
    contig = "chr2_29443539_29443787"
    seq = pysam.FastaFile(str(fa)).fetch(contig).upper()
    vp = 29443613 - 29443539
    bam = tmp_path / "c1.bam"
    write_synthetic_bam(bam, SyntheticSpec(contig, seq, 2500, read_length=100, family_size=5, variant_pos=vp,
                                           variant_alt="T", variant_fraction=0.015, start_range=(0, vp - 5),
                                           error_rate=0.002), rng=np.random.default_rng(42))  # fmt: skip
    bed = tmp_path / "alk.bed"
    bed.write_text(f"{contig}\t20\t160\tALK_exon23\n")
    return bam, bed, fa


def test_ddpcr_and_ngs_join_by_alteration(cli, store_url, ddpcr_plate, ngs_bam):
    folder, res = ddpcr_plate
    bam, bed, fa = ngs_bam
    store = ["--db", store_url, "--study", "ALK-resistance", "--subject", "P001"]
    r = cli(["ddpcr", "analyze", folder, "--results", res, *store, "--sample-type", "plasma",
             "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = cli(["ngs", "call", bam, "--regions", bed, "--reference", fa, *store, "--sample", "P001-C1",
             "--sample-type", "plasma", "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.stderr
    ngs = json.loads(r.stdout)
    assert [c["alteration"] for c in ngs["calls"] if c["filter"] == "PASS"] == ["G1202R"]

    from kinresist.store import open_store

    with open_store(store_url) as st:
        rows = st.by_alteration("ALK G1202R")
        same = st.by_alteration("ALK p.Gly1202Arg", study="ALK-resistance")
        counts = st.counts()
    assert same == rows
    assert {r["subject"] for r in rows} == {"P001"}
    assert {r["study"] for r in rows} == {"ALK-resistance"}
    assert {r["workflow"] for r in rows} == {"ddpcr.analyze", "ngs.call"}
    assert counts["subject"] == 1
    assert counts["sample"] == 2  # P001-C1 shared by both assays, P001-C3
    by = {(r["workflow"], r["record"], r["sample"], r["quantity"]): r for r in rows}
    ngs_vaf = by[("ngs.call", "measurement", "P001-C1", "vaf")]
    assert ngs_vaf["call"] == "detected"
    assert ngs_vaf["value"] == pytest.approx(1.5, abs=0.8)
    fa_c1 = by[("ddpcr.analyze", "measurement", "P001-C1", "fractional_abundance")]
    assert fa_c1["call"] == "detected"
    assert fa_c1["value"] == pytest.approx(2.0, abs=0.6)
    fa_c3 = by[("ddpcr.analyze", "measurement", "P001-C3", "fractional_abundance")]
    assert fa_c3["call"] == "not_detected"
    assert fa_c3["value"] is None
    assert 0 < fa_c3["lod"] < 1
    findings = {(r["workflow"], r["sample"]) for r in rows if r["record"] == "finding"}
    assert findings == {("ddpcr.analyze", "P001-C1"), ("ngs.call", "P001-C1")}
