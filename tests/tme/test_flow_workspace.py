"""FlowJo workspace gating (FlowKit #265 case), FCS versions, compensation, named populations,
absolute counts and bad input.

The workspace and FCS files are synthetic (tests/tme/flowfixtures.py): a 7-colour mouse panel
with a known spillover matrix; FlowJo-style gates drawn on ``Comp-`` channels. Truth is computed
independently with NumPy (compensation = raw @ inv(SPILL); matplotlib point-in-polygon) and must
equal our membership event for event. Arithmetic outputs (% of parent, % of CD45+, cells/µL,
log2 ratio) are checked exactly (rel 1e-12) against their formulas on those counts.
"""

from __future__ import annotations

import math
from pathlib import Path

import flowfixtures as ff
import numpy as np
import pandas as pd
import pytest

from kinresist.errors import InputError
from kinresist.flow import (
    FLOWJO_BINNING_CAVEAT,
    analyze_flow_files,
    gate_markers,
    gate_samples,
    read_compensation,
    read_fcs,
    read_gating,
)
from sharedpaths import shared_path


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("flow")
    events = ff.make_events()
    fcs = ff.write_fcs(d / "tumour_01.fcs", events)
    wsp = ff.write_workspace(d / "panel.wsp", "tumour_01.fcs", events)
    sheet = d / "sheet.csv"
    pd.DataFrame(
        {"sample": ["tumour_01.fcs"], "subject": ["M1"], "beads_added": [10000], "volume_ul": [50]}
    ).to_csv(sheet, index=False)
    return {"dir": d, "events": events, "fcs": fcs, "wsp": wsp, "sheet": sheet}


def test_fcs_versions(panel, tmp_path: Path) -> None:
    s31 = read_fcs(panel["fcs"])
    assert s31.version == "3.1"
    s30 = read_fcs(ff.write_fcs(tmp_path / "v30.fcs", panel["events"], version="3.0"))
    assert s30.version == "3.0"
    s20 = read_fcs(shared_path("tme-data", "flow", "gate_ref", "data1.fcs"))
    assert s20.version == "2.0"
    assert s20.event_count == 13367
    np.testing.assert_allclose(
        s30.get_events(source="raw"), s31.get_events(source="raw"), rtol=0, atol=0
    )


def test_workspace_gates_on_compensated_channels_issue_265(panel) -> None:
    """FlowJo saves gates on compensated data as Comp-<detector>; membership must be computed on
    the compensated events (NumPy truth), not the raw ones, event for event."""
    sg = gate_samples([read_fcs(panel["fcs"])], read_gating(panel["wsp"])).samples[0]
    truth = ff.expected_masks(panel["events"])
    raw = ff.expected_masks(panel["events"], compensated=False)
    for key, mask in truth.items():
        np.testing.assert_array_equal(sg.membership[key], mask, err_msg=key)
    cd8 = "root/Cells/CD45+/CD3+/CD8+"
    assert truth[cd8].sum() == 600
    assert raw[cd8].sum() != truth[cd8].sum()  # the fixture discriminates raw from compensated
    rows = sg.rows.set_index("population")
    assert rows.loc[cd8, "channels"] == "Comp-PE-A, Comp-APC-A"
    assert rows.loc[cd8, "flowjo_count"] == 602
    assert rows.loc[cd8, "flowjo_diff_pct"] == pytest.approx(100 * (600 - 602) / 602, rel=1e-12)
    assert rows.loc["root/Cells/CD45+", "flowjo_diff_pct"] == 0


def test_user_matrix_replaces_the_workspace_matrix(panel, tmp_path: Path) -> None:
    """An identity matrix = no compensation: membership must then equal the raw-data truth."""
    path = tmp_path / "identity.csv"
    pd.DataFrame(np.eye(len(ff.FLUO)), columns=ff.FLUO).to_csv(path, index=False)
    matrix = read_compensation(path)
    sg = gate_samples(
        [read_fcs(panel["fcs"])], read_gating(panel["wsp"]), compensation=matrix
    ).samples[0]
    raw = ff.expected_masks(panel["events"], compensated=False)
    for key, mask in raw.items():
        np.testing.assert_array_equal(sg.membership[key], mask, err_msg=key)


