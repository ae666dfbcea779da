"""Compiled consensus and molecule pileup of one window (NGS hot path, part 3).

:func:`count_families` walks every family's templates in template-id order (first-seen read
name), every template's reads in read order, and every read's CIGAR blocks inside the window:

1. mates of one template give one observation per position: the highest quality (ties: the
   earlier read), its base if all the template's bases there agree, else N (no call);
2. per family, strand (duplex only) and position, the fgbio likelihood terms are summed in that
   order, as :func:`kinresist.ngs.consensus.consensus_by_key` sums them with ``np.bincount``;
3. the consensus base, its quality and the molecule filters are those of
   :func:`~kinresist.ngs.consensus.consensus_by_key` and
   :func:`~kinresist.ngs.consensus.combine_duplex` (scalar forms of the same expressions);
4. the molecule is counted per position and base (and per strand, duplex support and
   family size), and the deduplicated raw bases are counted beside.

Scratch memory is a few arrays of the window width; nothing is allocated per read or base.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["count_families", "indel_events", "sure_gap", "templates_covering"]

_C43 = 4.0 / 3.0


def sure_gap(p_pre: float, min_q: float) -> float:
    """Log-likelihood lead beyond which a consensus base surely reaches ``min_q``.

    The posterior error is at most ``3 exp(-gap)`` and the final error ``p_final =
    f(p, p_pre) <= p + p_pre``; a lead with ``3 exp(-gap) < 10^(-min_q/10) / 2 - p_pre``
    therefore gives at least ``min_q + 3``, so skipping the exact quality cannot change a
    call. ``inf`` (never skip) when the pre-UMI error alone is that large.
    """
    room = 10.0 ** (-min_q / 10.0) / 2.0 - p_pre
    return math.log(3.0 / room) if room > 0 else math.inf


@njit(cache=True, nogil=True, inline="always")
def _call(
    ll: np.ndarray,
    cnt: np.ndarray,
    depth: int,
    fold: bool,
    p_pre: float,
    min_q: float,
    sure_gap: float = np.inf,
) -> tuple[int, float, int]:
    """Consensus base (4 = N), quality and disagreeing bases of one group.

    When the best log-likelihood leads the second by more than ``sure_gap`` the base passes
    the quality floor with a wide margin (:func:`sure_gap`) and its quality is not computed
    (returned as ``inf``).
    """
    best = 0
    top = ll[0]
    for k in range(1, 4):
        if ll[k] > top:
            top = ll[k]
            best = k
    second = -np.inf
    for k in range(4):
        if k != best and ll[k] > second:
            second = ll[k]
    if top - second > sure_gap:
        return best, np.inf, depth - cnt[best]
    s = 0.0
    for k in range(4):
        s += math.exp(ll[k] - top)
    p = (s - 1.0) / s
    if fold:
        p = p + p_pre - _C43 * p * p_pre
    p = min(max(p, 1e-12), 1.0)
    q = -10.0 * math.log10(p)
    cons = best
    if abs(top - second) <= 1e-9:
        cons = 4
        q = 0.0
    if q < min_q:
        cons = 4
    return cons, q, depth - cnt[best]


@njit(cache=True, nogil=True, inline="always")
def _duplex(ba: int, qa: float, bb: int, qb: float, p_pre: float, min_q: float) -> int:
    """Duplex base from two single-strand calls (4 = missing), as ``combine_duplex``."""
    a_ok = ba < 4
    b_ok = bb < 4
    both = a_ok and b_ok
    agree = both and ba == bb
    out_b = ba if a_ok else bb
    out_q = qa if a_ok else qb
    if agree:
        out_q = qa + qb
    dis = both and not agree
    a_wins = dis and qa > qb
    b_wins = dis and qb > qa
    if b_wins:
        out_b = bb
    if dis:
        out_q = abs(qa - qb)
    if dis and not a_wins and not b_wins:
        out_b = 4
    x = 10.0 ** (-out_q / 10.0)
    p = x + p_pre - _C43 * x * p_pre
    q = -10.0 * math.log10(min(max(p, 1e-12), 1.0))
    if q < min_q:
        out_b = 4
    return out_b


@njit(cache=True, nogil=True)
def count_families(
    ws: int,
    width: int,
    start: np.ndarray,
    strand: np.ndarray,
    family: np.ndarray,
    seq_off: np.ndarray,
    seq: np.ndarray,
    qual: np.ndarray,
    cig_off: np.ndarray,
    cig_op: np.ndarray,
    cig_len: np.ndarray,
    fam_ptr: np.ndarray,
    fam_tmpl: np.ndarray,
    t_ptr: np.ndarray,
    t_reads: np.ndarray,
    fam_size: np.ndarray,
    fam_strand: np.ndarray,
    base_lut: np.ndarray,
    lut_err: np.ndarray,
    lut_gain: np.ndarray,
    min_input_q: int,
    p_pre: float,
    min_cons_q: float,
    min_family: int,
    max_error: float,
    duplex: bool,
    gap: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Molecule counts ``(counts, fwd, rev, duplex, famsize, raw)``, each ``(width, 4)``.

    ``gap``: :func:`sure_gap` (single-strand calls only; duplex needs every quality).
    """
    we = ws + width
    counts = np.zeros((width, 4), np.int64)
    fwd = np.zeros((width, 4), np.int64)
    rev = np.zeros((width, 4), np.int64)
    dup = np.zeros((width, 4), np.int64)
    fsum = np.zeros((width, 4), np.int64)
    raw = np.zeros((width, 4), np.int64)
    ns = 2 if duplex else 1
    g_mark = np.full(ns * width, -1, np.int64)
    g_ll = np.empty(ns * width, np.float64)
    g_gain = np.empty((ns * width, 4), np.float64)
    g_dep = np.empty(ns * width, np.int64)
    g_cnt = np.empty((ns * width, 4), np.int64)
    g_list = np.empty(ns * width, np.int64)
    t_mark = np.full(width, -1, np.int64)
    t_q = np.empty(width, np.int64)
    t_base = np.empty(width, np.int64)
    t_dis = np.empty(width, np.bool_)
    t_lead = np.empty(width, np.int64)
    t_list = np.empty(width, np.int64)
    ll = np.empty(4, np.float64)
    p_done = np.full(width, -1, np.int64)
    stamp = 0
    n_fam = len(fam_ptr) - 1
    for f in range(n_fam):
        ng = 0
        for ti in range(fam_ptr[f], fam_ptr[f + 1]):
            t = fam_tmpl[ti]
            single = t_ptr[t + 1] - t_ptr[t] == 1
            if not single:
                stamp += 1
            nt = 0
            for ri in range(t_ptr[t], t_ptr[t + 1]):
                r = t_reads[ri]
                rpos = start[r]
                qpos = 0
                so = seq_off[r]
                for c in range(cig_off[r], cig_off[r + 1]):
                    op = cig_op[c]
                    ln = cig_len[c]
                    if op == 0 or op == 7 or op == 8:
                        lo = max(rpos, ws)
                        hi = min(rpos + ln, we)
                        for p in range(lo, hi):
                            k = so + qpos + (p - rpos)
                            b = base_lut[seq[k]]
                            qq = np.int64(qual[k])
                            i = p - ws
                            if single:
                                if b < 4 and qq >= min_input_q:
                                    g = (strand[r] * width + i) if duplex else i
                                    if g_mark[g] != f:
                                        g_mark[g] = f
                                        g_ll[g] = 0.0
                                        g_gain[g, :] = 0.0
                                        g_dep[g] = 0
                                        g_cnt[g, :] = 0
                                        g_list[ng] = g
                                        ng += 1
                                    g_ll[g] += lut_err[qq]
                                    g_gain[g, b] += lut_gain[qq]
                                    g_dep[g] += 1
                                    g_cnt[g, b] += 1
                                    raw[i, b] += 1
                            elif t_mark[i] != stamp:
                                t_mark[i] = stamp
                                t_q[i] = qq
                                t_base[i] = b
                                t_dis[i] = False
                                t_lead[i] = r
                                t_list[nt] = i
                                nt += 1
                            else:
                                if b != t_base[i]:
                                    t_dis[i] = True
                                if qq > t_q[i]:
                                    t_q[i] = qq
                                    t_lead[i] = r
                        rpos += ln
                        qpos += ln
                    elif op == 1 or op == 4:
                        qpos += ln
                    elif op == 2 or op == 3:
                        rpos += ln
            for j in range(nt):  # mates: one observation per position, led by family f's read
                i = t_list[j]
                r = t_lead[i]
                if family[r] != f:
                    continue
                b = 4 if t_dis[i] else t_base[i]
                qq = t_q[i]
                if b < 4 and qq >= min_input_q:
                    g = (strand[r] * width + i) if duplex else i
                    if g_mark[g] != f:
                        g_mark[g] = f
                        g_ll[g] = 0.0
                        g_gain[g, :] = 0.0
                        g_dep[g] = 0
                        g_cnt[g, :] = 0
                        g_list[ng] = g
                        ng += 1
                    g_ll[g] += lut_err[qq]
                    g_gain[g, b] += lut_gain[qq]
                    g_dep[g] += 1
                    g_cnt[g, b] += 1
                    raw[i, b] += 1
        size = fam_size[f]
        for j in range(ng):
            g = g_list[j]
            i = g % width
            if not duplex:
                for k in range(4):
                    ll[k] = g_ll[g] + g_gain[g, k]
                cons, _q, err = _call(ll, g_cnt[g], g_dep[g], True, p_pre, min_cons_q, gap)
                dep = g_dep[g]
                if cons < 4 and size >= min_family and err <= max_error * max(dep, 1):
                    counts[i, cons] += 1
                    if fam_strand[f] == 1:
                        rev[i, cons] += 1
                    else:
                        fwd[i, cons] += 1
                    fsum[i, cons] += size
                continue
            if p_done[i] == f:
                continue
            p_done[i] = f
            ba, qa, bb, qb = 4, 0.0, 4, 0.0
            dep = 0
            err = 0
            if g_mark[i] == f:
                for k in range(4):
                    ll[k] = g_ll[i] + g_gain[i, k]
                ba, qa, e = _call(ll, g_cnt[i], g_dep[i], False, p_pre, min_cons_q)
                dep += g_dep[i]
                err += e
            if g_mark[width + i] == f:
                for k in range(4):
                    ll[k] = g_ll[width + i] + g_gain[width + i, k]
                bb, qb, e = _call(ll, g_cnt[width + i], g_dep[width + i], False, p_pre, min_cons_q)
                dep += g_dep[width + i]
                err += e
            fb = _duplex(ba, qa, bb, qb, p_pre, min_cons_q)
            if fb < 4 and size >= min_family and err <= max_error * max(dep, 1):
                counts[i, fb] += 1
                if ba == fb:
                    fwd[i, fb] += 1
                if bb == fb:
                    rev[i, fb] += 1
                if ba < 4 and bb < 4 and ba == bb:
                    dup[i, fb] += 1
                fsum[i, fb] += size
    return counts, fwd, rev, dup, fsum, raw


