"""Concentration units: parse nM / uM / µM / mM / M (and pM) and normalise to nM."""

from __future__ import annotations

import math
import re

from kinresist.errors import UnitError

__all__ = ["UNIT_TO_NM", "parse_concentration", "to_nm", "unit_factor"]

#: unit (lower case, micro sign and Greek mu both accepted) -> factor to nM
UNIT_TO_NM: dict[str, float] = {
    "pm": 1e-3,
    "nm": 1.0,
    "um": 1e3,
    "µm": 1e3,  # micro sign U+00B5
    "μm": 1e3,  # Greek mu U+03BC
    "mm": 1e6,
    "m": 1e9,
}
_EXPECTED = "pM, nM, uM (µM), mM or M"
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")


def unit_factor(unit: str, *, where: str | None = None) -> float:
    """Factor converting ``unit`` to nM (``"uM"`` -> 1000)."""
    key = str(unit).strip().replace("molar", "M")
    low = key.lower()
    if low in UNIT_TO_NM:
        return UNIT_TO_NM[low]
    place = f" in {where}" if where else ""
    msg = f"unknown concentration unit {unit!r}{place}; expected {_EXPECTED}"
    raise UnitError(msg)


def to_nm(value: float, unit: str, *, where: str | None = None) -> float:
    """``value`` in ``unit`` expressed in nM."""
    return float(value) * unit_factor(unit, where=where)


def parse_concentration(
    text: str, *, default_unit: str | None = None, where: str | None = None
) -> float:
    """``"10 uM"`` -> 10000.0 (nM). A bare number needs ``default_unit``."""
    if isinstance(text, int | float):
        if default_unit is None:
            msg = f"concentration {text!r}{' in ' + where if where else ''} has no unit; expected {_EXPECTED}"
            raise UnitError(msg)
        return to_nm(float(text), default_unit, where=where)
    m = _NUMBER_UNIT.match(str(text))
    if not m:
        msg = (
            f"cannot read concentration {text!r}{' in ' + where if where else ''}; "
            f"expected a number followed by a unit ({_EXPECTED}), e.g. '10 uM'"
        )
        raise UnitError(msg)
    value, unit = float(m.group(1)), m.group(2)
    if not unit:
        if default_unit is None:
            msg = f"concentration {text!r}{' in ' + where if where else ''} has no unit; expected {_EXPECTED}"
            raise UnitError(msg)
        unit = default_unit
    if math.isnan(value) or value < 0:
        msg = f"concentration {text!r}{' in ' + where if where else ''} must be >= 0"
        raise UnitError(msg)
    return to_nm(value, unit, where=where)
