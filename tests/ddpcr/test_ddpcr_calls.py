"""Call rules (docs/ddpcr.md): static/EP17/adaptive LoB cutoffs, indeterminate cases, flags,
LoD never reported as 0 %. Expected values are worked by hand from the stated formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kinresist.ddpcr.calls import CallSettings, call_rows, describe_call
from kinresist.ddpcr.quantify import quantify_counts


def _frame(rows):
    cols = ["well", "sample", "target", "channel", "pp", "pn", "np", "nn"]
    f = pd.DataFrame(rows, columns=cols)
    f["accepted"] = f[["pp", "pn", "np", "nn"]].sum(axis=1)
    f["positives"] = np.where(f["channel"] == 1, f["pp"] + f["pn"], f["pp"] + f["np"])
    return quantify_counts(f, volume_ul=0.00085)


def test_static_rule_and_indeterminate_cases():
    f = _frame(
        [
            (
                "A01",
                "P1",
                "ALK G1202R",
                1,
                0,
                3,
                3000,
                12000,
            ),  # 3 mutant droplets -> detected (k = 3)
            ("B01", "P2", "ALK G1202R", 1, 0, 2, 3000, 12000),  # 2 -> not detected
            ("C01", "P3", "ALK G1202R", 1, 0, 0, 0, 15000),  # no WT template -> indeterminate
            ("D01", "P4", "ALK G1202R", 1, 0, 5, 500, 3000),  # < 5000 droplets -> failed well
        ]
    )
    out = call_rows(f, volume_ul=0.00085)
    assert out["call"].tolist() == ["detected", "not_detected", "indeterminate", "indeterminate"]
    assert "no_reference_template" in out["flags"][2]
    assert {"failed_well", "low_droplets"} <= set(out["flags"][3])
    # LoD for k = 3: Gamma^-1(0.95; 3) copies; as FA over the WT copies analysed
    m = stats.gamma.ppf(0.95, 3)
    wt = -np.log1p(-3000 / 15002) * 15002
    assert out["lod_fa"][1] == pytest.approx(100 * m / (m + wt))
    text = describe_call("not_detected", 0.0, out["lod_fa"][1], out["lod_copies_per_ul"][1])
    assert "LoD" in text
    assert "0 %" not in text


def test_ntc_contamination_downgrades_detected():
    f = _frame(
        [
            ("A01", "P1", "EGFR T790M", 1, 0, 6, 3000, 12000),
            ("H12", "NTC", "EGFR T790M", 1, 0, 4, 0, 15000),
        ]
    )
    out = call_rows(f, volume_ul=0.00085)
    assert out["call"][0] == "indeterminate"
    assert "ntc_contamination" in out["flags"][0]
    assert "ntc_positive" in out["flags"][1]


def test_ep17_nonparametric_cutoff():
    """Blank counts 0,0,0,1,1,2 (6 blanks): rank 0.5 + 5.7 = 6.2 -> LoB = 2 -> k = 3."""
    rows = [
        (f"A0{i + 1}", f"WT{i}", "KRAS G12C", 1, 0, x, 3000, 12000)
        for i, x in enumerate([0, 0, 0, 1, 1, 2])
    ]
    rows.append(("B01", "P1", "KRAS G12C", 1, 0, 3, 3000, 12000))
    f = _frame(rows)
    s = CallSettings(lob_rule="ep17_nonparametric", blank_samples=tuple(f"WT{i}" for i in range(6)))
    out = call_rows(f, volume_ul=0.00085, settings=s)
    assert out["lob_droplets"].iloc[-1] == 3
    assert out["call"].iloc[-1] == "detected"
    assert out["lob_rule"].iloc[-1] == "ep17_nonparametric"


def test_adaptive_rule_with_given_fpr():
    """FPR 1e-3 per molecule; k = binom.ppf(0.999, n, FPR) + 1 with n = mutant + WT molecules."""
    f = _frame([("A01", "P1", "ALK L1196M", 1, 0, 8, 3000, 12000)])
    out = call_rows(f, volume_ul=0.00085, settings=CallSettings(lob_rule="adaptive", fpr=1e-3))
    n = 15008
    mol = -np.log1p(-8 / n) * n - np.log1p(-3000 / n) * n
    assert out["lob_droplets"][0] == stats.binom.ppf(0.999, round(mol), 1e-3) + 1
    assert out["lob_droplets"][0] == 11  # worked: n ~ 3355 molecules, expected 3.35 false positives
    assert out["call"][0] == "not_detected"
