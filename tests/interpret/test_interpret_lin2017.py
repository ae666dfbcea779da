"""Lin JJ, Riely GJ, Shaw AT. Cancer Discov 2017;7:137, Table 2 as the oracle (VERIFIED, spec section 7).

The table is encoded here independently of the KB data files. Every ``R`` cell must
give ``resistant`` and every ``T`` cell ``sensitive``, with evidence (PMID or CIViC
EID) attached; blank cells are not asserted. Footnoted cells follow the footnotes:

* G1202R x brigatinib ``T^a / R^a`` (some preclinical activity, yet G1202R found at
  brigatinib relapse): conflicting evidence by design -> ``conflict`` is True and the
  call is not ``sensitive`` (the documented conflict rule decides between
  intermediate and resistant; see docs/interpretation.md).
* G1202R x lorlatinib ``T^b`` -> sensitive.
* L1198F + C1156Y x lorlatinib ``R^c`` (compound) -> resistant, while crizotinib stays
  sensitive (L1198F re-sensitises; CIViC EID844).

Tolerance: exact (categorical calls). Reference: the verified copy of Table 2 in
../shared/specs/knowledge-base.md section 7.
"""

from __future__ import annotations

import pytest

from kinresist.interpret import interpret_findings
from kinresist.interpret.readers.text import parse_finding
from kinresist.kb import load_kb

BUNDLED = load_kb(overlays=[])  # the bundled KB only: user overlays must not change the oracle test

DRUGS = (
    "crizotinib",
    "ceritinib",
    "alectinib",
    "brigatinib",
    "lorlatinib",
    "entrectinib",
    "ensartinib",
)

# row label, mutations the row lists, cells in DRUGS order ("" = blank)
TABLE_2: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("I1151Tins", ("1151Tins",), ("R", "R", "", "T", "T", "", "")),
    ("L1152P/R", ("L1152P", "L1152R"), ("R", "R", "T", "T", "T", "", "")),
    ("C1156Y/T", ("C1156Y", "C1156T"), ("R", "R", "T", "T", "T", "T", "T")),
    ("I1171T/N", ("I1171T", "I1171N"), ("R", "T", "R", "", "T", "", "")),  # ceritinib "T (T/N)"
    ("I1171S", ("I1171S",), ("R", "", "R", "", "T", "", "")),
    ("F1174C/L/V", ("F1174C", "F1174L", "F1174V"), ("R", "R", "T", "T", "T", "", "")),
    ("V1180L", ("V1180L",), ("R", "", "R", "", "", "", "")),
    ("L1196M", ("L1196M",), ("R", "T", "T", "T", "T", "T", "T")),
    ("L1198F", ("L1198F",), ("T", "", "", "", "", "", "")),
    ("G1202R", ("G1202R",), ("R", "R", "R", "T^a/R^a", "T^b", "R", "")),
    ("S1206C/Y", ("S1206C", "S1206Y"), ("R", "T", "T", "", "T", "", "")),
    ("E1210K", ("E1210K",), ("R", "", "", "", "T", "", "")),
    ("G1269A/S", ("G1269A", "G1269S"), ("R", "T", "T", "T", "T", "", "")),
]
COMPOUND_ROWS: list[tuple[tuple[str, ...], str, str]] = [
    (("E1210K", "S1206C"), "brigatinib", "R"),
    (("E1210K", "D1203N"), "brigatinib", "R"),
    (("L1198F", "C1156Y"), "lorlatinib", "R^c"),
]

CELLS = [
    (row, mut, drug, cell)
    for row, muts, cells in TABLE_2
    for mut in muts
    for drug, cell in zip(DRUGS, cells, strict=True)
    if cell
]


def _evidence_ok(call) -> None:
    assert call.evidence, f"{call.drug}: no evidence attached"
    for e in call.evidence:
        assert e.pmid or e.civic_eid, f"{call.drug}: evidence {e.id} has neither PMID nor CIViC EID"


@pytest.mark.parametrize(
    ("row", "mutation", "drug", "cell"), CELLS, ids=[f"{m}-{d}" for _, m, d, _ in CELLS]
)
def test_lin2017_table2_single_mutations_verified(
    row: str, mutation: str, drug: str, cell: str
) -> None:
    result = interpret_findings([parse_finding(f"ALK {mutation}")], kb=BUNDLED)
    f = result.findings[0]
    assert f.match_level == "exact", f"{mutation} (row {row}) is not an exact KB match"
    call = result.drug(drug)
    if cell == "R":
        assert call.call == "resistant", (
            f"{mutation} x {drug}: Lin 2017 R, got {call.call} ({call.rationale})"
        )
    elif cell in {"T", "T^b"}:
        assert call.call == "sensitive", (
            f"{mutation} x {drug}: Lin 2017 {cell}, got {call.call} ({call.rationale})"
        )
    elif cell == "T^a/R^a":
        assert call.conflict, "G1202R x brigatinib must surface the T^a/R^a conflict"
        assert call.call in {"intermediate", "resistant"}
        assert call.conflict_note
    else:  # pragma: no cover - the table has no other cell values
        raise AssertionError(cell)
    _evidence_ok(call)


@pytest.mark.parametrize(
    ("mutations", "drug", "cell"),
    COMPOUND_ROWS,
    ids=["+".join(m) + f"-{d}" for m, d, _ in COMPOUND_ROWS],
)
def test_lin2017_table2_compound_rows_verified(
    mutations: tuple[str, ...], drug: str, cell: str
) -> None:
    result = interpret_findings([parse_finding(f"ALK {m}") for m in mutations], kb=BUNDLED)
    assert any(p.compound and p.most_specific for p in result.profiles), (
        "compound profile not matched"
    )
    call = result.drug(drug)
    assert call.call == "resistant", (
        f"{'+'.join(mutations)} x {drug}: Lin 2017 {cell}, got {call.call}"
    )
    _evidence_ok(call)
    assert all(e.precision == "exact" for e in call.evidence)
    assert any("+" in e.profile for e in call.evidence), (
        "the call must come from the compound profile"
    )


def test_lin2017_table_walk_is_complete() -> None:
    """The oracle itself: 12 single-mutation rows (I1171T/N/S split in two here to encode the
    ceritinib cell "T (T/N)"), 20 listed mutations, 90 filled cells, 3 compound rows."""
    assert len(TABLE_2) == 13
    assert sum(len(m) for _, m, _ in TABLE_2) == 20
    assert len(CELLS) == 90
    assert len(COMPOUND_ROWS) == 3
