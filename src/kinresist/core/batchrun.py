"""Process-level settings of a command-line batch run.

The CLI (:func:`kinresist.cli.main.main`) runs every command but the long-running server
(:data:`LONG_RUNNING`) inside :func:`batch_run`. Used as a library, kinresist changes none of
this: a library does not retune the process it is imported into.

* **The cyclic garbage collector's thresholds** (:data:`GC_THRESHOLD`). Start-up allocates
  hundreds of thousands of objects that live as long as the process (the modules of typer,
  pydantic, numba, pandas); at the default generation-0 threshold (700 allocations) the
  collector walks them over and over, about a tenth of a screen-sized ``dose fit``.
* **pyarrow's memory pool** (:func:`arrow_pool`): jemalloc, where pyarrow is built with it
  (its Linux wheels), instead of the default mimalloc. A streamed screen allocates and frees
  tens of megabytes of Arrow buffers per batch; with jemalloc a 1,000,000-curve ``dose fit``
  from Parquet takes ~6 % less CPU and wall time and ~8 % less peak memory on the benchmark
  machine (``benchmarks/bench_dose_fit.py``). The streaming commands call it when they first
  import pyarrow; outside a batch run, or where pyarrow lacks jemalloc, it does nothing. The
  previous pool is restored when the run ends (buffers keep the pool they came from).
* **The end of the process** (``exiting``, the console script): when the process ends with
  the command, the objects alive at its end are moved to the collector's permanent generation
  (:func:`gc.freeze`) instead of being collected. Restoring Python's thresholds, and then
  the interpreter's last collections at exit, would walk every object the imports made: ~0.3 s
  of the ~1.8 s a 100,000-curve ``dose fit`` from CSV took end to end. Exit handlers, the
  flushing of the standard streams and module teardown still run; objects in reference cycles
  are left to the operating system, as Python allows for objects alive at exit (every file a
  command writes is closed before it returns).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["GC_THRESHOLD", "LONG_RUNNING", "active", "arrow_pool", "batch_run", "jemalloc_pool"]

#: the cyclic GC's thresholds while a batch command runs
GC_THRESHOLD = (100_000, 50, 1_000)
#: commands that keep Python's defaults (the web server runs for days)
LONG_RUNNING = frozenset({"serve"})

_STATE: dict[str, Any] = {"active": False, "pool": None}


def active() -> bool:
    """Whether a command-line batch run is in progress in this process."""
    return bool(_STATE["active"])


@contextmanager
def batch_run(command: str | None, *, exiting: bool = False) -> Iterator[None]:
    """The batch settings while ``command`` (the group or top-level command) runs; restored
    after. A long-running command (:data:`LONG_RUNNING`) runs with Python's defaults.
    ``exiting``: the process ends with the command; what is alive then is frozen."""
    if command in LONG_RUNNING:
        yield
        return
    threshold = gc.get_threshold()
    was = _STATE["active"]
    gc.set_threshold(*GC_THRESHOLD)
    _STATE["active"] = True
    try:
        yield
    finally:
        _STATE["active"] = was
        if exiting:
            gc.freeze()  # first: nothing young is then left for the restored thresholds
        gc.set_threshold(*threshold)
        if not was and _STATE["pool"] is not None:
            import pyarrow as pa

            pa.set_memory_pool(_STATE["pool"])
            _STATE["pool"] = None


def jemalloc_pool() -> Any:
    """pyarrow's jemalloc memory pool, or None where pyarrow is built without it (pyarrow
    then raises ``ArrowNotImplementedError``, a subclass of ``NotImplementedError``)."""
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return None


def arrow_pool() -> None:
    """In a batch run, make jemalloc pyarrow's default memory pool (until the run ends)."""
    if not _STATE["active"] or _STATE["pool"] is not None:
        return
    pool = jemalloc_pool()
    if pool is None:
        return
    import pyarrow as pa

    _STATE["pool"] = pa.default_memory_pool()
    pa.set_memory_pool(pool)
