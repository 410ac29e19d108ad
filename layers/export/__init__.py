"""Exports for planners: the map's layers, assembled for a file.

:func:`build_export` computes a layer with the same functions the map uses
(:data:`LAYERS`: every layer of the registry, :mod:`layers.export.derived`), keeps the
chosen area, rounds each value by its kind (:mod:`layers.export.fields`) and returns a
:class:`geodata.writers.ExportBundle` — one row per H3 cell (the cell id as an H3
string, each value, the class and its labels), the hexagons in WGS84, the metadata and
the map's style — which :func:`geodata.writers.write_export` puts on disk. Nothing here
reads or writes a file: :func:`geodata.export_inputs.load_export_inputs` reads the data
directory, and ``python -m layers export`` ties the two together.

The names are imported when first used (PEP 562): the registry's layers import this
package's colours (:mod:`layers.export.styles`), and the export's list is the registry's,
so an eager import here would go round in a circle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geodata.writers.bundle import ExportBundle
    from layers.export.assembly import (
        DEFAULT_WINDOW_DAYS,
        RESOLUTIONS,
        build_export,
        cell_zones,
        export_window,
        hide_units,
        layer_spec,
        resolutions_of,
    )
    from layers.export.catalogue import LayerSpec, LayerUnavailable
    from layers.export.derived import LAYERS, MAP_TO_EXPORT

_HOMES = {
    "ExportBundle": "geodata.writers.bundle",
    "DEFAULT_WINDOW_DAYS": "layers.export.assembly",
    "RESOLUTIONS": "layers.export.assembly",
    "build_export": "layers.export.assembly",
    "cell_zones": "layers.export.assembly",
    "export_window": "layers.export.assembly",
    "hide_units": "layers.export.assembly",
    "layer_spec": "layers.export.assembly",
    "resolutions_of": "layers.export.assembly",
    "LayerSpec": "layers.export.catalogue",
    "LayerUnavailable": "layers.export.catalogue",
    "LAYERS": "layers.export.derived",
    "MAP_TO_EXPORT": "layers.export.derived",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "LAYERS",
    "MAP_TO_EXPORT",
    "RESOLUTIONS",
    "ExportBundle",
    "LayerSpec",
    "LayerUnavailable",
    "build_export",
    "cell_zones",
    "export_window",
    "hide_units",
    "layer_spec",
    "resolutions_of",
]
