"""``kinresist demo``: a demo study built from example data that kinresist generates itself.

Three ALK-positive NSCLC cases at progression, each from a different input format:

1. ``DEMO-01`` progressed on crizotinib; plasma ctDNA, unannotated GRCh38 VCF with ALK L1196M
   (chr2:29220765 G>T, the gatekeeper) plus EML4-ALK v1 from a fusion table.
2. ``DEMO-02`` progressed on alectinib; tissue re-biopsy, VEP-annotated GRCh37 VCF with ALK G1202R
   (chr2:29443613 C>T) on EML4-ALK v3 (fusion table).
3. ``DEMO-03`` progressed on lorlatinib; tissue, findings table with the compound ALK L1198F + C1156Y.

The coordinates are the knowledge base's (docs/knowledge-base.md, spec §4); the VAFs are invented
for the demonstration. The example files are written next to the report so that a user can rerun
any case with ``kinresist interpret``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from kinresist.provenance import file_sha256

__all__ = ["DemoCase", "DemoResult", "run_demo", "write_example_data"]

STUDY = "kinresist demo: ALK TKI resistance"

_VCF_HEADER = """##fileformat=VCFv4.2
##source=kinresist-demo
##reference={build}
##contig=<ID={chrom},length={length}>
##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">
{extra}##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}
"""

_CSQ_FIELDS = "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|HGVSc|HGVSp|MANE_SELECT"


@dataclass(frozen=True)
class DemoCase:
    """One demo patient: inputs, clinical context and what the demo stores."""

    subject: str
    sample: str
    sample_kind: str
    collected: dt.date
    prior_therapy: str
    therapy_start: dt.date
    files: dict[str, Path] = field(default_factory=dict)
    genome: str | None = None


@dataclass(frozen=True)
class DemoResult:
    report: Path
    store: Path
    data_dir: Path
    cases: tuple[DemoCase, ...]
    classifications: dict[str, str]


def _vcf(path: Path, *, build: str, sample: str, rows: list[str], csq: bool = False) -> Path:
    length = 242_193_529 if build == "GRCh38" else 243_199_373  # chr2 length of each build
    extra = (
        f'##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. '
        f'Format: {_CSQ_FIELDS}">\n'
        if csq
        else ""
    )
    chrom = "chr2" if build == "GRCh38" else "2"
    header = _VCF_HEADER.format(build=build, chrom=chrom, length=length, extra=extra, sample=sample)
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def write_example_data(directory: str | PathLike[str]) -> tuple[DemoCase, ...]:
    """Write the three demo cases' input files into ``directory``; return the cases."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)

    # Case 1: crizotinib progression, plasma, plain GRCh38 VCF (matched by coordinates).
    vcf1 = _vcf(
        d / "DEMO-01_plasma_GRCh38.vcf",
        build="GRCh38",
        sample="DEMO-01-plasma",
        rows=[
            "chr2\t29220765\t.\tG\tT\t812\tPASS\tDP=2480\tGT:AD:AF\t0/1:2215,265:0.107",
        ],
    )
    fus1 = d / "DEMO-01_fusions.csv"
    fus1.write_text("sample,partner,gene,variant\nDEMO-01-plasma,EML4,ALK,v1\n", encoding="utf-8")

    # Case 2: alectinib progression, tissue, VEP-annotated GRCh37 VCF on EML4-ALK v3.
    csq = "T|missense_variant|MODERATE|ALK|ENSG00000171094|Transcript|ENST00000389048.8|protein_coding|23/29|ENST00000389048.8:c.3604G>A|ENSP00000373700.3:p.Gly1202Arg|NM_004304.5"
    vcf2 = _vcf(
        d / "DEMO-02_tissue_GRCh37_vep.vcf",
        build="GRCh37",
        sample="DEMO-02-tissue",
        rows=[f"2\t29443613\t.\tC\tT\t1450\tPASS\tDP=612;CSQ={csq}\tGT:AD:AF\t0/1:452,160:0.261"],
        csq=True,
    )
    fus2 = d / "DEMO-02_fusions.csv"
    fus2.write_text(
        "sample,partner,gene,partner_exon,gene_exon\nDEMO-02-tissue,EML4,ALK,6,20\n",
        encoding="utf-8",
    )

    # Case 3: lorlatinib progression, tissue, compound mutation in a findings table.
    table3 = d / "DEMO-03_findings.csv"
    table3.write_text(
        "sample,gene,alteration,vaf\n"
        "DEMO-03-tissue,ALK,p.Leu1198Phe,0.21\n"
        "DEMO-03-tissue,ALK,C1156Y,0.19\n",
        encoding="utf-8",
    )
    fus3 = d / "DEMO-03_fusions.csv"
    fus3.write_text("sample,fusion\nDEMO-03-tissue,EML4-ALK v1\n", encoding="utf-8")
    return (
        DemoCase("DEMO-01", "DEMO-01-plasma", "plasma", dt.date(2025, 3, 4), "crizotinib",
                 dt.date(2023, 6, 1), {"vcf": vcf1, "fusions": fus1}, "GRCh38"),
        DemoCase("DEMO-02", "DEMO-02-tissue", "tissue", dt.date(2025, 5, 20), "alectinib",
                 dt.date(2022, 9, 12), {"vcf": vcf2, "fusions": fus2}, "GRCh37"),
        DemoCase("DEMO-03", "DEMO-03-tissue", "tissue", dt.date(2025, 8, 11), "lorlatinib",
                 dt.date(2024, 1, 15), {"table": table3, "fusions": fus3}),
    )  # fmt: skip


