"""VCF 4.x findings: annotated (VEP ``CSQ`` / snpEff ``ANN``) or matched by coordinates.

Annotated records give gene, HGVSc and HGVSp from the MANE Select transcript (VEP
``MANE_SELECT``), else the canonical one (``CANONICAL=YES``), else VEP's ``PICK``,
else the entry on the KB gene's MANE transcript, else the first entry. Only records
in genes the KB knows become findings.

Unannotated records are matched by genomic coordinates in the given build. No
reference FASTA is used, so left-normalisation is approximated: REF/ALT are trimmed
of shared bases (suffix, then prefix, VCF anchor included) and an indel also matches
a KB indel whose deleted/inserted sequence is a rotation of it shifted by the same
number of bases (the shift of one repeat unit that full left-alignment would undo);
see docs/interpretation.md. Records inside a KB gene's curated CDS but not in the KB
become findings named by their cDNA change (``c.3605G>A``), whose effect is unknown.

Errors (``InputError`` with path, line, what was expected and the fix): missing
``##fileformat`` header or ``#CHROM`` line, no records after the header (an empty call set
is not evidence of absence), wrong column counts, negative AD counts, the same allele twice with
different VAFs (identical duplicate records are kept once, with a warning), contigs that are no
chromosome (``NC_000002.12``, ``scaffold_1``), non-integer/negative POS, REF/ALT with
characters other than ACGTN, VAF outside 0-1, non-UTF-8 bytes, and a build mismatch
(``##reference``/``##contig`` lengths or KB alleles of the other build).
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from kinresist.errors import InputError
from kinresist.interpret._kbindex import KBIndex
from kinresist.interpret.finding import Finding, Genome
from kinresist.interpret.names import normalise_cdna, parse_protein
from kinresist.interpret.readers._textio import iter_lines
from kinresist.interpret.readers._validate import Duplicates, no_records
from kinresist.interpret.readers._vcfsupport import Near, VcfHeader, kb_match, parse_meta
from kinresist.kb.coordinates import normalise_chrom, normalise_genome
from kinresist.kb.knowledge_base import normalise_allele
from kinresist.kb.model import GenomicAllele

__all__ = ["read_vcf"]

_CHROMS = {str(i) for i in range(1, 23)} | {"X", "Y", "MT"}
_SKIP_CONTIG = re.compile(
    r"(?i)^(chr)?(un_|.*_random$|.*_alt$|.*_decoy$|gl\d|ki\d|hs37d5|ebv|hla-)"
)
_BASES = re.compile(r"^[ACGTNacgtn]+$")
_COLS = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]


def _other(genome: Genome) -> Genome:
    return "GRCh38" if genome == "GRCh37" else "GRCh37"


def _pick_entry(
    entries: list[dict[str, str]], idx: KBIndex, *, gene_key: str, feature_key: str
) -> dict[str, str] | None:
    if not entries:
        return None
    for e in entries:
        if e.get("MANE_SELECT") or e.get("MANE"):
            return e
    for e in entries:
        if e.get("CANONICAL", "").upper() == "YES":
            return e
    for e in entries:
        if e.get("PICK") == "1":
            return e
    for e in entries:
        gene = idx.genes.get(e.get(gene_key, ""))
        feat = e.get(feature_key, "").split(".")[0]
        if (
            gene is not None
            and feat
            and feat in {gene.mane_refseq.split(".")[0], gene.mane_ensembl.split(".")[0]}
        ):
            return e
    return entries[0]


def _strip_hgvs(value: str) -> str:
    v = unquote(value.strip())
    return v.split(":", 1)[1] if ":" in v else v


def _vaf(
    info: dict[str, str], fmt: dict[str, str], alt_i: int, path: Path, line: int
) -> float | None:
    def check(v: float, what: str) -> float:
        if not 0.0 <= v <= 1.0:
            msg = f"{what} = {v:g} is outside 0-1; expected an allele fraction (fix the caller output or convert % to a fraction)"
            raise InputError(msg, path=path, line=line)
        return v

    def pick(raw: str, what: str) -> float | None:
        parts = raw.split(",")
        if alt_i >= len(parts) or parts[alt_i] in {".", ""}:
            return None
        text = parts[alt_i].strip()
        pct = text.endswith("%")
        try:
            v = float(text.rstrip("%"))
        except ValueError:
            msg = f"{what} {raw!r} is not a number; expected an allele fraction such as 0.12"
            raise InputError(msg, path=path, line=line) from None
        return check(v / 100 if pct else v, what)

    for key in ("AF", "VAF", "FREQ"):
        if key in fmt:
            return pick(fmt[key], f"FORMAT {key}")
    if "AD" in fmt and fmt["AD"] not in {".", ""}:
        try:
            ad = [int(x) for x in fmt["AD"].split(",")]
        except ValueError:
            msg = f"FORMAT AD {fmt['AD']!r} is not a list of integers"
            raise InputError(msg, path=path, line=line) from None
        if any(x < 0 for x in ad):
            msg = f"FORMAT AD {fmt['AD']!r} has a negative read count"
            raise InputError(msg, path=path, line=line)
        total = sum(ad)
        if total > 0 and alt_i + 1 < len(ad):
            return check(ad[alt_i + 1] / total, "FORMAT AD alt fraction")
    if "AF" in info:
        return pick(info["AF"], "INFO AF")
    return None


def read_vcf(
    path: str | PathLike[str],
    *,
    genome: str,
    kb: Any,
    sample: str | None = None,
) -> list[Finding]:
    """Findings of a VCF (see the module docstring for the rules and errors)."""
    p = Path(path)
    try:
        build: Genome = normalise_genome(genome)
    except ValueError as exc:
        msg = f"--genome {genome!r}: {exc}"
        raise InputError(msg) from None
    idx = kb if isinstance(kb, KBIndex) else KBIndex.from_kb(kb)
    near = Near(idx)
    hdr = VcfHeader()
    seen_fileformat = False
    seen_chrom = False
    sample_col: int | None = None
    findings: list[Finding] = []
    votes = {"GRCh37": 0, "GRCh38": 0}
    pending: list[
        tuple[int, str, int, str, str, float | None]
    ] = []  # unannotated, matched at the end
    n_records = 0
    dups = Duplicates(p, "VCF record")
    for number, line in iter_lines(p):
        if number == 1 and not line.startswith("##fileformat=VCF"):
            msg = "missing VCF header: the first line must be '##fileformat=VCFv4.x'; the file is truncated or not a VCF"
            raise InputError(msg, path=p, line=1)
        if line.startswith("##"):
            seen_fileformat = True
            parse_meta(line, hdr)
            continue
        if line.startswith("#CHROM"):
            cols = line.split("\t")
            if cols[:8] != _COLS:
                msg = f"header line must start with the 8 tab-separated columns {' '.join(_COLS)}; got {' '.join(cols[:8])!r}"
                raise InputError(msg, path=p, line=number)
            hdr.columns = len(cols)
            hdr.samples = cols[9:]
            if hdr.samples:
                sample_col = 9 + (hdr.samples.index(sample) if sample in hdr.samples else 0)
            seen_chrom = True
            if hdr.build_hint is not None and hdr.build_hint[0] != build:
                hinted, why = hdr.build_hint
                msg = f"looks like {hinted} ({why}) but --genome is {build}; pass --genome {hinted}"
                raise InputError(msg, path=p, line=number)
            continue
        if not line.strip():
            continue
        if not seen_chrom:
            msg = "data line before the '#CHROM POS ID REF ALT QUAL FILTER INFO' header line; the header is truncated"
            raise InputError(msg, path=p, line=number)
        cells = line.split("\t")
        if len(cells) != hdr.columns:
            msg = f"{len(cells)} tab-separated columns but the #CHROM header has {hdr.columns}; the line is truncated or not tab-separated"
            raise InputError(msg, path=p, line=number)
        n_records += 1
        raw_chrom, raw_pos, _id, ref, alts = cells[0], cells[1], cells[2], cells[3], cells[4]
        chrom = normalise_chrom(raw_chrom)
        if chrom not in _CHROMS:
            if _SKIP_CONTIG.match(raw_chrom):
                continue
            msg = (
                f"contig {raw_chrom!r} matches no chromosome; expected 1-22, X, Y, MT with or without 'chr' "
                "(rename contigs, e.g. bcftools annotate --rename-chrs)"
            )
            raise InputError(msg, path=p, line=number, column="CHROM")
        try:
            pos = int(raw_pos)
        except ValueError:
            pos = -1
        if pos < 1:
            msg = f"POS {raw_pos!r} is not a positive integer; expected a 1-based position"
            raise InputError(msg, path=p, line=number, column="POS")
        if not _BASES.match(ref):
            msg = f"REF {ref!r} has characters other than A, C, G, T, N"
            raise InputError(msg, path=p, line=number, column="REF")
        info: dict[str, str] = {}
        for item in cells[7].split(";"):
            k, _, v = item.partition("=")
            info[k] = v
        fmt: dict[str, str] = {}
        if sample_col is not None and len(cells) > sample_col:
            fmt = dict(zip(cells[8].split(":"), cells[sample_col].split(":"), strict=False))
        for alt_i, alt in enumerate(alts.split(",")):
            if alt in {".", "*"} or alt.startswith("<") or "[" in alt or "]" in alt:
                continue
            if not _BASES.match(alt):
                msg = f"ALT {alt!r} has characters other than A, C, G, T, N (symbolic alleles must be in <>)"
                raise InputError(msg, path=p, line=number, column="ALT")
            vaf = _vaf(info, fmt, alt_i, p, number)
            if dups.seen(
                (chrom, pos, ref.upper(), alt.upper()),
                vaf,
                line=number,
                describe=f"{raw_chrom}:{pos} {ref}>{alt}",
            ):
                continue
            for b in ("GRCh37", "GRCh38"):
                if near.ref_agrees(b, chrom, pos, ref) or (
                    near.near(b, chrom, pos) and kb_match(idx, b, chrom, pos, ref, alt)  # type: ignore[arg-type]
                ):
                    votes[b] += 1
            annotated = _annotated(info, hdr, idx, alt, alt_i)
            source = f"vcf:{p.name}:{number}"
            if annotated is not None:
                gene, hgvs_c, hgvs_p, consequence = annotated
                if gene not in idx.genes:
                    continue
                pc = parse_protein(hgvs_p) if hgvs_p else None
                if pc is not None and pc.short.endswith("="):
                    continue  # synonymous: not a finding
                if pc is None and "splice" not in consequence.lower():
                    # no protein change annotated: let the coordinates decide (KB allele or CDS)
                    pending.append((number, chrom, pos, ref.upper(), alt.upper(), vaf))
                    continue
                name = pc.short if pc is not None else (hgvs_c or f"{chrom}:{pos}{ref}>{alt}")
                kind = pc.kind if pc is not None else "gene_mutation"
                findings.append(
                    Finding(gene, name, kind, vaf=vaf, hgvs_c=hgvs_c or None, hgvs_p=hgvs_p or None,
                            genomic=GenomicAllele(chrom, pos, ref.upper(), alt.upper()), genome=build,
                            source=source, sample=sample)
                )  # fmt: skip
            else:
                pending.append((number, chrom, pos, ref.upper(), alt.upper(), vaf))
    if not seen_fileformat:
        msg = "empty or truncated VCF: no '##fileformat=VCFv4.x' header"
        raise InputError(msg, path=p)
    if not seen_chrom:
        msg = "truncated VCF: no '#CHROM POS ID REF ALT QUAL FILTER INFO' header line"
        raise InputError(msg, path=p)
    if n_records == 0:
        raise no_records(p, "variant records")
    if votes[build] == 0 and votes[_other(build)] > 0:
        other = _other(build)
        msg = (
            f"no record matches a {build} KB allele or reference base but {votes[other]} match {other}: "
            f"the file looks like {other}; pass --genome {other}"
        )
        raise InputError(msg, path=p)
    frames = [tx for tx in (idx.transcript(g) for g in idx.genes) if tx is not None]
    for number, chrom, pos, ref, alt, vaf in pending:
        if not near.near(build, chrom, pos) and not any(tx.chrom == chrom for tx in frames):
            continue
        findings += _coordinate_findings(
            idx, build, p, number, chrom, pos, ref, alt, vaf, sample, near
        )
    dups.finish()
    return findings


def _annotated(
    info: dict[str, str], hdr: VcfHeader, idx: KBIndex, alt: str, alt_i: int
) -> tuple[str, str, str, str] | None:
    """(gene, HGVSc, HGVSp, consequence) from CSQ/ANN for one ALT, or None when not annotated."""
    if "CSQ" in info and hdr.csq_fields:
        entries = [
            dict(zip(hdr.csq_fields, e.split("|"), strict=False)) for e in info["CSQ"].split(",")
        ]
        mine = (
            [e for e in entries if e.get("ALLELE_NUM") == str(alt_i + 1)]
            or [e for e in entries if e.get("Allele") in {alt, alt[1:] or "-"}]
            or entries
        )
        e = _pick_entry(mine, idx, gene_key="SYMBOL", feature_key="Feature")
        if e is None:
            return None
        return (
            e.get("SYMBOL", ""),
            _clean_c(e.get("HGVSc", "")),
            _strip_hgvs(e.get("HGVSp", "")),
            e.get("Consequence", ""),
        )
    if "ANN" in info and hdr.ann_fields:
        fields = ["Allele", "Annotation", "Impact", "Gene_Name", "Gene_ID", "Feature_Type", "Feature_ID",
                  "Transcript_BioType", "Rank", "HGVS.c", "HGVS.p"]  # fmt: skip
        entries = [dict(zip(fields, e.split("|"), strict=False)) for e in info["ANN"].split(",")]
        mine = [e for e in entries if e.get("Allele") == alt] or entries
        e = _pick_entry(mine, idx, gene_key="Gene_Name", feature_key="Feature_ID")
        if e is None:
            return None
        return (
            e.get("Gene_Name", ""),
            _clean_c(e.get("HGVS.c", "")),
            _strip_hgvs(e.get("HGVS.p", "")),
            e.get("Annotation", ""),
        )
    return None


def _clean_c(value: str) -> str:
    v = _strip_hgvs(value)
    return normalise_cdna(v) if v.startswith("c.") else ""


def _coordinate_findings(
    idx: KBIndex, build: Genome, path: Path, number: int, chrom: str, pos: int, ref: str, alt: str,
    vaf: float | None, sample: str | None, near: Near,
) -> list[Finding]:  # fmt: skip
    source = f"vcf:{path.name}:{number}"
    allele = GenomicAllele(chrom, pos, ref, alt)
    hits = kb_match(idx, build, chrom, pos, ref, alt) if near.near(build, chrom, pos) else []
    out: list[Finding] = []
    seen: set[str] = set()
    for a in hits:
        if a.id in seen or a.kind in {"codon", "exon", "gene_mutation"}:
            continue
        seen.add(a.id)
        hgvs_c = a.hgvs_c[0] if len(a.hgvs_c) == 1 else None
        tx = idx.transcript(a.gene)
        if tx is not None:
            hgvs_c = tx.snv_to_hgvs_c(build, chrom, pos, ref, alt) or hgvs_c
        out.append(Finding(a.gene, a.name, a.kind, vaf=vaf, hgvs_c=hgvs_c, hgvs_p=a.hgvs_p, genomic=allele,
                           genome=build, source=source, sample=sample))  # fmt: skip
    if out:
        return out
    # inside a curated CDS but not a KB allele: named by its cDNA change, effect unknown
    tpos, tref, talt = normalise_allele(pos, ref, alt)
    for gene in idx.genes:
        tx = idx.transcript(gene)
        if tx is None or tx.chrom != chrom:
            continue
        cds = tx.to_cds(build, chrom, tpos if tref else max(tpos - 1, 1))
        if cds is None:
            continue
        hgvs_c = (
            tx.snv_to_hgvs_c(build, chrom, tpos, tref, talt)
            if len(tref) == len(talt) == 1
            else None
        )
        name = hgvs_c or f"c.{cds.c_pos} {'ins' if not tref else 'del' if not talt else 'delins'}"
        kind = (
            "substitution"
            if hgvs_c
            else ("insertion" if not tref else "deletion" if not talt else "delins")
        )
        return [Finding(gene, name, kind, vaf=vaf, hgvs_c=hgvs_c, genomic=allele, genome=build,  # type: ignore[arg-type]
                        source=source, sample=sample)]  # fmt: skip
    return []
