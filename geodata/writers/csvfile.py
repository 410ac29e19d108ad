"""CSV exports: the H3 cell id, the cell centre, the hexagon as WKT and every value.

The file is UTF-8 with a byte-order mark, so Excel shows Chinese text without asking. A
``.csvt`` beside it tells GDAL and QGIS each column's type (and that ``WKT`` is the
geometry), so numbers stay numbers and the hexagons are drawn without an import dialog.

Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) as a formula. Every *text* value
that starts so is written with a leading apostrophe, which spreadsheets show as text.
Numbers are not text: a negative z-score stays ``-2.1``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
import shapely

from geodata.datum import from_wgs84
from geodata.writers.bundle import ExportBundle
from geodata.writers.crs import ExportCrs, coordinate_decimals, project_geometry
from geodata.writers.frames import plain_columns

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
CELL_COLUMN: Final = "h3_cell"
WKT_COLUMN: Final = "WKT"


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet: an apostrophe before a formula start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def centre_columns(target: ExportCrs) -> tuple[str, str]:
    """Names of the cell-centre columns: ``lon``/``lat`` in degrees, ``x``/``y`` in metres."""
    return ("lon", "lat") if target.geographic else ("x", "y")


def _kind(series: pd.Series) -> str:
    """The ``.csvt`` type of a column."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return "Integer"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "Integer64"
    if pd.api.types.is_float_dtype(series.dtype):
        return "Real"
    return "String"


def _cell(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if kind == "Integer":
        return str(int(value))
    if kind == "Integer64":
        return str(int(value))
    if kind == "Real":
        return repr(float(value))
    return neutralise(str(value))


def write_csv(bundle: ExportBundle, path: Path, target: ExportCrs) -> list[str]:
    """Write one layer as CSV (UTF-8 with BOM) and its ``.csvt``; return the column names.

    Columns: ``h3_cell`` first, then the cell centre in the export CRS (``lon``/``lat``
    or ``x``/``y``; the H3 cell centre, the point that decides a cell's grid), then every
    value of the layer, then ``WKT``, the hexagon in the export CRS.
    """
    frame = plain_columns(bundle.frame).reset_index(drop=True)
    if CELL_COLUMN not in frame.columns:
        raise ValueError(f"{bundle.layer}: a CSV export needs the {CELL_COLUMN!r} column")
    cells = [int(c, 16) for c in frame[CELL_COLUMN].astype(str)]
    lat_lng = np.array([h3i.cell_to_latlng(c) for c in cells], dtype=np.float64).reshape(-1, 2)
    cx, cy = from_wgs84(lat_lng[:, 1], lat_lng[:, 0], target.datum)
    decimals = coordinate_decimals(target)
    geometry = project_geometry(np.asarray(bundle.geometry, dtype=object), target)
    wkt = shapely.to_wkt(geometry, rounding_precision=decimals, trim=True)

    x_name, y_name = centre_columns(target)
    values = [str(c) for c in frame.columns if c != CELL_COLUMN]
    header = [CELL_COLUMN, x_name, y_name, *values, WKT_COLUMN]
    kinds = ["String", "Real", "Real", *(_kind(frame[c]) for c in values), "WKT"]
    columns: list[Sequence[Any]] = [frame[c].tolist() for c in values]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(header)
        for i, cell in enumerate(frame[CELL_COLUMN].astype(str).tolist()):
            row = [
                neutralise(cell),
                f"{cx[i]:.{decimals}f}",
                f"{cy[i]:.{decimals}f}",
                *(_cell(col[i], kinds[3 + j]) for j, col in enumerate(columns)),
                wkt[i],
            ]
            writer.writerow(row)
    path.with_suffix(".csvt").write_text(",".join(f'"{k}"' for k in kinds) + "\n", encoding="utf-8")
    return header
