"""Model declaration base: :class:`Model` and the dose container :class:`DoseArray`.

A model declares only its parameters, equation and analytic Jacobian (lifelines
style); :func:`kinresist.dose.engine.fit_batch` fits any of them. All functions take
``x`` of shape ``(n_curves, n_points)`` (or the transposed layout for models that
declare ``transposable = True``) and parameters as a mapping name -> array
broadcastable against ``x``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["DRC_LETTERS", "DoseArray", "DoseInput", "Model", "Params"]

Params = Mapping[str, np.ndarray]
#: doses as an array or a :class:`DoseArray` (what the engine passes)
DoseInput = Any

#: kinresist name -> drc letter
DRC_LETTERS = {"hill": "b", "bottom": "c", "top": "d", "ec50": "e", "asymmetry": "f"}


class Model:
    """Base class: a model declares ``param_names``, :meth:`f` and :meth:`jacobian`.

    Attributes
    ----------
    name
        Model family name (``"LL.4"``).
    param_names
        All parameters in output order.
    log_params
        Parameters the optimiser works with on the natural-log scale (positivity,
        conditioning); estimates and SEs are always reported on the natural scale.
    formula
        The equation in words, for reports.
    """

    name: str = ""
    param_names: tuple[str, ...] = ()
    log_params: frozenset[str] = frozenset()
    formula: str = ""

    def f(self, x: DoseInput, p: Params) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def jacobian(self, x: DoseInput, p: Params) -> dict[str, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def self_start(self, x: DoseInput, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        """Starting values, each of shape ``(n_curves,)``. ``w`` is 0 for missing points."""
        raise NotImplementedError  # pragma: no cover

    def alternative_starts(
        self, x: DoseInput, y: np.ndarray, w: np.ndarray, start: dict[str, np.ndarray]
    ) -> list[dict[str, np.ndarray]]:
        """Extra starting points for multi-start (default: none)."""
        return []

    def refine_start(
        self,
        x: DoseInput,
        y: np.ndarray,
        w: np.ndarray,
        start: dict[str, np.ndarray],
        fixed: Mapping[str, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Improve a start before the optimiser runs (default: unchanged)."""
        return start

    def divergence_bounds(
        self, x: DoseInput, w: np.ndarray
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per-curve (low, high) limits beyond which a parameter is running away
        (the least-squares infimum is at infinity); the engine stops such curves and
        flags them. Default: none."""
        return {}

    # effective doses -------------------------------------------------------------
    def ed_relative(self, p: Params, level: float) -> np.ndarray:
        """Dose at which the response moved ``level`` % of the way from top to bottom."""
        msg = f"model {self.name} has no relative ED"
        raise NotImplementedError(msg)

    def inverse(self, y: float | np.ndarray, p: Params) -> np.ndarray:
        """Dose at which the fitted response equals ``y`` (NaN where not reached)."""
        msg = f"model {self.name} has no inverse"
        raise NotImplementedError(msg)


def _log_dose(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(x > 0, x, 0.0))


class DoseArray:
    """Doses with their log and positivity mask computed once per batch.

    The engine passes this to :meth:`Model.f` / :meth:`Model.jacobian`; a model that
    only needs the doses uses ``np.asarray(x)``. Row indexing returns a DoseArray.
    """

    __slots__ = ("lx", "pos", "x")

    def __init__(self, x: np.ndarray, lx: np.ndarray | None = None, pos: np.ndarray | None = None):
        self.x = np.asarray(x, dtype=float)
        self.pos = self.x > 0 if pos is None else pos
        self.lx = np.where(self.pos, _log_dose(self.x), 0.0) if lx is None else lx

    @classmethod
    def of(cls, x: np.ndarray | DoseArray) -> DoseArray:
        return x if isinstance(x, DoseArray) else cls(x)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.x if dtype is None else self.x.astype(dtype)

    @staticmethod
    def concat(a: DoseArray, b: DoseArray, axis: int = 0) -> DoseArray:
        """``a`` then ``b`` along ``axis`` (0: rows)."""
        if a.x.shape[axis] == 0:
            return b
        return DoseArray(
            np.concatenate([a.x, b.x], axis=axis),
            np.concatenate([a.lx, b.lx], axis=axis),
            np.concatenate([a.pos, b.pos], axis=axis),
        )

    def cols(self, idx: np.ndarray) -> DoseArray:
        """Column selection (curves in the transposed layout)."""
        return DoseArray(self.x[:, idx], self.lx[:, idx], self.pos[:, idx])

    def __getitem__(self, item: Any) -> DoseArray:
        return DoseArray(self.x[item], self.lx[item], self.pos[item])

    @property
    def shape(self) -> tuple[int, ...]:
        return self.x.shape
