"""pyarrow arrays built from NumPy buffers.

``pyarrow.array()`` imports pandas on first use (to recognise pandas objects), which costs a
command-line run more than fitting a plate; the streaming path builds its arrays from buffers
instead and never needs pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["bools", "dict_strings", "floats", "int64s", "strings"]


def _validity(valid: np.ndarray | None) -> Any:
    import pyarrow as pa

    if valid is None or bool(np.all(valid)):
        return None
    return pa.py_buffer(np.packbits(np.asarray(valid, dtype=bool), bitorder="little"))


def floats(values: np.ndarray) -> Any:
    """float64 array; non-finite values become null."""
    import pyarrow as pa

    a = np.ascontiguousarray(values, dtype=np.float64)
    valid = np.isfinite(a)
    return pa.Array.from_buffers(pa.float64(), len(a), [_validity(valid), pa.py_buffer(a)])


def int64s(values: np.ndarray) -> Any:
    import pyarrow as pa

    a = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(a), [None, pa.py_buffer(a)])


def bools(values: np.ndarray) -> Any:
    import pyarrow as pa

    a = np.asarray(values, dtype=bool)
    bits = pa.py_buffer(np.packbits(a, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(a), [None, bits])


def strings(values: Sequence[str]) -> Any:
    """UTF-8 string array of ``values``."""
    import pyarrow as pa

    encoded = [v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.large_string(),
        len(encoded),
        [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
    ).cast(pa.string())


def dict_strings(codes: np.ndarray, labels: Sequence[str]) -> Any:
    """String array ``labels[codes]`` (dictionary-encoded, then decoded)."""
    import pyarrow as pa

    idx = np.ascontiguousarray(codes, dtype=np.int32)
    indices = pa.Array.from_buffers(pa.int32(), len(idx), [None, pa.py_buffer(idx)])
    return pa.DictionaryArray.from_arrays(indices, strings(labels)).cast(pa.string())


def to_numpy_float(array: Any) -> np.ndarray:
    """A float64 pyarrow array as a NumPy array, nulls as NaN (read from the buffers)."""
    n, off = len(array), array.offset
    validity, data = array.buffers()[:2]
    out = np.frombuffer(data, dtype=np.float64, count=off + n)[off:].copy()
    if validity is not None and array.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        out[~bits[off : off + n].astype(bool)] = np.nan
    return out


def to_numpy_bool(array: Any) -> np.ndarray:
    """A boolean pyarrow array (no nulls) as a NumPy bool array."""
    n, off = len(array), array.offset
    bits = np.unpackbits(np.frombuffer(array.buffers()[1], dtype=np.uint8), bitorder="little")
    return bits[off : off + n].astype(bool)
