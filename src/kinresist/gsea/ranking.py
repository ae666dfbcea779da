"""Ranked gene lists: reading, mouse->human orthology, duplicate collapse and deterministic ties.

Rules (each reported in :class:`RankingReport`):

* **Symbols are never upper-cased.** Human lists are matched to gene sets exactly. A list that
  looks like mouse symbols (most contain lower-case letters: ``Cd8a``) is refused unless
  ``species="mouse"``, which maps one-to-one Ensembl orthologues (bundled table) to human symbols;
  one-to-many / many-to-many / unmapped genes are dropped and counted.
* **Duplicates** (the same symbol twice, or two mouse genes with one human orthologue) are collapsed
  to the entry with the largest |score|; equal |score| keeps the first in file order.
* **Ties** in the score are ordered deterministically: score descending, then symbol ascending
  (byte order). gseapy is then told not to re-sort (``ascending=None``), so its own unstable sort
  cannot reorder tied genes.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from kinresist.errors import InputError

__all__ = ["RankingReport", "looks_like_mouse", "mouse_to_human", "prepare_ranking", "read_rnk"]

Species = Literal["human", "mouse"]


@dataclass(frozen=True)
class RankingReport:
    """What preparation did to the list."""

    n_input: int
    n_ranked: int
    species: str
    duplicates_collapsed: int
    duplicate_examples: tuple[str, ...]
    tied_genes: int
    tie_rule: str
    orthology_one2one: int | None = None
    orthology_dropped: int | None = None
    orthology_examples: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "n_input": self.n_input,
            "n_ranked": self.n_ranked,
            "species": self.species,
            "duplicates_collapsed": self.duplicates_collapsed,
            "duplicate_examples": list(self.duplicate_examples),
            "tied_genes": self.tied_genes,
            "tie_rule": self.tie_rule,
            "orthology_one2one": self.orthology_one2one,
            "orthology_dropped": self.orthology_dropped,
            "orthology_dropped_examples": list(self.orthology_examples),
        }


TIE_RULE = "score descending, then gene symbol ascending"


def read_rnk(path: str | PathLike[str]) -> pd.Series:
    """Read a two-column ``.rnk`` (gene, score; optional ``#`` header lines) -> Series."""
    p = Path(path)
    if not p.is_file():
        msg = "ranked-list file not found"
        raise InputError(msg, path=p)
    try:
        frame = pd.read_csv(p, sep="\t", header=None, comment="#", dtype={0: str})
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        OSError,
        EOFError,
        zlib.error,
    ) as exc:  # OSError: a file named .gz that is not gzip-compressed
        msg = f"cannot read the ranked list ({exc}); expected GENE<TAB>SCORE per line"
        raise InputError(msg, path=p) from exc
    if frame.shape[1] < 2:
        msg = f"expected GENE<TAB>SCORE per line, got {frame.shape[1]} column(s)"
        raise InputError(msg, path=p)
    frame = frame.iloc[:, -2:]
    scores = pd.to_numeric(frame.iloc[:, 1], errors="coerce")
    if scores.isna().iloc[0] and len(frame) > 1 and not scores.iloc[1:].isna().any():
        frame, scores = frame.iloc[1:], scores.iloc[1:]  # a header row
    bad = scores.isna() | ~np.isfinite(scores.fillna(0))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"score {frame.iloc[i, 1]!r} of gene {frame.iloc[i, 0]!r} is not a finite number"
        raise InputError(msg, path=p, line=i + 1)
    return pd.Series(scores.to_numpy(float), index=frame.iloc[:, 0].astype(str).str.strip())


def looks_like_mouse(genes: pd.Index | list[str]) -> bool:
    """Most symbols have lower-case letters (``Cd8a``), as mouse symbols do; human are upper."""
    names = [str(g) for g in genes if any(c.isalpha() for c in str(g))]
    if not names:
        return False
    lower = sum(any(c.islower() for c in g) and g[0].isupper() for g in names)
    return lower / len(names) > 0.5


