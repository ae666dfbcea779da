"""Per-site, per-substitution background error model from normal samples (panel of normals).

For every panel position and alternative base the molecule-level error counts of the normals
give the predictive distribution of a new sample's error rate there, a beta distribution
(the background of the beta-binomial test). Hierarchical model: the site's rate
``r ~ Beta(a0, b0)`` across the sites of its substitution class, normals' counts
``k_j | r ~ Binom(n_j, r)``:

* prior: mean ``m`` = the pooled rate of the class over all sites and normals, classes being
  the 12 substitutions with C>N at CpG and G>N at CpG apart (spec: pool by context);
  shape ``a0 = 0.5423`` (UMIErrorCorrect's ``Beta(0.5423, 641.54)``, Osterlund et al. 2022:
  a relative spread, CV = 1.36) and ``b0 = a0 (1 - m) / m``, i.e. UMIErrorCorrect's spread
  carried to the class mean (its concentration 642 belongs to its mean 8.45e-4: at a consensus
  class rate of 1e-6 it would mean CV = 39);
* posterior (``K = sum k``, ``N = sum n``): ``Beta(a0 + K, b0 + N - K)``, mean
  ``(K + a0) / (N + a0 + b0)``, concentration ``a0 + b0 + N`` - the exact conjugate
  predictive when normals do not differ beyond binomial noise;
* between-normal over-dispersion: when >= 3 normals have depth, ``K > 0`` and a dispersion
  test (``X^2 = sum (k_j - n_j p)^2 / (n_j p (1 - p))`` against chi^2 with m - 1 d.f.) gives
  p < 0.05, the method-of-moments intra-class correlation
  ``rho = (s^2 - mu(1-mu)/n) / (mu(1-mu)(1 - 1/n))`` is added to the posterior variance:
  ``1 / (c + 1) = 1 / (a0 + b0 + N + 1) + rho``.

Without normals the default background is UMIErrorCorrect's ``Beta(0.5423, 641.54)``
(mean 8.45e-4), which is conservative for consensus molecules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

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
    "cpg_sites",
    "fit_site_background",
]

DEFAULT_ALPHA = 0.5423
DEFAULT_BETA = 641.54
PRIOR_SHAPE = DEFAULT_ALPHA
OVERDISPERSION_P = 0.05
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


def cpg_sites(
    chrom: Sequence[str] | np.ndarray,
    pos: Sequence[int] | np.ndarray,
    ref: Sequence[str] | np.ndarray,
) -> np.ndarray:
    """Whether each panel base is the C or the G of a CpG (neighbours read from the panel itself)."""
    base = {(str(c), int(p)): str(r).upper() for c, p, r in zip(chrom, pos, ref, strict=True)}
    out = np.zeros(len(pos), dtype=bool)
    for i, (c, p, r) in enumerate(zip(chrom, pos, ref, strict=True)):
        r = str(r).upper()
        if r == "C":
            out[i] = base.get((str(c), int(p) + 1)) == "G"
        elif r == "G":
            out[i] = base.get((str(c), int(p) - 1)) == "C"
    return out


def fit_site_background(
    k: np.ndarray,
    n: np.ndarray,
    prior_mean: np.ndarray,
    prior_conc: float | np.ndarray | None = None,
    *,
    overdispersion_p: float = OVERDISPERSION_P,
) -> tuple[np.ndarray, np.ndarray]:
    """Beta parameters per site from per-normal alt counts ``k`` and depths ``n`` (sites x normals).

    Parameters
    ----------
    k, n
        Alt molecules and molecule depths, shape (sites, normals).
    prior_mean
        Prior mean per site (the pooled rate of the site's substitution class).
    prior_conc
        Prior concentration ``a0 + b0``; ``None`` (default): ``PRIOR_SHAPE / prior_mean``, i.e.
        the prior keeps UMIErrorCorrect's relative spread (shape ``a0 = 0.5423``) at the class mean.
    overdispersion_p
        Level of the dispersion test that gates the method-of-moments between-normal term.

    Returns
    -------
    (alpha, beta)
        Parameters of the predictive Beta of a new sample's error rate at each site (module
        docstring): posterior ``Beta(a0 + K, b0 + N - K)``, widened by between-normal
        over-dispersion when the dispersion test detects it.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    prior_mean = np.broadcast_to(np.asarray(prior_mean, dtype=float), (k.shape[0],))
    conc0 = PRIOR_SHAPE / prior_mean if prior_conc is None else np.asarray(prior_conc, dtype=float)
    a0 = prior_mean * conc0
    b0 = (1 - prior_mean) * conc0
    big_k, big_n = k.sum(axis=1), n.sum(axis=1)
    a_post = a0 + big_k
    b_post = b0 + big_n - big_k
    conc_post = a_post + b_post
    mu = a_post / conc_post
    valid = n > 0
    m = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # dispersion (Tarone-type) test of the normals' counts around the pooled fraction
        p_hat = np.where(big_n > 0, big_k / np.maximum(big_n, 1), np.nan)
        e = n * p_hat[:, None]
        v = e * (1 - p_hat[:, None])
        chi2 = np.where(valid & (v > 0), (k - e) ** 2 / np.where(v > 0, v, 1), 0.0).sum(axis=1)
        p_disp = stats.chi2.sf(chi2, np.maximum(m - 1, 1))
        x = np.where(valid, k / np.where(valid, n, 1), np.nan)
        s2 = np.nanvar(x, axis=1, ddof=1) if k.shape[1] > 1 else np.full(len(mu), np.nan)
        nbar = np.where(m > 0, big_n / np.maximum(m, 1), np.nan)
        rho = (s2 - mu * (1 - mu) / nbar) / (mu * (1 - mu) * (1 - 1 / nbar))
    est = (m >= 3) & (big_k > 0) & (p_disp < overdispersion_p) & np.isfinite(rho) & (rho > 0)
    conc = conc_post.copy()
    rho_s = np.clip(rho[est], 1e-9, 0.5)
    # predictive variance = posterior variance of the site rate + between-sample variance
    conc[est] = 1.0 / (1.0 / (conc_post[est] + 1.0) + rho_s) - 1.0
    conc = np.maximum(conc, 1.0)
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
    cpg = cpg_sites(first.chrom, first.pos, first.ref)
    rows = []
    for j, alt in enumerate(BASES):
        k = np.stack([c.counts[:, j] for c in counts], axis=1)
        is_ref = first.ref == alt
        cls = np.array(
            [f"{r}>{alt}{'@CpG' if g else ''}" for r, g in zip(first.ref, cpg, strict=True)]
        )
        prior = np.full(len(k), DEFAULT_ALPHA / (DEFAULT_ALPHA + DEFAULT_BETA))
        for c in np.unique(cls[~is_ref]):
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
