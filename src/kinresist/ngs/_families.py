"""Compiled template ids, UMI families and UMI grouping of one window (NGS hot path, part 2).

Inputs are the columnar reads of :mod:`kinresist.ngs._sam`. Strings (read names, UMIs) are
interned exactly (64-bit FNV-1a hash, then byte comparison within a hash), ids numbered in
first-seen order, exactly as the dictionaries of the per-read code were filled:

* template = distinct read name;
* key = distinct template-position key (kind, a, b, strand);
* UMI per key: distinct (key, UMI) pairs; its count = distinct templates carrying it;
* families: :func:`group_keys` applies the UMI-tools rules of
  :func:`kinresist.ngs.grouping.group_umis` (same node order, same groups) to every key, keys
  in first-seen order, so family ids are numbered as before.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["METHOD_CODES", "count_templates", "group_keys", "intern_bytes", "intern_rows"]

#: grouping method -> kernel code
METHOD_CODES = {"identity": 0, "edit": 1, "adjacency": 2, "directional": 3}

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@njit(cache=True, nogil=True)
def _same_bytes(data: np.ndarray, off: np.ndarray, x: int, y: int) -> bool:
    a, b = off[x], off[y]
    n = off[x + 1] - a
    if off[y + 1] - b != n:
        return False
    for k in range(n):
        if data[a + k] != data[b + k]:
            return False
    return True


@njit(cache=True, nogil=True)
def _first_seen_ids(rep: np.ndarray) -> tuple[np.ndarray, int]:
    """Ids in first-seen order from each item's representative (its first equal item)."""
    n = len(rep)
    ids = np.empty(n, np.int64)
    nxt = 0
    for x in range(n):
        if rep[x] == x:
            ids[x] = nxt
            nxt += 1
        else:
            ids[x] = ids[rep[x]]
    return ids, nxt


@njit(cache=True, nogil=True)
def intern_bytes(data: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, int]:
    """Id per byte string ``data[off[i]:off[i+1]]``, equal strings equal ids, first-seen order."""
    n = len(off) - 1
    h = np.empty(n, np.uint64)
    for i in range(n):
        v = _FNV_OFFSET
        for k in range(off[i], off[i + 1]):
            v = (v ^ np.uint64(data[k])) * _FNV_PRIME
        h[i] = v
    order = np.argsort(h, kind="mergesort")
    rep = np.empty(n, np.int64)
    reps = np.empty(n, np.int64)
    i = 0
    while i < n:
        j = i
        while j < n and h[order[j]] == h[order[i]]:
            j += 1
        nrep = 0
        for k in range(i, j):
            x = order[k]
            found = -1
            for r in range(nrep):
                if _same_bytes(data, off, reps[r], x):
                    found = reps[r]
                    break
            if found < 0:
                reps[nrep] = x
                nrep += 1
                found = x
            rep[x] = found
        i = j
    return _first_seen_ids(rep)


