"""Simulation suite: sensitivity and specificity of the UMI caller by VAF and molecule depth.

For each molecule depth, ``n_normals`` normal samples are simulated (same site error
profile, no spikes) and turned into a panel of normals; then for each VAF and replicate a
tumour sample with the four resistance spikes (ALK G1202R, ALK L1196M, EGFR T790M, KRAS
G12C) is simulated and called with :func:`kinresist.ngs.call_variants`. A spike is
detected when a PASS call has its contig position and alt base; every other PASS call is
a false positive, counted per 100 kb of called territory (the BED of the simulated contigs).

Run ``python -m kinresist.ngs.simulate_suite --out docs/ngs-simulation.md`` to regenerate the
table in the docs (between the ``simulation-table`` markers; the rest of the file is kept).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from kinresist.ngs.simulate import (
    DEFAULT_SPIKES,
    SimParams,
    SimulatedSample,
    SlicePanel,
    Spike,
    simulate_sample,
)

__all__ = ["SiteResult", "SuiteConfig", "SuiteResult", "markdown_table", "run_suite"]

START, END = "<!-- simulation-table:start -->", "<!-- simulation-table:end -->"


@dataclass(frozen=True, slots=True)
class SuiteConfig:
    """Grid and replication of the suite."""

    vafs: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.02)
    depths: tuple[int, ...] = (500, 1000, 2000, 5000)
    replicates: int = 5
    n_normals: int = 6
    seed: int = 1
    spikes: tuple[Spike, ...] = DEFAULT_SPIKES
    spec_samples: int = 0
    spec_depth: int = 2000
    sim: SimParams = field(default_factory=SimParams)


@dataclass(frozen=True, slots=True)
class SiteResult:
    """One spike in one simulated tumour."""

    depth: int
    vaf: float
    replicate: int
    label: str
    true_depth: int
    true_alt: int
    detected: bool
    called_af: float | None
    called_depth: int | None
    called_alt: int | None
    filter: str | None


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """All site results and false positives of a suite run."""

    config: SuiteConfig
    sites: tuple[SiteResult, ...]
    false_positives: tuple[dict[str, Any], ...]
    territory_bp: dict[int, int]
    seconds: float
    spec_false_positives: tuple[dict[str, Any], ...] = ()
    spec_territory_bp: int = 0

    def sensitivity(self, vaf: float, depth: int) -> tuple[int, int]:
        """(detected, tested) at a grid point."""
        rows = [s for s in self.sites if s.vaf == vaf and s.depth == depth]
        return sum(s.detected for s in rows), len(rows)

    def fp_per_100kb(self, depth: int | None = None) -> tuple[int, int, float]:
        """(false-positive PASS calls, territory bp, rate per 100 kb), overall or at one depth."""
        fps = [f for f in self.false_positives if depth is None or f["depth"] == depth]
        bp = sum(v for d, v in self.territory_bp.items() if depth is None or d == depth)
        return len(fps), bp, (len(fps) / bp * 1e5 if bp else math.nan)


def _seed(*parts: float) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([round(p * 1e6) for p in parts]))


def _call(bam: Path, *, bed: Path, reference: Path, pon: Any) -> Any:
    from kinresist.ngs import call_variants

    return call_variants(bam, regions=bed, reference=reference, pon=pon)


def _build_pon(normals: Sequence[Path], *, bed: Path, reference: Path) -> Any:
    from kinresist.ngs import build_panel_of_normals

    return build_panel_of_normals(list(normals), regions=bed, reference=reference)


def run_suite(
    panel: SlicePanel,
    config: SuiteConfig,
    *,
    workdir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SuiteResult:
    """Simulate and call the grid; BAMs are written to a temporary folder and removed."""
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="kinresist-simsuite-", dir=workdir))
    sites: list[SiteResult] = []
    fps: list[dict[str, Any]] = []
    territory: dict[int, int] = {}
    try:
        contigs = sorted(
            {panel.locate(s.chrom, s.pos)[0] for s in config.spikes}, key=panel.contigs.index
        )
        bed = panel.write_bed(tmp / "regions.bed", contigs)
        bp = sum(len(panel.sequences[c]) for c in contigs)
        for depth in config.depths:
            sim = replace(config.sim, depth=depth)
            normals = []
            for j in range(config.n_normals):
                s = simulate_sample(panel, out=tmp / f"normal_{depth}_{j}.bam", rng=_seed(config.seed, depth, 0, j, 1),
                                    params=sim, contigs=contigs, sample=f"normal{j}")  # fmt: skip
                normals.append(s.bam)
            pon = _build_pon(normals, bed=bed, reference=panel.fasta)
            for vaf in config.vafs:
                for rep in range(config.replicates):
                    if progress:
                        progress(f"depth {depth} VAF {vaf:.2%} replicate {rep + 1}")
                    spikes = [sp.with_vaf(vaf) for sp in config.spikes]
                    tumour = simulate_sample(panel, out=tmp / "tumour.bam", rng=_seed(config.seed, depth, vaf, rep, 2),
                                             params=sim, spikes=spikes, contigs=contigs, sample="tumour")  # fmt: skip
                    callset = _call(tumour.bam, bed=bed, reference=panel.fasta, pon=pon)
                    s_rows, f_rows = evaluate(
                        tumour, callset.calls, depth=depth, vaf=vaf, replicate=rep
                    )
                    sites.extend(s_rows)
                    fps.extend(f_rows)
                    territory[depth] = territory.get(depth, 0) + bp
        spec_fps, spec_bp = _specificity_arm(panel, config, tmp, progress)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return SuiteResult(
        config,
        tuple(sites),
        tuple(fps),
        territory,
        time.perf_counter() - t0,
        tuple(spec_fps),
        spec_bp,
    )


def _specificity_arm(
    panel: SlicePanel, config: SuiteConfig, tmp: Path, progress: Callable[[str], None] | None
) -> tuple[list[dict[str, Any]], int]:
    """Spike-free samples over every slice: every PASS call is a false positive."""
    if config.spec_samples <= 0:
        return [], 0
    bed = panel.write_bed(tmp / "all.bed")
    sim = replace(config.sim, depth=config.spec_depth)
    normals = []
    for j in range(config.n_normals):
        if progress:
            progress(f"panel-wide normal {j + 1}")
        s = simulate_sample(panel, out=tmp / f"all_normal_{j}.bam", rng=_seed(config.seed, config.spec_depth, 0, j, 3),
                            params=sim, contigs=panel.contigs, sample=f"normal{j}")  # fmt: skip
        normals.append(s.bam)
    pon = _build_pon(normals, bed=bed, reference=panel.fasta)
    fps: list[dict[str, Any]] = []
    bp = 0
    for rep in range(config.spec_samples):
        if progress:
            progress(f"panel-wide spike-free sample {rep + 1}")
        s = simulate_sample(panel, out=tmp / "all_tumour.bam", rng=_seed(config.seed, config.spec_depth, 0, rep, 4),
                            params=sim, contigs=panel.contigs, sample="tumour")  # fmt: skip
        calls = _call(s.bam, bed=bed, reference=panel.fasta, pon=pon).calls
        _, f_rows = evaluate(s, calls, depth=config.spec_depth, vaf=0.0, replicate=rep)
        fps.extend(f_rows)
        bp += sum(len(panel.sequences[c]) for c in panel.contigs)
    return fps, bp


def evaluate(
    sample: SimulatedSample, calls: Any, *, depth: int, vaf: float, replicate: int
) -> tuple[list[SiteResult], list[dict[str, Any]]]:
    """Match PASS calls (DataFrame with chrom, pos, alt, filter, ...) against the spikes."""
    passed = calls[calls["filter"] == "PASS"] if len(calls) else calls
    truth = {(t.contig, t.contig_pos, t.spike.alt): t for t in sample.spikes}
    rows = []
    for t in sample.spikes:
        hit = (
            calls[
                (calls["chrom"] == t.contig)
                & (calls["pos"] == t.contig_pos)
                & (calls["alt"] == t.spike.alt)
            ]
            if len(calls)
            else calls
        )
        rec = hit.iloc[0] if len(hit) else None
        rows.append(
            SiteResult(
                depth,
                vaf,
                replicate,
                f"{t.spike.gene} {t.spike.alteration}",
                t.depth_molecules,
                t.alt_molecules,
                bool(rec is not None and rec["filter"] == "PASS"),
                None if rec is None else float(rec["af"]),
                None if rec is None else int(rec["depth_molecules"]),
                None if rec is None else int(rec["alt_molecules"]),
                None if rec is None else str(rec["filter"]),
            )
        )
    fp = [
        {
            "depth": depth,
            "vaf": vaf,
            "replicate": replicate,
            "chrom": str(r["chrom"]),
            "pos": int(r["pos"]),
            "ref": str(r["ref"]),
            "alt": str(r["alt"]),
            "af": float(r["af"]),
            "alt_molecules": int(r["alt_molecules"]),
            "depth_molecules": int(r["depth_molecules"]),
        }
        for _, r in passed.iterrows()
        if (str(r["chrom"]), int(r["pos"]), str(r["alt"])) not in truth
    ]
    return rows, fp


def _wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    z = 1.959964
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def markdown_table(result: SuiteResult, *, command: str) -> str:
    """Sensitivity (detected/tested, Wilson 95 % CI) by VAF x depth, and the FP rates."""
    cfg = result.config
    lines = [
        f"Generated by `{command}` (seed {cfg.seed}, {cfg.replicates} replicates x {len(cfg.spikes)} sites per cell, "
        f"{cfg.n_normals} normals per depth, {result.seconds:.0f} s).",
        "",
        "Sensitivity: PASS calls at the spiked allele / spikes tested (Wilson 95 % CI). "
        "Columns: nominal molecule depth (observed UMI families covering the site).",
        "",
        "| VAF | " + " | ".join(f"{d:,} molecules" for d in cfg.depths) + " |",
        "|---|" + "---|" * len(cfg.depths),
    ]
    for vaf in cfg.vafs:
        cells = []
        for d in cfg.depths:
            k, n = result.sensitivity(vaf, d)
            lo, hi = _wilson(k, n)
            cells.append(f"{k}/{n} = {k / n:.0%} ({lo:.0%}-{hi:.0%})" if n else "-")
        lines.append(f"| {vaf:.2%} | " + " | ".join(cells) + " |")
    lines += ["", "Specificity: false-positive PASS calls (anything but a spiked allele) per 100 kb called.", "",
              "| depth | FP PASS calls | territory (bp) | FP per 100 kb |", "|---|---|---|---|"]  # fmt: skip
    for d in cfg.depths:
        n, bp, rate = result.fp_per_100kb(d)
        lines.append(f"| {d:,} | {n} | {bp:,} | {rate:.2f} |")
    n, bp, rate = result.fp_per_100kb()
    lines.append(f"| all | {n} | {bp:,} | {rate:.2f} |")
    if result.spec_territory_bp:
        n, bp = len(result.spec_false_positives), result.spec_territory_bp
        lines += [
            "",
            f"Panel-wide specificity: {cfg.spec_samples} spike-free samples over all 47 slices "
            f"({bp // cfg.spec_samples:,} bp each) at {cfg.spec_depth:,} molecules, {cfg.n_normals} normals: "
            f"{n} false-positive PASS calls in {bp:,} bp = {n / bp * 1e5:.2f} per 100 kb.",
        ]
        lines += [
            f"- {f['chrom']}:{f['pos']} {f['ref']}>{f['alt']} {f['alt_molecules']}/{f['depth_molecules']} molecules"
            for f in result.spec_false_positives
        ]
    if result.false_positives:
        lines += ["", "False positives:", ""]
        lines += [
            f"- depth {f['depth']}, VAF {f['vaf']:.2%}, rep {f['replicate']}: {f['chrom']}:{f['pos']} "
            f"{f['ref']}>{f['alt']} {f['alt_molecules']}/{f['depth_molecules']} molecules"
            for f in result.false_positives
        ]
    missed = [s for s in result.sites if not s.detected and s.vaf >= 0.005 and s.depth >= 2000]
    if missed:
        lines += ["", "Missed spikes at >= 0.5 % VAF and >= 2,000 molecules:", ""]
        lines += [
            f"- {s.label}, depth {s.depth}, VAF {s.vaf:.2%}, rep {s.replicate}: truth {s.true_alt}/{s.true_depth} "
            f"molecules; caller {s.called_alt}/{s.called_depth} filter {s.filter}"
            for s in missed
        ]
    return "\n".join(lines) + "\n"


def write_into(doc: Path, table: str) -> None:
    """Replace the text between the simulation-table markers (append them when absent)."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# NGS simulation suite\n\n"
    block = f"{START}\n{table}{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: run the suite and write the table into a Markdown file."""
    ap = argparse.ArgumentParser(prog="python -m kinresist.ngs.simulate_suite", description=__doc__)
    ap.add_argument(
        "--out", type=Path, required=True, help="Markdown file to update (docs/ngs-simulation.md)."
    )
    ap.add_argument(
        "--reference", type=Path, help="Slice FASTA (default: ../shared anacore hg19 slices)."
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--normals", type=int, default=6)
    ap.add_argument("--depths", default="500,1000,2000,5000")
    ap.add_argument("--vafs", default="0.001,0.0025,0.005,0.01,0.02")
    ap.add_argument(
        "--spec-samples", type=int, default=0, help="Spike-free panel-wide samples (all slices)."
    )
    ap.add_argument("--spec-depth", type=int, default=2000)
    args = ap.parse_args(argv)
    shared = Path(
        os.environ.get("KINRESIST_SHARED", Path(__file__).resolve().parents[4] / "shared")
    )
    ref = (
        args.reference
        or shared / "ngs-data/anacore-sardine-inca-amplicons-hg19/inca_hg19_regions.fa"
    )
    panel = SlicePanel.load(ref, ref.with_suffix(".bed"))
    cfg = SuiteConfig(
        vafs=tuple(float(x) for x in args.vafs.split(",")),
        depths=tuple(int(x) for x in args.depths.split(",")),
        replicates=args.replicates,
        n_normals=args.normals,
        seed=args.seed,
        spec_samples=args.spec_samples,
        spec_depth=args.spec_depth,
    )
    result = run_suite(panel, cfg, progress=lambda m: print(m, file=sys.stderr, flush=True))
    cmd = "python -m kinresist.ngs.simulate_suite " + " ".join(
        a if not a.startswith("/") else Path(a).name
        for a in (argv if argv is not None else sys.argv[1:])
    )
    table = markdown_table(result, command=cmd)
    write_into(args.out, table)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
