"""KB file locations and YAML reading (no pydantic: cheap enough for ``kb_version``)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kinresist.errors import KnowledgeBaseError

__all__ = ["DATA_DIR", "base_version", "default_overlay_dir", "discover_overlays", "read_yaml"]

DATA_DIR = Path(__file__).parent / "data"

try:  # the C loader is ~10x faster when libyaml is present
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def default_overlay_dir() -> Path:
    """Where ``kb import-civic`` writes overlays by default and ``load_kb`` finds them.

    ``$KINRESIST_KB_DIR/overlays`` when set, else ``<user data dir>/kinresist/kb/overlays``.
    """
    base = os.environ.get("KINRESIST_KB_DIR")
    if base:
        return Path(base) / "overlays"
    import platformdirs

    return Path(platformdirs.user_data_dir("kinresist")) / "kb" / "overlays"


def discover_overlays(paths: Iterable[str | os.PathLike[str]] | None = None) -> tuple[Path, ...]:
    """Overlay directories: each path is an overlay or a folder of overlays (sorted)."""
    roots = [default_overlay_dir()] if paths is None else [Path(p) for p in paths]
    found: list[Path] = []
    for root in roots:
        if (root / "overlay.yaml").is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(sorted(p.parent for p in root.glob("*/overlay.yaml")))
        elif paths is not None:
            msg = f"KB overlay {root} not found (expected a folder with overlay.yaml)"
            raise KnowledgeBaseError(msg)
    return tuple(found)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        msg = f"KB file {path} is missing"
        raise KnowledgeBaseError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"KB file {path} is not UTF-8 text (byte {exc.start})"
        raise KnowledgeBaseError(msg) from exc
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"KB file {path}{where}: YAML syntax error: {problem}"
        raise KnowledgeBaseError(msg) from exc


def base_version(path: str | os.PathLike[str] | None = None) -> str:
    """The ``kb_version`` of a KB directory's ``version.yaml`` (without overlays)."""
    base = Path(path) if path is not None else DATA_DIR
    data = read_yaml(base / "version.yaml")
    if not isinstance(data, dict) or "kb_version" not in data:
        msg = f"KB file {base / 'version.yaml'}: no kb_version"
        raise KnowledgeBaseError(msg)
    return str(data["kb_version"])
