"""Opening damaged files with pysam without htslib's noise.

When pysam fails to open a damaged BAM, htslib writes ``[E::…]`` lines to the C-level stderr
and the half-built ``AlignmentFile`` later raises ``OSError: Closing failed`` from its
``__dealloc__``, which Python prints as an "Exception ignored" traceback. Inside
:func:`quiet_open` htslib is silent and that one ignored error is swallowed (and collected
before the block ends), so the caller's :class:`~kinresist.errors.InputError` is the only line
a user sees.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["quiet_open"]


def _from_pysam(u: Any) -> bool:
    where = u.object if isinstance(u.object, str) else type(u.object).__module__
    return isinstance(u.exc_value, OSError) and "pysam" in str(where)


@contextlib.contextmanager
def quiet_open() -> Iterator[None]:
    """htslib quiet and pysam's deallocation errors swallowed for the block."""
    import pysam

    hook, excepthook = sys.unraisablehook, sys.excepthook

    def swallow(u: Any) -> None:
        if not _from_pysam(u):
            hook(u)

    def swallow_printed(kind: Any, value: Any, tb: Any) -> None:
        # Cython prints a __dealloc__ error through sys.excepthook before reporting it unraisable
        if not (isinstance(value, OSError) and "Closing failed" in str(value)):
            excepthook(kind, value, tb)

    sys.unraisablehook, sys.excepthook = swallow, swallow_printed
    before = pysam.set_verbosity(0)
    try:
        yield
    finally:
        gc.collect()  # a half-built AlignmentFile is freed (and its error swallowed) now
        pysam.set_verbosity(before)
        sys.unraisablehook, sys.excepthook = hook, excepthook
