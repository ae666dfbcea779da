"""SynergyFinder 3.7.3 reproduction on Mathews Griner block 1 (ispinesib + ibrutinib).

Reference: ``synergyfinder_mathews_synergy_scores_noise_false.csv`` produced by running
SynergyFinder 3.7.3 with drc 3.0-1::

    data <- ReshapeData(mathews_screening_data, data_type = "viability",
                        impute = TRUE, noise = FALSE)
    res  <- CalculateSynergy(data, method = c("ZIP", "HSA", "Bliss", "Loewe"),
                             Emin = NA, Emax = NA, correct_baseline = "non")

Tolerances (issue 5, "done when"): per-cell values and block means of all four scores
to 1e-3 relative, 1e-2 absolute where the value is near zero; Bliss/HSA (no fitting)
to 1e-6 absolute; block p-values to the 3 significant digits SynergyFinder prints.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kinresist.synergy import read_long_table, score_blocks

DATA = ("reference_data", "dose_response", "synergyfinder_mathews_screening_data.csv")
EXPECTED = (
    "reference_data",
    "dose_response",
    "synergyfinder_mathews_synergy_scores_noise_false.csv",
)
METHODS = {"zip": "ZIP", "bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe"}
# spec synergy.md §6: block means over the 25 combination cells and p-values
MEANS = {"zip": 19.570812, "hsa": 20.19510, "bliss": 10.85647, "loewe": 25.52969}
PVALS = {"zip": "3.51e-02", "hsa": "5.31e-02", "bliss": "1.14e-01", "loewe": "1.68e-01"}


@pytest.fixture(scope="module")
def block1(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    from sharedpaths import shared_path

    blocks = read_long_table(shared_path(*DATA))
    expected = pd.read_csv(shared_path(*EXPECTED))
    scores = score_blocks([b for b in blocks if b.block_id == "1"], mode="synergyfinder")[0]
    return scores, expected


def _close(actual: float, expected: float) -> bool:
    return abs(actual - expected) <= max(1e-3 * abs(expected), 1e-2 if abs(expected) < 10 else 0)


def test_per_cell_scores_match_synergyfinder(block1) -> None:  # type: ignore[no-untyped-def]
    """All 36 cells, synergy and reference of ZIP/Bliss/HSA/Loewe: rtol 1e-3 (atol 1e-2 near 0)."""
    scores, expected = block1
    b = scores.block
    assert len(expected) == 36
    worst = 0.0
    for _, row in expected.iterrows():
        i = int(np.searchsorted(b.conc1, row.conc1))
        j = int(np.searchsorted(b.conc2, row.conc2))
        assert b.conc1[i] == row.conc1
        assert b.conc2[j] == row.conc2
        for m, col in METHODS.items():
            for kind, arr in (("synergy", scores.synergy[m]), ("ref", scores.reference[m])):
                exp = float(row[f"{col}_{kind}"])
                got = float(arr[i, j])
                assert _close(got, exp), (m, kind, row.conc1, row.conc2, got, exp)
                worst = max(worst, abs(got - exp))
        assert _close(float(scores.zip_fit[i, j]), float(row.ZIP_fit))
    assert worst < 1e-3  # in practice 5e-14 (exact drc replay; see test_synergy_sf_paths.py)


def test_bliss_hsa_exact(block1) -> None:  # type: ignore[no-untyped-def]
    """Bliss and HSA involve no fitting: atol 1e-6."""
    scores, expected = block1
    b = scores.block
    for _, row in expected.iterrows():
        i, j = int(np.searchsorted(b.conc1, row.conc1)), int(np.searchsorted(b.conc2, row.conc2))
        for m in ("bliss", "hsa"):
            assert scores.synergy[m][i, j] == pytest.approx(row[f"{METHODS[m]}_synergy"], abs=1e-6)


def test_block_means_and_p_values(block1) -> None:  # type: ignore[no-untyped-def]
    """Block means (rtol 1e-3; in fact 1e-5) and p-values to SynergyFinder's 3 printed digits."""
    scores, _ = block1
    for m, mean in MEANS.items():
        assert scores.summary[m]["mean"] == pytest.approx(mean, rel=1e-3, abs=1e-4)
        assert f"{scores.summary[m]['p_value']:.2e}" == PVALS[m]
    assert scores.flags == ()


