"""Named immune populations, % of CD45⁺, bead-based absolute counts and the CD8/neutrophil ratio.

A gate's markers are read from its name and the names of its ancestors: ``CD45+``, ``CD3+ T
cells``, ``CD11b+Ly6G+``, ``Ly6G hi``, ``CD4-`` (signs ``+ ++ pos hi high bright int`` are
positive; ``- neg lo low dim`` negative; a marker without a sign counts as positive, as in
"CD8 T cells"). Channel names in FlowJo quadrant names (``Q2: Comp-APC-A+ , Comp-PE-A-``) are
replaced by the sample's marker names ($PnS) first. A population is mapped to the shallowest gate
whose path is positive for every marker of its definition and negative for none:

========================  ======================================================
CD45⁺ leukocytes          CD45⁺
CD8⁺ T cells              CD45⁺ CD3⁺ CD8⁺
neutrophils (mouse)       CD45⁺ CD11b⁺ Ly6G⁺
neutrophils (human)       CD45⁺ CD15⁺ CD16⁺, or CD45⁺ CD66b⁺
counting beads            a gate whose name contains "bead"
========================  ======================================================

``populations={"cd8_t": "root/Live/CD45+/CD3+/CD8+"}`` overrides the name matching; every
mapping says which rule made it. Nothing is mapped when nothing matches (the population is
reported as not mapped, never guessed).

Absolute counts (cells/µL) = cell events / bead events x beads added / sample volume (µL). The
CD8/neutrophil ratio is ``log2((n_CD8 + c) / (n_neutrophil + c))`` on event counts with the
pseudocount ``c`` stated in the result (default 0.5 events).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.flow.gating import FlowGating, SampleGating

__all__ = [
    "DEFINITIONS",
    "SampleSheet",
    "gate_markers",
    "named_populations",
]

Species = Literal["auto", "mouse", "human"]

#: Marker -> spellings found in gate names (upper case).
_ALIASES: dict[str, tuple[str, ...]] = {
    "CD45": ("CD45", "PTPRC"),
    "CD3": ("CD3", "CD3E"),
    "CD8": ("CD8", "CD8A", "CD8B", "CD8ALPHA"),
    "CD4": ("CD4",),
    "CD11B": ("CD11B", "ITGAM"),
    "LY6G": ("LY6G", "LY-6G", "LY6-G"),
    "LY6C": ("LY6C", "LY-6C", "LY6-C"),
    "CD15": ("CD15",),
    "CD16": ("CD16",),
    "CD66B": ("CD66B",),
    "CD19": ("CD19",),
    "CD14": ("CD14",),
    "F4/80": ("F4/80", "F4_80"),
    "NK1.1": ("NK1.1",),
}
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"CD8\+?\s*T\b|CYTOTOXIC\s+T", ("CD3", "CD8")),
    (r"\bT[\s_-]*CELLS?\b|\bT[\s_-]*LYMPH", ("CD3",)),
    (r"LEUKOCYTE|LEUCOCYTE|IMMUNE\s*CELLS", ("CD45",)),
)
_POS = {"+", "++", "POS", "HI", "HIGH", "BRIGHT", "INT", "^HI", "^INT"}
_NEG = {"-", "NEG", "LO", "LOW", "DIM", "−", "^LO"}


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    markers: tuple[frozenset[str], ...]
    species: str
    name_words: tuple[str, ...] = ()


DEFINITIONS: tuple[Definition, ...] = (
    Definition("cd45", "CD45⁺ leukocytes", (frozenset({"CD45"}),), "any"),
    Definition(
        "cd8_t", "CD8⁺ T cells (CD45⁺CD3⁺CD8⁺)", (frozenset({"CD45", "CD3", "CD8"}),), "any"
    ),
    Definition(
        "neutrophils",
        "neutrophils (mouse CD45⁺CD11b⁺Ly6G⁺)",
        (frozenset({"CD45", "CD11B", "LY6G"}),),
        "mouse",
    ),
    Definition(
        "neutrophils",
        "neutrophils (human CD45⁺CD15⁺CD16⁺ or CD45⁺CD66b⁺)",
        (frozenset({"CD45", "CD15", "CD16"}), frozenset({"CD45", "CD66B"})),
        "human",
    ),
)


def _marker_regex() -> re.Pattern[str]:
    spellings = sorted({s for v in _ALIASES.values() for s in v}, key=len, reverse=True)
    alt = "|".join(re.escape(s) for s in spellings)
    sign = r"(\+\+|\+|-|−|\^?HI\b|\^?INT\b|\^?LO\b|POS\b|NEG\b|HIGH\b|BRIGHT\b|LOW\b|DIM\b)?"
    return re.compile(rf"(?<![A-Z0-9])({alt})(?![A-Z0-9.])\s*{sign}")


_MARKER_RE = _marker_regex()
_CANON = {s: k for k, v in _ALIASES.items() for s in v}
_DISPLAY = {"CD11B": "CD11b", "LY6G": "Ly6G", "LY6C": "Ly6C", "CD66B": "CD66b"}


def gate_markers(
    name: str, channel_markers: Mapping[str, str] | None = None
) -> tuple[set[str], set[str]]:
    """(positive, negative) markers named by one gate name."""
    text = name
    for channel, marker in sorted(
        (channel_markers or {}).items(), key=lambda kv: len(kv[0]), reverse=True
    ):
        if marker:
            text = re.sub(rf"(?i)(comp-)?{re.escape(channel)}", marker, text)
    up = text.upper()
    pos: set[str] = set()
    neg: set[str] = set()
    for m in _MARKER_RE.finditer(up):
        marker = _CANON[m.group(1)]
        sign = (m.group(2) or "").lstrip("^")
        (neg if sign in _NEG else pos).add(marker)
    for pattern, markers in _WORDS:
        if re.search(pattern, up):
            pos.update(markers)
    return pos, neg


@dataclass(frozen=True)
class SampleSheet:
    """Per-sample annotations: tumour/subject label, counting beads added and sample volume."""

    frame: pd.DataFrame

    _columns = ("sample", "subject", "beads_added", "volume_ul")

    def __post_init__(self) -> None:
        if "sample" not in self.frame.columns:
            msg = (
                f"the sample sheet needs a 'sample' column (FCS file name); got columns "
                f"{list(self.frame.columns)}; optional: subject, beads_added, volume_ul"
            )
            raise InputError(msg)

    def get(self, sample: str, column: str) -> object:
        frame = self.frame
        if column not in frame.columns:
            return None
        hit = frame.loc[frame["sample"].astype(str) == sample, column]
        if hit.empty or pd.isna(hit.iloc[0]):
            return None
        return hit.iloc[0]


def _path_markers(sg: SampleGating) -> dict[str, tuple[set[str], set[str], set[str]]]:
    """population -> (positive on path, negative on path, positive from the gate's own name)."""
    channel_markers = {
        str(pnn): str(pns)
        for pnn, pns in zip(sg.fk_sample.pnn_labels, sg.fk_sample.pns_labels, strict=True)
        if pns
    }
    out: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for pop in sg.rows["population"]:
        parts = str(pop).split("/")
        pos: set[str] = set()
        neg: set[str] = set()
        own: set[str] = set()
        for i in range(1, len(parts)):
            p, n = gate_markers(parts[i], channel_markers)
            pos |= p
            neg |= n
            if i == len(parts) - 1:
                own = p
        out[str(pop)] = (pos - neg, neg, own)
    return out


def _match(
    sg: SampleGating,
    definition: Definition,
    markers: dict[str, tuple[set[str], set[str], set[str]]],
) -> tuple[str | None, str, int]:
    cands = []
    for pop, (pos, neg, own) in markers.items():
        for req in definition.markers:
            if req <= pos and not (req & neg) and (own & req):
                cands.append(pop)
                break
    if not cands:
        return None, "", 0
    depth = min(c.count("/") for c in cands)
    shallow = [c for c in cands if c.count("/") == depth]
    rule = "gate names: " + " or ".join(
        "".join(f"{_DISPLAY.get(m, m)}+" for m in sorted(req)) for req in definition.markers
    )
    return shallow[0], rule, len(shallow)


def _bead_gate(sg: SampleGating) -> str | None:
    beads = [p for p in sg.rows["population"] if "BEAD" in str(p).rsplit("/", 1)[-1].upper()]
    return min(beads, key=lambda p: p.count("/")) if beads else None


def named_populations(
    gating: FlowGating,
    *,
    species: Species = "auto",
    populations: Mapping[str, str] | None = None,
    sheet: SampleSheet | None = None,
    beads_added: float | None = None,
    volume_ul: float | None = None,
    pseudocount: float = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map named populations per sample and fill ``pct_cd45`` of the gating table in place.

    Returns
    -------
    (populations, ratios)
        ``populations``: sample, subject, population, label, gate, rule, count, pct_parent,
        pct_cd45, bead_count, cells_per_ul, flags. ``ratios``: sample, subject, cd8_count,
        neutrophil_count, pseudocount, log2_cd8_neutrophil.
    """
    if species not in ("auto", "mouse", "human"):
        msg = f"species must be 'auto', 'mouse' or 'human', got {species!r}"
        raise InputError(msg)
    if not (pseudocount > 0 and math.isfinite(pseudocount)):
        msg = f"pseudocount must be a positive number of events, got {pseudocount!r}"
        raise InputError(msg)
    user = dict(populations or {})
    for key in user:
        if key not in {"cd45", "cd8_t", "neutrophils", "beads"}:
            msg = f"unknown population {key!r}; mappable: cd45, cd8_t, neutrophils, beads"
            raise InputError(msg)
    pop_rows = []
    ratio_rows = []
    for sg in gating.samples:
        rows = sg.rows.set_index("population", drop=False)
        markers = _path_markers(sg)
        subject = sheet.get(sg.sample_id, "subject") if sheet else None
        found: dict[str, tuple[str | None, str, str, list[str]]] = {}
        for d in DEFINITIONS:
            if d.key in found and found[d.key][0] is not None:
                continue
            if d.species not in ("any", species) and species != "auto":
                continue
            if d.key in user:
                path = user[d.key]
                if path not in rows.index:
                    msg = (
                        f"population {d.key!r} is mapped to {path!r}, which is not a gate of "
                        f"sample {sg.sample_id!r}; gates: {', '.join(rows.index)}"
                    )
                    raise InputError(msg)
                found[d.key] = (path, "user mapping", d.label, [])
                continue
            pop, rule, n = _match(sg, d, markers)
            flags = [f"ambiguous: {n} gates at the same depth match"] if n > 1 else []
            found[d.key] = (pop, rule, d.label, flags)
        if "beads" in user:
            found["beads"] = (user["beads"], "user mapping", "counting beads", [])
        else:
            bead = _bead_gate(sg)
            found["beads"] = (
                bead,
                "gate name contains 'bead'" if bead else "",
                "counting beads",
                [],
            )
        cd45 = found["cd45"][0]
        if cd45 is not None:
            n45 = int(rows.loc[cd45, "count"])
            inside = sg.rows["population"].map(lambda p, c=cd45: p == c or p.startswith(c + "/"))
            pct = np.where(inside, 100.0 * sg.rows["count"] / n45 if n45 else np.nan, np.nan)
            sg.rows["pct_cd45"] = pct
        bead_pop = found["beads"][0]
        bead_count = int(rows.loc[bead_pop, "count"]) if bead_pop else None
        added = _num(sheet.get(sg.sample_id, "beads_added") if sheet else None, beads_added)
        vol = _num(sheet.get(sg.sample_id, "volume_ul") if sheet else None, volume_ul)
        counts: dict[str, int | None] = {}
        for key in ("cd45", "cd8_t", "neutrophils"):
            pop, rule, label, flags = found.get(key, (None, "", key, []))
            flags = list(flags)
            if pop is None:
                counts[key] = None
                pop_rows.append(
                    _pop_row(sg, subject, key, label, None, "not mapped", None, None, None)
                    | {"bead_count": bead_count, "cells_per_ul": None, "flags": "not_mapped"}
                )
                continue
            count = int(rows.loc[pop, "count"])
            counts[key] = count
            per_ul = None
            if bead_count is None:
                if added is not None:
                    flags.append("no_bead_gate")
            elif bead_count == 0:
                flags.append("zero_bead_events")
            elif added is not None and vol is not None:
                per_ul = count / bead_count * added / vol
            pop_rows.append(
                _pop_row(
                    sg,
                    subject,
                    key,
                    label,
                    pop,
                    rule,
                    count,
                    float(rows.loc[pop, "pct_parent"]),
                    float(sg.rows.loc[sg.rows["population"] == pop, "pct_cd45"].iloc[0]),
                )
                | {"bead_count": bead_count, "cells_per_ul": per_ul, "flags": ";".join(flags)}
            )
        n8, nn = counts.get("cd8_t"), counts.get("neutrophils")
        ratio = (
            math.log2((n8 + pseudocount) / (nn + pseudocount))
            if n8 is not None and nn is not None
            else None
        )
        ratio_rows.append(
            {
                "sample": sg.sample_id,
                "subject": subject,
                "cd8_count": n8,
                "neutrophil_count": nn,
                "pseudocount": pseudocount,
                "log2_cd8_neutrophil": ratio,
                "flags": "" if ratio is not None else "cd8_or_neutrophils_not_mapped",
            }
        )
    return pd.DataFrame(pop_rows), pd.DataFrame(ratio_rows)


def _num(value: object, default: float | None) -> float | None:
    if value is None:
        return default
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        msg = f"sample sheet value {value!r} is not a number"
        raise InputError(msg) from exc
    if not (v > 0 and math.isfinite(v)):
        msg = f"beads added and volume must be positive, got {value!r}"
        raise InputError(msg)
    return v


def _pop_row(
    sg: SampleGating,
    subject: object,
    key: str,
    label: str,
    gate: str | None,
    rule: str,
    count: int | None,
    pct_parent: float | None,
    pct_cd45: float | None,
) -> dict[str, object]:
    return {
        "sample": sg.sample_id,
        "subject": subject,
        "population": key,
        "label": label,
        "gate": gate,
        "rule": rule,
        "count": count,
        "pct_parent": pct_parent,
        "pct_cd45": pct_cd45,
    }
