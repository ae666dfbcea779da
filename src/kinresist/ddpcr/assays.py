"""Assay (target) names -> canonical alteration keys, by name or by the lab's assay map.

QuantaSoft / QX Manager target names are free text (``ALK_G1202R``, ``EGFR T790M FAM``,
``KRAS G12C mut``, ``ALK_WT_HEX``, ``RPP30``, ``Mutant``). Each is mapped once to the canonical
key every workflow shares (:func:`kinresist.core.parse_target` on top of the knowledge base's
name normaliser):

* the lab's **assay map** wins: ``{"ALK_G1202R": "ALK G1202R", "Target 2": "wild type"}``
  (a TSV/CSV file with ``target`` and ``alteration`` columns, or ``TARGET=ALTERATION`` pairs);
  a mapped alteration must parse as a whole, else the map is refused with the row named;
* otherwise the name itself is parsed; a wild-type / reference assay (``ALK_WT``) has no
  alteration; a name that neither parses nor is mapped (``Mutant``) stays unmapped. Nothing is
  guessed from substrings (``del`` in a name does not make a deletion).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kinresist.errors import InputError

if TYPE_CHECKING:
    from kinresist.core.alteration import AlterationKey
    from kinresist.kb.model import AlterationKind

__all__ = [
    "AssayMapLike",
    "AssayTarget",
    "assay_map_from_pairs",
    "assay_targets",
    "load_assay_map",
    "parse_assay_name",
    "read_assay_map",
    "resolve_assay_map",
]

#: An assay map given to a library entry point: target -> alteration text, or a map file.
AssayMapLike = Mapping[str, str] | str | PathLike[str] | None

#: Map values meaning "this assay measures the wild-type / reference allele".
_WILD_TYPE_WORDS = {
    "wt",
    "wild type",
    "wild-type",
    "wildtype",
    "reference",
    "ref",
    "none",
    "-",
}


@dataclass(frozen=True, slots=True)
class AssayTarget:
    """What one assay (target) name measures.

    ``key`` is the canonical alteration key text (``"ALK G1202R"``), None for wild-type /
    reference assays and for names that could not be mapped (``source`` None).
    """

    assay: str
    gene: str | None
    alteration: str | None
    key: str | None
    wild_type: bool
    kind: AlterationKind | None
    in_kb: bool | None  # None: the knowledge base could not be consulted
    kb_id: str | None
    source: Literal["assay_map", "name"] | None

    @property
    def label(self) -> str:
        return self.key or self.assay

    def to_dict(self) -> dict[str, object]:
        return {
            "target": self.assay,
            "gene": self.gene,
            "alteration": self.alteration,
            "alteration_key": self.key,
            "wild_type": self.wild_type,
            "kind": self.kind,
            "in_kb": self.in_kb,
            "kb_id": self.kb_id,
            "mapped_by": self.source,
        }


def _norm(name: str) -> str:
    return " ".join(str(name).strip().lower().split())


def _kb_facts(key: AlterationKey) -> tuple[bool | None, str | None, AlterationKind | None]:
    """(in KB?, KB id, alteration kind): the KB's kind when curated, else from the name."""
    from kinresist.errors import KnowledgeBaseError
    from kinresist.interpret.names import parse_protein
    from kinresist.kb import load_kb

    kind: AlterationKind | None = None
    if key.kind == "fusion":
        kind = "fusion"
    elif key.kind == "copy_number":
        kind = "amplification" if key.name == "amplification" else None
    elif key.kind == "expression":
        kind = "expression"
    else:
        protein = parse_protein(key.name)
        if protein is not None:
            kind = protein.kind
        elif key.name.startswith("exon "):
            kind = "splice" if key.name.endswith("skipping") else "exon"
        elif key.name == "mutation":
            kind = "gene_mutation"
    try:
        found = load_kb().find_alterations(key.gene, key.name)
    except KnowledgeBaseError:  # a broken user overlay: the assay keeps its parsed key
        return None, None, kind
    if not found:
        return False, None, kind
    return True, str(found[0].id), found[0].kind


def _target(assay: str, key: AlterationKey | None, gene: str | None, *, wild_type: bool,
            source: Literal["assay_map", "name"] | None) -> AssayTarget:  # fmt: skip
    if key is None:
        return AssayTarget(assay, gene, None, None, wild_type, None, None, None, source)
    in_kb, kb_id, kind = _kb_facts(key)
    return AssayTarget(assay, key.gene, key.name, str(key), False, kind, in_kb, kb_id, source)


def _map_value(target: str, value: str) -> AssayTarget:
    """An assay-map entry -> AssayTarget; InputError when the alteration cannot be named."""
    from kinresist.core.alteration import alteration_key, parse_target

    text = " ".join(str(value).split())
    if _norm(text) in _WILD_TYPE_WORDS or not text:
        return _target(target, None, None, wild_type=True, source="assay_map")
    key = alteration_key(None, text)
    if key is not None:
        return _target(target, key, key.gene, wild_type=False, source="assay_map")
    gene, key2, wild = parse_target(text)
    if wild or key2 is not None:
        return _target(target, key2, gene, wild_type=wild, source="assay_map")
    msg = (
        f"assay map: {value!r} (for target {target!r}) is not an alteration kinresist can name; "
        "write gene + change ('ALK G1202R', 'EGFR exon 19 deletion', 'MET amplification', "
        "'EML4-ALK v1') or 'wild type'"
    )
    raise InputError(msg)