@njit(cache=True, nogil=True)
def intern_rows(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Id per row of an int64 matrix, equal rows equal ids, in first-seen order."""
    n, m = rows.shape
    h = np.empty(n, np.uint64)
    for i in range(n):
        v = _FNV_OFFSET
        for k in range(m):
            x = np.uint64(rows[i, k])
            for _ in range(8):
                v = (v ^ (x & np.uint64(255))) * _FNV_PRIME
                x = x >> np.uint64(8)
        h[i] = v
    order = np.argsort(h, kind="mergesort")
    rep = np.empty(n, np.int64)
    reps = np.empty(n, np.int64)
    i = 0
    while i < n:
        j = i
        while j < n and h[order[j]] == h[order[i]]:
            j += 1
        nrep = 0
        for k in range(i, j):
            x = order[k]
            found = -1
            for r in range(nrep):
                y = reps[r]
                same = True
                for c in range(m):
                    if rows[x, c] != rows[y, c]:
                        same = False
                        break
                if same:
                    found = y
                    break
            if found < 0:
                reps[nrep] = x
                nrep += 1
                found = x
            rep[x] = found
        i = j
    return _first_seen_ids(rep)


@njit(cache=True, nogil=True)
def count_templates(
    pair: np.ndarray, template: np.ndarray, n_pairs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per (key, UMI) pair: distinct templates, and the first read carrying it."""
    rows = np.empty((len(pair), 2), np.int64)
    rows[:, 0] = pair
    rows[:, 1] = template
    ids, _n = intern_rows(rows)
    seen = np.zeros(_n, np.bool_)
    counts = np.zeros(n_pairs, np.int64)
    first = np.full(n_pairs, -1, np.int64)
    for i in range(len(pair)):
        if first[pair[i]] < 0:
            first[pair[i]] = i
        if not seen[ids[i]]:
            seen[ids[i]] = True
            counts[pair[i]] += 1
    return counts, first


@njit(cache=True, nogil=True)
def _distance(umis: np.ndarray, off: np.ndarray, x: int, y: int, longest: int) -> int:
    """Hamming distance; UMIs of different length: ``(longest + 1) << 10`` (as hamming_matrix)."""
    a, b = off[x], off[y]
    n = off[x + 1] - a
    if off[y + 1] - b != n:
        return (longest + 1) << 10
    d = 0
    for k in range(n):
        if umis[a + k] != umis[b + k]:
            d += 1
    return d


@njit(cache=True, nogil=True)
def group_keys(
    pair_key: np.ndarray,
    counts: np.ndarray,
    pair_read: np.ndarray,
    umis: np.ndarray,
    umi_off: np.ndarray,
    method: int,
    threshold: int,
    max_umis: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Family id per (key, UMI) pair, family sizes (templates), and keys over ``max_umis``.

    Pairs are numbered in first-seen order, so a key's pairs in increasing id are its UMIs in
    first-seen order (the order :func:`~kinresist.ngs.grouping.group_umis` receives).
    ``max_umis < 0``: no cap.
    """
    n_pairs = len(pair_key)
    n_keys = 0
    for p in range(n_pairs):
        n_keys = max(n_keys, pair_key[p] + 1)
    by_key = np.argsort(pair_key, kind="mergesort")
    key_start = np.zeros(n_keys + 1, np.int64)
    for p in range(n_pairs):
        key_start[pair_key[p] + 1] += 1
    for k in range(n_keys):
        key_start[k + 1] += key_start[k]
    family = np.empty(n_pairs, np.int64)
    sizes = np.empty(n_pairs, np.int64)
    capped = np.zeros(n_keys, np.bool_)
    n_fam = 0
    # scratch, sized for the largest key
    largest = 0
    for k in range(n_keys):
        largest = max(largest, key_start[k + 1] - key_start[k])
    deg = np.zeros(largest + 1, np.int64)
    rank = np.empty(largest, np.int64)
    state = np.zeros(largest, np.int64)
    stack = np.empty(largest, np.int64)
    members = np.empty(largest, np.int64)
    mark = np.zeros(largest, np.bool_)
    for k in range(n_keys):
        a = key_start[k]
        n = key_start[k + 1] - a
        nodes = by_key[a : a + n]  # pair ids, first-seen order
        cnt = counts[nodes]
        order = np.argsort(-cnt, kind="mergesort")  # descending count, ties first seen
        for r in range(n):
            rank[order[r]] = r
        network = method != 0 and n > 1
        if network and 0 <= max_umis < n:
            capped[k] = True
            network = False
        if not network:
            for r in range(n):
                family[nodes[order[r]]] = n_fam
                sizes[n_fam] = cnt[order[r]]
                n_fam += 1
            continue
        longest = 0
        for i in range(n):
            p = pair_read[nodes[i]]
            longest = max(longest, umi_off[p + 1] - umi_off[p])
        # neighbour lists (ascending index): Hamming distance <= threshold
        deg[: n + 1] = 0
        for i in range(n):
            for j in range(i + 1, n):
                if (
                    _distance(umis, umi_off, pair_read[nodes[i]], pair_read[nodes[j]], longest)
                    <= threshold
                ):
                    deg[i + 1] += 1
                    deg[j + 1] += 1
        for i in range(n):
            deg[i + 1] += deg[i]
        adj = np.empty(deg[n], np.int64)
        fill = deg[:n].copy()
        for i in range(n):
            for j in range(i + 1, n):
                if (
                    _distance(umis, umi_off, pair_read[nodes[i]], pair_read[nodes[j]], longest)
                    <= threshold
                ):
                    adj[fill[i]] = j
                    fill[i] += 1
                    adj[fill[j]] = i
                    fill[j] += 1
        for i in range(n):  # ascending neighbour index, as np.flatnonzero
            adj[deg[i] : deg[i + 1]].sort()
        state[:n] = 0  # 0 unassigned, 1 assigned
        for r0 in range(n):
            node = order[r0]
            if state[node]:
                continue
            # reachable set from node (directional: edges to counts <= (n_A + 1) / 2)
            state[node] = 1
            top = 1
            stack[0] = node
            m = 1
            members[0] = node
            while top:
                top -= 1
                x = stack[top]
                for e in range(deg[x], deg[x + 1]):
                    y = adj[e]
                    if state[y]:
                        continue
                    if method == 3 and cnt[x] < 2 * cnt[y] - 1:
                        continue
                    state[y] = 1
                    stack[top] = y
                    top += 1
                    members[m] = y
                    m += 1
            comp = members[:m].copy()
            comp = comp[np.argsort(rank[comp], kind="mergesort")]
            if method != 2 or m == 1:  # directional, edit: the component is one molecule
                total = 0
                for x in comp:
                    family[nodes[x]] = n_fam
                    total += cnt[x]
                sizes[n_fam] = total
                n_fam += 1
                continue
            # adjacency: fewest highest-count UMIs whose neighbourhoods cover the component
            n_leads = m
            mark[:n] = False
            covered = 0
            for j in range(m - 1):
                x = comp[j]
                if not mark[x]:
                    mark[x] = True
                    covered += 1
                for e in range(deg[x], deg[x + 1]):
                    if not mark[adj[e]]:
                        mark[adj[e]] = True
                        covered += 1
                if covered >= m:
                    n_leads = j + 1
                    break
            mark[:n] = False
            for j in range(n_leads):
                mark[comp[j]] = True
            for j in range(n_leads):
                lead = comp[j]
                family[nodes[lead]] = n_fam
                total = cnt[lead]
                for e in range(deg[lead], deg[lead + 1]):
                    y = adj[e]
                    if not mark[y]:
                        mark[y] = True
                        family[nodes[y]] = n_fam
                        total += cnt[y]
                sizes[n_fam] = total
                n_fam += 1
    return family, sizes[:n_fam].copy(), capped
