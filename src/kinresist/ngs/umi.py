"""UMI extraction from aligned reads and UMI distances.

A read's UMI comes from the ``RX`` tag (SAM spec, fgbio) or from the read-name
suffix after the last ``_`` (UMI-tools ``extract``, fastp ``--umi``; fastp writes
``name:UMI``... see :func:`umi_from_name`). Duplex UMIs are written ``A-B``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pysam

from kinresist.errors import InputError

__all__ = ["UmiSource", "hamming", "hamming_matrix", "umi_from_name", "umi_of_read"]

UmiSource = Literal["auto", "tag", "name"]

_VALID = frozenset("ACGTN-+")


def umi_from_name(name: str, sep: str = "_") -> str | None:
    """The UMI at the end of a read name (``..._ACGTACGT``), or None.

    Also accepts fastp's ``...:UMI_ACGTACGT`` form (``sep`` then a UMI prefix).
    """
    tail = name.rsplit(sep, 1)[-1] if sep in name else name.rsplit(":", 1)[-1]
    tail = tail.split(" ", 1)[0]
    if tail and set(tail) <= _VALID:
        return tail
    return None


def umi_of_read(
    read: pysam.AlignedSegment, source: UmiSource = "auto", *, tag: str = "RX", sep: str = "_"
) -> str:
    """The raw UMI of a read (``RX`` tag first when ``source='auto'``).

    Raises
    ------
    InputError
        When the read carries no UMI where one was expected.
    """
    if source in ("auto", "tag") and read.has_tag(tag):
        return str(read.get_tag(tag))
    if source in ("auto", "name"):
        umi = umi_from_name(read.query_name or "", sep)
        if umi is not None:
            return umi
    where = f"tag {tag}" if source == "tag" else f"tag {tag} or read-name suffix '{sep}UMI'"
    msg = (
        f"read {read.query_name!r} carries no UMI ({where} expected); extract UMIs first "
        "(kinresist ngs align --umi-length, fastp --umi, or umi_tools extract)"
    )
    raise InputError(msg)


def hamming(a: str, b: str) -> int:
    """Hamming distance between two equal-length UMIs (length mismatch: a large number)."""
    if len(a) != len(b):
        return 1 << 30
    return sum(x != y for x, y in zip(a, b, strict=True))


def hamming_matrix(umis: list[str]) -> np.ndarray:
    """All-pairs Hamming distances (``n x n`` int array), vectorised over UMI bytes.

    UMIs of different length get a distance larger than any UMI length.
    """
    n = len(umis)
    if n == 0:
        return np.zeros((0, 0), dtype=np.int32)
    length = max(len(u) for u in umis)
    arr = np.full((n, length), 0, dtype=np.uint8)
    lengths = np.fromiter((len(u) for u in umis), dtype=np.int64, count=n)
    for i, u in enumerate(umis):
        arr[i, : len(u)] = np.frombuffer(u.encode("ascii"), dtype=np.uint8)
    dist = np.zeros((n, n), dtype=np.int32)
    for j in range(length):  # loop over UMI positions, vectorised over pairs
        col = arr[:, j]
        dist += col[:, None] != col[None, :]
    dist[lengths[:, None] != lengths[None, :]] = length + 1 << 10
    return dist
