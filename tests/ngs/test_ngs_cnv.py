"""Copy number (kinresist.ngs.cnv): purity arithmetic, CNVkit reference data, simulated BAMs, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kinresist.errors import InputError
from kinresist.ngs.cnv import (
    CnvParameters,
    TargetCounts,
    call_copy_number,
    copy_number_from_log2,
    expected_log2,
    min_purity_for_copy_number,
)
from kinresist.ngs.cnv_cnvkit import call_copy_number_from_bins, call_copy_number_from_segments
from kinresist.ngs.cnv_io import count_target_molecules, read_cnvkit, read_targets

CNVKIT = ("ngs-data", "cnvkit-tests")
SLICES = ("ngs-data", "anacore-sardine-inca-amplicons-hg19")


def test_purity_arithmetic_matches_spec():
    """ngs.md §6 worked values: CN 3 at 5 % -> +0.036, CN 10 at 5 % -> +0.263, CN 3 at 20 % -> +0.138 (abs 5e-4)."""
    assert expected_log2(3, 0.05) == pytest.approx(0.036, abs=5e-4)
    assert expected_log2(10, 0.05) == pytest.approx(0.263, abs=5e-4)
    assert expected_log2(3, 0.20) == pytest.approx(0.138, abs=5e-4)
    for cn in (0.0, 1.0, 3.0, 7.5, 24.0):
        for p in (0.03, 0.3, 1.0):
            assert copy_number_from_log2(expected_log2(cn, p), p) == pytest.approx(cn, abs=1e-9)
    # CN 5 reaches +0.1 log2 from tumour fraction 2(2^0.1 - 1)/3
    assert min_purity_for_copy_number(5.0, 0.1) == pytest.approx(2 * (2**0.1 - 1) / 3)
    assert min_purity_for_copy_number(2.5, 2.0) is None  # not reachable even at purity 1
    with pytest.raises(InputError):
        copy_number_from_log2(0.5, 0.0)


def test_cnvkit_cnr_met_and_kras_amplified(shared):
    """CNVkit amplicon.cnr (etal/cnvkit test data; SOURCE.md): MET and KRAS amplified, ALK/KIT not gained.

    Reference: CNVkit 0.9.14 gene metrics on this file - MET weighted mean log2 3.565 over
    26 bins (unweighted 3.58), KRAS 2.82 (6 bins), ALK -1.29 (30 bins); tolerance 0.005 on
    the weighted means (same formula, float rounding only).
    """
    kind, bins = read_cnvkit(shared(*CNVKIT, "amplicon.cnr"))
    assert kind == "cnr"
    genes = {g.gene: g for g in call_copy_number_from_bins(bins)}
    met, kras, alk, kit = genes["MET"], genes["KRAS"], genes["ALK"], genes["KIT"]
    assert met.n_targets == 26
    assert kras.n_targets == 6
    assert alk.n_targets == 30
    assert met.log2 == pytest.approx(3.565, abs=0.005)
    assert alk.log2 == pytest.approx(-1.291, abs=0.005)
    assert met.call == "amplification"
    assert met.copy_number == pytest.approx(2 * 2**met.log2)
    assert met.ci_low > 3.0
    assert kras.call == "amplification"
    assert alk.call not in {"gain", "amplification"}
    assert kit.call not in {"gain", "amplification"}
    for g in ("EGFR", "ERBB2"):
        assert genes[g].call not in {
            "gain",
            "amplification",
        }  # +0.3-0.4 with SE ~0.25: not significant


def test_cnvkit_cns_met_copy_number_24(shared):
    """CNVkit amplicon.cns: MET segments (7 probes 2.963, 19 probes 3.813) -> 3.584, CN 24.

    Reference: `cnvkit.py call -m threshold` on the haar segmentation gives MET log2 3.56,
    CN 24 (SOURCE.md); the probe-weighted mean of the shipped .cns segments is 3.584 (abs 1e-3).
    """
    kind, segs = read_cnvkit(shared(*CNVKIT, "amplicon.cns"))
    assert kind == "cns"
    genes = {g.gene: g for g in call_copy_number_from_segments(segs)}
    assert genes["MET"].log2 == pytest.approx(3.584, abs=1e-3)
    assert round(genes["MET"].copy_number) == 24
    assert genes["MET"].call == "amplification"
    assert genes["ALK"].call == "loss"
    assert math.isnan(genes["MET"].z)  # no noise estimate from segments


def test_counts_route_requires_normals_and_matching_targets():
    """Fewer than 3 normals, or a count vector of the wrong length, is an InputError."""
    s = TargetCounts("t", np.full(4, 100.0))
    kw = {
        "genes": ["A", "A", "B", "B"],
        "chroms": ["1"] * 4,
        "starts": [0, 10, 20, 30],
        "ends": [5, 15, 25, 35],
    }
    with pytest.raises(InputError, match="at least 3 normal"):
        call_copy_number(s, [s, s], **kw)
    with pytest.raises(InputError, match="target counts"):
        call_copy_number(s, [s, s, TargetCounts("n", np.ones(3))], **kw)


@pytest.fixture(scope="module")
def sim_cnv(tmp_path_factory):
    """Simulated panel (ALK, MET, KIT, EGFR, ERBB2, KRAS slices): 4 normals, a tumour with
    MET CN 8 and ERBB2 CN 3 at tumour fraction 0.3 (molecule dosage), 400 molecules per site."""
    from kinresist.ngs.simulate import SimParams, SlicePanel, simulate_sample
    from sharedpaths import shared_path

    d = shared_path(*SLICES)
    panel = SlicePanel.load(d / "inca_hg19_regions.fa", d / "inca_hg19_regions.bed")
    contigs = [
        c for c in panel.contigs if panel.genes[c] in {"ALK", "MET", "KIT", "EGFR", "ERBB2", "KRAS"}
    ]
    out = tmp_path_factory.mktemp("cnv")
    bed = panel.write_bed(out / "targets.bed", contigs)
    p = SimParams(depth=400, family_size_mean=2.0)
    normals = [
        simulate_sample(panel, out=out / f"normal{i}.bam", rng=np.random.default_rng(100 + i), params=p,
                        contigs=contigs).bam
        for i in range(4)
    ]  # fmt: skip
    tumour = simulate_sample(panel, out=out / "tumour.bam", rng=np.random.default_rng(5), params=p, contigs=contigs,
                             copy_numbers={"MET": 8, "ERBB2": 3}, tumour_fraction=0.3).bam  # fmt: skip
    return bed, normals, tumour


def _calls(sim_cnv, tf):
    bed, normals, tumour = sim_cnv
    tg = read_targets(bed)
    ns = [TargetCounts(n.name, count_target_molecules(n, tg)) for n in normals]
    t = TargetCounts("tumour", count_target_molecules(tumour, tg))
    res = call_copy_number(t, ns, genes=tg.genes, chroms=tg.chroms, starts=tg.starts, ends=tg.ends,
                           params=CnvParameters(tumour_fraction=tf))  # fmt: skip
    return {g.gene: g for g in res}


def test_simulated_met_amplification_at_30_percent(sim_cnv):
    """MET CN 8 at tumour fraction 0.3: expected log2 log2((0.3*8 + 1.4)/2) = 0.926.

    Tolerance: the estimate within 0.1 log2 of the truth and the CN CI containing 8; the
    neutral genes (ALK, KIT, EGFR, KRAS) are not called gained.
    """
    genes = _calls(sim_cnv, 0.3)
    met = genes["MET"]
    assert met.log2 == pytest.approx(expected_log2(8, 0.3), abs=0.1)
    assert met.call == "amplification"
    assert met.copy_number_ci[0] <= 8 <= met.copy_number_ci[1]
    assert not met.copy_number_is_lower_bound
    for g in ("ALK", "KIT", "EGFR", "KRAS"):
        assert genes[g].call in {"neutral", "indeterminate"}, genes[g]
        assert abs(genes[g].z) < 3
    # ERBB2 CN 3 at 30 % is +0.2 log2 on a single 305-bp target: not an amplification
    assert genes["ERBB2"].call != "amplification"


def test_simulated_low_purity_is_not_assessable(sim_cnv):
    """At a stated 5 % tumour fraction a CN 3 gain is +0.036 log2: neutral genes are 'indeterminate'."""
    genes = _calls(sim_cnv, 0.05)
    assert genes["ALK"].call == "indeterminate"
    assert "not assessable" in genes["ALK"].reason
    assert genes["MET"].call == "amplification"  # a high-level gain stays callable
    assert genes["MET"].min_purity_for_amplification is not None
    assert genes["MET"].min_purity_for_amplification < 0.1
    no_tf = _calls(sim_cnv, None)
    assert no_tf["MET"].copy_number_is_lower_bound
    assert no_tf["MET"].copy_number < genes["MET"].copy_number


def test_cli_cnv_json_contract(cli, shared):
    """`kinresist ngs cnv amplicon.cnr --format json`: genes[] {gene, log2, copy_number, call}, stamped."""
    res = cli(
        [
            "ngs",
            "cnv",
            shared(*CNVKIT, "amplicon.cnr"),
            "--format",
            "json",
            "--genes",
            "MET,ALK,KIT",
        ]
    )
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["schema_version"] == "2.0"
    assert out["workflow"] == "ngs.cnv"
    assert [g["gene"] for g in out["genes"]] == ["ALK", "KIT", "MET"]
    met = next(g for g in out["genes"] if g["gene"] == "MET")
    assert {"gene", "log2", "copy_number", "call"} <= set(met)
    assert met["call"] == "amplification"
    assert {g["call"] for g in out["genes"]} <= {
        "amplification",
        "gain",
        "neutral",
        "loss",
        "indeterminate",
    }


def test_cli_cnv_tsv_and_text(cli, shared, tmp_path):
    """TSV output carries the ## provenance header and one row per gene; text is a table."""
    out = tmp_path / "cnv.tsv"
    res = cli(["ngs", "cnv", shared(*CNVKIT, "amplicon.cns"), "--format", "tsv", "--out", out])
    assert res.exit_code == 0, res.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("## kind: ngs.cnv")
    header = next(ln for ln in lines if not ln.startswith("##")).split("\t")
    assert header[:2] == ["gene", "chrom"]
    assert any(ln.startswith("MET\t") and "\tamplification\t" in ln for ln in lines)
    res = cli(["ngs", "cnv", shared(*CNVKIT, "amplicon.cnr"), "--format", "text", "--genes", "MET"])
    assert res.exit_code == 0
    assert "amplification" in res.stdout