def test_loewe_grid_artefact_reproduced(block1) -> None:  # type: ignore[no-untyped-def]
    """SynergyFinder's grid search gives -14.95269 at (625, 0.1954) (spec §2), +76.90 synergy."""
    scores, _ = block1
    b = scores.block
    i, j = int(np.searchsorted(b.conc1, 625)), int(np.searchsorted(b.conc2, 0.1954))
    assert scores.reference["loewe"][i, j] == pytest.approx(-14.95269, abs=1e-4)
    assert scores.synergy["loewe"][i, j] == pytest.approx(76.90062, abs=1e-3)


def test_single_agent_fits_follow_drc(block1) -> None:  # type: ignore[no-untyped-def]
    """drc LL.4 for ibrutinib: upper limit 62.31965 (Loewe plateau) and e = IC50 2.740563 (spec §6)."""
    scores, _ = block1
    ibr = scores.single_agents["ibrutinib"]
    assert ibr["model"] == "LL.4"
    assert ibr["d"] == pytest.approx(62.3196484, abs=1e-5)
    assert ibr["e"] == pytest.approx(2.740563, rel=1e-5)


def test_cli_contract_synergyfinder_mode(shared, cli) -> None:  # type: ignore[no-untyped-def]
    """``kinresist synergy score INPUT --mode synergyfinder --format json``: contract fields."""
    res = cli(["synergy", "score", shared(*DATA), "--mode", "synergyfinder", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["schema_version"]
    assert doc["inputs"]
    blk = next(b for b in doc["blocks"] if b["block_id"] == "1")
    assert (blk["drug1"], blk["drug2"]) == ("ispinesib", "ibrutinib")
    for m, mean in MEANS.items():
        assert blk["scores"][m] == pytest.approx(mean, rel=1e-3)
    assert len(blk["cells"]) == 36
    for cell in blk["cells"]:
        assert {"conc1", "conc2", "zip", "bliss", "hsa", "loewe"} <= set(cell)
    cell = next(c for c in blk["cells"] if c["conc1"] == 2500 and c["conc2"] == 50)
    assert cell["bliss"] == pytest.approx(5.337052, abs=1e-5)
    assert cell["zip"] == pytest.approx(13.88009, rel=1e-3)


def test_root_finding_loewe_on_synergyfinder_curves(block1) -> None:  # type: ignore[no-untyped-def]
    """Spec §6: with the same (drc) single-agent curves, root-finding Loewe differs from the grid
    in the artefact cells and must flag ``loewe_unreachable`` or stay inside the attainable range."""
    from kinresist.synergy.reference import Curve, loewe_root

    scores, _ = block1
    b = scores.block
    par = [scores.single_agents[d] for d in (b.drug1, b.drug2)]
    assert all(p["model"] == "LL.4" for p in par)
    c1, c2 = (Curve(*(np.array([p[k]]) for k in "bcde")) for p in par)
    y, unreachable = loewe_root(b.conc1[None], b.conc2[None], c1, c2)
    lo = max(min(p["c"], p["d"]) for p in par)
    hi = min(max(p["c"], p["d"]) for p in par)
    i, j = int(np.searchsorted(b.conc1, 625)), int(np.searchsorted(b.conc2, 0.1954))
    assert unreachable[0, i, j] or lo <= y[0, i, j] <= hi
    assert y[0, i, j] != pytest.approx(-14.95269, abs=1e-3)
    combo = np.zeros_like(unreachable[0])
    combo[1:, 1:] = True
    defined = combo & ~unreachable[0]
    assert np.all((y[0][defined] >= lo) & (y[0][defined] <= hi))
    assert np.all(np.isnan(y[0][unreachable[0]]))
