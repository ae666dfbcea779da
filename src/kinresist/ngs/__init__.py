"""Liquid-biopsy sequencing: UMI families, consensus, molecule counts, low-VAF calling.

Research use only. Methods: ``docs/ngs.md``; output formats: ``docs/formats.md``.

Public API (stable; other modules and the simulation suite call these)
-----------------------------------------------------------------------
``count_molecules(bam, *, regions, reference, grouping=GroupingParams(), consensus=ConsensusParams())``
    -> :class:`MoleculeCounts`. Reads a coordinate-sorted, indexed BAM with UMIs (``RX`` tag or
    read-name suffix ``..._ACGT``), groups reads into UMI families per template position
    (identity / edit / adjacency / directional; ``paired`` for duplex ``A-B`` UMIs), builds an
    fgbio-style likelihood consensus per family and position, and counts **molecules** per
    position and base (no depth cap). ``regions`` is a BED path or a list of :class:`Region`.

``call_variants(bam, *, regions, reference, normals=None, pon=None, hotspots=None,
params=CallParams(), genome=None)`` -> :class:`CallSet` (a :class:`kinresist.core.Result`).
    ``normals``: list of normal BAM paths (background is estimated from them with the same
    molecule counting); ``pon``: a :class:`PanelOfNormals` or a TSV path written by
    ``kinresist ngs pon``; ``hotspots``: a :class:`HotspotTable` (default: from the
    knowledge base when it offers one, else the bundled ALK/EGFR/KRAS/PIK3CA table);
    ``genome``: ``"GRCh37"``/``"GRCh38"`` or None (match either build).
    ``CallSet.calls`` is a DataFrame, one row per tested allele with >= 2 alt molecules (or at a
    hotspot), columns ``chrom pos ref alt gene alteration af alt_molecules depth_molecules lod
    qual p_value background filter hotspot subclonal ...`` (see ``CALL_COLUMNS``);
    ``CallSet.passed()``; ``CallSet.measurements`` (molecule VAF per allele, keyed by alteration;
    not-detected hotspot alleles with their LoD), ``CallSet.findings`` (PASS calls, for the
    interpreter); :func:`kinresist.ngs.vcf_out.write_vcf` writes VCF 4.3.

``run_cnv(sample, *, normals, targets, params)`` -> :class:`CnvResult`;
``align_fastq(r1, *, reference, umi_length, out, ...)`` -> :class:`AlignResult`.

``build_panel_of_normals(normal_bams, *, regions, reference, grouping=..., consensus=...)``
    -> :class:`PanelOfNormals` (per-site, per-substitution beta-binomial background).

``group_umis(umis, counts, *, method="directional", threshold=1)`` -> list of groups (lists of
indices into ``umis``, top UMI first), as UMI-tools.

Errors: bad input raises :class:`kinresist.errors.InputError` (unsorted BAM, missing index,
contigs absent from the reference, malformed BED).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kinresist._lazy import lazy_module_attrs

# names are imported on first use, so that ``import kinresist.ngs.workflow`` stays cheap
if TYPE_CHECKING:
    from kinresist.ngs.background import PanelOfNormals, build_panel_of_normals
    from kinresist.ngs.calling import CALL_COLUMNS, CallParams, call_variants
    from kinresist.ngs.consensus import ConsensusParams
    from kinresist.ngs.grouping import GroupingParams, group_umis
    from kinresist.ngs.hotspots import Hotspot, HotspotTable, default_hotspots
    from kinresist.ngs.pileup import MoleculeCounts, count_molecules
    from kinresist.ngs.regions import Region, read_regions
    from kinresist.ngs.result import AlignResult, CallSet, CnvResult

__all__ = [
    "CALL_COLUMNS",
    "AlignResult",
    "CallParams",
    "CallSet",
    "CnvResult",
    "ConsensusParams",
    "GroupingParams",
    "Hotspot",
    "HotspotTable",
    "MoleculeCounts",
    "PanelOfNormals",
    "Region",
    "build_panel_of_normals",
    "call_variants",
    "count_molecules",
    "default_hotspots",
    "group_umis",
    "read_regions",
]

_LAZY = {
    "PanelOfNormals": "kinresist.ngs.background",
    "build_panel_of_normals": "kinresist.ngs.background",
    "CALL_COLUMNS": "kinresist.ngs.calling",
    "CallParams": "kinresist.ngs.calling",
    "call_variants": "kinresist.ngs.calling",
    "ConsensusParams": "kinresist.ngs.consensus",
    "GroupingParams": "kinresist.ngs.grouping",
    "group_umis": "kinresist.ngs.grouping",
    "Hotspot": "kinresist.ngs.hotspots",
    "HotspotTable": "kinresist.ngs.hotspots",
    "default_hotspots": "kinresist.ngs.hotspots",
    "MoleculeCounts": "kinresist.ngs.pileup",
    "count_molecules": "kinresist.ngs.pileup",
    "Region": "kinresist.ngs.regions",
    "read_regions": "kinresist.ngs.regions",
    "AlignResult": "kinresist.ngs.result",
    "CallSet": "kinresist.ngs.result",
    "CnvResult": "kinresist.ngs.result",
}


__getattr__, __dir__ = lazy_module_attrs(__name__, _LAZY)