def _read_case(case: DemoCase, idx: object) -> list:
    from kinresist.interpret.readers.tables import read_findings_table, read_fusions
    from kinresist.interpret.readers.vcf import read_vcf

    findings: list = []
    if "vcf" in case.files:
        findings += read_vcf(
            case.files["vcf"], genome=case.genome or "", kb=idx, sample=case.sample
        )
    if "fusions" in case.files:
        findings += read_fusions(case.files["fusions"])
    if "table" in case.files:
        findings += read_findings_table(case.files["table"])
    return findings


def run_demo(out_dir: str | PathLike[str] = "kinresist-demo") -> DemoResult:
    """Build the demo: example files, a fresh SQLite store, three interpretations, one HTML report.

    Everything is written under ``out_dir`` (created; a previous demo store there is replaced).
    """
    from kinresist.core import SampleInfo, record
    from kinresist.interpret import interpret_findings
    from kinresist.interpret._kbindex import KBIndex
    from kinresist.interpret.contract import interpretation_result
    from kinresist.kb import load_kb
    from kinresist.reports.interpretation import write_interpretation_report
    from kinresist.store import open_store

    out = Path(out_dir)
    data_dir = out / "data"
    cases = write_example_data(data_dir)
    db_path = out / "demo.sqlite"
    db_path.unlink(missing_ok=True)

    idx = KBIndex.from_kb(load_kb())
    interpretations = []
    with open_store(str(db_path)) as store:
        for case in cases:
            inputs = {str(p.name): file_sha256(p) for p in case.files.values()}
            result = interpret_findings(
                _read_case(case, idx),
                kb=idx,
                prior_therapy=case.prior_therapy,
                sample_type=case.sample_kind,
                sample=case.sample,
                inputs=inputs,
            )
            interpretations.append(result)
            record(
                interpretation_result([result], inputs=dict(case.files), parameters={}),
                store,
                study=STUDY,
                subject=case.subject,
                sample=case.sample,
                info=SampleInfo(sample_type=case.sample_kind, collected=case.collected),
            )
            with store.transaction() as tx:
                study = tx.get_or_create_study(STUDY)
                subject = tx.get_or_create_subject(study, case.subject)
                if not subject.therapy_lines:
                    tx.add_therapy_line(
                        subject,
                        line_number=1,
                        drug=case.prior_therapy,
                        start_date=case.therapy_start,
                        end_date=case.collected,
                        best_response="PR",
                        progression=True,
                    )
    report = write_interpretation_report(
        interpretations,
        out / "kinresist-demo-report.html",
        title="kinresist demo: three ALK-resistance cases",
    )
    return DemoResult(
        report=report.resolve(),
        store=db_path.resolve(),
        data_dir=data_dir.resolve(),
        cases=cases,
        classifications={it.sample or "": it.classification for it in interpretations},
    )
