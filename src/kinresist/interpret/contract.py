"""Interpretations on the core contract: :class:`InterpretationResult`.

Body (schema 2.0): one case's fields at the top level (``sample``, ``classification``,
``findings[]``, ``drugs[]``, ``options[]``, ``investigations[]``, ...), or ``cases[]`` when the
input names several samples. Every resolved finding is a :class:`~kinresist.interpret.finding.Finding`
of the result, so the store records it under its canonical alteration key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kinresist.core import Provenance, Result
from kinresist.interpret.result import Interpretation

__all__ = ["SCHEMA_VERSION", "InterpretationResult", "interpretation_result"]

SCHEMA_VERSION = "2.0"

#: Keys of :meth:`Interpretation.to_dict` that the core envelope carries instead.
_ENVELOPE_KEYS = (
    "kind",
    "workflow",
    "schema_version",
    "kinresist_version",
    "kb_version",
    "created",
    "inputs",
    "parameters",
    "notice",
    "warnings",
    "measurements",
)


@dataclass(slots=True)
class InterpretationResult(Result):
    """A Result that also keeps the typed :class:`Interpretation` of every case."""

    interpretations: list[Interpretation] = field(default_factory=list)


def _case(it: Interpretation) -> dict[str, Any]:
    d = it.to_dict()
    for key in _ENVELOPE_KEYS:
        d.pop(key, None)
    d["kb_release_date"] = it.kb_release_date
    return d


def _drug_table(cases: Sequence[Interpretation]) -> pd.DataFrame:
    """One row per sample x drug (the columns of :data:`formatting.TSV_COLUMNS`)."""
    from kinresist.interpret.formatting import TSV_COLUMNS, drug_rows

    return pd.DataFrame(drug_rows(list(cases)), columns=list(TSV_COLUMNS))


def interpretation_result(
    cases: Sequence[Interpretation],
    *,
    inputs: Mapping[str, Any],
    parameters: Mapping[str, Any],
) -> InterpretationResult:
    """Wrap one or more interpretations (one per sample) in the core contract."""
    bodies = [_case(it) for it in cases]
    body: dict[str, Any] = bodies[0] if len(bodies) == 1 else {"cases": bodies}
    findings = []
    for it in cases:
        for fr in it.findings:
            f = fr.finding
            if f.sample is None and it.sample is not None:
                from dataclasses import replace

                f = replace(f, sample=it.sample)
            findings.append(f)
    warnings = [n for it in cases for n in it.notes if n.lower().startswith(("warning", "flag"))]
    return InterpretationResult(
        workflow="interpret",
        schema_version=SCHEMA_VERSION,
        provenance=Provenance.build(
            inputs=inputs, parameters=parameters, kb_version=cases[0].kb_version
        ),
        body=body,
        tables={"drugs": _drug_table(cases)},
        findings=findings,
        warnings=warnings,
        interpretations=list(cases),
    )
