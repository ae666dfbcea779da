"""Generated study files for the monitoring tests (kinresist VCFs, findings tables, manifests)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: (chrom, pos, ref, alt, gene, alteration) of the alleles the synthetic VCFs carry
ALLELES = {
    "ALK G1202R": ("chr2", 29220831, "C", "T", "ALK", "G1202R"),
    "ALK L1196M": ("chr2", 29220765, "G", "T", "ALK", "L1196M"),
}
_VCF_HEADER = [
    "##fileformat=VCFv4.3",
    "##source=kinresist test",
    '##FILTER=<ID=low_alt,Description="Fewer alt molecules than the minimum">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele fraction in consensus molecules">',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Molecule depth">',
    '##INFO=<ID=AD,Number=A,Type=Integer,Description="Alt-supporting molecules">',
    '##INFO=<ID=LOD,Number=1,Type=Float,Description="Per-site limit of detection">',
    '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene">',
    '##INFO=<ID=ALT_NAME,Number=1,Type=String,Description="Short alteration name">',
]


def write_vcf(path: Path, calls: Sequence[tuple[str, float, int, float, str]]) -> Path:
    """A kinresist-style VCF: ``(alteration, af, depth, lod, filter)`` per record (fractions)."""
    lines = [*_VCF_HEADER, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"]
    for alteration, af, depth, lod, flt in calls:
        chrom, pos, ref, alt, gene, name = ALLELES[alteration]
        ad = round(af * depth)
        info = f"AF={af:.6g};DP={depth};AD={ad};LOD={lod:.6g};GENE={gene};ALT_NAME={name}"
        fmt = f"{depth}:{depth - ad},{ad}:{af:.6g}"
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t100\t{flt}\t{info}\tDP:AD:AF\t{fmt}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_findings(path: Path, rows: Sequence[tuple[str, str, float, int]]) -> Path:
    """A findings table: ``(gene, alteration, vaf, depth)`` per row."""
    body = "".join(f"{g},{a},{v},{d}\n" for g, a, v, d in rows)
    path.write_text("gene,alteration,vaf,depth\n" + body, encoding="utf-8")
    return path


#: Draws of PT-1 (on alectinib from 2023-06-05): G1202R by NGS VCF (fraction, LoD), EML4-ALK by
#: findings table (flat), L1196M always below LoD.
DRAWS = [
    ("PT-1-D1", "2023-09-12", None, 0.0020, 0.021),
    ("PT-1-D2", "2024-03-19", 0.0050, 0.0021, 0.020),
    ("PT-1-D3", "2024-08-27", 0.0150, 0.0019, 0.021),
    ("PT-1-D4", "2025-01-14", 0.0400, 0.0020, 0.019),
]
THERAPY = (
    "subject,drug,start,end\n"
    "PT-1,crizotinib,2022-03-01,2023-05-31\n"
    "PT-1,Alecensa,2023-06-05,2025-02-28\n"
    "PT-1,lorlatinib,2025-03-05,\n"
)


def write_vcf_study(tmp_path: Path) -> Path:
    """A 4-draw manifest (8 rows: a kinresist VCF and a findings table per draw) + therapy.csv."""
    d = tmp_path / "study"
    d.mkdir()
    rows = [
        "subject,sample,collected,sample_type,assay,file,tube,hours_to_processing,plasma_ml,cfdna_ng"
    ]
    for i, (sample, day, g1202r, lod, fusion) in enumerate(DRAWS):
        calls = [
            ("ALK G1202R", g1202r, 3000, lod, "PASS")
            if g1202r is not None
            else ("ALK G1202R", 0.0003, 3000, lod, "low_alt"),
            ("ALK L1196M", 0.0002, 2900, lod, "low_alt"),
        ]
        write_vcf(d / f"{sample}.vcf", calls)
        write_findings(d / f"{sample}_findings.csv", [("ALK", "EML4-ALK v3", fusion, 3100 + i)])
        tube, hours = ("EDTA", 6.0) if i == 2 else ("Streck", 48.0)
        qc = f"{tube},{hours},4.0,{10.0 + 5 * i}"
        rows.append(f"PT-1,{sample},{day},plasma,ngs_vcf,{sample}.vcf,{qc}")
        rows.append(f"PT-1,{sample},{day},plasma,findings,{sample}_findings.csv,,,,")
    (d / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (d / "therapy.csv").write_text(THERAPY, encoding="utf-8")
    return d
