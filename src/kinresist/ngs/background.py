"""Per-site, per-substitution background error model from normal samples (panel of normals).

For every panel position and alternative base the molecule-level error fractions of the
normals are summarised by a beta distribution (the background of the beta-binomial test):

* mean: posterior mean ``(sum k + a0) / (sum n + a0 + b0)`` under a prior ``Beta(a0, b0)``
  whose mean is the pooled rate of the same substitution class (e.g. C>T) over all sites and
  normals, and whose concentration ``a0 + b0`` is that of UMIErrorCorrect's default
  background (``a = 0.5423, b = 641.54``; Osterlund et al. 2022) - this shrinks sites with
  few normals or all-zero counts towards their class rate;
* concentration: method of moments on the normals' fractions (intra-class correlation
  ``rho = (s^2 - mu(1-mu)/n) / (mu(1-mu)(1 - 1/n))``, ``a + b = 1/rho - 1``) when >= 3 normals
  show over-dispersion, else the prior concentration.

Without normals the default background is UMIErrorCorrect's ``Beta(0.5423, 641.54)``
(mean 8.45e-4), which is conservative for consensus molecules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.ngs.consensus import ConsensusParams
from kinresist.ngs.grouping import GroupingParams
from kinresist.ngs.pileup import BASES, MoleculeCounts, count_molecules
from kinresist.ngs.regions import Region

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_BETA",
    "PON_COLUMNS",
    "PanelOfNormals",
    "build_panel_of_normals",
    "fit_site_background",
]

DEFAULT_ALPHA = 0.5423
DEFAULT_BETA = 641.54
PON_COLUMNS = [
    "chrom",
    "pos",
    "ref",
    "alt",
    "alpha",
    "beta",
    "mean",
    "n_normals",
    "alt_molecules",
    "depth_molecules",
]


@dataclass
class PanelOfNormals:
    """Beta background per (chrom, pos, alt); a default prior where a site is absent."""

    table: pd.DataFrame
    prior_alpha: float = DEFAULT_ALPHA
    prior_beta: float = DEFAULT_BETA

    def __post_init__(self) -> None:
        missing = [c for c in PON_COLUMNS if c not in self.table.columns]
        if missing:
            msg = f"panel-of-normals table lacks column(s) {', '.join(missing)}; expected {PON_COLUMNS}"
            raise InputError(msg)
        self._index = {
            (str(c), int(p), str(a)): (float(al), float(be))
            for c, p, a, al, be in zip(
                self.table["chrom"],
                self.table["pos"],
                self.table["alt"],
                self.table["alpha"],
                self.table["beta"],
                strict=True,
            )
        }

    def lookup(
        self, chrom: Sequence[str], pos: Sequence[int], alt: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Beta parameters for each (chrom, pos, alt); the prior where the site is not in the panel."""
        a = np.empty(len(pos))
        b = np.empty(len(pos))
        for i, key in enumerate(zip(chrom, pos, alt, strict=True)):
            a[i], b[i] = self._index.get(
                (str(key[0]), int(key[1]), str(key[2])), (self.prior_alpha, self.prior_beta)
            )
        return a, b

    def to_tsv(self, path: str | Path, *, header: str = "") -> None:
        """Write the table (``header``: provenance comment lines)."""
        Path(path).write_text(header + self.table.to_csv(sep="\t", index=False), encoding="utf-8")

    @classmethod
    def from_tsv(cls, path: str | Path) -> PanelOfNormals:
        """Read a table written by :meth:`to_tsv` (``#`` lines are comments)."""
        try:
            table = pd.read_csv(
                path, sep="\t", comment="#", dtype={"chrom": str, "ref": str, "alt": str}
            )
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            msg = f"cannot read panel-of-normals TSV ({exc})"
            raise InputError(msg, path=path) from None
        try:
            return cls(table)
        except InputError as exc:
            raise InputError(str(exc.args[0]), path=path) from None


def fit_site_background(
    k: np.ndarray,
    n: np.ndarray,
    prior_mean: np.ndarray,
    prior_conc: float = DEFAULT_ALPHA + DEFAULT_BETA,
) -> tuple[np.ndarray, np.ndarray]:
    """Beta parameters per site from per-normal alt counts ``k`` and depths ``n`` (sites x normals).

    See the module docstring for the estimator. Returns ``(alpha, beta)``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    a0 = prior_mean * prior_conc
    b0 = (1 - prior_mean) * prior_conc
    mu = (k.sum(axis=1) + a0) / (n.sum(axis=1) + a0 + b0)
    conc = np.full(len(mu), float(prior_conc))
    valid = n > 0
    m = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.where(valid, k / np.where(valid, n, 1), np.nan)
        s2 = np.nanvar(x, axis=1, ddof=1) if k.shape[1] > 1 else np.full(len(mu), np.nan)
        nbar = np.where(m > 0, n.sum(axis=1) / np.maximum(m, 1), np.nan)
        rho = (s2 - mu * (1 - mu) / nbar) / (mu * (1 - mu) * (1 - 1 / nbar))
    est = (m >= 3) & np.isfinite(rho) & (rho > 0)
    conc[est] = np.clip(1.0 / np.clip(rho[est], 1e-6, 0.5) - 1.0, 1.0, prior_conc * 100)
    return mu * conc, (1 - mu) * conc


def build_panel_of_normals(
    normal_bams: Sequence[str | Path] | Sequence[MoleculeCounts],
    *,
    regions: str | Path | Sequence[Region] | None = None,
    reference: str | Path | None = None,
    grouping: GroupingParams | None = None,
    consensus: ConsensusParams | None = None,
) -> PanelOfNormals:
    """Background model from normal BAMs (or their :class:`MoleculeCounts`), same panel."""
    if len(normal_bams) == 0:
        msg = "a panel of normals needs at least one normal BAM"
        raise InputError(msg)
    counts: list[MoleculeCounts] = []
    for item in normal_bams:
        if isinstance(item, MoleculeCounts):
            counts.append(item)
        else:
            if regions is None or reference is None:
                msg = "regions and reference are required to count normal BAMs"
                raise InputError(msg)
            counts.append(
                count_molecules(
                    item,
                    regions=regions,
                    reference=reference,
                    grouping=grouping,
                    consensus=consensus,
                )
            )
    first = counts[0]
    for c in counts[1:]:
        if len(c.pos) != len(first.pos) or not np.array_equal(c.pos, first.pos):
            msg = "normal BAMs were counted on different panels; use the same BED for all"
            raise InputError(msg)
    depth = np.stack([c.depth for c in counts], axis=1)  # sites x normals
    rows = []
    for j, alt in enumerate(BASES):
        k = np.stack([c.counts[:, j] for c in counts], axis=1)
        is_ref = first.ref == alt
        cls = np.array([f"{r}>{alt}" for r in first.ref])
        prior = np.zeros(len(k))
        for c in np.unique(cls):
            sel = (cls == c) & ~is_ref
            tot = depth[sel].sum()
            prior[sel] = (k[sel].sum() + DEFAULT_ALPHA) / (tot + DEFAULT_ALPHA + DEFAULT_BETA)
        a, b = fit_site_background(k, depth, prior)
        for i in np.flatnonzero(~is_ref & (first.ref != "N")):
            rows.append((first.chrom[i], int(first.pos[i]), first.ref[i], alt, a[i], b[i], a[i] / (a[i] + b[i]),
                         len(counts), int(k[i].sum()), int(depth[i].sum())))  # fmt: skip
    table = pd.DataFrame(rows, columns=PON_COLUMNS).sort_values(
        ["chrom", "pos", "alt"], ignore_index=True
    )
    return PanelOfNormals(table)