def test_named_populations_absolute_counts_and_ratio(panel) -> None:
    res = analyze_flow_files([panel["fcs"]], panel["wsp"], samples=panel["sheet"], plots=False)
    named = res.tables["named_populations"].set_index("population")
    truth = {k: int(v.sum()) for k, v in ff.expected_masks(panel["events"]).items()}
    n45, n8 = truth["root/Cells/CD45+"], truth["root/Cells/CD45+/CD3+/CD8+"]
    nn, nb = truth["root/Cells/CD45+/CD11b+ Ly6G+"], truth["root/Beads"]
    assert named.loc["cd8_t", "gate"] == "root/Cells/CD45+/CD3+/CD8+"
    assert named.loc["neutrophils", "gate"] == "root/Cells/CD45+/CD11b+ Ly6G+"
    assert named.loc["cd8_t", "pct_cd45"] == pytest.approx(100 * n8 / n45, rel=1e-12)
    assert named.loc["neutrophils", "pct_cd45"] == pytest.approx(100 * nn / n45, rel=1e-12)
    assert named.loc["cd8_t", "cells_per_ul"] == pytest.approx(n8 / nb * 10000 / 50, rel=1e-12)
    ratio = res.tables["cd8_neutrophil"].iloc[0]
    assert ratio["pseudocount"] == 0.5
    assert ratio["log2_cd8_neutrophil"] == pytest.approx(
        math.log2((n8 + 0.5) / (nn + 0.5)), rel=1e-12
    )
    pops = res.tables["populations"].set_index("population")
    assert pops.loc["root/Cells/CD45+/CD3+", "pct_cd45"] == pytest.approx(
        100 * truth["root/Cells/CD45+/CD3+"] / n45, rel=1e-12
    )
    assert math.isnan(pops.loc["root/Beads", "pct_cd45"])  # not under CD45+: undefined
    body = res.to_dict()
    assert body["caveats"] == [FLOWJO_BINNING_CAVEAT]
    assert "binned" in FLOWJO_BINNING_CAVEAT
    assert body["cd8_neutrophil"]["pseudocount_events"] == 0.5
    quantities = {(m.target, m.quantity) for m in res.measurements}
    assert ("CD8+ T cells", "pct_of_cd45") in quantities
    assert ("CD8+ T cells / neutrophils", "log2_ratio") in quantities
    assert all(m.subject == "M1" for m in res.measurements)


def test_human_neutrophil_definitions_and_marker_parsing() -> None:
    assert gate_markers("CD45+ CD15+ CD16+") == ({"CD45", "CD15", "CD16"}, set())
    assert gate_markers("Ly6G hi") == ({"LY6G"}, set())
    assert gate_markers("CD4- CD8+") == ({"CD8"}, {"CD4"})
    assert gate_markers("CD8 T cells") == ({"CD8", "CD3"}, set())
    assert gate_markers("CD80+") == (set(), set())
    assert gate_markers("Q2: Comp-APC-A+ , Comp-PE-A-", {"APC-A": "CD8", "PE-A": "CD4"}) == (
        {"CD8"},
        {"CD4"},
    )


def test_gating_figure(panel) -> None:
    res = analyze_flow_files([panel["fcs"]], panel["wsp"])
    assert len(res.figures) == 1
    svg = res.figures[0].svg
    assert svg is not None
    assert "<svg" in svg
    assert len(svg) < 2_000_000  # densities rasterised, not one vector box per bin


# -- bad input -----------------------------------------------------------------------------------


def test_truncated_fcs(panel, tmp_path: Path) -> None:
    raw = Path(panel["fcs"]).read_bytes()
    bad = tmp_path / "cut.fcs"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"cut\.fcs.*truncated"):
        read_fcs(bad)


def test_not_an_fcs(tmp_path: Path) -> None:
    bad = tmp_path / "x.fcs"
    bad.write_text("sample,CD8\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="not an FCS file"):
        read_fcs(bad)


def test_gate_on_missing_channel(panel, tmp_path: Path) -> None:
    gml = tmp_path / "gate.xml"
    gml.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating"
    xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">
  <gating:RectangleGate gating:id="CD8pos">
    <gating:dimension gating:compensation-ref="uncompensated" gating:min="100">
      <data-type:fcs-dimension data-type:name="BUV395-A" />
    </gating:dimension>
  </gating:RectangleGate>
</gating:Gating-ML>
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"'CD8pos'.*'BUV395-A'.*does not have"):
        gate_samples([read_fcs(panel["fcs"])], read_gating(gml))


def test_sample_not_in_workspace(panel, tmp_path: Path) -> None:
    other = ff.write_fcs(tmp_path / "other.fcs", panel["events"])
    with pytest.raises(InputError, match=r"'other\.fcs' is not in group 'All Samples'"):
        gate_samples([read_fcs(other)], read_gating(panel["wsp"]))


def test_not_gating_xml(tmp_path: Path) -> None:
    bad = tmp_path / "g.xml"
    bad.write_text("<root/>", encoding="utf-8")
    with pytest.raises(InputError, match="neither <Gating-ML>"):
        read_gating(bad)


def test_workspace_feature_flowkit_cannot_read(panel, monkeypatch: pytest.MonkeyPatch) -> None:
    """FlowKit raises NotImplementedError for features it does not read yet (spectral
    matrices, some transforms, FlowJo ellipses with transformations): the error says so and
    points to the Gating-ML export, instead of calling a valid workspace damaged."""
    import flowkit

    def unsupported(*_a: object, **_k: object) -> None:
        raise NotImplementedError("FlowJo ellipse with transformations is not yet supported")

    monkeypatch.setattr(flowkit, "Workspace", unsupported)
    with pytest.raises(InputError, match=r"cannot read yet \(FlowJo ellipse.*Gating-ML 2\.0") as ei:
        gate_samples([read_fcs(panel["fcs"])], read_gating(panel["wsp"]))
    assert "damaged" not in str(ei.value)
    assert ei.value.path == str(panel["wsp"])
