"""Cells: text, numbers, datetimes and vocabulary codes from what files really contain.

CSV cells arrive as text, Excel cells as numbers, text or datetimes, vector attributes as
typed columns. Each function here takes a column in any of those shapes and returns
arrays, vectorised: the common spellings take a fast path over the whole column, and only
the cells that miss it pay for the slower normalisation of Chinese spellings.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zoneinfo
from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd

from geodata.columns import normalise_header
from geodata.schema import VOCABULARIES, Label
from geodata.validate.reasons import BoolArray, FloatArray

__all__ = [
    "CST",
    "as_datetimes",
    "as_numbers",
    "as_text",
    "carries_zone",
    "from_excel_serial",
    "parse_datetime_text",
    "parse_zone",
    "to_codes",
    "vocabulary_lookup",
]

# Excel serial day numbers accepted as datetimes: 20000 = 1954-10-03, 73050 = 2099-12-31.
# Smaller numbers are more likely a year or a count than a date.
SERIAL_RANGE: Final = (20000.0, 73050.0)
_EXCEL_EPOCH: Final = pd.Timestamp("1899-12-30")  # serial 0, past Excel's 1900 leap-day bug
_CST: Final = "Asia/Shanghai"  # China Standard Time, UTC+8 all year
CST: Final = _CST
# A time of day followed by a zone: "…08:00:00Z", "…08:00+08:00", "…08:00 -0500".
_ZONED: Final = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s?(?:Z|[+-]\d{2}:?\d{2})$"
_OFFSET: Final = r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?"

# Tried first, on the raw text; most exports use one of these for every row.
_FAST_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
# Tried on what is left, after Chinese spellings are normalised to ``Y-m-d H:M:S``.
_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%Y%m%d%H%M",
    "%Y%m%d",
)
_SAMPLE: Final = 256


def _cell_text(value: object) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return None
        if float(value).is_integer() and abs(float(value)) < 1e15:
            return str(int(value))  # an id typed into Excel as 1002 arrives as 1002.0
        return repr(float(value))
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def as_text(series: pd.Series) -> pd.Series:
    """Cells as stripped text (pandas ``str`` dtype); blank cells become missing.

    Integral floats lose their ``.0`` (Excel stores every number as a float).
    """
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        text = series.str.strip()
        return text.where(text != "", None).astype("str")
    return series.map(_cell_text).astype("str")


def as_numbers(
    series: pd.Series, *, thousands: bool = False
) -> tuple[FloatArray, BoolArray, BoolArray, BoolArray]:
    """Parse a column of numbers.

    Parameters
    ----------
    series : pandas.Series
        Text, numbers or a mix.
    thousands : bool
        Accept ``1,234`` as 1234 (counts, never coordinates).

    Returns
    -------
    values, missing, not_number, nonfinite : numpy.ndarray
        The numbers (NaN where none); blank cells; cells that are not numbers; cells that
        are NaN or infinite *as written* (``nan``, ``inf``, ``-Infinity``, ``1e999``).
    """
    n = len(series)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        return values, np.isnan(values), np.zeros(n, dtype=bool), np.isinf(values)
    text = as_text(series)
    missing = text.isna().to_numpy(dtype=bool)
    values = pd.to_numeric(text, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan, copy=True
    )
    literal = np.zeros(n, dtype=bool)
    retry = ~missing & np.isnan(values)
    if retry.any():
        # Full-width digits (１０７．５), a trailing degree sign, thousands separators.
        clean = text[retry].str.normalize("NFKC").str.strip().str.rstrip("°").str.strip()
        if thousands:
            clean = clean.str.replace(r"(?<=\d),(?=\d{3}\b)", "", regex=True)
        values[retry] = pd.to_numeric(clean, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        literal[retry] = (
            clean.str.fullmatch(r"[+-]?(?:nan|inf|infinity)", case=False)
            .fillna(False)
            .to_numpy(dtype=bool)
        )
    nonfinite = literal | np.isinf(values)
    not_number = ~missing & np.isnan(values) & ~literal
    return values, missing, not_number, nonfinite


def parse_zone(text: str) -> dt.tzinfo:
    """The time zone named by ``text``: an IANA name (``UTC``, ``Asia/Shanghai``,
    ``Europe/Berlin``) or a fixed offset (``+08:00``, ``-0500``, ``UTC+8``).

    Raises
    ------
    ValueError
        For anything else, with a message that says what is accepted.
    """
    value = text.strip()
    fixed = re.fullmatch(_OFFSET, value, flags=re.IGNORECASE)
    if fixed:
        sign, hours, minutes = fixed.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset > dt.timedelta(hours=14):
            raise ValueError(f"time zone offset out of range: {text!r}")
        return dt.timezone(-offset if sign == "-" else offset)
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"未知的时区：{text!r}（可写 UTC、+08:00 或 Asia/Shanghai）/ unknown time zone "
            f"{text!r}: write UTC, an offset such as +08:00, or a name such as Asia/Shanghai"
        ) from exc


def carries_zone(series: pd.Series) -> BoolArray:
    """Which cells of a column of times say their own time zone (a zoned datetime, or a
    text ending in ``Z`` or an offset); the others are naive."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        zoned = getattr(series.dt, "tz", None) is not None
        return np.full(len(series), zoned, dtype=bool)
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        text = series.astype(object).where(series.notna(), None)
        return carries_zone(text)
    if series.dtype != object:
        return np.zeros(len(series), dtype=bool)

    def one(value: object) -> bool:
        if isinstance(value, dt.datetime):
            return value.tzinfo is not None
        if isinstance(value, pd.Timestamp):
            return value.tz is not None
        if isinstance(value, str):
            return re.search(_ZONED, unicodedata.normalize("NFKC", value).strip()) is not None
        return False

    return np.fromiter((one(v) for v in series), dtype=bool, count=len(series))


