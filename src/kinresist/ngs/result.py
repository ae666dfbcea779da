"""Results of the sequencing workflows, on the shared contract (:class:`kinresist.core.Result`).

* :class:`CallSet` (``ngs.call``): tables ``calls`` (one row per tested allele, columns
  :data:`~kinresist.ngs.calling.CALL_COLUMNS`) and ``hotspot_sites`` (every hotspot base of the
  panel, force-called, with its LoD); measurements = molecule VAF (%) per tested allele and, at
  hotspot bases where nothing was called, ``not_detected`` rows with the site LoD for each
  protein change the base can carry; findings = PASS calls.
* :class:`CnvResult` (``ngs.cnv``): table ``genes``; measurements = gene log2 ratio and copy
  number, keyed ``"<GENE> amplification"`` (``"<GENE> loss"`` for losses); findings = genes
  called ``amplification``.
* :class:`AlignResult` (``ngs.align``): what the aligner produced.

Alteration keys come from :func:`kinresist.core.alteration_key` (gene + protein change);
alleles that cannot be named (``chr2:g.29443613C>T`` outside a hotspot) carry no key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kinresist.core.result import Measurement, Provenance, Result

if TYPE_CHECKING:
    from kinresist.interpret.finding import Finding
    from kinresist.ngs.cnv import GeneCopyNumber
    from kinresist.ngs.pileup import MoleculeCounts

__all__ = [
    "SCHEMA_VERSION",
    "AlignResult",
    "CallSet",
    "CnvResult",
    "call_measurements",
    "cnv_measurements",
    "json_scalar",
    "make_callset",
]

SCHEMA_VERSION = "2.0"

#: Filters that mean "not enough evidence" (below the LoD) rather than "cannot tell".
_BELOW_LOD = {"low_alt", "low_qual"}


def json_scalar(v: Any) -> Any:
    """A JSON-friendly scalar (numpy -> Python, NaN -> None)."""
    import numpy as np

    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): json_scalar(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _finite(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _pct(v: Any) -> float | None:
    x = _finite(v)
    return None if x is None else 100 * x


@dataclass(slots=True)
class CallSet(Result):
    """Calls of :func:`kinresist.ngs.call_variants` (see the module docstring).

    ``counts`` (the molecule counts the calls were made from) is kept in memory only.
    """

    counts: MoleculeCounts | None = field(default=None, repr=False, compare=False)

    @property
    def calls(self) -> pd.DataFrame:
        """One row per tested allele (PASS and filtered)."""
        return self.tables["calls"]

    @property
    def hotspot_sites(self) -> pd.DataFrame:
        """Every hotspot base of the panel: depth, LoD, alt molecules needed, status."""
        return self.tables["hotspot_sites"]

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.provenance.parameters)

    @property
    def inputs(self) -> dict[str, str]:
        return dict(self.provenance.inputs)

    def passed(self) -> pd.DataFrame:
        """PASS calls only."""
        return self.calls[self.calls["filter"] == "PASS"].reset_index(drop=True)


@dataclass(slots=True)
class CnvResult(Result):
    """Gene-level copy number of :func:`kinresist.ngs.cnv_run.run_cnv`."""

    gene_calls: tuple[GeneCopyNumber, ...] = field(default=(), repr=False, compare=False)

    @property
    def genes(self) -> tuple[GeneCopyNumber, ...]:
        return self.gene_calls


@dataclass(slots=True)
class AlignResult(Result):
    """What :func:`kinresist.ngs.align.align_fastq` produced (the BAM and its counts)."""

    @property
    def bam(self) -> Path:
        return Path(self.body["bam"])

    @property
    def index(self) -> Path:
        return Path(self.body["index"])

    @property
    def reads_in(self) -> int:
        return int(self.body["reads_in"])

    @property
    def reads_after_trimming(self) -> int:
        return int(self.body["reads_after_trimming"])

    @property
    def records(self) -> int:
        return int(self.body["records"])

    @property
    def mapped(self) -> int:
        return int(self.body["mapped"])

    @property
    def umi_tagged(self) -> int:
        return int(self.body["umi_tagged"])

    @property
    def bwa_index_built(self) -> bool:
        return bool(self.body["bwa_index_built"])

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(self.body["commands"])


# -- ngs.call ---------------------------------------------------------------------------
def _call_state(filters: str) -> str:
    if filters == "PASS":
        return "detected"
    return "not_detected" if set(filters.split(";")) <= _BELOW_LOD else "indeterminate"


def call_measurements(calls: pd.DataFrame, sites: pd.DataFrame) -> list[Measurement]:
    """Molecule VAF (%) per tested allele, plus not-detected hotspot alleles with the site LoD.

    A PASS call is ``detected``; an allele filtered only for too little evidence (``low_alt``,
    ``low_qual``) is ``not_detected`` (value None, its LoD); other filters (depth, strand bias,
    family size) make it ``indeterminate`` with its estimate kept.

    ``lod`` is the allele's own LoD95 (the VAF detected with 95 % probability at its molecule
    depth and calling tier). A PASS call below it is real but flagged ``below_lod95``: at that
    VAF and depth fewer than 95 % of runs would detect it, so a negative repeat does not
    refute it.
    """
    from kinresist.core.alteration import alteration_key

    out: list[Measurement] = []
    seen: set[str] = set()
    for r in calls.to_dict("records"):
        gene, alt_name = str(r["gene"]), str(r["alteration"])
        key = alteration_key(gene, alt_name) if gene not in ("", ".") else None
        state = _call_state(str(r["filter"]))
        flags = [f for f in str(r["filter"]).split(";") if f != "PASS"]
        flags += [f for f in ("hotspot", "subclonal") if bool(r.get(f))]
        lod_f, af_f = _finite(r.get("lod")), _finite(r.get("af"))
        if state == "detected" and lod_f is not None and af_f is not None and af_f < lod_f:
            flags.append("below_lod95")  # detected, though < 95 % of runs would find it
        vaf = _pct(r["af"])
        out.append(
            Measurement(
                assay="ngs",
                target=str(key)
                if key is not None
                else f"{r['chrom']}:{r['pos']}{r['ref']}>{r['alt']}",
                quantity="vaf",
                value=None if state == "not_detected" else vaf,
                unit="%",
                alteration=None if key is None else str(key),
                ci_low=_pct(r.get("af_ci_low")),
                ci_high=_pct(r.get("af_ci_high")),
                lod=_pct(r.get("lod")),
                call=state,  # type: ignore[arg-type]
                flags=tuple(flags),
                attributes={
                    "chrom": str(r["chrom"]),
                    "pos": int(r["pos"]),
                    "ref": str(r["ref"]),
                    "alt": str(r["alt"]),
                    "genomic": f"{r['genomic_chrom']}:{r['genomic_pos']}",
                    "genome": r.get("genome"),
                    "hgvs_c": r.get("hgvs_c"),
                    "alt_molecules": int(r["alt_molecules"]),
                    "depth_molecules": int(r["depth_molecules"]),
                    "qual": _finite(r.get("qual")),
                    "filter": str(r["filter"]),
                    "estimate": vaf,
                },
            )
        )
        if key is not None:
            seen.add(str(key))
    # hotspot alleles not seen at all: "not detected (LoD x)" per protein change
    missing: dict[str, dict[str, Any]] = {}
    if "alleles" in sites:
        for s in sites.to_dict("records"):
            if s["status"] == "detected":
                continue
            for name in filter(None, str(s.get("alleles") or "").split(";")):
                gene, _, change = name.partition(" ")
                key = alteration_key(gene, change)
                if key is None or str(key) in seen:
                    continue
                m = missing.setdefault(str(key), {"lod": [], "assessable": True, "sites": []})
                m["lod"].append(_pct(s.get("lod")))
                m["assessable"] &= s["status"] != "not_assessable"
                m["sites"].append(f"{s['genomic_chrom']}:{s['genomic_pos']}")
    for text, m in missing.items():
        lods = [x for x in m["lod"] if x is not None]
        out.append(
            Measurement(
                assay="ngs",
                target=text,
                quantity="vaf",
                value=None,
                unit="%",
                alteration=text,
                lod=max(lods) if lods else None,
                call="not_detected" if m["assessable"] and lods else "indeterminate",
                flags=("hotspot", "force_called") if m["assessable"] else ("hotspot", "low_depth"),
                attributes={"sites": m["sites"]},
            )
        )
    return out


def call_findings(passed: pd.DataFrame) -> list[Finding]:
    """PASS calls as interpretation findings (source ``ngs``)."""
    from kinresist.interpret.finding import Finding
    from kinresist.kb.model import AlterationKind, GenomicAllele

    kinds: dict[str, AlterationKind] = {"insertion": "insertion", "deletion": "deletion"}
    out = []
    for row in passed.to_dict(orient="records"):
        genomic = None
        if row["genomic_chrom"] and row["genome"]:
            chrom = str(row["genomic_chrom"]).removeprefix("chr")
            genomic = GenomicAllele(chrom, int(row["genomic_pos"]), row["ref"], row["alt"])
        out.append(
            Finding(
                gene=row["gene"],
                alteration=row["alteration"],
                kind=kinds.get(str(row["kind"]), "substitution"),
                vaf=float(row["af"]),
                hgvs_c=row["hgvs_c"] or None,
                genomic=genomic,
                genome=row["genome"] or None,
                source="ngs",
            )
        )
    return out


def make_callset(
    calls: pd.DataFrame,
    sites: pd.DataFrame,
    counts: MoleculeCounts,
    *,
    provenance: Provenance,
    sample_name: str,
    reference: str,
    min_family_size: int,
) -> CallSet:
    """Assemble the :class:`CallSet` of one sample."""
    import numpy as np

    fs = counts.family_sizes
    passed = calls[calls["filter"] == "PASS"] if len(calls) else calls
    summary = {
        "reads": int(counts.n_reads),
        "families": len(fs),
        "families_at_min_size": int((fs >= min_family_size).sum()),
        "pass_calls": len(passed),
        "median_depth_molecules": float(np.median(counts.depth)) if len(counts.depth) else None,
    }
    warnings = []
    if len(sites) and "status" in sites:
        n_na = int((sites["status"] == "not_assessable").sum())
        if n_na:
            warnings.append(
                f"{n_na} of {len(sites)} hotspot bases are not assessable (molecule depth below "
                "the minimum): absence cannot be claimed there"
            )
    return CallSet(
        workflow="ngs.call",
        schema_version=SCHEMA_VERSION,
        provenance=provenance,
        body={
            "sample_name": sample_name,
            "reference": reference,
            "summary": summary,
            "calls": _records(calls),
            "hotspot_sites": _records(sites),
        },
        tables={"calls": calls, "hotspot_sites": sites},
        measurements=call_measurements(calls, sites),
        findings=call_findings(passed) if len(passed) else [],
        warnings=warnings,
        counts=counts,
    )


# -- ngs.cnv ----------------------------------------------------------------------------
_CNV_CALL = {
    "amplification": "detected",
    "gain": "detected",
    "loss": "detected",
    "neutral": "not_detected",
    "indeterminate": "indeterminate",
}


def cnv_measurements(genes: Sequence[GeneCopyNumber]) -> list[Measurement]:
    """Per gene: log2 ratio (LoD = the detection threshold) and copy number, keyed by state."""
    from kinresist.core.alteration import alteration_key

    out = []
    for g in genes:
        key = alteration_key(g.gene, "loss" if g.call == "loss" else "amplification")
        call = _CNV_CALL[g.call]
        flags = (g.call,) + (("lower_bound",) if g.copy_number_is_lower_bound else ())
        common: dict[str, Any] = {
            "assay": "ngs",
            "target": f"{g.gene} copy number",
            "alteration": None if key is None else str(key),
            "call": call,
            "flags": flags,
            "attributes": {
                "cnv_call": g.call,
                "method": g.method,
                "z": _finite(g.z),
                "reason": g.reason,
            },
        }
        out.append(
            Measurement(
                quantity="log2_ratio",
                value=_finite(g.log2),
                unit="log2",
                ci_low=_finite(g.ci_low),
                ci_high=_finite(g.ci_high),
                lod=_finite(g.threshold_log2),
                **common,
            )
        )
        lo, hi = g.copy_number_ci
        out.append(
            Measurement(
                quantity="copy_number",
                value=_finite(g.copy_number),
                unit="copies",
                ci_low=_finite(lo),
                ci_high=_finite(hi),
                lod=_finite(g.min_detectable_cn),
                **common,
            )
        )
    return out


# -- ngs.count / ngs.pon ----------------------------------------------------------------
def counts_result(counts: MoleculeCounts, *, provenance: Provenance) -> Result:
    """Molecule (and raw read) counts per panel position, with the family-size histogram."""
    hist = counts.family_size_histogram()
    return Result(
        workflow="ngs.count",
        schema_version=SCHEMA_VERSION,
        provenance=provenance,
        body={"reads": int(counts.n_reads), "family_sizes": _records(hist)},
        tables={"molecule_counts": counts.to_frame(), "family_sizes": hist},
    )


def pon_result(table: pd.DataFrame, *, n_normals: int, provenance: Provenance) -> Result:
    """A panel of normals (per-site, per-substitution beta-binomial background) as a result;
    its TSV is what ``ngs call --pon`` reads."""
    return Result(
        workflow="ngs.pon",
        schema_version=SCHEMA_VERSION,
        provenance=provenance,
        body={"normals": n_normals, "rows": len(table)},
        tables={"pon": table},
    )
