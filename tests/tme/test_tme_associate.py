"""Biomarker association and the study view.

References:

* Mann-Whitney: R ``wilcox.test`` help example (Hollander & Wolfe 1973, p. 69, permeability
  constants)::

      x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)
      y <- c(1.15, 0.88, 0.90, 0.74, 1.21)
      wilcox.test(x, y, alternative = "greater")   # W = 35, p-value = 0.1272

  two-sided exact p = 2 x 0.1272 (rounded in the printout: atol 1e-4); AUC = W/(10 x 5) = 0.7.
* DeLong variance: an independent double-loop implementation of DeLong, DeLong & Clarke-Pearson
  1988 (structural components V10, V01; S10/m + S01/n) in this file; rtol 1e-12.
* Logistic regression on a binary marker has a closed form: OR = ad/(bc),
  SE(log OR) = sqrt(1/a + 1/b + 1/c + 1/d); rtol 1e-6.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinresist.errors import InputError
from kinresist.tme import (
    associate,
    associate_file,
    associate_study,
    delong_auc,
    responder_mask,
    study_from_store,
    study_view,
    youden,
)

X = np.array([0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46])
Y = np.array([1.15, 0.88, 0.90, 0.74, 1.21])


def _series() -> tuple[pd.Series, pd.Series]:
    marker = pd.Series(np.concatenate([X, Y]))
    resp = pd.Series([1.0] * 10 + [0.0] * 5)
    return marker, resp


def test_mann_whitney_matches_r_wilcox() -> None:
    m, r = _series()
    a = associate(m, r, name="perm")
    assert a.mw_u == 35
    assert a.mw_p == pytest.approx(2 * 0.1272, abs=1e-4)
    assert a.auc == pytest.approx(0.7, rel=1e-12)


def _delong_by_hand(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    m, n = len(pos), len(neg)

    def psi(a: float, b: float) -> float:
        return 1.0 if a > b else (0.5 if a == b else 0.0)

    auc = sum(psi(p, q) for p in pos for q in neg) / (m * n)
    v10 = [sum(psi(p, q) for q in neg) / n for p in pos]
    v01 = [sum(psi(p, q) for p in pos) / m for q in neg]
    s10 = sum((v - auc) ** 2 for v in v10) / (m - 1)
    s01 = sum((v - auc) ** 2 for v in v01) / (n - 1)
    return auc, math.sqrt(s10 / m + s01 / n)


def test_delong_matches_the_definition() -> None:
    rng = np.random.default_rng(4)
    pos = np.round(rng.normal(1.0, 1.0, 23), 1)  # rounding makes ties
    neg = np.round(rng.normal(0.0, 1.0, 17), 1)
    auc, se, lo, hi = delong_auc(pos, neg)
    want_auc, want_se = _delong_by_hand(pos, neg)
    assert auc == pytest.approx(want_auc, rel=1e-12)
    assert se == pytest.approx(want_se, rel=1e-12)
    assert lo == pytest.approx(max(0, auc - 1.959963984540054 * se), rel=1e-9)
    assert hi == pytest.approx(min(1, auc + 1.959963984540054 * se), rel=1e-9)


def test_bootstrap_ci_is_seeded() -> None:
    m, r = _series()
    a1 = associate(m, r, name="x", n_boot=500, rng=np.random.default_rng(1))
    a2 = associate(m, r, name="x", n_boot=500, rng=np.random.default_rng(1))
    assert a1.auc_ci == a2.auc_ci
    assert a1.auc_ci[0] < 0.7 < a1.auc_ci[1]
    assert "bootstrap" in a1.auc_ci_method


def test_logistic_binary_marker_closed_form() -> None:
    # a=responders with marker 1, b=non-responders with marker 1, c, d for marker 0
    a, b, c, d = 8, 3, 4, 9
    marker = pd.Series([1] * a + [1] * b + [0] * c + [0] * d, dtype=float)
    resp = pd.Series([1] * a + [0] * b + [1] * c + [0] * d, dtype=float)
    lg = associate(marker, resp, name="bin").logistic
    assert lg["or_per_unit"] == pytest.approx(a * d / (b * c), rel=1e-6)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert lg["se"] == pytest.approx(se, rel=1e-6)


def test_separation_leaves_the_odds_ratio_unknown() -> None:
    marker = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8])
    resp = pd.Series([0.0, 0, 0, 0, 1, 1, 1, 1])
    a = associate(marker, resp, name="sep")
    assert a.logistic["or_per_unit"] is None
    assert any("separation" in f for f in a.logistic["flags"])
    assert a.auc == 1.0


def test_youden_and_loo() -> None:
    marker = np.array([1, 2, 3, 4, 5, 6, 7, 8.0])
    outcome = np.array([0, 0, 1, 0, 1, 1, 1, 1.0])
    cut, sens, spec = youden(marker, outcome)
    assert (cut, sens, spec) == (5.0, 0.8, 1.0)
    a = associate(pd.Series(marker), pd.Series(outcome), name="m")
    assert a.loo_sensitivity <= a.youden_sensitivity
    assert a.row()["youden_note"].startswith("optimistic")


def test_responder_mask() -> None:
    r = responder_mask(
        pd.Series(["CR", "pr", "SD", "PD", None, "mPR", "mSD"]), ["CR", "PR", "mCR", "mPR"]
    )
    assert r.tolist()[:4] == [1.0, 1.0, 0.0, 0.0]
    assert math.isnan(r.iloc[4])
    assert r.tolist()[5:] == [1.0, 0.0]


def _tumours(n: int = 16, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    resp = np.array(["mPR", "mSD", "mPD", "mCR"] * (n // 4))
    good = np.isin(resp, ["mPR", "mCR"])
    return pd.DataFrame(
        {
            "subject": [f"M{i:02d}" for i in range(n)],
            "cd8_pct_cd45": np.where(good, 20, 8) + rng.normal(0, 4, n),
            "neutrophil_pct_cd45": np.where(good, 10, 25) + rng.normal(0, 5, n),
            "CXCL9": np.where(good, 300, 120) * rng.lognormal(0, 0.3, n),
            "ifng_score": np.where(good, 6, 4.5) + rng.normal(0, 0.6, n),
            "response": resp,
            "ttp": np.where(good, 40, 18) + rng.integers(0, 10, n),
            "progressed": rng.integers(0, 2, n) | ~good,
        }
    )


def test_associate_study_result() -> None:
    view = study_view(_tumours())
    res = associate_study(view, responders=["mCR", "mPR"], time_col="ttp", event_col="progressed")
    table = res.tables["associations"].set_index("biomarker")
    assert list(table.index) == ["cd8_pct_cd45", "neutrophil_pct_cd45", "CXCL9", "ifng_score"]
    assert table.loc["cd8_pct_cd45", "auc"] > 0.5 > table.loc["neutrophil_pct_cd45", "auc"]
    body = res.to_dict()
    assert body["n_responders"] == 8
    km = body["km"]
    assert km["biomarker"] == "neutrophil_pct_cd45"
    assert km["cutoff"] == pytest.approx(float(view["neutrophil_pct_cd45"].median()))
    assert sum(g["n"] for g in km["groups"]) == 16
    assert {f.name for f in res.figures} == {"roc", "by_response", "km"}
    assert list(res.tables["study"].columns[:5]) == [
        "subject", "cd8_pct_cd45", "neutrophil_pct_cd45", "CXCL9", "ifng_score",
    ]  # fmt: skip


def test_bad_input() -> None:
    view = study_view(_tumours())
    with pytest.raises(InputError, match="no response column 'best'"):
        associate_study(view, response_col="best")
    few = view.assign(response=["mPR"] + ["mPD"] * 15)
    with pytest.raises(InputError, match="no biomarker has enough responders"):
        associate_study(few, responders=["mPR"])
    dup = pd.concat([_tumours().iloc[:2], _tumours().iloc[:1]])
    with pytest.raises(InputError, match="subjects must be unique"):
        study_view(dup)


def test_study_from_store(tmp_path: Path) -> None:
    """flow/elisa/gsea results recorded in a store become one study row per tumour."""
    from kinresist.core import Measurement, Provenance, Result, record
    from kinresist.store.api import open_store

    def res(workflow: str, rows: list[Measurement]) -> Result:
        return Result(workflow, "1.0", Provenance.build(parameters={}), measurements=rows)

    db = tmp_path / "s.sqlite"
    tumours = _tumours(8)
    with open_store(str(db)) as store:
        for t in tumours.itertuples(index=False):
            flow = [
                Measurement("flow", "CD8+ T cells", "pct_of_cd45", t.cd8_pct_cd45, "%",
                            subject=t.subject, sample=f"{t.subject}-tum"),
                Measurement("flow", "neutrophils", "pct_of_cd45", t.neutrophil_pct_cd45, "%",
                            subject=t.subject, sample=f"{t.subject}-tum"),
            ]  # fmt: skip
            record(res("flow.gate", flow), store, study="S003", subject_kind="animal")
            elisa = [
                Measurement("elisa", "CXCL9", "concentration", t.CXCL9, "pg/mL",
                            subject=t.subject, sample=f"{t.subject}-lys", call="detected"),
                Measurement("elisa", "CXCL1", "concentration", None, "pg/mL",
                            subject=t.subject, sample=f"{t.subject}-lys", call="not_detected",
                            lod=15.6),
            ]  # fmt: skip
            record(res("elisa.quantify", elisa), store, study="S003", subject_kind="animal")
        wide, notes = study_from_store(store, "S003")
    assert len(wide) == 8
    got = wide.set_index("subject")
    want = tumours.set_index("subject")
    np.testing.assert_allclose(got.loc[want.index, "cd8_pct_cd45"], want["cd8_pct_cd45"])
    np.testing.assert_allclose(got.loc[want.index, "CXCL9"], want["CXCL9"])
    assert got["CXCL1"].isna().all()  # below LLOQ stays missing, never 0
    assert any("below LLOQ" in n for n in notes)
    table = tmp_path / "resp.csv"
    tumours[["subject", "response", "ttp", "progressed"]].to_csv(table, index=False)
    out = associate_file(table, db=str(db), study="S003", responders=["mCR", "mPR"],
                         biomarkers=["cd8_pct_cd45", "neutrophil_pct_cd45"])  # fmt: skip
    assert len(out.tables["associations"]) == 2
