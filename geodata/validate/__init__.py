"""Validation: turn a read file into rows the store can trust, and say why the rest are not.

Every row ends up in exactly one place: among the good rows (converted to the schema's
column names and types, coordinates in WGS84) or among the rejects, with the row number
it has in the file (see :mod:`geodata.readers`: header = row 1 for CSV and Excel, so data
starts at row 2; features count from 1 in vector files), a short reason code from
:data:`REASONS`, a sentence in Chinese then English, and the row's original values.
Nothing is fixed silently: a swapped latitude/longitude is reported, not swapped back; an
invalid polygon is reported, not repaired.

Checks run column by column over whole arrays; only rejected rows are visited one by one,
to write their sentences. A row gets the first reason found, in this order: missing
required text, time, coordinates or geometry, vocabulary, numbers and dates, duplicate id.

Stored types: ``str`` columns as pandas strings, ``int`` as nullable ``Int64``, ``lng`` /
``lat`` as float64 WGS84 degrees, ``datetime`` as naive ``datetime64[us]`` in China
Standard Time (times with a UTC offset are converted), ``date`` as ``datetime64[us]`` at
midnight, polygons as a WGS84 GeoSeries.

Modules: :mod:`~geodata.validate.cells` (text, numbers, datetimes, codes),
:mod:`~geodata.validate.location` (points and polygons), :mod:`~geodata.validate.area`
(the area points must fall in), :mod:`~geodata.validate.reasons` (reason codes),
:mod:`~geodata.validate.rows` (the validator).
"""

from __future__ import annotations

from geodata.validate.area import AREA_BUFFER_M, Area, load_area
from geodata.validate.location import MAX_VERTICES, is_geographic
from geodata.validate.reasons import REASONS
from geodata.validate.rows import Validation, Validator, validate

__all__ = [
    "AREA_BUFFER_M",
    "MAX_VERTICES",
    "REASONS",
    "Area",
    "Validation",
    "Validator",
    "is_geographic",
    "load_area",
    "validate",
]
