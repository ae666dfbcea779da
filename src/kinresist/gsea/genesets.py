"""Gene sets: GMT files, the bundled MSigDB Hallmark v7.0 collection and fixed TME signatures.

Offline only: gene sets are a local ``.gmt`` file, the bundled Hallmark collection (CC BY 4.0,
Liberzon et al. 2015 Cell Syst 1:417; see ``kinresist/gsea/data/README.md``) or a mapping. No
gseapy network helper (``get_library``, ``Msigdb``, Enrichr) is ever called.

Fixed signatures of Ayers et al. 2017 J Clin Invest 127:2930-2940 (PMID 28650338,
doi:10.1172/JCI91190), "IFN-γ-related mRNA profile predicts clinical response to PD-1 blockade":

* ``IFNG_6``: the 6-gene IFN-γ signature (IFNG, STAT1, IDO1, CXCL9, CXCL10, HLA-DRA);
* ``TCELL_INFLAMED_GEP_18``: the 18-gene T-cell-inflamed gene expression profile.

The published GEP score is a *weighted* sum on NanoString housekeeping-normalised data (weights in
Cristescu et al. 2018 Science); those weights are not bundled, so kinresist scores the gene lists
with the unweighted methods of :mod:`kinresist.gsea.score` and says so in every result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from types import MappingProxyType

from kinresist.errors import InputError

__all__ = [
    "AYERS_CITATION",
    "HALLMARK_ATTRIBUTION",
    "HALLMARK_SHA256",
    "IFNG_6",
    "SIGNATURES",
    "TCELL_INFLAMED_GEP_18",
    "GeneSets",
    "hallmark",
    "read_gmt",
]

IFNG_6: tuple[str, ...] = ("IFNG", "STAT1", "IDO1", "CXCL9", "CXCL10", "HLA-DRA")
TCELL_INFLAMED_GEP_18: tuple[str, ...] = (
    "CCL5", "CD27", "CD274", "CD276", "CD8A", "CMKLR1", "CXCL9", "CXCR6", "HLA-DQA1",
    "HLA-DRB1", "HLA-E", "IDO1", "LAG3", "NKG7", "PDCD1LG2", "PSMB10", "STAT1", "TIGIT",
)  # fmt: skip
AYERS_CITATION = (
    "Ayers M, Lunceford J, Nebozhyn M, et al. IFN-γ-related mRNA profile predicts clinical "
    "response to PD-1 blockade. J Clin Invest 2017;127(8):2930-2940. PMID 28650338."
)
SIGNATURES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"AYERS_IFNG_6": IFNG_6, "AYERS_TCELL_INFLAMED_GEP_18": TCELL_INFLAMED_GEP_18}
)
HALLMARK_SHA256 = "4803c09aae50bbd96d53fc681bd5545a4c89278993c15145dd7b7c994f893516"
HALLMARK_ATTRIBUTION = (
    "MSigDB Hallmark gene sets v7.0 (Broad Institute; CC BY 4.0). Liberzon A et al. The "
    "Molecular Signatures Database hallmark gene set collection. Cell Syst 2015;1:417-425."
)


@dataclass(frozen=True)
class GeneSets:
    """Named gene sets (symbols kept exactly as written), their descriptions and origin."""

    sets: Mapping[str, tuple[str, ...]]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    species: str = "human"
    attribution: str | None = None

    def __post_init__(self) -> None:
        if not self.sets:
            msg = f"no gene sets in {self.source or 'the input'}"
            raise InputError(msg)
        object.__setattr__(self, "sets", MappingProxyType(dict(self.sets)))
        object.__setattr__(self, "descriptions", MappingProxyType(dict(self.descriptions)))

    def genes(self) -> set[str]:
        return {g for genes in self.sets.values() for g in genes}

    def subset(self, names: Iterable[str]) -> GeneSets:
        wanted = list(names)
        missing = [n for n in wanted if n not in self.sets]
        if missing:
            msg = f"unknown gene set(s) {missing}; available: {', '.join(list(self.sets)[:10])}..."
            raise InputError(msg)
        return GeneSets(
            {n: self.sets[n] for n in wanted},
            {n: self.descriptions.get(n, "") for n in wanted},
            self.source,
            self.species,
            self.attribution,
        )


def _parse_gmt(text: str, source: str) -> GeneSets:
    sets: dict[str, tuple[str, ...]] = {}
    desc: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) < 3:
            msg = (
                f"a GMT line needs NAME<TAB>DESCRIPTION<TAB>GENE..., got {len(parts)} "
                "tab-separated field(s)"
            )
            raise InputError(msg, path=source, line=i)
        name = parts[0].strip()
        if name in sets:
            msg = f"gene set {name!r} appears twice"
            raise InputError(msg, path=source, line=i)
        genes = tuple(dict.fromkeys(g.strip() for g in parts[2:] if g.strip()))
        if not genes:
            msg = f"gene set {name!r} lists no genes"
            raise InputError(msg, path=source, line=i)
        sets[name] = genes
        desc[name] = parts[1]
    return GeneSets(sets, desc, source)


def read_gmt(path: str | PathLike[str], *, species: str = "human") -> GeneSets:
    """Read a local ``.gmt`` file (tab-separated: name, description, genes...)."""
    p = Path(path)
    if not p.is_file():
        msg = "gene-set file not found (kinresist never downloads gene sets; give a local .gmt)"
        raise InputError(msg, path=p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"not a UTF-8 text GMT file ({exc})"
        raise InputError(msg, path=p) from exc
    sets = _parse_gmt(text, str(p))
    return GeneSets(sets.sets, sets.descriptions, p.name, species)


def hallmark() -> GeneSets:
    """The bundled MSigDB Hallmark v7.0 collection (50 sets, human symbols; CC BY 4.0)."""
    data = resources.files("kinresist.gsea").joinpath("data/h.all.v7.0.symbols.gmt").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != HALLMARK_SHA256:  # pragma: no cover - a broken installation
        msg = f"bundled Hallmark file altered (sha256 {digest}); reinstall kinresist"
        raise InputError(msg)
    sets = _parse_gmt(data.decode("utf-8"), "h.all.v7.0.symbols.gmt")
    return GeneSets(
        sets.sets, sets.descriptions, "MSigDB Hallmark v7.0", "human", HALLMARK_ATTRIBUTION
    )
