"""Low-VAF variant calling on molecule counts: beta-binomial test, per-site LoD, filters.

For each panel position and alternative allele with ``k`` alt molecules out of ``D``:

* ``p = P(X >= k | D, alpha, beta)``, ``X ~ BetaBinomial(D, alpha, beta)`` with the site's
  background (:mod:`kinresist.ngs.background`); ``QUAL = -10 log10 p``;
* PASS needs ``QUAL >= min_qual`` (60) - or, at a hotspot codon, ``QUAL >= hotspot_min_qual
  + 10 log10(m)`` (20 + 10 log10 m, capped at 60), ``m`` = hotspot alleles of the panel
  (3 per hotspot base, +1 for the ALK 1151 insertion window): DRAGEN ctDNA-style two tiers,
  the hotspot tier Bonferroni-corrected so that the per-sample family-wise error over all
  hotspot alleles is 1 % - and ``k >= min_alt_molecules`` (3; 2 at hotspots) and no other
  filter;
* per-site LoD at the observed molecule depth: ``k_crit`` = smallest ``k`` that would pass
  (test at level ``10^(-threshold/10)`` and the minimum alt count), LoD = smallest VAF ``f``
  with ``P(Binom(D, f + eps) >= k_crit) >= 0.95``; ``f + eps`` is the 5 % quantile of
  ``Beta(k_crit, D - k_crit + 1)`` (exact binomial-beta identity), ``eps`` = background mean.
  Each call's ``lod`` is its own (its depth, its tier); hotspot bases without a call carry the
  site LoD of the hotspot tier (``hotspot_sites``). An LoD95 is the VAF found 95 % of the time,
  not a floor: a PASS call may lie below it (it needs only ``k_crit`` molecules) and is then
  flagged ``below_lod95`` in its measurement;
* filters: ``low_alt``, ``low_qual``, ``strand_bias`` (Fisher p < 1e-3 and one strand only,
  when both strands carry reference molecules), ``family_size`` (alt molecules' mean family
  size < half the site's), ``low_depth``; VAF 95 % CI: Wilson on molecules;
* ``subclonal`` flag: PASS calls with VAF below ``subclonal_vaf`` (5 %).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kinresist.core.result import Provenance
from kinresist.errors import InputError
from kinresist.ngs.background import (
    DEFAULT_ALPHA,
    DEFAULT_BETA,
    PanelOfNormals,
    build_panel_of_normals,
)
from kinresist.ngs.consensus import ConsensusParams
from kinresist.ngs.grouping import GroupingParams
from kinresist.ngs.hotspots import HotspotTable, default_hotspots
from kinresist.ngs.lod import betabinom_upper_tail, critical_count, site_lod, wilson
from kinresist.ngs.pileup import BASES, MoleculeCounts, count_molecules
from kinresist.ngs.regions import Region, contig_genomic_offset, open_reference, read_regions
from kinresist.ngs.result import SCHEMA_VERSION, CallSet, json_scalar, make_callset

__all__ = [
    "CALL_COLUMNS",
    "SCHEMA_VERSION",
    "CallParams",
    "CallSet",
    "call_variants",
    "critical_count",
    "hotspot_threshold",
    "site_lod",
    "wilson",
]

CALL_COLUMNS = [
    "chrom", "pos", "ref", "alt", "gene", "alteration", "af", "alt_molecules", "depth_molecules", "lod", "filter",
    "qual", "p_value", "af_ci_low", "af_ci_high", "background", "hotspot", "subclonal", "alt_fwd", "alt_rev",
    "alt_duplex", "mean_family_size_alt", "raw_alt", "raw_depth", "genomic_chrom", "genomic_pos", "genome",
    "hgvs_c", "kind",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class CallParams:
    """Calling thresholds (see the module docstring)."""

    min_qual: float = 60.0
    hotspot_min_qual: float = 20.0
    hotspot_bonferroni: bool = True
    min_alt_molecules: int = 3
    hotspot_min_alt_molecules: int = 2
    min_depth_molecules: int = 100
    strand_bias_p: float = 1e-3
    min_family_size_ratio: float = 0.5
    subclonal_vaf: float = 0.05
    lod_power: float = 0.95
    report_min_alt: int = 2
    grouping: GroupingParams = field(default_factory=GroupingParams)
    consensus: ConsensusParams = field(default_factory=ConsensusParams)


def _region_gene(regions: Sequence[Region], chrom: str, pos: int) -> str:
    for r in regions:
        if r.chrom == chrom and r.start < pos <= r.end and r.name:
            token = r.name.split("_")[0].split(".")[0]
            return token
    return "."


def call_variants(
    bam: str | Path,
    *,
    regions: str | Path | Sequence[Region],
    reference: str | Path,
    normals: Sequence[str | Path] | None = None,
    pon: PanelOfNormals | str | Path | None = None,
    hotspots: HotspotTable | None = None,
    params: CallParams | None = None,
    genome: str | None = None,
    counts: MoleculeCounts | None = None,
    progress: Callable[[int, int], None] | None = None,
    normal_counts: Sequence[MoleculeCounts] | None = None,
) -> CallSet:
    """Call low-VAF SNVs and indels from a UMI BAM (see the module docstring).

    ``counts`` may pass pre-computed molecule counts of ``bam`` (skips counting);
    ``progress(done, total)`` is called while molecules are counted; ``normal_counts`` may
    pass the normals' pre-computed counts (same order as ``normals``).

    Returns
    -------
    CallSet
        A :class:`kinresist.core.Result`: tables ``calls`` and ``hotspot_sites``, molecule-VAF
        measurements keyed by alteration, PASS calls as findings (:mod:`kinresist.ngs.result`).
    """
    params = params or CallParams()
    regs = read_regions(regions) if isinstance(regions, str | Path) else list(regions)
    if genome is not None and genome not in ("GRCh37", "GRCh38"):
        msg = f"genome must be GRCh37 or GRCh38, got {genome!r}"
        raise InputError(msg)
    mc = counts or count_molecules(
        bam,
        regions=regs,
        reference=reference,
        grouping=params.grouping,
        consensus=params.consensus,
        progress=progress,
    )
    if pon is not None and normals:
        msg = "give either normal BAMs or a panel-of-normals table, not both"
        raise InputError(msg)
    if isinstance(pon, str | Path):
        pon = PanelOfNormals.from_tsv(pon)
    if pon is None and normals:
        pon = build_panel_of_normals(
            list(normal_counts) if normal_counts is not None else list(normals),
            regions=regs,
            reference=reference,
            grouping=params.grouping,
            consensus=params.consensus,
        )
    hot = hotspots or default_hotspots()
    fasta = open_reference(reference)

    def genomic(chrom: str, pos: int) -> tuple[str, int]:
        off = contig_genomic_offset(chrom)
        return (off[0], off[1] + pos) if off else (chrom, pos)

    def fetcher(chrom: str):  # + strand bases at genomic positions, via the contig
        off = contig_genomic_offset(chrom)
        shift = off[1] if off else 0
        length = fasta.get_reference_length(chrom)

        def fetch(lo: int, hi: int) -> str | None:
            a, b = lo - shift - 1, hi - shift
            return fasta.fetch(chrom, a, b) if 0 <= a and b <= length else None

        return fetch

    # ---- SNV candidates: every (position, alt) with >= 1 alt molecule, plus hotspot sites
    depth = mc.depth
    rows: list[dict[str, Any]] = []
    site_rows: list[dict[str, Any]] = []
    gpos = [genomic(c, int(p)) for c, p in zip(mc.chrom, mc.pos, strict=True)]
    is_hot = np.array([hot.is_hotspot(gc, gp, genome) for gc, gp in gpos], dtype=bool)
    n_hot_alleles = 3 * int((is_hot & (mc.ref != "N")).sum()) + int(
        any(hot.is_indel_hotspot(gc, gp, genome) for gc, gp in gpos)
    )
    hot_thr = hotspot_threshold(params, n_hot_alleles)
    for j, alt in enumerate(BASES):
        k = mc.counts[:, j]
        cand = np.flatnonzero(
            (mc.ref != alt) & (mc.ref != "N") & ((k >= params.report_min_alt) | ((k >= 1) & is_hot))
        )
        for i in cand:
            rows.append(_snv_row(mc, int(i), j, alt))
    indel = mc.indels
    for rec in (
        dict(zip(indel.columns, map(json_scalar, vals), strict=True))
        for vals in indel.itertuples(index=False)
    ):
        if rec["alt_molecules"] >= params.report_min_alt:
            rows.append(
                {
                    **rec,
                    "raw_alt": np.nan,
                    "raw_depth": np.nan,
                    "kind": "insertion" if len(rec["alt"]) > len(rec["ref"]) else "deletion",
                }
            )
    calls = pd.DataFrame(rows)
    if calls.empty:
        calls = pd.DataFrame(columns=[*CALL_COLUMNS])
    else:
        calls = _test_and_filter(
            calls, mc, pon, hot, params, hot_thr, genome, genomic, fetcher, regs
        )
    # hotspot force-call summary: every hotspot base in the panel
    for i in np.flatnonzero(is_hot):
        gc, gp = gpos[i]
        site_rows.append({"chrom": mc.chrom[i], "pos": int(mc.pos[i]), "ref": mc.ref[i], "genomic_chrom": gc, "genomic_pos": gp,
                          "depth_molecules": int(depth[i])})  # fmt: skip
    sites = pd.DataFrame(
        site_rows,
        columns=["chrom", "pos", "ref", "genomic_chrom", "genomic_pos", "depth_molecules"],
    )
    if not sites.empty:
        eps = DEFAULT_ALPHA / (DEFAULT_ALPHA + DEFAULT_BETA)
        a = np.full(len(sites), DEFAULT_ALPHA)
        b = np.full(len(sites), DEFAULT_BETA)
        if pon is not None:
            a_all, b_all = [], []
            for alt in BASES:
                aa, bb = pon.lookup(
                    sites["chrom"].tolist(), sites["pos"].tolist(), [alt] * len(sites)
                )
                a_all.append(aa)
                b_all.append(bb)
            am, bm = np.stack(a_all), np.stack(b_all)
            worst = np.argmax(am / (am + bm), axis=0)
            a, b = am[worst, np.arange(len(sites))], bm[worst, np.arange(len(sites))]
        eps = a / (a + b)
        d = sites["depth_molecules"].to_numpy()
        kc = critical_count(
            d,
            10 ** (-hot_thr / 10),
            a=a,
            b=b,
            min_alt=params.hotspot_min_alt_molecules,
        )
        sites["lod"] = site_lod(d, kc, eps, params.lod_power)
        sites["k_crit"] = kc
        passed = calls[(calls["filter"] == "PASS")] if not calls.empty else calls
        hit = {
            (c, int(p))
            for c, p in zip(passed.get("chrom", []), passed.get("pos", []), strict=False)
        }
        sites["status"] = [
            "detected"
            if (c, int(p)) in hit
            else ("not_assessable" if dd < params.min_depth_molecules else "not_detected")
            for c, p, dd in zip(sites["chrom"], sites["pos"], d, strict=True)
        ]
        sites["alleles"] = [
            _site_alleles(hot, r, genome, fetcher) for r in sites.to_dict(orient="records")
        ]
    parameters = {**{k: v for k, v in asdict(params).items() if k not in ("grouping", "consensus")},
                  "grouping": asdict(params.grouping), "consensus": asdict(params.consensus),
                  "genome": genome, "hotspots": hot.source, "background": "panel of normals" if pon is not None else
                  f"default Beta({DEFAULT_ALPHA}, {DEFAULT_BETA})", "min_family_size": params.consensus.min_family_size,
                  "n_hotspot_alleles": n_hot_alleles, "hotspot_qual_threshold": hot_thr}  # fmt: skip
    return make_callset(
        calls,
        sites,
        mc,
        provenance=Provenance.build(
            inputs=_inputs(bam, regions, reference, normals, pon, counts_given=counts is not None),
            parameters=parameters,
        ),
        sample_name=_sample_name(bam),
        reference=str(reference),
        min_family_size=params.consensus.min_family_size,
    )


def _inputs(
    bam: str | Path,
    regions: str | Path | Sequence[Region],
    reference: str | Path,
    normals: Sequence[str | Path] | None,
    pon: PanelOfNormals | str | Path | None,
    *,
    counts_given: bool,
) -> dict[str, str | bytes | Path]:
    """What the calls were made from (hashed for provenance)."""
    out: dict[str, str | bytes | Path] = {}
    if not counts_given or Path(bam).is_file():
        out["bam"] = Path(bam)
    if isinstance(regions, str | Path):
        out["regions"] = Path(regions)
    else:
        out["regions"] = "\n".join(
            f"{r.chrom}\t{r.start}\t{r.end}\t{r.name}" for r in regions
        ).encode()
    out["reference"] = Path(reference)
    for i, n in enumerate(normals or []):
        out[f"normal_{i + 1}"] = Path(n)
    if isinstance(pon, str | Path):
        out["pon"] = Path(pon)
    elif pon is not None:
        out["pon"] = pon.table.to_csv(sep="\t", index=False).encode()
    return out


def _sample_name(bam: str | Path) -> str:
    """The BAM's read-group sample (SM), else its file name without ``.bam``."""
    p = Path(bam)
    if p.is_file():
        import pysam

        from kinresist.ngs._htslib import quiet_open

        names: set[Any] = set()
        with quiet_open():
            try:
                with pysam.AlignmentFile(str(p), "rb", check_sq=False) as fh:
                    rgs = fh.header.to_dict().get("RG", [])
                    names = {rg.get("SM") for rg in rgs if rg.get("SM")}
            except (OSError, ValueError, NotImplementedError):
                names = set()  # check_bam names the problem
        if len(names) == 1:
            return str(names.pop())
    return p.name.removesuffix(".bam")


