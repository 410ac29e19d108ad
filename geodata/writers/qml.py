"""QGIS layer styles (``.qml``): the map's classes and colours, for a planner's QGIS.

QGIS loads ``name.qml`` beside ``name.shp`` / ``name.gpkg`` / ``name.fgb`` by itself, and
reads the style stored in a GeoPackage's ``layer_styles`` table (:mod:`geodata.writers.gpkg`)
when the layer is opened. The renderer is *categorised* on the integer class field — the
breaks were decided when the layer was classified, exactly as the map colours it — with
the map's fill colours, fill opacity and outline. Field aliases carry each field's label
and unit.

Each symbol layer carries its properties twice, as ``<Option>`` (QGIS ≥ 3.26 reads these)
and as ``<prop>`` (older QGIS 3 reads these), which is what QGIS 3.16–3.26 itself wrote.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from geodata.writers.bundle import FieldInfo, Style

QGIS_VERSION = "3.28.0-Firenze"
# The doctype QGIS itself writes into a .qml; the DTD address is a name, never fetched.
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
POLYGON = 2  # QgsWkbTypes::PolygonGeometry


def _rgba(colour: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` as QGIS's ``r,g,b,a`` (0–255)."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {colour!r} is not #rrggbb")
    r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _fill_layer(parent: ET.Element, colour: str, style: Style) -> None:
    layer = ET.SubElement(
        parent, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
    )
    props = {
        "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
        "color": _rgba(colour),
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_map_unit_scale": "3x:0,0,0,0,0,0",
        "offset_unit": "MM",
        "outline_color": _rgba(style.outline, style.outline_opacity),
        "outline_style": "solid",
        "outline_width": "0.16",
        "outline_width_unit": "MM",
        "style": "solid",
    }
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for key, value in props.items():
        ET.SubElement(options, "Option", {"name": key, "type": "QString", "value": value})
    for key, value in props.items():
        ET.SubElement(layer, "prop", {"k": key, "v": value})


def _symbol(parent: ET.Element, name: str, colour: str, style: Style) -> None:
    symbol = ET.SubElement(
        parent,
        "symbol",
        {
            "alpha": f"{style.fill_opacity:g}",
            "clip_to_extent": "1",
            "force_rhr": "0",
            "name": name,
            "type": "fill",
        },
    )
    _fill_layer(symbol, colour, style)


def qml_document(
    style: Style,
    fields: Sequence[FieldInfo],
    *,
    lang: str = "zh",
    names: dict[str, str] | None = None,
) -> str:
    """The text of a QGIS style file for one layer.

    Parameters
    ----------
    style : Style
        Classes, colours and labels (the map's legend).
    fields : sequence of FieldInfo
        The layer's fields, for aliases ("label (unit)").
    lang : str
        Language of labels and aliases: "zh" (default) or "en".
    names : dict, optional
        Field name as written in the file, by field name, where the format shortened
        names (Shapefile); default: the names themselves.

    Returns
    -------
    str
        The QML document, UTF-8 text with the QGIS doctype.
    """
    names = names or {}
    attr = names.get(style.field, style.field)
    root = ET.Element(
        "qgis",
        {"version": QGIS_VERSION, "styleCategories": "Symbology|Fields|Legend"},
    )
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        {
            "attr": attr,
            "enableorderby": "0",
            "forceraster": "0",
            "referencescale": "-1",
            "symbollevels": "0",
            "type": "categorizedSymbol",
        },
    )
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, entry in enumerate(style.classes):
        ET.SubElement(
            categories,
            "category",
            {
                "label": entry.label(lang),
                "render": "true",
                "symbol": str(i),
                "value": str(entry.value),
            },
        )
        _symbol(symbols, str(i), entry.colour, style)
    source = ET.SubElement(renderer, "source-symbol")
    _symbol(source, "0", "#bdbdbd", style)
    ET.SubElement(renderer, "rotation")
    ET.SubElement(renderer, "sizescale")

    aliases = ET.SubElement(root, "aliases")
    for index, f in enumerate(fields):
        label = f.en if lang == "en" else f.zh
        alias = f"{label} ({f.unit})" if f.unit else label
        ET.SubElement(
            aliases,
            "alias",
            {"field": names.get(f.name, f.name), "index": str(index), "name": alias},
        )
    ET.SubElement(root, "layerGeometryType").text = str(POLYGON)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f"{DOCTYPE}\n{body}\n"
