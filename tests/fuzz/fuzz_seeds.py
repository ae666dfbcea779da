"""Small VALID input files for every fuzz target (the seeds the mutators start from).

Each seed is written by code here (generated, or taken from a generator of the package), small
enough that a valid run takes well under a second, so that mutations, not the seed's size, decide
the cost. The few seeds that come from ../shared are named in :data:`SHARED_SEEDS`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

SHARED_SEEDS = {
    "ddpcr.clusters": "ddpcr-data/Q4ddPCR-QX600/data/Data2/ClusterData.csv (first 4 wells)",
    "ngs.*": "ngs-data/anacore-sardine-inca-amplicons-hg19/inca_hg19_regions.fa (ALK exon 23)",
}

_ROWS = "ABCDEFGH"


def _ll4(dose: np.ndarray, ic50: float, hill: float, bottom: float) -> np.ndarray:
    return bottom + (100 - bottom) / (1 + (dose / ic50) ** hill)


# -- interpret -------------------------------------------------------------------------------
VCF = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr2,length=242193529>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|Feature|HGVSc|HGVSp|CANONICAL">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR
chr2\t29220747\t.\tC\tT\t50\tPASS\tDP=500\tGT:AD:DP\t0/1:450,50:500
chr2\t29220765\t.\tG\tT\t50\tPASS\tDP=400;CSQ=T|missense_variant|ALK|ENST00000389048|ENST00000389048.8:c.3586C>A|ENSP00000373700.3:p.Leu1196Met|YES\tGT:AD:DP\t0/1:380,20:400
chr2\t29300000\t.\tA\tG\t50\tPASS\tDP=300\tGT:AD:DP\t0/1:290,10:300
"""

MAF = (
    "Hugo_Symbol\tChromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tHGVSp_Short\t"
    "HGVSc\tt_alt_count\tt_ref_count\tt_depth\tTumor_Sample_Barcode\tNCBI_Build\n"
    "ALK\t2\t29443613\tC\tT\tp.G1202R\tc.3604G>A\t40\t360\t400\tTUMOR1\tGRCh37\n"
    "ALK\t2\t29443631\tG\tT\tp.L1196M\tc.3586C>A\t12\t388\t400\tTUMOR1\tGRCh37\n"
    "TP53\t17\t7577538\tC\tT\tp.R248Q\tc.743G>A\t100\t300\t400\tTUMOR1\tGRCh37\n"
)
FINDINGS = "gene,alteration,vaf,sample\nALK,G1202R,0.12,S1\nALK,EML4-ALK v3,0.30,S1\nMET,amplification,,S1\n"
FUSIONS = "partner,gene,partner_exon,gene_exon,vaf\nEML4,ALK,6,20,0.25\nKIF5B,RET,15,12,\n"
CNV = "gene,copy_number,call\nMET,9.5,amplification\nALK,2.1,neutral\nERBB2,6,\n"


# -- dose ------------------------------------------------------------------------------------
def dose_table() -> str:
    doses = 10000.0 / 3.0 ** np.arange(8)
    lines = ["group,dose,response"]
    for group, ic50 in (("parental", 30.0), ("resistant", 600.0)):
        for jitter in (1.02, 0.98):
            lines += [f"{group},{d:.6g},{r:.3f}" for d, r in zip(doses, jitter * _ll4(doses, ic50, 1.1, 5.0), strict=True)]  # fmt: skip
        lines.append(f"{group},0,100")
    return "\n".join(lines) + "\n"


def dose_plate() -> tuple[str, str]:
    """A 96-well grid and its map: two cell lines x one drug x 8 doses x 2 replicates."""
    doses = 10000.0 / 3.0 ** np.arange(8)
    grid = np.full((8, 12), 900.0)
    rows = ["well,role,cell_line,drug,concentration,replicate"]
    for k, (line, ic50) in enumerate((("H3122", 30.0), ("H3122-AR", 600.0))):
        for rep in range(2):
            r = 1 + 2 * k + rep  # rows B..E
            frac = _ll4(doses, ic50, 1.2, 6.0) * (1.03 if rep else 0.97)
            for j, d in enumerate(doses):
                grid[r, 1 + j] = 900 + (52000 - 900) * frac[j] / 100
                rows.append(f"{_ROWS[r]}{2 + j},sample,{line},alectinib,{d:.6g} nM,{rep + 1}")
            grid[r, 9] = 52000 * (1.01 if rep else 0.99)
            rows.append(f"{_ROWS[r]}10,vehicle,{line},DMSO,0 nM,{rep + 1}")
    for c in range(12):
        rows.append(f"A{c + 1},blank,,,,1")
    plate = ["Plate 1", "," + ",".join(str(i) for i in range(1, 13))]
    plate += [_ROWS[r] + "," + ",".join(f"{v:.1f}" for v in grid[r]) for r in range(8)]
    return "\n".join(plate) + "\n", "\n".join(rows) + "\n"


