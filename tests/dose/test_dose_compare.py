"""Fold shift (delta and Fieller CIs), shared-parameter joint fits and the extra-SS F test.

References: the joint fit with no shared parameter must equal independent fits (estimates rtol 1e-6)
and the delta SE of the ratio must equal the independent-fits formula; with shared c, d the joint fit
is checked against a scipy least_squares fit of the same joint model (RSS rtol 1e-9, parameters 1e-5).
The Fieller/delta machinery is checked on ryegrass in test_dose_engine (spec §7.3).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

from kinresist.dose.compare import compare_groups
from kinresist.dose.engine import fit_batch
from kinresist.dose.metrics import ed


def _ll4(x, b, c, d, e):
    with np.errstate(divide="ignore"):
        return c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))


@pytest.fixture
def two_groups():
    rng = np.random.default_rng(3)
    doses = np.repeat([0, 1, 3, 10, 30, 100, 300, 1000, 3000.0], 3)
    y1 = _ll4(doses, 1.2, 5, 100, 50) + rng.normal(0, 4, doses.size)
    y2 = _ll4(doses, 1.0, 5, 100, 600) + rng.normal(0, 4, doses.size)
    x = np.concatenate([doses, doses])
    y = np.concatenate([y1, y2])
    g = ["parental"] * doses.size + ["resistant"] * doses.size
    return x, y, g


def test_separate_joint_equals_independent(two_groups):
    x, y, g = two_groups
    res = compare_groups(x, y, g)
    n = len(x) // 2
    f = fit_batch(np.vstack([x[:n], x[n:]]), np.vstack([y[:n], y[n:]]))
    e = ed(f, 50)
    np.testing.assert_allclose([d["estimate"] for d in res.ed], e.estimate[:, 0], rtol=1e-6)
    u, w = e.estimate[1, 0], e.estimate[0, 0]
    su, sw = e.se[1, 0], e.se[0, 0]
    # jtj covariance of a joint fit uses the pooled s²; rescale the independent SEs to it
    s2_joint = (f.rss.sum()) / (f.df.sum())
    su *= np.sqrt(s2_joint / (f.rss[1] / f.df[1]))
    sw *= np.sqrt(s2_joint / (f.rss[0] / f.df[0]))
    se_r = np.sqrt(su**2 / w**2 + u**2 * sw**2 / w**4)
    r = res.ratios[0]
    np.testing.assert_allclose([r["estimate"], r["se"]], [u / w, se_r], rtol=1e-5)
    assert r["fieller"]["ci_low"] < r["estimate"] < r["fieller"]["ci_high"]
    assert res.f_test.p < 1e-10


def test_shared_bottom_top_vs_scipy(two_groups):
    x, y, g = two_groups
    res = compare_groups(x, y, g, shared=("bottom", "top"))
    gi = np.array([0 if s == "parental" else 1 for s in g])

    def resid(t):
        b = np.where(gi == 0, t[0], t[1])
        le = np.where(gi == 0, t[4], t[5])
        with np.errstate(divide="ignore"):
            return t[2] + (t[3] - t[2]) / (1 + np.exp(b * (np.log(x) - le))) - y

    s = least_squares(
        resid, [1, 1, 5, 100, np.log(50), np.log(600)], method="lm", xtol=1e-15, ftol=1e-15
    )
    np.testing.assert_allclose(res.joint.rss[0], 2 * s.cost, rtol=1e-9)
    np.testing.assert_allclose(res.ed[0]["estimate"], np.exp(s.x[4]), rtol=1e-5)
    np.testing.assert_allclose(res.ed[1]["estimate"], np.exp(s.x[5]), rtol=1e-5)
    assert res.joint.df[0] == len(x) - 6
    d = res.to_dict()
    assert d["f_test"]["df1"] == 2
    assert d["f_test"]["df2"] == len(x) - 6


def test_cli_compare_contract(tmp_path, cli, two_groups):
    x, y, g = two_groups
    path = tmp_path / "two.csv"
    pd.DataFrame({"conc": x, "viab": y, "line": g}).to_csv(path, index=False)
    r = cli(
        [
            "dose",
            "compare",
            "--input",
            path,
            "--dose-col",
            "conc",
            "--response-col",
            "viab",
            "--group-col",
            "line",
            "--shared",
            "bottom,top",
            "--format",
            "json",
        ]
    )
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["groups"] == ["parental", "resistant"]
    for key in ("estimate",):
        assert isinstance(d["ratio"][key], float)
    assert set(d["ratio"]["delta"]) >= {"ci_low", "ci_high"}
    assert set(d["ratio"]["fieller"]) >= {"ci_low", "ci_high"}
    assert set(d["f_test"]) >= {"F", "df1", "df2", "p"}
    assert d["schema_version"]
    assert d["se_method"] == "jtj"
    assert d["summary"][0].startswith("resistant: IC50")
    bad = cli(
        [
            "dose",
            "compare",
            "--input",
            path,
            "--dose-col",
            "conc",
            "--response-col",
            "viab",
            "--group-col",
            "line",
            "--shared",
            "slope",
        ]
    )
    assert bad.exit_code == 2
    assert len(bad.stderr.strip().splitlines()) == 1
