"""Inputs and outputs of the copy-number module: CNVkit files, target BEDs, BAM counts, JSON/TSV.

* :func:`read_cnvkit` reads a CNVkit ``.cnr`` (bins) or ``.cns`` (segments) file.
* :func:`read_targets` reads a panel BED (chrom, start, end, gene).
* :func:`count_target_molecules` counts unique molecules (or reads) per target in a BAM.
* :func:`cnv_findings` turns amplification calls into interpretation findings.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kinresist.errors import InputError
from kinresist.ngs.cnv import GeneCopyNumber

__all__ = [
    "Targets",
    "cnv_findings",
    "count_target_molecules",
    "read_cnvkit",
    "read_targets",
]


@dataclass(frozen=True, slots=True)
class Targets:
    """Panel targets (0-based half-open), in file order."""

    chroms: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    genes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.chroms)


#: Largest |log2| copy ratio read: 2**64-fold is far beyond any real amplification, and larger
#: values overflow the copy-number arithmetic.
MAX_ABS_LOG2 = 64.0


def read_targets(path: str | PathLike[str]) -> Targets:
    """Read a BED of targets: chrom, start (0-based), end, gene name (4th column required)."""
    p = Path(path)
    rows: list[tuple[str, int, int, str]] = []
    with p.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 4:
                msg = "expected at least 4 tab-separated columns (chrom, start, end, gene); add the gene name column"
                raise InputError(msg, path=p, line=i)
            try:
                start, end = int(cols[1]), int(cols[2])
            except ValueError:
                msg = f"start/end must be integers, got {cols[1]!r}, {cols[2]!r}"
                raise InputError(msg, path=p, line=i) from None
            if end <= start or start < 0:
                msg = f"empty or negative interval {start}-{end}"
                raise InputError(msg, path=p, line=i)
            rows.append((cols[0], start, end, cols[3].split(",")[0]))
    if not rows:
        msg = "no targets in BED"
        raise InputError(msg, path=p)
    c, s, e, g = zip(*rows, strict=True)
    return Targets(tuple(c), tuple(s), tuple(e), tuple(g))


def read_cnvkit(path: str | PathLike[str]) -> tuple[Literal["cnr", "cns"], dict[str, np.ndarray]]:
    """Read a CNVkit ``.cnr``/``.cns`` table; comma-separated gene lists become one row per gene.

    Returns
    -------
    (kind, columns)
        ``kind`` is ``"cnr"`` when the file has bins (a ``weight`` or ``depth`` column,
        no ``probes``), else ``"cns"``; ``columns`` maps chromosome, start, end, gene, log2,
        weight (cns: probes as the weight) to arrays.
    """
    p = Path(path)
    with p.open(encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    if not lines:
        msg = "empty CNVkit file"
        raise InputError(msg, path=p)
    header = lines[0].rstrip("\n").split("\t")
    need = {"chromosome", "start", "end", "gene", "log2"}
    missing = need - set(header)
    if missing:
        msg = f"not a CNVkit .cnr/.cns table: missing columns {sorted(missing)} (header {header})"
        raise InputError(msg, path=p, line=1)
    kind: Literal["cnr", "cns"] = "cns" if "probes" in header else "cnr"
    wcol = "probes" if kind == "cns" else ("weight" if "weight" in header else None)
    out: dict[str, list[Any]] = {
        k: [] for k in ("chromosome", "start", "end", "gene", "log2", "weight")
    }
    reader = csv.DictReader(lines, delimiter="\t")
    for i, row in enumerate(reader, start=2):
        try:
            start, end, log2 = int(row["start"]), int(row["end"]), float(row["log2"])
            weight = float(row[wcol]) if wcol else 1.0
        except (TypeError, ValueError):
            msg = "start/end must be integers and log2/weight numbers"
            raise InputError(msg, path=p, line=i) from None
        if abs(log2) > MAX_ABS_LOG2:  # inf included; NaN (no estimate) is passed on
            msg = (
                f"log2 ratio {row['log2']!r} is impossible for a copy-number ratio (CNVkit "
                f"writes -20 for no coverage; expected |log2| <= {MAX_ABS_LOG2:g})"
            )
            raise InputError(msg, path=p, line=i, column="log2")
        if kind == "cns" and weight <= 0:
            continue  # CNVkit writes zero-probe placeholder segments
        for gene in (row["gene"] or "-").split(","):
            if gene in {"-", "", "Antitarget", "Background"}:
                continue
            out["chromosome"].append(row["chromosome"])
            out["start"].append(start)
            out["end"].append(end)
            out["gene"].append(gene)
            out["log2"].append(log2)
            out["weight"].append(weight)
    return kind, {k: np.asarray(v) for k, v in out.items()}


def count_target_molecules(
    bam_path: str | PathLike[str],
    targets: Targets,
    *,
    unit: Literal["molecules", "reads"] = "molecules",
    min_mapq: int = 20,
) -> np.ndarray:
    """Count unique molecules (or read fragments) whose alignment overlaps each target.

    A molecule is one UMI family: the key (fragment start, template length, orientation,
    UMI) where the UMI is the ``RX`` tag or the read-name suffix after the last ``_``/``:``.
    Each fragment is counted once (read 2 of a proper pair is skipped); unmapped,
    secondary, supplementary, QC-fail and duplicate-flagged records and MAPQ < ``min_mapq``
    are ignored. There is no depth cap.
    """
    import pysam

    p = Path(bam_path)
    from kinresist.ngs._htslib import quiet_open

    failure = None
    with quiet_open():
        try:
            bam = pysam.AlignmentFile(str(p), "rb")
        except (OSError, ValueError, NotImplementedError) as exc:
            # NotImplementedError: a damaged BGZF header ('seek not implemented ...')
            failure = str(exc)
    if failure is not None:
        msg = f"cannot open BAM ({failure}); expected a coordinate-sorted, indexed BAM"
        raise InputError(msg, path=p)
    with bam:
        if not bam.has_index():
            msg = f"BAM has no index; run `samtools index {p}`"
            raise InputError(msg, path=p)
        counts = np.zeros(len(targets), dtype=float)
        refs = set(bam.references)
        for i, (chrom, start, end) in enumerate(
            zip(targets.chroms, targets.starts, targets.ends, strict=True)
        ):
            if chrom not in refs:
                msg = f"target contig {chrom!r} is not in the BAM header (contigs: {sorted(refs)[:5]}...)"
                raise InputError(msg, path=p)
            keys: set[tuple[Any, ...]] = set()
            n = 0
            for read in bam.fetch(chrom, start, end):
                if (
                    read.is_unmapped
                    or read.is_secondary
                    or read.is_supplementary
                    or read.is_qcfail
                    or read.is_duplicate
                    or read.mapping_quality < min_mapq
                ):
                    continue
                if read.is_paired and read.is_read2 and not read.mate_is_unmapped:
                    continue
                if unit == "reads":
                    n += 1
                    continue
                umi = read.get_tag("RX") if read.has_tag("RX") else _name_umi(read.query_name or "")
                fstart = (
                    read.reference_start if read.template_length >= 0 else read.next_reference_start
                )
                keys.add((fstart, abs(read.template_length), read.is_reverse, umi))
            counts[i] = n if unit == "reads" else len(keys)
    return counts


def _name_umi(name: str) -> str:
    for sep in ("_", ":"):
        if sep in name:
            return name.rsplit(sep, 1)[1]
    return ""


def cnv_findings(genes: Sequence[GeneCopyNumber], *, source: str) -> list[Any]:
    """Interpretation findings (``AMPLIFICATION``) for genes called ``amplification``.

    Low-level gains are not passed on: knowledge-base amplification evidence refers to
    high-level (focal) amplification.
    """
    from kinresist.interpret.finding import Finding

    return [
        Finding(
            gene=g.gene,
            alteration="AMPLIFICATION",
            kind="amplification",
            copy_number=round(g.copy_number, 2),
            source=source,
        )
        for g in genes
        if g.call == "amplification"
    ]
