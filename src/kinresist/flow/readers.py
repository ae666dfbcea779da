"""Flow-cytometry inputs: FCS files, compensation matrices, Gating-ML 2.0 and FlowJo 10 workspaces.

Everything is read through FlowKit (BSD-3; FCS parsing by flowio). This module only checks the
inputs at the edge and turns every parsing failure into an :class:`~kinresist.errors.InputError`
naming the file, what was found, what was expected and the likely fix:

* FCS: the 58-byte header must say ``FCS2.0``, ``FCS3.0`` or ``FCS3.1``; the data segment must be
  inside the file (a truncated transfer is the usual cause when it is not).
* Compensation: ``"gating"`` (what the gating file says: Gating-ML ``compensation-ref`` per
  dimension, ``FCS`` meaning the file's ``$SPILLOVER``/``SPILL``; a workspace's own matrix), or a
  matrix (CSV/TSV with detector names as the header row, or an array with ``detectors``) that
  replaces every compensation reference of the gating file.
* Gating: the XML root decides: ``<Workspace>`` is a FlowJo workspace, ``<Gating-ML>`` a Gating-ML
  2.0 document.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from kinresist.errors import InputError

if TYPE_CHECKING:
    import flowkit as fk

__all__ = [
    "FCS_VERSIONS",
    "GatingSource",
    "read_compensation",
    "read_fcs",
    "read_gating",
]

FCS_VERSIONS = ("FCS2.0", "FCS3.0", "FCS3.1")


def _flowio_errors() -> tuple[type[BaseException], ...]:
    import struct

    from flowio import exceptions as fio_exc

    return (
        ValueError,
        KeyError,
        IndexError,
        struct.error,
        UnicodeDecodeError,
        fio_exc.FlowIOException,
    )


def read_fcs(path: str | PathLike[str], *, sample_id: str | None = None) -> fk.Sample:
    """Read one FCS 2.0/3.0/3.1 file as a FlowKit ``Sample`` (id = file name unless given).

    Raises
    ------
    InputError
        Not an FCS file, an unsupported version, or a truncated / inconsistent file.
    """
    import flowkit as fk

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        msg = f"cannot read the FCS file ({exc.strerror or exc})"
        raise InputError(msg, path=p) from exc
    head = raw[:6].decode("ascii", errors="replace")
    if len(raw) < 58 or not head.startswith("FCS"):
        msg = (
            f"not an FCS file: the header starts with {raw[:10]!r} ({len(raw)} bytes), expected "
            "'FCS2.0', 'FCS3.0' or 'FCS3.1'; export the sample from the cytometer software as FCS"
        )
        raise InputError(msg, path=p)
    if head not in FCS_VERSIONS:
        msg = f"unsupported FCS version {head!r}; supported: {', '.join(FCS_VERSIONS)}"
        raise InputError(msg, path=p)
    try:
        with io.BytesIO(raw) as fh:
            fh.name = p.name  # type: ignore[misc]
            sample = fk.Sample(fh, sample_id=sample_id or p.name, filename_as_id=True)
    except _flowio_errors() as exc:
        msg = (
            f"cannot parse {head} file ({len(raw):,} bytes): {exc}; the file looks truncated or "
            "corrupt (an interrupted copy?) - copy it again from the acquisition computer"
        )
        raise InputError(msg, path=p) from exc
    if sample.event_count == 0:
        msg = "the FCS file holds no events ($TOT = 0)"
        raise InputError(msg, path=p)
    return sample


def read_compensation(
    source: str | PathLike[str] | np.ndarray,
    *,
    detectors: Sequence[str] | None = None,
) -> fk.Matrix:
    """A spillover matrix from a CSV/TSV file (header = detector names) or an array + detectors."""
    import flowkit as fk

    if isinstance(source, np.ndarray):
        arr = np.asarray(source, dtype=float)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            msg = f"a spillover matrix must be square, got shape {arr.shape}"
            raise InputError(msg)
        if detectors is None or len(detectors) != arr.shape[0]:
            msg = (
                f"a {arr.shape[0]}x{arr.shape[1]} spillover array needs {arr.shape[0]} detector "
                f"names, got {None if detectors is None else len(detectors)}"
            )
            raise InputError(msg)
        return fk.Matrix(arr, list(detectors))
    import pandas as pd

    p = Path(source)
    if not p.is_file():
        msg = "compensation matrix file not found"
        raise InputError(msg, path=p)
    try:
        frame = pd.read_csv(p, sep=None, engine="python")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = f"cannot read a spillover matrix ({exc})"
        raise InputError(msg, path=p) from exc
    first = frame.columns[0]
    if frame[first].dtype == object:  # row labels in the first column
        frame = frame.set_index(first)
    try:
        spill = frame.to_numpy(dtype=float)
    except ValueError as exc:
        msg = (
            f"spillover matrix values must be numbers ({exc}); expected a CSV/TSV with the "
            "detector names (PnN) as the header row and one row per detector (FlowJo 'export "
            "matrix' format)"
        )
        raise InputError(msg, path=p) from exc
    detectors_found = [str(c).strip() for c in frame.columns]
    if spill.shape[0] != spill.shape[1]:
        msg = f"spillover matrix must be square, got {spill.shape[0]} rows x {spill.shape[1]} detectors"
        raise InputError(msg, path=p)
    if not np.all(np.isfinite(spill)) or not np.allclose(np.diag(spill), 1.0, atol=1e-6):
        msg = "spillover matrix diagonal must be 1 and every value finite (is it a % matrix?)"
        raise InputError(msg, path=p)
    return fk.Matrix(spill, detectors_found)


@dataclass
class GatingSource:
    """A gating definition: one Gating-ML strategy, or a FlowJo workspace's per-sample strategies.

    ``flowjo_counts`` holds, for workspaces, FlowJo's own event count per (sample, gate path) as
    saved in the ``.wsp`` (FlowJo computes polygon/ellipse statistics on binned data, so these
    are a comparison, not a truth).
    """

    kind: Literal["gatingml", "flowjo"]
    path: Path
    strategy: fk.GatingStrategy | None = None
    workspace_path: Path | None = None
    group: str | None = None
    flowjo_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    flowjo_samples: tuple[str, ...] = ()


def xml_bytes(p: Path) -> io.BytesIO:
    """The file's bytes as a nameless stream, for lxml and FlowKit (which would otherwise
    encode the path, and a file name that is not valid UTF-8 cannot be)."""
    return io.BytesIO(p.read_bytes())


def _xml_root_tag(p: Path) -> str:
    from lxml import etree

    root: str | None = None
    try:
        # the whole document is read: a file cut mid-tag is refused here, not by a later parse
        for _event, el in etree.iterparse(xml_bytes(p), events=("start",)):
            tag = str(el.tag)
            if ":" in tag and not tag.startswith("{"):
                # lxml keeps a prefix whose xmlns declaration is missing in the name
                prefix = tag.partition(":")[0]
                msg = (
                    f"element <{tag}> uses the namespace prefix {prefix!r}, which is never "
                    f"declared (xmlns:{prefix}=...); the file is damaged or cut from a larger "
                    "document: expected a Gating-ML 2.0 file or a FlowJo 10 .wsp"
                )
                raise InputError(msg, path=p, line=el.sourceline)
            if root is None:
                root = tag.rpartition("}")[2]
    except etree.XMLSyntaxError as exc:
        msg = f"not well-formed XML ({exc}); expected a Gating-ML 2.0 file or a FlowJo 10 .wsp"
        raise InputError(msg, path=p, line=exc.lineno) from exc
    if root is not None:
        return root
    msg = "empty XML document; expected a Gating-ML 2.0 file or a FlowJo 10 .wsp"
    raise InputError(msg, path=p)


def read_gating(path: str | PathLike[str], *, group: str = "All Samples") -> GatingSource:
    """Read a Gating-ML 2.0 document or a FlowJo 10 workspace (``group`` selects its samples)."""
    import flowkit as fk

    p = Path(path)
    if not p.is_file():
        msg = "gating file not found"
        raise InputError(msg, path=p)
    root = _xml_root_tag(p)
    if root == "Workspace":
        counts = _flowjo_counts(p)
        return GatingSource(
            kind="flowjo",
            path=p,
            workspace_path=p,
            group=group,
            flowjo_counts=counts,
            flowjo_samples=tuple(sorted({s for s, _ in counts})),
        )
    if root != "Gating-ML":
        msg = f"XML root <{root}> is neither <Gating-ML> (Gating-ML 2.0) nor <Workspace> (FlowJo)"
        raise InputError(msg, path=p)
    schema_error = _schema_error(p)
    if schema_error is not None:
        line, text = schema_error
        msg = (
            f"not a valid Gating-ML 2.0 document (XML schema): {text}; fix the element or "
            "re-export the gates from the cytometry software"
        )
        raise InputError(msg, path=p, line=line)
    try:
        strategy = fk.parse_gating_xml(xml_bytes(p))
    except (ValueError, KeyError, LookupError, AttributeError, TypeError) as exc:
        msg = f"cannot parse the Gating-ML 2.0 document: {exc}"
        raise InputError(msg, path=p) from exc
    return GatingSource(kind="gatingml", path=p, strategy=strategy)


def _schema_error(p: Path) -> tuple[int | None, str] | None:
    """(line, message) of the first Gating-ML 2.0 XSD violation, or None when valid."""
    from flowkit._resources import gml_schema
    from lxml import etree

    doc = etree.parse(xml_bytes(p))
    if gml_schema.validate(doc):
        return None
    err = gml_schema.error_log.last_error
    if err is None:
        return None, "schema validation failed"
    first = next(iter(gml_schema.error_log), err)
    return first.line, first.message


def _flowjo_counts(p: Path) -> dict[tuple[str, str], int]:
    """FlowJo's saved counts: (sample name, "/"-joined population path) -> count."""
    from lxml import etree

    out: dict[tuple[str, str], int] = {}
    tree = etree.parse(xml_bytes(p))
    for node in tree.iter("SampleNode"):
        sample = node.get("name", "")

        def walk(el: Any, parents: tuple[str, ...], sample: str = sample) -> None:
            subs = el.find("Subpopulations")
            if subs is None:
                return
            for pop in subs:
                if pop.tag not in ("Population", "AndNode", "OrNode", "NotNode"):
                    continue
                path = (*parents, pop.get("name", ""))
                count = pop.get("count")
                if count is not None and count.lstrip("-").isdigit() and int(count) >= 0:
                    out[sample, "/".join(path)] = int(count)
                walk(pop, path)

        walk(node, ("root",))
    return out
