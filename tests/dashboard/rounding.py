"""What an exported number may differ from the map's: its rounding, and no more.

The export writes each value as what it means (layers/export/fields.py): the kinds below
restate the issue's rule (minutes to 0.1, rates to 3 significant digits, counts whole,
p-values to 4 decimals, z to 2), so a test checks both that the file's number is the
map's within half a step and that it carries no more digits than its kind allows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from layers.export.fields import COLUMNS

DECIMALS: dict[str, int] = {
    "count": 0,
    "flag": 0,
    "minutes": 1,
    "hours": 1,
    "metres": 0,
    "residents": 0,
    "percent": 1,
    "share": 3,
    "score": 3,
    "p": 4,
    "z": 2,
}
SIGNIFICANT: dict[str, int] = {"rate": 3}


def as_float(values: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)


def digits(value: float) -> int:
    """Significant digits of a float's shortest decimal form."""
    text = f"{abs(value):.15g}".replace(".", "").lstrip("0")
    if "e" in text:
        text = text.split("e")[0]
    return len(text.rstrip("0")) or 1


def assert_rounded(name: str, got: Any, want: Any) -> None:
    """``got`` (from the file) is ``want`` (the map's) rounded as column ``name``'s kind."""
    g, w = as_float(got), as_float(want)
    assert g.shape == w.shape, name
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{name}: missing values")
    g, w = g[~np.isnan(g)], w[~np.isnan(w)]
    kind = COLUMNS[name].kind
    if kind in SIGNIFICANT:
        n = SIGNIFICANT[kind]
        np.testing.assert_allclose(g, w, rtol=0.5 * 10 ** (1 - n) + 1e-12, err_msg=name)
        assert all(digits(v) <= n for v in g if v), (name, [v for v in g if digits(v) > n][:3])
        return
    d = DECIMALS[kind]
    step = 10.0**-d
    assert np.all(np.abs(g - w) <= step / 2 + 1e-9 * np.maximum(1, np.abs(w))), (
        name,
        g[np.abs(g - w) > step / 2 + 1e-9][:3],
        w[np.abs(g - w) > step / 2 + 1e-9][:3],
    )
    scaled = g / step
    assert np.all(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1, np.abs(scaled))), (
        name,
        g[:3],
    )


def is_listed(name: str) -> bool:
    return name in COLUMNS and (COLUMNS[name].kind in DECIMALS or COLUMNS[name].kind in SIGNIFICANT)


__all__ = ["DECIMALS", "SIGNIFICANT", "as_float", "assert_rounded", "digits", "is_listed"]
