"""QuantaSoft-exact arithmetic, recomputed from the counts of every real results file.

Reference: QuantaSoft 1.7.4 / old QuantaSoft / 73-column export values printed in
../shared/ddpcr-data (ddpcr_nipd 25 files, daattali small.csv + quant.csv, twoddpcr KRAScountsQS.csv,
PoDCall Sample_names.csv). Tolerance: a recomputed value agrees when it rounds to the printed value
(half the printed unit; QS 1.7.4 prints 2-3 significant figures) or is within 0.1 % relative.
Scope: wells with >= 100 positive and >= 100 negative droplets (ratio/FA/CNV: every channel);
merged concentrations on every merged row.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kinresist.ddpcr.limits import adaptive_lob, lob_nonparametric, lob_parametric, lod_copies
from kinresist.ddpcr.poisson import concentration, poisson_ci
from kinresist.ddpcr.quantify import merge_wells
from kinresist.ddpcr.read_results import read_results_csv
from kinresist.ddpcr.recompute import recompute_results


def _files(shared):
    d = shared("ddpcr-data")
    files = sorted((d / "ddpcr_nipd" / "data" / "ddpcr_data").glob("*.csv"))
    files += [
        d / "daattali-ddpcr/inst/sample_data/small/small.csv",
        d / "daattali-ddpcr/inst/sample_data/read_quant/quant.csv",
        d / "twoddpcr/converted/KRAScountsQS.csv",
        d / "PoDCall/inst/extdata/Sample_names.csv",
    ]
    return files


def test_every_results_file_recomputes(shared):
    """All rows >= 100/100 agree (conc, 95/68 % CI, ratio/FA/CNV + CI, linkage); merged too."""
    checked = 0
    for f in _files(shared):
        rec = recompute_results(read_results_csv(f))
        for q in (rec.rows, rec.merged):
            big = (q["positives"] >= 100) & (q["accepted"] - q["positives"] >= 100)
            for col in [c for c in q.columns if c.startswith("agree_")]:
                sel = big & q[col].notna()
                if col.startswith(("agree_fa", "agree_ratio", "agree_cnv", "agree_fractional")):
                    sel &= q["ratio_method"] == "delta"
                if rec.layout == "qs_legacy" and col in (
                    "agree_fa_ci95_high",
                    "agree_ratio_ci95_high",
                ):
                    continue  # old QS prints PoissonMax = point estimate (spec §1.4 quirk)
                bad = q.loc[sel & (q[col] == 0), ["well", "channel"]]
                assert bad.empty, f"{f.name} {col}: {bad.to_dict('records')}"
                checked += int(sel.sum())
        merged = rec.merged
        if len(merged):
            ok = merged["agree_copies_per_ul"].dropna()
            assert (ok == 1).all(), f.name
    assert checked > 15000


def test_quant_csv_full_precision(shared):
    """73-column export, float32 precision: A01 FAM 898.375854 [881.254395, 915.750244]; rel 1e-6."""
    rec = recompute_results(
        read_results_csv(
            shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "read_quant", "quant.csv")
        )
    )
    a = rec.rows.iloc[0]
    assert a["copies_per_ul"] == pytest.approx(898.375854, rel=1e-6)
    assert a["ci95_low"] == pytest.approx(881.254395, rel=1e-6)
    assert a["ci95_high"] == pytest.approx(915.750244, rel=1e-6)
    assert a["ci68_low"] == pytest.approx(889.609253, rel=1e-6)
    assert a["fractional_abundance"] == pytest.approx(49.667850, rel=1e-6)
    assert a["cnv_ci95_low"] == pytest.approx(1.920118, rel=1e-5)
    assert a["linkage"] == pytest.approx(13.2807, rel=1e-4)
    assert rec.volume["generation"] == "qs17"


def test_volume_detected_legacy(shared):
    """small.csv back-solves to 0.91 nL (old QuantaSoft); A01 FAM 141 [134, 147]."""
    rec = recompute_results(
        read_results_csv(
            shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "small", "small.csv")
        )
    )
    assert rec.volume["volume_ul"] == 0.00091
    a01 = rec.rows[(rec.rows.well == "A01") & (rec.rows.channel == 1)].iloc[0]
    assert round(a01["copies_per_ul"]) == 141
    assert round(a01["linkage"]) == 140


def test_merged_anchor_20_0109(shared):
    """Spec anchor: M01 HbS pooled 2476/319765 -> 9.14508; m 9.15314, SEM 0.21870; Total [8.72, 9.58]."""
    rec = recompute_results(
        read_results_csv(shared("ddpcr-data", "ddpcr_nipd", "data", "ddpcr_data", "20-0109.csv"))
    )
    m = rec.merged[(rec.merged.well == "M01") & (rec.merged.channel == 1)].iloc[0]
    assert m["copies_per_ul"] == pytest.approx(9.14508, rel=1e-5)
    assert m["mean_of_wells"] == pytest.approx(9.15314, rel=1e-5)
    assert m["sem"] == pytest.approx(0.21870, rel=1e-4)
    assert round(m["total95_low"], 2) == 8.72
    assert round(m["total95_high"], 2) == 9.58


def test_zero_positive_bounds():
    """P = 0: [0, 2.996/(N V)] at 95 % (= QuantaSoft), N = 20414 -> 0.17 copies/µL."""
    lo, hi = poisson_ci(0, 20414, 0.00085)
    assert lo[()] == 0
    assert hi[()] == pytest.approx(-np.log(0.05) / (20414 * 0.00085), rel=1e-9)
    assert round(float(hi), 2) == 0.17


def test_low_count_clopper_pearson():
    """P = 5 of 15000: Clopper-Pearson on p, transformed; reference = scipy binomtest exact CI."""
    lo, hi = poisson_ci(5, 15000, 0.00085)
    ci = stats.binomtest(5, 15000).proportion_ci(0.95, method="exact")
    assert float(lo) == pytest.approx(-np.log1p(-ci.low) / 0.00085, rel=1e-9)
    assert float(hi) == pytest.approx(-np.log1p(-ci.high) / 0.00085, rel=1e-9)


def test_quantasoft_compat_table(shared):
    """compat mode: P = 1, N = 15447 (19-3581 G01 ZFY) -> QS 0.08 [0, 0.36], 68 % [0.02, 0.19]."""
    table = shared("ddpcr-data", "derived", "quantasoft_lowcount_ci_empirical.csv")
    lo, hi = poisson_ci(1, 15447, 0.00085, method="quantasoft_compat", table_path=table)
    assert round(float(hi), 2) == 0.36
    assert float(lo) < 0.01
    lo68, hi68 = poisson_ci(
        1, 15447, 0.00085, level=0.68, method="quantasoft_compat", table_path=table
    )
    assert round(float(lo68), 2) == 0.02
    assert round(float(hi68), 2) == 0.19
    assert round(float(concentration(1, 15447, 0.00085)), 2) == 0.08


def test_merge_wells_uses_z_not_t():
    """Total CI = min/max(Poisson, mean -/+ 1.96 SEM) with z even for k = 2."""
    res = merge_wells(np.array([100, 300]), np.array([20000, 20000]), volume_ul=0.00085)
    c = concentration(np.array([100, 300]), 20000, 0.00085)
    sem = c.std(ddof=1) / np.sqrt(2)
    assert res["total95_low"] == pytest.approx(min(res["ci95_low"], c.mean() - 1.96 * sem))
    assert res["total95_high"] == pytest.approx(max(res["ci95_high"], c.mean() + 1.96 * sem))


def test_limits():
    """EP17 (Armbruster & Pry 2008) and the Poisson floor: k = 1 needs 2.996 copies."""
    assert lob_nonparametric(np.arange(1, 61)) == pytest.approx(57.5)  # rank 0.5 + 57 = 57.5
    v = np.array([0, 1, 0, 2, 1, 0, 0, 3, 1, 0])
    assert lob_parametric(v, n_samples=1) == pytest.approx(
        v.mean() + 1.645 / (1 - 1 / 36) * v.std(ddof=1)
    )
    assert float(lod_copies(1)) == pytest.approx(2.9957, rel=1e-4)
    k = adaptive_lob([3000], 1e-4)[0]
    assert stats.binom.cdf(k - 1, 3000, 1e-4) >= 0.999 > stats.binom.cdf(k - 2, 3000, 1e-4)


def test_low_count_rows_documented_method(shared):
    """Low-count rows (P < 100, ddpcr_nipd): default = exact method (named per row), P = 0 upper
    equals QuantaSoft's 2.996/(N V) at printed precision; ``quantasoft_compat`` (empirical table)
    reproduces >= 99 % of QuantaSoft's printed low-count bounds (95 % and 68 %)."""
    import warnings

    from kinresist.errors import LowCountWarning

    table = shared("ddpcr-data", "derived", "quantasoft_lowcount_ci_empirical.csv")
    n_ok = n_all = zero_checked = 0
    for f in sorted(shared("ddpcr-data", "ddpcr_nipd", "data", "ddpcr_data").glob("*.csv")):
        t = read_results_csv(f)
        exact = recompute_results(t).rows
        low = (exact["positives"] < 100) & (exact["accepted"] - exact["positives"] >= 100)
        assert set(exact.loc[low, "ci_method"]) <= {"clopper_pearson", "one_sided_exact"}
        zero = low & (exact["positives"] == 0) & exact["qs_poisson_max"].notna()
        assert (exact.loc[zero, "agree_ci95_high"] == 1).all(), f.name
        zero_checked += int(zero.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LowCountWarning)
            compat = recompute_results(t, method="quantasoft_compat", table_path=table).rows
        for c in ("agree_ci95_low", "agree_ci95_high", "agree_ci68_low", "agree_ci68_high"):
            sel = low & compat[c].notna()
            n_ok += int((compat.loc[sel, c] == 1).sum())
            n_all += int(sel.sum())
    assert zero_checked > 100
    assert n_all > 2000
    assert n_ok / n_all >= 0.99, (n_ok, n_all)


def test_volume_mismatch_flagged(shared):
    """Forcing 0.85 nL on an old-QuantaSoft (0.91 nL) file is flagged; concentrations then differ."""
    t = read_results_csv(
        shared("ddpcr-data", "daattali-ddpcr", "inst", "sample_data", "small", "small.csv")
    )
    rec = recompute_results(t, volume_ul="qs17")
    assert rec.volume["volume_mismatch"] is True
    assert (rec.rows["agree_copies_per_ul"].dropna() == 0).any()
