"""A one-line progress note on stderr for long reads (large VCF/MAF/tables).

Shown only on an interactive terminal (stderr is a TTY) and when ``KINRESIST_QUIET`` is unset
(the CLI's ``--quiet`` sets it, as does a stderr that is not a terminal), so pipes, logs, tests
and the web app never see it. It appears after ``delay`` seconds, is refreshed at most every
``every`` seconds, and is erased when the read ends: a short read shows nothing.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType

__all__ = ["Progress"]


class Progress:
    """``with Progress("reading calls.vcf", unit="lines") as p: ... p.update(n)``."""

    def __init__(
        self, label: str, *, unit: str = "lines", delay: float = 1.0, every: float = 0.5
    ) -> None:
        self.label = label
        self.unit = unit
        self.delay = delay
        self.every = every
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        stream = sys.stderr
        self.enabled = (
            not os.environ.get("KINRESIST_QUIET")
            and callable(getattr(stream, "isatty", None))
            and stream.isatty()
        )

    def update(self, done: int) -> None:
        """Report ``done`` items (cheap: a clock read when enabled, nothing otherwise)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < self.every:
            return
        self.last = now
        self.shown = True
        rate = done / max(now - self.start, 1e-9)
        sys.stderr.write(f"\r{self.label}: {done:,} {self.unit} ({rate:,.0f}/s)\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
