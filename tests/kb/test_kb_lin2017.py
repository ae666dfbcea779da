"""Lin, Riely & Shaw 2017 (Cancer Discov 7:137) Table 2 is in the KB cell by cell (VERIFIED).

Oracle: the table as transcribed in spec knowledge-base.md section 7 (copied here, not read
from the KB data). T -> sensitive, R -> resistant; footnoted cells as the footnotes say.
"""

from __future__ import annotations

import pytest

from kinresist.kb import load_kb

DRUGS = [
    "crizotinib",
    "ceritinib",
    "alectinib",
    "brigatinib",
    "lorlatinib",
    "entrectinib",
    "ensartinib",
]
# (row, [profiles], cells) -- profiles are KB profile ids
TABLE = [
    ("I1151Tins", ["ALK:T1151dup"], ["R", "R", "", "T", "T", "", ""]),
    ("L1152P/R", ["ALK:L1152P", "ALK:L1152R"], ["R", "R", "T", "T", "T", "", ""]),
    ("C1156Y/T", ["ALK:C1156Y", "ALK:C1156T"], ["R", "R", "T", "T", "T", "T", "T"]),
    (
        "I1171T/N/S",
        ["ALK:I1171T", "ALK:I1171N", "ALK:I1171S"],
        ["R", "T(T/N)", "R", "", "T", "", ""],
    ),
    ("F1174C/L/V", ["ALK:F1174C", "ALK:F1174L", "ALK:F1174V"], ["R", "R", "T", "T", "T", "", ""]),
    ("V1180L", ["ALK:V1180L"], ["R", "", "R", "", "", "", ""]),
    ("L1196M", ["ALK:L1196M"], ["R", "T", "T", "T", "T", "T", "T"]),
    ("L1198F", ["ALK:L1198F"], ["T", "", "", "", "", "", ""]),
    ("G1202R", ["ALK:G1202R"], ["R", "R", "R", "T^a/R^a", "T^b", "R", ""]),
    ("S1206C/Y", ["ALK:S1206C", "ALK:S1206Y"], ["R", "T", "T", "", "T", "", ""]),
    ("E1210K", ["ALK:E1210K"], ["R", "", "", "", "T", "", ""]),
    ("G1269A/S", ["ALK:G1269A", "ALK:G1269S"], ["R", "T", "T", "T", "T", "", ""]),
    ("E1210K+S1206C", ["ALK:S1206C+ALK:E1210K"], ["", "", "", "R", "", "", ""]),
    ("E1210K+D1203N", ["ALK:D1203N+ALK:E1210K"], ["", "", "", "R", "", "", ""]),
    ("L1198F+C1156Y", ["ALK:C1156Y+ALK:L1198F"], ["", "", "", "", "R^c", "", ""]),
]


def _expected(profile: str, cell: str) -> set[str]:
    if cell == "T(T/N)":
        return {"sensitive"} if profile in {"ALK:I1171T", "ALK:I1171N"} else set()
    effects = set()
    for part in cell.split("/"):
        if part.startswith("T"):
            effects.add("sensitive")
        elif part.startswith("R"):
            effects.add("resistant")
    return effects


def _cases():
    for row, profiles, cells in TABLE:
        for profile in profiles:
            for drug, cell in zip(DRUGS, cells, strict=True):
                yield pytest.param(profile, drug, cell, id=f"{row}-{profile}-{drug}")


@pytest.mark.parametrize(("profile", "drug", "cell"), list(_cases()))
def test_lin2017_cell_VERIFIED(profile: str, drug: str, cell: str) -> None:
    """Each table cell (empty cells included) maps to exactly the expected Lin 2017 items."""
    kb = load_kb(overlays=())
    items = [
        e
        for e in kb.evidence_for_profile(profile)
        if e.pmid == "28122866" and e.drugs == (drug,) and e.id.startswith("LIN17-")
    ]
    assert {e.effect for e in items} == _expected(profile, cell)
    for e in items:
        assert e.status == "VERIFIED"
        assert "Lin" in e.source
        assert "Table 2" in e.source
        assert e.model_system == "review"
        assert e.level == ("D" if e.effect == "sensitive" else "C")


def test_lin2017_footnotes_VERIFIED() -> None:
    """Footnote a gives conflicting brigatinib/G1202R items; b and c are noted."""
    kb = load_kb(overlays=())
    brig = [
        e
        for e in kb.evidence_for_profile("ALK:G1202R")
        if e.id.startswith("LIN17-") and e.drugs == ("brigatinib",)
    ]
    assert sorted(e.effect for e in brig) == ["resistant", "sensitive"]
    assert all("footnote a" in e.note for e in brig)
    (lor,) = [
        e
        for e in kb.evidence_for_profile("ALK:G1202R")
        if e.id.startswith("LIN17-") and e.drugs == ("lorlatinib",)
    ]
    assert lor.effect == "sensitive"
    assert "footnote b" in lor.note
    (comp,) = [
        e for e in kb.evidence_for_profile("ALK:C1156Y+ALK:L1198F") if e.id.startswith("LIN17-")
    ]
    assert comp.effect == "resistant"
    assert comp.drugs == ("lorlatinib",)
    assert "footnote c" in comp.note


def test_lin2017_total_items_VERIFIED() -> None:
    """Item count equals the number of (mutation, drug, mark) triples in the table."""
    kb = load_kb(overlays=())
    expected = sum(
        len(_expected(p, c)) for _, profiles, cells in TABLE for p in profiles for c in cells
    )
    assert len([e for e in kb.evidence if e.id.startswith("LIN17-")]) == expected