@cache
def _orthology() -> pd.DataFrame:
    raw = resources.files("kinresist.gsea").joinpath("data/mouse_human_orthologs.tsv.gz")
    with raw.open("rb") as fh, gzip.open(fh, "rt", encoding="utf-8") as text:
        return pd.read_csv(text, sep="\t", dtype=str)


def mouse_to_human(symbols: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(mapped: mouse -> human one-to-one orthologue, dropped: mouse -> reason)."""
    table = _orthology()
    one = table[table["homology_type"] == "ortholog_one2one"]
    one_map = dict(zip(one["mouse_symbol"], one["human_symbol"], strict=True))
    other = set(table.loc[table["homology_type"] != "ortholog_one2one", "mouse_symbol"])
    mapped: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for s in symbols:
        if s in one_map:
            mapped[s] = one_map[s]
        elif s in other:
            dropped[s] = "one-to-many or many-to-many orthology"
        else:
            dropped[s] = "no human orthologue in Ensembl"
    return mapped, dropped


def prepare_ranking(
    scores: pd.Series, /, *, species: Species = "human"
) -> tuple[pd.Series, RankingReport]:
    """Map (mouse), collapse duplicates (max |score|), order ties deterministically."""
    if species not in ("human", "mouse"):
        msg = f"species must be 'human' or 'mouse', got {species!r}"
        raise InputError(msg)
    s = pd.Series(scores.to_numpy(float), index=[str(g) for g in scores.index])
    n_input = len(s)
    if n_input < 2:
        msg = f"a ranked list needs at least 2 genes, got {n_input}"
        raise InputError(msg)
    ortho_one = ortho_drop = None
    ortho_ex: tuple[str, ...] = ()
    if species == "human":
        if looks_like_mouse(s.index):
            examples = ", ".join(list(s.index[:3]))
            msg = (
                f"the ranked list looks like mouse gene symbols ({examples}, ...); gene sets are "
                "human. Pass species='mouse' (--species mouse) to map one-to-one orthologues; "
                "kinresist never upper-cases symbols (mouse Cd8b1 corresponds to human CD8B; CD8B1 is no gene)"
            )
            raise InputError(msg)
    else:
        mapped, dropped = mouse_to_human(list(dict.fromkeys(s.index)))
        keep = s.index.isin(list(mapped))
        s = pd.Series(s.to_numpy()[keep], index=[mapped[g] for g in s.index[keep]])
        ortho_one, ortho_drop = len(mapped), len(dropped)
        ortho_ex = tuple(sorted(dropped)[:5])
        if s.empty:
            msg = "no gene of the mouse list has a one-to-one human orthologue"
            raise InputError(msg)
    # duplicates: keep max |score| (first in file order on equal |score|)
    order = pd.DataFrame({"gene": s.index, "score": s.to_numpy(), "pos": np.arange(len(s))})
    order["abs"] = order["score"].abs()
    dup_mask = order["gene"].duplicated(keep=False)
    dup_genes = tuple(sorted(set(order.loc[dup_mask, "gene"])))
    order = order.sort_values(
        ["gene", "abs", "pos"], ascending=[True, False, True], kind="mergesort"
    )
    order = order.drop_duplicates("gene", keep="first")
    collapsed = n_input - len(order) if species == "human" else len(s) - len(order)
    # deterministic ties: score desc, gene asc
    order = order.sort_values(["score", "gene"], ascending=[False, True], kind="mergesort")
    ranked = pd.Series(order["score"].to_numpy(), index=order["gene"].to_numpy(), name="score")
    tied = int(ranked.duplicated(keep=False).sum())
    report = RankingReport(
        n_input=n_input,
        n_ranked=len(ranked),
        species=species,
        duplicates_collapsed=int(collapsed),
        duplicate_examples=dup_genes[:5],
        tied_genes=tied,
        tie_rule=TIE_RULE,
        orthology_one2one=ortho_one,
        orthology_dropped=ortho_drop,
        orthology_examples=ortho_ex,
    )
    return ranked, report
