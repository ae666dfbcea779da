"""``mode="synergyfinder"`` equals SynergyFinder 3.7.3 on every block, path by path.

References (``tests/synergy/reference/``), produced by ``synergyfinder_reference.R`` (R
4.2.2, drc 3.0-1, the R sources of SynergyFinder 3.7.3; the script's header says how)::

    data <- ReshapeData(<one block>, data_type = "viability", impute = TRUE, noise = FALSE)
    res  <- CalculateSynergy(data, method = c("ZIP", "HSA", "Bliss", "Loewe"),
                             Emin = NA, Emax = NA, correct_baseline = "non")
    # plus every drc fit SynergyFinder makes: FitDoseResponse(single drug) and ZIP's
    # FitDoseResponse(x, Emin = <response at dose 0>, Emax = NA) per row and column

* ``synergyfinder_mathews_*``: both blocks of the shared Mathews file (block 1 of it is
  identical to the shared ``..._noise_false.csv``, which covers block 1 only: checked
  below, so the R run is the one that made the shared file).
* ``synergyfinder_paths_*``: blocks chosen to exercise each code path: L.4 fallback of a
  single agent (either drug) and of ZIP refits, Loewe's "no drug reaches the effect"
  fallback, steep steps and negative baselines (drc runs to its iteration limit), the
  Mathews block 2 rows in another order (a fit that depends on row order), a flat
  single agent (variance 0 -> 1e-10 added) and two blocks on which SynergyFinder stops
  with an R error (a ZIP refit, a single agent: drc fails with LL.4 and L.4).

Tolerance: the replay is operation for operation, so values agree to the 17 printed
digits up to rounding of long sums: atol 1e-9 + rtol 1e-9 per value (observed: <= 5e-13);
drc parameters rtol 1e-9; p-values to the 3 digits SynergyFinder prints.

Where the R output is not the whole story, an independent oracle written here from the
R source (``CalculateSynergy``'s ZIP reference and ``Loewe``/``.SolveLoewe``, transcribed
line by line in plain Python below) recomputes the references from the drc parameters of
the R run, and the model-choice rule (a negative median response only sets drm's response
scaling to 1; ``FitDoseResponse`` falls back to L.4 on errors, not on warnings) is checked
on Mathews block 2, where it decides ZIP (−2.98, not −4.94) and Loewe (−41.79, not −2.44).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinresist.synergy import read_long_table, score_blocks
from kinresist.synergy.zip import _fit_in_order

REF = Path(__file__).parent / "reference"
MATHEWS = ("reference_data", "dose_response", "synergyfinder_mathews_screening_data.csv")
SHARED_SCORES = (
    "reference_data",
    "dose_response",
    "synergyfinder_mathews_synergy_scores_noise_false.csv",
)
COLS = {"zip": "ZIP", "bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe"}
ATOL = RTOL = 1e-9


def _load(prefix: str) -> dict[str, pd.DataFrame]:
    out = {}
    for part in ("scores", "summary", "fits", "errors"):
        p = REF / f"synergyfinder_{prefix}_{part}.csv"
        out[part] = (
            pd.read_csv(p, dtype={"block_id": str}, float_precision="round_trip")
            if p.exists()
            else pd.DataFrame()
        )
    return out


@pytest.fixture(scope="module")
def mathews():  # type: ignore[no-untyped-def]
    from sharedpaths import shared_path

    blocks = read_long_table(shared_path(*MATHEWS))
    return blocks, score_blocks(blocks, mode="synergyfinder"), _load("mathews")


@pytest.fixture(scope="module")
def paths():  # type: ignore[no-untyped-def]
    blocks = read_long_table(REF / "synergyfinder_paths_input.csv")
    return blocks, score_blocks(blocks, mode="synergyfinder"), _load("paths")


def _idx(conc: np.ndarray, v: float) -> int:
    i = int(np.argmin(np.abs(conc - v)))
    assert math.isclose(conc[i], v, rel_tol=1e-12, abs_tol=0.0)
    return i


def _check_cells(scores, ref: pd.DataFrame) -> float:  # type: ignore[no-untyped-def]
    """Every cell, every score: reference, synergy (and ZIP's fitted surface)."""
    b = scores.block
    assert len(ref) == b.shape[0] * b.shape[1]
    worst = 0.0
    for _, row in ref.iterrows():
        i, j = _idx(b.conc1, row.conc1), _idx(b.conc2, row.conc2)
        pairs = [(scores.zip_fit[i, j], row.ZIP_fit)]
        for m, col in COLS.items():
            pairs += [
                (scores.reference[m][i, j], row[f"{col}_ref"]),
                (scores.synergy[m][i, j], row[f"{col}_synergy"]),
            ]
        for got, exp in pairs:
            assert got == pytest.approx(exp, abs=ATOL, rel=RTOL), (b.block_id, i, j, got, exp)
            worst = max(worst, abs(got - exp))
    return worst


def _check_summary(scores, summary: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    row = summary[summary.block_id == scores.block.block_id].iloc[0]
    for m, col in COLS.items():
        assert scores.summary[m]["mean"] == pytest.approx(row[f"{col}_synergy"], abs=ATOL)
        printed = f"{float(row[f'{col}_synergy_p_value']):.2e}"  # R's formatC(p, "e", digits = 2)
        assert f"{scores.summary[m]['p_value']:.2e}" == printed


def _check_fits(block, fits: pd.DataFrame) -> int:  # type: ignore[no-untyped-def]
    """Every drc fit SynergyFinder makes: same model (LL.4 / L.4 / error), same b, c, d, e."""
    from kinresist.synergy.block import default_rank

    rank = block.input_rank if block.input_rank is not None else default_rank(*block.shape)
    m, n = block.inhibition, 0
    for _, f in fits[fits.block_id == block.block_id].iterrows():
        if f.kind == "single":
            sl = (slice(None), 0) if f.along == "conc1" else (0, slice(None))
            emin = None
        elif f.along == "conc1":  # curve along drug 1 at a fixed dose of drug 2
            sl = (slice(None), _idx(block.conc2, f.other))
            emin = float(m[0, sl[1]])
        else:
            sl = (_idx(block.conc1, f.other), slice(None))
            emin = float(m[sl[0], 0])
        dose = block.conc1 if f.along == "conc1" else block.conc2
        fit, _ = _fit_in_order(dose, m[sl], rank[sl], emin=emin)
        if f.model == "error":
            assert fit.failed, (block.block_id, f.kind, f.along, f.other)
        else:
            assert (fit.failed, fit.model) == (False, f.model), (block.block_id, f.along, f.other)
            np.testing.assert_allclose(fit.params, [f.b, f.c, f.d, f.e], rtol=1e-9, atol=1e-12)
        n += 1
    return n


def test_mathews_every_block_equals_synergyfinder(mathews) -> None:  # type: ignore[no-untyped-def]
    """Both Mathews blocks, all 36 cells x 9 values: atol/rtol 1e-9 (observed <= 1e-13)."""
    blocks, scores, ref = mathews
    assert (
        sorted(ref["scores"].block_id.unique()) == sorted(b.block_id for b in blocks) == ["1", "2"]
    )
    for s in scores:
        worst = _check_cells(s, ref["scores"][ref["scores"].block_id == s.block.block_id])
        assert worst < 1e-12
        _check_summary(s, ref["summary"])
        assert s.flags == ()


def test_r_run_is_the_one_behind_the_shared_block1_file() -> None:
    """The R setup reproduces the shared block-1 reference to its 15 printed digits."""
    from sharedpaths import shared_path

    shared = pd.read_csv(shared_path(*SHARED_SCORES), float_precision="round_trip")
    ours = _load("mathews")["scores"]
    ours = ours[ours.block_id == "1"].reset_index(drop=True)
    merged = shared.merge(ours.assign(block_id=1), on=["block_id", "conc1", "conc2"])
    assert len(merged) == 36
    for col in [c for c in shared.columns if c.endswith(("_fit", "_ref", "_synergy"))]:
        np.testing.assert_allclose(merged[f"{col}_x"], merged[f"{col}_y"], rtol=1e-13, atol=1e-12)


def test_mathews_every_drc_fit_equals_synergyfinder(mathews) -> None:  # type: ignore[no-untyped-def]
    """2 single agents + 12 ZIP refits per block: model choice and parameters (rtol 1e-9)."""
    blocks, _, ref = mathews
    assert sum(_check_fits(b, ref["fits"]) for b in blocks) == 28


def test_block2_model_choice_negative_median(mathews) -> None:  # type: ignore[no-untyped-def]
    """Canertinib's monotherapy median is negative (−52.7 %): drm only sets its response
    scaling to 1 (``is.na(10^floor(log10(median)))``) and the *warning* from log10 does not
    reach FitDoseResponse's ``tryCatch(error = ...)``: LL.4, c = −59.32, d = 53.45,
    e = 972.8 — not the L.4 fit (d ≈ 1700 %, e = −38.6) that a warning-triggered
    fallback gives, which moved ZIP by 2 and Loewe by 39 points."""
    _, scores, _ = mathews
    s = next(x for x in scores if x.block.block_id == "2")
    can = s.single_agents["canertinib"]
    assert np.median(s.block.inhibition[:, 0]) < 0
    assert can["model"] == "LL.4"
    assert (can["c"], can["d"], can["e"]) == pytest.approx(
        (-59.316612, 53.445566, 972.81417), rel=1e-6
    )
    assert s.summary["zip"]["mean"] == pytest.approx(-2.9799582, abs=1e-6)
    assert s.summary["loewe"]["mean"] == pytest.approx(-41.789783, abs=1e-6)


# --- an independent oracle: SynergyFinder's reference rules, transcribed from the R source --


def _oracle_predict(model: str, par: tuple[float, float, float, float], dose: float) -> float:
    # .PredictResponseFromModel: LL.4 at dose; L.4 at log(dose) (dose 0 -> 1e-10 in the fit data)
    b, c, d, e = par
    if model == "LL.4":
        return c + (d - c) / (1.0 + math.exp(b * (math.log(dose) - math.log(e))))
    return c + (d - c) / (1.0 + math.exp(b * (math.log(dose) - e)))


def _ieee_div(a: float, b: float) -> float:
    if b == 0:
        return (
            math.nan
            if a == 0 or math.isnan(a)
            else math.copysign(math.inf, a) * math.copysign(1, b)
        )
    return a / b


def _oracle_pow(x: float, y: float) -> float:
    # R's x ^ y where Python raises: 0 ^ negative = Inf, negative ^ fraction = NaN
    if x == 0:
        return 0.0 if y > 0 else (math.inf if y < 0 else 1.0)
    if math.isinf(x) and x > 0:
        return 0.0 if y < 0 else math.inf
    if x < 0 and not float(y).is_integer():
        return math.nan
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf


def _oracle_solve_exp_dose(model: str, par: tuple[float, float, float, float], y: float) -> float:
    # .SolveExpDoesLL4 / .SolveExpDoesL4; NaN -> Inf if y > max(c, d) else 0
    b, c, d, e = par
    if model == "LL.4":
        res = e * _oracle_pow(_ieee_div(y - d, c - y), 1.0 / b)
    else:
        ratio = _ieee_div(d - y, y - c)
        lg = math.log(ratio) if ratio > 0 else (-math.inf if ratio == 0 else math.nan)
        z = e + lg / b
        res = math.exp(z) if z < 709 else math.inf
    if math.isnan(res):
        res = math.inf if y > max(d, c) else 0.0
    return res


def _oracle_loewe(x: tuple[float, float], y: float, fits: list[tuple[str, tuple]]) -> float:  # type: ignore[type-arg]
    # Loewe(): if no x_cap is finite, max of the single-drug curves at sum(x); else .SolveLoewe
    x_cap = [_oracle_solve_exp_dose(m, p, y) for m, p in fits]
    if all(not math.isfinite(v) for v in x_cap):
        return max(_oracle_predict(m, p, x[0] + x[1]) for m, p in fits)
    min_y = min(min(p[1], p[2]) for _, p in fits)
    max_y = max(max(p[1], p[2]) for _, p in fits)
    step = (max_y - min_y) / 99
    best, best_y = math.inf, math.nan
    for k in range(100):
        yk = max_y if k == 99 else min_y + k * step
        terms = [_oracle_solve_exp_dose(m, p, yk) for m, p in fits]
        dist = abs(sum(xi / t if t != 0 else math.inf for xi, t in zip(x, terms, strict=True)) - 1)
        if dist < best:  # which(dist == min(dist))[1]: the first minimum
            best, best_y = dist, yk
    return best_y


def test_block2_references_follow_the_r_rules(mathews) -> None:  # type: ignore[no-untyped-def]
    """Oracle from the R source on Mathews block 2, fed only the R run's drc parameters:
    ZIP_ref = (1 − (1 − ŷ1/100)(1 − ŷ2/100))·100 with the single-agent fitted values, and
    Loewe by the grid / max-of-single-agents rules. atol 1e-8 (summation order; a grid
    tie would show as a jump of a whole grid step, ~1.3 points here)."""
    _, scores, ref = mathews
    s = next(x for x in scores if x.block.block_id == "2")
    fits = ref["fits"]
    single = fits[(fits.block_id == "2") & (fits.kind == "single")].set_index("along")
    par = [
        (str(single.loc[k, "model"]), tuple(float(v) for v in single.loc[k, list("bcde")]))
        for k in ("conc1", "conc2")
    ]
    b = s.block
    kinds = set()
    for i in range(1, b.shape[0]):
        for j in range(1, b.shape[1]):
            y1 = _oracle_predict(par[0][0], par[0][1], float(b.conc1[i]))
            y2 = _oracle_predict(par[1][0], par[1][1], float(b.conc2[j]))
            zip_ref = (1 - (1 - y1 / 100) * (1 - y2 / 100)) * 100
            assert s.reference["zip"][i, j] == pytest.approx(zip_ref, abs=1e-8)
            y = float(b.inhibition[i, j])
            caps = [_oracle_solve_exp_dose(m, p, y) for m, p in par]
            kinds.add("fallback" if not any(map(math.isfinite, caps)) else "grid")
            expected = _oracle_loewe((float(b.conc1[i]), float(b.conc2[j])), y, par)
            assert s.reference["loewe"][i, j] == pytest.approx(expected, abs=1e-8), (i, j)
    assert kinds == {"fallback", "grid"}  # both Loewe paths occur in block 2


# --- code paths beyond the Mathews data -----------------------------------------------


def test_every_path_block_equals_synergyfinder(paths) -> None:  # type: ignore[no-untyped-def]
    """All blocks of the paths file that SynergyFinder scores: every cell, every value."""
    blocks, scores, ref = paths
    failed = set(ref["errors"].block_id)
    assert failed == {"refit_error", "single_agent_error"}
    checked = 0
    for s in scores:
        if s.block.block_id in failed:
            continue
        worst = _check_cells(s, ref["scores"][ref["scores"].block_id == s.block.block_id])
        assert worst < 1e-10
        _check_summary(s, ref["summary"])
        checked += 1
    assert checked == len(blocks) - 2 == 10


def test_every_path_drc_fit_equals_synergyfinder(paths) -> None:  # type: ignore[no-untyped-def]
    """Model choice (LL.4, L.4 fallback, failure) and parameters of every fit."""
    blocks, _, ref = paths
    fits = ref["fits"]
    assert {"LL.4", "L.4", "error"} <= set(fits.model)
    assert {"LL.4", "L.4"} <= set(fits[fits.kind == "single"].model)
    assert sum(_check_fits(b, fits) for b in blocks) == len(fits)


def test_row_order_matters_and_is_followed(mathews, paths) -> None:  # type: ignore[no-untyped-def]
    """Mathews block 2 with its rows sorted ascending: drc's fit of the canertinib-2500 nM row
    runs to maxit (500) on a flat valley and ends elsewhere, so SynergyFinder's own ZIP
    changes with the file's row order. Both orders are reproduced."""
    _, m_scores, m_ref = mathews
    _, p_scores, p_ref = paths
    a = m_ref["scores"][m_ref["scores"].block_id == "2"].set_index(["conc1", "conc2"])
    b = p_ref["scores"][p_ref["scores"].block_id == "mathews2_ascending_rows"]
    b = b.set_index(["conc1", "conc2"]).loc[a.index]
    assert np.max(np.abs(a.ZIP_fit - b.ZIP_fit)) > 0.05  # R disagrees with itself
    np.testing.assert_allclose(a.Loewe_ref, b.Loewe_ref, atol=1e-12)  # single agents agree
    s1 = next(s for s in m_scores if s.block.block_id == "2")
    s2 = next(s for s in p_scores if s.block.block_id == "mathews2_ascending_rows")
    assert np.max(np.abs(s1.zip_fit - s2.zip_fit)) > 0.05


def test_synergyfinder_errors_are_nan_and_flagged(paths) -> None:  # type: ignore[no-untyped-def]
    """Where SynergyFinder stops with an R error (drc fails with LL.4 and L.4, then
    ``predict`` on the unfitted object), there is no SynergyFinder value: ZIP (and, for a
    failed single agent, Loewe) is NaN and flagged; Bliss/HSA need no fit and stay."""
    _, scores, ref = paths
    by_id = {s.block.block_id: s for s in scores}
    msgs = dict(zip(ref["errors"].block_id, ref["errors"].message, strict=True))
    assert all("no applicable method for 'predict'" in m for m in msgs.values())
    refit = by_id["refit_error"]
    assert "zip_refit_failed" in refit.flags
    assert np.all(np.isnan(refit.synergy["zip"][1:, 1:]))
    assert np.all(np.isfinite(refit.synergy["loewe"][1:, 1:]))
    single = by_id["single_agent_error"]
    assert "single_agent_fit_failed:drugA" in single.flags
    assert single.single_agents["drugA"]["status"] == "failed"
    for m in ("zip", "loewe"):
        assert np.all(np.isnan(single.synergy[m][1:, 1:]))
        assert math.isnan(single.summary[m]["mean"])
    for s in (refit, single):
        assert np.all(np.isfinite(s.synergy["bliss"]))
        assert np.all(np.isfinite(s.synergy["hsa"]))


def test_sensitivity_every_mathews_block_equals_synergyfinder(mathews) -> None:  # type: ignore[no-untyped-def]
    """``CalculateSensitivity(data, correct_baseline = "non")`` (same R setup), both blocks::

        1: ic50 2500 / 2.74056267430683, ri 59.985 / 27.003, css 85.922 / 82.769 -> 84.3455
        2: ic50 972.814171126229 / 1.43649305037018, ri -47.774 / 45.184,
           css -36.392 / -6.362 -> -21.377

    RI/CSS are rounded to 3 decimals by SynergyFinder: exact equality of the rounded values;
    IC50 rtol 1e-12. CSS fits take each row/column in input order (``nest``)."""
    from kinresist.synergy.sensitivity import sensitivity

    blocks, _, _ = mathews
    expected = {
        "1": (2500.0, 2.74056267430683, 59.985, 27.003, 85.922, 82.769, 84.3455),
        "2": (972.814171126229, 1.43649305037018, -47.774, 45.184, -36.392, -6.362, -21.377),
    }
    for b in blocks:
        s = sensitivity(b)
        ic1, ic2, *rest = expected[b.block_id]
        assert (s.ic50_1, s.ic50_2) == pytest.approx((ic1, ic2), rel=1e-12)
        got = (s.ri_1, s.ri_2, s.css1_ic502, s.css2_ic501, s.css)
        assert got == pytest.approx(tuple(rest), abs=1e-9)
