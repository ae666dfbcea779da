"""Gating-ML 2.0 compliance: every gate file of the ISAC set against its per-event truth vector.

Reference: ../shared/tme-data/flow/gate_ref (FlowKit 1.3.2 data/gate_ref, BSD-3): ``data1.fcs``
(FCS 2.0, 13,367 events), ``gml/*.xml`` and ``truth/Results_<gate>.txt`` (one 0/1 per event).
The gate-file -> truth-file mapping is FlowKit's own (tests/gatingml_tests.py at release 1.3.2),
e.g. gml_rect1_gate.xml -> Results_Rectangle1.txt, gml_quadrant1_gate.xml -> four quadrant files,
gml_parent_quadrant_rect_gate.xml gate ParRectangle1 -> Results_ParQuadRect.txt,
gml_all_gates.xml -> every gate with a Results_<gate name>.txt.

Tolerance: none. Membership must equal the truth for every event of every gate.

Two files have no truth vector: ``gml_ellipse2_gate.xml`` (gate myEllipse2; neither FlowKit nor
the ISAC set ships a truth file; it is gated and checked only for running) and
``gml_range_gate_attr_testing.xml`` (the Range1 gate wrapped in a <sample> element, which the
Gating-ML 2.0 XSD does not allow; FlowKit refuses it too and does not test it): it must be
refused as invalid with the schema's message and line. The first test fails if any other file
is left unmapped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kinresist.flow import gate_samples, read_fcs, read_gating
from sharedpaths import shared_path

GATE_MAP: dict[str, dict[str, str]] = {
    "gml_range_gate.xml": {"Range1": "Range1"},
    "gml_rect1_gate.xml": {"Rectangle1": "Rectangle1"},
    "gml_rect2_gate.xml": {"Rectangle2": "Rectangle2"},
    "gml_poly1_gate.xml": {"Polygon1": "Polygon1"},
    "gml_poly2_gate.xml": {"Polygon2": "Polygon2"},
    "gml_poly3ns_gate.xml": {"Polygon3NS": "Polygon3NS"},
    "gml_ellipse1_gate.xml": {"Ellipse1": "Ellipse1"},
    "gml_ellipsoid3d_gate.xml": {"Ellipsoid3D": "Ellipsoid3D"},
    "gml_time_range_gate.xml": {"Range2": "Range2"},
    "gml_quadrant1_gate.xml": {q: q for q in ("FL2N-FL4N", "FL2N-FL4P", "FL2P-FL4N", "FL2P-FL4P")},
    "gml_quadrant2_gate.xml": {
        q: q
        for q in ("FSCN-SSCN", "FSCD-SSCN-FL1N", "FSCP-SSCN-FL1N", "FSCD-FL1P", "FSCN-SSCP-FL1P")
    },
    "gml_ratio_range1_gate.xml": {"RatRange1": "RatRange1"},
    "gml_ratio_range2_gate.xml": {"RatRange2": "RatRange2"},
    "gml_log_ratio_range1_gate.xml": {"RatRange1a": "RatRange1a"},
    "gml_boolean_and1_gate.xml": {"And1": "And1"},
    "gml_boolean_and2_gate.xml": {"And2": "And2"},
    "gml_boolean_or1_gate.xml": {"Or1": "Or1"},
    "gml_boolean_and3_complement_gate.xml": {"And3": "And3"},
    "gml_boolean_not1_gate.xml": {"Not1": "Not1"},
    "gml_boolean_and4_not_gate.xml": {"And4": "And4"},
    "gml_boolean_or2_gate.xml": {"Or2": "Or2"},
    "gml_matrix_poly4_gate.xml": {"Polygon4": "Polygon4"},
    "gml_matrix_rect3_gate.xml": {"Rectangle3": "Rectangle3"},
    "gml_matrix_rect4_gate.xml": {"Rectangle4": "Rectangle4"},
    "gml_matrix_rect5_gate.xml": {"Rectangle5": "Rectangle5"},
    "gml_transform_asinh_range1_gate.xml": {"ScaleRange1": "ScaleRange1"},
    "gml_transform_hyperlog_range2_gate.xml": {"ScaleRange2": "ScaleRange2"},
    "gml_transform_linear_range3_gate.xml": {"ScaleRange3": "ScaleRange3"},
    "gml_transform_logicle_range4_gate.xml": {"ScaleRange4": "ScaleRange4"},
    "gml_transform_logicle_range5_gate.xml": {"ScaleRange5": "ScaleRange5"},
    "gml_transform_log_range6_gate.xml": {"ScaleRange6": "ScaleRange6"},
    "gml_matrix_transform_asinh_range1c_gate.xml": {"ScaleRange1c": "ScaleRange1c"},
    "gml_matrix_transform_hyperlog_range2c_gate.xml": {"ScaleRange2c": "ScaleRange2c"},
    "gml_matrix_transform_linear_range3c_gate.xml": {"ScaleRange3c": "ScaleRange3c"},
    "gml_matrix_transform_logicle_range4c_gate.xml": {"ScaleRange4c": "ScaleRange4c"},
    "gml_matrix_transform_logicle_range5c_gate.xml": {"ScaleRange5c": "ScaleRange5c"},
    "gml_matrix_transform_asinh_range6c_gate.xml": {"ScaleRange6c": "ScaleRange6c"},
    "gml_matrix_transform_hyperlog_range7c_gate.xml": {"ScaleRange7c": "ScaleRange7c"},
    "gml_matrix_transform_logicle_range8c_gate.xml": {"ScaleRange8c": "ScaleRange8c"},
    "gml_matrix_transform_logicle_rect1_gate.xml": {"ScaleRect1": "ScaleRect1"},
    "gml_parent_poly1_boolean_and2_gate.xml": {"ParAnd2": "ParAnd2"},
    "gml_parent_range1_boolean_and3_gate.xml": {"ParAnd3": "ParAnd3"},
    "gml_parent_rect1_rect_par1_gate.xml": {"ScalePar1": "ScalePar1"},
    "gml_parent_quadrant_rect_gate.xml": {"ParRectangle1": "ParQuadRect"},
}
NO_TRUTH = {"gml_ellipse2_gate.xml"}
INVALID = {"gml_range_gate_attr_testing.xml"}


@pytest.fixture(scope="module")
def ref() -> Path:
    return shared_path("tme-data", "flow", "gate_ref")


@pytest.fixture(scope="module")
def data1(ref: Path):
    return read_fcs(ref / "data1.fcs")


def _truth(ref: Path, name: str) -> np.ndarray:
    return pd.read_csv(ref / "truth" / f"Results_{name}.txt", header=None).squeeze().to_numpy() > 0


def _membership(sg, gate_name: str) -> np.ndarray:
    keys = [k for k in sg.membership if k.rsplit("/", 1)[-1] == gate_name]
    assert len(keys) == 1, f"{gate_name}: {keys}"
    return sg.membership[keys[0]]


def test_every_gate_file_is_mapped(ref: Path) -> None:
    files = {p.name for p in (ref / "gml").glob("*.xml")} - {"gml_all_gates.xml"}
    assert files == set(GATE_MAP) | NO_TRUTH | INVALID
    assert len(files) == 46


@pytest.mark.parametrize("gml", sorted(GATE_MAP))
def test_gate_file_matches_truth_event_for_event(ref: Path, data1, gml: str) -> None:
    sg = gate_samples([data1], read_gating(ref / "gml" / gml)).samples[0]
    for gate, truth_name in GATE_MAP[gml].items():
        truth = _truth(ref, truth_name)
        got = _membership(sg, gate)
        assert got.shape == truth.shape == (13367,)
        np.testing.assert_array_equal(got, truth, err_msg=f"{gml}: {gate}")


def test_all_gates_file_every_gate_with_a_truth(ref: Path, data1) -> None:
    sg = gate_samples([data1], read_gating(ref / "gml" / "gml_all_gates.xml")).samples[0]
    truth_names = {p.stem.removeprefix("Results_") for p in (ref / "truth").glob("Results_*.txt")}
    checked = 0
    for key, mask in sg.membership.items():
        name = key.rsplit("/", 1)[-1]
        if name in truth_names:
            np.testing.assert_array_equal(mask, _truth(ref, name), err_msg=key)
            checked += 1
    assert checked == 49


def test_every_truth_vector_is_used(ref: Path) -> None:
    truth_names = {p.stem.removeprefix("Results_") for p in (ref / "truth").glob("Results_*.txt")}
    assert len(truth_names) == 51
    assert {t for m in GATE_MAP.values() for t in m.values()} == truth_names


def test_known_counts_and_percentages(ref: Path, data1) -> None:
    """SOURCE.md counts: Rectangle1 252, Polygon1 1,582, Polygon2 183, Ellipse1 203, Range1 440;
    % of parent = count / parent count (exact arithmetic); ParAnd3 under Range1 (440 events)."""
    sg = gate_samples([data1], read_gating(ref / "gml" / "gml_all_gates.xml")).samples[0]
    rows = sg.rows.set_index("gate_name")
    expected = {
        "Rectangle1": 252,
        "Polygon1": 1582,
        "Polygon2": 183,
        "Ellipse1": 203,
        "Range1": 440,
    }
    for name, count in expected.items():
        assert rows.loc[name, "count"] == count
        assert rows.loc[name, "pct_parent"] == pytest.approx(100 * count / 13367, rel=1e-12)
    assert rows.loc["ParAnd3", "parent_count"] == 440
    assert rows.loc["ParAnd3", "pct_parent"] == pytest.approx(100 * 120 / 440, rel=1e-12)
    quads = rows.loc[["FL2N-FL4N", "FL2N-FL4P", "FL2P-FL4N", "FL2P-FL4P"], "count"]
    assert quads.sum() == 13367


def test_gate_without_truth_still_runs(ref: Path, data1) -> None:
    sg = gate_samples([data1], read_gating(ref / "gml" / "gml_ellipse2_gate.xml")).samples[0]
    assert list(sg.rows["gate_name"]) == ["myEllipse2"]
    assert 0 <= int(sg.rows["count"].iloc[0]) <= 13367


def test_schema_invalid_file_is_refused(ref: Path) -> None:
    from kinresist.errors import InputError

    with pytest.raises(InputError, match=r"line 7.*Gating-ML 2.0.*'sample'"):
        read_gating(ref / "gml" / "gml_range_gate_attr_testing.xml")
