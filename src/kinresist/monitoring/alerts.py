"""Alert rules of the ctDNA timeline (pure functions on a subject's series).

Three kinds, each with a reason sentence that names the draws and numbers behind it:

``new_detection``
    An alteration detected above its LoD at a draw whose preceding tested draw had it not detected
    (or only below its LoD), **confirmed** by the other assay in the same draw or by a detection
    in the next tested draw. The alert is placed at the draw where the detection is confirmed
    (the first moment the lab can act on it); ``first_detected`` names the draw it was first seen
    in. An alteration present from the first draw on is a baseline finding, not an emergence; an
    unconfirmed blip raises nothing.
``rising``
    Per alteration and assay, the detected values since the last non-detection; at the first draw
    where three or more of them give a significant log-linear rise (:mod:`.trend`, one-sided
    ``p < alpha``), once per episode.
``molecular_progression``
    The first draw on a drug where an alteration the knowledge base calls resistant to that drug
    is detected, with the lead time to the next therapy change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kinresist.monitoring.therapy import TherapySpan, next_change
from kinresist.monitoring.trend import log_trend

__all__ = [
    "ALERT_KINDS",
    "Alert",
    "Point",
    "emergence_alerts",
    "progression_alerts",
    "rising_alerts",
]

AlertKind = Literal["new_detection", "rising", "molecular_progression"]
ALERT_KINDS: tuple[str, ...] = ("new_detection", "rising", "molecular_progression")
ASSAY_NAMES = {"ddpcr": "ddPCR", "ngs": "NGS"}


@dataclass(frozen=True, slots=True)
class Point:
    """One measured value of one alteration at one draw (a row of the timeline's series)."""

    alteration: str
    sample: str
    when: dt.datetime
    collected: str
    assay: str
    quantity: str
    value: float | None
    unit: str = "%"
    ci_low: float | None = None
    ci_high: float | None = None
    lod: float | None = None
    call: str | None = None
    depth: int | None = None
    flags: tuple[str, ...] = ()
    drug: str | None = None

    @property
    def detected(self) -> bool | None:
        """True (detected), False (not detected) or None (indeterminate / no call)."""
        if self.call == "detected":
            return True
        if self.call == "not_detected":
            return False
        return None

    @property
    def above_lod(self) -> bool:
        """Detected at or above its LoD (a detection with no LoD is the lab's own call)."""
        if self.detected is not True:
            return False
        if self.lod is None:
            return True
        return self.value is not None and self.value >= self.lod

    @property
    def display(self) -> str:
        """``"1.2 %"``, ``"below LoD (0.08 %)"``, ``"not detected (LoD unknown)"``..."""
        unit = f" {self.unit}" if self.unit else ""
        if self.detected is False:
            if self.lod is None:
                return "not detected (LoD unknown)"
            return f"below LoD ({self.lod:.3g}{unit})"
        if self.detected is None:
            shown = "no value" if self.value is None else f"{self.value:.3g}{unit}"
            return f"indeterminate ({shown})"
        if self.value is None:
            return "detected (no value)"
        text = f"{self.value:.3g}{unit}"
        if self.lod is not None and self.value < self.lod:
            text += f" (detected below LoD {self.lod:.3g}{unit})"
        return text

    @property
    def day(self) -> dt.date:
        return self.when.date()

    def to_dict(self) -> dict[str, Any]:
        return {
            "alteration": self.alteration,
            "sample": self.sample,
            "collected": self.collected,
            "assay": self.assay,
            "quantity": self.quantity,
            "value": self.value,
            "unit": self.unit,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "detected": self.detected,
            "lod": self.lod,
            "call": self.call,
            "display": self.display,
            "depth": self.depth,
            "drug": self.drug,
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: ``kind``, ``alteration``, the draw (``sample``, ``collected``), ``reason``."""

    kind: AlertKind
    alteration: str
    sample: str
    collected: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "alteration": self.alteration,
            "sample": self.sample,
            "collected": self.collected,
            "reason": self.reason,
            **self.details,
        }


def _draws(points: Iterable[Point]) -> list[tuple[str, list[Point]]]:
    """Points grouped by draw (sample), oldest first."""
    by: dict[str, list[Point]] = {}
    for p in sorted(points, key=lambda p: (p.when, p.sample)):
        by.setdefault(p.sample, []).append(p)
    return list(by.items())


def _assay(name: str) -> str:
    return ASSAY_NAMES.get(name, name)


def _value(p: Point) -> str:
    return f"{_assay(p.assay)} {p.display}"


def emergence_alerts(alteration: str, points: Sequence[Point]) -> list[Alert]:
    """``new_detection`` alerts of one alteration (see the module docstring)."""
    draws = [(s, ps) for s, ps in _draws(points) if any(p.detected is not None for p in ps)]
    out: list[Alert] = []
    prev_above: bool | None = None
    for i, (sample, ps) in enumerate(draws):
        above = [p for p in ps if p.above_lod]
        if above and prev_above is False:
            first = above[0]
            others = [p for p in ps if p.detected is True and p.assay != first.assay]
            confirm: tuple[str, list[Point], str] | None = None
            if others:
                confirm = (sample, ps, f"by {_value(others[0])} in the same draw")
            elif i + 1 < len(draws):
                nxt_sample, nxt = draws[i + 1]
                hits = [p for p in nxt if p.detected is True]
                if hits:
                    confirm = (
                        nxt_sample,
                        nxt,
                        f"in the next draw {nxt_sample} ({hits[0].collected}: {_value(hits[0])})",
                    )
            if confirm is not None:
                at_sample, at_points, how = confirm
                lod = f", LoD {first.lod:.3g} {first.unit}" if first.lod is not None else ""
                reason = (
                    f"{alteration} newly detected above its LoD in {sample} ({first.collected}: "
                    f"{_value(first)}{lod}) after a non-detection; confirmed {how}"
                )
                out.append(
                    Alert(
                        "new_detection",
                        alteration,
                        at_sample,
                        at_points[0].collected,
                        reason,
                        {
                            "first_detected": sample,
                            "first_detected_collected": first.collected,
                            "confirmed_by": "other_assay" if others else "next_draw",
                        },
                    )
                )
        prev_above = bool(above)
    return out


def rising_alerts(alteration: str, points: Sequence[Point], *, alpha: float = 0.05) -> list[Alert]:
    """``rising`` alerts of one alteration, per assay (see the module docstring)."""
    out: list[Alert] = []
    for assay in sorted({p.assay for p in points}):
        episode: list[Point] = []
        alerted = False
        for p in sorted((q for q in points if q.assay == assay), key=lambda q: q.when):
            if p.detected is False:
                episode, alerted = [], False
                continue
            if p.detected is not True or p.value is None or p.value <= 0:
                continue
            episode.append(p)
            if alerted or len(episode) < 3:
                continue
            t0 = episode[0].when
            days = [(q.when - t0).total_seconds() / 86400.0 for q in episode]
            try:
                trend = log_trend(days, [q.value for q in episode])  # type: ignore[misc]
            except ValueError:
                continue
            if trend.slope_per_day > 0 and trend.p_value < alpha:
                alerted = True
                series = ", ".join(f"{q.sample} {q.value:.3g}" for q in episode)
                doubling = (
                    f", doubling every {trend.doubling_days:.0f} days"
                    if trend.doubling_days is not None
                    else ""
                )
                reason = (
                    f"{alteration} rising by {_assay(assay)} over {len(episode)} draws ({series} "
                    f"{p.unit}): {trend.test}, p = {trend.p_value:.2g} < {alpha:g}{doubling}"
                )
                out.append(
                    Alert(
                        "rising",
                        alteration,
                        p.sample,
                        p.collected,
                        reason,
                        {
                            "assay": assay,
                            "draws": [q.sample for q in episode],
                            "trend": trend.to_dict(),
                        },
                    )
                )
    return out


def progression_alerts(
    alteration: str,
    points: Sequence[Point],
    lines: Sequence[TherapySpan],
    resistant: Callable[[str, str], str | None],
) -> list[Alert]:
    """``molecular_progression`` alerts of one alteration.

    ``resistant(alteration, drug)`` returns the knowledge base's basis sentence when the KB calls
    the alteration resistant to the drug, else None.
    """
    out: list[Alert] = []
    seen: set[str] = set()
    for sample, ps in _draws(points):
        hits = [p for p in ps if p.detected is True]
        if not hits or hits[0].drug is None or hits[0].drug in seen:
            continue
        drug = hits[0].drug
        basis = resistant(alteration, drug)
        if basis is None:
            continue
        seen.add(drug)
        day = hits[0].day
        change = next_change(lines, day)
        lead = None if change is None else (change - day).days
        when = (
            f"the next therapy change is on {change.isoformat()}, {lead} days later"
            if change is not None
            else "no therapy change is recorded after this draw"
        )
        reason = (
            f"{alteration}, a known resistance mutation to {drug} ({basis}), first appears on "
            f"{drug} in {sample} ({hits[0].collected}: {_value(hits[0])}); {when}"
        )
        out.append(
            Alert(
                "molecular_progression",
                alteration,
                sample,
                hits[0].collected,
                reason,
                {
                    "drug": drug,
                    "next_therapy_change": None if change is None else change.isoformat(),
                    "lead_time_days": lead,
                },
            )
        )
    return out
