"""The content-keyed memo of layers: a kept result is exactly the computed one."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import polars as pl
from shapely.geometry import box

from layers import grids
from layers.memo import Memo, copy_frame, digest_frame


def _zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"grid_id": ["a", "b"], "precinct_id": ["p1", "p2"]},
        geometry=[box(107.50, 31.35, 107.52, 31.37), box(107.52, 31.35, 107.54, 31.37)],
        crs=4326,
    )


def test_digest_follows_content_not_identity() -> None:
    z = _zones()
    assert digest_frame(z) == digest_frame(z.copy())
    other = z.copy()
    other.loc[1, "precinct_id"] = "p3"  # one text value (pandas str dtype) changes it
    assert digest_frame(other) != digest_frame(z)
    moved = z.copy()
    moved.geometry = [box(107.50, 31.35, 107.52, 31.37), box(107.52, 31.35, 107.54, 31.38)]
    assert digest_frame(moved) != digest_frame(z)
    frame = pl.DataFrame({"u": ["x", "y"], "n": [1, 2]})
    assert digest_frame(frame) == digest_frame(frame.clone())
    assert digest_frame(frame) != digest_frame(frame.with_columns(pl.lit(3).alias("n")))
    assert digest_frame(frame) != digest_frame(frame.reverse())


def test_memo_keeps_the_last_results_and_hands_out_copies() -> None:
    memo: Memo[pd.DataFrame] = Memo(size=2, copy=copy_frame)
    calls = []

    def compute(n: int) -> pd.DataFrame:
        calls.append(n)
        return pd.DataFrame({"v": [n]})

    first = memo.get(1, lambda: compute(1))
    first.loc[0, "v"] = 99  # a caller's change stays its own
    assert memo.get(1, lambda: compute(1))["v"].tolist() == [1]
    memo.get(2, lambda: compute(2))
    memo.get(3, lambda: compute(3))  # evicts 1, the least recently used
    memo.get(1, lambda: compute(1))
    assert calls == [1, 2, 3, 1]


def test_zone_cells_from_the_memo_equal_a_fresh_fill() -> None:
    z = _zones()
    grids._ZONE_CELLS.clear()
    fresh = grids._zone_cells(z, res=9, id_col="grid_id", keep=("precinct_id",))
    first = grids.zone_cells(z, res=9, id_col="grid_id", keep=("precinct_id",))
    first["precinct_id"] = "changed"
    again = grids.zone_cells(z, res=9, id_col="grid_id", keep=("precinct_id",))
    pd.testing.assert_frame_equal(again, fresh)
    assert grids._ZONE_CELLS.hits >= 1
    other = z.copy()
    other.loc[0, "precinct_id"] = "p9"  # other content: its own answer
    assert set(grids.zone_cells(other, res=9, id_col="grid_id", keep=("precinct_id",))[
        "precinct_id"]) == {"p9", "p2"}  # fmt: skip
