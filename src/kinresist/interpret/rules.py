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
    "audit_ok",
    "call_from_evidence",
    "classify",
    "combine_units",
    "in_indication",
    "non_lung_diseases",
]

#: Evidence levels, strongest first (CIViC A-E, the KB's one scale).
LEVEL_ORDER = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}
#: A finding is a minor subclone when its VAF is below this fraction of the highest
#: point-mutation VAF in the sample (2 % next to 40 % is minor; 15 % next to 40 % is not).
MINOR_SUBCLONE_RATIO = 0.25
#: Genes whose alterations are off-target (bypass / downstream) for an ALK inhibitor. TP53 is
#: not among them: it is a prognostic co-mutation (KB mechanism category ``co_mutation``).
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
        "RET",
        "NF2",
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


def audit_ok(e: EvidenceRef) -> bool:
    """May this item vote at all? SOURCE-DOC items only after an audit found them supported."""
    return e.status != "SOURCE-DOC" or e.audit == "supported"


def _audit_text(e: EvidenceRef) -> str:
    if e.audit is None:
        return "SOURCE-DOC, not audited: not used"
    pm = f" (PMID {', '.join(e.audit_pmids)})" if e.audit_pmids else ""
    return f"SOURCE-DOC, audit: {e.audit}{pm}: never used for a call"


def call_from_evidence(
    items: Sequence[EvidenceRef],
) -> tuple[Call, bool, str, tuple[EvidenceRef, ...]]:
    """One profile x drug: evidence items -> (call, conflict, conflict note, items).

    Rule (in this order):

    0. Items with an ``exclusion`` set by the caller (first-line trial after progression,
       codon-level item about another amino-acid change, gene-level sensitivity for a
       specific mutation) never vote and do not count as conflicting.
    1. Audit: a SOURCE-DOC item votes only if its audit found it ``supported``;
       ``contradicted`` / ``unsupported`` / unaudited items are shown, never used.
    2. Verified first: VERIFIED and CIViC-imported items vote; a supported SOURCE-DOC item
       votes only when nothing verified exists for the profile and drug.
    3. Indication: when any voting item is from lung cancer (or names no disease, as review
       tables), items from other diseases are shown but do not vote.
    4. The strongest level among voting items (A > B > C > D > E) decides: if its items
       agree, that is the call (sensitive, reduced -> intermediate, resistant).
    5. If the strongest level's items disagree, the call is ``intermediate``.
    6. ``conflict`` is True whenever the items about this profile and drug disagree
       (audited-out and non-voting items included: a conflict is shown, never silently
       resolved); the note names both sides.
    """
    if not items:
        return "unknown", False, "", ()
    marked_in = [
        e
        if e.exclusion or audit_ok(e)
        else replace(e, exclusion="audit", note=_join(e.note, _audit_text(e)))
        for e in items
    ]
    eligible = [e for e in marked_in if not e.exclusion]
    verified = [e for e in eligible if e.status != "SOURCE-DOC"]
    voting = verified or eligible
    lung = [e for e in voting if in_indication(e.disease)]
    if lung:
        voting = lung
    voting_ids = {id(e) for e in voting}
    marked = tuple(
        replace(
            e,
            votes=id(e) in voting_ids,
            note=e.note
            if id(e) in voting_ids or e.exclusion or e.status != "SOURCE-DOC"
            else _join(
                e.note, "SOURCE-DOC (audit supported): verified evidence exists, shown only"
            ),
        )
        for e in marked_in
    )
    about = [e for e in marked if e.exclusion in ("", "audit")]
    effects = {_EFFECT_CALL[e.effect] for e in about}
    conflict = len(effects) > 1
    if not voting:
        note = ""
        if conflict:
            note = "conflicting evidence (" + _sides(about) + "); nothing usable decides"
        return "unknown", conflict, note, marked
    best = min(LEVEL_ORDER.get(e.level, 9) for e in voting)
    top = [e for e in voting if LEVEL_ORDER.get(e.level, 9) == best]
    top_calls = {_EFFECT_CALL[e.effect] for e in top}
    call: Call = top_calls.pop() if len(top_calls) == 1 else "intermediate"
    note = ""
    if conflict:
        how = (
            "strongest evidence disagrees -> intermediate"
            if len({_EFFECT_CALL[e.effect] for e in top}) > 1
            else f"decided by the strongest voting evidence (level {'ABCDE'[best] if best < 5 else '?'})"
        )
        note = "conflicting evidence (" + _sides(about) + f"); {how}"
    return call, conflict, note, marked


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _sides(items: Sequence[EvidenceRef]) -> str:
    sides = []
    for eff in ("sensitive", "intermediate", "resistant"):
        refs = [_cite(e) for e in items if _EFFECT_CALL[e.effect] == eff]
        if refs:
            sides.append(f"{eff}: {', '.join(refs)}")
    return "; ".join(sides)


def non_lung_diseases(items: Sequence[EvidenceRef]) -> tuple[str, ...]:
    """Diseases of the voting items when none of them is lung cancer (else ())."""
    voting = [e for e in items if e.votes]
    if not voting or any(in_indication(e.disease) for e in voting):
        return ()
    return tuple(sorted({e.disease for e in voting}))


def _cite(e: EvidenceRef) -> str:
    ref = (
        e.id if e.status == "SOURCE-DOC" else e.civic_eid or (f"PMID {e.pmid}" if e.pmid else e.id)
    )
    status = e.status if e.audit is None else f"{e.status} audit {e.audit}"
    disease = "" if in_indication(e.disease) else f", {e.disease}"
    return f"{ref} [{e.level}, {status}{disease}]"


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
    #: the unit's voting evidence, and whether a sensitive call rests on mutation-specific
    #: evidence (allele-level, or a curated compound profile)
    refs: tuple[EvidenceRef, ...] = ()
    specific: bool = False
    kind: str = ""  # "mutation", "compound", "fusion", "amplification", "other"


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
