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
params=CallParams(), genome=None)`` -> :class:`CallSet`.
    ``normals``: list of normal BAM paths (background is estimated from them with the same
    molecule counting); ``pon``: a :class:`PanelOfNormals` or a TSV path written by
    :meth:`PanelOfNormals.to_tsv`; ``hotspots``: a :class:`HotspotTable` (default: from the
    knowledge base when it offers one, else the bundled ALK/EGFR/KRAS/PIK3CA table);
    ``genome``: ``"GRCh37"``/``"GRCh38"`` or None (match either build).
    ``CallSet.calls`` is a DataFrame, one row per tested allele with >= 1 alt molecule, columns
    ``chrom pos ref alt gene alteration af alt_molecules depth_molecules lod qual p_value
    background filter hotspot subclonal ...`` (see ``CALL_COLUMNS``); ``CallSet.passed()``,
    ``CallSet.to_dict()`` (JSON payload with ``calls[]``), ``CallSet.to_vcf(path)`` (VCF 4.3),
    ``CallSet.to_tsv(path)``, ``CallSet.findings()`` (interpretation inputs).

``build_panel_of_normals(normal_bams, *, regions, reference, grouping=..., consensus=...)``
    -> :class:`PanelOfNormals` (per-site, per-substitution beta-binomial background).

``group_umis(umis, counts, *, method="directional", threshold=1)`` -> list of groups (lists of
indices into ``umis``, top UMI first), as UMI-tools.

Errors: bad input raises :class:`kinresist.errors.InputError` (unsorted BAM, missing index,
contigs absent from the reference, malformed BED).
"""

from __future__ import annotations

from kinresist.ngs.background import PanelOfNormals, build_panel_of_normals
from kinresist.ngs.calling import CALL_COLUMNS, CallParams, CallSet, call_variants
from kinresist.ngs.consensus import ConsensusParams
from kinresist.ngs.grouping import GroupingParams, group_umis
from kinresist.ngs.hotspots import Hotspot, HotspotTable, default_hotspots
from kinresist.ngs.pileup import MoleculeCounts, count_molecules
from kinresist.ngs.regions import Region, read_regions

__all__ = [
    "CALL_COLUMNS",
    "CallParams",
    "CallSet",
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
