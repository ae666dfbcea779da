"""Batch synergy engine: Bliss, HSA, Loewe and ZIP for many blocks at once.

``mode="exact"`` (default): single agents and ZIP's row/column refits are fitted at
the least-squares optimum by the batch engine (:func:`kinresist.dose.engine.fit_batch`,
one call per stack for each kind of fit; single agents whose optimum is a step are
used at that limit and flagged, :mod:`kinresist.synergy.single_agent`), Loewe by
bracketed root finding with unreachable effects flagged (NaN, ``loewe_unreachable``)
and, next to a step, undetermined cells flagged (NaN, ``loewe_undetermined_step``). Everything is vectorised
over blocks of equal shape and deterministic (no random numbers).

``mode="synergyfinder"``: reproduces SynergyFinder 3.7.3 (drc replayed operation for
operation on the data in input-row order, L.4 fallback, Loewe by its 100-point grid
search or its max-of-single-agents fallback, artefacts included; where SynergyFinder
stops with an error, NaN and a flag). Per-block loop; slower. Every code path is
listed in docs/synergy.md, "SynergyFinder mode, path by path".

Scores are in SynergyFinder's units: % inhibition, synergy = observed − expected,
positive = synergy, 0 in monotherapy cells; block score = mean over combination
cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kinresist.errors import InputError
from kinresist.synergy.block import Block, BlockStack, stack_blocks
from kinresist.synergy.reference import bliss, hsa, loewe_root, loewe_synergyfinder_grid
from kinresist.synergy.single_agent import fit_single_agents
from kinresist.synergy.summary import block_mean, block_p_value, max_area_mean
from kinresist.synergy.zip import zip_exact, zip_synergyfinder

__all__ = [
    "METHODS",
    "BlockScores",
    "Mode",
    "StackScores",
    "block_flags",
    "score_blocks",
    "score_stack",
    "stack_flags",
]

Mode = Literal["exact", "synergyfinder"]
METHODS: tuple[str, ...] = ("zip", "bliss", "hsa", "loewe")
_CHUNK = 20_000


@dataclass(frozen=True, eq=False)
class StackScores:
    """Scores of a :class:`BlockStack`; all arrays have a leading block axis.

    Attributes
    ----------
    reference, synergy
        method -> ``(B, n1, n2)`` expected response and observed − expected.
    zip_fit
        ``(B, n1, n2)`` ZIP's fitted combination surface.
    loewe_unreachable
        ``(B, n1, n2)`` True where the Loewe effect level is not attainable (exact mode).
    mean, max_area, p_value, n_undefined
        method -> ``(B,)`` block summaries.
    single1, single2
        ``(B, 4)`` single-agent curve parameters (drc b, c, d, e) of drug 1 and drug 2.
    single_model
        ``(B, 2)`` model names (``"LL.4"``, ``"L.4"``) of the single-agent fits.
    n_refit_failed
        ``(B,)`` ZIP row/column fits that failed (exact mode: not converged, observed
        values used where the prediction is not finite; synergyfinder mode: drc failed,
        SynergyFinder stops, the block's ZIP is NaN).
    single_failed
        ``(B, 2)`` True where a single-agent fit failed (ZIP and Loewe undefined).
    single_unconverged
        ``(B, 2)`` True where the engine did not report convergence (exact mode).
    single_status
        ``(B, 2)`` ``"ok"``, ``"at_limit"``, ``"step"`` or ``"failed"`` (exact mode; see
        :mod:`kinresist.synergy.single_agent`); synergyfinder mode: ``"ok"``/``"failed"``.
    single_reason
        ``(B, 2)`` why a single-agent fit failed (``""`` otherwise).
    loewe_undetermined
        ``(B, n1, n2)`` True where the Loewe expectation depends on where a step-like
        single agent changes between two tested doses (exact mode; value NaN).
    """

    mode: str
    reference: dict[str, np.ndarray]
    synergy: dict[str, np.ndarray]
    zip_fit: np.ndarray
    loewe_unreachable: np.ndarray
    mean: dict[str, np.ndarray]
    max_area: dict[str, np.ndarray]
    p_value: dict[str, np.ndarray]
    n_undefined: dict[str, np.ndarray]
    single1: np.ndarray
    single2: np.ndarray
    single_model: np.ndarray
    n_refit_failed: np.ndarray
    single_failed: np.ndarray
    single_unconverged: np.ndarray
    single_status: np.ndarray
    single_reason: np.ndarray
    loewe_undetermined: np.ndarray


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    out = tuple(m.lower() for m in methods)
    bad = [m for m in out if m not in METHODS]
    if bad:
        msg = f"unknown synergy method(s) {bad}; expected some of {list(METHODS)}"
        raise InputError(msg)
    return out


def _summaries(
    synergy: dict[str, np.ndarray],
) -> tuple[
    dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]
]:
    mean, area, pval, nund = {}, {}, {}, {}
    for m, s in synergy.items():
        mean[m], nund[m] = block_mean(s)
        area[m] = max_area_mean(s)
        pval[m] = block_p_value(s)
    return mean, area, pval, nund


def _score_chunk(stack: BlockStack, mode: Mode, methods: tuple[str, ...]) -> StackScores:
    c1, c2, obs = stack.conc1, stack.conc2, stack.inhibition
    nb, n1, n2 = obs.shape
    ref: dict[str, np.ndarray] = {}
    unreachable = np.zeros(obs.shape, dtype=bool)
    zip_fit = np.full(obs.shape, np.nan)
    n_failed = np.zeros(nb, dtype=int)
    models = np.full((nb, 2), "LL.4", dtype=object)
    single_failed = np.zeros((nb, 2), dtype=bool)
    single_unconverged = np.zeros((nb, 2), dtype=bool)
    single_status = np.full((nb, 2), "ok", dtype=object)
    single_reason = np.full((nb, 2), "", dtype=object)
    undetermined = np.zeros(obs.shape, dtype=bool)
    if "bliss" in methods:
        ref["bliss"] = bliss(obs)
    if "hsa" in methods:
        ref["hsa"] = hsa(obs)
    need_fits = "zip" in methods or "loewe" in methods
    p1 = np.full((nb, 4), np.nan)
    p2 = np.full((nb, 4), np.nan)
    if need_fits and mode == "exact":
        singles = fit_single_agents(c1, c2, obs)
        p1 = np.column_stack(
            [singles.curve1.b, singles.curve1.c, singles.curve1.d, singles.curve1.e]
        )
        p2 = np.column_stack(
            [singles.curve2.b, singles.curve2.c, singles.curve2.d, singles.curve2.e]
        )
        single_failed = np.column_stack([~singles.usable1, ~singles.usable2])
        single_unconverged = np.column_stack([~singles.converged1, ~singles.converged2])
        single_status = np.column_stack([singles.fit1.status, singles.fit2.status])
        single_reason = np.column_stack([singles.fit1.reason, singles.fit2.reason])
        if "zip" in methods:
            z = zip_exact(c1, c2, obs, singles)
            ref["zip"], zip_fit, n_failed = z.ref, z.fit, z.n_refit_failed
        if "loewe" in methods:
            y, unreachable = loewe_root(c1, c2, singles.curve1, singles.curve2)
            unreachable = unreachable & ~np.any(single_failed, axis=1)[:, None, None]
            # a two-level step inside the tested range: below its gap the isobole term
            # x/X(y) = x/s depends on the unknown step dose s -> not determined
            below1 = singles.fit1.undetermined_below[:, None, None]
            below2 = singles.fit2.undetermined_below[:, None, None]
            combo = (c1[:, :, None] > 0) & (c2[:, None, :] > 0)
            undetermined = combo & ((c1[:, :, None] <= below1) | (c2[:, None, :] <= below2))
            y = np.where(undetermined, np.nan, y)
            unreachable = unreachable & ~undetermined
            lo = obs.copy()
            lo[:, 1:, 1:] = y[:, 1:, 1:]
            ref["loewe"] = lo
    elif need_fits:
        z, fits = zip_synergyfinder(c1, c2, obs, stack.rank, refits="zip" in methods)
        for k, (f1, f2) in enumerate(fits):
            p1[k], p2[k] = f1.params, f2.params
            models[k] = (f1.model, f2.model)
            single_failed[k] = (f1.failed, f2.failed)
            single_status[k] = ("failed" if f1.failed else "ok", "failed" if f2.failed else "ok")
            single_reason[k] = tuple("ll4_and_l4_failed" if f.failed else "" for f in (f1, f2))
        if "zip" in methods:
            ref["zip"], zip_fit, n_failed = z.ref, z.fit, z.n_refit_failed
        if "loewe" in methods:
            lo = obs.copy()
            x1 = np.broadcast_to(c1[:, 1:, None], (nb, n1 - 1, n2 - 1))
            x2 = np.broadcast_to(c2[:, None, 1:], (nb, n1 - 1, n2 - 1))
            for k, (f1, f2) in enumerate(fits):
                if f1.failed or f2.failed:
                    lo[k, 1:, 1:] = np.nan
                    continue
                vals = loewe_synergyfinder_grid(
                    x1[k].ravel(),
                    x2[k].ravel(),
                    obs[k, 1:, 1:].ravel(),
                    (f1.predict, f2.predict),
                    (f1.inverse, f2.inverse),
                    ((f1.lower, f1.upper), (f2.lower, f2.upper)),
                )
                lo[k, 1:, 1:] = vals.reshape(n1 - 1, n2 - 1)
            ref["loewe"] = lo
    synergy = {}
    for m in methods:
        s = (zip_fit if m == "zip" else obs) - ref[m]  # ZIP: fitted surface − reference
        s[:, 0, :] = 0.0
        s[:, :, 0] = 0.0
        synergy[m] = s
    mean, area, pval, nund = _summaries(synergy)
    return StackScores(
        mode,
        {m: ref[m] for m in methods},
        synergy,
        zip_fit,
        unreachable,
        mean,
        area,
        pval,
        nund,
        p1,
        p2,
        models,
        n_failed,
        single_failed,
        single_unconverged,
        single_status,
        single_reason,
        undetermined,
    )


def _concat(parts: list[StackScores]) -> StackScores:
    if len(parts) == 1:
        return parts[0]

    def cat(getter):  # type: ignore[no-untyped-def]
        return np.concatenate([getter(p) for p in parts])

    first = parts[0]
    keys = list(first.synergy)
    return StackScores(
        first.mode,
        {m: cat(lambda p, m=m: p.reference[m]) for m in keys},
        {m: cat(lambda p, m=m: p.synergy[m]) for m in keys},
        cat(lambda p: p.zip_fit),
        cat(lambda p: p.loewe_unreachable),
        {m: cat(lambda p, m=m: p.mean[m]) for m in keys},
        {m: cat(lambda p, m=m: p.max_area[m]) for m in keys},
        {m: cat(lambda p, m=m: p.p_value[m]) for m in keys},
        {m: cat(lambda p, m=m: p.n_undefined[m]) for m in keys},
        cat(lambda p: p.single1),
        cat(lambda p: p.single2),
        cat(lambda p: p.single_model),
        cat(lambda p: p.n_refit_failed),
        cat(lambda p: p.single_failed),
        cat(lambda p: p.single_unconverged),
        cat(lambda p: p.single_status),
        cat(lambda p: p.single_reason),
        cat(lambda p: p.loewe_undetermined),
    )


def block_flags(
    res: StackScores, k: int, drug1: str, drug2: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Flags of block ``k`` of ``res``: (single-agent flags, which apply to ZIP and Loewe of
    every combination cell; all of the block's flags)."""
    fit_flags: list[str] = []
    for d, name in ((0, drug1), (1, drug2)):
        status = res.single_status[k, d]
        if res.single_failed[k, d]:
            fit_flags.append(f"single_agent_fit_failed:{name}")
        elif status in ("at_limit", "step"):
            fit_flags.append(f"single_agent_at_limit:{name}")
            if status == "step":
                fit_flags.append(f"single_agent_step_curve:{name}")
    flags = list(fit_flags)
    if res.loewe_unreachable[k].any():
        flags.append("loewe_unreachable")
    if res.loewe_undetermined[k].any():
        flags.append("loewe_undetermined_step")
    if res.n_refit_failed[k]:
        flags.append(
            "zip_refit_failed" if res.mode == "synergyfinder" else "zip_refit_not_converged"
        )
    return tuple(fit_flags), tuple(flags)


def _join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise ``";".join`` of two object arrays of strings, empty strings skipped."""
    out = np.where(a == "", b, a)
    both = (a != "") & (b != "")
    out[both] = a[both] + ";" + b[both]
    return out


def stack_flags(
    res: StackScores, drug1: Sequence[str] | np.ndarray, drug2: Sequence[str] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`block_flags` of every block of a stack, vectorised: each block's single-agent
    flags and all its flags joined with ``";"`` (object arrays of ``(B,)`` strings)."""
    nb = res.n_refit_failed.shape[0]
    fit = np.full(nb, "", dtype=object)
    for d, drug in enumerate((drug1, drug2)):
        names = np.empty(nb, dtype=object)
        names[:] = [str(x) for x in drug]
        failed = res.single_failed[:, d].astype(bool)
        status = res.single_status[:, d]
        step = ~failed & (status == "step")
        limit = ~failed & ((status == "at_limit") | step)
        part = np.full(nb, "", dtype=object)
        part[failed] = "single_agent_fit_failed:" + names[failed]
        part[limit] = "single_agent_at_limit:" + names[limit]
        part[step] = part[step] + ";single_agent_step_curve:" + names[step]
        fit = _join(fit, part)
    zip_flag = "zip_refit_failed" if res.mode == "synergyfinder" else "zip_refit_not_converged"
    every = fit
    for mask, flag in (
        (res.loewe_unreachable.reshape(nb, -1).any(axis=1), "loewe_unreachable"),
        (res.loewe_undetermined.reshape(nb, -1).any(axis=1), "loewe_undetermined_step"),
        (res.n_refit_failed != 0, zip_flag),
    ):
        every = _join(every, np.where(mask, flag, "").astype(object))
    return fit, every


def score_stack(
    stack: BlockStack,
    *,
    mode: Mode = "exact",
    methods: Sequence[str] = METHODS,
    chunk_size: int = _CHUNK,
) -> StackScores:
    """Score every block of a stack (equal shapes) with the chosen methods.

    Parameters
    ----------
    stack
        Doses and % inhibition of B blocks.
    mode
        ``"exact"`` (least-squares fits, root-finding Loewe) or ``"synergyfinder"``.
    methods
        Any of ``"zip"``, ``"bliss"``, ``"hsa"``, ``"loewe"``.
    chunk_size
        Blocks per vectorised chunk (memory bound).
    """
    if mode not in ("exact", "synergyfinder"):
        msg = f"unknown mode {mode!r}; expected 'exact' or 'synergyfinder'"
        raise InputError(msg)
    meths = _check_methods(methods)
    parts = [
        _score_chunk(
            BlockStack(
                stack.conc1[s],
                stack.conc2[s],
                stack.inhibition[s],
                None if stack.rank is None else stack.rank[s],
            ),
            mode,
            meths,
        )
        for s in (slice(i, i + chunk_size) for i in range(0, stack.n_blocks, chunk_size))
    ]
    return _concat(parts)


@dataclass(frozen=True, eq=False)
class BlockScores:
    """Scores of one block (views into the stack results).

    ``flags``: block flags (see docs/synergy.md); ``cell_flags``: ``(n1, n2)`` tuples of
    the flags that apply to each cell's ZIP/Loewe values (empty in monotherapy cells).
    """

    block: Block
    mode: str
    reference: dict[str, np.ndarray]
    synergy: dict[str, np.ndarray]
    zip_fit: np.ndarray
    loewe_unreachable: np.ndarray
    summary: dict[str, dict[str, float]]
    single_agents: dict[str, dict[str, float | str]]
    n_refit_failed: int
    flags: tuple[str, ...] = field(default_factory=tuple)
    loewe_undetermined: np.ndarray | None = None
    cell_flags: tuple[tuple[tuple[str, ...], ...], ...] = field(default_factory=tuple)


def score_blocks(
    blocks: Sequence[Block], *, mode: Mode = "exact", methods: Sequence[str] = METHODS
) -> list[BlockScores]:
    """Score blocks of any shapes (grouped by shape and scored stack-wise), in input order."""
    out: list[BlockScores | None] = [None] * len(blocks)
    meths = _check_methods(methods)
    for idx, stack in stack_blocks(blocks).values():
        res = score_stack(stack, mode=mode, methods=meths)
        for k, bi in enumerate(idx):
            blk = blocks[bi]
            summary = {
                m: {
                    "mean": float(res.mean[m][k]),
                    "max_area_3x3": float(res.max_area[m][k]),
                    "p_value": float(res.p_value[m][k]),
                    "n_combination_cells": int((blk.shape[0] - 1) * (blk.shape[1] - 1)),
                    "n_undefined": int(res.n_undefined[m][k]),
                }
                for m in meths
            }
            fit_flags, flags = block_flags(res, k, blk.drug1, blk.drug2)
            uses_fits = [m for m in ("zip", "loewe") if m in meths]
            n1b, n2b = blk.shape
            cell_flags = tuple(
                tuple(
                    ()
                    if i == 0 or j == 0
                    else (
                        *(fit_flags if uses_fits else ()),
                        *(("loewe_unreachable",) if res.loewe_unreachable[k, i, j] else ()),
                        *(("loewe_undetermined_step",) if res.loewe_undetermined[k, i, j] else ()),
                    )
                    for j in range(n2b)
                )
                for i in range(n1b)
            )
            singles: dict[str, dict[str, float | str]] = {}
            for d, (name, par, model) in enumerate(
                (
                    (blk.drug1, res.single1[k], res.single_model[k, 0]),
                    (blk.drug2, res.single2[k], res.single_model[k, 1]),
                )
            ):
                singles[name] = {
                    "model": str(model),
                    **dict(zip("bcde", map(float, par), strict=True)),
                    "status": str(res.single_status[k, d]),
                    "reason": str(res.single_reason[k, d]),
                }
            out[bi] = BlockScores(
                blk,
                mode,
                {m: res.reference[m][k] for m in meths},
                {m: res.synergy[m][k] for m in meths},
                res.zip_fit[k],
                res.loewe_unreachable[k],
                summary,
                singles,
                int(res.n_refit_failed[k]),
                tuple(flags),
                res.loewe_undetermined[k],
                cell_flags,
            )
    return [o for o in out if o is not None]