@njit(cache=True, nogil=True)
def indel_events(
    start: np.ndarray,
    seq_off: np.ndarray,
    cig_off: np.ndarray,
    cig_op: np.ndarray,
    cig_len: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Insertions and deletions in read and CIGAR order: read, anchor (0-based, the base
    before the event), kind (1 insertion, 2 deletion), length, offset of the inserted bases."""
    n_ev = 0
    for c in range(len(cig_op)):
        if cig_op[c] == 1 or cig_op[c] == 2:
            n_ev += 1
    read = np.empty(n_ev, np.int64)
    anchor = np.empty(n_ev, np.int64)
    kind = np.empty(n_ev, np.int8)
    length = np.empty(n_ev, np.int64)
    at = np.empty(n_ev, np.int64)
    e = 0
    for r in range(len(start)):
        rpos = start[r]
        qpos = 0
        for c in range(cig_off[r], cig_off[r + 1]):
            op = cig_op[c]
            ln = cig_len[c]
            if op == 0 or op == 7 or op == 8:
                rpos += ln
                qpos += ln
            elif op == 1:
                read[e], anchor[e], kind[e], length[e], at[e] = (
                    r,
                    rpos - 1,
                    1,
                    ln,
                    seq_off[r] + qpos,
                )
                e += 1
                qpos += ln
            elif op == 2:
                read[e], anchor[e], kind[e], length[e], at[e] = r, rpos - 1, 2, ln, -1
                e += 1
                rpos += ln
            elif op == 3:
                rpos += ln
            elif op == 4:
                qpos += ln
    return read, anchor, kind, length, at


@njit(cache=True, nogil=True)
def templates_covering(
    q_fam: np.ndarray,
    q_pos: np.ndarray,
    family: np.ndarray,
    start: np.ndarray,
    cig_off: np.ndarray,
    cig_op: np.ndarray,
    cig_len: np.ndarray,
    fam_ptr: np.ndarray,
    fam_tmpl: np.ndarray,
    t_ptr: np.ndarray,
    t_reads: np.ndarray,
) -> np.ndarray:
    """Per query: templates of family ``q_fam`` with a read of that family aligned at ``q_pos``."""
    out = np.zeros(len(q_fam), np.int64)
    for qi in range(len(q_fam)):
        f = q_fam[qi]
        pos = q_pos[qi]
        for ti in range(fam_ptr[f], fam_ptr[f + 1]):
            t = fam_tmpl[ti]
            hit = False
            for ri in range(t_ptr[t], t_ptr[t + 1]):
                r = t_reads[ri]
                if family[r] != f:
                    continue
                rpos = start[r]
                for c in range(cig_off[r], cig_off[r + 1]):
                    op = cig_op[c]
                    ln = cig_len[c]
                    if op == 0 or op == 7 or op == 8:
                        if rpos <= pos < rpos + ln:
                            hit = True
                            break
                        rpos += ln
                    elif op == 2 or op == 3:
                        rpos += ln
                    if rpos > pos:
                        break
                if hit:
                    break
            if hit:
                out[qi] += 1
    return out
