"""Grouping UMIs observed at one template position into molecules (UMI families).

Methods (Smith, Heger & Sudbery 2017, *Genome Res* 27:491; UMI-tools semantics):

* ``identity`` - one family per distinct UMI;
* ``edit`` (UMI-tools ``cluster``) - single-linkage components with Hamming distance <= k;
* ``adjacency`` - components; the fewest highest-count UMIs covering a component lead one group each;
* ``directional`` - directed edge A -> B when d(A, B) <= k and n_A >= 2 n_B - 1; each
  component reachable from a node (nodes visited in descending count) is one molecule.

Ordering follows UMI-tools exactly (nodes sorted by count, ties in first-seen order), so
the group numbering of :mod:`kinresist.ngs.umitools_compat` reproduces ``umi_tools group``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from kinresist.errors import DataQualityWarning, InputError, warn
from kinresist.ngs.umi import hamming_matrix

__all__ = ["GroupingMethod", "GroupingParams", "group_umis"]

GroupingMethod = Literal["identity", "edit", "adjacency", "directional"]
_METHODS = ("identity", "edit", "adjacency", "directional")


@dataclass(frozen=True, slots=True)
class GroupingParams:
    """How reads become UMI families.

    Parameters
    ----------
    method
        ``identity``, ``edit``, ``adjacency`` or ``directional`` (default).
    threshold
        Hamming distance for edges (default 1).
    strategy
        ``single`` (one UMI per template) or ``paired`` (duplex ``A-B`` UMIs: ``A-B`` on one
        strand is the same molecule as ``B-A`` on the other; fgbio ``--strategy paired``).
    umi_source, umi_tag, umi_sep
        Where the UMI is read (``auto``: ``RX`` tag, else read-name suffix after ``umi_sep``).
    min_mapq
        Reads below this mapping quality are ignored.
    family_key
        ``position`` (default): UMIs are grouped within a template position (fgbio, UMI-tools);
        ``region``: within a merged panel window and strand regardless of start - for amplicon
        protocols where every read of a molecule starts at the primer (UMIErrorCorrect's grouping).
    max_umis_per_position
        Above this many distinct UMIs at one position the network methods fall back to
        ``identity`` with a :class:`DataQualityWarning` (UMI-tools #141/#173 memory blow-up).
    """

    method: GroupingMethod = "directional"
    threshold: int = 1
    strategy: Literal["single", "paired"] = "single"
    umi_source: Literal["auto", "tag", "name"] = "auto"
    umi_tag: str = "RX"
    umi_sep: str = "_"
    min_mapq: int = 0
    max_umis_per_position: int = 10_000
    family_key: Literal["position", "region"] = "position"

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            msg = f"unknown UMI grouping method {self.method!r}; expected one of {', '.join(_METHODS)}"
            raise InputError(msg)
        if self.threshold < 0:
            msg = f"UMI distance threshold must be >= 0, got {self.threshold}"
            raise InputError(msg)


def _neighbours(umis: list[str], threshold: int) -> np.ndarray:
    return (hamming_matrix(umis) <= threshold) & ~np.eye(len(umis), dtype=bool)


def _order(counts: np.ndarray) -> list[int]:
    # descending count; Python's sort is stable, so ties keep first-seen order (as UMI-tools)
    return sorted(range(len(counts)), key=lambda i: -int(counts[i]))


def _bfs(start: int, adj: list[list[int]]) -> set[int]:
    searched = {start}
    queue = [start]
    while queue:
        node = queue.pop()
        for nxt in adj[node]:
            if nxt not in searched:
                searched.add(nxt)
                queue.append(nxt)
    return searched


def _components(adj: list[list[int]], order: list[int]) -> list[set[int]]:
    found: set[int] = set()
    comps: list[set[int]] = []
    for node in order:
        if node not in found:
            comp = _bfs(node, adj)
            found |= comp
            comps.append(comp)
    return comps


def group_umis(
    umis: list[str],
    counts: list[int] | np.ndarray,
    *,
    method: GroupingMethod = "directional",
    threshold: int = 1,
    max_umis: int | None = None,
) -> list[list[int]]:
    """Group distinct UMIs at one position into molecules.

    Parameters
    ----------
    umis
        Distinct UMIs in first-seen order.
    counts
        Reads per UMI.
    method, threshold
        See the module docstring.
    max_umis
        Cap on distinct UMIs for the network methods (None: no cap).

    Returns
    -------
    list of list of int
        Groups of indices into ``umis``; within a group the highest-count UMI comes first.
    """
    n = len(umis)
    cnt = np.asarray(counts, dtype=np.int64)
    if n == 0:
        return []
    order = _order(cnt)
    rank = {node: r for r, node in enumerate(order)}
    if method == "identity" or n == 1:
        return [[i] for i in order]
    if max_umis is not None and n > max_umis:
        warn(
            f"{n} distinct UMIs at one position exceed the cap of {max_umis}: grouped by identity "
            "(raise GroupingParams.max_umis_per_position if memory allows)",
            DataQualityWarning,
        )
        return [[i] for i in order]
    near = _neighbours(umis, threshold)
    if method == "directional":
        directed = near & (cnt[:, None] >= 2 * cnt[None, :] - 1)
        adj = [np.flatnonzero(directed[i]).tolist() for i in range(n)]
        observed: set[int] = set()
        groups: list[list[int]] = []
        for comp in _components(adj, order):
            members = [
                i for i in sorted(comp, key=lambda i: (-int(cnt[i]), rank[i])) if i not in observed
            ]
            observed.update(members)
            if members:
                groups.append(members)
        return groups
    adj = [np.flatnonzero(near[i]).tolist() for i in range(n)]
    comps = _components(adj, order)
    if method == "edit":
        return [sorted(c, key=lambda i: (-int(cnt[i]), rank[i])) for c in comps]
    # adjacency (UMI-tools): the fewest highest-count UMIs whose neighbourhoods cover the
    # component lead one group each, with their not-yet-taken neighbours
    groups = []
    for comp in comps:
        if len(comp) == 1:
            groups.append(list(comp))
            continue
        nodes = sorted(comp, key=lambda i: (-int(cnt[i]), rank[i]))
        leads = nodes
        for j in range(1, len(nodes)):
            covered = set(nodes[:j]).union(*(adj[x] for x in nodes[:j]))
            if covered >= comp:
                leads = nodes[:j]
                break
        observed = set(leads)
        for lead in leads:
            linked = [x for x in adj[lead] if x not in observed]
            groups.append([lead, *linked])
            observed.update(linked)
    return groups
