"""The ddPCR result (:class:`DdpcrResult`, a :class:`kinresist.core.Result`): tables with a
declared column contract, measurements per sample x target, findings, warnings.

Tables (``wells`` is the primary one; ``samples`` merges the wells of each sample x target x
channel; ``merged`` holds QuantaSoft's own merged rows; ``gating_agreement`` per well): the
:data:`CONTRACT` columns come first, always present, in this order, then the documented
:data:`EXTRA` columns that apply, then ``qs_*``/``agree_*`` (recompute) and any other column.
``flags`` is one ``;``-separated string.

Measurements (what the store records and the timeline joins):

* mutant rows (channel 1 of a duplex/wild-type-negative assay, target not wild type):
  ``fractional_abundance`` (%) and ``copies_per_ul``, with 95 % CI, ``lod``, ``lob``, ``call``
  and ``alteration`` = the canonical key of the assay (None when the name cannot be mapped);
* reference / wild-type rows: ``copies_per_ul`` only, alteration None, never an FA;
* a row that is not detected has ``value`` None with its ``lod`` ("below LoD (value)"), never
  0; an indeterminate row keeps its estimate only when droplets were positive.

No-template controls and the ``blank`` samples are controls, not samples: they stay in the
tables but give no measurement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinresist.core.result import Measurement, Result
from kinresist.ddpcr.calls import call_texts

if TYPE_CHECKING:
    from kinresist.ddpcr.assays import AssayTarget
    from kinresist.ddpcr.gating import Gating
    from kinresist.ddpcr.plate import Plate
    from kinresist.interpret.finding import Finding

__all__ = ["CONTRACT", "EXTRA", "SCHEMA_VERSION", "DdpcrResult", "build_result", "records"]

SCHEMA_VERSION = "2.0"

#: Columns every ddPCR table starts with, in this order.
CONTRACT = (
    "well",
    "sample",
    "target",
    "channel",
    "positives",
    "accepted",
    "copies_per_ul",
    "ci95_low",
    "ci95_high",
    "fractional_abundance",
    "call",
    "call_text",
    "lod_copies_per_ul",
    "lod_fa",
    "lob_droplets",
    "gene",
    "alteration",
    "alteration_key",
    "flags",
)
#: Documented further columns, in this order, when they apply.
EXTRA = (
    "target_type",
    "wild_type",
    "kb_id",
    "is_ntc",
    "ci68_low",
    "ci68_high",
    "ci_method",
    "copies_per_20ul",
    "pp",
    "pn",
    "np",
    "nn",
    "fa_ci95_low",
    "fa_ci95_high",
    "ratio",
    "ratio_ci95_low",
    "ratio_ci95_high",
    "ratio_method",
    "cnv",
    "cnv_ci95_low",
    "cnv_ci95_high",
    "linkage",
    "lob_rule",
    "lob_copies_per_ul",
    "lob_fa",
    "fpr_per_molecule",
    "copies_per_ml_plasma",
    "input_genome_equivalents",
    "threshold",
    "positives_low",
    "positives_high",
    "rain_flag",
    "rain_fraction",
    "outlier_droplets",
    "gating_agreement",
    "total95_low",
    "total95_high",
    "total68_low",
    "total68_high",
    "mean_of_wells",
    "sem",
    "members",
    "k",
    "wells",
)
_INTS = ("channel", "positives", "accepted", "pp", "pn", "np", "nn", "k", "positives_low",
         "positives_high", "outlier_droplets")  # fmt: skip
_INTERNAL = ("group",)


@dataclass(slots=True)
class DdpcrResult(Result):
    """A ddPCR analysis (``ddpcr.analyze``), recomputation (``ddpcr.recompute``) or cluster-export
    quantification (``ddpcr.clusters``). ``plate``/``gating`` (droplets and gates, for figures)
    are kept in memory only."""

    plate: Plate | None = field(default=None, repr=False, compare=False)
    gating: Gating | None = field(default=None, repr=False, compare=False)

    @property
    def wells(self) -> pd.DataFrame:
        """One row per well x channel (the primary table)."""
        return self.tables["wells"]

    @property
    def rows(self) -> pd.DataFrame:
        """The single-well rows of a recomputed results file (= :attr:`wells`)."""
        return self.tables["wells"]

    @property
    def samples(self) -> pd.DataFrame:
        """Wells merged per sample x target x channel (empty when no sample is named)."""
        return self.tables.get("samples", pd.DataFrame())

    @property
    def merged(self) -> pd.DataFrame:
        """QuantaSoft's merged rows, recomputed (recompute only)."""
        return self.tables.get("merged", pd.DataFrame())

    @property
    def agreement(self) -> pd.DataFrame | None:
        """Per-well agreement with QuantaSoft's cluster labels, when the export has them."""
        return self.tables.get("gating_agreement")

    @property
    def volume(self) -> dict[str, Any]:
        """Droplet volume used and where it came from."""
        return dict(self.body.get("droplet_volume", {}))

    @property
    def layout(self) -> str | None:
        return self.body.get("layout")

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.provenance.parameters)


