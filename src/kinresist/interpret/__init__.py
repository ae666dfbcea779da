"""Resistance interpretation: findings in, a referenced per-drug answer out.

>>> from kinresist.interpret import Finding, interpret_findings
>>> result = interpret_findings([Finding("ALK", "G1202R", "substitution")])  # doctest: +SKIP
>>> result.drug("lorlatinib").call  # doctest: +SKIP
'sensitive'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinresist.interpret.finding import Finding

__all__ = ["Finding", "Interpretation", "interpret_findings", "parse_finding"]


# lazy: importing the package (the CLI reads its workflow.py at start) stays cheap
def __getattr__(name: str) -> Any:
    if name == "Finding":
        from kinresist.interpret.finding import Finding

        return Finding
    if name == "interpret_findings":
        from kinresist.interpret.engine import interpret_findings

        return interpret_findings
    if name == "Interpretation":
        from kinresist.interpret.result import Interpretation

        return Interpretation
    if name == "parse_finding":
        from kinresist.interpret.readers.text import parse_finding

        return parse_finding
    msg = f"module 'kinresist.interpret' has no attribute {name!r}"
    raise AttributeError(msg)