def _site_alleles(hot: HotspotTable, site: dict[str, Any], genome: str | None, fetcher: Any) -> str:
    """Protein changes a hotspot base can carry (``"ALK G1202R;ALK G1202E"``), synonymous left out."""
    names = []
    for alt in BASES:
        if alt == site["ref"] or site["ref"] == "N":
            continue
        ann = hot.annotate(
            site["genomic_chrom"], int(site["genomic_pos"]), site["ref"], alt, genome=genome,
            fetch=fetcher(site["chrom"]),
        )  # fmt: skip
        if ann is not None and not ann.alteration.endswith("="):
            names.append(f"{ann.gene} {ann.alteration}")
    return ";".join(dict.fromkeys(names))


def _snv_row(mc: MoleculeCounts, i: int, j: int, alt: str) -> dict[str, Any]:
    k = int(mc.counts[i, j])
    return {
        "chrom": mc.chrom[i], "pos": int(mc.pos[i]), "ref": mc.ref[i], "alt": alt, "alt_molecules": k,
        "depth_molecules": int(mc.counts[i].sum()), "fwd": int(mc.fwd[i, j]), "rev": int(mc.rev[i, j]),
        "duplex": int(mc.duplex[i, j]), "famsize": int(mc.famsize[i, j]), "raw_alt": int(mc.raw[i, j]),
        "raw_depth": int(mc.raw[i].sum()), "kind": "substitution",
        "ref_fwd": int(mc.fwd[i].sum() - mc.fwd[i, j]), "ref_rev": int(mc.rev[i].sum() - mc.rev[i, j]),
        "site_famsize": int(mc.famsize[i].sum()),
    }  # fmt: skip


