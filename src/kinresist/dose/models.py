"""Dose-response models in the drc parameterisation, declared lifelines-style.

Each model declares only its equation, its analytic Jacobian, the parameters the
optimiser sees on the log scale and (optionally) closed forms for effective doses
(:mod:`kinresist.dose.model_base`, :mod:`kinresist.dose.log_dose_models`). The batch
engine (:mod:`kinresist.dose.engine`) does the fitting, uncertainty and flags for
every model the same way. This module holds the named-model registry.

Parameter names (drc letter in brackets): ``hill`` (b), ``bottom`` (c), ``top``
(d), ``ec50`` (e), ``asymmetry`` (f).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kinresist.dose.log_dose_models import LL4, LL5, W14, W24, LogDoseModel
from kinresist.dose.model_base import DRC_LETTERS, DoseArray, DoseInput, Model, Params
from kinresist.errors import InputError

__all__ = [
    "DRC_LETTERS",
    "MODELS",
    "DoseArray",
    "DoseInput",
    "LogDoseModel",
    "Model",
    "ModelSpec",
    "Params",
    "get_model",
]


@dataclass(frozen=True)
class ModelSpec:
    """A named model: a family plus parameters fixed by the name (``LL.3`` = LL.4 with c = 0)."""

    name: str
    family: Model
    fixed: Mapping[str, float] = field(default_factory=dict)
    description: str = ""


MODELS: dict[str, ModelSpec] = {
    "LL.4": ModelSpec("LL.4", LL4(), {}, "log-logistic, 4 parameters"),
    "LL.3": ModelSpec("LL.3", LL4(), {"bottom": 0.0}, "log-logistic, lower limit 0"),
    "LL.3u": ModelSpec("LL.3u", LL4(), {"top": 1.0}, "log-logistic, upper limit 1"),
    "LL.2": ModelSpec("LL.2", LL4(), {"bottom": 0.0, "top": 1.0}, "log-logistic, limits 0 and 1"),
    "LL.5": ModelSpec("LL.5", LL5(), {}, "generalised log-logistic, 5 parameters"),
    "W1.4": ModelSpec("W1.4", W14(), {}, "Weibull type 1, 4 parameters"),
    "W2.4": ModelSpec("W2.4", W24(), {}, "Weibull type 2, 4 parameters"),
}


def get_model(model: str | Model | ModelSpec) -> ModelSpec:
    """Look up a model by drc name (``LL.4``, ``LL.3``, ``LL.3u``, ``LL.2``, ``LL.5``, ``W1.4``, ``W2.4``)
    or wrap a user-declared :class:`Model`."""
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, Model):
        return ModelSpec(model.name, model, {})
    key = str(model).strip()
    for name, spec in MODELS.items():
        if name.lower() == key.lower():
            return spec
    msg = f"unknown dose-response model {model!r}; expected one of {', '.join(MODELS)}"
    raise InputError(msg)
