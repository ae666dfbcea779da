"""A subject's resistance over time, read from the project store: :func:`build_timeline`.

For every alteration key measured in the subject's samples, every draw's value with its assay
(ddPCR fractional abundance with its 95 % CI, NGS VAF with molecule depth; a non-detection is
``value`` None with its LoD, shown as "below LoD (x %)", never 0), the therapy lines, the knowledge
base's interpretation of each draw (its detected alterations interpreted with the drug the
subject was on as the prior therapy), the alerts of :mod:`.alerts`, and the lab's IC50 fold shift
for the same alteration key when the store holds one (:mod:`.lab`).

Body (schema 1.0)::

    subject, subject_kind, study, therapy[] (line, drug, start, end), alpha, trend_test,
    draws[] (sample, collected, sample_type, timepoint, drug, therapy_line, plasma_qc, flags,
             interpretation{status, prior_therapy, classification, mechanisms[], drugs[]...}),
    alterations[] (alteration, gene, kind, known_resistance[], lab[], series[] (sample, collected,
                   assay, value, ci_low, ci_high, detected, lod, unit, quantity, call, display,
                   depth, drug, flags)),
    alerts[] (kind, alteration, sample, collected, reason, ...)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinresist.core.result import Provenance, Result
from kinresist.errors import InputError
from kinresist.monitoring._queries import find_subject
from kinresist.monitoring.alerts import (
    Alert,
    Point,
    emergence_alerts,
    progression_alerts,
    rising_alerts,
)
from kinresist.monitoring.therapy import TherapySpan, current_line
from kinresist.monitoring.trend import TEST_NAME

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kinresist.interpret.finding import Finding
    from kinresist.interpret.result import Interpretation
    from kinresist.store.api import Store
    from kinresist.store.models import Sample

__all__ = ["FRACTION_QUANTITIES", "SCHEMA_VERSION", "TimelineResult", "build_timeline"]

SCHEMA_VERSION = "1.0"
#: Quantities that are fractions of the alteration (what the timeline plots), both in %.
FRACTION_QUANTITIES = ("fractional_abundance", "vaf")
_SERIES_COLUMNS = (
    "alteration",
    "sample",
    "collected",
    "assay",
    "quantity",
    "value",
    "unit",
    "ci_low",
    "ci_high",
    "detected",
    "lod",
    "call",
    "display",
    "depth",
    "drug",
    "flags",
)


@dataclass(slots=True)
class TimelineResult(Result):
    """The ``timeline`` result; ``interpretations`` keeps the typed interpretation of each draw."""

    interpretations: list[Interpretation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Draw:
    sample: Sample
    when: dt.datetime | None
    collected: str | None
    span: TherapySpan | None


def _when(sample: Sample) -> tuple[dt.datetime | None, str | None]:
    if sample.collected_at is not None:
        at = sample.collected_at.replace(tzinfo=None)
        return at, at.isoformat(timespec="minutes")
    if sample.collected is not None:
        return dt.datetime.combine(sample.collected, dt.time()), sample.collected.isoformat()
    return None, None


class _KB:
    """The interpretation engine with one KB index and cached single-alteration calls."""

    def __init__(self) -> None:
        from kinresist.interpret._kbindex import KBIndex
        from kinresist.kb import kb_version, load_kb

        self.index = KBIndex.from_kb(load_kb())
        self.version = kb_version()
        self._calls: dict[tuple[str, str], str | None] = {}

    def finding(self, key: str, *, sample: str | None = None) -> Finding | None:
        from kinresist.interpret.readers.text import parse_finding

        try:
            return parse_finding(key, source="timeline", sample=sample)
        except InputError:
            return None

    def resistant(self, key: str, drug: str) -> str | None:
        """The KB's basis when it calls ``key`` resistant to ``drug`` (no prior therapy given:
        the call must come from evidence on the alteration, not from progression on the drug)."""
        if (key, drug) not in self._calls:
            self._calls[(key, drug)] = self._resistant(key, drug)
        return self._calls[(key, drug)]

    def _resistant(self, key: str, drug: str) -> str | None:
        from kinresist.interpret import interpret_findings

        finding = self.finding(key)
        if finding is None:
            return None
        it = interpret_findings([finding], kb=self.index)
        if not it.findings or it.findings[0].role in ("not_in_kb", "driver", "co_mutation"):
            return None
        try:
            call = it.drug(drug)
        except KeyError:
            return None
        if call.call != "resistant":
            return None
        return f"KB {self.version}: {call.basis or call.rationale}".strip()

    def interpret(
        self, findings: Sequence[Finding], *, drug: str | None, sample: Sample
    ) -> Interpretation:
        from kinresist.interpret import interpret_findings

        return interpret_findings(
            list(findings),
            kb=self.index,
            prior_therapy=drug,
            sample_type=sample.kind,
            sample=sample.label,
        )


def _points(
    session: Session, draws: dict[int, _Draw]
) -> tuple[list[Point], dict[int, list[Finding]]]:
    """Series points of every fraction measurement (and of findings no measurement covers),
    and the interpretation findings detected at each draw."""
    from sqlalchemy import select

    from kinresist.interpret.finding import Finding
    from kinresist.store.models import Finding as FindingRow
    from kinresist.store.models import Measurement

    ids = list(draws)
    rows = session.scalars(
        select(Measurement)
        .where(
            Measurement.sample_id.in_(ids),
            Measurement.quantity.in_(FRACTION_QUANTITIES),
            Measurement.alteration_key.is_not(None),
        )
        .order_by(Measurement.id)
    )
    points: list[Point] = []
    covered: set[tuple[int, str]] = set()
    for m in rows:
        d = draws[m.sample_id]
        covered.add((m.sample_id, str(m.alteration_key)))
        if d.when is None or d.collected is None:
            continue
        attrs = m.attributes or {}
        depth = attrs.get("depth_molecules")
        points.append(
            Point(
                alteration=str(m.alteration_key),
                sample=d.sample.label,
                when=d.when,
                collected=d.collected,
                assay=m.assay,
                quantity=m.quantity,
                value=m.value,
                unit=m.unit,
                ci_low=m.ci_low,
                ci_high=m.ci_high,
                lod=m.lod,
                call=m.call,
                depth=None if depth is None else int(depth),
                flags=tuple(m.flags or ()),
                drug=None if d.span is None else d.span.drug,
            )
        )
    detected: dict[int, list[Finding]] = {i: [] for i in ids}
    keys: dict[int, set[str]] = {i: set() for i in ids}
    for f in session.scalars(
        select(FindingRow).where(FindingRow.sample_id.in_(ids)).order_by(FindingRow.id)
    ):
        d = draws[f.sample_id]
        key = f.alteration_key
        if key is not None and key in keys[f.sample_id]:
            continue
        try:
            finding = Finding(
                gene=f.gene,
                alteration=f.alteration,
                kind=f.kind,  # type: ignore[arg-type]
                vaf=f.vaf,
                copy_number=f.copy_number,
                fusion_partner=f.fusion_partner,
                fusion_variant=f.fusion_variant,
                hgvs_c=f.hgvs_c,
                hgvs_p=f.hgvs_p,
                source=f.source_assay,
                sample=d.sample.label,
            )
        except ValueError:
            continue
        detected[f.sample_id].append(finding)
        if key is None:
            continue
        keys[f.sample_id].add(key)
        if (f.sample_id, key) in covered or d.when is None or d.collected is None:
            continue
        points.append(
            Point(
                alteration=key,
                sample=d.sample.label,
                when=d.when,
                collected=d.collected,
                assay=f.source_assay,
                quantity="vaf",
                value=None if f.vaf is None else 100.0 * f.vaf,
                call="detected",
                drug=None if d.span is None else d.span.drug,
            )
        )
    from kinresist.interpret.readers.text import parse_finding

    by_label = {d.sample.label: i for i, d in draws.items()}
    for p in points:  # detected measurements with no finding row (e.g. NGS VCF imports)
        sid = by_label[p.sample]
        if p.detected is not True or p.alteration in keys[sid]:
            continue
        keys[sid].add(p.alteration)
        try:
            detected[sid].append(parse_finding(p.alteration, source=p.assay, sample=p.sample))
        except InputError:
            continue
    return points, detected


def _interpretation_summary(it: Interpretation, drug: str | None) -> dict[str, Any]:
    return {
        "status": "interpreted",
        "prior_therapy": drug,
        "classification": it.classification,
        "classification_text": it.classification_text,
        "mechanisms": [
            {"id": m.get("id"), "name": m.get("name"), "category": m.get("category")}
            for m in it.mechanisms
        ],
        "findings": [fr.finding.label for fr in it.findings],
        "drugs": [{"drug": d.drug, "call": d.call, "flags": list(d.flags)} for d in it.drugs],
        "suggestion": it.suggestion,
    }


def build_timeline(
    store: Store, subject: str, *, study: str | None = None, alpha: float = 0.05
) -> TimelineResult:
    """The timeline of ``subject`` (see the module docstring)."""
    import pandas as pd

    from kinresist.monitoring.lab import ic50_rows

    kb = _KB()
    warnings: list[str] = []
    with store.session() as session:
        subj = find_subject(session, subject, study)
        spans = [
            TherapySpan(x.line_number, x.drug, x.start_date, x.end_date)
            for x in sorted(subj.therapy_lines, key=lambda x: x.line_number)
        ]
        draws: dict[int, _Draw] = {}
        for smp in subj.samples:
            when, text = _when(smp)
            span = None if when is None else current_line(spans, when.date())
            draws[smp.id] = _Draw(smp, when, text, span)
        undated = sorted(d.sample.label for d in draws.values() if d.when is None)
        if undated:
            warnings.append(
                f"samples without a collection date are left off the timeline: {', '.join(undated)}"
            )
        points, detected = _points(session, draws)
        keys = sorted({p.alteration for p in points})
        lab = {key: ic50_rows(session, alteration=key) for key in keys}
        order = sorted(
            (d for d in draws.values() if d.when is not None),
            key=lambda d: (d.when, d.sample.label),
        )
        interpretations = []
        draw_rows: list[dict[str, Any]] = []
        for d in order:
            drug = None if d.span is None else d.span.drug
            found = detected.get(d.sample.id, [])
            if found:
                it = kb.interpret(found, drug=drug, sample=d.sample)
                interpretations.append(it)
                summary = _interpretation_summary(it, drug)
            else:
                summary = {"status": "no_detected_alterations", "prior_therapy": drug}
            qc = (d.sample.attributes or {}).get("plasma_qc")
            draw_rows.append(
                {
                    "sample": d.sample.label,
                    "collected": d.collected,
                    "sample_type": d.sample.kind,
                    "timepoint": d.sample.timepoint,
                    "drug": drug,
                    "therapy_line": None if d.span is None else d.span.number,
                    "plasma_qc": qc,
                    "flags": list((qc or {}).get("flags") or []),
                    "interpretation": summary,
                }
            )
        study_name = subj.study.name
        subject_kind = subj.kind
    alerts: list[Alert] = []
    alterations: list[dict[str, Any]] = []
    for key in keys:
        mine = sorted((p for p in points if p.alteration == key), key=lambda p: (p.when, p.assay))
        alerts += emergence_alerts(key, mine)
        alerts += rising_alerts(key, mine, alpha=alpha)
        alerts += progression_alerts(key, mine, spans, kb.resistant)
        parsed = _parse(key)
        resistant_to = [s.drug for s in spans if kb.resistant(key, s.drug) is not None]
        alterations.append(
            {
                "alteration": key,
                "gene": None if parsed is None else parsed.gene,
                "kind": None if parsed is None else parsed.kind,
                "known_resistance": sorted(set(resistant_to)),
                "series": [_series_row(p) for p in mine],
                "lab": lab[key],
            }
        )
    alerts.sort(key=lambda a: (a.collected, a.kind, a.alteration))
    series = pd.DataFrame(
        [{"alteration": a["alteration"], **s} for a in alterations for s in a["series"]],
        columns=list(_SERIES_COLUMNS),
    )
    series["flags"] = series["flags"].map(lambda f: ";".join(f) if isinstance(f, list) else f)
    body: dict[str, Any] = {
        "subject": subject,
        "subject_kind": subject_kind,
        "study": study_name,
        "alpha": alpha,
        "trend_test": TEST_NAME,
        "therapy": [s.to_dict() for s in spans],
        "draws": draw_rows,
        "alterations": alterations,
        "alerts": [a.to_dict() for a in alerts],
    }
    alert_table = pd.DataFrame(
        [
            {k: a.to_dict()[k] for k in ("kind", "alteration", "sample", "collected", "reason")}
            for a in alerts
        ],
        columns=["kind", "alteration", "sample", "collected", "reason"],
    )
    draws_table = pd.DataFrame(
        [
            {
                "sample": r["sample"],
                "collected": r["collected"],
                "sample_type": r["sample_type"],
                "drug": r["drug"],
                "flags": ";".join(r["flags"]),
                "classification": r["interpretation"].get("classification"),
            }
            for r in draw_rows
        ],
        columns=["sample", "collected", "sample_type", "drug", "flags", "classification"],
    )
    return TimelineResult(
        workflow="timeline",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs={"store": f"sha256:{_digest(body)}"},
            parameters={"subject": subject, "study": study_name, "alpha": alpha},
            kb_version=kb.version,
        ),
        body=body,
        tables={"series": series, "alerts": alert_table, "draws": draws_table},
        warnings=warnings,
        interpretations=interpretations,
    )


def _series_row(p: Point) -> dict[str, Any]:
    row = p.to_dict()
    row.pop("alteration")
    return row


def _parse(key: str) -> Any:
    from kinresist.core.alteration import alteration_key

    return alteration_key(None, key)


def _digest(body: dict[str, Any]) -> str:
    """SHA-256 of the store content the timeline was built from (its series and draws)."""
    import hashlib

    from kinresist.core.serialise import to_json

    content = {k: body[k] for k in ("therapy", "draws", "alterations")}
    return hashlib.sha256(to_json(content, indent=None).encode()).hexdigest()
