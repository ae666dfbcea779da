"""Replicates and baseline correction (SynergyFinder conventions, deterministic RNG).

**Bootstrap with replicates** (spec ``synergy.md`` §3): ``iterations`` rounds (default
10); in each round every cell's value is the mean of n draws from Normal(mean, sd) of
its n replicates (sd with n − 1; cells with one replicate keep their value); the
scores are recomputed for every round at once (one stack, vectorised). Reported per
cell: mean, sd, SEM = sd/√iterations, 2.5 %/97.5 % quantiles; per block: mean of the
round block-means and ``p = exp(−0.717 z − 0.416 z²)`` with ``z = |mean| / sd`` of the
round block-means. Random numbers come from the caller's ``np.random.Generator``
(SynergyFinder uses R's ``set.seed(123)``; its draws cannot be reproduced, so the
bootstrap statistics agree with SynergyFinder only in distribution).

**Baseline correction** (SynergyFinder ``CorrectBaseLine``): baseline = the minimum
fitted single-agent response (both drugs, tested doses; synergyfinder mode: drc fits on
the rows in input order, L.4 fitted values at dose 1e-10); ``"part"`` corrects only
negative inhibitions, ``"all"`` every cell: ``I − ((100 − I)/100)·baseline``;
``"non"`` (default) leaves the data unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from kinresist.errors import InputError
from kinresist.synergy.block import Block, BlockStack
from kinresist.synergy.engine import METHODS, Mode, score_stack
from kinresist.synergy.summary import p_from_z

__all__ = ["Baseline", "bootstrap_scores", "correct_baseline"]

Baseline = Literal["non", "part", "all"]


def bootstrap_scores(
    block: Block,
    *,
    rng: np.random.Generator,
    mode: Mode = "exact",
    methods: Sequence[str] = METHODS,
    iterations: int = 10,
) -> dict[str, Any]:
    """Bootstrap statistics of a block with replicates (see module docstring)."""
    if block.replicates is None:
        msg = f"block {block.block_id!r} has no replicates to bootstrap"
        raise InputError(msg)
    if iterations < 2:
        msg = "bootstrap needs at least 2 iterations"
        raise InputError(msg)
    reps = block.replicates
    n = np.sum(np.isfinite(reps), axis=2)
    mean = np.nanmean(reps, axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.nansum((reps - mean[:, :, None]) ** 2, axis=2)
        sd = np.where(n > 1, np.sqrt(ss / np.maximum(n - 1, 1)), 0.0)
    nmax = int(n.max())
    draws = rng.normal(size=(iterations, *mean.shape, nmax))
    use = np.arange(nmax)[None, None, None, :] < n[None, :, :, None]
    sample = mean[None, :, :, None] + sd[None, :, :, None] * draws
    rounds = np.sum(np.where(use, sample, 0.0), axis=3) / n[None]
    stack = BlockStack(
        np.broadcast_to(block.conc1, (iterations, block.conc1.size)).copy(),
        np.broadcast_to(block.conc2, (iterations, block.conc2.size)).copy(),
        rounds,
    )
    res = score_stack(stack, mode=mode, methods=methods)
    out: dict[str, Any] = {"iterations": iterations}
    for m in res.synergy:
        s = res.synergy[m]
        bm = res.mean[m]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.abs(np.mean(bm)) / np.std(bm, ddof=1)
        out[m] = {
            "block_mean": float(np.mean(bm)),
            "block_sd": float(np.std(bm, ddof=1)),
            "p_value": float(p_from_z(np.array(z))),
            "cell_mean": s.mean(axis=0),
            "cell_sd": s.std(axis=0, ddof=1),
            "cell_sem": s.std(axis=0, ddof=1) / np.sqrt(iterations),
            "cell_q025": np.quantile(s, 0.025, axis=0),
            "cell_q975": np.quantile(s, 0.975, axis=0),
        }
    return out


def _fitted_minimum(block: Block, mode: Mode) -> float:
    if mode == "synergyfinder":
        from kinresist.synergy.block import default_rank
        from kinresist.synergy.zip import _fit_in_order

        rank = block.input_rank if block.input_rank is not None else default_rank(*block.shape)
        vals = []
        for conc, resp, rk in (
            (block.conc1, block.inhibition[:, 0], rank[:, 0]),
            (block.conc2, block.inhibition[0, :], rank[0, :]),
        ):
            fit, fitted = _fit_in_order(conc, resp, rk)
            if fit.failed:
                msg = (
                    f"block {block.block_id!r}: baseline correction needs single-agent fits; "
                    "drc's LL.4 and L.4 both fail here (SynergyFinder stops with an error)"
                )
                raise InputError(msg)
            vals.append(fitted)
        return float(min(np.min(v) for v in vals))
    from kinresist.synergy.zip import fit_single_agents

    s = fit_single_agents(block.conc1[None], block.conc2[None], block.inhibition[None])
    fitted = np.concatenate(
        [s.curve1.predict(block.conc1[None])[0], s.curve2.predict(block.conc2[None])[0]]
    )
    if not np.all(np.isfinite(fitted)):
        msg = f"block {block.block_id!r}: baseline correction needs single-agent fits, which failed"
        raise InputError(msg)
    return float(np.min(fitted))


def correct_baseline(block: Block, method: Baseline, *, mode: Mode = "exact") -> Block:
    """The block with SynergyFinder's baseline correction applied (``"non"``: unchanged)."""
    if method == "non":
        return block
    if method not in ("part", "all"):
        msg = f"unknown baseline correction {method!r}; expected non, part or all"
        raise InputError(msg)
    base = _fitted_minimum(block, mode)
    inh = block.inhibition
    adj = inh - ((100.0 - inh) / 100.0) * base
    new = adj if method == "all" else np.where(inh < 0, adj, inh)
    reps = block.replicates
    if reps is not None:
        radj = reps - ((100.0 - reps) / 100.0) * base
        reps = radj if method == "all" else np.where(reps < 0, radj, reps)
    return replace(
        block,
        inhibition=new,
        replicates=reps,
        notes=(*block.notes, f"baseline_{method}:{base:.6g}"),
    )
