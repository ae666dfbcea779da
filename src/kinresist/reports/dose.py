"""Dose-response figures (matplotlib Figure API, no pyplot) and the HTML report.

Figures follow Prism conventions: log10 dose axis, vehicle (dose 0) drawn at a
broken-axis position one decade below the lowest dose, mean ± SD per dose, the
fitted curve, its pointwise 95 % confidence band (delta method on the fit's
covariance) and a marker at the IC50 (relative ED50).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.figure import Figure

from kinresist.dose.engine import BatchFit
from kinresist.provenance import RESEARCH_USE_NOTICE

__all__ = ["curve_band", "plot_curves", "render_html", "resistance_sentence", "save_figure"]

_COLORS = ("#1f4e9c", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#2c3e50", "#7f8c8d", "#b7950b")


def curve_band(
    fit: BatchFit, i: int, grid: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted curve of fit row ``i`` on ``grid`` with a pointwise delta-method band."""
    fam = fit.spec.family
    p = {n: np.array([[fit.params[i, j]]]) for j, n in enumerate(fit.param_names)}
    x = grid[None, :]
    with np.errstate(all="ignore"):
        yhat = fam.f(x, p)[0]
        jac = fam.jacobian(x, p)
    free = [j for j, f in enumerate(fit.free) if f]
    if not free:
        return yhat, yhat, yhat
    jm = np.column_stack([np.broadcast_to(jac[fit.param_names[j]], x.shape)[0] for j in free])
    cov = fit.cov[i][np.ix_(free, free)]
    if not np.isfinite(cov).all():
        return yhat, np.full_like(yhat, np.nan), np.full_like(yhat, np.nan)
    se = np.sqrt(np.maximum(np.einsum("gi,ij,gj->g", jm, cov, jm), 0))
    t = float(fit.t_quantile(level)[i])
    return yhat, yhat - t * se, yhat + t * se


def plot_curves(
    fit: BatchFit,
    dose: np.ndarray,
    response: np.ndarray,
    labels: Sequence[str],
    *,
    rows: Sequence[int] | None = None,
    ed50: np.ndarray | None = None,
    dose_unit: str = "nM",
    response_label: str = "Response (% of vehicle)",
    title: str | None = None,
) -> Figure:
    """One panel with several curves (rows of ``fit``)."""
    rows = list(range(fit.n_curves)) if rows is None else list(rows)
    fig = Figure(figsize=(5.2, 3.9), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    pos = dose[np.isfinite(dose) & (dose > 0)]
    if pos.size == 0:
        pos = np.array([1.0])
    lmin, lmax = np.log10(pos.min()), np.log10(pos.max())
    ticks = list(range(int(np.ceil(lmin - 0.3)), int(np.floor(lmax + 0.3)) + 1))
    zero_at = min(lmin - 1.0, (ticks[0] if ticks else lmin) - 1.0)
    grid = np.logspace(lmin - 0.3, lmax + 0.3, 200)
    for k, i in enumerate(rows):
        color = _COLORS[k % len(_COLORS)]
        x, y = dose[i], response[i]
        ok = np.isfinite(x) & np.isfinite(y)
        ux = np.unique(x[ok])
        means = np.array([y[ok][x[ok] == u].mean() for u in ux])
        sds = np.array(
            [y[ok][x[ok] == u].std(ddof=1) if (x[ok] == u).sum() > 1 else 0.0 for u in ux]
        )
        lx = np.where(ux > 0, np.log10(np.where(ux > 0, ux, 1.0)), zero_at)
        ax.errorbar(
            lx, means, yerr=sds, fmt="o", color=color, ms=4.5, capsize=3, lw=1, label=labels[i]
        )
        yhat, lo, hi = curve_band(fit, i, grid)
        ax.plot(np.log10(grid), yhat, color=color, lw=1.8)
        if np.isfinite(lo).all():
            ax.fill_between(np.log10(grid), lo, hi, color=color, alpha=0.15, lw=0)
        if ed50 is not None and np.isfinite(ed50[i]) and ed50[i] > 0:
            le = np.log10(ed50[i])
            ye = (
                fit.predict(np.array([[ed50[i]]]))[i, 0]
                if fit.n_curves > 1
                else fit.predict(np.array([ed50[i]]))[0, 0]
            )
            ax.axvline(le, color=color, ls=":", lw=1)
            ax.plot([le], [ye], marker="D", color=color, ms=6, mec="white")
    ax.axvline(0.5 * (zero_at + lmin - 0.3), color="#999999", lw=0.6, ls=(0, (2, 2)))
    ax.set_xticks([zero_at, *ticks])
    ax.set_xticklabels(["0", *[f"$10^{{{t}}}$" for t in ticks]])
    ax.set_xlabel(f"Dose ({dose_unit})")
    ax.set_ylabel(response_label)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write PNG or SVG (by suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=path.suffix.lstrip(".").lower() or "png")
    return path


def figure_svg(fig: Figure) -> str:
    """Inline SVG markup of a figure."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.find("<svg") :]


def figure_png_b64(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    v = float(v)
    if not np.isfinite(v):
        return "n/a"
    return f"{v:.{digits}g}"


def resistance_sentence(compare: dict[str, Any], *, unit: str = "nM") -> list[str]:
    """ "resistant: IC50 X nM (95% CI a–b), Y-fold the parental IC50 (95% CI c–d), p = …"."""
    from kinresist.dose.compare import p_value_text

    eds = {e["group"]: e for e in compare["ed"]}
    out = []
    for r in compare["ratios"]:
        e = eds[r["numerator"]]
        fl = r["fieller"]
        ci = (
            f"95% CI {_fmt(fl['ci_low'])}–{_fmt(fl['ci_high'])}, Fieller"
            if fl.get("bounded")
            else f"95% CI {_fmt(r['delta']['ci_low'])}–{_fmt(r['delta']['ci_high'])}, delta; Fieller unbounded"
        )
        out.append(
            f"{r['numerator']}: IC50 {_fmt(e['estimate'])} {unit} (95% CI {_fmt(e['ci_low'])}–"
            f"{_fmt(e['ci_high'])}), {_fmt(r['estimate'])}-fold the {r['denominator']} IC50 ({ci}), "
            f"{p_value_text(compare['f_test']['p'])}"
        )
    return out


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("kinresist.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def render_html(context: dict[str, Any]) -> str:
    """Render the self-contained dose-response report (``dose_report.html.j2``)."""
    ctx = {"notice": RESEARCH_USE_NOTICE, "fmt": _fmt, **context}
    return _env().get_template("dose_report.html.j2").render(**ctx)
