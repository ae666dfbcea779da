"""``umi_tools group``-compatible read grouping (validation against UMI-tools' golden files).

Re-implements the observable behaviour of UMI-tools 1.1.x ``group`` (MIT; no code copied):
reads are bundled by the read's 5' position (soft clips included), strand and - with
``paired`` - TLEN of read 1; bundles are emitted when the stream has moved > 1,000 bp past
them (or at a contig change), in sorted position/key order; within a bundle UMIs are grouped
with :func:`kinresist.ngs.grouping.group_umis`; every read of a group gets ``UG`` (group
number, counted over the file) and ``BX`` (the group's top UMI). Read 2s are written
untagged where they occur (UMI-tools behaviour: only read 1s are tagged in paired mode).
``subset`` reproduces ``--subset`` sampling with Python's Mersenne Twister seeded like
``--random-seed``.

Not used by the calling pipeline (which groups by template position, see
:mod:`kinresist.ngs.pileup`); it exists to prove the grouping algorithm on real data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pysam

from kinresist.ngs.grouping import GroupingMethod, group_umis

__all__ = ["UmiToolsOptions", "umi_tools_group"]


@dataclass(frozen=True, slots=True)
class UmiToolsOptions:
    """The subset of ``umi_tools group`` options that change grouping."""

    method: GroupingMethod = "directional"
    threshold: int = 1
    paired: bool = False
    chimeric_pairs: Literal["discard", "use", "output"] = "use"
    unmapped_reads: Literal["discard", "use", "output"] = "discard"
    unpaired_reads: Literal["discard", "use", "output"] = "use"
    ignore_tlen: bool = False
    umi_sep: str = "_"
    subset: float | None = None
    random_seed: int = 123456789
    mapping_quality: int = 0


def _position(read: pysam.AlignedSegment) -> tuple[int, int]:
    """(start, pos): stream position and 5' position including soft clips."""
    cig = read.cigartuples or []
    if read.is_reverse:
        pos = read.reference_end or read.reference_start
        if cig and cig[-1][0] == 4:
            pos += cig[-1][1]
        return read.reference_start, pos
    pos = read.reference_start
    if cig and cig[0][0] == 4:
        pos -= cig[0][1]
    return pos, pos


def umi_tools_group(
    bam_path: str | Path, options: UmiToolsOptions | None = None
) -> Iterator[tuple[pysam.AlignedSegment, int | None, str | None]]:
    """Yield ``(read, UG, BX)`` in ``umi_tools group --no-sort-output`` order.

    Untagged records (read 2s, chimeric reads with ``output``) come with ``(None, None)``.
    The BAM must be indexed (as for UMI-tools).
    """
    opt = options or UmiToolsOptions()
    rng = random.Random(opt.random_seed)
    bundles: dict[int, dict[tuple, dict[str, list[pysam.AlignedSegment]]]] = {}
    unique_id = 0
    last_pos = 0
    last_chr: str | None = None

    def flush(keys: list[int]) -> Iterator[tuple[pysam.AlignedSegment, int | None, str | None]]:
        nonlocal unique_id
        for p in keys:
            for k in sorted(bundles[p]):
                bundle = bundles[p][k]
                umis = list(bundle)
                counts = [len(bundle[u]) for u in umis]
                for grp in group_umis(umis, counts, method=opt.method, threshold=opt.threshold):
                    top = umis[grp[0]]
                    for i in grp:
                        for read in bundle[umis[i]]:
                            yield read, unique_id, top
                    unique_id += 1
            del bundles[p]

    with pysam.AlignmentFile(str(bam_path), "rb") as fh:
        for read in fh.fetch(until_eof=opt.unmapped_reads in ("use", "output")):
            if read.is_read2:
                if not read.is_unmapped or opt.unmapped_reads in ("use", "output"):
                    yield read, None, None
                continue
            if opt.paired and not read.is_paired:
                if opt.unpaired_reads == "discard":
                    continue
                if opt.unpaired_reads == "output":
                    yield read, None, None
                    continue
            if read.is_unmapped:
                if opt.unmapped_reads in ("use", "output"):
                    yield read, None, None
                continue
            if opt.paired and read.mate_is_unmapped and opt.unmapped_reads != "use":
                if opt.unmapped_reads == "output":
                    yield read, None, None
                continue
            if read.is_paired and read.reference_name != read.next_reference_name:
                if opt.chimeric_pairs == "discard":
                    continue
                if opt.chimeric_pairs == "output":
                    yield read, None, None
                    continue
            if opt.subset is not None and rng.random() >= opt.subset:
                continue
            if opt.mapping_quality and read.mapping_quality < opt.mapping_quality:
                continue
            umi = (read.query_name or "").split(opt.umi_sep)[-1]
            chrom = read.reference_name
            start, pos = _position(read)
            if chrom != last_chr:
                yield from flush(sorted(bundles))
            elif start > last_pos + 1000:
                yield from flush([p for p in sorted(bundles) if p <= start - 1000])
            last_pos, last_chr = start, chrom
            tlen = 0 if opt.ignore_tlen or not opt.paired else read.template_length
            key = (read.is_reverse, False, tlen, 0)
            bundles.setdefault(pos, {}).setdefault(key, {}).setdefault(umi, []).append(read)
        yield from flush(sorted(bundles))
