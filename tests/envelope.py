"""The top-level keys every workflow's JSON carries (docs/formats.md, "The envelope"): one
list for the contract tests, written here from the documentation rather than read from the
library, so that a key the library drops fails them."""

from __future__ import annotations

ENVELOPE = frozenset(
    {
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
    }
)
