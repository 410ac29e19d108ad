"""Exports for planners: the map's layers, assembled for a file.

:func:`build_export` computes a layer with the same functions the map uses
(:data:`LAYERS`), keeps the chosen area, and returns a
:class:`geodata.writers.ExportBundle` — one row per H3 cell (the cell id as an H3
string, each value, the class and its labels), the hexagons in WGS84, the metadata and
the map's style — which :func:`geodata.writers.write_export` puts on disk. Nothing here
reads or writes a file: :func:`geodata.export_inputs.load_export_inputs` reads the data
directory, and ``python -m layers export`` ties the two together.
"""

from __future__ import annotations

from geodata.writers.bundle import ExportBundle
from layers.export.assembly import (
    DEFAULT_WINDOW_DAYS,
    RESOLUTIONS,
    build_export,
    cell_zones,
    export_window,
    hide_units,
    layer_spec,
)
from layers.export.catalogue import LAYERS, LayerSpec, LayerUnavailable

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "LAYERS",
    "RESOLUTIONS",
    "ExportBundle",
    "LayerSpec",
    "LayerUnavailable",
    "build_export",
    "cell_zones",
    "export_window",
    "hide_units",
    "layer_spec",
]
