"""The result of :func:`kinresist.ngs.call_variants`: calls, hotspot sites, exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kinresist.ngs.pileup import MoleculeCounts

__all__ = ["SCHEMA_VERSION", "CallSet", "json_scalar"]

SCHEMA_VERSION = "1.0"


@dataclass
class CallSet:
    """Calls (one row per tested allele with >= ``report_min_alt`` alt molecules, or at a hotspot)."""

    calls: pd.DataFrame
    hotspot_sites: pd.DataFrame
    counts: MoleculeCounts
    parameters: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)

    def passed(self) -> pd.DataFrame:
        """PASS calls only."""
        return self.calls[self.calls["filter"] == "PASS"].reset_index(drop=True)

    def to_dict(self, *, stamp: dict[str, Any] | None = None) -> dict[str, Any]:
        """JSON payload: stamp, ``calls[]``, ``hotspot_sites[]``, family-size summary."""
        from kinresist.provenance import stamp as make_stamp

        head = stamp or make_stamp(
            "kinresist.ngs.calls", SCHEMA_VERSION, inputs=self.inputs, parameters=self.parameters
        )
        calls = [
            {k: json_scalar(v) for k, v in row.items()}
            for row in self.calls.to_dict(orient="records")
        ]
        sites = [
            {k: json_scalar(v) for k, v in row.items()}
            for row in self.hotspot_sites.to_dict(orient="records")
        ]
        fs = self.counts.family_sizes
        return {
            **head,
            "calls": calls,
            "hotspot_sites": sites,
            "summary": {
                "reads": int(self.counts.n_reads),
                "families": len(fs),
                "families_at_min_size": int(
                    (fs >= self.parameters.get("min_family_size", 3)).sum()
                ),
                "pass_calls": int((self.calls["filter"] == "PASS").sum()),
                "median_depth_molecules": float(np.median(self.counts.depth))
                if len(self.counts.depth)
                else None,
            },
        }

    def to_vcf(self, path: str | Path, *, reference: str = "", sample: str = "SAMPLE") -> None:
        """Write VCF 4.3 (see :mod:`kinresist.ngs.vcf_out`)."""
        from kinresist.ngs.vcf_out import write_vcf

        write_vcf(self, path, reference=reference, sample=sample)

    def to_tsv(self, path: str | Path | None = None) -> str:
        """TSV with a provenance header; written to ``path`` when given, returned as text."""
        from kinresist.provenance import stamp as make_stamp
        from kinresist.provenance import tsv_header

        text = tsv_header(
            make_stamp(
                "kinresist.ngs.calls",
                SCHEMA_VERSION,
                inputs=self.inputs,
                parameters=self.parameters,
            )
        )
        text += self.calls.to_csv(sep="\t", index=False, na_rep="NA")
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def findings(self, *, sample: str | None = None) -> list[Any]:
        """PASS calls as :class:`kinresist.interpret.finding.Finding` values (for the interpreter)."""
        from kinresist.interpret.finding import Finding
        from kinresist.kb.model import AlterationKind, GenomicAllele

        out = []
        for row in self.passed().to_dict(orient="records"):
            genomic = None
            if row["genomic_chrom"] and row["genome"]:
                chrom = str(row["genomic_chrom"]).removeprefix("chr")
                genomic = GenomicAllele(chrom, int(row["genomic_pos"]), row["ref"], row["alt"])
            kinds: dict[str, AlterationKind] = {"insertion": "insertion", "deletion": "deletion"}
            kind = kinds.get(str(row["kind"]), "substitution")
            out.append(
                Finding(
                    gene=row["gene"],
                    alteration=row["alteration"],
                    kind=kind,
                    vaf=float(row["af"]),
                    hgvs_c=row["hgvs_c"] or None,
                    genomic=genomic,
                    genome=row["genome"] or None,
                    source="ngs",
                    sample=sample,
                )
            )
        return out


def json_scalar(v: Any) -> Any:
    """A JSON-friendly scalar (numpy -> Python, NaN -> None)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    return v
