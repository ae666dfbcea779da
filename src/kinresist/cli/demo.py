"""``kinresist demo``: build the demo workbench and print its index page's path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo_command(
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for the example data, demo store and reports.")
    ] = Path("kinresist-demo"),
) -> None:
    """Build the whole workbench on generated data: a patient's ctDNA timeline (ddPCR + NGS,
    three therapy lines, alerts), a parental and a resistant line (dose plate, synergy block,
    lineage), all imported through one manifest into a fresh SQLite store; print the HTML
    index's path."""
    from kinresist.demo import run_demo

    result = run_demo(out_dir)
    for alert in result.alerts:
        typer.echo(f"alert: {alert['kind']} {alert['alteration']} {alert['sample']}", err=True)
    typer.echo(f"store: {result.store}", err=True)
    typer.echo(str(result.index))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