def dose_standard() -> str:
    conc = [0.02, 0.15, 0.4, 1, 2, 5, 10]
    sig = [2.45, 2.01, 1.53, 1.04, 0.769, 0.567, 0.47]
    lines = ["name,conc,signal"] + [f"std{i},{c},{s}" for i, (c, s) in enumerate(zip(conc, sig, strict=True))]  # fmt: skip
    lines += ["U1,,1.2", "U1,,1.25", "U2,,0.9"]
    return "\n".join(lines) + "\n"


def dose_gr() -> str:
    lines = ["cell_line,agent,concentration,cell_count,cell_count__ctrl,cell_count__time0"]
    for line, gr50 in (("A", 0.3), ("B", 3.0)):
        for c in (0.01, 0.03, 0.1, 0.3, 1, 3, 10):
            frac = 0.1 + 0.9 / (1 + c / gr50)
            lines.append(f"{line},drugX,{c},{1000 + 3000 * frac:.1f},4000,1000")
    return "\n".join(lines) + "\n"


# -- synergy ---------------------------------------------------------------------------------
def synergy_block() -> str:
    lor = [0.0, 3.0, 10.0, 30.0, 100.0]
    tra = [0.0, 1.0, 3.0, 10.0, 30.0]
    lines = ["block_id,drug1,drug2,conc1,conc2,response,conc_unit"]
    for c1 in lor:
        for c2 in tra:
            ia, ib = 0.92 * c1 / (c1 + 40.0), 0.6 * c2 / (c2 + 20.0)
            v = 100.0 * (1.0 - (ia + ib - ia * ib))
            lines.append(f"1,lorlatinib,trametinib,{c1:g},{c2:g},{v:.2f},nM")
    return "\n".join(lines) + "\n"


def synergy_checkerboard() -> tuple[str, str]:
    """A 96-well grid with one 4 x 4 checkerboard (rows B-E, columns 2-5) and its map."""
    c1s, c2s = [0.0, 10.0, 100.0, 1000.0], [0.0, 3.0, 30.0, 300.0]
    grid = np.full((8, 12), 900.0)
    rows = ["well,role,drug1,conc1,drug2,conc2,unit"]
    for i, c1 in enumerate(c1s):
        for j, c2 in enumerate(c2s):
            ia, ib = c1 / (c1 + 100.0), 0.5 * c2 / (c2 + 30.0)
            grid[1 + i, 1 + j] = 900 + 50000 * (1 - (ia + ib - ia * ib))
            rows.append(f"{_ROWS[1 + i]}{2 + j},sample,lorlatinib,{c1:g},trametinib,{c2:g},nM")
    for r in range(1, 5):
        grid[r, 10] = 50900
        rows.append(f"{_ROWS[r]}11,vehicle,,,,,nM")
    rows += [f"A{c},blank,,,,,nM" for c in range(1, 5)]
    plate = ["Plate 1", "," + ",".join(str(i) for i in range(1, 13))]
    plate += [_ROWS[r] + "," + ",".join(f"{v:.1f}" for v in grid[r]) for r in range(8)]
    return "\n".join(plate) + "\n", "\n".join(rows) + "\n"


# -- clinical, in vivo, TME ------------------------------------------------------------------
def clinical_table() -> str:
    rng = np.random.default_rng(5)
    lines = ["id,months,event,arm,best_response,ic_response,subgroup"]
    resp = ["CR", "PR", "SD", "PD", "PR", "SD"]
    for i in range(24):
        arm = "A" if i % 2 else "B"
        t = rng.exponential(12 if arm == "A" else 7)
        lines.append(f"P{i},{t:.2f},{int(rng.random() < 0.7)},{arm},{resp[i % 6]},{resp[(i + 1) % 6]},{'old' if i % 3 else 'young'}")  # fmt: skip
    return "\n".join(lines) + "\n"


