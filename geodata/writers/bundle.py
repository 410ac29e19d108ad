"""What an export writer takes: one layer's rows, hexagons, field notes, metadata and style.

:mod:`layers.export` assembles an :class:`ExportBundle` from the same functions the map
uses; the writers of :mod:`geodata.writers` put it on disk in a chosen format and CRS.
The bundle is defined here, on the geodata side, so that geodata never imports layers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

NO_DATA_CLASS = -1
"""The ``class`` of a feature that has no value to classify (e.g. a cell without
households has no certified share); drawn grey."""


@dataclass(frozen=True)
class FieldInfo:
    """What one attribute column means: its unit and a label in both languages.

    ``short`` is its Shapefile (dBASE) field name, at most 10 characters, when the layer
    gives one (:data:`layers.export.fields.COLUMNS`); "" leaves it to the writer's rule.
    """

    name: str
    unit: str
    zh: str
    en: str
    description: str = ""
    short: str = ""

    def as_dict(self) -> dict[str, str]:
        """Plain JSON form."""
        return {
            "name": self.name,
            "unit": self.unit,
            "zh": self.zh,
            "en": self.en,
            "description": self.description,
        }


@dataclass(frozen=True)
class StyleClass:
    """One class of a layer's legend: the value of the class field and how it is drawn."""

    value: int
    colour: str
    label_zh: str
    label_en: str
    lower: float | None = None
    upper: float | None = None

    def label(self, lang: str) -> str:
        """The label in ``lang`` ("zh" or "en")."""
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class Style:
    """How the map colours a layer: one colour per value of the class field.

    The renderer is categorised on the integer ``field`` (``class``), which is how the map
    colours cells too: the breaks were decided when the layer was classified.
    """

    field: str
    title_zh: str
    title_en: str
    unit: str
    classes: tuple[StyleClass, ...]
    fill_opacity: float = 0.78
    outline: str = "#7c2d12"
    outline_opacity: float = 0.55

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.title_en if lang == "en" else self.title_zh

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form (for the metadata sidecar)."""
        return {
            "field": self.field,
            "title": {"zh": self.title_zh, "en": self.title_en},
            "unit": self.unit,
            "fill_opacity": self.fill_opacity,
            "outline": self.outline,
            "classes": [
                {
                    "value": c.value,
                    "colour": c.colour,
                    "label": {"zh": c.label_zh, "en": c.label_en},
                    "lower": c.lower,
                    "upper": c.upper,
                }
                for c in self.classes
            ],
        }


@dataclass(frozen=True)
class ExportBundle:
    """One layer ready to write.

    Attributes
    ----------
    layer : str
        Table or file name of the layer (ASCII, e.g. ``"incidents"``).
    frame : pandas.DataFrame
        Attributes, one row per H3 cell, no geometry column. Every column has a
        :class:`FieldInfo` in ``fields``, in the same order.
    geometry : ndarray of shapely Polygon
        One hexagon per row, WGS84 longitude/latitude; writers reproject it.
    fields : tuple of FieldInfo
        Meaning and unit of each column of ``frame``.
    metadata : mapping
        JSON-able description: layer, parameters, time window, created at, software
        version, synthetic flag... Writers add the CRS and format.
    style : Style
        The legend the map draws, for the QGIS style.
    """

    layer: str
    frame: pd.DataFrame
    geometry: npt.NDArray[np.object_]
    fields: tuple[FieldInfo, ...]
    metadata: Mapping[str, Any]
    style: Style

    def __post_init__(self) -> None:
        if not self.layer.isascii() or not self.layer.replace("_", "").isalnum():
            raise ValueError(f"layer name {self.layer!r} must be ASCII letters, digits and _")
        if len(self.geometry) != len(self.frame):
            raise ValueError(
                f"{self.layer}: {len(self.frame)} rows but {len(self.geometry)} geometries"
            )
        names = [f.name for f in self.fields]
        if names != [str(c) for c in self.frame.columns]:
            raise ValueError(
                f"{self.layer}: fields {names} do not match the columns {list(self.frame.columns)}"
            )
        if self.style.field not in names:
            raise ValueError(f"{self.layer}: the style's field {self.style.field!r} is no column")
        if len(self.geometry) and not bool(np.all(shapely.is_valid_input(self.geometry))):
            raise ValueError(f"{self.layer}: geometry must be shapely geometries")

    @property
    def features(self) -> int:
        """Number of features (rows)."""
        return len(self.frame)

    def field_info(self, name: str) -> FieldInfo:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.layer} has no field {name!r}")


def field_table(fields: Sequence[FieldInfo]) -> list[dict[str, str]]:
    """The fields as plain JSON rows."""
    return [f.as_dict() for f in fields]
