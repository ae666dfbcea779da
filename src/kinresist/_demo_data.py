"""Generated inputs of ``kinresist demo`` beyond the patient and the plates (see :mod:`kinresist.demo`).

Every generator is seeded and writes the files a lab would hand over; nothing is read from outside
the package (the Hallmark gene sets and the hotspot codons are bundled with kinresist).

* **in vivo** (:func:`write_invivo`): 24 mice bearing EML4-ALK tumours, six per arm (vehicle,
  alectinib, trametinib, alectinib + trametinib), calipers twice a week for 21 days. Each tumour
  grows exponentially at its arm's rate (per day: 0.115, 0.080, 0.095, -0.035; the combination
  beats both the Bliss expectation 0.080 + 0.095 - 0.115 = 0.060 and, at day 21, response
  additivity), shifted by the animal's immune score
  (a standard normal: higher = slower growth, more CD8+ T cells, fewer neutrophils, more CXCL10,
  each with the tumour's own noise).
* **tumour microenvironment** of the same 24 tumours, from core biopsies at randomisation (day 0,
  before treatment: what ``tme associate`` relates to response), written by :func:`write_tme`: a
  CXCL10 ELISA plate (8 standards and 2 blanks in duplicate, biopsy lysates 1:4 in duplicate, 4PL
  signals); one FCS 3.1 file per biopsy (FlowKit's flowio; a 5-colour mouse panel with its
  spillover matrix in ``$SPILLOVER``, counting beads, debris) and a Gating-ML 2.0 file (cells,
  CD45+, CD3+, CD8+, CD11b+Ly6G+, beads; compensated gates use the FCS matrix); a per-tumour table
  (CD8+ and neutrophil % of CD45+ and CXCL10 as generated, the response as mRECIST of the animal's
  generated curve, time to volume doubling); and a ranked list of the day-21 tumours, combination
  vs vehicle (Hallmark IFN-γ and IFN-α response up, E2F targets and G2M checkpoint down).
* **clinical** (:func:`write_clinical`): 80 patients on lorlatinib after alectinib, plasma ALK
  G1202R detected in 28; progression-free survival (exponential, medians 18 vs 7 months,
  administrative censoring 6-36 months) and best response (ORR 64 % vs 31 %) differ by G1202R.
* **western blots** (:func:`write_blots`): p-ALK and ALK membranes (GAPDH on each) of H3122 and
  H3122-AR lysates after alectinib 0-300 nM, two replicate blots (the simulator of
  :mod:`kinresist.blot.simulate`); p-ALK/ALK falls with IC50 15 nM in the parental line and 3 µM in
  the resistant line.
* **UMI sequencing** (:func:`write_umi_panel`): H3122-AR's panel reads on ALK exon 23 (46 % G1202R,
  2,000 molecules, 4 reads each). The 249-bp contig is named after the GRCh37 slice
  chr2:29443539-29443787; its bases are generated except the reference codons of the bundled ALK
  hotspots (:data:`kinresist.ngs.hotspots.CODON_TABLE`), which is all the caller reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Mouse",
    "write_blots",
    "write_clinical",
    "write_invivo",
    "write_tme",
    "write_umi_panel",
]

ARMS: dict[str, float] = {
    "vehicle": 0.115,
    "alectinib": 0.080,
    "trametinib": 0.095,
    "alectinib+trametinib": -0.035,
}
COMBINATION = "alectinib+trametinib=alectinib,trametinib"
DAYS = (0, 3, 7, 10, 14, 17, 21)


@dataclass(frozen=True)
class Mouse:
    """One generated animal: its arm, immune score and measured volumes on :data:`DAYS`."""

    subject: str
    arm: str
    immune: float
    volumes: tuple[float, ...]
    noise: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def biopsy(self) -> str:
        """The label of the animal's day-0 tumour biopsy."""
        return f"{self.subject} biopsy"


