"""Error models of the read simulator: pre-UMI damage, PCR genealogy errors, sequencing errors.

* **Pre-UMI (site) errors** (:func:`site_error_profile`): per reference position and
  substitution, a per-molecule rate that consensus cannot remove (end-repair, first-strand
  damage). Deamination (C>T on the read strand) and oxidation (G>T) dominate; CpG C>T is
  5x higher; rates vary log-normally between sites and a small fraction of sites are
  "hot" (30x). The profile depends only on the reference and its own seed, so tumours and
  normals of a panel share it (that is what a panel of normals learns).
* **PCR errors** (:func:`pcr_error_events`): each read's ancestry through ``cycles`` perfect
  doublings is a uniform random bit string (0 = stays on the template copy, 1 = the new
  copy made in that cycle); a polymerase error made in cycle c on a new copy is shared by
  every sampled read whose ancestry passes through that copy (same prefix ending in 1), so
  first-cycle errors hit about half of a family, late ones a single read.
* **Sequencing errors** (:func:`sequencing_qualities`): Phred qualities fall with the
  sequencing cycle (quadratic decay, read 2 lower) with occasional low-quality bases; a
  base is wrong with probability 10^(-Q/10) (calibrated qualities), the wrong base uniform
  among the other three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ErrorModel", "pcr_error_events", "sequencing_qualities", "site_error_profile"]

BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
_CODE = np.full(256, 4, dtype=np.int8)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
    _CODE[_b + 32] = _i  # soft-masked lower case


@dataclass(frozen=True, slots=True)
class ErrorModel:
    """Rates of the three error processes (defaults: a high-fidelity UMI cfDNA workflow).

    Parameters
    ----------
    damage_ct, damage_gt, damage_other
        Mean per-molecule pre-UMI rates for C>T, G>T and any other substitution at a site
        (read-strand orientation; the reverse-complement process acts on the other strand).
    cpg_factor
        Multiplier of C>T at CpG.
    site_sigma
        Log-normal SD of the site-to-site variation.
    hot_fraction, hot_factor
        Fraction of (site, substitution) pairs that are noisy, and their rate multiplier.
    polymerase_error
        Substitutions per base per duplication (Taq ~1e-4, high-fidelity ~1e-6).
    pcr_cycles
        Cycles of the genealogy model.
    q_start, q_drop, q_r2_penalty
        Phred quality at cycle 1, the drop by the last cycle, and the read-2 offset.
    low_q_fraction
        Fraction of bases with a random low quality (Q2-20).
    umi_error
        Per-base error rate of the UMI as read (creates 1-mismatch satellite UMIs that
        directional grouping must merge).
    """

    damage_ct: float = 1.5e-5
    damage_gt: float = 8e-6
    damage_other: float = 1e-6
    cpg_factor: float = 5.0
    site_sigma: float = 0.8
    hot_fraction: float = 0.002
    hot_factor: float = 30.0
    polymerase_error: float = 2e-5
    pcr_cycles: int = 10
    q_start: float = 37.0
    q_drop: float = 10.0
    q_r2_penalty: float = 3.0
    low_q_fraction: float = 0.01
    umi_error: float = 1e-3


def encode(seq: str) -> np.ndarray:
    """Base codes 0-3 (A, C, G, T; 4 = N) of a sequence."""
    return _CODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)].astype(np.int8)


def site_error_profile(ref_codes: np.ndarray, model: ErrorModel, *, seed: int) -> np.ndarray:
    """Per-molecule pre-UMI error rates, shape (2 orientations, L, 4 alt bases).

    Orientation 0 is the top-strand family (errors seen as C>T, G>T in reference
    orientation), orientation 1 the bottom-strand family (seen as G>A, C>A). The rate of
    the reference base itself is 0.
    """
    rng = np.random.default_rng(seed)
    n = ref_codes.size
    rates = np.full((2, n, 4), float(model.damage_other))
    a, c, g, t = 0, 1, 2, 3
    nxt = np.append(ref_codes[1:], 4)
    prv = np.insert(ref_codes[:-1], 0, 4)
    is_c, is_g = ref_codes == c, ref_codes == g
    cpg_c = is_c & (nxt == g)
    cpg_g = is_g & (prv == c)
    rates[0, is_c, t] = model.damage_ct * np.where(cpg_c[is_c], model.cpg_factor, 1.0)
    rates[0, is_g, t] = model.damage_gt
    rates[1, is_g, a] = model.damage_ct * np.where(cpg_g[is_g], model.cpg_factor, 1.0)
    rates[1, is_c, a] = model.damage_gt
    rates *= rng.lognormal(-0.5 * model.site_sigma**2, model.site_sigma, size=rates.shape)
    hot = rng.random(rates.shape) < model.hot_fraction
    rates[hot] *= model.hot_factor
    valid = ref_codes < 4
    rates[:, ~valid, :] = 0.0
    rates[:, np.arange(n)[valid], ref_codes[valid]] = 0.0
    return np.minimum(rates, 0.05)


def pcr_error_events(
    family_of_read: np.ndarray,
    fragment_len: np.ndarray,
    model: ErrorModel,
    rng: np.random.Generator,
) -> list[tuple[np.ndarray, int, int]]:
    """Polymerase errors shared through the PCR genealogy.

    Parameters
    ----------
    family_of_read
        Family index of each read (pair), grouped or not.
    fragment_len
        Fragment length of each read's family, per read.

    Returns
    -------
    list of (read indices, offset in fragment, substitution shift 1-3)
        Each event changes base ``offset`` of the fragment to ``(base + shift) % 4`` in
        every listed read.
    """
    k = model.pcr_cycles
    n = family_of_read.size
    if n == 0 or model.polymerase_error <= 0:
        return []
    paths = rng.integers(0, 1 << k, size=n, dtype=np.int64)
    events: list[tuple[np.ndarray, int, int]] = []
    for c in range(1, k + 1):
        prefix = paths >> (k - c)
        new_copy = (prefix & 1) == 1
        if not np.any(new_copy):
            continue
        idx = np.flatnonzero(new_copy)
        keys = family_of_read[idx].astype(np.int64) * (1 << k) + prefix[idx]
        _uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        lengths = fragment_len[idx[first]]
        n_err = rng.poisson(model.polymerase_error * lengths)
        for node in np.flatnonzero(n_err):
            members = idx[inverse == node]
            for _ in range(int(n_err[node])):
                events.append(
                    (members, int(rng.integers(0, lengths[node])), int(rng.integers(1, 4)))
                )
    return events


def sequencing_qualities(
    n_reads: int, read_len: int, model: ErrorModel, rng: np.random.Generator, *, read2: bool
) -> np.ndarray:
    """Phred qualities (n_reads x read_len, uint8) in sequencing-cycle order."""
    cyc = np.arange(read_len) / max(read_len - 1, 1)
    mean_q = model.q_start - model.q_drop * cyc**2 - (model.q_r2_penalty if read2 else 0.0)
    q = mean_q[None, :] + rng.normal(0.0, 1.5, size=(n_reads, read_len))
    low = rng.random((n_reads, read_len)) < model.low_q_fraction
    q[low] = rng.uniform(2, 20, size=int(low.sum()))
    return np.clip(np.rint(q), 2, 41).astype(np.uint8)


def apply_sequencing_errors(
    codes: np.ndarray, quals: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Substitute bases with probability 10^(-Q/10); ``codes`` and ``quals`` share a shape."""
    p = 10.0 ** (-quals.astype(float) / 10.0)
    err = rng.random(codes.shape) < p
    out = codes.copy()
    shift = rng.integers(1, 4, size=int(err.sum()))
    out[err] = np.where(out[err] < 4, (out[err] + shift) % 4, out[err])
    return out