INVIVO = (
    "Treatment,Mouse,-1,7,14,21\n"
    "Vehicle,1,100,300,900,1500\nVehicle,2,120,330,1000,1700\nVehicle,3,90,280,950,1400\n"
    "Drug,4,110,150,200,190\nDrug,5,100,140,260,300\nDrug,6,95,120,180,40\n"
)


def elisa_table() -> str:
    conc = [0.02, 0.15, 0.4, 1, 2, 5]
    od = [2.45, 2.01, 1.53, 1.04, 0.769, 0.567]
    lines = ["sample,signal,concentration,subject,dilution"]
    lines += [f"S{i},{y},{x},," for i, (x, y) in enumerate(zip(conc, od, strict=True))]
    lines += [f"T{i},{y},,M{i},5" for i, y in enumerate((2.01, 1.53, 1.2))]
    return "\n".join(lines) + "\n"


RNK = "".join(
    f"{g}\t{s:.3f}\n"
    for g, s in zip(
        ["CD8A", "STAT1", "IDO1", "CXCL9", "CXCL10", "GZMB", "PRF1", "ACTB", "GAPDH", "MYC",
         "CCND1", "KRAS", "EGFR", "ALK", "MET", "TP53", "RB1", "PTEN", "VIM", "CDH1"],
        np.linspace(3, -3, 20),
        strict=True,
    )
)  # fmt: skip
GMT = (
    "IFNG_UP\tx\tCD8A\tSTAT1\tIDO1\tCXCL9\tCXCL10\tGZMB\n"
    "GROWTH\tx\tMYC\tCCND1\tKRAS\tEGFR\tALK\tMET\n"
    "SUPPRESSORS\tx\tTP53\tRB1\tPTEN\tCDH1\tVIM\n"
)


def expression() -> str:
    genes = ["IFNG", "STAT1", "IDO1", "CXCL9", "CXCL10", "HLA-DRA", "ACTB"]
    lines = ["gene,T1,T2,T3"] + [f"{g},{i + 1.5},{i + 2.25},{2 * i + 1}" for i, g in enumerate(genes)]  # fmt: skip
    return "\n".join(lines) + "\n"


def tme_table() -> str:
    rng = np.random.default_rng(0)
    resp = ["mPR", "mPD", "mSD", "mCR"] * 3
    lines = ["subject,cd8_pct_cd45,neutrophil_pct_cd45,response,ttp,progressed"]
    for i in range(12):
        lines.append(f"M{i},{rng.normal(15, 5):.2f},{rng.normal(15, 5):.2f},{resp[i]},{rng.integers(10, 60)},{i % 2}")  # fmt: skip
    return "\n".join(lines) + "\n"


# -- study import ----------------------------------------------------------------------------
MANIFEST = (
    "subject,sample,collected,sample_type,assay,file\n"
    "P1,P1-D1,2024-01-10,plasma,findings,p1_d1.csv\n"
    "P1,P1-D2,2024-03-10,plasma,findings,p1_d2.csv\n"
)
STUDY_FINDINGS = "gene,alteration,vaf\nALK,EML4-ALK v3,0.2\nALK,G1202R,0.05\n"


# -- ddPCR -----------------------------------------------------------------------------------
def ddpcr_plate(folder: Path) -> tuple[list[Path], Path]:
    from kinresist.ddpcr.simulate import simulate_plate, write_plate

    plate = simulate_plate(
        rng=np.random.default_rng(7), n_wells=3, droplets=3000, wt_copies_per_droplet=0.2,
        mutant_fractions=np.array([0.02, 0.0, 0.05]),
    )  # fmt: skip
    amps = write_plate(plate, folder / "plate", name="fz plate_1")
    lines = ["Well,Sample,TargetType,Target,Positives,AcceptedDroplets"]
    for w, name in zip(plate.wells, ["S1", "NTC", "PC"], strict=True):
        lines += [f"{w},{name},Ch1Unknown,ALK_G1202R_FAM,,", f"{w},{name},Ch2Unknown,ALK_WT_HEX,,"]
    results = folder / "results.csv"
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return amps, results