def test_cli_cnv_bad_input(cli, shared, tmp_path):
    """Unknown gene, unsupported file type, BAM without normals: one-line error, exit 2."""
    res = cli(["ngs", "cnv", shared(*CNVKIT, "amplicon.cnr"), "--genes", "NOPE"])
    assert res.exit_code == 2
    assert "NOPE" in res.stderr
    assert "Traceback" not in res.stderr
    bad = tmp_path / "x.txt"
    bad.write_text("hello\n")
    res = cli(["ngs", "cnv", bad])
    assert res.exit_code == 2
    assert "unsupported input" in res.stderr
    bam = tmp_path / "s.bam"
    bam.write_bytes(b"")
    res = cli(["ngs", "cnv", bam, "--targets", shared(*CNVKIT, "amplicon.bed")])
    assert res.exit_code == 2
    assert "--normals" in res.stderr
    malformed = tmp_path / "m.cnr"
    malformed.write_text("chromosome\tstart\tend\tgene\tlog2\nchr1\t1\tx\tA\t0.1\n")
    res = cli(["ngs", "cnv", malformed])
    assert res.exit_code == 2
    assert "line 2" in res.stderr


def test_cli_cnv_bam_route(cli, sim_cnv):
    """BAM + 4 normals through the CLI with --tumour-fraction: MET amplification in JSON."""
    bed, normals, tumour = sim_cnv
    args = ["ngs", "cnv", tumour, "--targets", bed, "--tumour-fraction", "0.3", "--format", "json"]
    for n in normals:
        args += ["--normals", n]
    res = cli(args)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    calls = {g["gene"]: g["call"] for g in out["genes"]}
    assert calls["MET"] == "amplification"
    assert calls["ALK"] in {"neutral", "indeterminate"}
    assert out["tumour_fraction"] == 0.3
    assert len(out["inputs"]) == 6