def resolve_assay_map(mapping: Mapping[str, str]) -> dict[str, AssayTarget]:
    """Validate an assay map (target name -> alteration text) once; keys are normalised names."""
    return {_norm(t): _map_value(str(t), v) for t, v in mapping.items()}


def read_assay_map(path: str | PathLike[str]) -> dict[str, str]:
    """Read an assay map: CSV/TSV with a header naming ``target`` and ``alteration`` columns.

    Column names are matched case-insensitively (``assay``/``target name`` for the target,
    ``alteration``/``alteration key``/``mutation`` for the alteration). Blank lines and ``#``
    comments are skipped.
    """
    p = Path(path)
    from kinresist.ddpcr._text import read_csv_text, rows

    table = read_csv_text(p, name=str(p))
    data = [r for r in rows(table) if any(c.strip() for c in r) and not r[0].startswith("#")]
    if not data:
        msg = "the assay map is empty; expected a header 'target,alteration' and one row per assay"
        raise InputError(msg, path=p)
    header = [h.strip().lower() for h in data[0]]
    t_col = next((i for i, h in enumerate(header) if h in ("target", "assay", "target name")), None)
    a_col = next(
        (
            i
            for i, h in enumerate(header)
            if h in ("alteration", "alteration key", "alteration_key", "mutation")
        ),
        None,
    )
    if t_col is None or a_col is None:
        msg = (
            f"assay map header {data[0]!r} lacks a 'target' and an 'alteration' column; "
            "expected e.g. 'target,alteration' then 'ALK_G1202R,ALK G1202R'"
        )
        raise InputError(msg, path=p, line=1)
    out: dict[str, str] = {}
    for i, row in enumerate(data[1:], start=2):
        if len(row) <= max(t_col, a_col):
            msg = f"expected {max(t_col, a_col) + 1} columns, got {len(row)}"
            raise InputError(msg, path=p, line=i)
        target = row[t_col].strip()
        if not target:
            msg = "empty target name"
            raise InputError(msg, path=p, line=i)
        if _norm(target) in {_norm(t) for t in out}:
            msg = f"target {target!r} is mapped twice"
            raise InputError(msg, path=p, line=i)
        try:
            _map_value(target, row[a_col])
        except InputError as exc:
            raise InputError(str(exc.args[0]), path=p, line=i) from None
        out[target] = row[a_col].strip()
    return out


def assay_map_from_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``["ALK_G1202R=ALK G1202R", "Target 2=wild type"]`` -> a map (CLI ``--assay``)."""
    out: dict[str, str] = {}
    for pair in pairs:
        target, sep, alteration = pair.partition("=")
        if not sep or not target.strip():
            msg = f"--assay {pair!r}: expected TARGET=ALTERATION, e.g. 'ALK_G1202R=ALK G1202R'"
            raise InputError(msg)
        out[target.strip()] = alteration.strip()
    return out


def parse_assay_name(
    name: str, *, assay_map: Mapping[str, AssayTarget] | None = None
) -> AssayTarget:
    """``'ALK_G1202R'`` -> AssayTarget(gene 'ALK', alteration 'G1202R', key 'ALK G1202R').

    ``assay_map`` is a resolved map (:func:`resolve_assay_map`); its entries win over parsing.
    """
    from kinresist.core.alteration import parse_target

    text = (name or "").strip()
    if assay_map:
        hit = assay_map.get(_norm(text))
        if hit is not None:
            return AssayTarget(
                text, hit.gene, hit.alteration, hit.key, hit.wild_type, hit.kind, hit.in_kb,
                hit.kb_id, hit.source,
            )  # fmt: skip
    if not text:
        return AssayTarget(text, None, None, None, False, None, None, None, None)
    if _norm(text) in _WILD_TYPE_WORDS:
        return _target(text, None, None, wild_type=True, source="name")
    gene, key, wild = parse_target(text)
    if key is None:
        return _target(
            text, None, _known_gene(gene), wild_type=wild, source="name" if wild else None
        )
    return _target(text, key, gene, wild_type=False, source="name")


def _known_gene(symbol: str | None) -> str | None:
    """A gene symbol the knowledge base knows (``Target 1`` does not name gene TARGET)."""
    from kinresist.errors import KnowledgeBaseError
    from kinresist.kb import load_kb

    if symbol is None:
        return None
    try:
        gene = load_kb().gene(symbol)
    except KnowledgeBaseError:
        return None
    return None if gene is None else gene.symbol


def load_assay_map(assay_map: AssayMapLike) -> tuple[dict[str, str], dict[str, AssayTarget]]:
    """(the map as given, the resolved map) from a mapping, a map file or None."""
    if assay_map is None:
        return {}, {}
    raw = (
        dict(assay_map) if isinstance(assay_map, Mapping) else read_assay_map(assay_map)  # a path
    )
    return raw, resolve_assay_map(raw)


def assay_targets(
    targets: Iterable[str], assay_map: Mapping[str, AssayTarget] | None = None
) -> dict[str, AssayTarget]:
    """Every distinct target name -> what it measures (parsed once per name)."""
    return {t: parse_assay_name(t, assay_map=assay_map) for t in dict.fromkeys(map(str, targets))}
