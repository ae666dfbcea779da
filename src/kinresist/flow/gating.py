"""Apply a gating definition to samples: per sample x population counts and percentages.

FlowKit (``GatingStrategy.gate_sample``) computes every gate on exact events: rectangle, range,
polygon, ellipse(oid), quadrant, ratio and Boolean gates, compensation by the gate's
``compensation-ref`` and the Gating-ML transforms (logicle, hyperlog, asinh, log, linear). The
ISAC Gating-ML 2.0 compliance set is reproduced event for event (tests/tme/test_flow_gatingml.py).

FlowJo workspaces are gated with the per-sample strategy FlowKit builds from the ``.wsp``. FlowJo
gates drawn on compensated channels are saved with the compensation prefix (``Comp-APC-A``);
FlowKit strips the prefix and gates the compensated data with the workspace's matrix (FlowKit
#265 reports the *dimension names* it then shows are the raw ones; membership is computed on the
compensated events - tested in tests/tme/test_flow_workspace.py). The population table reports
the channel as drawn (``Comp-`` prefix restored).

**FlowJo computes polygon and ellipse statistics on binned data** (a 256- or 1024-channel
display grid), so its counts differ slightly from exact-event counts (usually <= 1 %; FlowKit
#113/#173/#194, flowWorkspace #252/#356). Rectangle gates agree exactly. The counts FlowJo saved
in a workspace are reported beside ours (``flowjo_count``), never substituted for them.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinresist.errors import InputError
from kinresist.flow.readers import GatingSource, xml_bytes

if TYPE_CHECKING:
    import flowkit as fk

__all__ = [
    "FLOWJO_BINNING_CAVEAT",
    "POPULATION_COLUMNS",
    "FlowGating",
    "SampleGating",
    "gate_samples",
]

FLOWJO_BINNING_CAVEAT = (
    "FlowJo computes polygon and ellipse gate statistics on binned (display-resolution) data; "
    "kinresist (FlowKit) counts exact events, so polygon/ellipse counts can differ from FlowJo's "
    "by up to about 1 % (FlowKit #113/#173/#194). Rectangle and quadrant gates agree exactly. "
    "FlowJo's own counts, when the workspace holds them, are shown beside ours, not substituted."
)

#: Columns of the per sample x population table, in order.
POPULATION_COLUMNS = (
    "sample",
    "population",
    "gate_name",
    "gate_type",
    "parent",
    "level",
    "channels",
    "count",
    "parent_count",
    "pct_parent",
    "pct_total",
    "pct_cd45",
    "flowjo_count",
    "flowjo_diff_pct",
)


@dataclass
class SampleGating:
    """One sample gated: the population rows and the per-gate event membership."""

    sample_id: str
    n_events: int
    rows: pd.DataFrame
    membership: dict[str, np.ndarray]
    strategy: fk.GatingStrategy
    fk_sample: fk.Sample
    gates: dict[str, Any] = field(default_factory=dict)


@dataclass
class FlowGating:
    """All samples gated with one gating definition."""

    source: GatingSource
    samples: list[SampleGating]
    compensation: str

    @property
    def table(self) -> pd.DataFrame:
        frames = [s.rows for s in self.samples]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# -- compensation --------------------------------------------------------------------------------


def _gate_dims(gate: Any) -> list[Any]:
    return list(getattr(gate, "dimensions", []) or [])


def _use_matrix(strategy: fk.GatingStrategy, matrix: fk.Matrix) -> fk.GatingStrategy:
    """A copy of ``strategy`` whose every compensated dimension uses ``matrix``."""
    gs = copy.deepcopy(strategy)
    gs.add_comp_matrix("kinresist_user_matrix", matrix)
    for name, path in gs.get_gate_ids():
        gate = _get_gate(gs, name, path)
        if gate is None:
            continue
        for dim in _gate_dims(gate):
            if getattr(dim, "compensation_ref", None) not in (None, "uncompensated"):
                dim.compensation_ref = "kinresist_user_matrix"
    return gs


def _get_gate(gs: fk.GatingStrategy, name: str, path: tuple[str, ...]) -> Any:
    from flowkit.exceptions import QuadrantReferenceError

    try:
        return gs.get_gate(name, path)
    except QuadrantReferenceError:
        return None


# -- channel check -------------------------------------------------------------------------------


def _check_channels(gs: fk.GatingStrategy, sample: fk.Sample, where: str) -> None:
    from flowkit import QuadrantDivider, RatioDimension

    pnn = list(sample.pnn_labels)
    pns = [s for s in sample.pns_labels if s]
    known = set(pnn) | set(pns) | {label.replace("/", "_") for label in pnn}
    for name, path in gs.get_gate_ids():
        gate = _get_gate(gs, name, path)
        if gate is None:
            continue
        for dim in _gate_dims(gate):
            if isinstance(dim, RatioDimension):
                xform = gs.transformations.get(dim.ratio_ref)
                wanted = list(getattr(xform, "dimensions", []) or [])
            elif isinstance(dim, QuadrantDivider):
                wanted = [dim.dimension_ref]
            else:
                wanted = [dim.id]
            for channel in wanted:
                if channel in known:
                    continue
                ref = getattr(dim, "compensation_ref", None)
                matrix = gs.comp_matrices.get(ref) if ref not in (None, "uncompensated") else None
                if matrix is not None and channel in list(matrix.fluorochromes):
                    continue
                msg = (
                    f"gate {name!r} ({'/'.join(path)}) of {where} is drawn on channel "
                    f"{channel!r}, which sample {sample.id!r} does not have; its channels are "
                    f"{', '.join(pnn)} (markers: {', '.join(pns) or 'none'}). Was the wrong panel, "
                    "file or gating template used?"
                )
                raise InputError(msg)


# -- gating --------------------------------------------------------------------------------------


def _population_rows(
    sample: fk.Sample,
    gs: fk.GatingStrategy,
    res: Any,
    source: GatingSource,
    drawn_names: dict[str, str],
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, Any]]:
    report = res.report.sort_values(["level"], kind="mergesort")
    n = int(sample.event_count)
    membership: dict[str, np.ndarray] = {}
    gates: dict[str, Any] = {}
    entries = []
    for row in report.itertuples(index=False):
        rpath = tuple(row.gate_path)
        qparent = row.quadrant_parent if isinstance(row.quadrant_parent, str) else None
        full = (*rpath, qparent, row.gate_name) if qparent else (*rpath, row.gate_name)
        key = "/".join(full)
        mask = np.asarray(res.get_gate_membership(row.gate_name, gate_path=rpath), dtype=bool)
        membership[key] = mask
        gate_obj = _get_gate(gs, qparent or row.gate_name, rpath)
        gates[key] = gate_obj
        entries.append((key, full, row, mask))
    rows = []
    for key, full, row, mask in entries:
        parent_key = "/".join(full[:-2] if full[-2:-1] and _is_quadrant(gates, full) else full[:-1])
        parent_mask = membership.get(parent_key)
        parent_count = n if parent_key == "root" or parent_mask is None else int(parent_mask.sum())
        count = int(mask.sum())
        channels = _channels(gates.get(key), drawn_names)
        fj = source.flowjo_counts.get((sample.id, key)) if source.kind == "flowjo" else None
        rows.append(
            {
                "sample": sample.id,
                "population": key,
                "gate_name": row.gate_name,
                "gate_type": row.gate_type,
                "parent": parent_key.rsplit("/", 1)[-1],
                "level": int(row.level),
                "channels": channels,
                "count": count,
                "parent_count": parent_count,
                "pct_parent": 100.0 * count / parent_count if parent_count else np.nan,
                "pct_total": 100.0 * count / n if n else np.nan,
                "pct_cd45": np.nan,
                "flowjo_count": fj,
                "flowjo_diff_pct": (
                    100.0 * (count - fj) / fj if fj is not None and fj > 0 else np.nan
                ),
            }
        )
    frame = pd.DataFrame(rows, columns=list(POPULATION_COLUMNS))
    frame["flowjo_count"] = frame["flowjo_count"].astype("Int64")
    return frame, membership, gates


def _is_quadrant(gates: dict[str, Any], full: tuple[str, ...]) -> bool:
    """Whether ``full`` names one quadrant of a quadrant gate (root/.../Quadrant1/FL2P-FL4P)."""
    from flowkit import gates as fk_gates

    gate = gates.get("/".join(full))
    return isinstance(gate, fk_gates.QuadrantGate)


def _channels(gate: Any, drawn_names: dict[str, str]) -> str:
    from flowkit import QuadrantDivider, RatioDimension

    if gate is None:
        return ""
    names = []
    for dim in _gate_dims(gate):
        if isinstance(dim, RatioDimension):
            names.append(f"ratio:{dim.ratio_ref}")
        elif isinstance(dim, QuadrantDivider):
            names.append(drawn_names.get(dim.dimension_ref, dim.dimension_ref))
        else:
            names.append(drawn_names.get(dim.id, dim.id))
    if getattr(gate, "gate_type", "") == "BooleanGate":
        names = [f"{r['ref']}{' (not)' if r.get('complement') else ''}" for r in gate.gate_refs]
        return f"{gate.type}(" + ", ".join(names) + ")"
    return ", ".join(names)


def _workspace_strategies(
    source: GatingSource, samples: Sequence[fk.Sample]
) -> tuple[dict[str, fk.GatingStrategy], dict[str, dict[str, str]]]:
    import flowkit as fk

    assert source.workspace_path is not None
    try:
        wsp = fk.Workspace(
            xml_bytes(source.workspace_path),
            fcs_samples=list(samples),
            load_missing_file_data=True,
        )
    except NotImplementedError as exc:  # FlowKit's own limits (spectral matrices, transforms)
        msg = (
            f"the FlowJo workspace uses a feature FlowKit cannot read yet ({exc}); export the "
            "gates from FlowJo as Gating-ML 2.0 and pass that file to --gates instead"
        )
        raise InputError(msg, path=source.workspace_path) from exc
    except (
        ValueError,
        KeyError,
        LookupError,
        AttributeError,
        TypeError,
    ) as exc:  # FlowKit walks the XML: a missing element is an AttributeError
        msg = (
            f"cannot read the FlowJo workspace ({exc or type(exc).__name__}); expected a FlowJo "
            "10 .wsp: the file is damaged or was edited, export it again from FlowJo"
        )
        raise InputError(msg, path=source.workspace_path) from exc
    wanted = {s.id for s in samples}
    try:
        in_group = set(wsp.get_sample_ids(group_name=source.group, loaded_only=False))
    except KeyError:
        groups = ", ".join(map(repr, wsp.get_sample_groups())) or "none"
        msg = f"the workspace has no sample group {source.group!r} (groups: {groups}); pass --group"
        raise InputError(msg, path=source.workspace_path) from None
    strategies: dict[str, fk.GatingStrategy] = {}
    drawn: dict[str, dict[str, str]] = {}
    for sid in sorted(wanted):
        if sid not in in_group:
            msg = (
                f"sample {sid!r} is not in group {source.group!r} of the workspace; the group "
                f"holds {', '.join(sorted(in_group)) or 'no samples'} (FCS files are matched to "
                "the workspace by file name)"
            )
            raise InputError(msg, path=source.workspace_path)
        strategies[sid] = wsp.get_gating_strategy(sid)
        comp = wsp.get_comp_matrix(sid)
        names: dict[str, str] = {}
        if comp is not None:
            prefix, suffix = _wsp_prefix(source, sid)
            for det in comp.detectors:
                names[det] = f"{prefix}{det}{suffix}"
        drawn[sid] = names
    return strategies, drawn


def _wsp_prefix(source: GatingSource, sample_id: str) -> tuple[str, str]:
    from lxml import etree

    assert source.workspace_path is not None
    tree = etree.parse(xml_bytes(source.workspace_path))
    for sample_el in tree.iter("Sample"):
        node = sample_el.find("SampleNode")
        if node is None or node.get("name") != sample_id:
            continue
        for el in sample_el:
            if etree.QName(el).localname == "spilloverMatrix":
                return el.get("prefix", ""), el.get("suffix", "")
    return "", ""


def gate_samples(
    samples: Sequence[fk.Sample],
    source: GatingSource,
    *,
    compensation: fk.Matrix | None = None,
) -> FlowGating:
    """Gate every sample with ``source`` (a Gating-ML strategy or a FlowJo workspace).

    Parameters
    ----------
    samples
        FlowKit samples (:func:`kinresist.flow.readers.read_fcs`); ids must be unique.
    source
        :func:`kinresist.flow.readers.read_gating`.
    compensation
        None: compensate as the gating file says; a matrix replaces every compensation reference.

    Raises
    ------
    InputError
        Duplicate sample ids, a gate on a channel a sample lacks, a sample missing from the
        workspace group, or a gating failure FlowKit reports.
    """
    ids = [s.id for s in samples]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        msg = f"sample ids must be unique, got duplicates {dup} (two files with the same name?)"
        raise InputError(msg)
    if not samples:
        msg = "no FCS files given"
        raise InputError(msg)
    if source.kind == "gatingml":
        assert source.strategy is not None
        base = source.strategy
        if compensation is not None:
            base = _use_matrix(base, compensation)
        strategies = {s.id: base for s in samples}
        drawn: dict[str, dict[str, str]] = {s.id: {} for s in samples}
        comp_text = "user matrix" if compensation is not None else "as the Gating-ML file says"
    else:
        strategies, drawn = _workspace_strategies(source, samples)
        if compensation is not None:
            strategies = {k: _use_matrix(v, compensation) for k, v in strategies.items()}
        comp_text = "user matrix" if compensation is not None else "workspace matrix"
    out = []
    where = f"{source.path.name}"
    for sample in samples:
        gs = strategies[sample.id]
        _check_channels(gs, sample, where)
        try:
            res = gs.gate_sample(sample)
        except (LookupError, ValueError, NotImplementedError) as exc:
            msg = f"gating sample {sample.id!r} with {where} failed: {exc}"
            raise InputError(msg) from exc
        rows, membership, gates = _population_rows(sample, gs, res, source, drawn[sample.id])
        out.append(
            SampleGating(
                sample_id=sample.id,
                n_events=int(sample.event_count),
                rows=rows,
                membership=membership,
                strategy=gs,
                fk_sample=sample,
                gates=gates,
            )
        )
    return FlowGating(source=source, samples=out, compensation=comp_text)
