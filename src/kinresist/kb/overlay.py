"""Write a CIViC import as a KB overlay folder (validated before it replaces anything)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import yaml

from kinresist._version import __version__
from kinresist.errors import KnowledgeBaseError
from kinresist.kb.civic_import import CivicImport, now_iso

__all__ = ["write_overlay"]


def _dump(path: Path, header: str, data: object) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(header + text, encoding="utf-8")


def write_overlay(
    imp: CivicImport,
    out_dir: str | os.PathLike[str],
    *,
    base_kb_version: str,
    kb_path: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``out_dir/<imp.name>/{overlay,content}.yaml`` and return that folder.

    The overlay is first written to a temporary folder next to the target and loaded
    together with the KB at ``kb_path`` (default bundled): a schema or integrity problem
    raises :class:`KnowledgeBaseError` and leaves any previous overlay of that name intact.
    Re-importing the same file replaces the overlay (idempotent).
    """
    from kinresist.kb.loader import load_kb

    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    target = root / imp.name
    tmp = Path(tempfile.mkdtemp(prefix=f".{imp.name}.", dir=root))
    try:
        staged = tmp / imp.name
        staged.mkdir()
        _dump(
            staged / "overlay.yaml",
            "# kinresist KB overlay: CIViC import (CC0 content). Regenerate with kinresist kb import-civic.\n",
            {
                "name": imp.name,
                "source_file": imp.source_file,
                "source_sha256": imp.source_sha256,
                "source_schema": imp.schema,
                "imported_at": now_iso(),
                "kinresist_version": __version__,
                "base_kb_version": base_kb_version,
                "counts": imp.counts,
            },
        )
        _dump(
            staged / "content.yaml",
            "# Imported from CIViC; status CIVIC-IMPORT. Skipped rows are listed with the reason.\n",
            {
                "drugs": imp.drugs,
                "alterations": imp.alterations,
                "profiles": imp.profiles,
                "evidence": imp.evidence,
                "skipped": imp.skipped,
            },
        )
        load_kb(kb_path, overlays=[staged])  # validates schema + integrity
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    except KnowledgeBaseError:
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
