"""Replicate bootstrap and baseline correction (SynergyFinder conventions).

No SynergyFinder reference numbers exist for these (its bootstrap uses R's RNG), so
the tests check the defining identities exactly: identical replicates give a zero-width
bootstrap equal to the deterministic scores; the p-value is exp(-0.717z - 0.416z^2) of
the round block-means; baseline correction follows I - ((100 - I)/100)*baseline with
baseline = min fitted single-agent response (atol 1e-12).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kinresist.synergy import read_long_table, score_blocks
from kinresist.synergy._drc import fit_drc
from kinresist.synergy.replicates import bootstrap_scores, correct_baseline
from kinresist.synergy.summary import p_from_z

DATA = ("reference_data", "dose_response", "synergyfinder_mathews_screening_data.csv")


def _replicated(shared, tmp_path, spread: float):  # type: ignore[no-untyped-def]
    df = pd.read_csv(shared(*DATA))
    df = df[df.block_id == 1]
    path = tmp_path / "rep.csv"
    pd.concat(
        [df.assign(response=df.response + spread), df.assign(response=df.response - spread)]
    ).to_csv(path, index=False)
    return path, read_long_table(path)[0]


def test_identical_replicates_give_deterministic_scores(shared, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, blk = _replicated(shared, tmp_path, 0.0)
    stats = bootstrap_scores(
        blk, rng=np.random.default_rng(1), methods=["bliss", "hsa"], iterations=5
    )
    det = score_blocks([blk], methods=["bliss", "hsa"])[0]
    for m in ("bliss", "hsa"):
        assert stats[m]["block_mean"] == pytest.approx(det.summary[m]["mean"], abs=1e-12)
        np.testing.assert_allclose(stats[m]["cell_sd"], 0.0, atol=1e-12)


def test_bootstrap_is_seeded_and_p_follows_formula(shared, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, blk = _replicated(shared, tmp_path, 3.0)
    a = bootstrap_scores(blk, rng=np.random.default_rng(123), methods=["bliss"], iterations=10)
    b = bootstrap_scores(blk, rng=np.random.default_rng(123), methods=["bliss"], iterations=10)
    assert a["bliss"]["block_mean"] == b["bliss"]["block_mean"]
    z = abs(a["bliss"]["block_mean"]) / a["bliss"]["block_sd"]
    assert a["bliss"]["p_value"] == pytest.approx(float(p_from_z(np.array(z))), rel=1e-12)
    assert np.all(a["bliss"]["cell_q025"] <= a["bliss"]["cell_q975"])
    assert a["bliss"]["block_sd"] > 0


def test_cli_reports_replicate_statistics(shared, tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    path, _ = _replicated(shared, tmp_path, 2.0)
    res = cli(
        [
            "synergy",
            "score",
            path,
            "--methods",
            "bliss,hsa",
            "--iterations",
            "4",
            "--format",
            "json",
        ]
    )
    assert res.exit_code == 0, res.stderr
    blk = json.loads(res.stdout)["blocks"][0]
    assert blk["replicate_statistics"]["iterations"] == 4
    assert 0 < blk["replicate_statistics"]["bliss"]["p_value"] <= 1


@pytest.mark.parametrize("method", ["part", "all"])
def test_baseline_correction_formula(shared, method: str) -> None:  # type: ignore[no-untyped-def]
    blk = read_long_table(shared(*DATA))[0]
    out = correct_baseline(blk, method, mode="synergyfinder")  # type: ignore[arg-type]
    fits = [fit_drc(blk.conc1, blk.inhibition[:, 0]), fit_drc(blk.conc2, blk.inhibition[0, :])]
    base = min(float(np.min(fits[0].predict(blk.conc1))), float(np.min(fits[1].predict(blk.conc2))))
    i = blk.inhibition
    adj = i - ((100 - i) / 100) * base
    expected = adj if method == "all" else np.where(i < 0, adj, i)
    np.testing.assert_allclose(out.inhibition, expected, atol=1e-12)
    assert correct_baseline(blk, "non") is blk
