"""Reasons a row is rejected, and the per-row record of the first reason found."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geodata.schema import Label

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]

REASONS: Final[dict[str, Label]] = {
    "missing_required": Label("缺少必填值", "required value missing"),
    "missing_time": Label("缺少时间", "time missing"),
    "unparseable_time": Label("时间无法识别", "time not understood"),
    "unparseable_date": Label("日期无法识别", "date not understood"),
    "time_out_of_range": Label("时间超出可信范围", "time out of range"),
    "non_numeric_coords": Label("坐标不是数字", "coordinates not numeric"),
    "nan_or_inf_coords": Label("坐标为 NaN 或无穷大", "coordinates NaN or infinite"),
    "swapped_lat_lng": Label("经纬度颠倒", "latitude and longitude swapped"),
    "coords_outside_area": Label("坐标在辖区范围外", "coordinates outside the area"),
    "invalid_geometry": Label("几何无效", "invalid geometry"),
    "unknown_category": Label("取值不在允许范围内", "value not in the vocabulary"),
    "non_numeric_value": Label("数值无效", "value not a number"),
    "out_of_range": Label("数值超出范围", "value out of range"),
    "duplicate_id": Label("编号重复", "duplicate id"),
}
"""Reason codes of rejected rows, with a short label in both languages."""


class Flags:
    """The first reason found for each row of a frame, and its sentence (zh / en).

    Checks run over whole columns; a row keeps the first reason it gets, so the order of
    the checks decides which of several problems a person is told about.
    """

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)

    @property
    def ok(self) -> BoolArray:
        """Rows without a reason so far."""
        return np.asarray(pd.isna(self.reason), dtype=bool)

    def set(self, mask: BoolArray, code: str, detail: Callable[[int], str]) -> None:
        """Give ``code`` to rows of ``mask`` without a reason yet.

        ``detail(i)`` writes the sentence of row position ``i``; it is called only for
        the rows flagged here, so it may be slow.
        """
        if code not in REASONS:
            raise KeyError(f"unknown reason code {code!r}")
        idx = np.flatnonzero(np.asarray(mask, dtype=bool) & self.ok)
        if idx.size == 0:
            return
        self.reason[idx] = code
        self.detail[idx] = [detail(int(i)) for i in idx]


def show(value: object, limit: int = 60) -> str:
    """A cell value quoted for a message, cut to ``limit`` characters."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "（空）"
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")
