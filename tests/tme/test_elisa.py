"""ELISA standard curves on the dose engine: references, QC rules and bad input.

References (../shared/tme-data/elisa, SOURCE.md):

* Six-standard example of a public nplr tutorial: conc 0.02, 0.15, 0.4, 1, 2, 5; OD 2.45, 2.01,
  1.53, 1.04, 0.769, 0.567. R::

      library(nplr)
      fit <- nplr(x = conc, y = od, npars = 5, useLog = TRUE)   # nplr's own weights
      getEstimates(fit, c(2.01, 1.53, 0.769))                    # 0.1501, 0.3992, 1.9918

  Spec tolerance (invivo-clinical-tme.md §8): within ±2 % (nplr weights residuals, we fit 5PL
  unweighted by default; measured difference 0.1 %). An unweighted 4PL in scipy gives
  0.1513/0.3966/2.0141: same model and objective, so rtol 1e-3 (printed to 4 digits).
* drc ``ryegrass`` (Rdatasets csv/drc/ryegrass.csv)::

      m <- drm(rootl ~ conc, data = ryegrass, fct = LL.4())
      # b 2.98222, c 0.48141, d 7.79296, e 3.05795; residual SE 0.5196256 on 20 df

  estimates rtol 1e-5 (printed to 6 digits), residual SE rtol 1e-6; SEs with V = s²(JᵀJ)⁻¹
  (``jtj``, the engine's default) 0.45842, 0.20951, 0.18973, 0.18583 (dose spec §3), rtol 1e-4.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinresist.elisa import ElisaData, analyze_elisa_file, elisa_result, quantify, read_elisa
from kinresist.errors import InputError
from sharedpaths import shared_path

CONC = [0.02, 0.15, 0.4, 1, 2, 5]
OD = [2.45, 2.01, 1.53, 1.04, 0.769, 0.567]


def _wells(rows: list[dict]) -> ElisaData:
    frame = pd.DataFrame(rows)
    for col, default in (("analyte", "CXCL9"), ("dilution", 1.0), ("subject", None)):
        if col not in frame:
            frame[col] = default
    if "concentration" not in frame:
        frame["concentration"] = np.nan
    frame["well"] = [f"w{i}" for i in range(len(frame))]
    return ElisaData(frame)


def _six(unknowns: list[float]) -> ElisaData:
    rows = [
        {"sample": f"S{i}", "type": "standard", "signal": y, "concentration": x}
        for i, (x, y) in enumerate(zip(CONC, OD, strict=True))
    ]
    rows += [{"sample": f"U{i}", "type": "unknown", "signal": y} for i, y in enumerate(unknowns)]
    return _wells(rows)


def test_six_standard_5pl_matches_nplr() -> None:
    a = quantify(_six([2.01, 1.53, 0.769]), model="5PL", blank="none")
    got = a.unknowns["conc_in_well"].to_numpy()
    np.testing.assert_allclose(got, [0.1501, 0.3992, 1.9918], rtol=2e-2)
    assert np.max(np.abs(got / [0.1501, 0.3992, 1.9918] - 1)) < 2e-3  # measured 0.1 %
    assert (a.unknowns["call"] == "quantified").all()


def test_six_standard_4pl_matches_scipy() -> None:
    a = quantify(_six([2.01, 1.53, 0.769]), model="4PL", blank="none")
    np.testing.assert_allclose(a.unknowns["conc_in_well"], [0.1513, 0.3966, 2.0141], rtol=1e-3)


def test_ryegrass_ll4_matches_drc() -> None:
    rg = pd.read_csv(shared_path("tme-data", "elisa", "ryegrass.csv"))
    rows = [
        {"sample": f"C{c:g}", "type": "standard", "signal": y, "concentration": c}
        for c, y in zip(rg["conc"], rg["rootl"], strict=True)
    ]
    a = quantify(_wells(rows), model="4PL", blank="none")
    c = a.curves[0]
    assert c.converged
    got = [c.params[k] for k in ("hill", "bottom", "top", "ec50")]
    np.testing.assert_allclose(got, [2.98222, 0.48141, 7.79296, 3.05795], rtol=1e-5)
    assert math.sqrt(c.rss / c.df) == pytest.approx(0.5196256, rel=1e-6)
    assert c.df == 20
    ses = [c.param_se[k] for k in ("hill", "bottom", "top", "ec50")]
    np.testing.assert_allclose(ses, [0.45842, 0.20951, 0.18973, 0.18583], rtol=1e-4)


def _plate() -> ElisaData:
    """Duplicate standards of a rising 4PL (pg/mL), 2 blanks, unknowns at dilution 10."""
    top, bottom, ec50, hill = 3.0, 0.05, 200.0, 1.2

    def od(x: float) -> float:
        return bottom + (top - bottom) / (1 + (x / ec50) ** -hill) if x > 0 else bottom

    rows = [{"sample": "Blank", "signal": 0.05}, {"sample": "Blank", "signal": 0.052}]
    for i, x in enumerate([15.6, 31.2, 62.5, 125, 250, 500, 1000, 2000]):
        for j, e in enumerate((0.99, 1.01)):
            rows.append({"sample": f"Std{i}", "type": "standard", "concentration": x,
                         "signal": od(x) * e + 0.002 * j})  # fmt: skip
    rows += [
        {"sample": "T1", "type": "unknown", "signal": od(300), "dilution": 10, "subject": "M1"},
        {
            "sample": "T1",
            "type": "unknown",
            "signal": od(300) * 1.02,
            "dilution": 10,
            "subject": "M1",
        },
        {"sample": "T2", "type": "unknown", "signal": od(5000), "dilution": 10},  # above ULOQ
        {"sample": "T3", "type": "unknown", "signal": od(3), "dilution": 10},  # below LLOQ
        {"sample": "T4", "type": "unknown", "signal": od(100) * 0.7, "dilution": 2},
        {"sample": "T4", "type": "unknown", "signal": od(100) * 1.3, "dilution": 2},  # CV 35 %
    ]
    for r in rows:
        r.setdefault("type", "blank" if r["sample"] == "Blank" else "unknown")
    return _wells(rows)


def test_dilution_flags_and_no_extrapolation() -> None:
    a = quantify(_plate(), model="4PL")
    u = a.unknowns.set_index("sample")
    c = a.curves[0]
    assert c.blank == pytest.approx(0.051)
    assert c.lloq == 15.6
    assert c.uloq == 2000
    t1 = u.loc["T1"]
    assert t1["call"] == "quantified"
    assert t1["concentration"] == pytest.approx(10 * t1["conc_in_well"], rel=1e-12)
    assert t1["ci_low"] < t1["concentration"] < t1["ci_high"]
    assert t1["concentration"] == pytest.approx(3000 * 1.0, rel=0.05)
    assert u.loc["T2", "call"] == "above_uloq"
    assert u.loc["T3", "call"] == "below_lloq"
    for s in ("T2", "T3"):
        assert math.isnan(u.loc[s, "concentration"])  # flagged, never extrapolated
        assert math.isnan(u.loc[s, "ci_low"])
    assert u.loc["T3", "lloq"] == pytest.approx(156.0)  # LLOQ x dilution
    assert "high_cv" in u.loc["T4", "flags"]
    assert (a.standards["recovery_pct"].between(80, 120)).all()


def test_blank_subtraction_is_an_offset() -> None:
    """Adding a constant to every well (blank included) must not change any concentration."""
    base = _plate()
    shifted = ElisaData(base.wells.assign(signal=base.wells["signal"] + 0.4))
    a, b = quantify(base), quantify(shifted)
    np.testing.assert_allclose(
        a.unknowns["concentration"], b.unknowns["concentration"], rtol=1e-6, equal_nan=True
    )


def test_weighted_reading_variance_delta_method() -> None:
    """1/y² weights: SE² = ∇θx̂ᵀ V ∇θx̂ + (∂x̂/∂y)² s² ȳ²/m, computed here by hand from the fit's V
    with the LL.4 inverse x = e((d-c)/(y-c) - 1)^(1/b); rtol 1e-5."""
    a = quantify(_plate(), model="4PL", weighting="1/y2")
    fit = a.curves[0].curve.fit
    b, c, d, e = fit.params[0]
    cov = fit.cov[0]
    s2 = fit.rss[0] / fit.df[0]
    row = a.unknowns.set_index("sample").loc["T1"]
    ybar, m = row["signal_mean"] - a.curves[0].blank, row["n_replicates"]

    def inv(p: np.ndarray, y: float) -> float:
        bb, cc, dd, ee = p
        return ee * ((dd - cc) / (y - cc) - 1) ** (1 / bb)

    p0 = np.array([b, c, d, e])
    grad = np.array(
        [(inv(p0 + h, ybar) - inv(p0 - h, ybar)) / (2 * h[i]) for i, h in
         enumerate(np.diag(1e-6 * np.abs(p0)))]
    )  # fmt: skip
    dy = 1e-6 * ybar
    dxdy = (inv(p0, ybar + dy) - inv(p0, ybar - dy)) / (2 * dy)
    se = math.sqrt(grad @ cov @ grad + dxdy**2 * s2 * ybar**2 / m)
    assert row["conc_in_well"] == pytest.approx(inv(p0, ybar), rel=1e-8)
    assert row["se"] / row["dilution"] == pytest.approx(se, rel=1e-5)


def test_result_and_measurements() -> None:
    res = elisa_result(_plate(), unit="pg/mL")
    by = {m.sample: m for m in res.measurements}
    assert by["T1"].call == "detected"
    assert by["T1"].value is not None
    assert by["T3"].call == "not_detected"
    assert by["T3"].value is None
    assert by["T3"].lod == pytest.approx(156.0)
    assert by["T2"].call == "indeterminate"
    assert "above_uloq" in by["T2"].flags
    assert by["T1"].subject == "M1"
    assert res.figures
    assert "<svg" in (res.figures[0].svg or "")
    assert res.to_dict()["settings"]["drc_model"] == "LL.4"


def test_plate_grid_with_layout(tmp_path: Path) -> None:
    rows = "ABCDEFGH"
    signal = pd.DataFrame([[r] + [0.1 + 0.01 * c for c in range(12)] for r in rows],
                          columns=["", *range(1, 13)])  # fmt: skip
    layout = pd.DataFrame([[r] + [""] * 12 for r in rows], columns=["", *range(1, 13)])
    for i, _x in enumerate(CONC):
        signal.iloc[i, 1] = OD[i]
        layout.iloc[i, 1] = f"S{i}"
    signal.iloc[0, 2], layout.iloc[0, 2] = 1.53, "U1"
    signal.to_csv(tmp_path / "plate.csv", index=False)
    layout.to_csv(tmp_path / "layout.csv", index=False)
    stds = ",".join(f"S{i}={x}" for i, x in enumerate(CONC))
    data = read_elisa(tmp_path / "plate.csv", layout=tmp_path / "layout.csv", standards=stds)
    assert len(data.wells) == 7
    res = analyze_elisa_file(
        tmp_path / "plate.csv", layout=tmp_path / "layout.csv", standards=stds, blank="none",
        model="5PL", plots=False,
    )  # fmt: skip
    assert res.tables["unknowns"]["conc_in_well"].iloc[0] == pytest.approx(0.3992, rel=2e-2)


# -- bad input -----------------------------------------------------------------------------------


def test_standards_not_bracketing_unknowns() -> None:
    with pytest.raises(InputError, match="do not bracket any unknown"):
        quantify(_six([3.5, 0.2]), blank="none")


def test_too_few_standards() -> None:
    rows = [{"sample": f"S{i}", "type": "standard", "signal": y, "concentration": x}
            for i, (x, y) in enumerate(zip(CONC[:4], OD[:4], strict=True))]  # fmt: skip
    with pytest.raises(InputError, match="needs at least 5"):
        quantify(_wells(rows))


def test_missing_signal_column(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("sample,foo\nA,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column 'signal'"):
        read_elisa(p)


def test_grid_needs_layout(tmp_path: Path) -> None:
    grid = pd.DataFrame([[r] + [0.1] * 12 for r in "ABCDEFGH"], columns=["", *range(1, 13)])
    grid.to_csv(tmp_path / "plate.csv", index=False)
    with pytest.raises(InputError, match="--layout"):
        read_elisa(tmp_path / "plate.csv")


def test_non_numeric_signal(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("sample,signal\nA,1.2\nB,high\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3.*'high' is not a number"):
        read_elisa(p)
