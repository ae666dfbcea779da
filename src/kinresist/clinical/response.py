"""Response rates: ORR and DCR with exact CIs, ORR differences, biomarker x response tables.

* ORR = (CR + PR) / N and DCR = (CR + PR + SD + non-CR/non-PD) / N with the Clopper-Pearson
  exact CI (``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``, = R
  ``binom.test``); Wilson and Agresti-Coull on request. N is named: ``"evaluable"`` (patients
  with an assessable best response; NE excluded, the spec default) or ``"all"`` (every patient,
  NE counted as a non-responder, the ITT convention of ALEX and CROWN).
* ORR difference with Newcombe's hybrid score CI (Newcombe 1998, method 10: Wilson limits of
  each proportion combined by the square-and-add rule; R ``Epi::ci.pd``, ``DescTools::
  BinomDiffCI(method="score")``).
* Fisher's exact test of a biomarker x response 2 x 2 with the conditional MLE odds ratio and its
  exact CI as R ``fisher.test`` (:mod:`kinresist.clinical._fisher`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from kinresist.clinical._fisher import Alternative, FisherResult, fisher_exact
from kinresist.clinical._validate import Where
from kinresist.errors import InputError

__all__ = [
    "BEST_RESPONSES",
    "Alternative",
    "Denominator",
    "FisherResult",
    "Proportion",
    "ProportionDifference",
    "ProportionMethod",
    "ResponseRates",
    "fisher_exact",
    "normalise_response",
    "orr_difference",
    "proportion",
    "proportion_ci",
    "response_rates",
    "response_rates_from_counts",
]

ProportionMethod = Literal["clopper-pearson", "wilson", "agresti-coull"]
Denominator = Literal["evaluable", "all"]
PROPORTION_METHODS: tuple[str, ...] = ("clopper-pearson", "wilson", "agresti-coull")

#: Best overall response categories (RECIST 1.1 / RANO / iRECIST-style short codes).
BEST_RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")

_SYNONYMS: dict[str, str] = {
    "cr": "CR",
    "complete response": "CR",
    "icr": "CR",
    "pr": "PR",
    "partial response": "PR",
    "ipr": "PR",
    "sd": "SD",
    "stable disease": "SD",
    "isd": "SD",
    "pd": "PD",
    "progressive disease": "PD",
    "progression": "PD",
    "iupd": "PD",
    "icpd": "PD",
    "non-cr/non-pd": "NON-CR/NON-PD",
    "non-cr/pd": "NON-CR/NON-PD",
    "noncr/nonpd": "NON-CR/NON-PD",
    "nn": "NON-CR/NON-PD",
    "ne": "NE",
    "not evaluable": "NE",
    "not evaluated": "NE",
    "unk": "NE",
    "unknown": "NE",
}


def normalise_response(value: Any, where: Where | None = None, position: int | None = None) -> str:
    """A best-response code (CR, PR, SD, NON-CR/NON-PD, PD, NE) from common spellings."""
    text = "" if value is None else str(value).strip()
    code = _SYNONYMS.get(text.lower())
    if code is None:
        msg = (
            f"best response {value!r} is not a response category; expected one of "
            f"{list(BEST_RESPONSES)} (or e.g. 'partial response'); use NE for not evaluable"
        )
        if where is not None:
            raise where.error(msg, position)
        raise InputError(msg)
    return code


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        msg = f"alpha must be in (0, 1), got {alpha!r} (0.05 gives 95% intervals)"
        raise InputError(msg)


def proportion_ci(
    k: int, n: int, *, method: ProportionMethod = "clopper-pearson", alpha: float = 0.05
) -> tuple[float, float]:
    """CI of a binomial proportion k/n: Clopper-Pearson (exact), Wilson or Agresti-Coull."""
    _check_alpha(alpha)
    if n <= 0 or not 0 <= k <= n or int(k) != k or int(n) != n:
        msg = f"need whole counts 0 <= k <= n and n > 0, got k={k!r}, n={n!r}"
        raise InputError(msg)
    k, n = int(k), int(n)
    level = 1 - alpha
    if method == "clopper-pearson":
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
        return float(ci.low), float(ci.high)
    if method == "wilson":
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
        return float(ci.low), float(ci.high)
    if method == "agresti-coull":
        z = float(stats.norm.ppf(1 - alpha / 2))
        nt = n + z * z
        pt = (k + z * z / 2) / nt
        half = z * math.sqrt(pt * (1 - pt) / nt)
        return max(0.0, pt - half), min(1.0, pt + half)
    msg = f"unknown proportion CI method {method!r}; expected one of {list(PROPORTION_METHODS)}"
    raise InputError(msg)


@dataclass(frozen=True)
class Proportion:
    """k/n with its CI (fractions; ``percent`` helpers for tables)."""

    k: int
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    method: str
    conf_level: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "n": self.n,
            "estimate": self.estimate,
            "ci": [self.ci_low, self.ci_high],
            "method": self.method,
            "conf_level": self.conf_level,
        }

    def text(self, digits: int = 1) -> str:
        """``"82.9% (76.0–88.5)"``."""
        p = [f"{100 * v:.{digits}f}" for v in (self.estimate, self.ci_low, self.ci_high)]
        return f"{p[0]}% ({p[1]}–{p[2]})"


def proportion(
    k: int, n: int, *, method: ProportionMethod = "clopper-pearson", alpha: float = 0.05
) -> Proportion:
    """k/n with its CI as a :class:`Proportion`."""
    lo, hi = proportion_ci(k, n, method=method, alpha=alpha)
    return Proportion(int(k), int(n), k / n, lo, hi, method, 1 - alpha)


@dataclass(frozen=True)
class ProportionDifference:
    """p1 - p2 with Newcombe's hybrid score CI."""

    first: Proportion
    second: Proportion
    difference: float
    ci_low: float
    ci_high: float
    method: str = "newcombe-hybrid-score"

    def to_dict(self) -> dict[str, Any]:
        return {
            "difference": self.difference,
            "ci": [self.ci_low, self.ci_high],
            "method": self.method,
            "first": self.first.to_dict(),
            "second": self.second.to_dict(),
        }


