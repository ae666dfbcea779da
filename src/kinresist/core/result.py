"""The result contract: what every workflow's library entry point returns.

A :class:`Result` carries

* the workflow name and the ``schema_version`` of its body,
* :class:`Provenance` (package and KB versions, parameters, SHA-256 of every input),
* ``body``: the workflow's own JSON (documented per workflow in docs/formats.md),
* ``tables``: tidy :class:`pandas.DataFrame` tables (the first is the primary one, written by
  ``--format tsv|parquet``),
* ``measurements``: :class:`Measurement` rows that the store records and that join across
  workflows by alteration key (ddPCR fractional abundance, NGS VAF, a line's IC50),
* ``findings``: :class:`kinresist.interpret.finding.Finding` values,
* ``figures`` and ``warnings``.

One serialiser (:mod:`kinresist.core.serialise`) writes every result as JSON, TSV or Parquet
with the same envelope::

    {"workflow", "schema_version", "kinresist_version", "kb_version", "created",
     "inputs": {name: "sha256:..."}, "parameters", "notice", "warnings", "measurements", ...body}
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kinresist._version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from kinresist.interpret.finding import Finding

__all__ = [
    "CALLS",
    "Call",
    "Figure",
    "Measurement",
    "Provenance",
    "Result",
]

Call = Literal["detected", "not_detected", "indeterminate"]
CALLS: tuple[str, ...] = ("detected", "not_detected", "indeterminate")


def _finite_or_none(value: Any, what: str) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        msg = f"{what} must be a number, got {value!r}"
        raise ValueError(msg) from exc
    return v if math.isfinite(v) else None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a result came from: code, knowledge base, options and the exact input bytes."""

    kinresist_version: str
    kb_version: str | None
    created: str
    inputs: Mapping[str, str]
    parameters: Mapping[str, Any]

    @classmethod
    def build(
        cls,
        *,
        inputs: Mapping[str, str | bytes | PathLike[str] | Path] | None = None,
        parameters: Mapping[str, Any] | None = None,
        kb_version: str | None = None,
    ) -> Provenance:
        """Hash the inputs (paths are streamed; ``bytes`` hashed; ``"sha256:..."`` kept).

        ``inputs`` maps a display name to a path, bytes, or an existing ``sha256:`` digest.
        """
        from kinresist.provenance import _kb_version, file_sha256, text_sha256

        hashes: dict[str, str] = {}
        for name, value in dict(inputs or {}).items():
            if isinstance(value, bytes):
                hashes[str(name)] = text_sha256(value)
            elif isinstance(value, str) and value.startswith("sha256:"):
                hashes[str(name)] = value
            else:
                path = Path(value)
                hashes[str(name)] = file_sha256(path) if path.is_file() else _dir_sha256(path)
        return cls(
            kinresist_version=__version__,
            kb_version=kb_version if kb_version is not None else _kb_version(),
            created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            inputs=hashes,
            parameters=dict(parameters or {}),
        )


