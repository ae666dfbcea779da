"""Curated knowledge base of kinase-inhibitor resistance (ALK, EGFR, KRAS, MET, ROS1, FAK).

Public API::

    from kinresist.kb import load_kb, kb_version
    kb = load_kb()                      # bundled KB + overlays in the user KB dir (cached)
    kb.version                          # "2026.11.0" or "2026.11.0+civic-2025-10"
    kb.find_alterations("ALK", "p.Gly1202Arg")      # (Alteration ALK:G1202R,)
    kb.alterations_by_genomic("GRCh38", "chr2", 29220747, "C", "T")
    kb.evidence_for_profile("ALK:G1202R")
    kb.drug("PF-06463922").name         # "lorlatinib"

See :class:`kinresist.kb.knowledge_base.KnowledgeBase` for every lookup, and
docs/knowledge-base.md for the curation policy. Importing this package is cheap: the
loader, pydantic and the data files are touched only when a function is called.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinresist.kb.knowledge_base import KnowledgeBase

__all__ = ["KnowledgeBase", "kb_version", "load_kb"]


def load_kb(
    path: str | os.PathLike[str] | None = None,
    *,
    overlays: Sequence[str | os.PathLike[str]] | None = None,
) -> KnowledgeBase:
    """Load (cached) and validate a knowledge base; see :func:`kinresist.kb.loader.load_kb`."""
    from kinresist.kb.loader import load_kb as _load

    return _load(path, overlays=overlays)


def kb_version(
    path: str | os.PathLike[str] | None = None,
    *,
    overlays: Sequence[str | os.PathLike[str]] | None = None,
) -> str:
    """Version of the KB that :func:`load_kb` with the same arguments would load.

    Cheap: reads ``version.yaml`` and the overlay folder names only (no validation),
    e.g. ``"2026.11.0"`` or ``"2026.11.0+civic-2025-10"``.
    """
    from kinresist.kb._files import base_version, discover_overlays

    version = base_version(path)
    names = [p.name for p in discover_overlays(overlays)]
    return version + ("+" + "+".join(names) if names else "")


def __getattr__(name: str) -> object:
    if name == "KnowledgeBase":
        from kinresist.kb.knowledge_base import KnowledgeBase

        return KnowledgeBase
    msg = f"module 'kinresist.kb' has no attribute {name!r}"
    raise AttributeError(msg)
