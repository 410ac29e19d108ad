"""What an import accepts: the time range of a row and the size of a file, as one setting.

Read from ``PNM_IMPORT_*`` variables (:func:`import_limits`), validated when read, so a
typo stops the import with a one-line message before the file is opened:

* ``PNM_IMPORT_FUTURE_DAYS`` (default 1): a time later than now plus this many days is
  rejected as ``time_out_of_range`` (a clerk's 2099 would otherwise anchor every window);
* ``PNM_IMPORT_TIME_FLOOR`` (default 2000-01-01): a time before it is rejected the same way;
* ``PNM_IMPORT_MAX_COLUMNS`` (default 2,000): a header with more columns is refused before
  any row is read;
* ``PNM_IMPORT_MAX_FEATURES`` (default 5,000,000): a GeoPackage, GeoJSON or Shapefile
  layer with more features (counted by OGR before reading) is refused.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import pandas as pd

_FLOOR: Final = pd.Timestamp("2000-01-01")
MAX_COLUMNS: Final = 2000
"""Most header columns a file may have (a real export has tens)."""
MAX_FEATURES: Final = 5_000_000
"""Most features an OGR layer (GeoPackage, GeoJSON, Shapefile) may have: a county's
incidents of several years; millions of patrol fixes come as CSV or GeoParquet."""

__all__ = [
    "CST",
    "MAX_COLUMNS",
    "MAX_FEATURES",
    "ImportLimits",
    "LimitError",
    "import_limits",
    "now_cst",
]

CST: Final = dt.timezone(dt.timedelta(hours=8), "CST")
"""China Standard Time: every stored time is naive CST (UTC+8 all year)."""

_ENV: Final = {
    "future_days": "PNM_IMPORT_FUTURE_DAYS",
    "time_floor": "PNM_IMPORT_TIME_FLOOR",
    "max_columns": "PNM_IMPORT_MAX_COLUMNS",
    "max_features": "PNM_IMPORT_MAX_FEATURES",
}


class LimitError(ValueError):
    """A ``PNM_IMPORT_*`` setting cannot be understood."""


def now_cst() -> pd.Timestamp:
    """Now as a naive CST timestamp, comparable with stored times."""
    return pd.Timestamp(dt.datetime.now(CST).replace(tzinfo=None))


@dataclass(frozen=True)
class ImportLimits:
    """The bounds of one import (see the module).

    Attributes
    ----------
    future_days : float
        Tolerance past the clock for a row's time (clocks of devices drift, a night
        shift's records may be dated tomorrow).
    time_floor : pandas.Timestamp
        The earliest time accepted (naive CST).
    max_columns : int
        Most header columns a file may have.
    max_features : int
        Most features an OGR layer may have.
    """

    future_days: float = 1.0
    time_floor: pd.Timestamp = _FLOOR
    max_columns: int = MAX_COLUMNS
    max_features: int = MAX_FEATURES

    def __post_init__(self) -> None:
        if not 0 <= self.future_days <= 3650:
            raise LimitError(
                f"{_ENV['future_days']} 应在 0 到 3650 之间 / must be 0 to 3650 days: "
                f"{self.future_days}"
            )
        if self.max_columns < 1 or self.max_features < 1:
            raise LimitError(
                f"{_ENV['max_columns']} 与 {_ENV['max_features']} 应为正整数 / must be "
                f"positive: {self.max_columns}, {self.max_features}"
            )

    def time_range(self, now: pd.Timestamp | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``(earliest, latest)`` accepted for a row's time, ``now`` defaulting to the
        clock (naive CST)."""
        now = now_cst() if now is None else pd.Timestamp(now)
        return self.time_floor, now + pd.Timedelta(days=self.future_days)


def import_limits(environ: Mapping[str, str] | None = None) -> ImportLimits:
    """The limits from ``PNM_IMPORT_*`` variables (default: ``os.environ``).

    Raises
    ------
    LimitError
        A variable that is not a number, a date, or out of its range (one line, naming it).
    """
    env = os.environ if environ is None else environ
    kwargs: dict[str, object] = {}
    for name, var in _ENV.items():
        raw = env.get(var, "").strip()
        if not raw:
            continue
        try:
            if name == "future_days":
                kwargs[name] = float(raw)
            elif name == "time_floor":
                kwargs[name] = pd.Timestamp(dt.date.fromisoformat(raw))
            else:
                kwargs[name] = int(raw)
        except ValueError:
            raise LimitError(f"无法识别 {var}={raw!r} / cannot read {var}={raw!r}") from None
    return ImportLimits(**kwargs)  # type: ignore[arg-type]
