"""The one exception and warning hierarchy of kinresist.

Every error the library raises on purpose derives from :class:`KinresistError`;
the CLI catches only these (one line on stderr, exit code 2) and the web layer maps
them to 4xx/5xx. Anything else is a bug and shows a traceback with ``--debug``.

::

    * KinresistError
      x InputError (ValueError)          malformed / unsupported input: file, line, column, expected, fix
      |  x UnitError                      unknown or inconsistent units
      x FitError (ValueError)             a model fit that cannot produce an honest answer
      |  x ConvergenceError
      |  x NonIdentifiableError
      x KnowledgeBaseError                missing/invalid KB files, schema mismatch, unknown KB version
      x StoreError                        project store: connection, migration, integrity
      x ExternalToolError (RuntimeError)  a required external program (fastp, bwa, samtools) is missing or failed

    * KinresistWarning (UserWarning)
      x ApproximationWarning              pseudo-inverse covariance, clipped parameters
      x LowCountWarning                   few droplets/molecules: reduced precision
      x ImplicitConversionWarning         units or names converted on the fly
      x DataQualityWarning                QC flags worth a look (Z', rain, edge effect)

Warnings are issued through :func:`warn` so that callers can filter them by class.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from os import PathLike
from typing import Any

__all__ = [
    "ApproximationWarning",
    "ConvergenceError",
    "DataQualityWarning",
    "ExternalToolError",
    "FitError",
    "ImplicitConversionWarning",
    "InputError",
    "KinresistError",
    "KinresistWarning",
    "KnowledgeBaseError",
    "LowCountWarning",
    "NonIdentifiableError",
    "StoreError",
    "UnitError",
    "about_file",
    "warn",
]


class KinresistError(Exception):
    """Root of every deliberate kinresist error."""

    def one_line(self) -> str:
        """The message as one line, as the CLI prints it."""
        text = " ".join(str(self).split())
        return f"{type(self).__name__}: {text}"


class InputError(KinresistError, ValueError):
    """Malformed or unsupported input.

    Parameters
    ----------
    message
        What was received, what was expected and the likely fix.
    path, line, column
        Where the problem is, when known; they are prefixed to the message.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        column: str | int | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.detail = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!s}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)

    def located(
        self,
        path: str | PathLike[str],
        *,
        before: str = "",
        after: str = "",
        column: str | int | None = None,
    ) -> InputError:
        """The same error attributed to ``path`` (for an error raised where the file was not
        known, e.g. by a check on already-read values); ``before``/``after`` add context to
        the message, ``column`` is used when the error has none."""
        detail = f"{before}{self.detail}{after}"
        col = self.column if self.column is not None else column
        try:
            return type(self)(detail, path=path, line=self.line, column=col)
        except TypeError:  # a subclass with another signature
            return InputError(detail, path=path, line=self.line, column=col)


@contextlib.contextmanager
def about_file(
    path: str | PathLike[str],
    *,
    before: str = "",
    after: str = "",
    column: str | int | None = None,
) -> Iterator[None]:
    """Attribute an :class:`InputError` raised in the block without a file to ``path``
    (:meth:`InputError.located`); errors that name their file pass unchanged."""
    try:
        yield
    except InputError as exc:
        if exc.path is not None:
            raise
        raise exc.located(path, before=before, after=after, column=column) from None


class UnitError(InputError):
    """Unknown or inconsistent units."""


class FitError(KinresistError, ValueError):
    """A fit that cannot give an honest answer."""

    def __init__(self, message: str, *, model: str | None = None, data: Any = None) -> None:
        self.model = model
        self.data = data
        super().__init__(message)


class ConvergenceError(FitError):
    """The optimiser did not converge."""


class NonIdentifiableError(FitError):
    """Parameters cannot be identified from the data."""


class KnowledgeBaseError(KinresistError):
    """Knowledge-base files missing, invalid or of an unknown version."""


class StoreError(KinresistError):
    """Project-store failure: connection, migration or integrity."""


class ExternalToolError(KinresistError, RuntimeError):
    """An external program (fastp, bwa, samtools...) is missing or failed."""


class KinresistWarning(UserWarning):
    """Root of kinresist warnings."""


class ApproximationWarning(KinresistWarning):
    """A numerical fallback was used (pseudo-inverse, clipped parameter)."""


class LowCountWarning(KinresistWarning):
    """Few droplets or molecules: reduced precision."""


class ImplicitConversionWarning(KinresistWarning):
    """Units or names were converted on the fly."""


class DataQualityWarning(KinresistWarning):
    """A QC check failed and the result carries a flag."""


def warn(
    message: str, category: type[KinresistWarning] = KinresistWarning, *, stacklevel: int = 2
) -> None:
    """Issue a kinresist warning (the one place warnings are raised)."""
    warnings.warn(message, category, stacklevel=stacklevel + 1)