def _dir_sha256(path: Path) -> str:
    """SHA-256 over a folder's files (sorted relative names and their digests)."""
    import hashlib

    from kinresist.provenance import file_sha256

    if not path.is_dir():
        msg = f"{path}: no such file or folder"
        raise FileNotFoundError(2, msg, str(path))
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(path).as_posix()}\0{file_sha256(f)}\n".encode())
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True, slots=True)
class Measurement:
    """One quantity measured on one sample, for the store and cross-workflow joins.

    ``alteration`` is the canonical key text (``"ALK G1202R"``, see
    :func:`kinresist.core.alteration.alteration_key`) or None when the quantity is not about an
    alteration (a wild-type channel, an ELISA analyte). ``value`` None with ``call``
    ``"not_detected"`` and ``lod`` set is how "below LoD (value)" is said; it is never 0.
    """

    assay: str
    target: str
    quantity: str
    value: float | None
    unit: str = ""
    subject: str | None = None
    sample: str | None = None
    alteration: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    lod: float | None = None
    lob: float | None = None
    call: Call | None = None
    flags: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("value", "ci_low", "ci_high", "lod", "lob"):
            object.__setattr__(self, name, _finite_or_none(getattr(self, name), name))
        if self.call is not None and self.call not in CALLS:
            msg = f"Measurement.call must be one of {CALLS}, got {self.call!r}"
            raise ValueError(msg)
        object.__setattr__(self, "flags", tuple(self.flags))

    def as_row(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "sample": self.sample,
            "assay": self.assay,
            "target": self.target,
            "alteration": self.alteration,
            "quantity": self.quantity,
            "value": self.value,
            "unit": self.unit,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "lod": self.lod,
            "lob": self.lob,
            "call": self.call,
            "flags": ";".join(self.flags),
        }


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure of a result: SVG text and PNG bytes (matplotlib) and/or a plotly figure (JSON)."""

    name: str
    caption: str = ""
    svg: str | None = None
    plotly: Mapping[str, Any] | None = None
    png: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_matplotlib(
        cls, fig: Any, name: str, caption: str = "", *, png_dpi: int | None = 150
    ) -> Figure:
        """Render a matplotlib figure to SVG text and close it.

        A PNG (at ``png_dpi``) is rendered too only when figure files were asked for
        (:data:`WANT_PNG`, set by the CLI's ``--figures``): reports embed the SVG.
        """
        if not WANT_PNG.get():
            png_dpi = None
        import io

        import matplotlib.pyplot as plt

        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
        png = None
        if png_dpi is not None:
            raw = io.BytesIO()
            fig.savefig(raw, format="png", dpi=png_dpi, bbox_inches="tight")
            png = raw.getvalue()
        plt.close(fig)
        return cls(name=name, caption=caption, svg=buf.getvalue(), png=png)


#: True while a caller wants PNG files of figures (the CLI's ``--figures DIR``).
WANT_PNG: ContextVar[bool] = ContextVar("kinresist_want_png", default=False)

#: Column of :meth:`Result.measurements_frame`, in order.
MEASUREMENT_COLUMNS = tuple(Measurement("a", "t", "q", None).as_row())


@dataclass(slots=True)
class Result:
    """What a workflow returns (see the module docstring)."""

    workflow: str
    schema_version: str
    provenance: Provenance
    body: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    # -- views ------------------------------------------------------------------
    @property
    def primary_table(self) -> pd.DataFrame:
        """The first table, or the measurements as a table when there is none."""
        if self.tables:
            return next(iter(self.tables.values()))
        return self.measurements_frame()

    def measurements_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [m.as_row() for m in self.measurements], columns=list(MEASUREMENT_COLUMNS)
        )

    def envelope(self) -> dict[str, Any]:
        """The header every output of every workflow starts with."""
        from kinresist.provenance import RESEARCH_USE_NOTICE

        p = self.provenance
        return {
            "workflow": self.workflow,
            "schema_version": self.schema_version,
            "kinresist_version": p.kinresist_version,
            "kb_version": p.kb_version,
            "created": p.created,
            "inputs": dict(p.inputs),
            "parameters": dict(p.parameters),
            "notice": RESEARCH_USE_NOTICE,
            "warnings": list(self.warnings),
        }

    def to_dict(self) -> dict[str, Any]:
        """Envelope + measurements + body (body keys never override the envelope)."""
        out = self.envelope()
        out["measurements"] = [m.as_row() for m in self.measurements]
        for key, value in self.body.items():
            if key in out:
                msg = f"result body key {key!r} collides with the envelope"
                raise ValueError(msg)
            out[key] = value
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        from kinresist.core.serialise import to_json

        return to_json(self.to_dict(), indent=indent)

    def to_tsv(self, table: str | None = None) -> str:
        from kinresist.core.serialise import table_to_tsv

        frame = self.primary_table if table is None else self.tables[table]
        return table_to_tsv(frame, self.envelope())

    def write(
        self,
        path: str | PathLike[str],
        fmt: Literal["json", "tsv", "parquet"] | None = None,
        *,
        table: str | None = None,
    ) -> list[Path]:
        """Write the result as JSON, TSV or Parquet (``fmt`` or the file's suffix).

        HTML is rendered by :mod:`kinresist.reports` (reports only render; the library never
        imports them).

        Parquet writes the primary table (or ``table``) to ``path`` with the envelope in the
        file's metadata, and every other table beside it as ``<stem>.<table>.parquet``.
        """
        from kinresist.core.serialise import write_result

        return write_result(self, Path(path), fmt, table=table)

    def add_warning(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def with_measurements(self, rows: Sequence[Measurement]) -> Result:
        self.measurements.extend(rows)
        return self
