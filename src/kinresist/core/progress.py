"""Progress bars for long runs: a rich bar with ETA on stderr, silent when nobody watches.

A bar is drawn only when stderr is a terminal and ``$KINRESIST_QUIET`` is not ``1`` (the CLI
sets it for ``--quiet`` and when stderr is not a terminal), so logs, pipes and tests stay
clean. Library code reports progress through the :class:`Progress` it is handed and never
decides on its own whether to draw::

    with progress_bar("scoring", total=path.stat().st_size, unit="blocks") as bar:
        for chunk in chunks:
            ...
            bar.advance(chunk.n_bytes, done=n_blocks)   # ETA from the bytes, "12,000 blocks"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Progress", "progress_bar", "quiet"]


def quiet() -> bool:
    """True when no progress should be drawn (``--quiet``, or stderr is not a terminal)."""
    return os.environ.get("KINRESIST_QUIET") == "1" or not sys.stderr.isatty()


class Progress:
    """What a long run reports to: ``advance(amount, done=count)``; silent by default."""

    def __init__(self, bar: Any = None, task: Any = None, unit: str = "") -> None:
        self._bar = bar
        self._task = task
        self._unit = unit
        self.completed = 0.0
        self.done = 0

    def advance(self, amount: float, *, done: int | None = None) -> None:
        """Move the bar by ``amount`` (of ``total``); ``done`` is the count shown beside it."""
        self.completed += amount
        if done is not None:
            self.done = done
        if self._bar is not None:
            self._bar.update(self._task, advance=amount, done=f"{self.done:,} {self._unit}")

    def note(self, text: str) -> None:
        """A one-off line above the bar (a kernel compiling, a cluster connected)."""
        if self._bar is not None:
            self._bar.console.print(text)


@contextmanager
def progress_bar(
    description: str, *, total: float | None, unit: str = "", enabled: bool | None = None
) -> Iterator[Progress]:
    """A :class:`Progress` drawn as a rich bar with elapsed time and ETA (see module docstring).

    ``total`` is in the units ``advance`` is called with (bytes or rows of the input: what is
    known before the run); ``unit`` names the count shown beside the bar. ``enabled`` forces
    the bar on or off (default: :func:`quiet` decides).
    """
    if not (not quiet() if enabled is None else enabled):
        yield Progress(unit=unit)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    with RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[done]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total, done=f"0 {unit}")
        yield Progress(bar, task, unit)
