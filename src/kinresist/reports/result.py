"""Render any :class:`kinresist.core.Result` as a self-contained HTML page.

Workflows with a dedicated report extend ``base.html.j2``; everything else gets this generic page:
the envelope, warnings, every figure (inline SVG or plotly with the bundled plotly.js), every
table. Nothing here computes a statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    import pandas as pd

    from kinresist.core.result import Figure, Result

__all__ = ["figure_markup", "render_page", "render_result", "table_html"]

#: Rows of a table shown in a page before the rest is left to the TSV/Parquet output.
MAX_ROWS = 500


def figure_markup(fig: Figure) -> Markup:
    """Inline markup of a figure: its SVG, or a plotly div with the bundled plotly.js."""
    if fig.svg is not None:
        svg = fig.svg
        start = svg.find("<svg")
        return Markup(svg[start:] if start >= 0 else svg)
    if fig.plotly is not None:
        import plotly.io as pio

        return Markup(pio.to_html(dict(fig.plotly), full_html=False, include_plotlyjs=True))
    return Markup("")


def table_html(frame: pd.DataFrame, *, max_rows: int = MAX_ROWS) -> Markup:
    """A table as escaped HTML (floats to 4 significant digits); long tables are cut with a note."""
    shown = frame.head(max_rows).copy()
    for i, dtype in enumerate(shown.dtypes):  # pandas prints None in a text column as "None"
        if dtype.kind == "O":
            col = shown.iloc[:, i]
            shown.iloc[:, i] = col.where(col.notna(), "–")
    html = shown.to_html(index=False, na_rep="–", float_format=lambda v: f"{v:.4g}", border=0)
    if len(frame) > max_rows:
        html += (
            f"<p class='meta'>{len(frame) - max_rows:,} more rows in the TSV/Parquet output.</p>"
        )
    return Markup(html)


@dataclass(frozen=True)
class _Fig:
    name: str
    caption: str
    markup: Markup


def render_page(
    template: str, *, title: str, envelope: dict[str, Any] | None = None, **context: Any
) -> str:
    """Render ``template`` (which extends ``base.html.j2``) with the common context."""
    from kinresist.reports._html import environment

    return (
        environment().get_template(template).render(title=title, envelope=envelope or {}, **context)
    )


def render_result(
    result: Result, *, title: str | None = None, sentences: Sequence[str] = ()
) -> str:
    """The generic HTML page of a result."""
    tables = [(name, table_html(frame)) for name, frame in result.tables.items()]
    if result.measurements:
        tables.append(("measurements", table_html(result.measurements_frame())))
    figures = [_Fig(f.name, f.caption, figure_markup(f)) for f in result.figures]
    return render_page(
        "result.html.j2",
        title=title or result.workflow,
        envelope=result.envelope(),
        sentences=list(sentences),
        figures=figures,
        tables=tables,
    )
