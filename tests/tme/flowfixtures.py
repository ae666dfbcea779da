"""Synthetic flow fixtures written by the tests: a compensated 7-colour mouse TME panel (FCS 3.1 via
flowio, or its header rewritten to FCS 3.0) and a FlowJo-10-style workspace with gates drawn on the
compensated channels (``Comp-PE-A`` etc.), the FlowKit #265 case.

Nothing here comes from FlowJo: the workspace follows the element layout of FlowJo 10.x files
(FlowKit data/8_color_data_set/*.wsp) and its saved ``count`` attributes are set by this module
(the CD8+ polygon's count is deliberately 2 events off, standing in for FlowJo's binned count).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHANNELS = ["FSC-A", "SSC-A", "FITC-A", "PE-A", "APC-A", "PE-Cy7-A", "BV421-A"]
MARKERS = ["", "", "CD45", "CD3", "CD8", "CD11b", "Ly6G"]
FLUO = CHANNELS[2:]
#: spillover (row = source detector, column = receiving detector), FCS $SPILLOVER convention
SPILL = np.array(
    [
        [1.0, 0.25, 0.0, 0.02, 0.0],
        [0.01, 1.0, 0.30, 0.10, 0.0],
        [0.0, 0.02, 1.0, 0.05, 0.0],
        [0.0, 0.05, 0.03, 1.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.0],
    ]
)
CD8_POLY = [(2000.0, 1500.0), (60000.0, 1500.0), (60000.0, 60000.0), (2000.0, 60000.0)]
CELLS_POLY = [(20000.0, 5000.0), (120000.0, 5000.0), (120000.0, 90000.0), (20000.0, 90000.0)]


def make_events(seed: int = 3) -> np.ndarray:
    """Raw (uncompensated) events: true signal x SPILL, plus beads and debris."""
    rng = np.random.default_rng(seed)

    def pop(n: int, fsc: float, ssc: float, fl: list[float]) -> np.ndarray:
        scatter = np.column_stack([rng.normal(fsc, 6000, n), rng.normal(ssc, 5000, n)])
        true = np.column_stack([rng.lognormal(np.log(max(m, 1.0)), 0.25, n) for m in fl])
        return np.hstack([scatter, true])

    parts = [
        pop(600, 70000, 30000, [8000, 9000, 12000, 150, 100]),  # CD8 T (CD45+CD3+CD8+)
        pop(900, 70000, 30000, [8000, 9000, 200, 150, 100]),  # CD4 T: CD3 bright, CD8- (spills)
        pop(400, 75000, 60000, [7000, 150, 150, 9000, 8000]),  # neutrophils CD11b+Ly6G+
        pop(700, 80000, 40000, [7000, 150, 150, 5000, 120]),  # myeloid CD11b+Ly6G-
        pop(500, 65000, 30000, [150, 120, 100, 100, 100]),  # CD45- tumour cells
        pop(300, 8000, 120000, [30000, 30000, 30000, 30000, 30000]),  # counting beads
        pop(300, 5000, 2000, [50, 50, 50, 50, 50]),  # debris
    ]
    ev = np.vstack(parts)
    ev = ev[rng.permutation(ev.shape[0])]
    ev[:, 2:] = ev[:, 2:] @ SPILL
    return np.clip(ev, 1.0, 262143.0)


def write_fcs(path: Path, events: np.ndarray, *, version: str = "3.1") -> Path:
    import flowio

    spill = ",".join([str(len(FLUO)), *FLUO, *(f"{v:.6g}" for v in SPILL.ravel())])
    with path.open("wb") as fh:
        flowio.create_fcs(
            fh,
            events.astype(np.float32).ravel().tolist(),
            CHANNELS,
            opt_channel_names=MARKERS,
            metadata_dict={"SPILLOVER": spill},
        )
    if version != "3.1":
        raw = bytearray(path.read_bytes())
        raw[0:6] = f"FCS{version}".encode()
        path.write_bytes(bytes(raw))
    return path


def compensate(events: np.ndarray) -> np.ndarray:
    comp = events.copy()
    comp[:, 2:] = events[:, 2:] @ np.linalg.inv(SPILL)
    return comp


def _inside(points: np.ndarray, poly: list[tuple[float, float]]) -> np.ndarray:
    from matplotlib.path import Path as MplPath

    return MplPath(np.asarray(poly)).contains_points(points)


def expected_masks(events: np.ndarray, *, compensated: bool = True) -> dict[str, np.ndarray]:
    """Membership computed here with NumPy (the FlowKit-independent truth for the workspace)."""
    ev = compensate(events) if compensated else events
    cells = _inside(ev[:, [0, 1]], CELLS_POLY)
    cd45 = cells & (ev[:, 2] >= 2000)
    cd3 = cd45 & (ev[:, 3] >= 2000)
    cd8 = cd3 & _inside(ev[:, [3, 4]], CD8_POLY)
    neut = cd45 & (ev[:, 5] >= 2000) & (ev[:, 6] >= 2000)
    beads = (ev[:, 0] < 20000) & (ev[:, 1] >= 90000)
    return {
        "root/Cells": cells,
        "root/Cells/CD45+": cd45,
        "root/Cells/CD45+/CD3+": cd3,
        "root/Cells/CD45+/CD3+/CD8+": cd8,
        "root/Cells/CD45+/CD11b+ Ly6G+": neut,
        "root/Beads": beads,
    }


_NS = (
    'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
    'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" '
    'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"'
)


def _rect(dims: list[tuple[str, float | None, float | None]]) -> str:
    out = ['<gating:RectangleGate eventsInside="1">']
    for name, lo, hi in dims:
        attrs = "".join(
            f' gating:{k}="{v}"' for k, v in (("min", lo), ("max", hi)) if v is not None
        )
        out.append(
            f'<gating:dimension{attrs}><data-type:fcs-dimension data-type:name="{name}" />'
            "</gating:dimension>"
        )
    out.append("</gating:RectangleGate>")
    return "".join(out)


def _poly(x: str, y: str, vertices: list[tuple[float, float]]) -> str:
    out = ['<gating:PolygonGate eventsInside="1">']
    for name in (x, y):
        out.append(
            f'<gating:dimension><data-type:fcs-dimension data-type:name="{name}" />'
            "</gating:dimension>"
        )
    for vx, vy in vertices:
        out.append(
            f'<gating:vertex><gating:coordinate data-type:value="{vx}" />'
            f'<gating:coordinate data-type:value="{vy}" /></gating:vertex>'
        )
    out.append("</gating:PolygonGate>")
    return "".join(out)


def _pop(name: str, count: int, gate: str, children: str = "") -> str:
    subs = f"<Subpopulations>{children}</Subpopulations>" if children else ""
    return (
        f'<Population name="{name}" annotation="" owningGroup="" count="{count}">'
        f'<Gate gating:id="ID{abs(hash(name)) % 10**9}">{gate}</Gate>{subs}</Population>'
    )


def write_workspace(path: Path, fcs_name: str, events: np.ndarray) -> Path:
    masks = expected_masks(events)
    n = {k: int(v.sum()) for k, v in masks.items()}
    matrix = [
        '<transforms:spilloverMatrix spectral="0" prefix="Comp-" name="Acquisition-defined" '
        'editable="0" status="FINALIZED" transforms:id="m1" suffix="">'
    ]
    matrix.append("<data-type:parameters>")
    matrix += [
        f'<data-type:parameter data-type:name="{d}" userProvidedCompInfix="Comp-{d}" />'
        for d in FLUO
    ]
    matrix.append("</data-type:parameters>")
    for i, src in enumerate(FLUO):
        matrix.append(f'<transforms:spillover data-type:parameter="{src}">')
        matrix += [
            f'<transforms:coefficient data-type:parameter="{dst}" '
            f'transforms:value="{SPILL[i, j]:.6g}" />'
            for j, dst in enumerate(FLUO)
        ]
        matrix.append("</transforms:spillover>")
    matrix.append("</transforms:spilloverMatrix>")
    cd8 = _pop(
        "CD8+",
        n["root/Cells/CD45+/CD3+/CD8+"] + 2,
        _poly("Comp-PE-A", "Comp-APC-A", CD8_POLY),
    )
    cd3 = _pop("CD3+", n["root/Cells/CD45+/CD3+"], _rect([("Comp-PE-A", 2000, None)]), cd8)
    neut = _pop(
        "CD11b+ Ly6G+",
        n["root/Cells/CD45+/CD11b+ Ly6G+"],
        _rect([("Comp-PE-Cy7-A", 2000, None), ("Comp-BV421-A", 2000, None)]),
    )
    cd45 = _pop("CD45+", n["root/Cells/CD45+"], _rect([("Comp-FITC-A", 2000, None)]), cd3 + neut)
    cells = _pop("Cells", n["root/Cells"], _poly("FSC-A", "SSC-A", CELLS_POLY), cd45)
    beads = _pop("Beads", n["root/Beads"], _rect([("FSC-A", None, 20000), ("SSC-A", 90000, None)]))
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<Workspace version="20.0" flowJoVersion="10.8.1" {_NS}>
<Groups>
<GroupNode name="All Samples" annotation="" owningGroup="All Samples">
<Group name="All Samples"><SampleRefs><SampleRef sampleID="1" /></SampleRefs></Group>
</GroupNode>
</Groups>
<SampleList>
<Sample>
<DataSet uri="{fcs_name}" sampleID="1" />
{"".join(matrix)}
<Transformations></Transformations>
<Keywords><Keyword name="$FIL" value="{fcs_name}" /></Keywords>
<SampleNode name="{fcs_name}" annotation="" owningGroup="" count="{events.shape[0]}" sampleID="1">
<Subpopulations>{cells}{beads}</Subpopulations>
</SampleNode>
</Sample>
</SampleList>
</Workspace>
"""
    path.write_text(xml, encoding="utf-8")
    return path
