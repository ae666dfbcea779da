"""Uploaded files and server-side data paths, handled so that neither can reach outside its folder.

* An uploaded file is written into a fresh private folder (``<work>/uploads/<random>/f<k>/``)
  under a name *derived* from the client's: the last path component only, characters outside
  a small safe set replaced, no leading dots, at most 120 characters. The client's name is never
  used as a path; it only keeps the suffix (``.csv``, ``.vcf.gz``) and the well names that
  instrument exports carry in their file names.
* A zip upload is checked before anything reads it: at most :data:`MAX_ZIP_MEMBERS` members and
  ``max_unzipped_bytes`` uncompressed in total (a zip bomb is refused with 413), and members are
  extracted (for folder inputs) flat, under derived names, never by their stored paths.
* A server data path (BAMs are too large to upload) is relative to the configured data folder;
  absolute paths, ``..`` components and symlinks leading outside the folder are refused. A path
  a workflow writes (``blot simulate --write-to``, ``ngs align --out``) may not exist yet: its
  nearest existing folder must lie inside the data folder, and the workflow creates the rest.
"""

from __future__ import annotations

import re
import secrets
import shutil
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO, Protocol

from kinresist.errors import InputError

__all__ = [
    "MAX_ZIP_MEMBERS",
    "UploadArea",
    "UploadTooLarge",
    "resolve_data_path",
    "resolve_data_target",
    "safe_filename",
]

MAX_ZIP_MEMBERS = 20_000
_SAFE = re.compile(r"[^\w.\-+()\[\] ,@=]", re.UNICODE)
_MAX_NAME = 120


class UploadTooLarge(Exception):
    """An upload (or what a zip would unpack to) exceeds the configured limit."""


class UploadLike(Protocol):
    """What starlette's UploadFile offers (and a test's stand-in)."""

    filename: str | None
    file: IO[bytes]


def safe_filename(name: str | None, *, fallback: str = "upload") -> str:
    """A file name derived from a client-supplied one, safe to create inside a private folder.

    >>> safe_filename("../../etc/passwd")
    'passwd'
    >>> safe_filename("C:\\\\data\\\\Plate 1_A01_Amplitude.csv")
    'Plate 1_A01_Amplitude.csv'
    >>> safe_filename("..")
    'upload'
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\x00", "")
    text = PureWindowsPath(PurePosixPath(text).name).name  # last component, either separator
    text = _SAFE.sub("_", text).strip().lstrip(". ")
    if not text or set(text) <= {".", "_", " "}:
        return fallback
    if len(text) > _MAX_NAME:
        stem, dot, suffix = text.rpartition(".")
        suffix = suffix[:16] if dot else ""
        text = (stem if dot else text)[: _MAX_NAME - len(suffix) - 1] + (
            f".{suffix}" if suffix else ""
        )
    return text


def check_zip(path: Path, *, max_unzipped_bytes: int) -> bool:
    """Whether ``path`` is a zip archive; refuses one that would unpack too large."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"{path.name}: not a readable zip archive ({exc}); re-create the archive"
        raise InputError(msg) from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        msg = f"{path.name}: {len(infos):,} members in the zip; at most {MAX_ZIP_MEMBERS:,}"
        raise UploadTooLarge(msg)
    total = sum(max(i.file_size, 0) for i in infos)
    if total > max_unzipped_bytes:
        msg = (
            f"{path.name}: the zip unpacks to {total / 2**20:,.0f} MiB, over this server's limit "
            f"of {max_unzipped_bytes / 2**20:,.0f} MiB"
        )
        raise UploadTooLarge(msg)
    return True


