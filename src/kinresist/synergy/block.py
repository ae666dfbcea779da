"""Dose-response matrices of drug combinations ("blocks").

A :class:`Block` is one checkerboard: the doses of drug 1 (rows) and drug 2
(columns), both sorted ascending and starting at 0, and the response of every
dose pair in **% inhibition** (I = 100 − % viability, no renormalisation, as
SynergyFinder's ``ReshapeData``). Replicates are kept (``replicates``) and the
matrix used for scoring is their mean.

A :class:`BlockStack` is many blocks of the same shape as arrays with a leading
block axis: the unit of work of the vectorised engine.

``input_rank`` remembers the order in which the cells appeared in the input file. Only
``mode="synergyfinder"`` uses it: SynergyFinder fits every curve on the data rows in
file order, and on flat likelihoods drc's optimiser ends at a point that depends on
that order (see docs/synergy.md, "SynergyFinder mode, path by path"). Blocks without
it are taken in ascending dose order (conc1, then conc2), the order SynergyFinder's
own bootstrap of replicated blocks produces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kinresist.errors import InputError

__all__ = ["Block", "BlockStack", "default_rank", "stack_blocks"]


@dataclass(frozen=True, eq=False)
class Block:
    """One drug-combination dose matrix.

    Attributes
    ----------
    block_id
        Identifier (string).
    drug1, drug2
        Names of the row drug and the column drug.
    conc1, conc2
        Doses ``(n1,)`` and ``(n2,)``, ascending, first entry 0.
    inhibition
        ``(n1, n2)`` mean % inhibition per dose pair.
    replicates
        ``(n1, n2, r)`` individual % inhibition values (NaN-padded), or None.
    conc_unit
        Dose unit (e.g. ``"nM"``).
    input_rank
        ``(n1, n2)`` position of each cell's first row in the input table (any
        distinct integers; smaller = earlier), or None (ascending dose order).
    """

    block_id: str
    drug1: str
    drug2: str
    conc1: np.ndarray
    conc2: np.ndarray
    inhibition: np.ndarray
    replicates: np.ndarray | None = None
    conc_unit: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    input_rank: np.ndarray | None = None

    def __post_init__(self) -> None:
        c1 = np.asarray(self.conc1, dtype=float)
        c2 = np.asarray(self.conc2, dtype=float)
        m = np.asarray(self.inhibition, dtype=float)
        where = f"block {self.block_id!r}"
        if c1.ndim != 1 or c2.ndim != 1 or m.shape != (c1.size, c2.size):
            msg = f"{where}: response matrix shape {m.shape} does not match doses ({c1.size}, {c2.size})"
            raise InputError(msg)
        if c1.size < 2 or c2.size < 2:
            msg = f"{where}: needs at least one non-zero dose of each drug plus dose 0"
            raise InputError(msg)
        for name, c in (("drug 1", c1), ("drug 2", c2)):
            if c[0] != 0:
                msg = (
                    f"{where}: {name} has no dose-0 (monotherapy) row/column; a checkerboard must "
                    "include each drug alone (dose pair with the other drug at 0)"
                )
                raise InputError(msg)
            if np.any(np.diff(c) <= 0) or not np.all(np.isfinite(c)):
                msg = f"{where}: {name} doses must be finite, distinct and ascending"
                raise InputError(msg)
        if not np.all(np.isfinite(m)):
            i, j = np.argwhere(~np.isfinite(m))[0]
            msg = (
                f"{where}: no response for dose pair ({c1[i]:g}, {c2[j]:g}); every cell of the "
                "checkerboard needs a value (impute or drop the dose)"
            )
            raise InputError(msg)
        if self.input_rank is not None:
            rank = np.asarray(self.input_rank)
            if rank.shape != m.shape or np.unique(rank).size != rank.size:
                msg = f"{where}: input_rank must hold {m.shape} distinct positions"
                raise InputError(msg)
            object.__setattr__(self, "input_rank", rank.astype(np.int64))
        object.__setattr__(self, "conc1", c1)
        object.__setattr__(self, "conc2", c2)
        object.__setattr__(self, "inhibition", m)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.conc1.size), int(self.conc2.size))

    @property
    def viability(self) -> np.ndarray:
        return 100.0 - self.inhibition

    @classmethod
    def from_viability(
        cls,
        block_id: str,
        drug1: str,
        drug2: str,
        conc1: Sequence[float] | np.ndarray,
        conc2: Sequence[float] | np.ndarray,
        viability: np.ndarray,
        *,
        conc_unit: str = "",
    ) -> Block:
        """A block from a % viability matrix (I = 100 − V)."""
        return cls(
            block_id,
            drug1,
            drug2,
            np.asarray(conc1, float),
            np.asarray(conc2, float),
            100.0 - np.asarray(viability, float),
            conc_unit=conc_unit,
        )


def default_rank(n1: int, n2: int) -> np.ndarray:
    """Ascending dose order (conc1, then conc2) as ranks ``(n1, n2)``."""
    return np.arange(n1 * n2, dtype=np.int64).reshape(n1, n2)


@dataclass(frozen=True, eq=False)
class BlockStack:
    """Blocks of equal shape: ``conc1 (B, n1)``, ``conc2 (B, n2)``, ``inhibition (B, n1, n2)``.

    ``rank``: ``(B, n1, n2)`` input order of the cells (synergyfinder mode), or None
    (ascending dose order).
    """

    conc1: np.ndarray
    conc2: np.ndarray
    inhibition: np.ndarray
    rank: np.ndarray | None = None

    def ranks(self) -> np.ndarray:
        """``rank`` or the ascending default for every block."""
        if self.rank is not None:
            return self.rank
        nb, n1, n2 = self.inhibition.shape
        return np.broadcast_to(default_rank(n1, n2), (nb, n1, n2))

    @property
    def n_blocks(self) -> int:
        return int(self.inhibition.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.inhibition.shape[1]), int(self.inhibition.shape[2]))


def stack_blocks(blocks: Sequence[Block]) -> dict[tuple[int, int], tuple[list[int], BlockStack]]:
    """Group blocks by shape: shape -> (indices into ``blocks``, stack)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for k, b in enumerate(blocks):
        groups.setdefault(b.shape, []).append(k)
    out = {}
    for shape, idx in groups.items():
        out[shape] = (
            idx,
            BlockStack(
                np.stack([blocks[k].conc1 for k in idx]),
                np.stack([blocks[k].conc2 for k in idx]),
                np.stack([blocks[k].inhibition for k in idx]),
                None
                if all(blocks[k].input_rank is None for k in idx)
                else np.stack(
                    [
                        r if (r := blocks[k].input_rank) is not None else default_rank(*shape)
                        for k in idx
                    ]
                ),
            ),
        )
    return out
