"""Screen-scale paths stay linear and keep their numbers.

References: the per-curve definitions the vectorised code replaced — the pandas
group-by lack-of-fit test (drc ``modelFit``), ``scipy.stats.t.ppf`` / ``scipy.stats.f.sf``,
and Simpson's rule on 201 log-spaced points for the normalised AUC (now exact for LL.4: the
antiderivative of the logistic). Tolerances: exact where the arithmetic is the same, 1e-12
relative for reordered sums, 1e-8 relative for Simpson vs the exact integral on smooth curves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.integrate import simpson

from kinresist.dose import metrics as M
from kinresist.dose.engine import FLAG_BITS, fit_batch
from kinresist.dose.fit import fit_curves


def _curves(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = np.tile(np.repeat([0, 0.01, 0.1, 1, 10.0], 3), (n, 1))
    d = d[:, rng.permutation(d.shape[1])]
    b = rng.uniform(0.7, 3, (n, 1))
    e = 10 ** rng.uniform(-1.5, 0.5, (n, 1))
    with np.errstate(divide="ignore"):
        y = 0.1 + 0.9 / (1 + (d / e) ** b) + rng.normal(0, 0.05, d.shape)
    y[rng.random(y.shape) < 0.15] = np.nan
    return d, y


def test_status_and_flags_are_computed_once() -> None:
    """BatchFit.status / .flags were properties rebuilding the whole list on every access
    (quadratic in fit_curves.to_records): now cached, and equal to the bitmask reading."""
    x, y = _curves(500)
    f = fit_batch(x, y)
    assert f.status is f.status
    assert f.flags is f.flags
    for b, st, fl in zip(f.flag_bits, f.status, f.flags, strict=True):
        assert set(fl) == {nm for nm, bit in FLAG_BITS.items() if b & bit}
        if b & (FLAG_BITS["not_converged"] | FLAG_BITS["too_few_points"]):
            assert st == "not_converged"
        elif b & FLAG_BITS["non_identifiable"]:
            assert st == "non_identifiable"
        else:
            assert st == ("flagged" if b else "ok")


def test_to_records_is_linear_in_groups() -> None:
    """to_records reads status/flags once: the records of 20,000 curves equal the fit's."""
    x, y = _curves(20000, seed=2)
    frame = pd.DataFrame(
        {
            "group": np.repeat([f"g{i}" for i in range(len(x))], x.shape[1]),
            "dose": x.ravel(),
            "response": y.ravel(),
        }
    ).dropna()
    fits = fit_curves(frame)
    recs = fits.to_records()
    assert len(recs) == 20000
    assert [r["status"] for r in recs] == fits.fit.status
    assert [tuple(r["flags"]) for r in recs] == fits.fit.flags


def test_lack_of_fit_equals_groupby_reference() -> None:
    """Vectorised one-way-ANOVA lack of fit = the per-(curve, dose) pandas group-by, on
    ragged curves with replicates and missing points (F, df and p to 1e-12)."""
    x, y = _curves(300, seed=3)
    f = fit_batch(x, y)
    got = M.lack_of_fit(f, x, y)
    ok = np.isfinite(x) & np.isfinite(y)
    rows, cols = np.nonzero(ok)
    frame = pd.DataFrame({"curve": rows, "dose": x[rows, cols], "y": y[rows, cols]})
    frame["dev2"] = (frame["y"] - frame.groupby(["curve", "dose"])["y"].transform("mean")) ** 2
    per = frame.groupby("curve").agg(rss_a=("dev2", "sum"), n=("y", "size"))
    per["groups"] = frame.groupby("curve")["dose"].nunique()
    df_a = np.where(per["n"] - per["groups"] > 0, per["n"] - per["groups"], np.nan)
    ref = M.f_test(f.rss, f.df, per["rss_a"].to_numpy(), df_a)
    np.testing.assert_allclose(got.df2, ref.df2, equal_nan=True)
    np.testing.assert_allclose(got.p, ref.p, rtol=1e-9, equal_nan=True)


