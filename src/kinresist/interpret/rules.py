"""The interpretation rules, each small and explicit (documented in docs/interpretation.md).

* :func:`call_from_evidence` - evidence items on one profile x drug -> call + conflict.
* :func:`combine_units` - calls of the sample's independent units (single findings or
  compound profiles) -> one call per drug, weighing VAF (minor subclone rule).
* :func:`classify` - spec section 12.4 classification of the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from kinresist.interpret.result import Call, Classification, EvidenceRef

__all__ = [
    "BYPASS_GENES",
    "LEVEL_ORDER",
    "MINOR_SUBCLONE_RATIO",
    "UnitCall",
    "call_from_evidence",
    "classify",
    "combine_units",
    "in_indication",
]

#: Evidence levels, strongest first (CIViC A-E, the KB's one scale).
LEVEL_ORDER = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}
#: A finding is a minor subclone when its VAF is below this fraction of the highest
#: point-mutation VAF in the sample (2 % next to 40 % is minor; 15 % next to 40 % is not).
MINOR_SUBCLONE_RATIO = 0.25
#: Genes whose alterations are off-target (bypass / downstream) for an ALK inhibitor.
BYPASS_GENES = frozenset(
    {
        "EGFR",
        "ERBB2",
        "ERBB3",
        "MET",
        "KIT",
        "IGF1R",
        "SRC",
        "KRAS",
        "NRAS",
        "BRAF",
        "MAP2K1",
        "PIK3CA",
        "TP53",
        "RET",
        "AXL",
        "STAT3",
        "MAPK7",
        "YAP1",
        "PTK2",
    }
)
_INDICATION_WORDS = ("lung", "nsclc", "non-small", "non small")

_EFFECT_CALL: dict[str, Call] = {
    "sensitive": "sensitive",
    "reduced": "intermediate",
    "resistant": "resistant",
}
_SEVERITY: dict[str, int] = {"sensitive": 0, "intermediate": 1, "resistant": 2}


def in_indication(disease: str) -> bool:
    """True for lung-cancer evidence and for items with no disease (reviews, tables)."""
    d = disease.strip().lower()
    return not d or any(w in d for w in _INDICATION_WORDS)


def call_from_evidence(
    items: Sequence[EvidenceRef],
) -> tuple[Call, bool, str, tuple[EvidenceRef, ...]]:
    """One profile x drug: evidence items -> (call, conflict, conflict note, items).

    Rule (in this order):

    1. Voting items: VERIFIED and CIViC-imported items; SOURCE-DOC items vote only
       when nothing verified exists (otherwise they are shown, marked not used).
    2. Indication: when any voting item is from lung cancer (or names no disease,
       as review tables), items from other diseases are shown but do not vote.
    3. The strongest level among voting items (A > B > C > D > E) decides: if its
       items agree, that is the call (sensitive, reduced -> intermediate, resistant).
    4. If the strongest level's items disagree, the call is ``intermediate``.
    5. ``conflict`` is True whenever the shown items disagree at all; the note
       names both sides.
    """
    if not items:
        return "unknown", False, "", ()
    verified = [e for e in items if e.status != "SOURCE-DOC"]
    voting = verified or list(items)
    lung = [e for e in voting if in_indication(e.disease)]
    if lung:
        voting = lung
    best = min(LEVEL_ORDER.get(e.level, 9) for e in voting)
    top = [e for e in voting if LEVEL_ORDER.get(e.level, 9) == best]
    top_calls = {_EFFECT_CALL[e.effect] for e in top}
    call: Call = top_calls.pop() if len(top_calls) == 1 else "intermediate"
    voting_ids = {id(e) for e in voting}
    marked = tuple(replace(e, votes=id(e) in voting_ids) for e in items)
    effects = {_EFFECT_CALL[e.effect] for e in items}
    conflict = len(effects) > 1
    note = ""
    if conflict:
        sides = []
        for eff in ("sensitive", "intermediate", "resistant"):
            refs = [_cite(e) for e in items if _EFFECT_CALL[e.effect] == eff]
            if refs:
                sides.append(f"{eff}: {', '.join(refs)}")
        how = (
            "strongest evidence disagrees -> intermediate"
            if len({_EFFECT_CALL[e.effect] for e in top}) > 1
            else f"decided by the strongest voting evidence (level {'ABCDE'[best] if best < 5 else '?'})"
        )
        note = "conflicting evidence (" + "; ".join(sides) + f"); {how}"
    return call, conflict, note, marked


def _cite(e: EvidenceRef) -> str:
    ref = e.civic_eid or (f"PMID {e.pmid}" if e.pmid else e.id)
    return f"{ref} [{e.level}, {e.status}]"


@dataclass(frozen=True, slots=True)
class UnitCall:
    """The call of one unit (a finding, or findings forming a compound profile) for a drug.

    ``call`` may also be ``"no_evidence"``: the unit has no known bearing on the drug
    (e.g. a bypass alteration without evidence for it) and does not take part.
    """

    label: str
    call: str
    vaf: float | None
    reason: str = ""


def combine_units(units: Sequence[UnitCall], dominant_vaf: float | None) -> tuple[Call, str, str]:
    """Units' calls for one drug -> (call, rationale, VAF note).

    Rule: a unit is a *minor subclone* when its VAF < ``MINOR_SUBCLONE_RATIO`` x the
    sample's highest point-mutation VAF. The most severe known call among the other
    (major) units is the base (resistant > intermediate > sensitive). A major unit of
    unknown effect makes the call ``unknown`` unless the base is already resistant.
    A resistant (or intermediate) minor subclone next to a sensitive base gives
    ``intermediate`` with a VAF note (response, then outgrowth of the subclone); an
    unknown minor subclone keeps the call ``unknown`` (never sensitive by default).
    """
    relevant = [u for u in units if u.call != "no_evidence"]
    if not relevant:
        detail = "; ".join(f"{u.label}: {u.reason or 'no evidence'}" for u in units)
        return (
            "unknown",
            "no evidence in the KB for this drug and these findings"
            + (f" ({detail})" if detail else ""),
            "",
        )

    def minor(u: UnitCall) -> bool:
        return (
            u.vaf is not None
            and dominant_vaf is not None
            and dominant_vaf > 0
            and u.vaf < MINOR_SUBCLONE_RATIO * dominant_vaf
        )

    major = [u for u in relevant if not minor(u)] or relevant
    major_ids = {id(u) for u in major}
    minors = [u for u in relevant if id(u) not in major_ids]
    known_major = [u for u in major if u.call != "unknown"]
    unknown_all = [u for u in relevant if u.call == "unknown"]
    base: str | None = None
    if known_major:
        base = max((u.call for u in known_major), key=_SEVERITY.__getitem__)
    parts = [
        f"{u.label}: {u.call.replace('_', ' ')}" + (f" ({u.reason})" if u.reason else "")
        for u in units
    ]
    rationale = "; ".join(parts)
    if base == "resistant":
        worst = [u.label for u in known_major if u.call == "resistant"]
        return "resistant", rationale, _vaf_text(worst, relevant, dominant_vaf, "resistant")
    if unknown_all:
        return "unknown", rationale, ""
    if base is None:  # only minor units carry a call
        base = max((u.call for u in minors), key=_SEVERITY.__getitem__)
        return base, rationale, "every informative finding is a minor subclone"  # type: ignore[return-value]
    worse_minor = [u for u in minors if _SEVERITY.get(u.call, 0) > _SEVERITY[base]]
    if worse_minor and base == "sensitive":
        labels = ", ".join(f"{u.label} ({_pct(u.vaf)} VAF)" for u in worse_minor)
        note = (
            f"{labels}: {worse_minor[0].call} minor subclone next to a dominant clone at "
            f"{_pct(dominant_vaf)} VAF (< {MINOR_SUBCLONE_RATIO:g} x dominant); expect a response of the "
            "dominant clone and outgrowth of the subclone - monitor it (ddPCR)"
        )
        return "intermediate", rationale, note
    return base, rationale, ""  # type: ignore[return-value]


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{100 * v:.3g} %"


def _vaf_text(
    labels: list[str], units: Sequence[UnitCall], dominant: float | None, what: str
) -> str:
    vafs = {u.label: u.vaf for u in units}
    sub = []
    for lab in labels:
        v = vafs.get(lab)
        if v is not None and dominant and v < MINOR_SUBCLONE_RATIO * dominant:
            sub.append(lab)
    if sub:
        return f"{', '.join(sub)} ({what}) is a minor subclone"
    return ""


def classify(
    *, on_target_mutation: bool, on_target_amplification: bool, off_target: bool
) -> Classification:
    """Spec section 12.4: one mechanism -> its class; several -> heterogeneous."""
    present = [on_target_mutation, on_target_amplification, off_target]
    if sum(present) >= 2:
        return "heterogeneous"
    if on_target_mutation:
        return "on_target_mutation"
    if on_target_amplification:
        return "on_target_amplification"
    if off_target:
        return "off_target"
    return "none_found"