def hotspot_threshold(params: CallParams, n_hotspot_alleles: int) -> float:
    """QUAL threshold of the hotspot tier: Bonferroni over the hotspot alleles tested.

    ``hotspot_min_qual`` is read as a per-sample family-wise level over all hotspot alleles
    of the panel (20: 1 %), so each allele is tested at ``10^(-hotspot_min_qual/10) / m``,
    i.e. ``QUAL >= hotspot_min_qual + 10 log10(m)``; never stricter than ``min_qual``.
    """
    if not params.hotspot_bonferroni or n_hotspot_alleles <= 1:
        return float(min(params.hotspot_min_qual, params.min_qual))
    return float(min(params.hotspot_min_qual + 10 * np.log10(n_hotspot_alleles), params.min_qual))


def _test_and_filter(
    calls, mc, pon, hot, params, hot_thr, genome, genomic, fetcher, regs
) -> pd.DataFrame:
    n = len(calls)
    if pon is not None:
        a, b = pon.lookup(calls["chrom"].tolist(), calls["pos"].tolist(), calls["alt"].tolist())
    else:
        a, b = np.full(n, DEFAULT_ALPHA), np.full(n, DEFAULT_BETA)
    k = calls["alt_molecules"].to_numpy(dtype=np.int64)
    d = calls["depth_molecules"].to_numpy(dtype=np.int64)
    p = betabinom_upper_tail(k, d, a, b)
    calls["p_value"] = p
    calls["qual"] = -10 * np.log10(np.clip(p, 1e-300, 1))
    calls["background"] = a / (a + b)
    calls["af"] = np.where(d > 0, k / np.maximum(d, 1), np.nan)
    lo, hi = wilson(k, d)
    calls["af_ci_low"], calls["af_ci_high"] = lo, hi
    gene, alteration, hgvs, hotflag, build, kinds, gchrom, gpos = [], [], [], [], [], [], [], []
    for rec in calls.to_dict(orient="records"):
        gc, gp = genomic(rec["chrom"], int(rec["pos"]))
        ann = hot.annotate(
            gc, gp, rec["ref"], rec["alt"], genome=genome, fetch=_shift_fetch(fetcher(rec["chrom"]))
        )
        gchrom.append(gc)
        gpos.append(gp)
        if ann is not None:
            gene.append(ann.gene)
            alteration.append(ann.alteration)
            hgvs.append(ann.hgvs_c)
            hotflag.append(True)
            build.append(ann.genome)
            kinds.append(ann.kind)
        else:
            gene.append(_region_gene(regs, rec["chrom"], int(rec["pos"])))
            alteration.append(f"{gc}:g.{gp}{rec['ref']}>{rec['alt']}")
            hgvs.append(None)
            hotflag.append(
                bool(hot.is_hotspot(gc, gp, genome))
                if rec["kind"] == "substitution"
                else hot.is_indel_hotspot(gc, gp, genome)
            )
            build.append(genome)
            kinds.append(rec["kind"])
    calls["gene"], calls["alteration"], calls["hgvs_c"] = gene, alteration, hgvs
    calls["hotspot"], calls["genome"], calls["kind"] = hotflag, build, kinds
    calls["genomic_chrom"], calls["genomic_pos"] = gchrom, gpos
    hs = calls["hotspot"].to_numpy(dtype=bool)
    thr = np.where(hs, hot_thr, params.min_qual)
    min_alt = np.where(hs, params.hotspot_min_alt_molecules, params.min_alt_molecules)
    kc = critical_count(d, 10 ** (-thr / 10), a=a, b=b, min_alt=min_alt)
    calls["lod"] = site_lod(d, kc, a / (a + b), params.lod_power)
    fwd = calls["fwd"].to_numpy(dtype=np.int64)
    rev = calls["rev"].to_numpy(dtype=np.int64)
    ref_f = calls.get("ref_fwd", pd.Series(np.zeros(n))).fillna(0).to_numpy(dtype=np.int64)
    ref_r = calls.get("ref_rev", pd.Series(np.zeros(n))).fillna(0).to_numpy(dtype=np.int64)
    sb = np.zeros(n, dtype=bool)
    for i in range(n):
        if ref_f[i] > 0 and ref_r[i] > 0 and (fwd[i] == 0 or rev[i] == 0):
            sb[i] = (
                stats.fisher_exact([[fwd[i], rev[i]], [ref_f[i], ref_r[i]]])[1]
                < params.strand_bias_p
            )
    fam_alt = calls["famsize"].to_numpy(dtype=float) / np.maximum(k, 1)
    site_fs = calls.get("site_famsize", pd.Series(np.full(n, np.nan))).to_numpy(
        dtype=float
    ) / np.maximum(d, 1)
    fs_bad = np.isfinite(site_fs) & (fam_alt < params.min_family_size_ratio * site_fs)
    filters = []
    for i in range(n):
        f = []
        if d[i] < params.min_depth_molecules:
            f.append("low_depth")
        if k[i] < min_alt[i]:
            f.append("low_alt")
        if calls["qual"].iat[i] < thr[i]:
            f.append("low_qual")
        if sb[i]:
            f.append("strand_bias")
        if fs_bad[i]:
            f.append("family_size")
        filters.append(";".join(f) if f else "PASS")
    calls["filter"] = filters
    calls["subclonal"] = (calls["filter"] == "PASS") & (calls["af"] < params.subclonal_vaf)
    calls["alt_fwd"], calls["alt_rev"], calls["alt_duplex"] = (
        fwd,
        rev,
        calls["duplex"].to_numpy(dtype=np.int64),
    )
    calls["mean_family_size_alt"] = fam_alt
    out = calls[CALL_COLUMNS].sort_values(["chrom", "pos", "alt"], ignore_index=True)
    return out


def _shift_fetch(fetch):
    return fetch
