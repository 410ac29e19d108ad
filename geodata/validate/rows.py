"""The validator: every row of a file checked column by column, first reason kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.columns import ColumnMap
from geodata.schema import SEVERITIES, Column, Dataset, Label
from geodata.validate.area import Area
from geodata.validate.cells import (
    as_datetimes,
    as_numbers,
    as_text,
    label_lookup,
    to_codes,
    vocabulary_lookup,
)
from geodata.validate.location import Locator
from geodata.validate.reasons import BoolArray, Flags, show

# Labels accepted for integer columns that have a coded vocabulary (严重程度: 一般/较重/重大).
_INT_LABELS: Final[dict[str, dict[str, Label]]] = {"severity": SEVERITIES}

_DTYPES: Final[dict[str, Any]] = {
    "str": "str",
    "int": "Int64",
    "float": "float64",
    "lng": "float64",
    "lat": "float64",
    "datetime": "datetime64[us]",
    "date": "datetime64[us]",
}
_WKT_LIMIT: Final = 2000


@dataclass(frozen=True)
class Validation:
    """Good rows and rejects of one validated frame.

    Attributes
    ----------
    good : pandas.DataFrame or geopandas.GeoDataFrame
        The schema's columns, in schema order and dtypes (a GeoDataFrame in WGS84 for
        polygon data sets).
    rejects : pandas.DataFrame
        ``row``, ``reason``, ``detail``, then the file's own columns with their original
        values (geometries as WKT, cut to 2,000 characters).
    """

    good: pd.DataFrame
    rejects: pd.DataFrame


class Validator:
    """Validate frames of one file, chunk after chunk, remembering the ids already seen.

    Parameters
    ----------
    columns : ColumnMap
        How the file's headers feed the data set (from :func:`geodata.columns.map_columns`).
    datum : str
        Datum of the file's coordinates: ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``,
        ``"bd09"`` or a CRS string pyproj accepts.
    area : Area, optional
        Points must lie in it and polygons touch it; without it only the valid lng/lat
        ranges apply.
    existing_keys : iterable of str
        Ids already stored: a row repeating one is rejected as ``duplicate_id``.
    time_range : (Timestamp, Timestamp), optional
        Earliest and latest time (naive CST) a datetime column may hold; a time outside
        is rejected as ``time_out_of_range`` (see :class:`geodata.limits.ImportLimits`).
        None: any time.
    zone : tzinfo, optional
        The zone of the file's times that do not say theirs (``--tz``); None: CST.
    """

    def __init__(
        self,
        columns: ColumnMap,
        *,
        datum: str = "wgs84",
        area: Area | None = None,
        existing_keys: Iterable[str] = (),
        time_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
        zone: dt.tzinfo | None = None,
    ) -> None:
        self.time_range = time_range
        self.zone = zone
        self.columns = columns
        self.schema: Dataset = columns.schema
        self.locator = Locator(datum, area)
        self.existing: frozenset[str] = frozenset(existing_keys)
        self.seen: dict[str, int] = {}  # id -> row where it first appeared in this file

    def validate(self, frame: pd.DataFrame) -> Validation:
        """Validate one frame: a whole file or a chunk of one.

        Parameters
        ----------
        frame : pandas.DataFrame or geopandas.GeoDataFrame
            Rows as read (index = row numbers in the file), with the headers the
            :class:`~geodata.columns.ColumnMap` was built from.

        Returns
        -------
        Validation
        """
        rows = frame.index.to_numpy(dtype=np.int64)
        frame = frame.reset_index(drop=True)  # positions from here on
        flags = Flags(len(frame))
        schema, sources = self.schema, self.columns.sources
        out: dict[str, Any] = {}

        # 1. required text present (time and location are checked below, more precisely)
        texts = {
            c.name: as_text(frame[sources[c.name]])
            for c in schema.columns
            if c.dtype == "str" and c.name in sources
        }
        for name, text in texts.items():
            col = schema.column(name)
            if col.required:
                self._flag_missing(flags, col, text.isna().to_numpy(dtype=bool))
        # 2. times
        for col in schema.columns:
            if col.dtype == "datetime" and col.name in sources:
                out[col.name] = self._datetimes(flags, frame, col, "unparseable_time")
                self._time_range(flags, frame, col, out[col.name])
        # 3. location
        if schema.geometry == "polygon":
            out["geometry"] = self._polygons(flags, frame)
        elif any(c.name == "lng" for c in schema.columns):
            out["lng"], out["lat"] = self._points(flags, frame)
        # 4. vocabularies and plain text
        for name, text in texts.items():
            col = schema.column(name)
            out[name] = text if col.allowed is None else self._vocabulary(flags, frame, col, text)
        # 5. numbers and dates
        for col in schema.columns:
            if col.name in sources and col.dtype in ("int", "float"):
                out[col.name] = self._numbers(flags, frame, col)
            elif col.name in sources and col.dtype == "date":
                dates = self._datetimes(flags, frame, col, "unparseable_date")
                out[col.name] = dates.dt.normalize()
        if schema.kind == "population":
            self._flag_unplaced(flags, out)
        # 6. duplicate ids last, so that a rejected row does not shadow a good repeat
        if schema.key is not None and schema.key in out:
            self._duplicates(flags, rows, out[schema.key])
        return Validation(self._good(flags, out), self._rejects(frame, rows, flags))

    # -- checks ------------------------------------------------------------------------

    def _raw(self, frame: pd.DataFrame, name: str) -> pd.Series:
        return frame[self.columns.sources[name]]

    def _flag_missing(self, flags: Flags, col: Column, mask: BoolArray) -> None:
        header = self.columns.sources.get(col.name, col.name)
        zh = header if header == col.label.zh else f"{header}（{col.label.zh}）"
        flags.set(
            mask,
            "missing_time" if col.dtype == "datetime" else "missing_required",
            lambda i: f"必填列“{zh}”为空 / required column '{header}' ({col.label.en}) is empty",
        )

    def _datetimes(self, flags: Flags, frame: pd.DataFrame, col: Column, code: str) -> pd.Series:
        raw = self._raw(frame, col.name)
        values, missing = as_datetimes(raw, self.zone if col.dtype == "datetime" else None)
        if col.required:
            self._flag_missing(flags, col, missing)
        hint = "2024-05-01 13:20:00" if col.dtype == "datetime" else "2024-05-01"
        flags.set(
            ~missing & values.isna().to_numpy(dtype=bool),
            code,
            lambda i: (
                f"{col.label.zh}无法识别：{show(raw.iloc[i])}（可写作 {hint}） / "
                f"{col.label.en} not understood: {show(raw.iloc[i])} (write e.g. {hint})"
            ),
        )
        return values

    def _time_range(
        self, flags: Flags, frame: pd.DataFrame, col: Column, values: pd.Series
    ) -> None:
        if self.time_range is None:
            return
        low, high = self.time_range
        raw = self._raw(frame, col.name)
        outside = (values.notna() & ((values < low) | (values > high))).to_numpy(dtype=bool)
        span = f"{low:%Y-%m-%d} – {high:%Y-%m-%d %H:%M}"
        flags.set(
            outside,
            "time_out_of_range",
            lambda i: (
                f"{col.label.zh}不在 {span} 之内：{show(raw.iloc[i])}（晚于现在或早于下限） / "
                f"{col.label.en} outside {span}: {show(raw.iloc[i])} (later than now or "
                "before the floor; see PNM_IMPORT_FUTURE_DAYS, PNM_IMPORT_TIME_FLOOR)"
            ),
        )

    def _vocabulary(
        self, flags: Flags, frame: pd.DataFrame, col: Column, text: pd.Series
    ) -> pd.Series:
        assert col.allowed is not None
        codes = to_codes(text, vocabulary_lookup(col.allowed))
        known = vocabulary_lookup(col.allowed)
        allowed = sorted(set(known.values()))
        raw = self._raw(frame, col.name)
        flags.set(
            (text.notna() & codes.isna()).to_numpy(dtype=bool),
            "unknown_category",
            lambda i: (
                f"{col.label.zh}“{raw.iloc[i]}”不在允许值内 / {col.label.en} "
                f"{show(raw.iloc[i])} is not one of: {', '.join(allowed)} (or their zh/en labels)"
            ),
        )
        return codes

    def _numbers(self, flags: Flags, frame: pd.DataFrame, col: Column) -> pd.Series:
        raw = self._raw(frame, col.name)
        source = raw
        if col.name in _INT_LABELS:
            text = as_text(raw)
            coded = to_codes(text, label_lookup(_INT_LABELS[col.name], codes=False))
            source = text.where(coded.isna(), coded)
        values, missing, not_number, nonfinite = as_numbers(source, thousands=True)
        if col.required:
            self._flag_missing(flags, col, missing)
        whole = np.ones(len(values), dtype=bool)
        if col.dtype == "int":
            with np.errstate(invalid="ignore"):
                whole = ~np.isfinite(values) | (values == np.round(values))
        zh, en = ("整数", "a whole number") if col.dtype == "int" else ("数字", "a number")
        flags.set(
            not_number | nonfinite | ~whole,
            "non_numeric_value",
            lambda i: (
                f"{col.label.zh}应为{zh}：{show(raw.iloc[i])} / {col.label.en} must be "
                f"{en}: {show(raw.iloc[i])}"
            ),
        )
        low = -np.inf if col.minimum is None else col.minimum
        high = np.inf if col.maximum is None else col.maximum
        span = f"[{_bound(col.minimum)}, {_bound(col.maximum)}]"
        with np.errstate(invalid="ignore"):
            outside = ~np.isnan(values) & ((values < low) | (values > high))
        flags.set(
            outside,
            "out_of_range",
            lambda i: (
                f"{col.label.zh}超出范围 {span}：{show(raw.iloc[i])} / {col.label.en} "
                f"outside {span}: {show(raw.iloc[i])}"
            ),
        )
        if col.dtype != "int":
            return pd.Series(values, dtype="float64")
        usable = np.isfinite(values) & whole
        ints = pd.array(np.where(usable, values, 0).astype(np.int64), dtype="Int64")
        ints[~usable] = pd.NA
        return pd.Series(ints)

    def _points(self, flags: Flags, frame: pd.DataFrame) -> tuple[Any, Any]:
        required = self.schema.column("lng").required
        locator = self.locator
        if self.columns.geometry_from_file:
            geoms = np.asarray(frame.geometry.values, dtype=object)
            x, y, shown = locator.points_from_geometry(flags, geoms, required=required)
        elif "lng" in self.columns.sources and "lat" in self.columns.sources:
            rx, ry = self._raw(frame, "lng"), self._raw(frame, "lat")
            x, y, shown = locator.points_from_columns(flags, rx, ry, required=required)
        else:
            return np.full(len(frame), np.nan), np.full(len(frame), np.nan)
        return locator.locate_points(flags, x, y, shown)

    def _polygons(self, flags: Flags, frame: pd.DataFrame) -> Any:
        if self.columns.geometry_from_file:
            geoms = np.asarray(frame.geometry.values, dtype=object)
        else:
            geoms = self.locator.polygons_from_wkt(flags, as_text(self._raw(frame, "geometry")))
        return self.locator.check_polygons(flags, geoms)

    @staticmethod
    def _flag_unplaced(flags: Flags, out: dict[str, Any]) -> None:
        """A population row needs a grid or a location, else it cannot be placed."""
        n = len(flags.reason)
        grid = out.get("grid_id")
        has_grid = np.zeros(n, dtype=bool) if grid is None else grid.notna().to_numpy(bool)
        lng = out.get("lng")
        has_point = np.zeros(n, dtype=bool) if lng is None else np.isfinite(lng)
        flags.set(
            ~has_grid & ~has_point,
            "missing_required",
            lambda i: "既无网格编号也无经纬度 / neither a grid id nor coordinates",
        )

    def _duplicates(self, flags: Flags, rows: np.ndarray, keys: pd.Series) -> None:
        """Reject ids already stored, or already seen earlier in the file (first wins)."""
        n = len(keys)
        idx = np.flatnonzero(flags.ok & keys.notna().to_numpy(dtype=bool))
        sub = keys.to_numpy(dtype=object)[idx]
        # Set lookups in Python beat pandas' isin here: the seen ids grow to millions.
        in_store = np.fromiter((k in self.existing for k in sub), dtype=bool, count=len(sub))
        in_seen = np.fromiter((k in self.seen for k in sub), dtype=bool, count=len(sub))
        fresh = ~in_store & ~in_seen
        repeat = np.zeros(len(sub), dtype=bool)
        repeat[fresh] = pd.Series(sub[fresh]).duplicated(keep="first").to_numpy(dtype=bool)
        first = fresh & ~repeat
        self.seen.update(zip(sub[first].tolist(), rows[idx[first]].tolist(), strict=True))
        stored = np.zeros(n, dtype=bool)
        stored[idx[in_store]] = True
        earlier = np.zeros(n, dtype=bool)
        earlier[idx[in_seen | repeat]] = True
        values = keys.to_numpy(dtype=object)
        flags.set(
            stored,
            "duplicate_id",
            lambda i: (
                f"编号“{values[i]}”已在库中，未覆盖（替换请用 --replace） / id "
                f"{show(values[i])} is already stored; not overwritten (use --replace to replace)"
            ),
        )
        flags.set(
            earlier,
            "duplicate_id",
            lambda i: (
                f"编号“{values[i]}”与第 {self.seen[values[i]]} 行重复 / id "
                f"{show(values[i])} repeats row {self.seen[values[i]]}"
            ),
        )

    # -- outputs -----------------------------------------------------------------------

    def _good(self, flags: Flags, out: dict[str, Any]) -> pd.DataFrame:
        ok = flags.ok
        keep = np.flatnonzero(ok)
        data: dict[str, Any] = {}
        for col in self.schema.columns:
            if col.name == "geometry":
                continue
            dtype = _DTYPES[col.dtype]
            values = out.get(col.name)
            if values is None:
                data[col.name] = pd.Series([None] * len(keep), dtype=dtype)
            elif isinstance(values, np.ndarray):
                data[col.name] = pd.Series(values[keep]).astype(dtype)
            else:
                data[col.name] = values.iloc[keep].reset_index(drop=True).astype(dtype)
        good = pd.DataFrame(data, index=pd.RangeIndex(len(keep)))
        if self.schema.geometry == "polygon":
            geometry = gpd.GeoSeries(np.asarray(out["geometry"])[keep], crs="EPSG:4326")
            return gpd.GeoDataFrame(good, geometry=geometry, crs="EPSG:4326")
        return good

    @staticmethod
    def _rejects(frame: pd.DataFrame, rows: np.ndarray, flags: Flags) -> pd.DataFrame:
        bad = ~flags.ok
        head = pd.DataFrame(
            {
                "row": rows[bad],
                "reason": flags.reason[bad].astype(str),
                "detail": flags.detail[bad].astype(str),
            }
        )
        original = frame.iloc[np.flatnonzero(bad)].reset_index(drop=True)
        if isinstance(original, gpd.GeoDataFrame):
            name = original.geometry.name
            wkt = shapely.to_wkt(np.asarray(original.geometry.values, dtype=object))
            original = pd.DataFrame(original.drop(columns=[name]))
            original[name] = [
                w if w is None or len(w) <= _WKT_LIMIT else w[:_WKT_LIMIT] + "…" for w in wkt
            ]
        original.columns = [f"{c}（原）" if c in head.columns else c for c in original.columns]
        return pd.concat([head, original], axis=1)


def _bound(value: float | None) -> str:
    return "∞" if value is None else f"{value:g}"


def validate(
    frame: pd.DataFrame,
    columns: ColumnMap,
    *,
    datum: str = "wgs84",
    area: Area | None = None,
    existing_keys: Iterable[str] = (),
    time_range: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> Validation:
    """Validate a whole frame at once (see :class:`Validator` for chunked use).

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        Rows as read by :func:`geodata.readers.read_file` (index = row numbers in the file).
    columns : ColumnMap
        From :func:`geodata.columns.map_columns`.
    datum : str
        Datum of the coordinates (``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"`` or
        a CRS string).
    area : Area, optional
        The area points must fall in.
    existing_keys : iterable of str
        Ids already stored.
    time_range : (Timestamp, Timestamp), optional
        Earliest and latest time accepted (see :class:`Validator`).

    Returns
    -------
    Validation
    """
    return Validator(
        columns, datum=datum, area=area, existing_keys=existing_keys, time_range=time_range
    ).validate(frame)