class UploadArea:
    """A private folder for one request's (or job's) uploads; removed by :meth:`cleanup`."""

    def __init__(self, parent: Path, *, max_unzipped_bytes: int) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        self.root = parent / secrets.token_hex(16)
        self.root.mkdir(mode=0o700)
        self.max_unzipped_bytes = max_unzipped_bytes
        self._count = 0
        self.names: dict[str, str] = {}  # derived path -> client name (for messages)

    def _slot(self) -> Path:
        self._count += 1
        slot = self.root / f"f{self._count}"
        slot.mkdir(mode=0o700)
        return slot

    def folder(self) -> Path:
        """A fresh folder (for a folder-like input)."""
        return self._slot()

    def save(self, upload: UploadLike, *, folder: Path | None = None) -> Path:
        """Write ``upload`` under a derived name in its own slot (or in ``folder``)."""
        target_dir = folder if folder is not None else self._slot()
        name = safe_filename(upload.filename)
        target = target_dir / name
        n = 1
        while target.exists():
            n += 1
            stem, dot, suffix = name.partition(".")
            target = target_dir / (f"{stem}-{n}{dot}{suffix}")
        upload.file.seek(0)
        with target.open("xb") as out:
            shutil.copyfileobj(upload.file, out, length=1 << 20)
        self.names[str(target)] = upload.filename or name
        check_zip(target, max_unzipped_bytes=self.max_unzipped_bytes)
        return target

    def extract_zip(self, archive: Path, folder: Path) -> None:
        """Unpack ``archive``'s files flat into ``folder`` under derived names."""
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                name = safe_filename(info.filename, fallback="member")
                target = folder / name
                n = 1
                while target.exists():
                    n += 1
                    stem, dot, suffix = name.partition(".")
                    target = folder / f"{stem}-{n}{dot}{suffix}"
                with zf.open(info) as src, target.open("xb") as out:
                    shutil.copyfileobj(src, out, length=1 << 20)
        archive.unlink()

    def display(self, text: str) -> str:
        """``text`` with this area's private folder names removed (messages show file names)."""
        pattern = re.escape(str(self.root)) + r"/f\d+/"
        return re.sub(pattern, "", text)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _data_parts(data_dir: Path | None, text: str) -> tuple[Path, tuple[str, ...]]:
    """The data folder (resolved) and the parts of the relative path ``text`` names in it."""
    if data_dir is None:
        msg = (
            f"server path {text!r}: this server has no data folder; upload the file, or ask the "
            "administrator to start kinresist serve with --data-dir"
        )
        raise InputError(msg)
    raw = text.strip()
    if not raw or "\x00" in raw:
        msg = f"server path {text!r}: expected a path relative to the data folder"
        raise InputError(msg)
    posix = PurePosixPath(raw.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(raw).drive or ".." in posix.parts:
        msg = (
            f"server path {text!r}: only paths inside the data folder are allowed (relative, "
            "without '..'), e.g. runs/2025-01/sample1.bam"
        )
        raise InputError(msg)
    return data_dir.resolve(strict=True), posix.parts


def _inside(root: Path, candidate: Path, text: str) -> Path:
    try:
        resolved = candidate.resolve(strict=True)
    except FileNotFoundError:
        msg = f"server path {text!r}: no such file or folder in the data folder"
        raise InputError(msg) from None
    except (OSError, RuntimeError) as exc:  # symlink loop
        msg = f"server path {text!r}: cannot be resolved ({exc})"
        raise InputError(msg) from None
    if not resolved.is_relative_to(root):
        msg = f"server path {text!r}: leads outside the data folder (symbolic link); refused"
        raise InputError(msg)
    return resolved


def resolve_data_path(data_dir: Path | None, text: str) -> Path:
    """The file or folder ``text`` names inside the server data folder.

    ``text`` is relative to the data folder; absolute paths, ``..`` components, NUL bytes and
    symlinks resolving outside the folder are refused with an :class:`InputError`.
    """
    root, parts = _data_parts(data_dir, text)
    return _inside(root, root.joinpath(*parts), text)


def resolve_data_target(data_dir: Path | None, text: str) -> Path:
    """A path inside the server data folder that a workflow will write (it may not exist yet).

    The same rules as :func:`resolve_data_path`; the nearest existing folder on the path must
    resolve inside the data folder (no symbolic link out of it), and the missing rest is
    returned under it for the workflow to create.
    """
    root, parts = _data_parts(data_dir, text)
    for k in range(len(parts), -1, -1):
        here = root.joinpath(*parts[:k])
        if here.exists() or here.is_symlink():
            base = _inside(root, here, text)
            if k < len(parts) and not base.is_dir():
                msg = f"server path {text!r}: {'/'.join(parts[:k])!r} is a file, not a folder"
                raise InputError(msg)
            return base.joinpath(*parts[k:])
    return root.joinpath(*parts)  # pragma: no cover - the data folder itself exists