def test_lack_of_fit_same_with_doses_ascending_or_shuffled() -> None:
    """The no-sort path (every curve's doses already ascending) and the sorting path give the
    same F, df and p, bit for bit, on replicated, ragged curves: the columns are shuffled
    with the replicates of a dose kept in their order, which the stable sort restores."""
    x, y = _curves(300, seed=7)
    key = np.where(np.isfinite(x) & np.isfinite(y), x, np.inf)
    order = np.argsort(key, axis=1, kind="stable")
    xa, ya = np.take_along_axis(x, order, axis=1), np.take_along_axis(y, order, axis=1)
    ka = np.take_along_axis(key, order, axis=1)
    rng = np.random.default_rng(7)
    xs, ys = np.empty_like(xa), np.empty_like(ya)
    for r in range(len(xa)):
        pos = rng.permutation(xa.shape[1])
        for k in np.unique(ka[r]):  # a dose's replicates keep their relative order
            members = np.flatnonzero(ka[r] == k)
            pos[members] = np.sort(pos[members])
        xs[r, pos], ys[r, pos] = xa[r], ya[r]
    assert not np.array_equal(xs, xa)
    f = fit_batch(xa, ya)
    ascending, shuffled = M.lack_of_fit(f, xa, ya), M.lack_of_fit(f, xs, ys)
    assert np.isfinite(ascending.p).sum() > 100  # replicated doses: the test has work to do
    for name in ("F", "df1", "df2", "p"):
        np.testing.assert_array_equal(getattr(ascending, name), getattr(shuffled, name))
    # no replicated dose at all (a screen's design): the shortcut equals the full computation
    x1 = np.tile(10.0 ** np.arange(8, dtype=float), (len(x), 1))
    y1 = np.where(np.isfinite(y[:, :8]), y[:, :8], 0.5)
    y1[:5, 6:] = np.nan  # a few shorter curves (missing points at the high end)
    assert (np.where(np.isfinite(y1), x1, np.inf)[:, 1:] >= x1[:, :-1]).all()  # the shortcut
    f1 = fit_batch(x1, y1)
    plain = M.lack_of_fit(f1, x1, y1)
    full = M.lack_of_fit(f1, x1[:, ::-1], y1[:, ::-1])  # descending: the sorting path
    assert np.isnan(plain.p).all()
    for name in ("F", "df1", "df2", "p"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(full, name))


def test_t_and_f_from_scipy_special_equal_scipy_stats() -> None:
    x, y = _curves(50, seed=4)
    f = fit_batch(x, y)
    df = f.df.astype(float)
    np.testing.assert_array_equal(
        f.t_quantile(0.95), np.where(df > 0, stats.t.ppf(0.975, np.maximum(df, 1)), np.nan)
    )
    ft = M.f_test(np.array([2.0, 3.0]), np.array([10, 12]), np.array([1.0, 1.5]), np.array([7, 9]))
    np.testing.assert_allclose(ft.p, stats.f.sf(ft.F, ft.df1, ft.df2), rtol=1e-14)


def test_auc_exact_for_ll4_and_simpson_otherwise() -> None:
    """LL.4: exact mean over log dose, within 1e-8 of Simpson-201 on smooth curves; W1.4 keeps
    Simpson's rule (no closed form), equal to scipy's simpson to 1e-12."""
    x, y = _curves(200, seed=5)
    for model, tol in (("LL.4", 1e-8), ("W1.4", 1e-12)):
        f = fit_batch(x, y, model=model)
        auc = M.auc_metrics(f)["auc"]
        lo, hi = np.log10(f.dose_min), np.log10(f.dose_max)
        grid = np.linspace(0, 1, 201)
        with np.errstate(all="ignore"):
            ref = simpson(
                f.predict(10.0 ** (lo[:, None] + (hi - lo)[:, None] * grid)), x=grid, axis=1
            )
        smooth = f.params[:, 0] < 5
        np.testing.assert_allclose(auc[smooth], ref[smooth], rtol=tol)


def test_unique_small_equals_numpy_unique() -> None:
    """The counting path (small non-negative ints: df, flag bits) and the fallback (floats,
    negative or large values) both return what ``np.unique(..., return_inverse=True)`` does."""
    from kinresist.dose.batchfit import unique_small

    rng = np.random.default_rng(5)
    cases = [
        rng.integers(0, 9, 1000),
        rng.integers(0, 1 << 10, 5000).astype(np.int32),
        rng.integers(-3, 5, 100),
        rng.integers(0, 1 << 40, 100),
        rng.integers(0, 9, 50).astype(float),
        np.array([7], dtype=np.int64),
        np.array([], dtype=np.int64),
    ]
    for a in cases:
        u, inv = unique_small(a)
        ru, rinv = np.unique(a, return_inverse=True)
        np.testing.assert_array_equal(u, ru)
        assert u.dtype == ru.dtype
        np.testing.assert_array_equal(inv, rinv.reshape(-1))
