"""Jinja2 for the web pages: ``web/templates`` (``layout.html.j2`` mirrors the reports'
``base.html.j2``: the same stylesheet, notice and envelope header), autoescaped.

Figures on the app's own pages: inline SVG as the reports embed it (made pan/zoomable by
``static/web.js``), plotly figures as a ``<div data-figure=...>`` drawn by the bundled plotly.js
served from the installed plotly package (``/static/vendor/plotly.min.js``), never a CDN.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup

if TYPE_CHECKING:
    import pandas as pd

    from kinresist.core.result import Figure

__all__ = ["environment", "figure_html", "fmt_value", "plotly_div", "table_html"]


def fmt_value(value: Any, digits: int = 4) -> str:
    """A cell for a page: numbers to ``digits`` significant digits, None as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def plotly_div(figure: Any, *, name: str = "figure") -> Markup:
    """A div that ``static/web.js`` turns into an interactive plotly figure."""
    from kinresist.core.serialise import to_json

    data = to_json(dict(figure), indent=None)
    return Markup('<div class="kr-plotly" id="plot-{}" data-figure="{}"></div>').format(name, data)


def figure_html(fig: Figure) -> Markup:
    """A result figure for an app page: inline SVG, or a plotly div."""
    if fig.svg is not None:
        from kinresist.reports.result import figure_markup

        return Markup('<div class="kr-svg">{}</div>').format(figure_markup(fig))
    if fig.plotly is not None:
        return plotly_div(fig.plotly, name=fig.name)
    return Markup("")


def table_html(frame: pd.DataFrame, *, max_rows: int = 500) -> Markup:
    from kinresist.reports.result import table_html as report_table

    return report_table(frame, max_rows=max_rows)


@lru_cache(maxsize=1)
def environment() -> Environment:
    from kinresist._version import __version__
    from kinresist.provenance import RESEARCH_USE_NOTICE
    from kinresist.reports._html import BASE_CSS

    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("kinresist.web", "templates"),
                PackageLoader("kinresist.reports", "templates"),
            ]
        ),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["base_css"] = Markup(BASE_CSS)
    env.globals["kinresist_version"] = __version__
    env.globals["research_use_notice"] = RESEARCH_USE_NOTICE
    env.filters["v"] = fmt_value
    env.filters["json"] = lambda obj: json.dumps(obj, indent=1, default=str)
    return env
