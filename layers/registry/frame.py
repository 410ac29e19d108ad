"""A layer computed for the whole area: its parameters and its frame.

:class:`LayerResult` is what every presenter starts from: the map's payload and legend
(:mod:`dashboard.views.base`), the side panel, the ranked gap list, the wall and the
exports. It is computed once per (layer, resolution, window, filters) for the whole area
— never per user — and a user's scope is a mask on its cells (:func:`cut`), applied in
one place before anything leaves the server. So a chief's cell, the county's cell, the
wall's cell and the exported cell are the same number.

The headline figures of a layer are kept per precinct (:attr:`LayerResult.totals`), so
the figures of any scope are sums of rows, with no second computation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.hexes import cells_res, cells_to_parent
from geodata.schema import Label
from layers.grids import cell_centres

NO_ZONE: Final = -1
"""The precinct code of a cell in no precinct (only the whole area's view holds it)."""
PRECINCT_COLUMN: Final = "_precinct"
"""The column of ``explain`` holding each row's precinct code (what :func:`cut` keeps by)."""
OTHER_PRECINCT: Final = Label("邻近辖区", "a neighbouring precinct")
"""What a chief reads instead of a name that belongs to another precinct."""

# ColorBrewer sequential ramps (Cynthia Brewer, Penn State; Apache-2.0), light to dark,
# for layers that are not incident heat: protection reads blue-green, not alarm red.
BLUES: Final = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
GREENS: Final = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")


@dataclass(frozen=True)
class LayerParams:
    """Everything that changes a layer's result (and so its cache key).

    ``since``/``until`` are ISO timestamps (half-open window). There is no scope: a
    layer is computed for the whole area and cut afterwards (:func:`cut`).
    """

    layer: str
    res: int
    since: str
    until: str
    cats: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    band: str = "all"
    fdr: bool = False
    """Hot spots with the False Discovery Rate correction (Benjamini–Hochberg per
    confidence level, as ArcGIS's option); off by default, as in ArcGIS."""

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(self.since), pd.Timestamp(self.until)

    def key(self) -> dict[str, Any]:
        """The parameters as a plain dict (for cache keys and layer keys)."""
        out = asdict(self)
        out["cats"], out["kinds"] = sorted(self.cats), sorted(self.kinds)
        return out


@dataclass(frozen=True)
class Category:
    """One class of a categorical layer: its code, label and colour."""

    code: str
    label: Label
    colour: str


def totals_by_precinct(codes: npt.ArrayLike, **columns: Any) -> pd.DataFrame:
    """Headline figures summed per precinct code: one row per code present.

    Parameters
    ----------
    codes : array_like of int
        The precinct code of each cell (:data:`NO_ZONE` for none).
    **columns : array_like or scalar
        Per-cell contributions (a scalar is the same for every cell: ``cells=1``).

    Returns
    -------
    pandas.DataFrame
        Indexed by precinct code, one column per figure (ints stay ints).
    """
    c = np.asarray(codes, dtype=np.int64)
    data = {
        name: np.broadcast_to(np.asarray(value), c.shape) if np.ndim(value) == 0 else value
        for name, value in columns.items()
    }
    frame = pd.DataFrame({"precinct": c, **{k: np.asarray(v) for k, v in data.items()}})
    if frame.empty:
        return pd.DataFrame({k: pd.Series(dtype=np.asarray(v).dtype) for k, v in data.items()})
    return frame.groupby("precinct", sort=True).sum()


@dataclass
class LayerResult:
    """A layer computed for the whole area at one resolution.

    ``values`` are floats (NaN: no value); for a categorical layer they are indexes into
    ``categories``, and its legend lists the categories present — all of them with
    ``legend_all``. ``explain`` is indexed by cell (uint64) and holds the numbers behind
    each colour, its columns labelled by ``explain_labels``. ``precincts`` is the
    precinct code of each of ``cells``; ``totals`` the headline figures per precinct
    code (:func:`totals_by_precinct`), from which :attr:`headline` sums any scope.

    ``private`` maps an ``explain`` column naming something of one precinct (a response
    unit) to the column of that precinct's code: :func:`cut` replaces such a name by
    :data:`OTHER_PRECINCT` for a user who may not see that precinct, and drops the code
    column for everyone.
    """

    layer: str
    res: int
    cells: npt.NDArray[np.uint64]
    values: npt.NDArray[np.float64]
    title: Label
    unit: Label = field(default_factory=lambda: Label("", ""))
    categories: tuple[Category, ...] = ()
    colours: tuple[str, ...] = ()
    integer: bool = False
    explain: pd.DataFrame = field(default_factory=pd.DataFrame)
    explain_labels: dict[str, Label] = field(default_factory=dict)
    summary: Label = field(default_factory=lambda: Label("", ""))
    totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    empty: Label = field(default_factory=lambda: Label("无数据", "No data"))
    nodata: Label = field(default_factory=lambda: Label("无数据", "No data"))
    lng: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    lat: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    precincts: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    legend_all: bool = False
    private: dict[str, str] = field(default_factory=dict)
    note: Label = field(default_factory=lambda: Label("", ""))
    scope: tuple[int, ...] | None = None
    """The precinct codes this result was cut to (None: the whole area, uncut)."""

    def __post_init__(self) -> None:
        order = np.argsort(self.cells, kind="stable")
        self.cells = np.asarray(self.cells, dtype=np.uint64)[order]
        self.values = np.asarray(self.values, dtype=np.float64)[order]
        if self.lng.size != self.cells.size:
            self.lng, self.lat = cell_centres(self.cells)
        else:
            self.lng, self.lat = self.lng[order], self.lat[order]
        if self.precincts.size == self.cells.size:
            self.precincts = np.asarray(self.precincts, dtype=np.int32)[order]
        else:
            self.precincts = np.full(self.cells.size, NO_ZONE, dtype=np.int32)

    @property
    def categorical(self) -> bool:
        return bool(self.categories)

    @property
    def headline(self) -> dict[str, Any]:
        """The headline figures of this result's cells (the sums of :attr:`totals`)."""
        if self.totals.empty and not len(self.totals.columns):
            return {}
        sums = self.totals.sum(axis=0)
        out: dict[str, Any] = {}
        for name in self.totals.columns:
            value = sums[name]
            kind = self.totals[name].dtype.kind
            out[str(name)] = int(value) if kind in "iub" else float(value)
        return out

    def own_cell(self, cell: int) -> int:
        """The cell of this result's resolution that holds ``cell``: itself, or its
        parent when it is finer (a street-level click on a layer capped at res 9)."""
        cells = np.asarray([cell], dtype=np.uint64)
        if int(cells_res(cells)[0]) > self.res:
            return int(cells_to_parent(cells, self.res)[0])
        return int(cell)


def scope_codes(
    precinct_ids: tuple[str, ...], scope: Collection[str] | None
) -> tuple[int, ...] | None:
    """The precinct codes of a scope (precinct ids; None for the whole area)."""
    if scope is None:
        return None
    index = {p: i for i, p in enumerate(precinct_ids)}
    return tuple(sorted(index[p] for p in scope if p in index))


def cut(result: LayerResult, codes: tuple[int, ...] | None) -> LayerResult:
    """``result`` as a user whose scope is the precincts ``codes`` sees it.

    The one place where a scope is applied: cells of other precincts (and of none) are
    dropped with their explaining rows; names of things of other precincts are replaced
    (see :attr:`LayerResult.private`); the headline sums the scope's precincts only. The
    values of the cells kept are untouched: a chief's cell is the county's cell.
    ``codes`` None is the whole area (nothing dropped).
    """
    explain = result.explain
    if codes is None:
        if result.private and not explain.empty:
            explain = explain.drop(columns=[c for c in result.private.values() if c in explain])
        return replace(result, explain=explain) if explain is not result.explain else result
    allowed = np.asarray(codes, dtype=np.int32)
    keep = np.isin(result.precincts, allowed)
    cells = result.cells[keep]
    if not explain.empty:
        if PRECINCT_COLUMN in explain:
            inside = np.isin(explain[PRECINCT_COLUMN].to_numpy(dtype=np.int64), allowed)
        else:
            inside = explain.index.isin(cells)
        attrs = dict(explain.attrs)
        explain = _hide_private(explain[inside], result.private, allowed)
        explain.attrs = attrs
    totals = result.totals
    if not totals.empty or len(totals.columns):
        totals = totals[totals.index.isin(allowed)]
    return replace(
        result,
        cells=cells,
        values=result.values[keep],
        lng=result.lng[keep],
        lat=result.lat[keep],
        precincts=result.precincts[keep],
        explain=explain,
        totals=totals,
        scope=tuple(int(c) for c in allowed),
    )


def _hide_private(
    explain: pd.DataFrame, private: Mapping[str, str], allowed: npt.NDArray[np.int32]
) -> pd.DataFrame:
    if not private:
        return explain
    out = explain.copy()
    for column, owner in private.items():
        if column in out and owner in out:
            foreign = np.flatnonzero(~np.isin(out[owner].to_numpy(dtype=np.int64), allowed))
            values = out[column].to_numpy(dtype=object).copy()
            for i in foreign:  # a Label: the presenter writes it in the reader's language
                values[i] = OTHER_PRECINCT
            out[column] = values
    return out.drop(columns=[c for c in private.values() if c in out])


__all__ = [
    "BLUES",
    "GREENS",
    "NO_ZONE",
    "OTHER_PRECINCT",
    "PRECINCT_COLUMN",
    "Category",
    "LayerParams",
    "LayerResult",
    "cut",
    "scope_codes",
    "totals_by_precinct",
]
