"""ALEX-style summary table: every cell equals the engine function it comes from (no second
implementation), on a seeded synthetic two-arm trial; KM and forest figures; zero-event arms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kinresist.clinical._format import fmt_ci
from kinresist.clinical.analyze import run_summary
from kinresist.clinical.response import proportion
from kinresist.clinical.summary import subgroup_hazard_ratios
from kinresist.clinical.survival import cox_ph, kaplan_meier, logrank_test


def _trial(rng: np.random.Generator, n: int = 80) -> pd.DataFrame:
    arm = np.array(["alectinib"] * n + ["crizotinib"] * n)
    rate = np.where(arm == "alectinib", 1 / 30, 1 / 11)
    pfs = rng.exponential(1 / rate)
    cens = rng.uniform(10, 40, 2 * n)
    time = np.round(np.minimum(pfs, cens), 1)
    event = (pfs <= cens).astype(int)
    p_resp = np.where(arm == "alectinib", 0.8, 0.7)
    u = rng.random(2 * n)
    best = np.where(
        u < p_resp * 0.1, "CR", np.where(u < p_resp, "PR", np.where(u < 0.9, "SD", "PD"))
    )
    best[rng.random(2 * n) < 0.03] = "NE"
    cns = rng.random(2 * n) < 0.35
    ic = np.where(
        cns, np.where(rng.random(2 * n) < np.where(arm == "alectinib", 0.8, 0.5), "PR", "SD"), ""
    )
    return pd.DataFrame(
        {
            "patient": [f"P{i:03d}" for i in range(2 * n)],
            "arm": arm,
            "pfs_months": time,
            "progressed": event,
            "best_response": best,
            "ic_response": ic,
            "sex": rng.choice(["female", "male"], 2 * n),
            "ecog": rng.choice(["0-1", "2"], 2 * n, p=[0.9, 0.1]),
            "region": rng.choice(["Asian", "non-Asian"], 2 * n),
        }
    )


@pytest.fixture
def trial_csv(tmp_path):
    df = _trial(np.random.default_rng(2017))
    path = tmp_path / "trial.csv"
    df.to_csv(path, index=False)
    return path, df


def test_summary_cells_come_from_the_engine(trial_csv):
    path, df = trial_csv
    res = run_summary(
        path,
        arm_col="arm",
        time_col="pfs_months",
        event_col="progressed",
        reference="crizotinib",
        response_col="best_response",
        ic_response_col="ic_response",
        subgroup_col=["sex", "ecog"],
        id_col="patient",
    )
    table = res.tables["summary"].set_index("arm")
    assert list(table.index) == ["alectinib", "crizotinib"]
    t, e, a = df["pfs_months"], df["progressed"], df["arm"]
    km = kaplan_meier(t, e, group=a)
    for arm in ("alectinib", "crizotinib"):
        m = km[arm].median()
        assert table.loc[arm, "median PFS (95% CI, months)"] == fmt_ci(m.estimate, m.lower, m.upper)
        codes = df.loc[df["arm"] == arm, "best_response"]
        orr = proportion(int(codes.isin(["CR", "PR"]).sum()), len(codes))  # ITT denominator
        assert table.loc[arm, "ORR (95% CI)"] == f"{orr.k}/{orr.n}, {orr.text()}"
        ic = df.loc[(df["arm"] == arm) & (df["ic_response"] != ""), "ic_response"]
        ic_orr = proportion(int((ic == "PR").sum()), len(ic))
        assert (
            table.loc[arm, "intracranial ORR (95% CI)"] == f"{ic_orr.k}/{ic_orr.n}, {ic_orr.text()}"
        )
    cox = cox_ph(t, e, a, reference="crizotinib")
    assert table.loc["alectinib", "HR (95% CI)"] == fmt_ci(cox.hr, *cox.ci, 2)
    assert table.loc["crizotinib", "HR (95% CI)"] == "reference"
    arms = res.tables["arms"].set_index("arm")
    assert arms.loc["alectinib", "p_logrank"] == pytest.approx(logrank_test(t, e, a).p, rel=1e-12)
    assert res.body["arms"][0]["orr_difference_vs_reference"]["method"] == "newcombe-hybrid-score"
    # subgroups: overall row equals the overall Cox; one row per level
    sub = res.tables["subgroups"]
    assert sub.iloc[0]["subgroup"] == "All patients"
    assert sub.iloc[0]["hr"] == pytest.approx(cox.hr, rel=1e-12)
    assert len(sub) == 1 + 2 + 2
    female = df["sex"] == "female"
    ref = cox_ph(t[female], e[female], a[female], reference="crizotinib")
    row = sub[(sub["subgroup"] == "sex") & (sub["level"] == "female")].iloc[0]
    assert row["hr"] == pytest.approx(ref.hr, rel=1e-12)
    # figures and outputs
    names = [f.name for f in res.figures]
    assert names == ["km", "forest"]
    assert all(f.svg and "<svg" in f.svg for f in res.figures)
    tsv = res.to_tsv()
    assert "median PFS (95% CI, months)" in tsv
    assert tsv.startswith("#")
    quantities = {m.quantity for m in res.measurements}
    assert quantities == {"time_to_event", "objective_response"}


def test_summary_zero_event_arm_uses_firth(tmp_path):
    rng = np.random.default_rng(5)
    n = 14
    df = pd.DataFrame(
        {
            "arm": ["vehicle"] * n + ["combo"] * n,
            "days": np.r_[np.round(rng.uniform(8, 30, n)), np.full(n, 60.0)],
            "endpoint_reached": np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)],
        }
    )
    path = tmp_path / "mice.csv"
    df.to_csv(path, index=False)
    res = run_summary(
        path, arm_col="arm", time_col="days", event_col="endpoint_reached",
        reference="vehicle", time_unit="days", endpoint="time to 1000 mm3", figures=False,
    )  # fmt: skip
    row = res.tables["summary"].set_index("arm").loc["combo"]
    assert row["HR (95% CI)"].endswith("(Firth)")
    cox = res.body["survival"]["cox"]
    assert cox["method"] == "firth"
    assert "zero_events:combo" in cox["flags"]
    assert all(v is not None and 0 < v < 1 for v in cox["ci"])
    assert any("no events" in w for w in res.warnings)
    assert res.body["survival"]["groups"][0]["median"] == "NR"  # combo: no events


def test_subgroups_need_both_arms():
    t = [1, 2, 3, 4, 5, 6, 7, 8]
    e = [1, 1, 1, 0, 1, 1, 0, 1]
    arm = ["a", "a", "a", "a", "b", "b", "b", "b"]
    sub = {"site": ["x", "x", "y", "y", "x", "x", "x", "x"]}
    table = subgroup_hazard_ratios(t, e, arm, sub, reference="a").set_index("level")
    assert table.loc["y", "flags"] == "not_estimable"
    assert pd.isna(table.loc["y", "hr"])
    assert table.loc["x", "hr"] is not None


def test_cli_summary_html(cli, trial_csv, tmp_path):
    path, _ = trial_csv
    out = tmp_path / "summary.html"
    r = cli(
        [
            "clinical", "summary", path, "--arm-col", "arm", "--time-col", "pfs_months",
            "--event-col", "progressed", "--reference", "crizotinib", "--response-col",
            "best_response", "--subgroup-col", "sex", "--subgroup-col", "region",
            "--format", "html", "--out", out,
        ]
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") >= 2
    assert "HR (95% CI)" in page
    r = cli(
        [
            "clinical", "summary", path, "--arm-col", "arm", "--time-col", "pfs_months",
            "--event-col", "progressed", "--reference", "lorlatinib",
        ]
    )  # fmt: skip
    assert r.exit_code == 2
    assert "lorlatinib" in r.stderr
