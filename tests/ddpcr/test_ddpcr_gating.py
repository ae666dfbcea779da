"""Automatic gating vs QuantaSoft's own cluster labels, BRAF truth calls, QX600 parsing.

References: QuantaSoft Cluster columns of twoddpcr KRAS (12 wells, v1.7.4) and daattali BRAF
`small` (5 wells, old QS); required agreement >= 99 % of droplets per well. The 32-well BRAF
plate (daattali `large`, sample names carry MT/WT truth) must be called correctly per sample.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from kinresist.ddpcr.analyze import analyze_plate, gating_agreement
from kinresist.ddpcr.calls import CallSettings
from kinresist.ddpcr.gating import gate_plate
from kinresist.ddpcr.plate import WellDroplets, plate_from_wells
from kinresist.ddpcr.read_amplitude import load_plate
from kinresist.ddpcr.read_qx600 import read_qx_cluster_data, two_target_counts


def test_kras_agreement(shared):
    plate = load_plate(shared("ddpcr-data", "twoddpcr", "converted"))
    agree = gating_agreement(plate, gate_plate(plate))
    assert len(agree) == 12
    assert (agree["agreement"] >= 0.99).all(), agree


def test_braf_small_agreement(shared):
    plate = load_plate(shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "small"))
    agree = gating_agreement(plate, gate_plate(plate))
    assert list(agree["well"]) == ["A01", "C01", "A05", "C05", "F05"]
    assert (agree["agreement"] >= 0.99).all(), agree


def test_manual_thresholds_reproduce_quantasoft(shared):
    """twoddpcr: QS manual thresholds Ch1 6789, Ch2 3000 -> QS counts (E03 NN 6238 PN 273 PP 262 NP 5831)."""
    plate = load_plate(shared("ddpcr-data", "twoddpcr", "converted"))
    g = gate_plate(plate, thresholds={"ch1": 6789, "ch2": 3000})
    i = plate.wells.index("E03")
    assert g.method == "manual"
    assert abs(g.counts[i] - np.array([6238, 273, 262, 5831])).sum() <= 4


def _large_plate(shared):
    d = shared("ddpcr-data", "daattali-ddpcr", "converted")
    with gzip.open(d / "large_plate_data.csv.gz", "rt") as fh:
        data = pd.read_csv(fh)
    meta = pd.read_csv(d / "large_plate_meta.csv")
    wells = [
        WellDroplets(
            well=w,
            ch1=g["FAM"].to_numpy(float),
            ch2=g["HEX"].to_numpy(float),
            cluster=None,
            source="large",
        )
        for w, g in data.groupby("well", sort=False)
    ]
    return plate_from_wells(wells, name="large"), meta


def test_braf_large_plate_truth_calls(shared):
    """BRAF V600 wild-type-negative assay (mutant = FAM+HEX-): per-sample calls vs truth labels.

    Blanks: leave-one-patient-out - the other WT patients' wells serve as the lab's wild-type-only
    controls for the adaptive binomial LoB (ALPACA rule); all 16 samples must be called correctly.
    """
    plate, meta = _large_plate(shared)
    sample_of = dict(zip(meta["well"], meta["sample"], strict=True))
    wt_samples = sorted({s for s in meta["sample"] if "_WT_" in s})
    a0 = analyze_plate(plate, scheme="wt_negative")
    wells = a0.wells[a0.wells.channel == 1].copy()
    wells["sample"] = wells["well"].map(sample_of)
    from kinresist.ddpcr.analyze import sample_table

    wrong = []
    for sample in sorted(set(meta["sample"])):
        blanks = tuple(s for s in wt_samples if s != sample)
        res = sample_table(
            wells,
            volume_ul=0.00085,
            settings=CallSettings(blank_samples=blanks, lob_rule="adaptive"),
        )
        call = res.loc[res["sample"] == sample, "call"].iloc[0]
        truth = "detected" if "_MT_" in sample else "not_detected"
        if call != truth:
            wrong.append((sample, call))
    assert not wrong, wrong


def test_qx600_cluster_exports(shared):
    """QX Manager Cluster Data: 4/5-plex, trailing commas, second section ignored; Σ Count per well."""
    for f in sorted(shared("ddpcr-data", "Q4ddPCR-QX600", "data").rglob("*.csv")):
        c = read_qx_cluster_data(f)
        assert {"well", "count", "target_1", "target_4", "ch6_stddev"} <= set(c.columns)
        t = two_target_counts(c)
        assert (t[["pp", "pn", "np", "nn"]].sum(axis=1) == t["accepted"]).all()
        assert (t["accepted"] > 5000).all()
    c = read_qx_cluster_data(
        shared("ddpcr-data", "Q4ddPCR-QX600", "data", "Data2", "ClusterData.csv")
    )
    a11 = c[c.well == "A11"]
    assert a11["count"].iloc[0] == 13996


def test_twoddpcr_plate_summary_from_clusters(shared):
    """Counting QuantaSoft's Cluster column reproduces twoddpcr plateSummary(cMethod="Cluster")
    (KRAScounts.csv): PP/PN/NP/NN exactly, Mt/Wt concentrations (0.85 nL) to 1e-3 relative."""
    from kinresist.ddpcr.poisson import concentration

    d = shared("ddpcr-data", "twoddpcr", "converted")
    plate = load_plate(d)
    ref = pd.read_csv(d / "KRAScounts.csv", index_col=0)
    qs = np.bincount(
        plate.well_index.astype(np.int64) * 5 + plate.cluster, minlength=len(plate.wells) * 5
    )
    qs = qs.reshape(-1, 5)
    for i, w in enumerate(plate.wells):
        nn, pn, pp, np_ = qs[i, 1:]
        r = ref.loc[w]
        assert [pp, pn, np_, nn] == [r.PP, r.PN, r.NP, r.NN]
        n = nn + pn + pp + np_
        assert float(concentration(pp + pn, n, 0.00085)) == pytest.approx(
            r.MtConcentration, rel=1e-3
        )
        assert float(concentration(pp + np_, n, 0.00085)) == pytest.approx(
            r.WtConcentration, rel=1e-3
        )


def test_definetherain_dilution_and_ntc(shared):
    """Simplex albumin 10-fold dilutions (QX100): automatic gating gives ~10x steps between the
    10^5..10^2 levels (each step within 5-15x) and NTC wells (A11-D11) at most 1 positive droplet."""
    plate = load_plate(shared("ddpcr-data", "definetherain", "data", "Albumin"))
    a = analyze_plate(plate)
    conc: dict[str, list[float]] = {}
    for src, (_, row) in zip(plate.sources, a.wells.iterrows(), strict=True):
        conc.setdefault(src.split("/")[-2], []).append(row["copies_per_ul"])
    means = [np.mean(conc[f"Alb 10e{k}"]) for k in (5, 4, 3, 2)]
    steps = np.array(means[:-1]) / np.array(means[1:])
    assert ((steps > 5) & (steps < 15)).all(), steps
    ntc = a.wells[a.wells.well.isin(["A11", "B11", "C11", "D11"])]
    assert ntc["positives"].max() <= 1


def test_plots_shuffle_sorted_droplets(shared):
    """QuantaSoft writes droplets sorted by Ch1: the scatter subsample must span the range."""
    from kinresist.ddpcr.plots import amplitude_1d, plate_heatmap, well_scatter

    plate = load_plate(shared("ddpcr-data", "twoddpcr", "converted"))
    g = gate_plate(plate)
    fig = well_scatter(plate, g, "E03", max_points=500)
    offsets = np.concatenate([c.get_offsets()[:, 0] for c in fig.axes[0].collections])
    s = plate.well_slice("E03")
    assert offsets.max() > np.percentile(plate.ch1[s], 99)
    assert amplitude_1d(plate, g).axes
    assert plate_heatmap(list(plate.wells), list(g.counts[:, 1].astype(float))).axes