def _py(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (numpy scalars -> Python, NaN/NA -> None)."""
    if frame is None or frame.empty:
        return []
    return [{str(k): _py(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _joined(values: Iterable[Any], sep: str) -> list[str]:
    return [sep.join(map(str, v)) if isinstance(v, list | tuple) else ("" if v is None else str(v))
            for v in values]  # fmt: skip


def tidy_table(frame: pd.DataFrame, assays: Mapping[str, AssayTarget]) -> pd.DataFrame:
    """Contract columns first (assay names mapped to keys, call text, flags as text)."""
    out = frame.drop(columns=[c for c in _INTERNAL if c in frame.columns]).copy()
    if out.empty and "channel" not in out:
        return pd.DataFrame(columns=list(CONTRACT))
    if "sample" not in out:
        out["sample"] = ""
    out["sample"] = out["sample"].fillna("").astype(str)
    target = out["target"].fillna("").astype(str)
    info = [assays[t] for t in target]
    out["gene"] = [a.gene for a in info]
    out["alteration"] = [a.alteration for a in info]
    out["alteration_key"] = [a.key for a in info]
    out["wild_type"] = [a.wild_type for a in info]
    out["kb_id"] = [a.kb_id for a in info]
    reference = (out["channel"].to_numpy() != 1) | out["wild_type"].to_numpy(bool)
    out["call_text"] = call_texts(out, reference)
    out["flags"] = _joined(out["flags"], ";") if "flags" in out else ""
    if "members" in out:
        out["members"] = _joined(out["members"], ",")
    for c in _INTS:
        if c in out:
            out[c] = pd.array(np.round(out[c].to_numpy(float)), dtype="Int64")
    missing = [c for c in CONTRACT if c not in out.columns]
    for c in missing:
        out[c] = np.nan
    extra = [c for c in EXTRA if c in out.columns]
    qs = [c for c in out.columns if str(c).startswith(("qs_", "agree_"))]
    rest = [c for c in out.columns if c not in CONTRACT and c not in extra and c not in qs]
    return out[[*CONTRACT, *extra, *qs, *rest]].reset_index(drop=True)


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _measured(value: Any, call: str, positives: float) -> float | None:
    """The value stored: the estimate when detected (or indeterminate with positives)."""
    v = _finite(value)
    if call == "detected" or (call == "indeterminate" and positives > 0):
        return v
    return None


def measurement_rows(
    wells: pd.DataFrame, samples: pd.DataFrame, *, blanks: Sequence[str] = ()
) -> pd.DataFrame:
    """The rows that become measurements: merged sample rows, plus wells that name no sample.

    No-template controls and blank (wild-type-only control) samples are left out.
    """

    def controls(frame: pd.DataFrame) -> pd.Series:
        ntc = frame["is_ntc"].astype(bool) if "is_ntc" in frame else False
        return ntc | frame["sample"].isin(blanks)

    parts = []
    if len(samples):
        parts.append(samples[~controls(samples)])
    if len(wells):
        parts.append(wells[(wells["sample"] == "") & ~controls(wells)])
    if not parts:
        return wells.iloc[0:0]
    return pd.concat(parts, ignore_index=True)


def measurements_from(rows: pd.DataFrame, assays: Mapping[str, AssayTarget]) -> list[Measurement]:
    """Measurements of tidy rows (see the module docstring)."""
    out: list[Measurement] = []
    for r in rows.to_dict("records"):
        a = assays[str(r["target"])]
        channel = int(r["channel"])
        reference = channel != 1 or a.wild_type
        call = str(r["call"])
        positives = float(r["positives"]) if r["positives"] is not pd.NA else 0.0
        flags = tuple(f for f in str(r.get("flags") or "").split(";") if f)
        sample = str(r["sample"]) or None
        attrs = {
            "channel": channel,
            "wells": str(r["well"]),
            "positives": int(positives),
            "accepted": None if r["accepted"] is pd.NA else int(r["accepted"]),
            "lob_droplets": _finite(r.get("lob_droplets")),
            "lob_rule": r.get("lob_rule"),
            "ci_method": r.get("ci_method"),
            "call_text": r.get("call_text"),
        }
        common: dict[str, Any] = {"assay": "ddpcr", "target": str(r["target"]), "sample": sample,
                                  "alteration": None if reference else a.key, "call": call,
                                  "flags": flags}  # fmt: skip
        out.append(
            Measurement(
                quantity="copies_per_ul",
                value=_measured(r.get("copies_per_ul"), call, positives),
                unit="copies/µL",
                ci_low=_finite(r.get("ci95_low")),
                ci_high=_finite(r.get("ci95_high")),
                lod=_finite(r.get("lod_copies_per_ul")),
                lob=_finite(r.get("lob_copies_per_ul")),
                attributes={**attrs, "estimate": _finite(r.get("copies_per_ul"))},
                **common,
            )
        )
        duplex = _finite(r.get("lod_fa")) is not None
        if reference or not duplex:
            continue
        out.append(
            Measurement(
                quantity="fractional_abundance",
                value=_measured(r.get("fractional_abundance"), call, positives),
                unit="%",
                ci_low=_finite(r.get("fa_ci95_low")),
                ci_high=_finite(r.get("fa_ci95_high")),
                lod=_finite(r.get("lod_fa")),
                lob=_finite(r.get("lob_fa")),
                attributes={**attrs, "estimate": _finite(r.get("fractional_abundance"))},
                **common,
            )
        )
    return out


def findings_from(rows: pd.DataFrame, assays: Mapping[str, AssayTarget]) -> list[Finding]:
    """Detected mutant targets with a known alteration as interpretation findings."""
    from kinresist.interpret.finding import Finding

    out = []
    for r in rows.to_dict("records"):
        a = assays[str(r["target"])]
        if int(r["channel"]) != 1 or r["call"] != "detected" or a.key is None or a.kind is None:
            continue
        assert a.gene is not None
        assert a.alteration is not None
        fa = _finite(r.get("fractional_abundance"))
        out.append(
            Finding(
                gene=a.gene,
                alteration=a.alteration,
                kind=a.kind,
                vaf=fa / 100 if fa is not None and 0 <= fa <= 100 else None,
                source="ddpcr",
                sample=str(r["sample"]) or None,
            )
        )
    return out


def _warnings(wells: pd.DataFrame, assays: Mapping[str, AssayTarget], volume: Mapping[str, Any]) -> list[str]:  # fmt: skip
    out = []
    mutant_targets = sorted(set(wells.loc[wells["channel"] == 1, "target"].astype(str)))
    for t in mutant_targets:
        a = assays[t]
        if a.key is None and not a.wild_type:
            out.append(
                f"target {t!r} (channel 1) is not an alteration kinresist can name: its "
                "measurements carry no alteration key; map it with an assay map "
                "(--assay-map FILE or --assay 'TARGET=GENE CHANGE')"
            )
    flags = wells["flags"].astype(str)
    n_failed = int(flags.str.contains("failed_well").sum())
    if n_failed:
        out.append(f"{n_failed} well x channel rows have < 5,000 droplets: called indeterminate")
    n_ntc = int(flags.str.contains("ntc_contamination").sum())
    if n_ntc:
        out.append(
            f"{n_ntc} rows share a target with a positive no-template control: detections there "
            "are indeterminate"
        )
    for flag, text in (
        ("call_depends_on_gating", "a call that moving the threshold within its bootstrap range "
         "would change: called indeterminate (positives_low / positives_high give the range)"),
        ("unstable_threshold", "a positive count that moves by more than its Poisson "
         "uncertainty when the threshold moves within its bootstrap range: check the gates "
         "(or set manual thresholds)"),
        ("rain", "more than 2.5 % of the droplets between the clusters (rain; Lievens et al. "
         "2016): the count depends on where the threshold cuts the rain"),
        ("amplitude_outliers", "droplets far outside every cluster (above a positive cluster "
         "they are counted positive): check the well"),
    ):  # fmt: skip
        rows = wells.loc[flags.str.contains(flag, regex=False)]
        if len(rows):
            where = ", ".join(dict.fromkeys(f"{w} ch{c}" for w, c in zip(rows["well"], rows["channel"], strict=True)))  # fmt: skip
            if len(where) > 120:
                where = where[:117] + "..."
            out.append(f"{len(rows)} well x channel row(s) with {text}: {where}")
    if volume.get("volume_mismatch"):
        out.append(
            f"droplet volume {volume.get('volume_ul')} µL differs by > 1 % from the volume the "
            f"file implies ({volume.get('droplet_volume_ul')} µL)"
        )
    return out


def build_result(
    workflow: str,
    *,
    provenance: Any,
    body: Mapping[str, Any],
    wells: pd.DataFrame,
    samples: pd.DataFrame,
    assays: Mapping[str, AssayTarget],
    blanks: Sequence[str] = (),
    tables: Mapping[str, pd.DataFrame | None] | None = None,
    plate: Plate | None = None,
    gating: Gating | None = None,
) -> DdpcrResult:
    """Assemble the result: tidy tables, measurements, findings and warnings."""
    w = tidy_table(wells, assays)
    s = tidy_table(samples, assays) if len(samples) else pd.DataFrame(columns=list(CONTRACT))
    extra = {k: v for k, v in (tables or {}).items() if v is not None}
    all_tables: dict[str, pd.DataFrame] = {"wells": w, "samples": s}
    for name, frame in extra.items():
        all_tables[name] = tidy_table(frame, assays) if "call" in frame else frame
    rows = measurement_rows(w, s, blanks=blanks)
    full_body = {
        **body,
        "assays": [assays[t].to_dict() for t in sorted(assays)],
        "wells": records(w),
        "samples": records(s),
        **{name: records(all_tables[name]) for name in extra},
    }
    return DdpcrResult(
        workflow=workflow,
        schema_version=SCHEMA_VERSION,
        provenance=provenance,
        body=full_body,
        tables=all_tables,
        measurements=measurements_from(rows, assays),
        findings=findings_from(rows, assays),
        warnings=_warnings(w, assays, body.get("droplet_volume", {})),
        plate=plate,
        gating=gating,
    )
