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
    """Build every workflow on generated data: a patient's ctDNA timeline (ddPCR + NGS, three
    therapy lines, alerts); a parental and a resistant line (dose plate, synergy block, western
    blots, UMI reads, interpretation, lineage); an in vivo study with its tumours'
    microenvironment (ELISA, flow, GSEA, biomarkers vs response); a clinical cohort (survival and
    response by plasma G1202R). All imported through one manifest into a fresh SQLite store;
    prints the HTML index's path (about 20 s of CPU; a first run also compiles the NGS
    kernels)."""
    from kinresist.demo import run_demo

    result = run_demo(out_dir)
    for alert in result.alerts:
        typer.echo(f"alert: {alert['kind']} {alert['alteration']} {alert['sample']}", err=True)
    typer.echo(f"store: {result.store}", err=True)
    typer.echo(str(result.index))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
