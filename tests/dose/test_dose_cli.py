"""CLI contract of ``kinresist dose fit`` (fields parsed by external checks) and bad-input handling.

Reference values: drc 3.0-1 ryegrass LL.4 (see test_dose_engine), SEs by the stated method.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd


def test_fit_contract(cli, shared):
    path = shared("reference_data", "dose_response", "drc_ryegrass.csv")
    r = cli(
        [
            "dose",
            "fit",
            "--input",
            path,
            "--dose-col",
            "conc",
            "--response-col",
            "rootl",
            "--se",
            "hessian",
            "--format",
            "json",
        ]
    )
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["workflow"] == "dose.fit"
    assert d["schema_version"] == "2.0"
    assert d["inputs"]
    (f,) = d["fits"]
    assert f["group"] == "all"
    assert f["model"] == "LL.4"
    assert f["se_method"] == "hessian"
    assert set(f["parameters"]) == {"hill", "bottom", "top", "ec50"}
    for p in f["parameters"].values():
        assert set(p) >= {"estimate", "se", "ci_low", "ci_high"}
    np.testing.assert_allclose(f["parameters"]["ec50"]["estimate"], 3.05795, rtol=1e-5)
    np.testing.assert_allclose(f["parameters"]["hill"]["se"], 0.46506, rtol=1e-4)
    assert f["df"] == 20
    assert f["converged"] is True
    assert f["flags"] == []
    assert abs(f["rss"] - 5.400215) < 1e-5


def test_fit_groups_ll5_and_tsv(cli, shared, tmp_path):
    d = pd.read_csv(shared("reference_data", "dose_response", "drc_ryegrass.csv"))
    both = pd.concat([d.assign(g="a"), d.assign(g="b", rootl=d["rootl"] * 2)])
    path = tmp_path / "two.csv"
    both.to_csv(path, index=False)
    r = cli(
        [
            "dose",
            "fit",
            "--input",
            path,
            "--dose-col",
            "conc",
            "--response-col",
            "rootl",
            "--group-col",
            "g",
            "--model",
            "LL.5",
            "--format",
            "json",
            "--table",
            tmp_path / "fits.parquet",
        ]
    )
    assert r.exit_code == 0, r.stderr
    fits = json.loads(r.stdout)["fits"]
    assert [f["group"] for f in fits] == ["a", "b"]
    assert set(fits[0]["parameters"]) == {"hill", "bottom", "top", "ec50", "asymmetry"}
    np.testing.assert_allclose(
        fits[1]["parameters"]["top"]["estimate"],
        2 * fits[0]["parameters"]["top"]["estimate"],
        rtol=1e-4,
    )
    assert pd.read_parquet(tmp_path / "fits.parquet").shape[0] == 2
    t = cli(
        [
            "dose",
            "fit",
            "--input",
            path,
            "--dose-col",
            "conc",
            "--response-col",
            "rootl",
            "--group-col",
            "g",
            "--format",
            "tsv",
        ]
    )
    assert t.exit_code == 0
    assert t.stdout.startswith("## kind: dose.fit")


def test_bad_inputs_exit_2(cli, tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("dose,resp\n1,10\n2,abc\n")
    r = cli(["dose", "fit", "--input", p, "--dose-col", "dose", "--response-col", "resp"])
    assert r.exit_code == 2
    assert r.stderr.strip().count("\n") == 0
    assert "line 3" in r.stderr
    assert "'abc'" in r.stderr
    p.write_text("logdose,resp\n-9,100\n-8,90\n-7,50\n-6,10\n")
    r = cli(["dose", "fit", "--input", p, "--dose-col", "logdose", "--response-col", "resp"])
    assert r.exit_code == 2
    assert "named like a log-transformed dose" in r.stderr
    q = tmp_path / "neg.csv"
    q.write_text("dose,resp\n-9,100\n-8,90\n-7,50\n-6,10\n")
    r = cli(["dose", "fit", "--input", q, "--dose-col", "dose", "--response-col", "resp"])
    assert r.exit_code == 2
    assert "looks log-transformed" in r.stderr
    r = cli(
        [
            "dose",
            "fit",
            "--input",
            p,
            "--dose-col",
            "logdose",
            "--response-col",
            "resp",
            "--unit",
            "furlongs",
        ]
    )
    assert r.exit_code == 2
    assert "UnitError" in r.stderr
    r = cli(
        [
            "dose",
            "fit",
            "--input",
            p,
            "--dose-col",
            "logdose",
            "--response-col",
            "resp",
            "--log-dose",
            "--model",
            "LL.7",
        ]
    )
    assert r.exit_code == 2
    assert "unknown dose-response model" in r.stderr
    r = cli(
        [
            "dose",
            "fit",
            "--input",
            tmp_path / "missing.csv",
            "--dose-col",
            "a",
            "--response-col",
            "b",
        ]
    )
    assert r.exit_code == 2


def test_hard_case_via_cli_does_not_crash(cli, shared):
    path = shared("reference_data", "dose_response", "dr4pl_drc_error_2.csv")
    r = cli(["dose", "fit", "--input", path, "--dose-col", "Dose", "--response-col", "Response"])
    assert r.exit_code == 0
    f = json.loads(r.stdout)["fits"][0]
    assert f["status"] != "ok"
    assert f["flags"]


def test_standard_curve_cli(cli, tmp_path):
    """Inverse prediction vs an independent computation (scipy curve_fit + brentq), rtol 1e-6."""
    from scipy.optimize import brentq, curve_fit

    rng = np.random.default_rng(11)
    conc = np.repeat([0.0, 15.6, 31.2, 62.5, 125, 250, 500, 1000], 2)

    def f4(x, b, c, d, e):
        with np.errstate(divide="ignore"):
            return c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))

    sig = f4(conc, -1.3, 0.05, 2.4, 220) + rng.normal(0, 0.02, conc.size)
    unk = [0.6, 0.62, 1.5, 1.52, 3.5]
    frame = pd.DataFrame(
        {
            "name": [f"S{i}" for i in range(conc.size)] + ["u1", "u1", "u2", "u2", "u3"],
            "conc": list(conc) + [None] * 5,
            "od": list(sig) + unk,
        }
    )
    p = tmp_path / "elisa.csv"
    frame.to_csv(p, index=False)
    r = cli(["dose", "standard", "--input", p, "--conc-col", "conc", "--signal-col", "od"])
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    u = {x["name"]: x for x in d["unknowns"]}
    popt, _ = curve_fit(f4, conc, sig, p0=[-1, 0, 2.5, 200], maxfev=20000)
    x1 = brentq(lambda x: f4(x, *popt) - 0.61, 1e-3, 1e5)
    np.testing.assert_allclose(u["u1"]["concentration"], x1, rtol=1e-5)
    assert u["u1"]["ci_low"] < x1 < u["u1"]["ci_high"]
    assert u["u1"]["flag"] == ""
    assert u["u3"]["flag"] == "outside_asymptotes"
    assert u["u3"]["concentration"] is None