def write_invivo(folder: Path, *, seed: int = 2101) -> tuple[Path, list[Mouse]]:
    """The caliper table (``mouse, arm, day, volume`` in mm³) and the animals behind it."""
    rng = np.random.default_rng(seed)
    mice: list[Mouse] = []
    lines = ["mouse,arm,day,volume"]
    for a, (arm, rate) in enumerate(ARMS.items()):
        for k in range(6):
            subject = f"M{6 * a + k + 1:02d}"
            immune = float(rng.normal())
            v0 = 150.0 * float(np.exp(rng.normal(0.0, 0.15)))
            r = rate - 0.010 * immune + float(rng.normal(0.0, 0.008))
            vols = tuple(round(v0 * float(np.exp(r * d + rng.normal(0.0, 0.07))), 1) for d in DAYS)
            noise = (
                float(rng.normal(0, 0.35)),
                float(rng.normal(0, 0.35)),
                float(rng.normal(0, 0.3)),
            )
            mice.append(Mouse(subject, arm, immune, vols, noise))
            lines += [f"{subject},{arm},{d},{v}" for d, v in zip(DAYS, vols, strict=True)]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "XEN-01_calipers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, mice


def write_clinical(folder: Path, *, seed: int = 3301) -> Path:
    """``patient, g1202r_plasma, pfs_months, progressed, best_response`` for 80 patients."""
    rng = np.random.default_rng(seed)
    lines = ["patient,g1202r_plasma,pfs_months,progressed,best_response"]
    for i in range(80):
        detected = i % 20 < 7
        median = 18.0 if detected else 7.0
        t = float(rng.exponential(median / np.log(2.0)))
        cut = float(rng.uniform(6.0, 36.0))
        p = [0.08, 0.56, 0.22, 0.12, 0.02] if detected else [0.03, 0.28, 0.36, 0.30, 0.03]
        response = str(rng.choice(["CR", "PR", "SD", "PD", "NE"], p=p))
        group = "detected" if detected else "not detected"
        lines.append(f"LC-{i + 1:03d},{group},{min(t, cut):.1f},{int(t <= cut)},{response}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "lorlatinib_cohort.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- tumour microenvironment --------------------------------------------------------------------

_CHANNELS = ["FSC-A", "SSC-A", "FITC-A", "PE-A", "APC-A", "PE-Cy7-A", "BV421-A"]
_MARKERS = ["", "", "CD45", "CD3", "CD8", "CD11b", "Ly6G"]
_SPILL = np.array(
    [
        [1.0, 0.25, 0.0, 0.02, 0.0],
        [0.01, 1.0, 0.30, 0.10, 0.0],
        [0.0, 0.02, 1.0, 0.05, 0.0],
        [0.0, 0.05, 0.03, 1.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.0],
    ]
)
_NS = (
    'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
    'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"'
)
BEADS_ADDED = 10_000.0
VOLUME_UL = 100.0


def _immune_fractions(mouse: Mouse) -> tuple[float, float, float]:
    """(CD8+ T % of CD45+, neutrophil % of CD45+, CXCL10 pg/mL in the lysate) of the day-0
    biopsy: the animal's immune score and the biopsy's own noise (``mouse.noise``)."""
    e1, e2, e3 = mouse.noise
    cd8 = 100.0 / (1.0 + np.exp(-(-1.6 + 0.6 * mouse.immune + e1)))
    neut = 100.0 / (1.0 + np.exp(-(-1.3 - 0.5 * mouse.immune + e2)))
    cxcl10 = 380.0 * float(np.exp(0.45 * mouse.immune + e3))
    return float(cd8), float(neut), cxcl10


def _events(rng: np.random.Generator, cd8_pct: float, neut_pct: float) -> np.ndarray:
    """Raw (uncompensated) events: 2,500 CD45+ cells in the given proportions, CD45- tumour
    cells, counting beads and debris, with the panel's spillover applied."""

    def pop(n: int, fsc: float, ssc: float, fl: list[float]) -> np.ndarray:
        scatter = np.column_stack([rng.normal(fsc, 6000, n), rng.normal(ssc, 5000, n)])
        true = np.column_stack([rng.lognormal(np.log(max(m, 1.0)), 0.25, n) for m in fl])
        return np.hstack([scatter, true])

    n45 = 2500
    n_cd8 = round(n45 * cd8_pct / 100.0)
    n_neut = round(n45 * neut_pct / 100.0)
    rest = n45 - n_cd8 - n_neut
    parts = [
        pop(n_cd8, 70000, 30000, [8000, 9000, 12000, 150, 100]),  # CD8 T
        pop(rest // 2, 70000, 30000, [8000, 9000, 200, 150, 100]),  # CD4 T
        pop(n_neut, 75000, 60000, [7000, 150, 150, 9000, 8000]),  # neutrophils CD11b+Ly6G+
        pop(rest - rest // 2, 80000, 40000, [7000, 150, 150, 5000, 120]),  # other myeloid
        pop(1500, 65000, 30000, [150, 120, 100, 100, 100]),  # CD45- tumour cells
        pop(300, 8000, 120000, [30000] * 5),  # counting beads
        pop(300, 5000, 2000, [50] * 5),  # debris
    ]
    ev = np.vstack(parts)
    ev = ev[rng.permutation(ev.shape[0])]
    ev[:, 2:] = ev[:, 2:] @ _SPILL
    return np.clip(ev, 1.0, 262143.0)


def _write_fcs(path: Path, events: np.ndarray) -> None:
    import flowio

    fluo = _CHANNELS[2:]
    spill = ",".join([str(len(fluo)), *fluo, *(f"{v:.6g}" for v in _SPILL.ravel())])
    with path.open("wb") as fh:
        flowio.create_fcs(
            fh,
            events.astype(np.float32).ravel().tolist(),
            _CHANNELS,
            opt_channel_names=_MARKERS,
            metadata_dict={"SPILLOVER": spill},
        )


def _dim(name: str, lo: float | None = None, hi: float | None = None, comp: str = "FCS") -> str:
    bounds = "".join(f' gating:{k}="{v:g}"' for k, v in (("min", lo), ("max", hi)) if v is not None)
    return (
        f'<gating:dimension gating:compensation-ref="{comp}"{bounds}>'
        f'<data-type:fcs-dimension data-type:name="{name}"/></gating:dimension>'
    )


def _gating_ml() -> str:
    """Gating-ML 2.0: scatter gates on raw channels, marker gates on FCS-compensated channels."""

    def parent(p: str | None) -> str:
        return f' gating:parent_id="{p}"' if p else ""

    def rect(gid: str, dims: list[str], p: str | None = None) -> str:
        return f'<gating:RectangleGate gating:id="{gid}"{parent(p)}>{"".join(dims)}</gating:RectangleGate>'

    def poly(
        gid: str, x: str, y: str, verts: list[tuple[float, float]], p: str | None, comp: str
    ) -> str:
        vs = "".join(
            f'<gating:vertex><gating:coordinate data-type:value="{a:g}"/>'
            f'<gating:coordinate data-type:value="{b:g}"/></gating:vertex>'
            for a, b in verts
        )
        return (
            f'<gating:PolygonGate gating:id="{gid}"{parent(p)}>{_dim(x, comp=comp)}'
            f"{_dim(y, comp=comp)}{vs}</gating:PolygonGate>"
        )

    cells = [(20000.0, 5000.0), (120000.0, 5000.0), (120000.0, 90000.0), (20000.0, 90000.0)]
    cd8 = [(2000.0, 1500.0), (60000.0, 1500.0), (60000.0, 60000.0), (2000.0, 60000.0)]
    gates = [
        poly("Cells", "FSC-A", "SSC-A", cells, None, "uncompensated"),
        rect("CD45_pos", [_dim("FITC-A", 2000)], "Cells"),
        rect("CD3_pos", [_dim("PE-A", 2000)], "CD45_pos"),
        poly("CD8_pos", "PE-A", "APC-A", cd8, "CD3_pos", "FCS"),
        rect("CD11b_pos_Ly6G_pos", [_dim("PE-Cy7-A", 2000), _dim("BV421-A", 2000)], "CD45_pos"),
        rect(
            "Counting_beads",
            [
                _dim("FSC-A", None, 20000, "uncompensated"),
                _dim("SSC-A", 90000, None, "uncompensated"),
            ],
        ),
    ]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<gating:Gating-ML {_NS}>\n'
        + "\n".join(gates)
        + "\n</gating:Gating-ML>\n"
    )


def _od(conc: float) -> float:
    """CXCL10 ELISA signal (OD450) of a well at ``conc`` pg/mL: 4PL plus the plate blank."""
    return 0.06 + 0.04 + (2.6 - 0.04) / (1.0 + (180.0 / conc) ** 1.1) if conc > 0 else 0.06 + 0.04


def _write_elisa(path: Path, mice: list[Mouse], rng: np.random.Generator) -> None:
    lines = ["well,sample,type,signal,concentration,dilution,subject,analyte"]
    wells = (f"{r}{c}" for c in range(1, 13) for r in "ABCDEFGH")
    standards = [2000.0, 1000.0, 500.0, 250.0, 125.0, 62.5, 31.25, 15.625]
    for i, conc in enumerate(standards, start=1):
        for _ in range(2):
            od = _od(conc) * float(np.exp(rng.normal(0.0, 0.03)))
            lines.append(f"{next(wells)},STD{i},standard,{od:.4f},{conc:g},1,,CXCL10")
    for _ in range(2):
        lines.append(f"{next(wells)},blank,blank,{0.06 + rng.normal(0, 0.004):.4f},,1,,CXCL10")
    for m in mice:
        conc = _immune_fractions(m)[2]
        for _ in range(2):
            od = _od(conc / 4.0) * float(np.exp(rng.normal(0.0, 0.03)))
            lines.append(f"{next(wells)},{m.biopsy},unknown,{od:.4f},,4,{m.subject},CXCL10")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_ranked_list(path: Path, rng: np.random.Generator) -> None:
    from kinresist.gsea.genesets import hallmark

    sets = dict(hallmark().sets)
    genes = sorted(set().union(*map(set, sets.values())))
    score = dict(zip(genes, rng.normal(0.0, 1.0, len(genes)), strict=True))
    for name, shift in (
        ("HALLMARK_INTERFERON_GAMMA_RESPONSE", 1.1),
        ("HALLMARK_INTERFERON_ALPHA_RESPONSE", 0.8),
        ("HALLMARK_E2F_TARGETS", -1.1),
        ("HALLMARK_G2M_CHECKPOINT", -0.8),
    ):
        for g in sets[name]:
            score[g] += shift
    ranked = sorted(score.items(), key=lambda kv: -kv[1])
    path.write_text("".join(f"{g}\t{s:.8f}\n" for g, s in ranked), encoding="utf-8")


def _response_and_ttp(mouse: Mouse) -> tuple[str, float, int]:
    """mRECIST of the generated curve (the engine's rule) and the first day at 2 x baseline."""
    from kinresist.invivo.metrics import mrecist

    v = np.asarray(mouse.volumes)
    call = mrecist(np.asarray(DAYS, dtype=float), v).call
    doubled = [d for d, x in zip(DAYS, v, strict=True) if x >= 2.0 * v[0]]
    if doubled:
        return f"m{call}", float(doubled[0]), 1
    return f"m{call}", float(DAYS[-1]), 0


def write_tme(folder: Path, mice: list[Mouse], *, seed: int = 4401) -> dict[str, Path]:
    """ELISA plate, FCS files + Gating-ML + sample sheet, ranked list and per-tumour table."""
    rng = np.random.default_rng(seed)
    flow = folder / "flow"
    flow.mkdir(parents=True, exist_ok=True)
    elisa = folder / "XEN-01_CXCL10_elisa.csv"
    _write_elisa(elisa, mice, rng)
    sheet = ["sample,subject,beads_added,volume_ul"]
    table = ["subject,arm,cd8_pct_cd45,neutrophil_pct_cd45,CXCL10,response,time,event"]
    for m in mice:
        cd8, neut, cxcl10 = _immune_fractions(m)
        fcs = f"{m.biopsy.replace(' ', '_')}.fcs"
        _write_fcs(flow / fcs, _events(rng, cd8, neut))
        sheet.append(f"{fcs},{m.subject},{BEADS_ADDED:g},{VOLUME_UL:g}")
        response, time, event = _response_and_ttp(m)
        table.append(
            f"{m.subject},{m.arm},{cd8:.2f},{neut:.2f},{cxcl10:.1f},{response},{time:g},{event}"
        )
    (flow / "panel.xml").write_text(_gating_ml(), encoding="utf-8")
    (flow / "samples.csv").write_text("\n".join(sheet) + "\n", encoding="utf-8")
    ranked = folder / "XEN-01_combination_vs_vehicle.rnk"
    _write_ranked_list(ranked, rng)
    tumours = folder / "XEN-01_tumours.csv"
    tumours.write_text("\n".join(table) + "\n", encoding="utf-8")
    return {"elisa": elisa, "flow": flow, "ranked": ranked, "tumours": tumours}


# -- western blots and UMI sequencing of the lines ----------------------------------------------

BLOT_DOSES = (0.0, 10.0, 30.0, 100.0, 300.0)
BLOT_IC50 = {"H3122": 15.0, "H3122-AR": 3000.0}


def write_blots(folder: Path, *, seed: int = 5501) -> Path:
    """Two replicate blots (p-ALK and ALK membranes, GAPDH on each); returns the design file."""
    import pandas as pd

    from kinresist.blot.simulate import BandSpec, simulate_blot

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lanes = [(line, dose) for line in BLOT_IC50 for dose in BLOT_DOSES]
    design = []
    for k in (1, 2):
        total = rng.uniform(0.8, 1.2, len(lanes)) * 4.0e6
        biological = np.exp(rng.normal(0.0, 0.08, len(lanes)))
        phospho = biological * [
            0.6 * (0.05 + 0.95 / (1.0 + (d / BLOT_IC50[line]) ** 1.2)) for line, d in lanes
        ]
        for membrane, target in (("pALK", "p-ALK"), ("ALK", "ALK")):
            load = rng.uniform(0.7, 1.3, len(lanes))
            main = total * load * (phospho if target == "p-ALK" else 1.0)
            blot = simulate_blot(
                [
                    BandSpec(target, 110.0, 5.0, list(main)),
                    BandSpec("GAPDH", 240.0, 4.0, list(5.0e6 * load)),
                ],
                rng=rng,
                smile=2.0,
            )
            image = f"blot{k}_{membrane}.tif"
            blot.write_tiff(folder / image)
            for lane, (line, dose) in enumerate(lanes, start=1):
                common = {
                    "image": image,
                    "blot": f"B{k}",
                    "membrane": f"B{k}-{membrane}",
                    "lane": lane,
                    "sample": f"{line} alectinib {dose:g} nM",
                    "cell_line": line,
                    "treatment": "DMSO" if dose == 0 else "alectinib",
                    "dose": dose,
                    "dose_unit": "nM",
                }
                design.append({**common, "target": target, "role": "target", "window": "70-150"})
                design.append(
                    {**common, "target": "GAPDH", "role": "loading_control", "window": "205-275"}
                )
    path = folder / "design.csv"
    pd.DataFrame(design).to_csv(path, index=False)
    return path


SLICE = ("chr2", 29443539, 29443787)


def write_umi_panel(folder: Path, *, seed: int = 6601) -> dict[str, Path]:
    """H3122-AR's UMI BAM (+ index), the slice reference (+ .fai) and the target BED."""
    import pysam

    from kinresist.ngs.hotspots import CODON_TABLE
    from kinresist.ngs.synthbam import SyntheticSpec, write_synthetic_bam

    rng = np.random.default_rng(seed)
    chrom, start, end = SLICE
    seq = list(rng.choice(list("ACGT"), end - start + 1))
    comp = str.maketrans("ACGT", "TGCA")
    for h in CODON_TABLE:
        if h.chrom != chrom or h.ref_codon is None:
            continue
        for pos, base in zip(h.positions("GRCh37"), h.ref_codon, strict=True):
            if start <= pos <= end:
                seq[pos - start] = base if h.strand == "+" else base.translate(comp)
    reference = "".join(seq)
    contig = f"{chrom}_{start}_{end}"
    folder.mkdir(parents=True, exist_ok=True)
    fasta = folder / "alk_exon23_slice.fa"
    fasta.write_text(f">{contig}\n{reference}\n", encoding="utf-8")
    pysam.faidx(str(fasta))
    site = 29443613 - start  # ALK c.3604 (G1202R: GGA > AGA; C > T on the plus strand)
    bam = folder / "H3122-AR-p24.bam"
    spec = SyntheticSpec(
        contig,
        reference,
        2000,
        read_length=100,
        family_size=4,
        variant_pos=site,
        variant_alt="T",
        variant_fraction=0.46,
        start_range=(0, site - 5),
    )
    write_synthetic_bam(bam, spec, rng=rng)
    bed = folder / "alk_exon23.bed"
    bed.write_text(f"{contig}\t20\t160\tALK_exon23\n", encoding="utf-8")
    return {"bam": bam, "reference": fasta, "regions": bed}