DDPCR_RESULTS = (
    "Well,Sample,TargetType,Target,Status,Positives,Negatives,AcceptedDroplets,"
    "Ch1+Ch2+,Ch1+Ch2-,Ch1-Ch2+,Ch1-Ch2-\n"
    "A01,S1,Ch1Unknown,ALK_G1202R,OK,60,14940,15000,50,10,4200,10740\n"
    "A01,S1,Ch2Unknown,ALK_WT,OK,4250,10750,15000,50,10,4200,10740\n"
    "B01,S2,Ch1Unknown,ALK_G1202R,OK,3,13997,14000,2,1,3900,10097\n"
    "B01,S2,Ch2Unknown,ALK_WT,OK,3902,10098,14000,2,1,3900,10097\n"
)


def ddpcr_clusters(shared: Path) -> str:
    src = shared / "ddpcr-data" / "Q4ddPCR-QX600" / "data" / "Data2" / "ClusterData.csv"
    lines = src.read_text(encoding="utf-8-sig").splitlines()
    head, body = lines[:5], lines[5:]
    wells: list[str] = []
    keep = []
    for ln in body:
        w = ln.split(",", 1)[0]
        if w not in wells:
            if len(wells) == 4:
                break
            wells.append(w)
        keep.append(ln)
    return "\n".join(head + keep) + "\n"


# -- NGS -------------------------------------------------------------------------------------
def ngs_case(folder: Path, shared: Path) -> dict[str, Path]:
    import pysam

    from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

    fa_src = shared / "ngs-data" / "anacore-sardine-inca-amplicons-hg19" / "inca_hg19_regions.fa"
    contig = "chr2_29443539_29443787"
    seq = pysam.FastaFile(str(fa_src)).fetch(contig).upper()
    folder.mkdir(parents=True, exist_ok=True)
    fa = folder / "alk.fa"
    fa.write_text(f">{contig}\n{seq}\n", encoding="utf-8")
    pysam.faidx(str(fa))
    vp = 29443613 - 29443539
    out = {"fa": fa}
    for name, frac, seed in (("tumour", 0.02, 42), ("normal1", 0.0, 43), ("normal2", 0.0, 44)):
        bam = folder / f"{name}.bam"
        spec = SyntheticSpec(contig, seq, 400, read_length=100, family_size=4, variant_pos=vp,
                             variant_alt="T", variant_fraction=frac, start_range=(0, vp - 5))  # fmt: skip
        write_synthetic_bam(bam, spec, rng=np.random.default_rng(seed))
        out[name] = bam
    bed = folder / "alk.bed"
    bed.write_text(f"{contig}\t20\t160\tALK_exon23\n", encoding="utf-8")
    out["bed"] = bed
    cnr = folder / "sample.cnr"
    rows = ["chromosome\tstart\tend\tgene\tdepth\tlog2\tweight"]
    for k, (gene, lg) in enumerate((("MET", 1.9), ("ALK", 0.05), ("KRAS", 1.2), ("EGFR", -0.1))):
        for b in range(4):
            start = 1_000_000 * (k + 1) + 200 * b
            rows.append(
                f"chr{k + 2}\t{start}\t{start + 200}\t{gene}\t300\t{lg + 0.02 * b:.3f}\t0.9"
            )
    cnr.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out["cnr"] = cnr
    return out


# -- blot and flow -----------------------------------------------------------------------------
def blot_set(folder: Path) -> dict[str, Path]:
    from kinresist.blot.simulate import example_blot_set, write_blot_set

    folder.mkdir(parents=True, exist_ok=True)
    images, design, _truth = example_blot_set(rng=np.random.default_rng(4), n_blots=1)
    paths, design_path = write_blot_set(images, design, folder)
    tifs = sorted(Path(p) for p in paths)
    return {"pALK": tifs[-1], "ALK": tifs[0], "design": design_path}


def flow_case(folder: Path) -> dict[str, Path]:
    path = Path(__file__).resolve().parents[1] / "tme" / "flowfixtures.py"
    spec = importlib.util.spec_from_file_location("fuzz_flowfixtures", path)
    assert spec is not None
    assert spec.loader is not None
    ff = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_flowfixtures"] = ff
    spec.loader.exec_module(ff)
    events = ff.make_events()[::4]
    fcs = ff.write_fcs(folder / "tumour_01.fcs", events)
    wsp = ff.write_workspace(folder / "panel.wsp", "tumour_01.fcs", events)
    return {"fcs": fcs, "wsp": wsp}


def xlsx_from_csv(csv_text: str, path: Path) -> Path:
    import io

    import pandas as pd

    pd.read_csv(io.StringIO(csv_text)).to_excel(path, index=False)
    return path
