"""Whether the compiled NGS kernels still have to be compiled (for the one-time notice).

The kernels (:mod:`kinresist.ngs._sam`, :mod:`~kinresist.ngs._families`,
:mod:`~kinresist.ngs._molecules`) are compiled by numba on first use, about half a minute of
CPU once after installation, and then load from numba's on-disk cache (``cache=True``) in well
under a second. :func:`compile_pending` tells beforehand which case applies.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COMPILE_NOTICE", "compile_pending"]

COMPILE_NOTICE = (
    "kinresist: compiling the NGS kernels (one time after installation, about half a minute; "
    "later runs load them from numba's cache)"
)


def compile_pending() -> bool:
    """True when a kernel is neither compiled in this process nor in numba's disk cache."""
    from kinresist.ngs import _families, _molecules, _sam

    kernels: tuple[Any, ...] = (_sam.parse_chunk, _families.intern_bytes, _families.intern_rows,
               _families.count_templates, _families.group_keys, _molecules.count_families,
               _molecules.indel_events, _molecules.templates_covering)  # fmt: skip
    for kernel in kernels:
        if kernel.signatures:
            continue
        try:  # numba internals: the cache index of this function (empty when stale)
            if not kernel._cache._cache_file._load_index():
                return True
        except Exception:  # noqa: BLE001 - an unknown numba layout: assume a compile
            return True
    return False
