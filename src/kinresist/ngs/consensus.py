"""fgbio-style likelihood consensus per UMI family and reference position (vectorised).

Model (fgbio ``CallMolecularConsensusReads``; re-implemented, no code copied):

1. each raw base error is combined with the post-UMI error rate:
   ``p_i = f(p_seq, p_post)``, ``f(X, Y) = X + Y - 4/3 X Y``;
2. ``L(B) = prod_i [(1 - p_i) if b_i == B else p_i / 3]`` over the family's bases at the
   position; posterior ``L(B) / sum L``; consensus = argmax; ties -> no call (N);
3. the pre-UMI error is folded in: ``p_final = f(1 - posterior_max, p_pre)``,
   ``Q = -10 log10 p_final``.

Bases below ``min_input_base_quality`` are ignored. Duplex (two strands of one molecule):
single-strand consensus per strand, then agreement -> ``Q = Q_A + Q_B``; disagreement ->
the higher-quality base with ``Q = |Q_A - Q_B|`` (equal -> N), as fgbio's duplex caller.

All functions work on flat arrays of observations (one per read base) grouped by an integer
key (family x position), using ``np.unique``/``np.bincount``: no Python loop over reads. The
molecule counter runs the same model compiled, per family and position, summing the same
per-quality terms (:func:`_log_tables`) in the same order (:mod:`kinresist.ngs._molecules`);
these NumPy functions are its reference (tests/ngs/test_ngs_hotpath.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = [
    "ConsensusCalls",
    "ConsensusParams",
    "combine_duplex",
    "consensus_by_key",
    "phred_combine",
]

N_CODE = 4  # A C G T = 0..3, N/no call = 4


@dataclass(frozen=True, slots=True)
class ConsensusParams:
    """Consensus and molecule-filter settings (fgbio defaults where fgbio has one).

    Parameters
    ----------
    error_rate_pre_umi, error_rate_post_umi
        Phred-scaled error rates before and after UMI attachment (45, 40).
    min_input_base_quality
        Raw bases below this are ignored (10).
    min_consensus_base_quality
        Consensus bases below this become N (fgbio default 2; we use 13, the usual
        ``FilterConsensusReads`` floor for low-VAF work).
    min_family_size
        Molecules backed by fewer read templates are not counted (3; fgbio best practice
        ``FilterConsensusReads --min-reads 3``; UMIErrorCorrect family size >= 3).
    max_base_error_rate
        A consensus base whose raw bases disagree more often than this is not counted (0.35;
        fgbio suggests 0.2 for ``--max-base-error-rate``; a 2-of-3 majority is allowed).
    min_duplex_strand_reads
        Reads needed on each strand for a molecule to count as duplex-supported (1).
    """

    error_rate_pre_umi: float = 45.0
    error_rate_post_umi: float = 40.0
    min_input_base_quality: int = 10
    min_consensus_base_quality: int = 13
    min_family_size: int = 3
    max_base_error_rate: float = 0.35
    min_duplex_strand_reads: int = 1


def phred_combine(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """``f(X, Y) = X + Y - 4/3 X Y``: probability that two error processes leave an error."""
    x = np.asarray(x, dtype=float)
    return x + y - (4.0 / 3.0) * x * y


@lru_cache(maxsize=8)
def _log_tables(post_umi_q: float) -> tuple[np.ndarray, np.ndarray]:
    """``log(p/3)`` and ``log(1-p) - log(p/3)`` for integer base qualities 0..255."""
    q = np.arange(256, dtype=float)
    p = np.clip(phred_combine(10.0 ** (-q / 10.0), 10.0 ** (-post_umi_q / 10.0)), 1e-12, 0.75)
    lp_err = np.log(p / 3.0)
    return lp_err, np.log1p(-p) - lp_err


@dataclass(frozen=True, slots=True)
class ConsensusCalls:
    """One consensus base per unique key.

    ``key`` (unique keys, first-seen order), ``base`` (0-3, 4 = N), ``qual`` (Phred, float),
    ``depth`` (raw bases used), ``errors`` (raw bases disagreeing with the consensus).
    """

    key: np.ndarray
    base: np.ndarray
    qual: np.ndarray
    depth: np.ndarray
    errors: np.ndarray


def consensus_by_key(
    key: np.ndarray,
    base: np.ndarray,
    qual: np.ndarray,
    params: ConsensusParams,
    *,
    fold_pre_umi: bool = True,
) -> ConsensusCalls:
    """Likelihood consensus of raw bases sharing a key (family x position).

    Parameters
    ----------
    key
        int64 group key per observation.
    base
        0-3 per observation (4 = N: ignored).
    qual
        Phred base quality per observation.
    params
        Error rates and input-quality floor.
    fold_pre_umi
        Apply the pre-UMI error (False for single strands that are combined into duplex).
    """
    keep = (base < N_CODE) & (qual >= params.min_input_base_quality)
    key, base, qual = key[keep], base[keep].astype(np.int64), qual[keep]
    # hash-based factorisation (O(n)); np.unique would sort all observations
    inv, ukey = pd.factorize(key, sort=False)
    inv = inv.astype(np.int64)
    ukey = np.asarray(ukey, dtype=np.int64)
    g = len(ukey)
    if g == 0:
        empty = np.zeros(0)
        return ConsensusCalls(
            ukey, empty.astype(np.int8), empty, empty.astype(np.int32), empty.astype(np.int32)
        )
    lut_err, lut_gain = _log_tables(params.error_rate_post_umi)
    if np.issubdtype(qual.dtype, np.integer) and (len(qual) == 0 or qual.max() < len(lut_err)):
        qi = qual.astype(np.intp)
        lp_err, gain_obs = lut_err[qi], lut_gain[qi]  # per-quality lookups: no log per base
    else:
        p = np.clip(
            phred_combine(
                10.0 ** (-qual.astype(float) / 10.0), 10.0 ** (-params.error_rate_post_umi / 10.0)
            ),
            1e-12,
            0.75,
        )
        lp_err = np.log(p / 3.0)
        gain_obs = np.log1p(-p) - lp_err
    base_ll = np.bincount(inv, weights=lp_err, minlength=g)
    gain = np.bincount(inv * 4 + base, weights=gain_obs, minlength=4 * g).reshape(g, 4)
    ll = base_ll[:, None] + gain
    order = np.argsort(-ll, axis=1, kind="stable")
    best = order[:, 0]
    rows = np.arange(g)
    top = ll[rows, best]
    second = ll[rows, order[:, 1]]
    rel = np.exp(ll - top[:, None])
    p_raw = (rel.sum(axis=1) - 1.0) / rel.sum(axis=1)
    if fold_pre_umi:
        p_raw = phred_combine(p_raw, 10.0 ** (-params.error_rate_pre_umi / 10.0))
    p_raw = np.clip(p_raw, 1e-12, 1.0)
    q = -10.0 * np.log10(p_raw)
    tie = np.isclose(top, second, rtol=0.0, atol=1e-9)
    cons = np.where(tie, N_CODE, best).astype(np.int8)
    q = np.where(tie, 0.0, q)
    depth = np.bincount(inv, minlength=g).astype(np.int32)
    agree = np.bincount(inv, weights=(base == best[inv]).astype(float), minlength=g)
    errors = (depth - agree).astype(np.int32)
    low = q < params.min_consensus_base_quality
    cons = np.where(low, N_CODE, cons).astype(np.int8)
    return ConsensusCalls(ukey, cons, q, depth, errors)


def combine_duplex(
    base_a: np.ndarray,
    qual_a: np.ndarray,
    base_b: np.ndarray,
    qual_b: np.ndarray,
    params: ConsensusParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Combine aligned single-strand consensus calls into duplex calls (N = 4 = missing).

    Agreement: ``Q_A + Q_B``; disagreement: the higher-Q base with ``|Q_A - Q_B|``; equal -> N;
    one strand missing: that strand's call. The pre-UMI error is folded in afterwards.
    """
    a_ok, b_ok = base_a < N_CODE, base_b < N_CODE
    both = a_ok & b_ok
    agree = both & (base_a == base_b)
    out_b = np.where(a_ok, base_a, base_b).astype(np.int8)
    out_q = np.where(a_ok, qual_a, qual_b).astype(float)
    out_q = np.where(agree, qual_a + qual_b, out_q)
    dis = both & ~agree
    a_wins = dis & (qual_a > qual_b)
    b_wins = dis & (qual_b > qual_a)
    out_b = np.where(b_wins, base_b, out_b)
    out_q = np.where(dis, np.abs(qual_a - qual_b), out_q)
    out_b = np.where(dis & ~a_wins & ~b_wins, N_CODE, out_b).astype(np.int8)
    p = phred_combine(10.0 ** (-out_q / 10.0), 10.0 ** (-params.error_rate_pre_umi / 10.0))
    q = -10.0 * np.log10(np.clip(p, 1e-12, 1.0))
    out_b = np.where(q < params.min_consensus_base_quality, N_CODE, out_b).astype(np.int8)
    return out_b, q
