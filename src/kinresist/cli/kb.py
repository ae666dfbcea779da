"""``kinresist kb``: show, validate, version and import-civic (thin adapters over kinresist.kb)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, OutOpt, emit, emit_text, resolve_db

app = typer.Typer(no_args_is_help=True)

KbPathOpt = Annotated[
    Path | None,
    typer.Option(
        "--kb", help="KB directory to use instead of the bundled one.", show_default=False
    ),
]
OverlayOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--overlay",
        help="Import overlay folder(s) to load on top of the KB (default: those in the user KB "
        "dir, $KINRESIST_KB_DIR/overlays).",
        show_default=False,
    ),
]
NoOverlayOpt = Annotated[
    bool, typer.Option("--no-overlays", help="Load the curated KB only, without imports.")
]


def _overlays(overlay: list[Path] | None, no_overlays: bool) -> Sequence[Path] | None:
    if no_overlays:
        return ()
    return overlay or None


@app.command("show")
def show(
    gene: Annotated[str, typer.Argument(help="Gene symbol, e.g. ALK.")],
    alteration: Annotated[
        list[str],
        typer.Argument(
            help="Alteration: G1202R, p.Gly1202Arg, c.3604G>A, 1151Tins, EML4-ALK v3..."
        ),
    ],
    fmt: FormatOpt = OutFormat.text,
    out: OutOpt = None,
    kb_path: KbPathOpt = None,
    overlay: OverlayOpt = None,
    no_overlays: NoOverlayOpt = False,
) -> None:
    """Print what the KB knows about an alteration: coordinates, evidence, mechanisms."""
    from kinresist.kb import load_kb
    from kinresist.kb.show import SHOW_SCHEMA_VERSION, describe, render_text
    from kinresist.provenance import stamp

    kb = load_kb(kb_path, overlays=_overlays(overlay, no_overlays))
    name = " ".join(alteration)
    payload = describe(kb, gene, name)
    if fmt == OutFormat.json:
        header = stamp(
            "kinresist.kb.show", SHOW_SCHEMA_VERSION,
            parameters={"gene": gene, "alteration": name}, kb_version=kb.version,
        )  # fmt: skip
        emit({**header, **payload}, out=out)
    elif fmt == OutFormat.tsv:
        emit_text(_show_tsv(payload, kb.version), out=out)
    else:
        emit_text(render_text(payload), out=out)


def _show_tsv(payload: dict[str, Any], version: str) -> str:
    from kinresist.kb.show import SHOW_SCHEMA_VERSION
    from kinresist.provenance import stamp, tsv_header

    head = tsv_header(stamp("kinresist.kb.show", SHOW_SCHEMA_VERSION, kb_version=version))
    cols = ["alteration", "matched_via", "drug", "effect", "level", "model_system", "ic50_nm",
            "status", "pmid", "civic_eid", "source", "kb_release_date"]  # fmt: skip
    lines = ["\t".join(cols)]
    for a in payload["alterations"]:
        for e in a["evidence"]:
            vals = [a["id"]] + ["" if e[c] is None else str(e[c]) for c in cols[1:]]
            lines.append("\t".join(v.replace("\t", " ") for v in vals))
    return head + "\n".join(lines) + "\n"


@app.command("version")
def version(
    fmt: FormatOpt = OutFormat.text,
    kb_path: KbPathOpt = None,
    overlay: OverlayOpt = None,
    no_overlays: NoOverlayOpt = False,
) -> None:
    """Print the KB version (with imported overlays), release date and sources."""
    from kinresist.kb import load_kb

    kb = load_kb(kb_path, overlays=_overlays(overlay, no_overlays))
    rel = kb.release
    if fmt == OutFormat.json:
        emit({
            "kb_version": rel.version, "base_kb_version": rel.base_version,
            "release_date": rel.release_date, "schema_version": rel.schema_version,
            "path": rel.path,
            "overlays": [{"name": o.name, "path": o.path, "source_file": o.source_file,
                          "source_sha256": o.source_sha256, "imported_at": o.imported_at,
                          "counts": dict(o.counts)} for o in rel.overlays],
            "sources": [{"id": s.id, "citation": s.citation, "licence": s.licence, "pmid": s.pmid}
                        for s in rel.sources],
        })  # fmt: skip
        return
    lines = [f"{rel.version} (released {rel.release_date}; curated base {rel.base_version})"]
    lines += [
        f"overlay {o.name}: {o.source_file} imported {o.imported_at} ({o.path})"
        for o in rel.overlays
    ]
    emit_text("\n".join(lines))


@app.command("validate")
def validate(
    path: Annotated[
        Path | None, typer.Argument(help="KB directory (default: the bundled KB).")
    ] = None,
    overlay: OverlayOpt = None,
    no_overlays: NoOverlayOpt = False,
    fmt: FormatOpt = OutFormat.text,
) -> None:
    """Validate KB data files (schema + referential integrity); exit 2 with the first problem."""
    from kinresist.kb import load_kb

    kb = load_kb(path, overlays=_overlays(overlay, no_overlays))
    counts = {
        "genes": len(kb.genes), "drugs": len(kb.drugs), "alterations": len(kb.alterations),
        "profiles": len(kb.profiles), "evidence": len(kb.evidence), "mechanisms": len(kb.mechanisms),
        "conflicts": len(kb.conflicts()),
    }  # fmt: skip
    if fmt == OutFormat.json:
        emit({"kb_version": kb.version, "valid": True, "counts": counts})
    else:
        emit_text(
            f"KB {kb.version}: valid (" + ", ".join(f"{v} {k}" for k, v in counts.items()) + ")"
        )


@app.command("import-civic")
def import_civic_cmd(
    file: Annotated[Path, typer.Argument(help="CIViC evidence TSV (2018 or current schema).")],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Overlay folder (default: the user KB dir, $KINRESIST_KB_DIR/overlays).",
        ),
    ] = None,
    variants: Annotated[
        Path | None,
        typer.Option("--variants", help="2018 VariantSummaries TSV (default: sibling file)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Overlay name (default from the file name).")
    ] = None,
    kb_path: KbPathOpt = None,
    db: DbOpt = None,
    fmt: FormatOpt = OutFormat.text,
) -> None:
    """Import CIViC evidence as a KB overlay (curated items are not duplicated)."""
    from kinresist.kb import load_kb
    from kinresist.kb.civic_import import import_civic
    from kinresist.kb.loader import default_overlay_dir
    from kinresist.kb.overlay import write_overlay
    from kinresist.provenance import stamp

    if not file.is_file():
        raise FileNotFoundError(2, "No such file", str(file))
    base = load_kb(kb_path, overlays=())
    imp = import_civic(file, kb=base, variants=variants, name=name)
    root = out_dir if out_dir is not None else default_overlay_dir()
    target = write_overlay(imp, root, base_kb_version=base.version, kb_path=kb_path)
    new_version = load_kb(kb_path, overlays=[root]).version
    payload = {
        **stamp("kinresist.kb.import_civic", "1", inputs={str(file): imp.source_sha256},
                parameters={"name": imp.name, "schema": imp.schema}, kb_version=new_version),
        "overlay": str(target), "overlay_name": imp.name, "source_schema": imp.schema,
        "counts": imp.counts,
    }  # fmt: skip
    store = resolve_db(db)
    if store is not None:
        _record(store, payload, imp.source_sha256, str(file))
    if fmt == OutFormat.json:
        emit(payload)
    else:
        c = imp.counts
        emit_text(
            f"Imported {c['rows_imported']} of {c['rows']} CIViC rows from {file.name} as overlay "
            f"{imp.name} ({c['evidence']} evidence items, {c['new_alterations']} new alterations, "
            f"{c['skipped']} rows skipped: "
            + ", ".join(f"{k[8:]} {v}" for k, v in sorted(c.items()) if k.startswith("skipped_"))
            + f").\nKB version now {new_version}; overlay written to {target}"
        )


def _record(db: str, payload: dict[str, Any], sha: str, path: str) -> None:
    """Record the import as an analysis run through the one store writer."""
    from kinresist.core import Provenance, Result, record
    from kinresist.store import open_store

    result = Result(
        workflow="kb.import_civic",
        schema_version=str(payload["schema_version"]),
        provenance=Provenance.build(
            inputs={path: sha}, parameters=payload["parameters"], kb_version=payload["kb_version"]
        ),
        body={"overlay": payload["overlay"], "counts": payload["counts"]},
    )
    with open_store(db) as store:
        record(result, store, study="knowledge base")