def test_cli_cnv_interpret_and_store(cli, shared, tmp_path):
    """--interpret hands MET AMPLIFICATION to the engine; --db records, per gene, the log2 ratio
    and copy number keyed '<GENE> amplification', and the MET amplification finding."""
    db = tmp_path / "store.sqlite"
    res = cli(["ngs", "cnv", shared(*CNVKIT, "amplicon.cnr"), "--genes", "MET,ALK", "--interpret",
               "--db", db, "--study", "S", "--subject", "P001", "--sample", "P001-plasma"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert "interpretation" in out
    assert out["interpretation"] is not None
    assert "MET" in json.dumps(out["interpretation"])
    assert "recorded run" in res.stderr
    met = {m["quantity"]: m for m in out["measurements"] if m["alteration"] == "MET amplification"}
    assert set(met) == {"log2_ratio", "copy_number"}
    assert met["copy_number"]["call"] == "detected"
    from kinresist.store import open_store

    with open_store(str(db)) as store:
        counts = store.counts()
        rows = store.by_alteration("MET amplification")
    assert counts["finding"] == 1
    assert counts["measurement"] == 4
    assert {(r["record"], r["subject"], r["sample"]) for r in rows} == {
        ("measurement", "P001", "P001-plasma"),
        ("finding", "P001", "P001-plasma"),
    }
