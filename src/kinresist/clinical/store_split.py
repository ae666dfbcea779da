"""Patients split by a resistance alteration recorded from plasma in the project store.

``kinresist clinical survival FILE ... --db DB --split-by-alteration "ALK G1202R" --id-col ID``
groups the patients of FILE (``ID`` = the store's subject labels) by what the store holds for
the alteration: one :meth:`kinresist.store.Store.by_alteration` query per key, then a pure
classification (:func:`classify`) of each patient's plasma ddPCR and NGS measurements:

* ``"<key> detected"``: at least one measurement called ``detected`` at or above its LoD (a
  detection recorded without an LoD is the lab's own call, as the monitoring alerts read it);
* ``"<key> not detected"``: at least one ``not_detected`` call and no detection at all;
* left out of the split, with a warning naming how many: no plasma ddPCR/NGS measurement of the
  key (``no_measurement``), only indeterminate calls (``indeterminate``), or detections only
  below the LoD (``below_lod``). Unknown stays unknown: nobody unmeasured is counted as "not
  detected".

Findings without a measurement (an interpretation typed from a report), tissue and other
non-plasma samples, and subjects that are not patients (cell lines) are not read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from kinresist.errors import InputError

if TYPE_CHECKING:
    from kinresist.store.api import Store

__all__ = [
    "ASSAYS",
    "SAMPLE_KIND",
    "AlterationSplit",
    "PatientStatus",
    "alteration_split",
    "canonical_alteration",
    "classify",
    "rule_text",
]

#: Assays whose measurements decide a patient's status.
ASSAYS = ("ddpcr", "ngs")
#: Sample kind read (ctDNA): tissue and other samples are not.
SAMPLE_KIND = "plasma"

Status = Literal["detected", "not_detected", "no_measurement", "indeterminate", "below_lod"]
_EXCLUDED_WHY = {
    "no_measurement": "no plasma ddPCR/NGS measurement of {key}",
    "indeterminate": "only indeterminate {key} calls",
    "below_lod": "{key} detected only below the LoD",
}


def rule_text(key: str) -> str:
    """The grouping rule, as the result states it."""
    return (
        f"{key} detected: at least one plasma ddPCR or NGS measurement of {key} called detected "
        f"at or above its LoD (no LoD recorded: the lab's call); {key} not detected: at least one "
        f"plasma ddPCR/NGS 'not detected' call and no detection; patients with no such "
        f"measurement, only indeterminate calls or detections only below the LoD are left out "
        f"of the split"
    )


def canonical_alteration(text: str) -> str:
    """The store's key of ``text`` (``"ALK p.Gly1202Arg"`` -> ``"ALK G1202R"``); InputError
    when kinresist cannot name it (the same normaliser as ``kinresist store alteration``)."""
    from kinresist.core.alteration import alteration_key

    parsed = alteration_key(None, text)
    if parsed is None:
        msg = (
            f"--split-by-alteration {text!r} is not an alteration kinresist can name; write gene "
            "and change, e.g. 'ALK G1202R'"
        )
        raise InputError(msg)
    return str(parsed)


@dataclass(frozen=True, slots=True)
class PatientStatus:
    """What the store holds for one patient and the alteration."""

    subject: str
    status: Status
    detected_above_lod: int = 0
    detected_below_lod: int = 0
    not_detected: int = 0
    indeterminate: int = 0
    samples: tuple[str, ...] = ()
    assays: tuple[str, ...] = ()

    @property
    def measurements(self) -> int:
        return (
            self.detected_above_lod
            + self.detected_below_lod
            + self.not_detected
            + self.indeterminate
        )


@dataclass(frozen=True, slots=True)
class AlterationSplit:
    """Each patient's status for ``key`` (in the order of the patient table)."""

    key: str
    study: str | None
    patients: tuple[PatientStatus, ...]

    @property
    def detected_label(self) -> str:
        return f"{self.key} detected"

    @property
    def not_detected_label(self) -> str:
        return f"{self.key} not detected"

    def label(self, status: PatientStatus) -> str | None:
        """The group of a patient, None when left out of the split."""
        if status.status == "detected":
            return self.detected_label
        if status.status == "not_detected":
            return self.not_detected_label
        return None

    def labels(self) -> list[str | None]:
        return [self.label(p) for p in self.patients]

    def excluded(self) -> dict[str, list[str]]:
        """Patients left out, by reason (``no_measurement``, ``indeterminate``, ``below_lod``)."""
        out: dict[str, list[str]] = {}
        for p in self.patients:
            if self.label(p) is None:
                out.setdefault(p.status, []).append(p.subject)
        return out

    def warnings(self) -> list[str]:
        out = []
        for why, ids in self.excluded().items():
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            reason = _EXCLUDED_WHY[why].format(key=self.key)
            out.append(
                f"{len(ids)} patient{'s' if len(ids) != 1 else ''} left out of the {self.key} "
                f"split ({reason}{'' if self.study is None else f' in study {self.study!r}'}): "
                f"{shown}"
            )
        return out

    def table(self) -> pd.DataFrame:
        """One row per patient of the table: status, group and the calls counted."""
        return pd.DataFrame(
            [
                {
                    "subject": p.subject,
                    "alteration": self.key,
                    "status": p.status,
                    "group": self.label(p),
                    "measurements": p.measurements,
                    "detected_above_lod": p.detected_above_lod,
                    "detected_below_lod": p.detected_below_lod,
                    "not_detected": p.not_detected,
                    "indeterminate": p.indeterminate,
                    "samples": ";".join(p.samples),
                    "assays": ";".join(p.assays),
                }
                for p in self.patients
            ],
            columns=[
                "subject",
                "alteration",
                "status",
                "group",
                "measurements",
                "detected_above_lod",
                "detected_below_lod",
                "not_detected",
                "indeterminate",
                "samples",
                "assays",
            ],
        )

    def body(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {self.detected_label: [], self.not_detected_label: []}
        for p in self.patients:
            lab = self.label(p)
            if lab is not None:
                groups[lab].append(p.subject)
        return {
            "alteration": self.key,
            "source": "store",
            "study": self.study,
            "assays": list(ASSAYS),
            "sample_kind": SAMPLE_KIND,
            "rule": rule_text(self.key),
            "groups": groups,
            "excluded": self.excluded(),
        }


def _above_lod(row: Mapping[str, Any]) -> bool:
    """Detected at or above its LoD (``monitoring.alerts.Point.above_lod``'s rule)."""
    lod, value = row.get("lod"), row.get("value")
    if lod is None:
        return True
    return value is not None and float(value) >= float(lod)


def classify(
    rows: Iterable[Mapping[str, Any]],
    subjects: Sequence[str],
    key: str,
    *,
    study: str | None = None,
) -> AlterationSplit:
    """Each subject's status from :meth:`Store.by_alteration` rows (see the module docstring).

    Only measurement rows of patients, from plasma samples, by ddPCR or NGS, of ``study`` (when
    given) count.
    """
    per: dict[str, dict[str, Any]] = {
        s: {"above": 0, "below": 0, "nd": 0, "ind": 0, "samples": set(), "assays": set()}
        for s in subjects
    }
    for r in rows:
        if r.get("record") != "measurement" or r.get("subject") not in per:
            continue
        if r.get("subject_kind") != "patient" or r.get("sample_kind") != SAMPLE_KIND:
            continue
        if str(r.get("assay") or "").lower() not in ASSAYS:
            continue
        if study is not None and r.get("study") != study:
            continue
        c = per[str(r["subject"])]
        call = r.get("call")
        if call == "detected":
            c["above" if _above_lod(r) else "below"] += 1
        elif call == "not_detected":
            c["nd"] += 1
        else:
            c["ind"] += 1
        c["samples"].add(str(r.get("sample")))
        c["assays"].add(str(r.get("assay")).lower())
    out = []
    for s in subjects:
        c = per[s]
        status: Status
        if c["above"]:
            status = "detected"
        elif c["below"]:
            status = "below_lod"
        elif c["nd"]:
            status = "not_detected"
        elif c["ind"]:
            status = "indeterminate"
        else:
            status = "no_measurement"
        out.append(
            PatientStatus(
                subject=s,
                status=status,
                detected_above_lod=c["above"],
                detected_below_lod=c["below"],
                not_detected=c["nd"],
                indeterminate=c["ind"],
                samples=tuple(sorted(c["samples"])),
                assays=tuple(sorted(c["assays"])),
            )
        )
    return AlterationSplit(key=key, study=study, patients=tuple(out))


def alteration_split(
    store: Store, key: str, subjects: Sequence[str], *, study: str | None = None
) -> AlterationSplit:
    """Classify ``subjects`` for ``key`` from one store query; InputError when no patient has
    a plasma ddPCR/NGS measurement of it (naming the studies that do, if any)."""
    rows = store.by_alteration(key)  # every study: to point at the right one if ``study`` has none
    split = classify(rows, subjects, key, study=study)
    if all(p.status == "no_measurement" for p in split.patients):
        elsewhere = sorted(
            {str(r["study"]) for r in rows if r.get("subject") in set(subjects)} - {study or ""}
        )
        where = "" if study is None else f" in study {study!r}"
        hint = (
            f"; the store has {key} records of these patients in {elsewhere}: pass --study"
            if study is not None and elsewhere
            else "; record their plasma ddPCR/NGS results first (kinresist study import) or "
            "check --id-col and --study"
        )
        msg = (
            f"--split-by-alteration {key!r}: none of the {len(subjects)} patients has a plasma "
            f"ddPCR or NGS measurement of {key}{where} in {store.url}{hint}"
        )
        raise InputError(msg)
    return split