def as_datetimes(
    series: pd.Series, zone: dt.tzinfo | str | None = None
) -> tuple[pd.Series, BoolArray]:
    """Parse a column of datetimes to naive China Standard Time.

    Parameters
    ----------
    series : pandas.Series
        Text (see :func:`parse_datetime_text`), Excel datetimes or serial numbers, or a
        datetime64 column (with a time zone: converted to CST).
    zone : tzinfo or str, optional
        The zone of the times that do not say theirs (``--tz``); they are converted from
        it to CST. None: they are CST already. A naive time that does not exist in the
        zone, or exists twice (a daylight-saving change), is not understood (NaT).

    Returns
    -------
    values : pandas.Series
        ``datetime64[us]``, NaT where missing or not understood.
    missing : numpy.ndarray
        Blank cells (the others that are NaT were not understood).
    """
    values, missing = _as_cst(series)
    if zone is None or zone == _CST:
        return values, missing
    naive = ~carries_zone(series) & values.notna().to_numpy(dtype=bool)
    if naive.any():
        local = values[naive].dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        values = values.copy()
        values[naive] = local.dt.tz_convert(_CST).dt.tz_localize(None).astype("datetime64[us]")
    return values, missing


def _as_cst(series: pd.Series) -> tuple[pd.Series, BoolArray]:
    """:func:`as_datetimes` with naive times taken as CST."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series
        if getattr(series.dt, "tz", None) is not None:
            values = series.dt.tz_convert(_CST).dt.tz_localize(None)
        return values.astype("datetime64[us]"), series.isna().to_numpy(dtype=bool)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    rest = np.ones(len(series), dtype=bool)
    if series.dtype == object:
        kinds = series.map(type)
        is_dt = kinds.map(lambda t: issubclass(t, dt.date)).to_numpy(dtype=bool)
        if is_dt.any():
            stamps = [pd.Timestamp(v) for v in series[is_dt]]
            out[is_dt] = [s.tz_convert(_CST).tz_localize(None) if s.tz else s for s in stamps]
            rest &= ~is_dt
        is_num = kinds.map(
            lambda t: issubclass(t, int | float | np.integer | np.floating) and t is not bool
        ).to_numpy(dtype=bool)
        if is_num.any():
            out[is_num] = from_excel_serial(series[is_num].astype("float64"))
            rest &= ~is_num
    missing = np.zeros(len(series), dtype=bool)
    if rest.any():
        text = as_text(series[rest])
        missing[rest] = text.isna().to_numpy(dtype=bool)
        parsed = parse_datetime_text(text.dropna())
        out.loc[parsed.index] = parsed
    return out, missing


def from_excel_serial(days: pd.Series) -> pd.Series:
    """Excel serial day numbers to datetimes; outside :data:`SERIAL_RANGE` -> NaT."""
    ok = days.between(*SERIAL_RANGE)
    result = pd.Series(pd.NaT, index=days.index, dtype="datetime64[us]")
    if ok.any():
        # Round to the second: a serial stores the time as a day fraction with float noise.
        seconds = (days[ok] * 86400.0).round()
        result[ok] = (_EXCEL_EPOCH + pd.to_timedelta(seconds, unit="s")).astype("datetime64[us]")
    return result


def _with_formats(
    text: pd.Series, formats: tuple[str, ...], out: pd.Series, todo: pd.Series, *, sample: bool
) -> None:
    """Parse ``text[todo]`` with each format in turn, filling ``out`` and clearing ``todo``.

    With ``sample``, a format is run over the whole column only if it parses one of the
    first few cells still to do: a cheap test that skips formats the file does not use.
    """
    for fmt in formats:
        remaining = text[todo]
        if remaining.empty:
            return
        if (
            sample
            and len(remaining) > _SAMPLE
            and pd.to_datetime(remaining.iloc[:_SAMPLE], format=fmt, errors="coerce").isna().all()
        ):
            continue
        got = pd.to_datetime(remaining, format=fmt, errors="coerce")
        hit = got.index[got.notna()]
        if len(hit):
            out[hit] = got[hit].astype("datetime64[us]")
            todo[hit] = False


def parse_datetime_text(text: pd.Series) -> pd.Series:
    """Parse datetime text as written in Chinese spreadsheets; NaT where nothing fits.

    Accepted: ``2024-05-01 13:20:00``, ``2024/5/1 13:20``, ``2024.5.1``, ``2024年5月1日
    13时20分``, ``2024年5月1日下午1点``, ``20240501132000``, ISO 8601 with ``T`` and an
    offset (converted to China Standard Time), Excel serial numbers written as text.

    Parameters
    ----------
    text : pandas.Series
        Stripped text without missing values.

    Returns
    -------
    pandas.Series
        ``datetime64[us]``, same index.
    """
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if text.empty:
        return out
    todo = pd.Series(True, index=text.index)
    _with_formats(text, _FAST_FORMATS, out, todo, sample=True)
    if not todo.any():
        return out

    t = text[todo].str.normalize("NFKC").str.strip()
    t = t.str.replace(r"(\d)T(\d)", r"\1 \2", regex=True)
    pm = t.str.contains(r"下午|晚上|傍晚|(?i:\bpm\b)", regex=True).fillna(False)
    t = t.str.replace(r"上午|下午|早上|晚上|傍晚|凌晨|中午|(?i:\b[ap]m\b)", " ", regex=True)
    t = t.str.replace(
        r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?", r"\1-\2-\3 ", regex=True
    )
    t = t.str.replace(r"\s*[时点]\s*", ":", regex=True).str.replace(r"\s*分\s*", ":", regex=True)
    t = t.str.replace("秒", "", regex=False)
    t = t.str.replace(r"\s+", " ", regex=True).str.strip().str.rstrip(":").str.strip()

    slow = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    left = pd.Series(True, index=t.index)
    zoned = t.str.contains(_ZONED, regex=True)
    zoned = zoned.fillna(False).astype(bool)
    if zoned.any():
        stamps = pd.to_datetime(t[zoned], utc=True, format="ISO8601", errors="coerce")
        slow[zoned] = stamps.dt.tz_convert(_CST).dt.tz_localize(None).astype("datetime64[us]")
        left &= ~zoned
    _with_formats(t, _FORMATS, slow, left, sample=False)
    serial = left & t.str.fullmatch(r"\d{5}(?:\.\d+)?").fillna(False).astype(bool)
    if serial.any():
        slow[serial] = from_excel_serial(t[serial].astype("float64"))
    afternoon = pm & slow.notna() & (slow.dt.hour < 12)
    slow[afternoon] = slow[afternoon] + pd.Timedelta(hours=12)
    out[slow.index] = slow
    return out


@lru_cache(maxsize=32)
def vocabulary_lookup(name: str) -> dict[str, str]:
    """Normalised code, zh label or en label -> code, for vocabulary ``name``."""
    return label_lookup(VOCABULARIES[name], codes=True)


def label_lookup(vocabulary: dict[str, Label], *, codes: bool) -> dict[str, str]:
    """Normalised labels (and codes, if ``codes``) -> code."""
    lookup: dict[str, str] = {}
    for code, label in vocabulary.items():
        for spelling in (code, label.zh, label.en) if codes else (label.zh, label.en):
            lookup.setdefault(normalise_header(spelling), code)
    return lookup


def to_codes(text: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """Map text to codes through ``lookup`` (normalised keys); missing where unknown.

    Normalises each distinct value once: a column of a million rows holds a few dozen.
    """
    table = {value: lookup.get(normalise_header(value)) for value in text.dropna().unique()}
    return text.map(table).astype("str")
