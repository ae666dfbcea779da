"""Kaplan-Meier CIs under each transform against an independent Greenwood computation.

The reference below is written from the textbook formulas (Klein & Moeschberger §4.3; spec §2),
looping patient by patient rather than over ``np.unique`` blocks:

    S(t) = prod_{t_i <= t} (1 - d_i / n_i),  sigma^2(t) = sum d_i / (n_i (n_i - d_i))
    plain:   S ± z·S·sigma (clipped to [0, 1])
    log:     S·exp(± z·sigma) (upper capped at 1; R survfit's default)
    log-log: S^exp(± z·sigma / ln S) (lifelines/SAS default)

Tolerance 1e-12 (same arithmetic, different order). Median rules checked against R's documented
behaviour: ``survfit(Surv(1:4) ~ 1)`` has median 2.5 (flat at exactly 0.5: midpoint to the next
drop); a curve that never reaches 0.5 has median NA ("NR").
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kinresist.clinical.survival import kaplan_meier, nice_times, reverse_kaplan_meier


def _reference(time, event, conf_type, alpha=0.05):
    z = stats.norm.ppf(1 - alpha / 2)
    pairs = sorted(zip(time, event, strict=True))
    n_left = len(pairs)
    s = 1.0
    var = 0.0
    out = {}
    i = 0
    while i < len(pairs):
        t = pairs[i][0]
        d = c = 0
        while i < len(pairs) and pairs[i][0] == t:
            if pairs[i][1]:
                d += 1
            else:
                c += 1
            i += 1
        if d:
            s *= 1 - d / n_left
            var = var + d / (n_left * (n_left - d)) if n_left > d else math.inf
        sig = math.sqrt(var)
        if s == 0:
            lo = hi = math.nan
        elif sig == 0:
            lo = hi = s
        elif conf_type == "plain":
            lo, hi = max(0.0, s - z * s * sig), min(1.0, s + z * s * sig)
        elif conf_type == "log":
            lo, hi = s * math.exp(-z * sig), min(1.0, s * math.exp(z * sig))
        else:
            lo = s ** math.exp(-z * sig / math.log(s))
            hi = s ** math.exp(z * sig / math.log(s))
        out[t] = (s, lo, hi)
        n_left -= d + c
    return out


def _data(rng):
    t = np.round(rng.exponential(10, 60), 0) + 1  # rounded: many ties
    e = (rng.random(60) < 0.7).astype(int)
    return t, e


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_pointwise_band_matches_greenwood(conf_type, alpha):
    rng = np.random.default_rng(20261206)
    t, e = _data(rng)
    km = kaplan_meier(t, e, conf_type=conf_type, alpha=alpha)
    curve = km.curves[0]
    ref = _reference(t, e, conf_type, alpha)
    assert list(curve.time) == sorted(ref)
    expected = np.array([ref[v] for v in curve.time])
    np.testing.assert_allclose(curve.surv, expected[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.lower, expected[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.upper, expected[:, 2], rtol=0, atol=1e-12)


@pytest.mark.parametrize("conf_type", ["log", "log-log", "plain"])
def test_lung_bands_match_greenwood(lung, conf_type):
    km = kaplan_meier(lung["time"], lung["status"], group=lung["sex"], conf_type=conf_type)
    for sex in (1, 2):
        m = lung["sex"] == sex
        ref = _reference(lung["time"][m].tolist(), lung["status"][m].tolist(), conf_type)
        c = km[str(sex)]
        exp = np.array([ref[v] for v in c.time])
        np.testing.assert_allclose(c.lower, exp[:, 1], atol=1e-12)
        np.testing.assert_allclose(c.upper, exp[:, 2], atol=1e-12)


def test_median_flat_at_half_uses_midpoint():
    km = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert km.curves[0].median().estimate == 2.5


def test_median_not_reached_is_nr():
    t = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    e = [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    m = kaplan_meier(t, e).curves[0].median()
    assert m.estimate is None
    assert m.upper is None
    assert m.to_dict() == {"median": "NR", "median_ci": [m.to_dict()["median_ci"][0], "NR"]}
    assert m.text().startswith("NR (")


def test_median_ci_follows_transform():
    """Different transforms give different median CIs (lifelines #861): lung, log vs log-log."""
    from lifelines.datasets import load_lung

    d = load_lung()
    m = d["sex"] == 1
    log = kaplan_meier(d["time"][m], d["status"][m]).curves[0].median()
    loglog = kaplan_meier(d["time"][m], d["status"][m], conf_type="log-log").curves[0].median()
    assert (log.lower, log.upper) == (212.0, 310.0)
    assert (loglog.lower, loglog.upper) == (210.0, 306.0)


def test_landmarks_and_risk_table():
    t = np.array([2, 3, 3, 5, 8, 8, 9, 12, 15, 20], dtype=float)
    e = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1, 0])
    km = kaplan_meier(t, e)
    c = km.curves[0]
    lm = c.at([0, 3, 10, 20, 25]).set_index("time")
    ref = _reference(t, e, "log")
    assert lm.loc[0, "surv"] == 1.0
    assert lm.loc[0, "n_risk"] == 10
    assert lm.loc[3, "surv"] == pytest.approx(ref[3.0][0], abs=1e-14)
    assert lm.loc[10, "surv"] == pytest.approx(ref[9.0][0], abs=1e-14)
    assert lm.loc[10, "n_risk"] == 3  # times 12, 15, 20 are >= 10
    assert lm.loc[20, "estimable"]
    assert not lm.loc[25, "estimable"]
    assert math.isnan(lm.loc[25, "surv"])
    risk = km.risk_table([0, 5, 10, 15])
    assert risk.iloc[0, 1:].tolist() == [10, 7, 3, 2]


def test_reverse_km_follow_up():
    """Reverse KM = KM with censoring as the event (R: survfit(Surv(time, 1 - status) ~ 1))."""
    t = np.array([2, 3, 3, 5, 8, 8, 9, 12, 15, 20], dtype=float)
    e = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1, 0])
    rev = reverse_kaplan_meier(t, e).curves[0]
    direct = kaplan_meier(t, 1 - e).curves[0]
    np.testing.assert_array_equal(rev.surv, direct.surv)
    # censorings at 3 (8/9), 8 (5/6), 12 (2/3): S = 0.889, 0.741, 0.494 -> median 12
    assert rev.median().estimate == direct.median().estimate == 12.0


def test_nice_times():
    assert nice_times(1022) == [0, 200, 400, 600, 800, 1000]
    assert nice_times(37.5) == [0, 10, 20, 30]