def orr_difference(
    k1: int, n1: int, k2: int, n2: int, *, alpha: float = 0.05
) -> ProportionDifference:
    """k1/n1 - k2/n2 with Newcombe's hybrid score interval (method 10, no continuity correction)."""
    l1, u1 = proportion_ci(k1, n1, method="wilson", alpha=alpha)
    l2, u2 = proportion_ci(k2, n2, method="wilson", alpha=alpha)
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    first = proportion(k1, n1, alpha=alpha)
    second = proportion(k2, n2, alpha=alpha)
    return ProportionDifference(first, second, d, lo, hi)


@dataclass(frozen=True)
class ResponseRates:
    """Best-response counts with ORR and DCR (and their CIs) for one group."""

    counts: Mapping[str, int]
    n_total: int
    denominator: Denominator
    orr: Proportion | None
    dcr: Proportion | None
    label: str = "all"
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n(self) -> int:
        """The denominator used for ORR and DCR."""
        if self.denominator == "all":
            return self.n_total
        return self.n_total - int(self.counts.get("NE", 0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.label,
            "n_total": self.n_total,
            "n": self.n,
            "denominator": self.denominator,
            "counts": dict(self.counts),
            "orr": None if self.orr is None else self.orr.to_dict(),
            "dcr": None if self.dcr is None else self.dcr.to_dict(),
            "flags": list(self.flags),
        }


def response_rates_from_counts(
    counts: Mapping[str, int],
    *,
    denominator: Denominator = "evaluable",
    method: ProportionMethod = "clopper-pearson",
    alpha: float = 0.05,
    label: str = "all",
) -> ResponseRates:
    """ORR and DCR from counts per best-response category (keys as :data:`BEST_RESPONSES`)."""
    if denominator not in ("evaluable", "all"):
        msg = f"unknown denominator {denominator!r}; expected 'evaluable' or 'all'"
        raise InputError(msg)
    full: dict[str, int] = dict.fromkeys(BEST_RESPONSES, 0)
    for key, value in counts.items():
        code = normalise_response(key)
        if int(value) != value or value < 0:
            msg = f"count of {key!r} must be a whole number >= 0, got {value!r}"
            raise InputError(msg)
        full[code] += int(value)
    n_total = sum(full.values())
    n = n_total if denominator == "all" else n_total - full["NE"]
    flags: list[str] = []
    if n == 0:
        flags.append("no_evaluable_patients")
        return ResponseRates(full, n_total, denominator, None, None, label, tuple(flags))
    responders = full["CR"] + full["PR"]
    control = responders + full["SD"] + full["NON-CR/NON-PD"]
    return ResponseRates(
        counts=full,
        n_total=n_total,
        denominator=denominator,
        orr=proportion(responders, n, method=method, alpha=alpha),
        dcr=proportion(control, n, method=method, alpha=alpha),
        label=label,
        flags=tuple(flags),
    )


def response_rates(
    best_response: Sequence[Any] | np.ndarray,
    *,
    denominator: Denominator = "evaluable",
    method: ProportionMethod = "clopper-pearson",
    alpha: float = 0.05,
    label: str = "all",
    where: Where | None = None,
) -> ResponseRates:
    """ORR and DCR from one best-response value per patient (CR/PR/SD/PD/NE...)."""
    codes = [
        normalise_response(v, where or Where("best_response"), i)
        for i, v in enumerate(best_response)
    ]
    counts = {c: codes.count(c) for c in BEST_RESPONSES}
    return response_rates_from_counts(
        counts, denominator=denominator, method=method, alpha=alpha, label=label
    )
