"""``kinresist store``: initialise and inspect the project store."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from kinresist.cli._common import DbOpt, FormatOpt, OutFormat, emit, emit_text, resolve_db
from kinresist.provenance import stamp

app = typer.Typer(no_args_is_help=True)


@app.command("init")
def init(db: DbOpt = None) -> None:
    """Create (or migrate to the newest schema) the project store."""
    from kinresist.store import current_revision, open_store

    with open_store(resolve_db(db)) as store:
        typer.echo(f"store ready at {store.url} (schema revision {current_revision(store.engine)})")


@app.command("info")
def info(db: DbOpt = None, fmt: FormatOpt = OutFormat.text) -> None:
    """Row counts per table and the schema revision."""
    from kinresist.store import current_revision, open_store

    with open_store(resolve_db(db)) as store:
        counts = store.counts()
        revision = current_revision(store.engine)
        url = store.url
    if fmt is OutFormat.json:
        emit(
            {
                **stamp("kinresist.store.info", "1.0"),
                "url": url,
                "revision": revision,
                "counts": counts,
            }
        )
        return
    table = Table(title=f"kinresist store {url} (revision {revision})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    Console().print(table)


@app.command("samples")
def samples(
    db: DbOpt = None,
    study: str | None = typer.Option(None, help="Only samples of this study."),
    fmt: FormatOpt = OutFormat.text,
) -> None:
    """List samples with their subject, study and number of findings."""
    from kinresist.store import open_store

    with open_store(resolve_db(db)) as store:
        rows = [
            {
                "study": s.subject.study.name,
                "subject": s.subject.label,
                "subject_kind": s.subject.kind,
                "sample": s.label,
                "sample_kind": s.kind,
                "collected": s.collected.isoformat() if s.collected else None,
            }
            for s in store.samples(study=study)
        ]
    if fmt is OutFormat.json:
        emit({**stamp("kinresist.store.samples", "1.0"), "samples": rows})
        return
    table = Table(title="samples")
    for col in ("study", "subject", "subject_kind", "sample", "sample_kind", "collected"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(r[c] or "") for c in r))
    Console().print(table)


@app.command("alteration")
def alteration(
    key: str = typer.Argument(..., help='An alteration in any spelling, e.g. "ALK G1202R".'),
    db: DbOpt = None,
    study: str | None = typer.Option(None, help="Only this study."),
    fmt: FormatOpt = OutFormat.text,
) -> None:
    """Everything the store holds for one alteration: ddPCR, NGS, interpretations, IC50s."""
    import pandas as pd

    from kinresist.core import alteration_key
    from kinresist.errors import InputError
    from kinresist.store import open_store

    parsed = alteration_key(None, key)
    if parsed is None:
        msg = f"{key!r} is not an alteration kinresist can name; write gene and change, e.g. 'ALK G1202R'"
        raise InputError(msg)
    with open_store(resolve_db(db)) as store:
        rows = store.by_alteration(str(parsed), study=study)
    if fmt is OutFormat.json:
        emit(
            {**stamp("kinresist.store.alteration", "1.0"), "alteration": str(parsed), "rows": rows}
        )
        return
    frame = pd.DataFrame(rows)
    if fmt is OutFormat.tsv:
        emit_text(frame.to_csv(sep="\t", index=False))
        return
    emit_text(f"{parsed}: {len(rows)} records\n" + (frame.to_string(index=False) if rows else ""))
