"""``kinresist demo``: build the demo study and print the report's path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo_command(
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for the example data, demo store and report.")
    ] = Path("kinresist-demo"),
) -> None:
    """Create a demo study in a fresh SQLite store from generated example data, interpret three
    ALK-resistance cases and write the HTML report (its path is printed)."""
    from kinresist.demo import run_demo

    result = run_demo(out_dir)
    for sample, classification in result.classifications.items():
        typer.echo(f"{sample}: {classification}", err=True)
    typer.echo(f"store: {result.store}", err=True)
    typer.echo(str(result.report))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
