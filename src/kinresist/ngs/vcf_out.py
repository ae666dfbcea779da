"""VCF 4.3 output of a :class:`~kinresist.ngs.result.CallSet` (the ``vcf`` format of ``ngs call``).

INFO: ``AF`` (molecule VAF), ``DP`` (molecule depth), ``AD`` (alt molecules), ``LOD`` (per-site
limit of detection, VAF), ``BG`` (background error rate), ``GENE``, ``ALT_NAME`` (short
alteration), ``HOTSPOT``, ``SUBCLONAL``, ``SB`` (alt molecules fwd,rev), ``DUPLEX``, ``MFS``
(mean family size of alt molecules), ``RAW_AF``. FORMAT: ``DP:AD:AF`` per sample.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinresist.ngs.result import CallSet

__all__ = ["write_vcf"]

_FILTERS = {
    "low_alt": "Fewer alt molecules than the minimum (3; 2 at hotspots)",
    "low_qual": "Beta-binomial QUAL below the threshold (60; at hotspots 20 + 10 log10(hotspot alleles tested))",
    "low_depth": "Molecule depth below the minimum",
    "strand_bias": "Alt molecules on one strand only (Fisher p < threshold)",
    "family_size": "Alt molecules come from small families relative to the site",
}


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "."
    return f"{x:.6g}"


def write_vcf(
    calls: CallSet, path: str | Path, *, reference: str | None = None, sample: str | None = None
) -> Path:
    """Write the calls as VCF 4.3 (sorted by contig order of appearance, then position).

    ``reference`` and ``sample`` (the FORMAT column) default to the call set's reference path
    and sample name (the BAM's read-group SM, else its file name).
    """
    from kinresist.provenance import RESEARCH_USE_NOTICE

    prov = calls.provenance
    reference = calls.body.get("reference", "") if reference is None else reference
    sample = sample or calls.body.get("sample_name") or "SAMPLE"
    lines = [
        "##fileformat=VCFv4.3",
        f"##source=kinresist {prov.kinresist_version}",
        f"##kinresist_schema_version={calls.schema_version}",
        f"##kb_version={prov.kb_version}",
        f"##reference={reference}",
        f"##notice={RESEARCH_USE_NOTICE}",
    ]
    lines += [f"##input={name} {digest}" for name, digest in prov.inputs.items()]
    if calls.counts is not None:
        contigs = list(dict.fromkeys(calls.counts.chrom.tolist()))
    else:
        contigs = list(dict.fromkeys(calls.calls["chrom"].astype(str)))
    lines += [f"##contig=<ID={c}>" for c in contigs]
    lines += [f'##FILTER=<ID={k},Description="{v}">' for k, v in _FILTERS.items()]
    lines += [
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele fraction in consensus molecules">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Molecule depth (consensus families passing filters)">',
        '##INFO=<ID=AD,Number=A,Type=Integer,Description="Alt-supporting molecules">',
        '##INFO=<ID=LOD,Number=1,Type=Float,Description="Per-site limit of detection (VAF, 95% power) at this depth">',
        '##INFO=<ID=BG,Number=A,Type=Float,Description="Background error rate (beta mean) at the site">',
        '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene">',
        '##INFO=<ID=ALT_NAME,Number=1,Type=String,Description="Short alteration name (protein change at hotspots)">',
        '##INFO=<ID=HOTSPOT,Number=0,Type=Flag,Description="Known hotspot (lower threshold applied)">',
        '##INFO=<ID=SUBCLONAL,Number=0,Type=Flag,Description="Low-VAF call (below the subclonal VAF threshold)">',
        '##INFO=<ID=SB,Number=2,Type=Integer,Description="Alt molecules on forward, reverse strand">',
        '##INFO=<ID=DUPLEX,Number=1,Type=Integer,Description="Alt molecules with duplex support">',
        '##INFO=<ID=MFS,Number=1,Type=Float,Description="Mean family size of alt molecules">',
        '##INFO=<ID=RAW_AF,Number=A,Type=Float,Description="Raw read-level allele fraction">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Molecule depth">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Ref, alt molecules">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Molecule allele fraction">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + sample,
    ]
    order = {c: i for i, c in enumerate(contigs)}
    df = calls.calls.copy()
    df["_o"] = df["chrom"].map(order).fillna(len(order))
    for r in df.sort_values(["_o", "pos"]).to_dict(orient="records"):
        info = [f"AF={_fmt(r['af'])}", f"DP={int(r['depth_molecules'])}", f"AD={int(r['alt_molecules'])}",
                f"LOD={_fmt(r['lod'])}", f"BG={_fmt(r['background'])}", f"GENE={r['gene']}",
                f"ALT_NAME={str(r['alteration']).replace(';', ',').replace(' ', '_')}"]  # fmt: skip
        if r["hotspot"]:
            info.append("HOTSPOT")
        if r["subclonal"]:
            info.append("SUBCLONAL")
        info += [f"SB={int(r['alt_fwd'])},{int(r['alt_rev'])}", f"DUPLEX={int(r['alt_duplex'])}",
                 f"MFS={_fmt(r['mean_family_size_alt'])}"]  # fmt: skip
        raw_d, raw_a = r.get("raw_depth"), r.get("raw_alt")
        if (
            isinstance(raw_d, int | float)
            and isinstance(raw_a, int | float)
            and math.isfinite(raw_d)
            and raw_d > 0
        ):
            info.append(f"RAW_AF={_fmt(float(raw_a) / float(raw_d))}")
        ref_mol = int(r["depth_molecules"]) - int(r["alt_molecules"])
        fmt = f"{int(r['depth_molecules'])}:{ref_mol},{int(r['alt_molecules'])}:{_fmt(r['af'])}"
        lines.append("\t".join([str(r["chrom"]), str(int(r["pos"])), ".", r["ref"], r["alt"], _fmt(min(r["qual"], 9999.0)),
                                r["filter"], ";".join(info), "DP:AD:AF", fmt]))  # fmt: skip
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
